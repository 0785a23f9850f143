// Melody RNN's attention_rnn graph (Magenta, magenta/models/shared/events_rnn_graph.py): make_rnn_cell builds
// a MultiRNNCell of BasicLSTMCells, wraps the FIRST layer in tf.contrib.rnn.AttentionCellWrapper(cell,
// attn_length, state_is_tuple=True) (attn_size = attn_vec_size = the cell's output size), puts a
// DropoutWrapper(output_keep_prob) on every layer, the last included, and the logits are a linear layer over
// the top outputs. The wrapper's step (tensorflow/contrib/rnn/python/ops/rnn_cell.py, AttentionCellWrapper.call
// and _attention), with state (LSTM state, attns, attn_states), all zeros at the start:
//   input'      = Linear([input, attns]) to the input's size                         (_linear1, with bias)
//   h, c        = LSTM(input', state)
//   query       = concat(c, h)                       (nest.flatten of LSTMStateTuple(c, h))
//   features    = attn_states * attn_w               (a 1x1 conv2d, no bias)
//   s           = sum(attn_v * tanh(features + Linear(query)))   over the vector size (_linear3, with bias)
//   a           = softmax(s) over the attn_length slots
//   attns'      = sum(a * attn_states)               over the slots
//   output      = Linear([h, attns']) to attn_size   (attn_output_projection, _linear2, with bias)
//   attn_states = attn_states without its oldest slot, then output appended
// The layer's output is `output` (dropout applies outside the wrapper, so the window keeps it undropped).
// Differences from TensorFlow, none of them in what the graph computes: PyTorch's LSTM layout (gates
// [i; f; g; o], two bias vectors: 8H bias parameters per layer where BasicLSTMCell has 4H) and PyTorch's
// initialisation, with BasicLSTMCell's constant forget_bias = 1 folded into the initial forget-gate bias;
// attn_w and attn_v start Glorot-uniform as TensorFlow's get_variable default.
#include "models/neural/nets_attention.h"

#include <cassert>
#include <cmath>

#include "antiphon/core/error.h"
#include "models/neural/lstm_kernels.h"

namespace antiphon::neural {

std::unique_ptr<NetState> AttentionLstmState::clone() const {
  // step() replaces the tensors instead of writing into them, so copies could share them; cloning keeps a
  // copy independent even of code that writes in place.
  auto out = std::make_unique<AttentionLstmState>();
  for (const auto& t : h) out->h.push_back(t.clone());
  for (const auto& t : c) out->c.push_back(t.clone());
  out->attns = attns.clone();
  out->attn_states = attn_states.clone();
  out->attn_features = attn_features.clone();
  out->weights = weights;
  return out;
}

namespace {

class AttentionLstmNet : public Net {
 public:
  AttentionLstmNet(const NetParams& params, const NetShape& shape) : params_(params), shape_(shape) {
    check_net_option("layers", params.layers, 1, 8);
    check_net_option("hidden", params.hidden, 1, 4096);
    check_net_option("attn_length", params.attn_length, 1, 4096);
    check_net_option("embed", params.embed, 0, 4096);
    check_dropout(params.dropout);
    const int h = params.hidden;
    const int a = h;  // attn_size = attn_vec_size = the LSTM's output size (Magenta passes neither)
    input_ = shape.input_size;
    if (input_ == 0) {
      input_ = params.embed > 0 ? params.embed : shape.input_vocab;
      if (params.embed > 0)
        embedding_ = register_module("embedding", torch::nn::Embedding(shape.input_vocab, params.embed));
    }
    input_proj_ = register_module("input_proj", torch::nn::Linear(input_ + a, input_));
    const double k = 1.0 / std::sqrt(static_cast<double>(h));
    for (int l = 0; l < params.layers; ++l) {
      const std::string s = std::to_string(l);
      const int in = l == 0 ? input_ : h;
      w_ih_.push_back(register_parameter("weight_ih_l" + s, torch::empty({4 * h, in}).uniform_(-k, k)));
      w_hh_.push_back(register_parameter("weight_hh_l" + s, torch::empty({4 * h, h}).uniform_(-k, k)));
      b_ih_.push_back(register_parameter("bias_ih_l" + s, torch::empty({4 * h}).uniform_(-k, k)));
      torch::Tensor b_hh = torch::empty({4 * h}).uniform_(-k, k);
      b_hh.narrow(0, h, h).add_(1.0);  // BasicLSTMCell's forget_bias
      b_hh_.push_back(register_parameter("bias_hh_l" + s, b_hh));
    }
    const double w_limit = std::sqrt(6.0 / (a + a));
    attn_w_ = register_parameter("attn_w", torch::empty({a, a}).uniform_(-w_limit, w_limit));
    const double v_limit = std::sqrt(3.0 / a);
    attn_v_ = register_parameter("attn_v", torch::empty({a}).uniform_(-v_limit, v_limit));
    attn_query_ = register_module("attn_query", torch::nn::Linear(2 * h, a));
    attn_output_ = register_module("attn_output", torch::nn::Linear(h + a, a));
    out_ = register_module("out", torch::nn::Linear(h, shape.num_labels));
  }

