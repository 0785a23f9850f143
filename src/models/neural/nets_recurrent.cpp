// Recurrent nets: the vanilla (Elman, tanh) RNN of Todd's early melody networks and the LSTM of Melody RNN,
// over one-hot, embedded or feature inputs, with dropout on each layer's output (Magenta's DropoutWrapper).
// Training runs the LSTM through lstm_recurrence (input projections of all steps in one matmul); batch-1
// inference runs the LSTM on FastLstm, a torch-free copy of the weights.
#include <cassert>
#include <cmath>

#include "antiphon/core/error.h"
#include "models/neural/fast_lstm.h"
#include "models/neural/lstm_kernels.h"
#include "models/neural/nets.h"

namespace antiphon::neural {
namespace {

class RecurrentState : public NetState {
 public:
  std::unique_ptr<NetState> clone() const override { return std::make_unique<RecurrentState>(*this); }
  FastLstm::State lstm;      // LSTM nets
  std::vector<torch::Tensor> h;  // RNN nets: per layer [1, H]
};

class RecurrentNet : public Net {
 public:
  RecurrentNet(const NetParams& params, const NetShape& shape) : params_(params), shape_(shape) {
    check_net_option("layers", params.layers, 1, 8);
    check_net_option("hidden", params.hidden, 1, 4096);
    check_net_option("embed", params.embed, 0, 4096);
    check_dropout(params.dropout);
    lstm_ = params.kind == "lstm";
    const int gates = lstm_ ? 4 : 1;
    const int h = params.hidden;
    int in = shape.input_size;
    if (in == 0) {
      in = params.embed > 0 ? params.embed : shape.input_vocab;
      if (params.embed > 0) embedding_ = register_module("embedding", torch::nn::Embedding(shape.input_vocab, params.embed));
    }
    // PyTorch's initialisation: U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias.
    const double k = 1.0 / std::sqrt(static_cast<double>(h));
    for (int l = 0; l < params.layers; ++l) {
      const std::string s = std::to_string(l);
      w_ih_.push_back(register_parameter("weight_ih_l" + s, torch::empty({gates * h, l == 0 ? in : h}).uniform_(-k, k)));
      w_hh_.push_back(register_parameter("weight_hh_l" + s, torch::empty({gates * h, h}).uniform_(-k, k)));
      b_ih_.push_back(register_parameter("bias_ih_l" + s, torch::empty({gates * h}).uniform_(-k, k)));
      b_hh_.push_back(register_parameter("bias_hh_l" + s, torch::empty({gates * h}).uniform_(-k, k)));
    }
    out_ = register_module("out", torch::nn::Linear(h, shape.num_labels));
  }

  torch::Tensor forward(const NetBatch& batch) override {
    // Layer 0's input projection for all steps at once: [B, T, G*H].
    torch::Tensor gx;
    if (shape_.input_size > 0) {
      gx = torch::matmul(batch.features, w_ih_[0].t());
    } else if (embedding_) {
      gx = torch::matmul(embedding_->forward(batch.ids), w_ih_[0].t());
    } else {
      // One-hot inputs: the projection of id i is column i of w_ih.
      gx = torch::embedding(w_ih_[0].t(), batch.ids);
    }
    torch::Tensor x;
    for (size_t l = 0; l < w_ih_.size(); ++l) {
      if (l > 0) gx = torch::matmul(x, w_ih_[l].t());
      gx = (gx + b_ih_[l] + b_hh_[l]).transpose(0, 1).contiguous();  // [T, B, G*H]
      torch::Tensor y = lstm_ ? std::get<0>(lstm_recurrence(gx, w_hh_[l])) : rnn_layer(gx, w_hh_[l]);
      x = y.transpose(0, 1);  // [B, T, H]
      if (params_.dropout > 0) x = torch::dropout(x, params_.dropout, is_training());
    }
    return out_->forward(x);
  }

