// The decoder-only causal transformer (GPT-2 layout): token embedding (or a Linear from feature inputs) plus
// learned positions, pre-LayerNorm blocks of multi-head causal self-attention and a GELU feed-forward,
// a final LayerNorm and a Linear to the labels. Attention is written out by hand so that batch-1 inference
// can keep each layer's keys and values and attend from the new position only.
//
// Padding sits after each sequence's end, so the causal mask alone keeps real positions from seeing it;
// every position sees at least itself, so no softmax row is all -inf and padding never yields NaN.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <string>

#include "antiphon/core/error.h"
#include "models/neural/nets.h"

namespace antiphon::neural {
namespace {

constexpr double kLayerNormEps = 1e-5;
constexpr int64_t kInitialCache = 64;  // positions preallocated per layer; the cache doubles when full

struct Block : torch::nn::Module {
  Block(int64_t d, int64_t ff) {
    ln1 = register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(kLayerNormEps)));
    q = register_module("q", torch::nn::Linear(d, d));
    k = register_module("k", torch::nn::Linear(d, d));
    v = register_module("v", torch::nn::Linear(d, d));
    o = register_module("o", torch::nn::Linear(d, d));
    ln2 = register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(kLayerNormEps)));
    ff1 = register_module("ff1", torch::nn::Linear(d, ff));
    ff2 = register_module("ff2", torch::nn::Linear(ff, d));
  }
  torch::nn::LayerNorm ln1{nullptr}, ln2{nullptr};
  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, o{nullptr}, ff1{nullptr}, ff2{nullptr};
};

class TransformerState : public NetState {
 public:
  std::unique_ptr<NetState> clone() const override {
    auto c = std::make_unique<TransformerState>();
    c->position = position;
    // Tensors share storage when copied: a beam's branch needs caches of its own.
    for (const auto& t : cache) c->cache.push_back(t.clone());
    return c;
  }
  int64_t position = 0;              // steps fed so far
  std::vector<torch::Tensor> cache;  // per layer [2 (keys, values), heads, capacity, head_size]
};

class TransformerNet : public Net {
 public:
  TransformerNet(const NetParams& params, const NetShape& shape) : params_(params), shape_(shape) {
    if (params.layers < 1 || params.layers > 64)
      throw ConfigError("layers=" + std::to_string(params.layers) + " is outside 1..64");
    if (params.hidden < 1 || params.hidden > 8192)
      throw ConfigError("hidden=" + std::to_string(params.hidden) + " is outside 1..8192");
    if (params.heads < 1 || params.hidden % params.heads != 0)
      throw ConfigError("heads=" + std::to_string(params.heads) + " does not divide hidden=" +
                        std::to_string(params.hidden));
    if (params.ff < 1) throw ConfigError("ff=" + std::to_string(params.ff) + " is not positive");
    if (params.max_len < 1) throw ConfigError("max_len=" + std::to_string(params.max_len) + " is not positive");
    check_dropout(params.dropout);
    const int64_t d = params.hidden;
    head_size_ = d / params.heads;
    if (shape.input_size > 0) input_ = register_module("input", torch::nn::Linear(shape.input_size, d));
    else embedding_ = register_module("embedding", torch::nn::Embedding(shape.input_vocab, d));
    positions_ = register_module("positions", torch::nn::Embedding(params.max_len, d));
    for (int l = 0; l < params.layers; ++l)
      blocks_.push_back(register_module("block" + std::to_string(l), std::make_shared<Block>(d, params.ff)));
    ln_final_ = register_module("ln_final", torch::nn::LayerNorm(torch::nn::LayerNormOptions({d}).eps(kLayerNormEps)));
    out_ = register_module("out", torch::nn::Linear(d, shape.num_labels));
    initialise();
  }

