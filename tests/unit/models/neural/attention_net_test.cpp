// The attention_lstm net (nets_attention.cpp): Magenta's attention_rnn graph. Batched forward against
// batch-1 steps and against TensorFlow's AttentionCellWrapper step written out literally, causality across
// padding, the attention weights, training, and the parameter count.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "antiphon/core/error.h"
#include "models/neural/nets.h"
#include "models/neural/nets_attention.h"

namespace antiphon::neural {
namespace {

using ::testing::HasSubstr;

NetParams attention_params(int hidden, int layers, int attn_length, double dropout = 0.0) {
  NetParams p;
  p.kind = "attention_lstm";
  p.hidden = hidden;
  p.layers = layers;
  p.attn_length = attn_length;
  p.dropout = dropout;
  return p;
}

NetShape feature_shape(int inputs, int labels) { return NetShape{inputs, 0, labels, labels}; }
NetShape id_shape(int vocab, int labels) { return NetShape{0, vocab, labels, labels}; }

std::shared_ptr<Net> make_seeded(const NetParams& params, const NetShape& shape, uint64_t seed = 11) {
  torch::manual_seed(seed);
  torch::set_num_threads(1);
  return make_net(params, shape);
}

// A padded batch of random feature sequences of these lengths (padding rows hold random values too, to
// show they are never read before a sequence's end).
NetBatch feature_batch(const std::vector<int64_t>& lengths, int inputs, int labels, uint64_t seed) {
  torch::manual_seed(seed);
  const auto b = static_cast<int64_t>(lengths.size());
  const int64_t t_max = *std::max_element(lengths.begin(), lengths.end());
  NetBatch batch;
  batch.features = torch::randn({b, t_max, inputs});
  batch.labels = torch::randint(0, labels, {b, t_max}, torch::kLong);
  batch.mask = torch::zeros({b, t_max}, torch::kBool);
  batch.lengths = torch::tensor(lengths, torch::kLong);
  for (int64_t i = 0; i < b; ++i) {
    batch.mask[i].narrow(0, 0, lengths[static_cast<size_t>(i)]).fill_(true);
    batch.labels[i].narrow(0, lengths[static_cast<size_t>(i)], t_max - lengths[static_cast<size_t>(i)]).fill_(-100);
  }
  return batch;
}

NetBatch id_batch(const std::vector<int64_t>& lengths, int vocab, int labels, uint64_t seed) {
  NetBatch batch = feature_batch(lengths, 1, labels, seed);
  batch.features = torch::Tensor();
  batch.ids = torch::randint(0, vocab, batch.labels.sizes(), torch::kLong);
  return batch;
}

// Step-by-step logits [length, labels] of row `r` of a batch, from a fresh state.
torch::Tensor step_logits(const Net& net, const NetBatch& batch, int64_t r, int labels) {
  const int64_t n = batch.lengths[r].item<int64_t>();
  auto state = net.start({});
  torch::Tensor out = torch::zeros({n, labels});
  std::vector<float> logits(static_cast<size_t>(labels));
  for (int64_t t = 0; t < n; ++t) {
    if (batch.features.defined()) {
      torch::Tensor x = batch.features[r][t].contiguous();
      net.step(*state, 0, std::span<const float>(x.data_ptr<float>(), static_cast<size_t>(x.numel())), logits);
    } else {
      net.step(*state, batch.ids[r][t].item<int64_t>(), {}, logits);
    }
    out[t] = torch::tensor(logits);
  }
  return out;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

void expect_forward_equals_steps(Net& net, const NetBatch& batch, int labels) {
  net.freeze();
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = net.forward(batch);
  }
  ASSERT_EQ(logits.size(2), labels);
  for (int64_t r = 0; r < batch.lengths.size(0); ++r) {
    const int64_t n = batch.lengths[r].item<int64_t>();
    EXPECT_LT(max_diff(logits[r].narrow(0, 0, n), step_logits(net, batch, r, labels)), 1e-5) << "row " << r;
  }
}

int64_t parameter_count(Net& net) {
  int64_t n = 0;
  for (const auto& p : net.parameters()) n += p.numel();
  return n;
}

// The parameter count derived from the graph (attn_size = attn_vec_size = hidden = H, input I, labels N):
// input projection (I + H) I + I; layer 0 LSTM 4H I + 4H H + 8H (PyTorch's two bias vectors); attn_w H H;
// attn_v H; query projection 2H H + H; output projection 2H H + H; each further layer 4H H + 4H H + 8H;
// logits H N + N. attn_length sets only the window, not the weights.
int64_t expected_parameters(int64_t i, int64_t h, int64_t layers, int64_t n) {
  int64_t count = (i + h) * i + i;
  count += 4 * h * i + 4 * h * h + 8 * h;
  count += h * h + h + (2 * h * h + h) + (2 * h * h + h);
  count += (layers - 1) * (8 * h * h + 8 * h);
  count += h * n + n;
  return count;
}

TEST(AttentionLstmNet, forward_on_a_padded_batch_equals_step_by_step) {
  // The window (3) is shorter than the sequences, so the oldest output drops out while stepping.
  auto net = make_seeded(attention_params(6, 2, 3), feature_shape(5, 4));
  expect_forward_equals_steps(*net, feature_batch({7, 3, 5}, 5, 4, 1), 4);
}

TEST(AttentionLstmNet, one_hot_and_embedded_ids_forward_equals_step_by_step) {
  auto one_hot = make_seeded(attention_params(5, 1, 4), id_shape(6, 5));
  expect_forward_equals_steps(*one_hot, id_batch({6, 2, 9}, 6, 5, 2), 5);
  NetParams embedded_params = attention_params(5, 3, 2);
  embedded_params.embed = 3;
  auto embedded = make_seeded(embedded_params, id_shape(6, 5));
  expect_forward_equals_steps(*embedded, id_batch({4, 8}, 6, 5, 3), 5);
}

// TensorFlow's AttentionCellWrapper.call and _attention (contrib/rnn/python/ops/rnn_cell.py) for one
// sequence, written out with the net's named weights and explicit loops over the window; further layers are
// plain LSTMs, then the logits layer. Returns the logits [T, labels] and each step's attention weights.
std::pair<torch::Tensor, std::vector<std::vector<double>>> tensorflow_cell(Net& net, const torch::Tensor& inputs,
                                                                           int hidden, int layers, int attn_length) {
  torch::NoGradGuard no_grad;
  auto p = net.named_parameters();
  auto lstm = [&](int l, const torch::Tensor& x, torch::Tensor& h, torch::Tensor& c) {
    const std::string s = std::to_string(l);
    torch::Tensor g = torch::mv(p["weight_ih_l" + s], x) + p["bias_ih_l" + s] + torch::mv(p["weight_hh_l" + s], h) +
                      p["bias_hh_l" + s];
    auto gates = g.chunk(4);
    c = torch::sigmoid(gates[1]) * c + torch::sigmoid(gates[0]) * torch::tanh(gates[2]);
    h = torch::sigmoid(gates[3]) * torch::tanh(c);
  };
  std::vector<torch::Tensor> h(static_cast<size_t>(layers)), c(static_cast<size_t>(layers));
  for (int l = 0; l < layers; ++l) h[l] = torch::zeros({hidden}), c[l] = torch::zeros({hidden});
  torch::Tensor attns = torch::zeros({hidden});
  std::vector<torch::Tensor> attn_states(static_cast<size_t>(attn_length), torch::zeros({hidden}));
  std::vector<torch::Tensor> logits;
  std::vector<std::vector<double>> weights;
  for (int64_t t = 0; t < inputs.size(0); ++t) {
    torch::Tensor x = torch::mv(p["input_proj.weight"], torch::cat({inputs[t], attns})) + p["input_proj.bias"];
    lstm(0, x, h[0], c[0]);
    const torch::Tensor y = torch::mv(p["attn_query.weight"], torch::cat({c[0], h[0]})) + p["attn_query.bias"];
    std::vector<double> s;
    for (int j = 0; j < attn_length; ++j) {
      const torch::Tensor feature = torch::mv(p["attn_w"].t(), attn_states[static_cast<size_t>(j)]);
      s.push_back((p["attn_v"] * torch::tanh(feature + y)).sum().item<double>());
    }
    const double top = *std::max_element(s.begin(), s.end());
    double total = 0;
    for (double& v : s) total += (v = std::exp(v - top));
    torch::Tensor d = torch::zeros({hidden});
    for (int j = 0; j < attn_length; ++j)
      d += (s[static_cast<size_t>(j)] /= total) * attn_states[static_cast<size_t>(j)];
    weights.push_back(s);
    attns = d;
    const torch::Tensor output = torch::mv(p["attn_output.weight"], torch::cat({h[0], attns})) + p["attn_output.bias"];
    attn_states.erase(attn_states.begin());
    attn_states.push_back(output);
    x = output;
    for (int l = 1; l < layers; ++l) {
      lstm(l, x, h[l], c[l]);
      x = h[l];
    }
    logits.push_back(torch::mv(p["out.weight"], x) + p["out.bias"]);
  }
  return {torch::stack(logits), weights};
}

TEST(AttentionLstmNet, matches_tensorflows_attention_cell_written_out) {
  const int hidden = 4, layers = 2, window = 3;
  auto net = make_seeded(attention_params(hidden, layers, window), feature_shape(3, 5));
  net->freeze();
  const NetBatch batch = feature_batch({8}, 3, 5, 5);
  auto [expected, expected_weights] = tensorflow_cell(*net, batch.features[0], hidden, layers, window);
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = net->forward(batch)[0];
  }
  EXPECT_LT(max_diff(logits, expected), 1e-5);
  // The attention weights step() exposes are TensorFlow's `a`.
  auto state = net->start({});
  std::vector<float> out(5);
  for (int64_t t = 0; t < 8; ++t) {
    torch::Tensor x = batch.features[0][t].contiguous();
    net->step(*state, 0, std::span<const float>(x.data_ptr<float>(), 3), out);
    const auto& weights = static_cast<const AttentionLstmState&>(*state).attention();
    ASSERT_EQ(weights.size(), static_cast<size_t>(window));
    for (int j = 0; j < window; ++j)
      EXPECT_NEAR(weights[j], expected_weights[t][j], 1e-6) << "step " << t << " slot " << j;
  }
}

TEST(AttentionLstmNet, padding_inputs_do_not_change_earlier_logits) {
  auto net = make_seeded(attention_params(6, 2, 4), feature_shape(5, 4));
  net->freeze();
  NetBatch batch = feature_batch({9, 4, 6}, 5, 4, 6);
  torch::NoGradGuard no_grad;
  const torch::Tensor before = net->forward(batch);
  NetBatch changed = batch;
  changed.features = batch.features.clone();
  changed.features[1].narrow(0, 4, 5).fill_(100.0f);
  changed.features[2].narrow(0, 6, 3).fill_(-7.0f);
  const torch::Tensor after = net->forward(changed);
  EXPECT_LT(max_diff(before[0], after[0]), 1e-6);
  EXPECT_LT(max_diff(before[1].narrow(0, 0, 4), after[1].narrow(0, 0, 4)), 1e-6);
  EXPECT_LT(max_diff(before[2].narrow(0, 0, 6), after[2].narrow(0, 0, 6)), 1e-6);
  // The padding itself did change (the inputs are read there).
  EXPECT_GT(max_diff(before[1].narrow(0, 4, 5), after[1].narrow(0, 4, 5)), 1e-3);
}

TEST(AttentionLstmNet, attention_weights_cover_the_window_and_sum_to_one) {
  const int window = 5;
  auto net = make_seeded(attention_params(8, 2, window), feature_shape(4, 3));
  net->freeze();
  auto state = net->start({});
  const auto& s = static_cast<const AttentionLstmState&>(*state);
  EXPECT_TRUE(s.attention().empty());
  torch::manual_seed(3);
  const torch::Tensor inputs = torch::randn({9, 4});
  auto input = [&](int t) { return std::span<const float>(inputs[t].data_ptr<float>(), 4); };
  std::vector<float> logits(3);
  std::unique_ptr<NetState> branch;
  for (int t = 0; t < 9; ++t) {
    net->step(*state, 0, input(t), logits);
    ASSERT_EQ(s.attention().size(), static_cast<size_t>(window));
    double total = 0;
    for (float w : s.attention()) {
      EXPECT_GE(w, 0.0f);
      total += w;
    }
    EXPECT_NEAR(total, 1.0, 1e-6) << "step " << t;
    // At the first step every slot holds a zero vector: equal scores, equal weights.
    if (t == 0) {
      for (float w : s.attention()) EXPECT_NEAR(w, 1.0 / window, 1e-7);
    }
    if (t == 3) branch = state->clone();
  }
  // A clone taken after step 3 goes on independently of the state it came from: fed steps 4..8 it ends
  // where the original ended.
  std::vector<float> branch_logits(3);
  for (int t = 4; t < 9; ++t) net->step(*branch, 0, input(t), branch_logits);
  EXPECT_EQ(branch_logits, logits);
  EXPECT_EQ(static_cast<const AttentionLstmState&>(*branch).attention(), s.attention());
}

TEST(AttentionLstmNet, a_few_adam_steps_lower_the_loss) {
  auto net = make_seeded(attention_params(16, 2, 4, 0.1), feature_shape(6, 5));
  const NetBatch batch = feature_batch({10, 7, 9}, 6, 5, 8);
  auto loss_of = [&] {
    torch::Tensor logits = net->forward(batch);
    return torch::nn::functional::cross_entropy(logits.reshape({-1, 5}), batch.labels.reshape({-1}),
                                                torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
  };
  net->eval();
  const double before = loss_of().item<double>();
  net->train();
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(0.02));
  for (int i = 0; i < 40; ++i) {
    adam.zero_grad();
    torch::Tensor loss = loss_of();
    loss.backward();
    if (i == 0) {
      for (const auto& item : net->named_parameters())
        EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0.0) << item.key() << " gets no gradient";
    }
    adam.step();
  }
  net->eval();
  const double after = loss_of().item<double>();
  EXPECT_LT(after, 0.7 * before) << "before " << before << ", after " << after;
}

