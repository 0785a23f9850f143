// The window nets: the linear softmax model and the MLP over the previous `window` inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "antiphon/core/error.h"
#include "models/neural/codec.h"
#include "models/neural/nets.h"
#include "models/neural/neural_model.h"

namespace antiphon::neural {
namespace {

NetShape id_shape(int vocab) { return NetShape{0, vocab + 1, vocab, vocab}; }

NetParams window_params(int window, int hidden) {
  NetParams p;
  p.kind = "window";
  p.window = window;
  p.hidden = hidden;
  return p;
}

std::shared_ptr<Net> make_seeded(const NetParams& params, const NetShape& shape, uint64_t seed = 7) {
  torch::manual_seed(seed);
  torch::set_num_threads(1);
  return make_net(params, shape);
}

// Token sequences as a padded batch through the token codec (start id = vocab).
NetBatch token_batch(const std::vector<std::vector<int>>& sequences, int vocab) {
  TokenCodec codec(vocab);
  std::vector<CodedSequence> coded;
  for (const auto& s : sequences) coded.push_back(codec.code(s));
  std::vector<const CodedSequence*> pointers;
  for (const auto& c : coded) pointers.push_back(&c);
  return make_batch(pointers, codec);
}

void set_parameter(Net& net, const std::string& name, const torch::Tensor& value) {
  torch::NoGradGuard no_grad;
  auto params = net.named_parameters();
  ASSERT_TRUE(params.contains(name)) << name;
  params[name].copy_(value);
}

size_t parameter_count(Net& net) {
  size_t n = 0;
  for (const auto& p : net.parameters()) n += static_cast<size_t>(p.numel());
  return n;
}

// Step-by-step logits [T, labels] of one sequence of id inputs.
torch::Tensor step_logits(const Net& net, const std::vector<int64_t>& inputs, int labels) {
  auto state = net.start({});
  torch::Tensor out = torch::zeros({static_cast<int64_t>(inputs.size()), labels});
  std::vector<float> logits(static_cast<size_t>(labels));
  for (size_t t = 0; t < inputs.size(); ++t) {
    net.step(*state, inputs[t], {}, logits);
    for (int l = 0; l < labels; ++l) out[static_cast<int64_t>(t)][l] = logits[static_cast<size_t>(l)];
  }
  return out;
}

std::vector<int64_t> row_inputs(const NetBatch& batch, int64_t row) {
  const int64_t n = batch.lengths[row].item<int64_t>();
  std::vector<int64_t> out;
  for (int64_t t = 0; t < n; ++t) out.push_back(batch.ids[row][t].item<int64_t>());
  return out;
}

TEST(WindowNet, linear_model_gives_hand_computed_logits) {
  // Vocabulary 3 (start id 3), window 2: logits_t[l] = b[l] + W[0][in_t][l] + W[1][in_{t-1}][l].
  auto net = make_seeded(window_params(2, 0), id_shape(3));
  torch::Tensor w = torch::zeros({2, 4, 3});
  for (int k = 0; k < 2; ++k)
    for (int i = 0; i < 4; ++i)
      for (int l = 0; l < 3; ++l) w[k][i][l] = 100 * k + 10 * i + l;
  set_parameter(*net, "window_weight", w);
  set_parameter(*net, "window_bias", torch::tensor({0.5f, -1.0f, 2.0f}));
  net->freeze();
  // Tokens 1 2 0: inputs start, 1, 2.
  const NetBatch batch = token_batch({{1, 2, 0}}, 3);
  const torch::Tensor logits = net->forward(batch);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{1, 3, 3}));
  // t=0: W0[3] + W1[3] = 30 + 130; t=1: W0[1] + W1[3] = 10 + 130; t=2: W0[2] + W1[1] = 20 + 110 (+ 2l each).
  const float bias[3] = {0.5f, -1.0f, 2.0f};
  const float base[3] = {160, 140, 130};
  const torch::Tensor stepped = step_logits(*net, {3, 1, 2}, 3);
  for (int t = 0; t < 3; ++t)
    for (int l = 0; l < 3; ++l) {
      EXPECT_FLOAT_EQ(logits[0][t][l].item<float>(), bias[l] + base[t] + 2 * l) << t << " " << l;
      EXPECT_FLOAT_EQ(stepped[t][l].item<float>(), bias[l] + base[t] + 2 * l) << t << " " << l;
    }
}

