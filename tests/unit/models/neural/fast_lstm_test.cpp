// FastLstm (torch-free batch-1 inference) against LibTorch's torch::nn::LSTM + Linear on the same weights,
// with both kernel sets this CPU runs, and against a one-unit LSTM computed by hand.
#include "models/neural/fast_lstm.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <random>
#include <vector>

#include "antiphon/core/error.h"
#include "models/neural/fast_lstm_torch.h"

namespace antiphon::neural {
namespace {

constexpr double kTolerance = 1e-5;

// The kernel sets to check: the portable one always, AVX2 where the CPU has it.
std::vector<FastLstm::Isa> isas() {
  std::vector<FastLstm::Isa> v{FastLstm::Isa::generic};
  if (FastLstm::cpu_has_avx2()) v.push_back(FastLstm::Isa::avx2);
  return v;
}

struct TorchNet {
  torch::nn::LSTM lstm{nullptr};
  torch::nn::Linear out{nullptr};
};

// bias_range > 0 redraws the LSTM biases from U(-bias_range, bias_range).
TorchNet make_torch_net(int input, int hidden, int layers, int labels, uint64_t seed, double bias_range = 0) {
  torch::manual_seed(seed);
  torch::set_num_threads(1);
  TorchNet n;
  n.lstm = torch::nn::LSTM(torch::nn::LSTMOptions(input, hidden).num_layers(layers));
  n.out = torch::nn::Linear(hidden, labels);
  if (bias_range > 0) {
    torch::NoGradGuard no_grad;
    for (auto& p : n.lstm->named_parameters())
      if (p.key().starts_with("bias")) p.value().uniform_(-bias_range, bias_range);
  }
  n.lstm->eval();
  return n;
}

// LibTorch's logits [T, labels] for inputs [T, input] run as one sequence from zero state.
torch::Tensor torch_logits(TorchNet n, const torch::Tensor& inputs) {  // by value: the holders share the modules
  torch::NoGradGuard no_grad;
  auto y = std::get<0>(n.lstm->forward(inputs.unsqueeze(1)));  // [T, 1, H]
  return n.out->forward(y.squeeze(1)).contiguous();
}

std::vector<int> random_ids(int count, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pick(0, vocab - 1);
  std::vector<int> ids(static_cast<size_t>(count));
  for (int& id : ids) id = pick(rng);
  return ids;
}

torch::Tensor one_hot(const std::vector<int>& ids, int vocab) {
  torch::Tensor x = torch::zeros({static_cast<int64_t>(ids.size()), vocab});
  for (size_t t = 0; t < ids.size(); ++t) x[static_cast<int64_t>(t)][ids[t]] = 1.0f;
  return x;
}

// Largest |FastLstm logit - expected| over all steps; `step` feeds step t and writes its logits.
template <typename Step>
double max_diff_over_steps(const FastLstm& fast, const torch::Tensor& expected, Step step) {
  FastLstm::State s = fast.start();
  std::vector<float> logits(static_cast<size_t>(fast.num_labels()));
  double worst = 0;
  for (int64_t t = 0; t < expected.size(0); ++t) {
    step(s, t, logits);
    for (int64_t j = 0; j < expected.size(1); ++j)
      worst = std::max(worst, std::fabs(static_cast<double>(logits[static_cast<size_t>(j)]) - expected[t][j].item<double>()));
  }
  return worst;
}

void expect_matches_torch_on_ids(int input, int hidden, int layers, int labels, double bias_range = 0) {
  const TorchNet net = make_torch_net(input, hidden, layers, labels, 7, bias_range);
  const std::vector<int> ids = random_ids(50, input, 3);
  const torch::Tensor expected = torch_logits(net, one_hot(ids, input));
  for (FastLstm::Isa isa : isas()) {
    const FastLstm fast = fast_lstm_from_torch(net.lstm, net.out, isa);
    ASSERT_EQ(fast.isa(), isa);
    ASSERT_EQ(fast.num_labels(), labels);
    ASSERT_EQ(fast.input_size(), input);
    ASSERT_EQ(fast.num_layers(), layers);
    const double diff = max_diff_over_steps(fast, expected, [&](FastLstm::State& s, int64_t t, std::vector<float>& out) {
      fast.step_id(s, ids[static_cast<size_t>(t)], out);
    });
    EXPECT_LT(diff, kTolerance) << "isa " << static_cast<int>(isa) << ", " << layers << "x" << hidden;
  }
}

void expect_matches_torch_on_dense(int input, int hidden, int layers, int labels) {
  const TorchNet net = make_torch_net(input, hidden, layers, labels, 11);
  torch::manual_seed(5);
  const torch::Tensor inputs = torch::randn({50, input});
  const torch::Tensor expected = torch_logits(net, inputs);
  for (FastLstm::Isa isa : isas()) {
    const FastLstm fast = fast_lstm_from_torch(net.lstm, net.out, isa);
    const double diff = max_diff_over_steps(fast, expected, [&](FastLstm::State& s, int64_t t, std::vector<float>& out) {
      const torch::Tensor row = inputs[t].contiguous();
      fast.step_dense(s, {row.data_ptr<float>(), static_cast<size_t>(input)}, out);
    });
    EXPECT_LT(diff, kTolerance) << "isa " << static_cast<int>(isa) << ", " << layers << "x" << hidden;
  }
}

TEST(FastLstm, matches_libtorch_on_one_hot_ids_with_2x16_units) { expect_matches_torch_on_ids(38, 16, 2, 38); }

TEST(FastLstm, matches_libtorch_on_one_hot_ids_with_2x128_units) { expect_matches_torch_on_ids(38, 128, 2, 38); }

TEST(FastLstm, matches_libtorch_on_dense_inputs_with_2x16_units) { expect_matches_torch_on_dense(38, 16, 2, 38); }

TEST(FastLstm, matches_libtorch_on_dense_inputs_with_2x128_units) { expect_matches_torch_on_dense(38, 128, 2, 38); }

TEST(FastLstm, matches_libtorch_with_one_layer) {
  expect_matches_torch_on_ids(38, 128, 1, 38);
  expect_matches_torch_on_dense(38, 16, 1, 38);
}

// 13 units (4H = 52 gate rows pad one panel; the vector cell's scalar tail), 3 layers, 70 labels (two
// output panels).
TEST(FastLstm, matches_libtorch_when_sizes_are_not_multiples_of_the_vector_width) {
  expect_matches_torch_on_ids(5, 13, 3, 70);
  expect_matches_torch_on_dense(5, 13, 3, 70);
}

// Biases up to +-100 drive most gates deep into saturation, some past the range where exp(-x) is a normal
// float; the rest stay in the sensitive range.
TEST(FastLstm, matches_libtorch_when_gates_saturate) { expect_matches_torch_on_ids(38, 128, 2, 38, 100.0); }

double sigmoid(double x) { return 1 / (1 + std::exp(-x)); }

// One unit, two one-hot inputs, one label: the gates computed by hand for two steps.
TEST(FastLstm, computes_a_one_unit_cell_as_written_by_hand) {
  // Gate rows [i; f; g; o].
  const std::vector<float> w_ih = {0.5f, -1.0f, 0.25f, 2.0f, -0.75f, 1.5f, 1.0f, -0.5f};  // [4, 2]
  const std::vector<float> w_hh = {0.3f, -0.2f, 0.8f, 0.6f};                             // [4, 1]
  const std::vector<float> bias = {0.1f, 0.4f, -0.3f, 0.2f};
  const float out_w = 1.5f, out_b = -0.25f;
  std::vector<FastLstmLayer> layers(1);
  layers[0] = {2, 1, w_ih, w_hh, bias};

  double h = 0, c = 0;
  std::vector<double> expected;
  for (int id : {1, 0}) {
    const double i = sigmoid(w_ih[0 * 2 + id] + w_hh[0] * h + bias[0]);
    const double f = sigmoid(w_ih[1 * 2 + id] + w_hh[1] * h + bias[1]);
    const double g = std::tanh(w_ih[2 * 2 + id] + w_hh[2] * h + bias[2]);
    const double o = sigmoid(w_ih[3 * 2 + id] + w_hh[3] * h + bias[3]);
    c = f * c + i * g;
    h = o * std::tanh(c);
    expected.push_back(out_w * h + out_b);
  }
  // The first step from zero state: i = s(0.1 - 1.0), f = s(0.4 + 2.0), g = tanh(-0.3 + 1.5),
  // o = s(0.2 - 0.5); c = i g; h = o tanh(c).
  const double c1 = sigmoid(-0.9) * std::tanh(1.2);
  EXPECT_NEAR(expected[0], 1.5 * sigmoid(-0.3) * std::tanh(c1) - 0.25, 1e-7);  // the weights are floats

  for (FastLstm::Isa isa : isas()) {
    const FastLstm fast(layers, {out_w}, {out_b}, isa);
    FastLstm::State by_id = fast.start(), dense = fast.start();
    std::vector<float> a(1), b(1);
    const std::vector<std::vector<float>> one_hot = {{0, 1}, {1, 0}};
    for (size_t t = 0; t < 2; ++t) {
      fast.step_id(by_id, t == 0 ? 1 : 0, a);
      fast.step_dense(dense, one_hot[t], b);
      EXPECT_NEAR(a[0], expected[t], 1e-6) << "step " << t << " isa " << static_cast<int>(isa);
      EXPECT_NEAR(b[0], expected[t], 1e-6) << "step " << t << " isa " << static_cast<int>(isa);
    }
    EXPECT_NEAR(fast.top_hidden(by_id)[0], h, 1e-6);
  }
}

TEST(FastLstm, start_gives_zero_state_whose_first_step_matches_libtorch_from_zeros) {
  const TorchNet net = make_torch_net(38, 16, 2, 38, 13);
  const FastLstm fast = fast_lstm_from_torch(net.lstm, net.out);
  FastLstm::State s = fast.start();
  ASSERT_EQ(s.h.size(), 32u);
  ASSERT_EQ(s.c.size(), 32u);
  for (float v : s.h) EXPECT_EQ(v, 0.0f);
  for (float v : s.c) EXPECT_EQ(v, 0.0f);
  ASSERT_EQ(fast.top_hidden(s).size(), 16u);
  for (float v : fast.top_hidden(s)) EXPECT_EQ(v, 0.0f);

  // A second start() after stepping another state is zero as well: nothing is shared.
  std::vector<float> logits(38);
  fast.step_id(s, 4, logits);
  const FastLstm::State fresh = fast.start();
  for (float v : fresh.h) EXPECT_EQ(v, 0.0f);

  const torch::Tensor expected = torch_logits(net, one_hot({4}, 38));
  for (int j = 0; j < 38; ++j) EXPECT_NEAR(logits[static_cast<size_t>(j)], expected[0][j].item<double>(), kTolerance);
}

TEST(FastLstm, copied_states_continue_independently) {
  const TorchNet net = make_torch_net(38, 16, 2, 38, 17);
  const FastLstm fast = fast_lstm_from_torch(net.lstm, net.out);
  const std::vector<int> prefix = {3, 9, 27, 1, 0}, branch_a = {5, 6, 7}, branch_b = {30, 31, 32};
  std::vector<float> logits(38), la(38), lb(38);

  FastLstm::State s = fast.start();
  for (int id : prefix) fast.step_id(s, id, logits);
  FastLstm::State copy = s;  // the clone
  for (size_t t = 0; t < branch_a.size(); ++t) {
    fast.step_id(s, branch_a[t], la);
    fast.step_id(copy, branch_b[t], lb);
  }
  EXPECT_NE(la, lb);

  // Each branch equals a fresh run of its whole sequence: stepping one never touched the other.
  auto run = [&](const std::vector<int>& tail) {
    FastLstm::State r = fast.start();
    std::vector<float> out(38);
    for (int id : prefix) fast.step_id(r, id, out);
    for (int id : tail) fast.step_id(r, id, out);
    return out;
  };
  EXPECT_EQ(la, run(branch_a));
  EXPECT_EQ(lb, run(branch_b));
}

TEST(FastLstm, from_torch_accepts_plain_parameter_tensors) {
  const TorchNet net = make_torch_net(38, 16, 2, 38, 19);
  std::vector<TorchLstmLayer> layers;
  for (int l = 0; l < 2; ++l) {
    const std::string s = std::to_string(l);
    const auto p = net.lstm->named_parameters();
    layers.push_back({p["weight_ih_l" + s], p["weight_hh_l" + s], p["bias_ih_l" + s], p["bias_hh_l" + s]});
  }
  const FastLstm fast = fast_lstm_from_torch(layers, net.out->weight, net.out->bias);
  const std::vector<int> ids = random_ids(20, 38, 4);
  const torch::Tensor expected = torch_logits(net, one_hot(ids, 38));
  const double diff = max_diff_over_steps(fast, expected, [&](FastLstm::State& s, int64_t t, std::vector<float>& out) {
    fast.step_id(s, ids[static_cast<size_t>(t)], out);
  });
  EXPECT_LT(diff, kTolerance);
}

TEST(FastLstm, from_torch_rejects_a_recurrent_matrix_of_the_wrong_shape) {
  const TorchNet net = make_torch_net(38, 16, 1, 38, 23);
  const auto p = net.lstm->named_parameters();
  std::vector<TorchLstmLayer> layers = {{p["weight_ih_l0"], torch::zeros({60, 16}), {}, {}}};
  try {
    fast_lstm_from_torch(layers, net.out->weight, net.out->bias);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("[60, 16]"), std::string::npos) << e.what();
  }
  // A Linear whose input is not the top layer's hidden size.
  layers = {{p["weight_ih_l0"], p["weight_hh_l0"], {}, {}}};
  try {
    fast_lstm_from_torch(layers, torch::zeros({38, 12}), {});
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("[38, 12]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace antiphon::neural
