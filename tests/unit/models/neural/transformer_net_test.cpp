// The decoder-only causal transformer: forward against step() with its key/value cache, causality,
// padding, training, parameter counts and the max_len limit.
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

NetParams transformer_params(int layers, int hidden, int heads, int ff, int max_len = 4096) {
  NetParams p;
  p.kind = "transformer";
  p.layers = layers;
  p.hidden = hidden;
  p.heads = heads;
  p.ff = ff;
  p.max_len = max_len;
  return p;
}

NetShape id_shape(int vocab) { return NetShape{0, vocab + 1, vocab, vocab}; }

// An untrained net whose weights are large enough that every position's logits differ clearly (the
// GPT-2 initialisation alone makes all logits nearly equal, which would let a wrong cache pass).
std::shared_ptr<Net> make_scrambled(const NetParams& params, const NetShape& shape, uint64_t seed = 3) {
  torch::manual_seed(seed);
  torch::set_num_threads(1);
  auto net = make_net(params, shape);
  torch::NoGradGuard no_grad;
  for (auto& p : net->parameters()) p.normal_(0.0, 0.3);
  net->freeze();
  return net;
}

NetBatch token_batch(const std::vector<std::vector<int>>& sequences, int vocab) {
  TokenCodec codec(vocab);
  std::vector<CodedSequence> coded;
  for (const auto& s : sequences) coded.push_back(codec.code(s));
  std::vector<const CodedSequence*> pointers;
  for (const auto& c : coded) pointers.push_back(&c);
  return make_batch(pointers, codec);
}

std::vector<int> pseudo_random_tokens(size_t n, int vocab, int seed) {
  std::vector<int> out;
  uint32_t x = static_cast<uint32_t>(seed) * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    out.push_back(static_cast<int>((x >> 16) % static_cast<uint32_t>(vocab)));
  }
  return out;
}

size_t parameter_count(Net& net) {
  size_t n = 0;
  for (const auto& p : net.parameters()) n += static_cast<size_t>(p.numel());
  return n;
}

TEST(TransformerNet, forward_matches_cached_step_inference_past_the_cache_growth) {
  const int vocab = 10;
  auto net = make_scrambled(transformer_params(2, 32, 4, 64), id_shape(vocab));
  // 150 steps: the cache starts at 64 positions and grows twice.
  const NetBatch batch = token_batch({pseudo_random_tokens(150, vocab, 1), pseudo_random_tokens(40, vocab, 2)}, vocab);
  const torch::Tensor logits = net->forward(batch);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 150, vocab}));
  for (int64_t r = 0; r < 2; ++r) {
    auto state = net->start({});
    std::vector<float> out(vocab);
    float worst = 0;
    for (int64_t t = 0; t < batch.lengths[r].item<int64_t>(); ++t) {
      net->step(*state, batch.ids[r][t].item<int64_t>(), {}, out);
      for (int l = 0; l < vocab; ++l)
        worst = std::max(worst, std::abs(out[static_cast<size_t>(l)] - logits[r][t][l].item<float>()));
    }
    EXPECT_LT(worst, 1e-4) << "row " << r;
  }
  // The logits are not all alike (a cache that returned the first position's answer would fail above).
  EXPECT_GT((logits[0][100] - logits[0][10]).abs().max().item<float>(), 0.1);
}

TEST(TransformerNet, feature_inputs_forward_matches_step) {
  const int features = 7, labels = 5;
  auto net = make_scrambled(transformer_params(2, 16, 2, 32), NetShape{features, 0, labels, labels});
  torch::manual_seed(5);
  NetBatch batch;
  batch.features = torch::randn({1, 20, features});
  const torch::Tensor logits = net->forward(batch);
  auto state = net->start({});
  std::vector<float> x(features), out(labels);
  for (int64_t t = 0; t < 20; ++t) {
    for (int f = 0; f < features; ++f) x[static_cast<size_t>(f)] = batch.features[0][t][f].item<float>();
    net->step(*state, 0, x, out);
    for (int l = 0; l < labels; ++l) EXPECT_NEAR(out[static_cast<size_t>(l)], logits[0][t][l].item<float>(), 1e-4) << t;
  }
}