TEST(WindowNet, mlp_gives_hand_computed_logits) {
  // Vocabulary 2 (start id 2), window 2, hidden 2, labels 2.
  auto net = make_seeded(window_params(2, 2), id_shape(2));
  torch::Tensor u = torch::zeros({2, 3, 2});
  u[0][0][0] = 0.5f;   // lag 0, input 0
  u[0][1][1] = -0.25f; // lag 0, input 1
  u[0][2][0] = 0.1f;   // lag 0, start
  u[1][2][1] = 0.3f;   // lag 1, start
  u[1][0][0] = -0.7f;  // lag 1, input 0
  set_parameter(*net, "window_weight", u);
  set_parameter(*net, "window_bias", torch::tensor({0.2f, -0.1f}));
  set_parameter(*net, "out.weight", torch::tensor({{1.0f, 2.0f}, {-3.0f, 0.5f}}));
  set_parameter(*net, "out.bias", torch::tensor({0.25f, 0.0f}));
  net->freeze();
  const NetBatch batch = token_batch({{0, 1, 1}}, 2);  // inputs: start, 0, 1
  const torch::Tensor logits = net->forward(batch);
  const float h[3][2] = {{std::tanh(0.2f + 0.1f), std::tanh(-0.1f + 0.3f)},      // start, start
                         {std::tanh(0.2f + 0.5f), std::tanh(-0.1f + 0.3f)},      // 0, start
                         {std::tanh(0.2f - 0.7f), std::tanh(-0.1f - 0.25f)}};    // 1, 0
  const torch::Tensor stepped = step_logits(*net, {2, 0, 1}, 2);
  for (int t = 0; t < 3; ++t) {
    const float expect[2] = {0.25f + h[t][0] + 2 * h[t][1], -3 * h[t][0] + 0.5f * h[t][1]};
    for (int l = 0; l < 2; ++l) {
      EXPECT_NEAR(logits[0][t][l].item<float>(), expect[l], 1e-6) << t << " " << l;
      EXPECT_NEAR(stepped[t][l].item<float>(), expect[l], 1e-6) << t << " " << l;
    }
  }
}

TEST(WindowNet, windows_do_not_reach_across_sequences_in_a_batch) {
  const int vocab = 5, window = 4;
  auto net = make_seeded(window_params(window, 0), id_shape(vocab));
  net->freeze();
  const std::vector<int> first = {0, 1, 2, 3, 4, 0, 1}, second = {4, 4, 3}, third = {2, 0, 1, 1, 3};
  const torch::Tensor logits = net->forward(token_batch({first, second, third}, vocab));
  // Another first sequence leaves the other rows' logits as they were.
  const torch::Tensor changed = net->forward(token_batch({{3, 3, 3, 3, 3, 3, 3}, second, third}, vocab));
  EXPECT_FALSE(torch::allclose(changed[0], logits[0]));
  EXPECT_TRUE(torch::equal(changed.narrow(0, 1, 2), logits.narrow(0, 1, 2)));
  // Each row equals its sequence scored alone.
  const torch::Tensor alone = net->forward(token_batch({second}, vocab));
  EXPECT_TRUE(torch::allclose(alone[0], logits[1].narrow(0, 0, 3), 0, 1e-6));

  // The first step of every sequence sees only start ids; step 1 sees its input at lag 0, start ids behind.
  torch::Tensor w = net->named_parameters()["window_weight"].detach();
  torch::Tensor b = net->named_parameters()["window_bias"].detach();
  const int64_t start = vocab;
  torch::Tensor all_start = b.clone();
  for (int k = 0; k < window; ++k) all_start += w[k][start];
  const std::vector<std::vector<int>> rows = {first, second, third};
  for (int64_t r = 0; r < 3; ++r) {
    EXPECT_TRUE(torch::allclose(logits[r][0], all_start, 0, 1e-6)) << r;
    const torch::Tensor one_in = all_start - w[0][start] + w[0][rows[static_cast<size_t>(r)][0]];
    EXPECT_TRUE(torch::allclose(logits[r][1], one_in, 0, 1e-6)) << r;
  }
}

