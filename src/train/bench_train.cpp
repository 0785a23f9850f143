// `antiphon bench train`: training throughput of the Melody RNN sized LSTM (one-hot inputs, layers x hidden
// LSTM, linear output, cross-entropy, gradient norm clipped to 5, Adam lr 1e-3) on random token batches,
// set against three baselines measured in the same run: a large float matmul (the machine's practical
// limit), the same model on torch::nn::LSTM, and the same model in Python PyTorch
// (bench/reference/lstm_train.py).
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/train/bench.h"
#include "models/neural/lstm_kernels.h"

namespace antiphon {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Matmul FLOPs of one training step per token (one multiply-add = 2 FLOPs):
//   forward  F = sum over layers of 2 * 4H * (I_l + H)  +  2 * H * V
// with I_l = H for the layers above the first; the first layer's one-hot input is a column lookup, not a
// matmul, so it counts only its recurrent product (I_0 = 0). The output layer is H -> V.
//   backward = 2 F (the gradients with respect to each matmul's two operands), so a step is 3 F per token.
// Elementwise work (gates, loss, clipping, Adam) is not counted.
double train_flops_per_token(int hidden, int layers, int vocab) {
  const double h = hidden;
  double forward = 2.0 * h * vocab;
  for (int l = 0; l < layers; ++l) forward += 2.0 * 4 * h * ((l == 0 ? 0 : h) + h);
  return 3 * forward;
}

// The GFLOP/s of a large float matmul (n x n times n x n, repeated), the practical peak of this machine.
double matmul_peak_gflops() {
  constexpr int64_t n = 1024;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const torch::Tensor a = at::rand({n, n}, gen);
  const torch::Tensor b = at::rand({n, n}, gen);
  torch::Tensor c = torch::empty({n, n});
  for (int k = 0; k < 2; ++k) at::mm_out(c, a, b);  // warm-up (threads, caches)
  int reps = 0;
  const auto start = Clock::now();
  do {
    at::mm_out(c, a, b);
    ++reps;
  } while (reps < 5 || seconds_since(start) < 0.3);
  return 2.0 * n * n * n * reps / seconds_since(start) / 1e9;
}

// The model's parameters in PyTorch's layout; both implementations train the very same initial values.
struct Weights {
  std::vector<torch::Tensor> w_ih, w_hh, b_ih, b_hh;  // per layer
  torch::Tensor w_out, b_out;
};

Weights initial_weights(const TrainBenchOptions& o) {
  // PyTorch's initialisation: U(-1/sqrt(H), 1/sqrt(H)) for the LSTM; the output layer likewise (fan-in H).
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  const double k = 1.0 / std::sqrt(static_cast<double>(o.hidden));
  const auto uniform = [&](std::vector<int64_t> shape) { return torch::empty(shape).uniform_(-k, k, gen); };
  Weights w;
  const int64_t g = 4 * o.hidden;
  for (int l = 0; l < o.layers; ++l) {
    w.w_ih.push_back(uniform({g, l == 0 ? o.vocab : o.hidden}));
    w.w_hh.push_back(uniform({g, o.hidden}));
    w.b_ih.push_back(uniform({g}));
    w.b_hh.push_back(uniform({g}));
  }
  w.w_out = uniform({o.vocab, o.hidden});
  w.b_out = uniform({o.vocab});
  return w;
}

// A training model: parameters and the forward pass ids [T, B] -> logits [T * B, V].
class BenchModel {
 public:
  virtual ~BenchModel() = default;
  virtual std::vector<torch::Tensor> parameters() = 0;
  virtual torch::Tensor forward(const torch::Tensor& ids) = 0;
};

// Ours: every layer is one lstm_layer, layer 0 fed the token ids (its input projection a lookup of W_ih's
// columns), the layers above their input projections for all steps in one matmul.
class KernelModel : public BenchModel {
 public:
  explicit KernelModel(const Weights& w) {
    const auto param = [](const torch::Tensor& t) { return t.clone().requires_grad_(); };
    for (size_t l = 0; l < w.w_ih.size(); ++l) {
      layers_.push_back({param(w.w_ih[l]), param(w.w_hh[l]), param(w.b_ih[l]), param(w.b_hh[l])});
    }
    w_out_ = param(w.w_out);
    b_out_ = param(w.b_out);
  }

  std::vector<torch::Tensor> parameters() override {
    std::vector<torch::Tensor> p;
    for (const auto& l : layers_) p.insert(p.end(), {l.w_ih, l.w_hh, l.b_ih, l.b_hh});
    p.insert(p.end(), {w_out_, b_out_});
    return p;
  }

  torch::Tensor forward(const torch::Tensor& ids) override {
    torch::Tensor y = ids;
    for (const auto& layer : layers_) y = std::get<0>(neural::lstm_layer(y, layer));
    return torch::addmm(b_out_, y.view({-1, y.size(2)}), w_out_.t());
  }