  std::unique_ptr<NetState> start(std::span<const int64_t>) const override {
    auto s = std::make_unique<RecurrentState>();
    if (lstm_) {
      assert(fast_ && "freeze() the net before inference");
      s->lstm = fast_->start();
    } else {
      for (size_t l = 0; l < w_ih_.size(); ++l) s->h.push_back(torch::zeros({1, params_.hidden}));
    }
    return s;
  }

  void step(NetState& state, int64_t input_id, std::span<const float> features, std::span<float> logits) const override {
    auto& s = static_cast<RecurrentState&>(state);
    assert(logits.size() == static_cast<size_t>(shape_.num_labels));
    if (lstm_) {
      if (shape_.input_size > 0) fast_->step_dense(s.lstm, features, logits);
      else fast_->step_id(s.lstm, static_cast<int>(input_id), logits);
      return;
    }
    torch::NoGradGuard no_grad;
    torch::Tensor x;
    if (shape_.input_size > 0) {
      x = torch::from_blob(const_cast<float*>(features.data()), {1, shape_.input_size}).clone();
      x = torch::matmul(x, w_ih_[0].t());
    } else if (embedding_) {
      x = torch::matmul(embedding_->weight[input_id].unsqueeze(0), w_ih_[0].t());
    } else {
      x = w_ih_[0].t()[input_id].unsqueeze(0);
    }
    for (size_t l = 0; l < w_ih_.size(); ++l) {
      if (l > 0) x = torch::matmul(x, w_ih_[l].t());
      s.h[l] = torch::tanh(x + b_ih_[l] + b_hh_[l] + torch::matmul(s.h[l], w_hh_[l].t()));
      x = s.h[l];
    }
    torch::Tensor out = torch::linear(x, out_->weight, out_->bias).contiguous();
    std::copy(out.data_ptr<float>(), out.data_ptr<float>() + shape_.num_labels, logits.begin());
  }

  void freeze() override {
    eval();
    if (!lstm_) return;
    torch::NoGradGuard no_grad;
    std::vector<FastLstmLayer> layers;
    for (size_t l = 0; l < w_ih_.size(); ++l) {
      FastLstmLayer layer;
      torch::Tensor w_ih = w_ih_[l];
      // An embedding folds into layer 0's input matrix: W_ih E^T maps a one-hot id straight to the gates.
      if (l == 0 && embedding_) w_ih = torch::matmul(w_ih, embedding_->weight.t());
      layer.input_size = static_cast<int>(w_ih.size(1));
      layer.hidden = params_.hidden;
      layer.w_ih = to_vector(w_ih);
      layer.w_hh = to_vector(w_hh_[l]);
      layer.bias = to_vector(b_ih_[l] + b_hh_[l]);
      layers.push_back(std::move(layer));
    }
    fast_ = std::make_shared<const FastLstm>(std::move(layers), to_vector(out_->weight), to_vector(out_->bias));
  }

 private:
  static std::vector<float> to_vector(const torch::Tensor& t) {
    torch::Tensor c = t.detach().to(torch::kFloat).contiguous();
    return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
  }

  // The tanh RNN's recurrence over [T, B, H] input projections.
  torch::Tensor rnn_layer(const torch::Tensor& gx, const torch::Tensor& w_hh) {
    std::vector<torch::Tensor> ys;
    ys.reserve(static_cast<size_t>(gx.size(0)));
    torch::Tensor h = torch::zeros({gx.size(1), w_hh.size(1)});
    for (int64_t t = 0; t < gx.size(0); ++t) {
      h = torch::tanh(torch::addmm(gx[t], h, w_hh.t()));
      ys.push_back(h);
    }
    return torch::stack(ys);
  }

  NetParams params_;
  NetShape shape_;
  bool lstm_ = true;
  torch::nn::Embedding embedding_{nullptr};
  std::vector<torch::Tensor> w_ih_, w_hh_, b_ih_, b_hh_;
  torch::nn::Linear out_{nullptr};
  std::shared_ptr<const FastLstm> fast_;
};

}  // namespace

std::shared_ptr<Net> make_recurrent_net(const NetParams& params, const NetShape& shape) {
  return std::make_shared<RecurrentNet>(params, shape);
}

}  // namespace antiphon::neural
