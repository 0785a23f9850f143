#pragma once
// Copies trained LibTorch LSTM weights into a FastLstm (fast_lstm.h) for batch-1 inference. Include only
// from translation units that use LibTorch.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "antiphon/core/error.h"
#include "models/neural/fast_lstm.h"

namespace antiphon::neural {

// One LSTM layer's parameters in PyTorch's layout: w_ih [4H, in], w_hh [4H, H], b_ih and b_hh [4H] (either
// bias may be undefined: a layer without bias).
struct TorchLstmLayer {
  torch::Tensor w_ih, w_hh, b_ih, b_hh;
};

namespace detail {

inline std::vector<float> floats_of(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

inline std::string shape_of(const torch::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

}  // namespace detail

// Throws ConfigError naming the tensor whose shape does not fit (layer k's input must be layer k-1's
// hidden size; out_w [labels, H_last], out_b [labels] or undefined).
inline FastLstm fast_lstm_from_torch(const std::vector<TorchLstmLayer>& layers, const torch::Tensor& out_w,
                                     const torch::Tensor& out_b, FastLstm::Isa isa = FastLstm::Isa::automatic) {
  torch::NoGradGuard no_grad;
  if (layers.empty()) throw ConfigError("fast_lstm_from_torch: no layers");
  std::vector<FastLstmLayer> fast;
  for (size_t l = 0; l < layers.size(); ++l) {
    const TorchLstmLayer& t = layers[l];
    const std::string where = "fast_lstm_from_torch: layer " + std::to_string(l) + ": ";
    if (!t.w_ih.defined() || !t.w_hh.defined()) throw ConfigError(where + "w_ih and w_hh are required");
    const int64_t h = t.w_hh.dim() == 2 ? t.w_hh.size(1) : 0;
    if (h < 1 || t.w_hh.size(0) != 4 * h) throw ConfigError(where + "w_hh has shape " + detail::shape_of(t.w_hh) + ", not [4H, H]");
    const int64_t in = l == 0 ? (t.w_ih.dim() == 2 ? t.w_ih.size(1) : 0) : fast.back().hidden;
    if (t.w_ih.dim() != 2 || t.w_ih.size(0) != 4 * h || t.w_ih.size(1) != in || in < 1)
      throw ConfigError(where + "w_ih has shape " + detail::shape_of(t.w_ih) + ", not [" + std::to_string(4 * h) + ", " +
                        std::to_string(in) + "]");
    torch::Tensor bias = torch::zeros({4 * h});
    for (const torch::Tensor* b : {&t.b_ih, &t.b_hh}) {
      if (!b->defined()) continue;
      if (b->dim() != 1 || b->size(0) != 4 * h)
        throw ConfigError(where + "a bias has shape " + detail::shape_of(*b) + ", not [" + std::to_string(4 * h) + "]");
      bias = bias + b->detach().to(torch::kCPU, torch::kFloat);
    }
    FastLstmLayer f;
    f.input_size = static_cast<int>(in);
    f.hidden = static_cast<int>(h);
    f.w_ih = detail::floats_of(t.w_ih);
    f.w_hh = detail::floats_of(t.w_hh);
    f.bias = detail::floats_of(bias);
    fast.push_back(std::move(f));
  }
  const int64_t top = fast.back().hidden;
  if (!out_w.defined() || out_w.dim() != 2 || out_w.size(1) != top || out_w.size(0) < 1)
    throw ConfigError("fast_lstm_from_torch: out_w has shape " + (out_w.defined() ? detail::shape_of(out_w) : "(undefined)") +
                      ", not [labels, " + std::to_string(top) + "]");
  const int64_t labels = out_w.size(0);
  if (out_b.defined() && (out_b.dim() != 1 || out_b.size(0) != labels))
    throw ConfigError("fast_lstm_from_torch: out_b has shape " + detail::shape_of(out_b) + ", not [" + std::to_string(labels) + "]");
  std::vector<float> bias = out_b.defined() ? detail::floats_of(out_b) : std::vector<float>(static_cast<size_t>(labels), 0.0f);
  return FastLstm(std::move(fast), detail::floats_of(out_w), std::move(bias), isa);
}

// The same from torch::nn::LSTM (unidirectional, no projection; its parameters weight_ih_l{k}, weight_hh_l{k},
// bias_ih_l{k}, bias_hh_l{k}) and the Linear that maps its top layer to label logits.
inline FastLstm fast_lstm_from_torch(const torch::nn::LSTM& lstm, const torch::nn::Linear& out,
                                     FastLstm::Isa isa = FastLstm::Isa::automatic) {
  const auto& o = lstm->options;
  if (o.bidirectional()) throw ConfigError("fast_lstm_from_torch: a bidirectional LSTM cannot run step by step");
  if (o.proj_size() != 0) throw ConfigError("fast_lstm_from_torch: proj_size=" + std::to_string(o.proj_size()) + " is not supported");
  const auto params = lstm->named_parameters(/*recurse=*/false);
  auto get = [&](const std::string& name) {
    const torch::Tensor* t = params.find(name);
    return t ? *t : torch::Tensor();
  };
  std::vector<TorchLstmLayer> layers;
  for (int64_t l = 0; l < o.num_layers(); ++l) {
    const std::string s = std::to_string(l);
    layers.push_back({get("weight_ih_l" + s), get("weight_hh_l" + s), get("bias_ih_l" + s), get("bias_hh_l" + s)});
  }
  return fast_lstm_from_torch(layers, out->weight, out->bias, isa);
}

}  // namespace antiphon::neural