TEST(WindowNet, forward_matches_step_by_step_inference) {
  const int vocab = 6;
  for (int hidden : {0, 16}) {
    auto net = make_seeded(window_params(4, hidden), id_shape(vocab));
    net->freeze();
    const NetBatch batch = token_batch({{1, 5, 2, 2, 0, 3, 4, 4, 1, 0, 5, 2}, {3, 3, 1}}, vocab);
    const torch::Tensor logits = net->forward(batch);
    for (int64_t r = 0; r < 2; ++r) {
      const torch::Tensor stepped = step_logits(*net, row_inputs(batch, r), vocab);
      const torch::Tensor forward_row = logits[r].narrow(0, 0, stepped.size(0));
      EXPECT_LT((stepped - forward_row).abs().max().item<float>(), 1e-5) << "hidden " << hidden << " row " << r;
    }
  }
}

TEST(WindowNet, feature_inputs_forward_matches_step_and_pads_with_zeros) {
  const int features = 5, labels = 3, window = 3;
  NetShape shape{features, 0, labels, labels};
  for (int hidden : {0, 8}) {
    auto net = make_seeded(window_params(window, hidden), shape);
    net->freeze();
    torch::manual_seed(11);
    NetBatch batch;
    batch.features = torch::randn({2, 7, features});
    batch.features[1].narrow(0, 4, 3).zero_();  // row 1: four real steps, then padding
    batch.lengths = torch::tensor({7, 4}, torch::kLong);
    const torch::Tensor logits = net->forward(batch);
    ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 7, labels}));
    for (int64_t r = 0; r < 2; ++r) {
      auto state = net->start({});
      std::vector<float> x(features), out(labels);
      for (int64_t t = 0; t < batch.lengths[r].item<int64_t>(); ++t) {
        for (int f = 0; f < features; ++f) x[static_cast<size_t>(f)] = batch.features[r][t][f].item<float>();
        net->step(*state, 0, x, out);
        for (int l = 0; l < labels; ++l)
          EXPECT_NEAR(out[static_cast<size_t>(l)], logits[r][t][l].item<float>(), 1e-5) << hidden << " " << r << " " << t;
      }
    }
    // Before the start the window holds zeros: a lone all-zero first input gives the bias alone (linear).
    if (hidden == 0) {
      NetBatch zero;
      zero.features = torch::zeros({1, 1, features});
      EXPECT_TRUE(torch::allclose(net->forward(zero)[0][0], net->named_parameters()["window_bias"], 0, 1e-7));
    }
  }
}

TEST(WindowNet, an_input_changes_only_the_logits_of_its_window) {
  const int vocab = 5, window = 3;
  for (int hidden : {0, 8}) {
    auto net = make_seeded(window_params(window, hidden), id_shape(vocab));
    net->freeze();
    std::vector<int> tokens = {0, 1, 2, 3, 4, 0, 1, 2, 3, 4};
    const torch::Tensor before = net->forward(token_batch({tokens}, vocab))[0];
    tokens[4] = 2;  // the input of step 5
    const torch::Tensor after = net->forward(token_batch({tokens}, vocab))[0];
    for (int64_t t = 0; t < 10; ++t) {
      const bool sees = t >= 5 && t < 5 + window;
      EXPECT_EQ(torch::equal(before[t], after[t]), !sees) << "hidden " << hidden << " step " << t;
    }
  }
}

double train_steps(Net& net, const NetBatch& batch, int steps, double lr, double& first_loss) {
  torch::optim::Adam adam(net.parameters(), torch::optim::AdamOptions(lr));
  net.train();
  double loss_value = 0;
  for (int i = 0; i < steps; ++i) {
    adam.zero_grad();
    const torch::Tensor logits = net.forward(batch);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(2)}), batch.labels.reshape(-1));
    loss.backward();
    adam.step();
    loss_value = loss.item<double>();
    if (i == 0) first_loss = loss_value;
  }
  net.eval();
  return loss_value;
}