TEST(TransformerNet, an_input_changes_no_logits_before_its_step) {
  const int vocab = 8;
  auto net = make_scrambled(transformer_params(3, 32, 4, 64), id_shape(vocab));
  std::vector<int> tokens = pseudo_random_tokens(30, vocab, 3);
  const torch::Tensor before = net->forward(token_batch({tokens}, vocab))[0];
  tokens[11] = (tokens[11] + 1) % vocab;  // the input of step 12
  const torch::Tensor after = net->forward(token_batch({tokens}, vocab))[0];
  EXPECT_LT((after.narrow(0, 0, 12) - before.narrow(0, 0, 12)).abs().max().item<float>(), 1e-6);
  for (int64_t t = 12; t < 30; ++t) EXPECT_FALSE(torch::allclose(after[t], before[t], 0, 1e-4)) << t;
}

TEST(TransformerNet, padding_neither_changes_real_logits_nor_yields_nan) {
  const int vocab = 6;
  auto net = make_scrambled(transformer_params(2, 16, 4, 32), id_shape(vocab));
  const std::vector<int> long_one = pseudo_random_tokens(25, vocab, 4), short_one = pseudo_random_tokens(4, vocab, 5);
  const torch::Tensor batched = net->forward(token_batch({long_one, short_one}, vocab));
  EXPECT_TRUE(torch::isfinite(batched).all().item<bool>());
  const torch::Tensor alone = net->forward(token_batch({short_one}, vocab))[0];
  EXPECT_LT((batched[1].narrow(0, 0, 4) - alone).abs().max().item<float>(), 1e-5);
  // Training mode (dropout) over padding stays finite too, and its loss has finite gradients.
  NetParams params = transformer_params(2, 16, 4, 32);
  params.dropout = 0.3;
  auto trained = make_scrambled(params, id_shape(vocab));
  trained->train();
  const NetBatch batch = token_batch({long_one, short_one}, vocab);
  const torch::Tensor logits = trained->forward(batch);
  torch::nn::functional::cross_entropy(logits.reshape({-1, vocab}), batch.labels.reshape(-1)).backward();
  for (const auto& p : trained->parameters()) EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
}

TEST(TransformerNet, dropout_acts_in_training_only) {
  const int vocab = 6;
  NetParams params = transformer_params(2, 16, 4, 32);
  params.dropout = 0.5;
  auto net = make_scrambled(params, id_shape(vocab));
  const NetBatch batch = token_batch({pseudo_random_tokens(12, vocab, 6)}, vocab);
  EXPECT_TRUE(torch::equal(net->forward(batch), net->forward(batch)));
  net->train();
  EXPECT_FALSE(torch::equal(net->forward(batch), net->forward(batch)));
}

TEST(TransformerNet, adam_steps_learn_a_repeating_pattern) {
  const int vocab = 5;
  std::vector<int> pattern;
  for (int i = 0; i < 30; ++i) pattern.push_back((i * 2) % vocab);  // 0 2 4 1 3 0 2 ...
  const NetBatch batch = token_batch({pattern, std::vector<int>(pattern.begin() + 3, pattern.begin() + 20)}, vocab);
  torch::manual_seed(9);
  torch::set_num_threads(1);
  auto net = make_net(transformer_params(2, 32, 4, 64, 64), id_shape(vocab));
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(3e-3));
  net->train();
  double first = 0, last = 0;
  for (int i = 0; i < 60; ++i) {
    adam.zero_grad();
    const torch::Tensor logits = net->forward(batch);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits.reshape({-1, vocab}), batch.labels.reshape(-1));
    loss.backward();
    adam.step();
    last = loss.item<double>();
    if (i == 0) first = last;
  }
  EXPECT_GT(first, 1.3);  // about ln 5 untrained
  EXPECT_LT(last, 0.2 * first);
}

