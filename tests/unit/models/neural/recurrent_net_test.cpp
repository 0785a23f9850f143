// The rnn and lstm nets learn from their inputs: a task that the unigram cannot solve (repeat the token two
// steps back) on one-hot, embedded and feature inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "models/neural/codec.h"
#include "models/neural/nets.h"
#include "models/neural/neural_model.h"

namespace antiphon::neural {
namespace {

constexpr int kVocab = 8;

// Random token sequences where each token from the third on repeats the token two steps back with
// probability 0.9: the unigram is log2(8) = 3 bits, the pattern about 0.9 * 0.15 + 0.1 * 3.2 = 0.47 bits.
std::vector<std::vector<int>> delayed_copies(uint64_t seed, int count, int length) {
  torch::manual_seed(seed);
  std::vector<std::vector<int>> out;
  for (int s = 0; s < count; ++s) {
    const torch::Tensor draw = torch::randint(kVocab, {length}, torch::kLong);
    const torch::Tensor keep = torch::rand({length});
    std::vector<int> tokens;
    for (int t = 0; t < length; ++t) {
      const bool copy = t >= 2 && keep[t].item<float>() < 0.9f;
      tokens.push_back(copy ? tokens[static_cast<size_t>(t - 2)] : static_cast<int>(draw[t].item<int64_t>()));
    }
    out.push_back(tokens);
  }
  return out;
}

NetBatch batch_of(const std::vector<std::vector<int>>& sequences, const Codec& codec) {
  std::vector<CodedSequence> coded;
  for (const auto& s : sequences) coded.push_back(codec.code(s));
  std::vector<const CodedSequence*> pointers;
  for (const auto& c : coded) pointers.push_back(&c);
  return make_batch(pointers, codec);
}

double bits(Net& net, const NetBatch& batch) {
  const torch::Tensor logits = net.forward(batch);
  const torch::Tensor nats = torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), batch.labels.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
  return nats.item<double>() / std::log(2.0);
}

// Trains `kind` for 300 Adam steps and returns held-out bits per token.
double learn_delayed_copy(const char* kind, int embed) {
  torch::set_num_threads(1);
  torch::manual_seed(3);
  TokenCodec codec(kVocab);
  NetParams p;
  p.kind = kind;
  p.layers = 2;
  p.hidden = 32;
  p.embed = embed;
  auto net = make_net(p, NetShape{0, codec.input_vocab(), codec.num_labels(), kVocab});
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-2));
  const NetBatch test = batch_of(delayed_copies(99, 16, 60), codec);
  for (int step = 0; step < 300; ++step) {
    net->train();
    const NetBatch batch = batch_of(delayed_copies(static_cast<uint64_t>(step), 16, 60), codec);
    const torch::Tensor logits = net->forward(batch);
    const torch::Tensor loss = torch::nn::functional::cross_entropy(
        logits.reshape({-1, logits.size(-1)}), batch.labels.reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
    adam.zero_grad();
    loss.backward();
    adam.step();
  }
  torch::NoGradGuard no_grad;
  net->eval();
  return bits(*net, test);
}

TEST(RecurrentNet, lstm_on_one_hot_ids_learns_a_delayed_copy) { EXPECT_LT(learn_delayed_copy("lstm", 0), 1.0); }
TEST(RecurrentNet, lstm_on_embedded_ids_learns_a_delayed_copy) { EXPECT_LT(learn_delayed_copy("lstm", 8), 1.0); }
TEST(RecurrentNet, rnn_on_one_hot_ids_learns_a_delayed_copy) { EXPECT_LT(learn_delayed_copy("rnn", 0), 1.0); }

}  // namespace
}  // namespace antiphon::neural
