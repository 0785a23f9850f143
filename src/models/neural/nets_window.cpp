// Window nets: the linear autoregressive softmax model (hidden = 0: a fully visible sigmoid/softmax belief
// net over the `window` previous inputs, NADE-like) and the one-hidden-layer MLP over the same window.
// The window at step t holds inputs t-window+1 .. t; positions before the sequence start hold the start id
// (the last input id) or, for feature inputs, zero vectors. Each batch row is one sequence starting at
// column 0, so a window never reaches into another sequence.
//
// Parameters (shared across positions):
//   window_weight [window, n, d]  row [k][i]: what input i at lag k (step t-k) adds; n = input_vocab (ids,
//                                 i.e. a one-hot window times a matrix) or input_size (features);
//                                 d = num_labels (linear) or hidden (MLP)
//   window_bias   [d]
//   out.weight [num_labels, hidden], out.bias [num_labels]   MLP only: logits = out(tanh(window sum)).
// Inference reads the parameters directly (no torch ops per step), so step() needs no freeze().
#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>

#include "antiphon/core/error.h"
#include "models/neural/nets.h"

namespace antiphon::neural {
namespace {

class WindowState : public NetState {
 public:
  std::unique_ptr<NetState> clone() const override { return std::make_unique<WindowState>(*this); }
  std::vector<int64_t> ids;    // id inputs by lag: ids[k] is the input k steps back
  std::vector<float> features;  // feature inputs by lag: window * input_size floats
  std::vector<float> sum;      // scratch: the window sum (d floats)
};

class WindowNet : public Net {
 public:
  WindowNet(const NetParams& params, const NetShape& shape) : params_(params), shape_(shape) {
    if (params.window < 1 || params.window > 512)
      throw ConfigError("window=" + std::to_string(params.window) + " is outside 1..512");
    if (params.hidden < 0 || params.hidden > 8192)
      throw ConfigError("hidden=" + std::to_string(params.hidden) + " is outside 0..8192");
    if (params.dropout < 0 || params.dropout >= 1)
      throw ConfigError("dropout=" + std::to_string(params.dropout) + " is outside [0, 1)");
    if (shape.input_size <= 0 && shape.input_vocab < 1)
      throw ConfigError("input_vocab=" + std::to_string(shape.input_vocab) + " leaves no start id");
    n_ = shape.input_size > 0 ? shape.input_size : shape.input_vocab;
    d_ = params.hidden > 0 ? params.hidden : shape.num_labels;
    // torch's Linear initialisation for the equivalent [window * n] -> d layer.
    const double k = 1.0 / std::sqrt(static_cast<double>(params.window) * n_);
    window_weight_ = register_parameter("window_weight", torch::empty({params.window, n_, d_}).uniform_(-k, k));
    window_bias_ = register_parameter("window_bias", torch::empty({d_}).uniform_(-k, k));
    if (params.hidden > 0) out_ = register_module("out", torch::nn::Linear(params.hidden, shape.num_labels));
  }

  torch::Tensor forward(const NetBatch& batch) override {
    const int64_t w = params_.window;
    torch::Tensor sum;  // [B, T, d]
    if (shape_.input_size > 0) {
      const int64_t b = batch.features.size(0), t = batch.features.size(1);
      // Zeros before the start, then windows of w steps: [B, T, F, w] with the oldest input first.
      torch::Tensor padded = torch::cat({torch::zeros({b, w - 1, n_}), batch.features}, 1);
      torch::Tensor windows = padded.unfold(1, w, 1).transpose(2, 3).reshape({b, t, w * n_});
      // Slot j of a window is lag w-1-j.
      sum = torch::matmul(windows, window_weight_.flip(0).reshape({w * n_, d_})) + window_bias_;
    } else {
      const int64_t b = batch.ids.size(0), t = batch.ids.size(1);
      torch::Tensor padded = torch::cat({torch::full({b, w - 1}, start_id(), torch::kLong), batch.ids}, 1);
      torch::Tensor windows = padded.unfold(1, w, 1);  // [B, T, w], oldest first
      // Row i of lag k's table is row k*n + i of the flattened weight.
      torch::Tensor lag_offsets = torch::arange(w - 1, -1, -1, torch::kLong) * n_;
      torch::Tensor rows = (windows + lag_offsets).reshape({b * t, w});
      namespace F = torch::nn::functional;
      sum = F::embedding_bag(rows, window_weight_.reshape({w * n_, d_}), F::EmbeddingBagFuncOptions().mode(torch::kSum))
                .reshape({b, t, d_}) +
            window_bias_;
    }
    if (!out_) return sum;
    torch::Tensor h = torch::tanh(sum);
    if (params_.dropout > 0) h = torch::dropout(h, params_.dropout, is_training());
    return out_->forward(h);
  }