  torch::Tensor forward(const NetBatch& batch) override {
    const int64_t h = params_.hidden;
    const int64_t len = params_.attn_length;
    // The input's part of the wrapper's input projection, for all steps at once: [B, T, I].
    const torch::Tensor w_x = input_proj_->weight.narrow(1, 0, input_);
    const torch::Tensor w_attns = input_proj_->weight.narrow(1, input_, h);
    torch::Tensor xp;
    if (shape_.input_size > 0)
      xp = torch::matmul(batch.features, w_x.t());
    else if (embedding_)
      xp = torch::matmul(embedding_->forward(batch.ids), w_x.t());
    else
      xp = torch::embedding(w_x.t(), batch.ids);  // one-hot id i selects column i
    xp = xp + input_proj_->bias;
    // ... and through layer 0's input matrix: input' W_ih^T = xp W_ih^T + attns (W_ih W_attns)^T.
    // Unbound once: indexing gx[t] per step would give every step a backward pass over all of gx.
    const std::vector<torch::Tensor> gx =
        (torch::matmul(xp, w_ih_[0].t()) + b_ih_[0] + b_hh_[0]).unbind(1);  // T x [B, 4H]
    const torch::Tensor w_attns_gates = torch::matmul(w_ih_[0], w_attns);   // [4H, A]
    const int64_t b = xp.size(0);
    const auto steps = static_cast<int64_t>(gx.size());

    torch::Tensor hs = torch::zeros({b, h}), cs = torch::zeros({b, h});
    torch::Tensor attns = torch::zeros({b, h});
    // The window at step t is stacked from the outputs of steps t - L .. t - 1 (zeros before the start) and
    // their attn_w projections (each output is projected once), oldest first as in step().
    const torch::Tensor zero = torch::zeros({b, h});
    std::vector<torch::Tensor> outputs(static_cast<size_t>(len), zero), projected(static_cast<size_t>(len), zero);
    outputs.reserve(static_cast<size_t>(len + steps));
    projected.reserve(static_cast<size_t>(len + steps));
    for (int64_t t = 0; t < steps; ++t) {
      torch::Tensor gates = torch::addmm(gx[static_cast<size_t>(t)], attns, w_attns_gates.t());
      gates = torch::addmm(gates, hs, w_hh_[0].t());
      std::tie(hs, cs) = lstm_cell(gates, cs);
      const auto window = [&](const std::vector<torch::Tensor>& all) {
        return torch::stack(at::TensorList(all).slice(static_cast<size_t>(t), static_cast<size_t>(len)), 1);
      };
      torch::Tensor output;
      std::tie(attns, output) = attend(hs, cs, window(outputs), window(projected));
      outputs.push_back(output);
      projected.push_back(torch::matmul(output, attn_w_));
    }
    outputs.erase(outputs.begin(), outputs.begin() + len);
    torch::Tensor x = torch::stack(outputs, 1);  // [B, T, A]
    if (params_.dropout > 0) x = torch::dropout(x, params_.dropout, is_training());
    for (size_t l = 1; l < w_ih_.size(); ++l) {
      torch::Tensor g = (torch::matmul(x, w_ih_[l].t()) + b_ih_[l] + b_hh_[l]).transpose(0, 1).contiguous();
      x = std::get<0>(lstm_recurrence(g, w_hh_[l])).transpose(0, 1);
      if (params_.dropout > 0) x = torch::dropout(x, params_.dropout, is_training());
    }
    return out_->forward(x);
  }

  std::unique_ptr<NetState> start(std::span<const int64_t>) const override {
    auto s = std::make_unique<AttentionLstmState>();
    const int64_t h = params_.hidden;
    for (size_t l = 0; l < w_ih_.size(); ++l) {
      s->h.push_back(torch::zeros({1, h}));
      s->c.push_back(torch::zeros({1, h}));
    }
    s->attns = torch::zeros({1, h});
    s->attn_states = torch::zeros({1, params_.attn_length, h});
    s->attn_features = torch::zeros({1, params_.attn_length, h});
    return s;
  }

