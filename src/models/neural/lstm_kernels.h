#pragma once
// LSTM training kernels (LibTorch). The recurrence of one LSTM layer as a single autograd function whose
// forward and backward batch every matmul that does not depend on the previous step: the caller computes
// the input projections of all steps in one matmul (or an embedding lookup for one-hot inputs), the
// recurrence does one [B, H] x [H, 4H] matmul per step forward and backward, and the weight gradient of
// w_hh is one large matmul over all steps after the backward loop.
// Gate order and layout are PyTorch's (torch::nn::LSTM): rows [i; f; g; o] of w_hh [4H, H]; bias terms
// belong in gates_x. Results equal torch::nn::LSTM's (forward and gradients) within float rounding.
// Float and double tensors on the CPU; shape errors throw ConfigError naming the shapes. Backward may run
// more than once (retain_graph) but is not itself differentiable (no double backward). A pass splits the
// batch rows over torch::get_num_threads() threads (the rows never meet), and buffers are recycled across
// calls on the same thread. lstm_layer is the faster entry point: it also keeps the input projection out of
// a separate [T, B, 4H] tensor.
#include <torch/torch.h>

#include <tuple>

namespace antiphon::neural {

// gates_x [T, B, 4H]: x_t W_ih^T + b_ih + b_hh for every step; w_hh [4H, H]; h0, c0 [B, H] (zeros when
// undefined). Returns y [T, B, H] (the hidden states), and the last h and c [B, H]. Differentiable with
// respect to gates_x, w_hh, h0 and c0.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> lstm_recurrence(const torch::Tensor& gates_x,
                                                                        const torch::Tensor& w_hh,
                                                                        const torch::Tensor& h0 = {},
                                                                        const torch::Tensor& c0 = {});

// One LSTM layer's weights in PyTorch's layout: w_ih [4H, I], w_hh [4H, H], b_ih and b_hh [4H].
struct LstmLayerWeights {
  torch::Tensor w_ih, w_hh, b_ih, b_hh;
};

// A whole LSTM layer, its input projection inside the same autograd function: x is [T, B, I] features, or
// [T, B] int64 ids of one-hot inputs over I = w_ih.size(1) classes (throws ConfigError naming an id outside
// 0..I-1). For features the projections of all steps are one matmul written straight into the gate buffer;
// for ids each step copies its rows of the table W_ih^T + b in. No [T, B, 4H] tensor of input projections is
// made, and backward turns the gate gradients into dW_ih and dx with one matmul each (for ids, a sum per
// class). Returns as lstm_recurrence; differentiable with respect to x (features), the weights, h0 and c0.
// Equals lstm_recurrence on x W_ih^T + b_ih + b_hh (tests check both against torch::nn::LSTM).
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> lstm_layer(const torch::Tensor& x, const LstmLayerWeights& w,
                                                                   const torch::Tensor& h0 = {},
                                                                   const torch::Tensor& c0 = {});

}  // namespace antiphon::neural