  torch::Tensor forward(const NetBatch& batch) override {
    const bool features = shape_.input_size > 0;
    const int64_t b = features ? batch.features.size(0) : batch.ids.size(0);
    const int64_t t = features ? batch.features.size(1) : batch.ids.size(1);
    check_length(t);
    const int64_t d = params_.hidden, h = params_.heads;
    torch::Tensor x = features ? input_->forward(batch.features) : embedding_->forward(batch.ids);
    x = x + positions_->weight.narrow(0, 0, t);
    const torch::Tensor future = torch::ones({t, t}, torch::kBool).triu(1);
    const double scale = 1.0 / std::sqrt(static_cast<double>(head_size_));
    for (const auto& block : blocks_) {
      torch::Tensor a = block->ln1->forward(x);
      auto heads = [&](torch::nn::Linear& proj) {
        return proj->forward(a).view({b, t, h, head_size_}).transpose(1, 2);  // [B, H, T, hs]
      };
      torch::Tensor q = heads(block->q), k = heads(block->k), v = heads(block->v);
      torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
      scores = scores.masked_fill(future, -std::numeric_limits<float>::infinity());
      torch::Tensor y = torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({b, t, d});
      x = x + dropout(block->o->forward(y));
      x = x + dropout(block->ff2->forward(torch::gelu(block->ff1->forward(block->ln2->forward(x)))));
    }
    return out_->forward(ln_final_->forward(x));
  }

  size_t max_steps() const override { return static_cast<size_t>(params_.max_len); }

  std::unique_ptr<NetState> start(std::span<const int64_t>) const override {
    auto s = std::make_unique<TransformerState>();
    const int64_t capacity = std::min<int64_t>(kInitialCache, params_.max_len);
    for (size_t l = 0; l < blocks_.size(); ++l) s->cache.push_back(torch::zeros({2, params_.heads, capacity, head_size_}));
    return s;
  }

  void step(NetState& state, int64_t input_id, std::span<const float> features, std::span<float> logits) const override {
    auto& s = static_cast<TransformerState&>(state);
    assert(logits.size() == static_cast<size_t>(shape_.num_labels));
    assert(qkv_weight_.size() == blocks_.size() && "freeze() the net before inference");
    // Inference mode: no autograd, and no version counters on the cache written in place.
    c10::InferenceMode inference;
    const int64_t t = s.position;
    check_length(t + 1);
    if (t == s.cache[0].size(2)) grow(s);
    const int64_t d = params_.hidden, h = params_.heads;
    torch::Tensor x;
    if (shape_.input_size > 0) {
      assert(features.size() == static_cast<size_t>(shape_.input_size));
      const torch::Tensor in = torch::from_blob(const_cast<float*>(features.data()), {1, shape_.input_size});
      x = torch::linear(in, input_->weight, input_->bias);
    } else {
      if (input_id < 0 || input_id >= shape_.input_vocab)
        throw ConfigError("input id " + std::to_string(input_id) + " is outside 0.." +
                          std::to_string(shape_.input_vocab - 1));
      x = embedding_->weight.narrow(0, input_id, 1);
    }
    x = x + positions_->weight.narrow(0, t, 1);  // [1, d]
    for (size_t l = 0; l < blocks_.size(); ++l) {
      const Block& block = *blocks_[l];
      // One product for the (pre-scaled) query and the new key and value: [3, H, hs].
      const torch::Tensor qkv = torch::linear(layer_norm(x, block.ln1), qkv_weight_[l], qkv_bias_[l]).view({3, h, head_size_});
      torch::Tensor& cache = s.cache[l];
      cache.select(2, t).copy_(qkv.narrow(0, 1, 2));
      const torch::Tensor keys = cache.select(0, 0).narrow(1, 0, t + 1);  // [H, t+1, hs]
      const torch::Tensor values = cache.select(0, 1).narrow(1, 0, t + 1);
      const torch::Tensor weights = torch::softmax(torch::bmm(qkv.select(0, 0).unsqueeze(1), keys.transpose(1, 2)), -1);
      const torch::Tensor y = torch::bmm(weights, values).view({1, d});  // weights [H, 1, t+1]
      x = x + torch::linear(y, block.o->weight, block.o->bias);
      const torch::Tensor f = torch::gelu(torch::linear(layer_norm(x, block.ln2), block.ff1->weight, block.ff1->bias));
      x = x + torch::linear(f, block.ff2->weight, block.ff2->bias);
    }
    const torch::Tensor out = torch::linear(layer_norm(x, ln_final_), out_->weight, out_->bias).contiguous();
    std::copy(out.data_ptr<float>(), out.data_ptr<float>() + shape_.num_labels, logits.begin());
    s.position = t + 1;
  }