  // The wrapper's step as TensorFlow writes it (the input projection over the concatenation), batch 1.
  void step(NetState& state, int64_t input_id, std::span<const float> features,
            std::span<float> logits) const override {
    auto& s = static_cast<AttentionLstmState&>(state);
    assert(logits.size() == static_cast<size_t>(shape_.num_labels));
    torch::NoGradGuard no_grad;
    torch::Tensor x;
    if (shape_.input_size > 0) {
      assert(features.size() == static_cast<size_t>(shape_.input_size));
      x = torch::from_blob(const_cast<float*>(features.data()), {1, shape_.input_size}).clone();
    } else if (embedding_) {
      assert(input_id >= 0 && input_id < shape_.input_vocab);
      x = embedding_->weight[input_id].unsqueeze(0);
    } else {
      assert(input_id >= 0 && input_id < shape_.input_vocab);
      x = torch::zeros({1, shape_.input_vocab});
      x[0][input_id] = 1.0f;
    }
    x = torch::linear(torch::cat({x, s.attns}, 1), input_proj_->weight, input_proj_->bias);
    torch::Tensor gates = torch::linear(x, w_ih_[0], b_ih_[0]) + torch::linear(s.h[0], w_hh_[0], b_hh_[0]);
    std::tie(s.h[0], s.c[0]) = lstm_cell(gates, s.c[0]);
    torch::Tensor output, weights;
    std::tie(s.attns, output) = attend(s.h[0], s.c[0], s.attn_states, s.attn_features, &weights);
    s.attn_states = slide(s.attn_states, output);
    s.attn_features = slide(s.attn_features, torch::matmul(output, attn_w_));
    weights = weights.contiguous();
    s.weights.assign(weights.data_ptr<float>(), weights.data_ptr<float>() + weights.numel());
    x = output;
    for (size_t l = 1; l < w_ih_.size(); ++l) {
      gates = torch::linear(x, w_ih_[l], b_ih_[l]) + torch::linear(s.h[l], w_hh_[l], b_hh_[l]);
      std::tie(s.h[l], s.c[l]) = lstm_cell(gates, s.c[l]);
      x = s.h[l];
    }
    torch::Tensor out = torch::linear(x, out_->weight, out_->bias).contiguous();
    std::copy(out.data_ptr<float>(), out.data_ptr<float>() + shape_.num_labels, logits.begin());
  }

 private:
  // One LSTM step from the gate pre-activations [B, 4H] (PyTorch order i, f, g, o): the new (h, c).
  static std::pair<torch::Tensor, torch::Tensor> lstm_cell(const torch::Tensor& gates, const torch::Tensor& c) {
    auto g = gates.chunk(4, 1);
    torch::Tensor c_new = torch::sigmoid(g[1]) * c + torch::sigmoid(g[0]) * torch::tanh(g[2]);
    torch::Tensor h_new = torch::sigmoid(g[3]) * torch::tanh(c_new);
    return {h_new, c_new};
  }

  // AttentionCellWrapper._attention with query concat(c, h) over states [B, L, A] whose projections by attn_w
  // are `features` [B, L, A], then the output projection: (new attns [B, A], output [B, A]); the softmax
  // weights [B, L] go to `weights` when given.
  std::pair<torch::Tensor, torch::Tensor> attend(const torch::Tensor& h, const torch::Tensor& c,
                                                 const torch::Tensor& states, const torch::Tensor& features,
                                                 torch::Tensor* weights = nullptr) const {
    torch::Tensor y = torch::linear(torch::cat({c, h}, 1), attn_query_->weight, attn_query_->bias);  // [B, V]
    torch::Tensor scores = torch::matmul(torch::tanh(features + y.unsqueeze(1)), attn_v_);           // [B, L]
    torch::Tensor a = torch::softmax(scores, 1);
    torch::Tensor attns = torch::bmm(a.unsqueeze(1), states).squeeze(1);  // [B, A]
    torch::Tensor output = torch::linear(torch::cat({h, attns}, 1), attn_output_->weight, attn_output_->bias);
    if (weights) *weights = a;
    return {attns, output};
  }

  // The window [B, L, A] without its oldest slot, with `newest` [B, A] appended.
  static torch::Tensor slide(const torch::Tensor& window, const torch::Tensor& newest) {
    return torch::cat({window.narrow(1, 1, window.size(1) - 1), newest.unsqueeze(1)}, 1);
  }

  NetParams params_;
  NetShape shape_;
  int64_t input_ = 0;  // the size of what layer 0 reads: features, one-hot ids or embeddings
  torch::nn::Embedding embedding_{nullptr};
  torch::nn::Linear input_proj_{nullptr};
  std::vector<torch::Tensor> w_ih_, w_hh_, b_ih_, b_hh_;
  torch::Tensor attn_w_, attn_v_;
  torch::nn::Linear attn_query_{nullptr}, attn_output_{nullptr}, out_{nullptr};
};

}  // namespace

std::shared_ptr<Net> make_attention_lstm_net(const NetParams& params, const NetShape& shape) {
  return std::make_shared<AttentionLstmNet>(params, shape);
}

}  // namespace antiphon::neural
