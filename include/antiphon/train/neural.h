#pragma once
// The neural model families (LibTorch): linear and mlp (window models), rnn and lstm, melody_rnn (Magenta's
// basic, mono, lookback and attention configurations), anticipation (Anticipation-RNN) and transformer.
// They train through src/train (padded batches of whole melodies, early stopping, checkpoints and resume)
// and answer the one model interface (models/model.h) like every other family.
namespace antiphon {

// Adds the neural families to the registry (models/registry.h). Call once at start-up.
void register_neural_families();

}  // namespace antiphon