TEST(TransformerNet, parameter_count_matches_the_formula) {
  const int64_t d = 128, ff = 512, layers = 4, labels = 40, max_len = 4096;
  const int64_t per_layer = 2 * d + 4 * (d * d + d) + 2 * d + (d * ff + ff) + (ff * d + d);
  const int64_t ids = (labels + 1) * d + max_len * d + layers * per_layer + 2 * d + d * labels + labels;
  EXPECT_EQ(parameter_count(*make_net(transformer_params(4, 128, 4, 512), id_shape(40))), static_cast<size_t>(ids));
  // Feature inputs: a Linear from input_size to d instead of the embedding.
  const int64_t features = ids - (labels + 1) * d + (121 * d + d);
  EXPECT_EQ(parameter_count(*make_net(transformer_params(4, 128, 4, 512), NetShape{121, 0, 40, 40})),
            static_cast<size_t>(features));
}

TEST(TransformerNet, a_sequence_longer_than_max_len_is_refused_by_name) {
  const int vocab = 4;
  auto net = make_scrambled(transformer_params(1, 16, 2, 16, 16), id_shape(vocab));
  EXPECT_NO_THROW(net->forward(token_batch({pseudo_random_tokens(16, vocab, 7)}, vocab)));
  try {
    net->forward(token_batch({pseudo_random_tokens(17, vocab, 7)}, vocab));
    FAIL() << "17 steps accepted";
  } catch (const EncodingError& e) {
    EXPECT_NE(std::string(e.what()).find("17 steps"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("max_len=16"), std::string::npos) << e.what();
  }
  auto state = net->start({});
  std::vector<float> out(vocab);
  for (int t = 0; t < 16; ++t) net->step(*state, t == 0 ? vocab : t % vocab, {}, out);
  EXPECT_THROW(net->step(*state, 1, {}, out), EncodingError);
}

TEST(TransformerNet, rejects_heads_that_do_not_divide_hidden) {
  try {
    make_net(transformer_params(2, 30, 4, 64), id_shape(4));
    FAIL() << "heads=4 with hidden=30 accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("heads=4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("hidden=30"), std::string::npos) << e.what();
  }
}

TEST(TransformerNet, cloned_state_keeps_its_own_cache) {
  const int vocab = 6;
  auto net = make_scrambled(transformer_params(2, 16, 4, 32), id_shape(vocab));
  // 70 steps before the copy: the cache has grown past its first 64 positions.
  std::vector<int64_t> prefix = {vocab};
  for (int token : pseudo_random_tokens(69, vocab, 8)) prefix.push_back(token);
  auto state = net->start({});
  std::vector<float> a(vocab), b(vocab), again(vocab);
  for (int64_t id : prefix) net->step(*state, id, {}, a);
  auto copy = state->clone();
  net->step(*copy, 5, {}, b);  // writes into the copy's cache only
  net->step(*copy, 4, {}, b);
  net->step(*state, 3, {}, a);
  // Each went on from the shared prefix as if it had been alone.
  for (int64_t last : {3, 5}) {
    auto fresh = net->start({});
    for (int64_t id : prefix) net->step(*fresh, id, {}, again);
    net->step(*fresh, last, {}, again);
    if (last == 3) {
      EXPECT_EQ(a, again);
    } else {
      net->step(*fresh, 4, {}, again);
      EXPECT_EQ(b, again);
    }
  }
}

TEST(TransformerNet, weights_round_trip_through_bytes) {
  const int vocab = 7;
  const NetParams params = transformer_params(2, 16, 4, 32);
  auto net = make_scrambled(params, id_shape(vocab), 3);
  auto other = make_scrambled(params, id_shape(vocab), 4);  // other weights until loaded
  const NetBatch batch = token_batch({pseudo_random_tokens(20, vocab, 9)}, vocab);
  ASSERT_FALSE(torch::equal(net->forward(batch), other->forward(batch)));
  net_from_bytes(*other, net_to_bytes(*net), "test.model");
  other->freeze();
  EXPECT_TRUE(torch::equal(net->forward(batch), other->forward(batch)));
  auto s1 = net->start({}), s2 = other->start({});
  std::vector<float> a(vocab), b(vocab);
  for (int64_t t = 0; t < 20; ++t) {
    net->step(*s1, batch.ids[0][t].item<int64_t>(), {}, a);
    other->step(*s2, batch.ids[0][t].item<int64_t>(), {}, b);
    EXPECT_EQ(a, b) << t;
  }
}

}  // namespace
}  // namespace antiphon::neural