  // Fuses each layer's query, key and value projections into one matrix for step(), with the attention
  // scale 1/sqrt(head_size) folded into the query rows.
  void freeze() override {
    eval();
    torch::NoGradGuard no_grad;
    const double scale = 1.0 / std::sqrt(static_cast<double>(head_size_));
    qkv_weight_.clear();
    qkv_bias_.clear();
    for (const auto& block : blocks_) {
      qkv_weight_.push_back(torch::cat({block->q->weight * scale, block->k->weight, block->v->weight}).contiguous());
      qkv_bias_.push_back(torch::cat({block->q->bias * scale, block->k->bias, block->v->bias}));
    }
  }

 private:
  // GPT-2's initialisation: N(0, 0.02) weights, zero biases, residual projections scaled by 1/sqrt(2 layers)
  // so the residual stream's variance does not grow with depth.
  void initialise() {
    torch::NoGradGuard no_grad;
    const double residual_std = 0.02 / std::sqrt(2.0 * params_.layers);
    for (auto& p : named_parameters()) {
      const std::string& name = p.key();
      torch::Tensor& w = p.value();
      // LayerNorms start as the identity.
      if (name.starts_with("ln_final.") || name.find(".ln") != std::string::npos) continue;
      if (name.ends_with(".bias")) w.zero_();
      else if (name.ends_with(".o.weight") || name.ends_with("ff2.weight")) w.normal_(0.0, residual_std);
      else w.normal_(0.0, 0.02);
    }
  }

  void check_length(int64_t steps) const {
    if (steps > params_.max_len)
      throw EncodingError("a sequence of " + std::to_string(steps) + " steps is longer than the transformer's max_len=" +
                          std::to_string(params_.max_len));
  }

  void grow(TransformerState& s) const {
    const int64_t capacity = std::min<int64_t>(2 * s.cache[0].size(2), params_.max_len);
    for (torch::Tensor& cache : s.cache) {
      torch::Tensor bigger = torch::zeros({2, params_.heads, capacity, head_size_});
      bigger.narrow(2, 0, cache.size(2)).copy_(cache);
      cache = bigger;
    }
  }

  torch::Tensor layer_norm(const torch::Tensor& x, const torch::nn::LayerNorm& ln) const {
    return torch::layer_norm(x, {params_.hidden}, ln->weight, ln->bias, kLayerNormEps);
  }

  torch::Tensor dropout(const torch::Tensor& x) {
    return params_.dropout > 0 ? torch::dropout(x, params_.dropout, is_training()) : x;
  }

  NetParams params_;
  NetShape shape_;
  int64_t head_size_ = 0;
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::Linear input_{nullptr};
  torch::nn::Embedding positions_{nullptr};
  std::vector<std::shared_ptr<Block>> blocks_;
  torch::nn::LayerNorm ln_final_{nullptr};
  torch::nn::Linear out_{nullptr};
  std::vector<torch::Tensor> qkv_weight_, qkv_bias_;  // per layer, built by freeze()
};

}  // namespace

std::shared_ptr<Net> make_transformer_net(const NetParams& params, const NetShape& shape) {
  return std::make_shared<TransformerNet>(params, shape);
}

}  // namespace antiphon::neural