 private:
  std::vector<neural::LstmLayerWeights> layers_;
  torch::Tensor w_out_, b_out_;
};

// The baseline: torch::nn::LSTM on one-hot inputs.
class LibtorchModel : public BenchModel {
 public:
  LibtorchModel(const Weights& w, const TrainBenchOptions& o)
      : vocab_(o.vocab),
        lstm_(torch::nn::LSTMOptions(o.vocab, o.hidden).num_layers(o.layers)),
        out_(o.hidden, o.vocab) {
    torch::NoGradGuard no_grad;
    auto params = lstm_->named_parameters();
    for (int l = 0; l < o.layers; ++l) {
      const std::string s = std::to_string(l);
      params["weight_ih_l" + s].copy_(w.w_ih[l]);
      params["weight_hh_l" + s].copy_(w.w_hh[l]);
      params["bias_ih_l" + s].copy_(w.b_ih[l]);
      params["bias_hh_l" + s].copy_(w.b_hh[l]);
    }
    out_->weight.copy_(w.w_out);
    out_->bias.copy_(w.b_out);
  }

  std::vector<torch::Tensor> parameters() override {
    std::vector<torch::Tensor> p = lstm_->parameters();
    p.insert(p.end(), {out_->weight, out_->bias});
    return p;
  }

  torch::Tensor forward(const torch::Tensor& ids) override {
    const torch::Tensor y = std::get<0>(lstm_->forward(torch::one_hot(ids, vocab_).to(torch::kFloat)));
    return out_->forward(y.reshape({-1, y.size(2)}));
  }

 private:
  int64_t vocab_;
  torch::nn::LSTM lstm_;
  torch::nn::Linear out_;
};

// Random token batches [T + 1, B]: inputs are rows 0..T-1, targets rows 1..T.
std::vector<torch::Tensor> token_batches(const TrainBenchOptions& o) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed + 1);
  std::vector<torch::Tensor> batches;
  for (int k = 0; k < 4; ++k) batches.push_back(at::randint(o.vocab, {o.seq_len + 1, o.batch}, gen, torch::kLong));
  return batches;
}

constexpr int kWarmupSteps = 3;  // untimed steps before the timed ones (the Python reference's default too)

struct TrainingRun {
  double tokens_per_s = 0;
  double first_loss = 0;  // the loss of the first step (both models start from the same weights and batch)
};

// Tokens per second of optimiser steps (forward, backward, clip, Adam) after a warm-up.
TrainingRun time_training(BenchModel& model, const std::vector<torch::Tensor>& batches, int steps) {
  torch::optim::Adam adam(model.parameters(), torch::optim::AdamOptions(1e-3));
  const auto train_step = [&](const torch::Tensor& tokens) {
    const int64_t seq_len = tokens.size(0) - 1;
    adam.zero_grad();
    const torch::Tensor logits = model.forward(tokens.narrow(0, 0, seq_len));
    const torch::Tensor loss = torch::cross_entropy_loss(logits, tokens.narrow(0, 1, seq_len).reshape({-1}));
    loss.backward();
    torch::nn::utils::clip_grad_norm_(model.parameters(), 5.0);
    adam.step();
    return loss.item<double>();
  };
  TrainingRun run;
  for (int k = 0; k < kWarmupSteps; ++k) {
    const double loss = train_step(batches[static_cast<size_t>(k) % batches.size()]);
    if (k == 0) run.first_loss = loss;
  }
  const auto start = Clock::now();
  for (int k = 0; k < steps; ++k) train_step(batches[static_cast<size_t>(k) % batches.size()]);
  const double seconds = seconds_since(start);
  run.tokens_per_s = static_cast<double>(steps) * batches[0].size(1) * (batches[0].size(0) - 1) / seconds;
  return run;
}

// Where bench/reference/lstm_train.py is: the source tree named at build time, else next to the build tree
// of the running executable (<source>/<build>/bin/antiphon).
std::string find_reference_script() {
  std::vector<std::filesystem::path> candidates;
#ifdef ANTIPHON_SOURCE_DIR
  candidates.emplace_back(std::filesystem::path(ANTIPHON_SOURCE_DIR) / "bench/reference/lstm_train.py");
#endif
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const char* up : {"../..", ".."}) {
      candidates.push_back(exe.parent_path() / up / "bench/reference/lstm_train.py");
    }
  }
  for (const auto& c : candidates) {
    if (std::filesystem::is_regular_file(c, ec)) return std::filesystem::weakly_canonical(c, ec).string();
  }
  return {};
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

