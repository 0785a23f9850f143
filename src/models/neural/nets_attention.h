#pragma once
// The attention_lstm net (make_attention_lstm_net, nets.h): Melody RNN's attention_rnn, a stack of LSTM layers
// whose first layer attends over its own last attn_length outputs. Its inference state, for callers that
// want to see where the net looked. LibTorch; include only from src/models/neural and src/train.
#include <torch/torch.h>

#include <memory>
#include <vector>

#include "models/neural/nets.h"

namespace antiphon::neural {

class AttentionLstmState : public NetState {
 public:
  std::unique_ptr<NetState> clone() const override;

  // The attention weights of the last step (attn_length values summing to 1; empty before the first step).
  // Slot j holds the first layer's output of step t - attn_length + j, t being the last step fed, so the
  // last slot is the step just before it; slots before the first step hold zero vectors.
  const std::vector<float>& attention() const { return weights; }

  // The recurrent state (batch 1). step() replaces these tensors rather than writing into them.
  std::vector<torch::Tensor> h, c;  // per layer [1, H]
  torch::Tensor attns;              // [1, A]: the last attention read-out
  torch::Tensor attn_states;        // [1, L, A]: the first layer's last L outputs, oldest first
  torch::Tensor attn_features;      // [1, L, V]: attn_states projected by attn_w (kept to project each output once)
  std::vector<float> weights;       // what attention() returns
};

}  // namespace antiphon::neural
