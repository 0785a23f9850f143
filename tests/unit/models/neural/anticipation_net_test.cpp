// The Anticipation-RNN net: batched forward against incremental start()/step(), which steps a constraint
// can reach, a tiny training run that shows the constraint path works, and the random training masks.
#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "antiphon/core/error.h"
#include "models/neural/nets.h"
#include "models/neural/nets_anticipation.h"

namespace antiphon::neural {
namespace {

using ::testing::HasSubstr;

constexpr int kVocab = 6;  // tokens 0..5; constraint 6 = free; input id 6 = start

NetShape toy_shape(int vocab = kVocab) {
  NetShape s;
  s.input_vocab = vocab + 1;
  s.num_labels = vocab;
  s.token_vocab = vocab;
  return s;
}

NetParams toy_params() {
  NetParams p;
  p.kind = "anticipation";
  p.hidden = 16;
  p.constraint_hidden = 12;
  p.layers = 2;
  p.embed = 8;
  p.dropout = 0.3;  // no effect once frozen (eval mode)
  return p;
}

std::shared_ptr<Net> frozen_net(const NetParams& params = toy_params(), const NetShape& shape = toy_shape()) {
  torch::manual_seed(7);
  torch::set_num_threads(1);
  auto net = make_net(params, shape);
  net->freeze();
  return net;
}

// Inputs of a token sequence: the start id, then the previous token.
std::vector<int64_t> inputs_of(const std::vector<int64_t>& tokens, int64_t start_id = kVocab) {
  std::vector<int64_t> ids{start_id};
  ids.insert(ids.end(), tokens.begin(), tokens.end() - (tokens.empty() ? 0 : 1));
  return ids;
}

// A padded batch of id sequences with their constraints (padding: id 0, constraint `pad_constraint`).
NetBatch batch_of(const std::vector<std::vector<int64_t>>& ids, const std::vector<std::vector<int64_t>>& constraints,
                  int64_t pad_constraint = kVocab) {
  const auto b = static_cast<int64_t>(ids.size());
  int64_t t = 0;
  for (const auto& s : ids) t = std::max(t, static_cast<int64_t>(s.size()));
  NetBatch batch;
  batch.ids = torch::zeros({b, t}, torch::kLong);
  batch.constraints = torch::full({b, t}, pad_constraint, torch::kLong);
  batch.labels = torch::full({b, t}, -100, torch::kLong);
  batch.mask = torch::zeros({b, t}, torch::kBool);
  batch.lengths = torch::zeros({b}, torch::kLong);
  for (int64_t i = 0; i < b; ++i) {
    const auto& s = ids[static_cast<size_t>(i)];
    batch.lengths[i] = static_cast<int64_t>(s.size());
    for (size_t j = 0; j < s.size(); ++j) {
      const auto jj = static_cast<int64_t>(j);
      batch.ids[i][jj] = s[j];
      batch.constraints[i][jj] = constraints[static_cast<size_t>(i)][j];
      batch.mask[i][jj] = true;
    }
  }
  return batch;
}

// Logits [T, labels] of one sequence through start() and step().
torch::Tensor stepped_logits(const Net& net, const std::vector<int64_t>& ids, const std::vector<int64_t>& constraints,
                             int num_labels = kVocab) {
  auto state = net.start(constraints);
  torch::Tensor out = torch::zeros({static_cast<int64_t>(ids.size()), num_labels});
  std::vector<float> logits(static_cast<size_t>(num_labels));
  for (size_t t = 0; t < ids.size(); ++t) {
    net.step(*state, ids[t], {}, logits);
    for (int l = 0; l < num_labels; ++l) out[static_cast<int64_t>(t)][l] = logits[static_cast<size_t>(l)];
  }
  return out;
}

torch::Tensor forward_logits(Net& net, const NetBatch& batch) {
  torch::NoGradGuard no_grad;
  return net.forward(batch);
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

template <typename F>
std::string config_error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(AnticipationNet, forward_matches_start_and_step_for_each_sequence_of_a_padded_batch) {
  auto net = frozen_net();
  const std::vector<std::vector<int64_t>> tokens = {{1, 4, 2, 2, 5, 0, 3}, {3, 1, 0}, {5, 5, 2, 1, 4}};
  const std::vector<std::vector<int64_t>> constraints = {{6, 4, 6, 6, 5, 6, 3}, {3, 6, 6}, {6, 6, 2, 6, 6}};
  std::vector<std::vector<int64_t>> ids;
  for (const auto& s : tokens) ids.push_back(inputs_of(s));
  const torch::Tensor batched = forward_logits(*net, batch_of(ids, constraints));
  ASSERT_EQ(batched.sizes(), (std::vector<int64_t>{3, 7, kVocab}));
  for (size_t b = 0; b < ids.size(); ++b) {
    const torch::Tensor stepped = stepped_logits(*net, ids[b], constraints[b]);
    const torch::Tensor expected = batched[static_cast<int64_t>(b)].slice(0, 0, static_cast<int64_t>(ids[b].size()));
    EXPECT_LT(max_diff(stepped, expected), 1e-5) << "sequence " << b;
  }
  // Padding constraints never reach a real step: each row is read backwards from its own last real step.
  const torch::Tensor repadded = forward_logits(*net, batch_of(ids, constraints, /*pad_constraint=*/2));
  for (size_t b = 0; b < ids.size(); ++b) {
    const auto n = static_cast<int64_t>(ids[b].size());
    EXPECT_EQ(
        max_diff(repadded[static_cast<int64_t>(b)].slice(0, 0, n), batched[static_cast<int64_t>(b)].slice(0, 0, n)),
        0.0);
  }
}

TEST(AnticipationNet, forward_matches_start_and_step_with_feature_inputs) {
  NetShape shape = toy_shape();
  shape.input_size = 5;
  shape.input_vocab = 0;
  auto net = frozen_net(toy_params(), shape);
  const std::vector<int64_t> constraints = {6, 2, 6, 6};
  NetBatch batch = batch_of({{0, 0, 0, 0}}, {constraints});
  batch.ids = torch::Tensor();
  batch.features = torch::randn({1, 4, 5});
  const torch::Tensor batched = forward_logits(*net, batch)[0];
  auto state = net->start(constraints);
  std::vector<float> logits(kVocab);
  for (int64_t t = 0; t < 4; ++t) {
    const torch::Tensor f = batch.features[0][t].contiguous();
    net->step(*state, 0, std::span<const float>(f.data_ptr<float>(), 5), logits);
    EXPECT_LT(max_diff(torch::tensor(logits), batched[t]), 1e-5) << "step " << t;
  }
}

TEST(AnticipationNet, constraint_at_a_step_reaches_that_step_and_the_steps_before) {
  auto net = frozen_net();
  const std::vector<int64_t> ids = inputs_of({2, 0, 5, 1, 3, 4, 4, 1});
  const std::vector<int64_t> free(8, kVocab);
  std::vector<int64_t> constrained = free;
  constrained[5] = 2;
  const torch::Tensor a = forward_logits(*net, batch_of({ids}, {free}))[0];
  const torch::Tensor b = forward_logits(*net, batch_of({ids}, {constrained}))[0];
  for (int64_t t = 0; t <= 5; ++t) EXPECT_GT(max_diff(a[t], b[t]), 1e-6) << "step " << t;
}

TEST(AnticipationNet, input_at_a_step_reaches_only_that_step_and_later) {
  auto net = frozen_net();
  const std::vector<int64_t> constraints = {6, 1, 6, 6, 3, 6, 6, 0};
  std::vector<int64_t> ids = inputs_of({2, 0, 5, 1, 3, 4, 4, 1});
  const torch::Tensor a = forward_logits(*net, batch_of({ids}, {constraints}))[0];
  ids[5] = 5;  // was 3
  const torch::Tensor b = forward_logits(*net, batch_of({ids}, {constraints}))[0];
  for (int64_t t = 0; t < 5; ++t) EXPECT_EQ(max_diff(a[t], b[t]), 0.0) << "step " << t;
  for (int64_t t = 5; t < 8; ++t) EXPECT_GT(max_diff(a[t], b[t]), 1e-6) << "step " << t;
}

TEST(AnticipationNet, start_without_constraints_reads_an_all_free_horizon) {
  auto net = frozen_net();
  std::mt19937 rng(3);
  std::vector<int64_t> ids{kVocab};
  for (int t = 1; t < kAnticipationHorizon + 16; ++t) ids.push_back(static_cast<int64_t>(rng() % kVocab));
  const std::vector<int64_t> horizon_free(kAnticipationHorizon, kVocab);
  // Within the horizon: the steps of a sequence of kAnticipationHorizon free constraints.
  const std::vector<int64_t> first(ids.begin(), ids.begin() + kAnticipationHorizon);
  const torch::Tensor batched = forward_logits(*net, batch_of({first}, {horizon_free}))[0];
  const torch::Tensor unconstrained = stepped_logits(*net, ids, {});
  EXPECT_LT(max_diff(unconstrained.slice(0, 0, kAnticipationHorizon), batched), 1e-5);
  // Past it: the same as a start with those free constraints given explicitly (the all-free output).
  EXPECT_EQ(max_diff(unconstrained, stepped_logits(*net, ids, horizon_free)), 0.0);
}

TEST(AnticipationNet, cloned_state_continues_like_the_original) {
  auto net = frozen_net();
  const std::vector<int64_t> constraints = {6, 6, 4, 6, 1};
  auto state = net->start(constraints);
  std::vector<float> a(kVocab), b(kVocab);
  net->step(*state, kVocab, {}, a);
  net->step(*state, 2, {}, a);
  auto copy = state->clone();
  net->step(*state, 4, {}, a);
  net->step(*copy, 4, {}, b);
  EXPECT_EQ(a, b);
}

TEST(AnticipationNet, rejects_constraints_outside_the_vocabulary) {
  auto net = frozen_net();
  const std::vector<int64_t> bad = {1, 7};
  const std::string start_error = config_error_of([&] { net->start(bad); });
  EXPECT_THAT(start_error, HasSubstr("constraint 7 at step 1"));
  const std::string forward_error = config_error_of([&] { net->forward(batch_of({{6, 1}}, {{1, -1}})); });
  EXPECT_THAT(forward_error, HasSubstr("constraint -1"));
  NetBatch no_constraints = batch_of({{6, 1}}, {{1, 6}});
  no_constraints.constraints = torch::Tensor();
  EXPECT_THAT(config_error_of([&] { net->forward(no_constraints); }), HasSubstr("constraints"));
}

TEST(AnticipationNet, is_built_by_make_net_with_pytorch_parameter_names) {
  auto net = frozen_net();
  EXPECT_TRUE(net->wants_constraints());
  const auto params = net->named_parameters();
  ASSERT_TRUE(params.contains("constraint_embedding.weight"));
  EXPECT_EQ(params["constraint_embedding.weight"].sizes(), (std::vector<int64_t>{kVocab + 1, 8}));
  EXPECT_EQ(params["input_embedding.weight"].sizes(), (std::vector<int64_t>{kVocab + 1, 8}));
  EXPECT_EQ(params["constraint_lstm.weight_ih_l0"].sizes(), (std::vector<int64_t>{4 * 12, 8}));
  EXPECT_EQ(params["constraint_lstm.weight_hh_l1"].sizes(), (std::vector<int64_t>{4 * 12, 12}));
  EXPECT_EQ(params["token_lstm.weight_ih_l0"].sizes(), (std::vector<int64_t>{4 * 16, 8 + 12}));
  EXPECT_EQ(params["token_lstm.bias_hh_l1"].sizes(), (std::vector<int64_t>{4 * 16}));
  EXPECT_EQ(params["out.weight"].sizes(), (std::vector<int64_t>{kVocab, 16}));
  // embed = 0 means embeddings of 32.
  NetParams p = toy_params();
  p.embed = 0;
  EXPECT_EQ(make_net(p, toy_shape())->named_parameters()["constraint_embedding.weight"].size(1), 32);
}

TEST(AnticipationNet, rejects_options_that_do_not_fit) {
  NetShape no_tokens = toy_shape();
  no_tokens.token_vocab = 0;
  EXPECT_THAT(config_error_of([&] { make_net(toy_params(), no_tokens); }), HasSubstr("token_vocab=0"));
  NetParams p = toy_params();
  p.constraint_hidden = 0;
  EXPECT_THAT(config_error_of([&] { make_net(p, toy_shape()); }), HasSubstr("constraint_hidden=0"));
  p = toy_params();
  p.dropout = 1.0;
  EXPECT_THAT(config_error_of([&] { make_net(p, toy_shape()); }), HasSubstr("dropout=1"));
}

// A toy task where only the constraints carry information: tokens are uniformly random, so the net can
// predict a token well only where a constraint reveals it.
TEST(AnticipationNet, learns_to_follow_revealed_constraints) {
  torch::manual_seed(11);
  torch::set_num_threads(1);
  constexpr int kTokens = 8;
  NetParams params;
  params.kind = "anticipation";
  params.hidden = 32;
  params.constraint_hidden = 32;
  params.layers = 1;
  params.embed = 16;
  params.dropout = 0.0;
  auto net = make_net(params, toy_shape(kTokens));
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(0.02));
  std::mt19937 rng(5);
  // A batch of random token sequences of 8..16 steps, with random constraints.
  auto make = [&](int b, uint64_t seed) {
    std::vector<std::vector<int64_t>> ids, labels;
    for (int i = 0; i < b; ++i) {
      std::vector<int64_t> s(8 + rng() % 9);
      for (auto& x : s) x = static_cast<int64_t>(rng() % kTokens);
      ids.push_back(inputs_of(s, kTokens));
      labels.push_back(s);
    }
    NetBatch batch = batch_of(ids, labels, kTokens);
    batch.labels = torch::where(batch.mask, batch.constraints, torch::full_like(batch.constraints, -100));
    batch.constraints = random_constraints(batch.labels, kTokens, seed);
    return batch;
  };
  net->train();
  for (int step = 0; step < 60; ++step) {
    const NetBatch batch = make(32, 100 + static_cast<uint64_t>(step));
    const torch::Tensor logits = net->forward(batch);
    const torch::Tensor loss =
        torch::nn::functional::cross_entropy(logits.reshape({-1, kTokens}), batch.labels.reshape({-1}),
                                             torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  net->freeze();
  const NetBatch test = make(400, 7);
  const torch::Tensor probs = torch::softmax(forward_logits(*net, test), -1);
  const torch::Tensor real = test.labels != -100;
  const torch::Tensor revealed = real & (test.constraints != kTokens);
  const torch::Tensor free = real & (test.constraints == kTokens);
  const torch::Tensor p_true = probs.gather(2, test.labels.clamp_min(0).unsqueeze(2)).squeeze(2);
  const double p_revealed = p_true.masked_select(revealed).mean().item<double>();
  const double p_free = p_true.masked_select(free).mean().item<double>();
  const double accuracy =
      (probs.argmax(2) == test.labels).masked_select(revealed).to(torch::kDouble).mean().item<double>();
  RecordProperty("p_revealed", std::to_string(p_revealed));
  RecordProperty("p_free", std::to_string(p_free));
  RecordProperty("accuracy_revealed", std::to_string(accuracy));
  EXPECT_GT(p_revealed, 0.9);
  EXPECT_GT(accuracy, 0.95);
  // Free positions stay near chance (1/8): the net follows the constraints, it does not memorise tokens.
  EXPECT_LT(p_free, 0.3);
}

TEST(RandomConstraints, reveal_only_real_tokens_and_leave_padding_free) {
  const int64_t b = 200, t = 12;
  torch::Tensor tokens = torch::randint(0, 5, {b, t}, torch::kLong);
  for (int64_t i = 0; i < b; ++i) tokens[i].slice(0, 1 + i % t) = -100;  // lengths 1..12
  const torch::Tensor c = random_constraints(tokens, 5, uint64_t{42});
  ASSERT_EQ(c.sizes(), tokens.sizes());
  const torch::Tensor padding = tokens == -100;
  EXPECT_TRUE((c.masked_select(padding) == 5).all().item<bool>());
  const torch::Tensor revealed = c != 5;
  EXPECT_TRUE((c.masked_select(revealed) == tokens.masked_select(revealed)).all().item<bool>());
  EXPECT_GT(revealed.sum().item<int64_t>(), 0);
}

TEST(RandomConstraints, reveal_a_quarter_on_average_at_a_rate_drawn_per_sequence) {
  const int64_t b = 4000, t = 40;
  const torch::Tensor tokens = torch::randint(0, 10, {b, t}, torch::kLong);
  const torch::Tensor rates = (random_constraints(tokens, 10, uint64_t{9}) != 10).to(torch::kDouble).mean(1);
  // E[p] = 0.25; the standard error over 4000 sequences is about 0.0025.
  EXPECT_NEAR(rates.mean().item<double>(), 0.25, 0.015);
  // Per-sequence p ~ U(0, 0.5) spreads the rates (sd ~ 0.158); one shared p = 0.25 would give sd ~ 0.068.
  EXPECT_NEAR(rates.std().item<double>(), 0.158, 0.015);
}

TEST(RandomConstraints, are_deterministic_for_a_seed) {
  const torch::Tensor tokens = torch::randint(0, 7, {30, 20}, torch::kLong);
  const torch::Tensor a = random_constraints(tokens, 7, uint64_t{1});
  EXPECT_TRUE(a.equal(random_constraints(tokens, 7, uint64_t{1})));
  EXPECT_FALSE(a.equal(random_constraints(tokens, 7, uint64_t{2})));
  // A generator moves on: successive calls differ.
  torch::Generator g = at::detail::createCPUGenerator(1);
  const torch::Tensor first = random_constraints(tokens, 7, g);
  EXPECT_TRUE(first.equal(a));
  EXPECT_FALSE(random_constraints(tokens, 7, g).equal(first));
}

TEST(RandomConstraints, reject_a_token_outside_the_vocabulary) {
  const torch::Tensor tokens = torch::tensor({{1, 2, 9}, {0, -100, -100}}, torch::kLong);
  EXPECT_THAT(config_error_of([&] { random_constraints(tokens, 7, uint64_t{1}); }), HasSubstr("token 9"));
  EXPECT_THAT(config_error_of([&] { random_constraints(torch::zeros({3}, torch::kLong), 7, uint64_t{1}); }),
              HasSubstr("1 dimensions"));
}

}  // namespace
}  // namespace antiphon::neural