  std::unique_ptr<NetState> start(std::span<const int64_t>) const override {
    auto s = std::make_unique<WindowState>();
    const auto w = static_cast<size_t>(params_.window);
    if (shape_.input_size > 0) s->features.assign(w * static_cast<size_t>(n_), 0.0f);
    else s->ids.assign(w, start_id());
    s->sum.resize(static_cast<size_t>(d_));
    return s;
  }

  void step(NetState& state, int64_t input_id, std::span<const float> features, std::span<float> logits) const override {
    auto& s = static_cast<WindowState&>(state);
    assert(logits.size() == static_cast<size_t>(shape_.num_labels));
    const auto n = static_cast<size_t>(n_), d = static_cast<size_t>(d_);
    const torch::Tensor weight = window_weight_.contiguous();
    const float* w = weight.data_ptr<float>();
    const torch::Tensor bias = window_bias_.contiguous();
    std::copy(bias.data_ptr<float>(), bias.data_ptr<float>() + d, s.sum.begin());
    if (shape_.input_size > 0) {
      assert(features.size() == n);
      // Shift the window one lag back and put the new input at lag 0.
      std::copy_backward(s.features.begin(), s.features.end() - static_cast<std::ptrdiff_t>(n), s.features.end());
      std::copy(features.begin(), features.end(), s.features.begin());
      for (size_t i = 0; i < s.features.size(); ++i) {
        const float x = s.features[i];
        if (x == 0.0f) continue;  // one-hot style features are mostly zero
        const float* row = w + i * d;
        for (size_t j = 0; j < d; ++j) s.sum[j] += x * row[j];
      }
    } else {
      if (input_id < 0 || input_id >= n_)
        throw ConfigError("input id " + std::to_string(input_id) + " is outside 0.." + std::to_string(n_ - 1));
      std::copy_backward(s.ids.begin(), s.ids.end() - 1, s.ids.end());
      s.ids[0] = input_id;
      for (size_t k = 0; k < s.ids.size(); ++k) {
        const float* row = w + (k * n + static_cast<size_t>(s.ids[k])) * d;
        for (size_t j = 0; j < d; ++j) s.sum[j] += row[j];
      }
    }
    if (!out_) {
      std::copy(s.sum.begin(), s.sum.end(), logits.begin());
      return;
    }
    for (float& x : s.sum) x = std::tanh(x);
    const torch::Tensor out_weight = out_->weight.contiguous();
    const torch::Tensor out_bias = out_->bias.contiguous();
    const float* ow = out_weight.data_ptr<float>();
    const float* ob = out_bias.data_ptr<float>();
    for (size_t l = 0; l < logits.size(); ++l) {
      const float* row = ow + l * d;
      float acc = 0.0f;
      for (size_t j = 0; j < d; ++j) acc += row[j] * s.sum[j];
      logits[l] = ob[l] + acc;
    }
  }

 private:
  int64_t start_id() const { return shape_.input_vocab - 1; }

  NetParams params_;
  NetShape shape_;
  int64_t n_ = 0;  // rows per lag: input_vocab or input_size
  int64_t d_ = 0;  // width of the window sum: num_labels or hidden
  torch::Tensor window_weight_, window_bias_;
  torch::nn::Linear out_{nullptr};
};

}  // namespace

std::shared_ptr<Net> make_window_net(const NetParams& params, const NetShape& shape) {
  return std::make_shared<WindowNet>(params, shape);
}

}  // namespace antiphon::neural
