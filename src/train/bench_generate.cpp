// bench_generate (antiphon/train/bench.h): one batch-1 generation step of a Melody RNN-sized LSTM through
// LibTorch (torch::nn::LSTM one step at a time, as a straightforward port would run it) against FastLstm
// on the same weights and inputs, in the same run, with the largest logit difference between the two.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/train/bench.h"
#include "models/neural/fast_lstm.h"
#include "models/neural/fast_lstm_torch.h"

namespace antiphon {
namespace {

using Clock = std::chrono::steady_clock;

// The time of a step is the median over the timed steps, each timed alone: on a shared machine a mean is
// mostly a measure of how often the process was preempted.
double median_us(std::span<double> step_us) {
  auto mid = step_us.begin() + static_cast<std::ptrdiff_t>(step_us.size() / 2);
  std::nth_element(step_us.begin(), mid, step_us.end());
  return *mid;
}

void check_range(const char* name, int value, int lo, int hi) {
  if (value < lo || value > hi)
    throw ConfigError(std::string(name) + "=" + std::to_string(value) + " is outside " + std::to_string(lo) + ".." +
                      std::to_string(hi));
}

// Restores LibTorch's intra-op thread count when the benchmark ends.
class TorchThreads {
 public:
  explicit TorchThreads(int threads) : saved_(torch::get_num_threads()) { torch::set_num_threads(threads); }
  ~TorchThreads() { torch::set_num_threads(saved_); }
  TorchThreads(const TorchThreads&) = delete;
  TorchThreads& operator=(const TorchThreads&) = delete;

 private:
  int saved_;
};

}  // namespace

GenerateBenchResult bench_generate(const GenerateBenchOptions& options) {
  check_range("hidden", options.hidden, 1, 4096);
  check_range("layers", options.layers, 1, 8);
  check_range("vocab", options.vocab, 1, 100000);
  check_range("steps", options.steps, 1, 100000000);
  check_range("threads", options.threads, 1, 1024);
  const TorchThreads threads(options.threads);
  torch::NoGradGuard no_grad;
  torch::manual_seed(options.seed);

  torch::nn::LSTM lstm(torch::nn::LSTMOptions(options.vocab, options.hidden).num_layers(options.layers));
  torch::nn::Linear out(options.hidden, options.vocab);
  lstm->eval();
  out->eval();
  const neural::FastLstm fast = neural::fast_lstm_from_torch(lstm, out);

  // The inputs: a fixed seeded id sequence; LibTorch reads each as a one-hot [1, 1, vocab] built beforehand.
  std::mt19937 rng(options.seed);
  std::uniform_int_distribution<int> pick(0, options.vocab - 1);
  const size_t steps = static_cast<size_t>(options.steps);
  std::vector<int> ids(steps);
  for (int& id : ids) id = pick(rng);
  const torch::Tensor eye = torch::eye(options.vocab);
  std::vector<torch::Tensor> one_hot;
  for (int v = 0; v < options.vocab; ++v) one_hot.push_back(eye[v].view({1, 1, options.vocab}).contiguous());

  const size_t vocab = static_cast<size_t>(options.vocab);
  std::vector<torch::Tensor> torch_logits(steps);
  std::vector<float> fast_logits(steps * vocab);

  // Each run starts from zero state, so step t of both paths sees the same history. Returns the median
  // microseconds per step.
  std::vector<double> step_us(steps);
  auto run_torch = [&](size_t n) {
    const torch::Tensor zeros = torch::zeros({options.layers, 1, options.hidden});
    std::tuple<torch::Tensor, torch::Tensor> hc{zeros, zeros};
    auto t0 = Clock::now();
    for (size_t t = 0; t < n; ++t) {
      auto [y, next] = lstm->forward(one_hot[static_cast<size_t>(ids[t])], hc);
      hc = std::move(next);
      torch_logits[t] = out->forward(y);
      const auto t1 = Clock::now();
      step_us[t] = std::chrono::duration<double, std::micro>(t1 - t0).count();
      t0 = t1;
    }
    return median_us({step_us.data(), n});
  };
  auto run_fast = [&](size_t n) {
    neural::FastLstm::State state = fast.start();
    auto t0 = Clock::now();
    for (size_t t = 0; t < n; ++t) {
      fast.step_id(state, ids[t], {fast_logits.data() + t * vocab, vocab});
      const auto t1 = Clock::now();
      step_us[t] = std::chrono::duration<double, std::micro>(t1 - t0).count();
      t0 = t1;
    }
    return median_us({step_us.data(), n});
  };

  const size_t warm_up = std::min<size_t>(steps, 200);
  run_torch(warm_up);
  run_fast(warm_up);
  GenerateBenchResult r;
  r.libtorch_us_per_step = run_torch(steps);
  r.fast_us_per_step = run_fast(steps);
  for (size_t t = 0; t < steps; ++t) {
    const torch::Tensor l = torch_logits[t].contiguous();
    const float* a = l.data_ptr<float>();
    for (size_t j = 0; j < vocab; ++j)
      r.max_abs_diff = std::max(r.max_abs_diff, static_cast<double>(std::fabs(a[j] - fast_logits[t * vocab + j])));
  }
  r.ratio = r.libtorch_us_per_step / r.fast_us_per_step;
  r.fast_isa = fast.isa() == neural::FastLstm::Isa::avx2 ? "avx2" : "generic";
  r.hidden = options.hidden;
  r.layers = options.layers;
  r.vocab = options.vocab;
  r.steps = options.steps;
  r.threads = options.threads;
  return r;
}

}  // namespace antiphon