// Runs the Python reference; returns its tokens/s, or 0 with *note saying why it did not run.
double run_python_reference(const TrainBenchOptions& o, int threads, std::string* note) {
  constexpr const char* python = "/usr/bin/python3";
  if (access(python, X_OK) != 0) {
    *note = std::string(python) + " is not installed";
    return 0;
  }
  const std::string script = o.reference_script.empty() ? find_reference_script() : o.reference_script;
  if (script.empty()) {
    *note = "bench/reference/lstm_train.py was not found next to the source or build tree";
    return 0;
  }
  if (!std::filesystem::is_regular_file(script)) {
    *note = "reference script " + script + " does not exist";
    return 0;
  }
  const std::string command = std::string(python) + " " + shell_quote(script) + " --steps " + std::to_string(o.steps) +
                              " --batch " + std::to_string(o.batch) + " --seq-len " + std::to_string(o.seq_len) +
                              " --threads " + std::to_string(threads) + " --hidden " + std::to_string(o.hidden) +
                              " --layers " + std::to_string(o.layers) + " --vocab " + std::to_string(o.vocab) +
                              " --seed " + std::to_string(o.seed) + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) {
    *note = "could not start " + command;
    return 0;
  }
  std::string output;
  std::array<char, 4096> chunk{};
  while (size_t n = fread(chunk.data(), 1, chunk.size(), pipe.get())) output.append(chunk.data(), n);
  const int status = pclose(pipe.release());
  // The result is the last line; on failure that line says why (e.g. "... does not import: No module named 'torch'").
  while (!output.empty() && output.back() == '\n') output.pop_back();
  const std::string last =
      output.substr(output.find_last_of('\n') == std::string::npos ? 0 : output.find_last_of('\n') + 1);
  if (status != 0) {
    *note = script + " failed (status " + std::to_string(status) + "): " + last;
    return 0;
  }
  try {
    const double tokens_per_s = nlohmann::json::parse(last).at("tokens_per_s").get<double>();
    if (tokens_per_s > 0) return tokens_per_s;
  } catch (const nlohmann::json::exception&) {
  }
  *note = script + " printed no tokens_per_s: " + last;
  return 0;
}

void check_range(const char* name, int value, int min, int max) {
  if (value < min || value > max) {
    throw ConfigError(std::string(name) + "=" + std::to_string(value) + " is outside " + std::to_string(min) + ".." +
                      std::to_string(max));
  }
}

// Sets torch's thread count for the life of the object (the benchmark must not leave the caller's changed).
class ThreadCount {
 public:
  explicit ThreadCount(int threads) : previous_(torch::get_num_threads()) { torch::set_num_threads(threads); }
  ~ThreadCount() { torch::set_num_threads(previous_); }
  ThreadCount(const ThreadCount&) = delete;
  ThreadCount& operator=(const ThreadCount&) = delete;

 private:
  int previous_;
};

}  // namespace

TrainBenchResult bench_train(const TrainBenchOptions& options) {
  check_range("hidden", options.hidden, 1, 4096);
  check_range("layers", options.layers, 1, 8);
  check_range("vocab", options.vocab, 2, 100000);
  check_range("batch", options.batch, 1, 65536);
  check_range("seq_len", options.seq_len, 1, 65536);
  check_range("steps", options.steps, 1, 1000000);
  check_range("threads", options.threads, 0, 1024);
  const int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  ThreadCount thread_count(threads);

  TrainBenchResult r;
  r.hidden = options.hidden;
  r.layers = options.layers;
  r.vocab = options.vocab;
  r.batch = options.batch;
  r.seq_len = options.seq_len;
  r.steps = options.steps;
  r.threads = threads;
  r.flops_per_token = train_flops_per_token(options.hidden, options.layers, options.vocab);

  const Weights weights = initial_weights(options);
  const std::vector<torch::Tensor> batches = token_batches(options);
  r.peak_gflops = matmul_peak_gflops();
  KernelModel ours(weights);
  const TrainingRun our_run = time_training(ours, batches, options.steps);
  LibtorchModel libtorch(weights, options);
  const TrainingRun libtorch_run = time_training(libtorch, batches, options.steps);
  // The same weights and batch: the first losses agree to float rounding, or the kernel timed is wrong.
  assert(std::abs(our_run.first_loss - libtorch_run.first_loss) <= 1e-4 * std::abs(libtorch_run.first_loss));
  r.tokens_per_s = our_run.tokens_per_s;
  r.gflops = r.tokens_per_s * r.flops_per_token / 1e9;
  r.fraction_of_peak = r.gflops / r.peak_gflops;
  r.libtorch_lstm_tokens_per_s = libtorch_run.tokens_per_s;
  if (options.python) {
    r.pytorch_tokens_per_s = run_python_reference(options, threads, &r.pytorch_note);
  } else {
    r.pytorch_note = "not run (python = false)";
  }
  return r;
}

}  // namespace antiphon
