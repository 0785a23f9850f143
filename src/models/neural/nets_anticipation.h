#pragma once
// Anticipation-RNN (Hadjeres & Nielsen 2018): the helpers that go with the net that make_anticipation_net
// (nets.h) builds, for the trainer and the tests. LibTorch; include only from src/models/neural and src/train.
#include <torch/torch.h>

#include <cstdint>

namespace antiphon::neural {

// Steps of the all-free constraint sequence an anticipation net assumes when start() is given no constraints.
inline constexpr int kAnticipationHorizon = 64;

// Random unary constraints for training, as in the paper (section 3.2): per sequence a rate p ~ U(0, 0.5),
// then each real position is revealed (holds its token) with probability p and is free (free_id)
// otherwise. tokens [B, T] int64: token ids in [0, free_id), -100 at padding (always free in the result).
// Returns [B, T] int64. Throws ConfigError naming a token outside [0, free_id) that is not padding.
torch::Tensor random_constraints(const torch::Tensor& tokens, int free_id, torch::Generator& generator);
// The same with a generator seeded from `seed`: the same tokens and seed always give the same constraints.
torch::Tensor random_constraints(const torch::Tensor& tokens, int free_id, uint64_t seed);

}  // namespace antiphon::neural