TEST(AttentionLstmNet, parameter_count_matches_the_derived_formula) {
  // Magenta's attention_rnn: 74 key-melody inputs, two layers of 128, attention over 40 steps, 40 labels.
  auto basic = make_seeded(attention_params(128, 2, 40), feature_shape(74, 40));
  EXPECT_EQ(parameter_count(*basic), 339030);
  EXPECT_EQ(expected_parameters(74, 128, 2, 40), 339030);
  // TensorFlow's BasicLSTMCell has one bias vector per layer: 2 * 4 * 128 fewer.
  EXPECT_EQ(339030 - 2 * 4 * 128, 338006);
  auto longer_window = make_seeded(attention_params(128, 2, 7), feature_shape(74, 40));
  EXPECT_EQ(parameter_count(*longer_window), 339030);
  auto small = make_seeded(attention_params(5, 3, 2), feature_shape(7, 4));
  EXPECT_EQ(parameter_count(*small), expected_parameters(7, 5, 3, 4));
  // One-hot ids of a vocabulary of 9 read as 9 inputs.
  auto ids = make_seeded(attention_params(5, 1, 2), id_shape(9, 4));
  EXPECT_EQ(parameter_count(*ids), expected_parameters(9, 5, 1, 4));
}

std::string config_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no ConfigError";
}

TEST(AttentionLstmNet, rejects_options_outside_their_ranges) {
  EXPECT_THAT(config_error_of([] { make_net(attention_params(8, 2, 0), feature_shape(4, 3)); }),
              HasSubstr("attn_length=0"));
  EXPECT_THAT(config_error_of([] { make_net(attention_params(8, 0, 4), feature_shape(4, 3)); }), HasSubstr("layers=0"));
  EXPECT_THAT(config_error_of([] { make_net(attention_params(0, 2, 4), feature_shape(4, 3)); }), HasSubstr("hidden=0"));
  EXPECT_THAT(config_error_of([] { make_net(attention_params(8, 2, 4, 1.0), feature_shape(4, 3)); }),
              HasSubstr("dropout=1"));
}

}  // namespace
}  // namespace antiphon::neural