TEST(WindowNet, adam_steps_learn_a_repeating_pattern) {
  const int vocab = 4;
  std::vector<int> pattern;
  for (int i = 0; i < 24; ++i) pattern.push_back(i % 4);
  const NetBatch batch = token_batch({pattern, std::vector<int>(pattern.begin(), pattern.begin() + 10)}, vocab);
  for (int hidden : {0, 16}) {
    NetParams params = window_params(2, hidden);
    params.dropout = hidden > 0 ? 0.1 : 0.0;
    auto net = make_seeded(params, id_shape(vocab));
    double first = 0;
    const double last = train_steps(*net, batch, 40, 0.05, first);
    EXPECT_GT(first, 1.0) << hidden;  // about ln 4 untrained
    EXPECT_LT(last, 0.2 * first) << hidden;
  }
}

TEST(WindowNet, parameter_counts_match_the_formulas) {
  // Linear: window * input_vocab * labels + labels.
  EXPECT_EQ(parameter_count(*make_net(window_params(8, 0), id_shape(40))), 8u * 41 * 40 + 40);
  // MLP: window * input_vocab * hidden + hidden + hidden * labels + labels.
  EXPECT_EQ(parameter_count(*make_net(window_params(8, 64), id_shape(40))), 8u * 41 * 64 + 64 + 64 * 40 + 40);
  // Feature inputs: window * input_size rows instead.
  EXPECT_EQ(parameter_count(*make_net(window_params(4, 32), NetShape{121, 0, 40, 40})), 4u * 121 * 32 + 32 + 32 * 40 + 40);
}

TEST(WindowNet, rejects_options_that_do_not_fit) {
  try {
    make_net(window_params(0, 0), id_shape(4));
    FAIL() << "window 0 accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("window=0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_net(window_params(4, -1), id_shape(4)), ConfigError);
  auto net = make_net(window_params(2, 0), id_shape(4));
  auto state = net->start({});
  std::vector<float> logits(4);
  try {
    net->step(*state, 5, {}, logits);
    FAIL() << "input id 5 accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("5"), std::string::npos) << e.what();
  }
}

TEST(WindowNet, cloned_state_continues_independently) {
  auto net = make_seeded(window_params(3, 8), id_shape(5));
  net->freeze();
  auto state = net->start({});
  std::vector<float> a(5), b(5), c(5);
  net->step(*state, 5, {}, a);
  net->step(*state, 1, {}, a);
  auto copy = state->clone();
  net->step(*copy, 4, {}, b);   // the copy takes another branch
  net->step(*state, 2, {}, a);
  net->step(*copy, 2, {}, c);   // the same input after different histories
  EXPECT_NE(a, c);
  auto fresh = net->start({});
  std::vector<float> again(5);
  for (int64_t id : {5, 1, 2}) net->step(*fresh, id, {}, again);
  EXPECT_EQ(a, again);
}

TEST(WindowNet, weights_round_trip_through_bytes) {
  const int vocab = 5;
  for (int hidden : {0, 8}) {
    auto net = make_seeded(window_params(3, hidden), id_shape(vocab), 1);
    auto other = make_seeded(window_params(3, hidden), id_shape(vocab), 2);
    const NetBatch batch = token_batch({{0, 4, 4, 2, 1, 3}}, vocab);
    ASSERT_FALSE(torch::equal(net->forward(batch), other->forward(batch)));
    net_from_bytes(*other, net_to_bytes(*net), "test.model");
    other->freeze();
    EXPECT_TRUE(torch::equal(net->forward(batch), other->forward(batch))) << hidden;
    EXPECT_TRUE(torch::equal(step_logits(*net, row_inputs(batch, 0), vocab), step_logits(*other, row_inputs(batch, 0), vocab)));
  }
}

}  // namespace
}  // namespace antiphon::neural
