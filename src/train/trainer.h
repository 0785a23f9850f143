#pragma once
// The training loop of every neural family: whole melodies in padded batches, a train/validation split by
// melody, Adam with gradient clipping and a learning-rate schedule, early stopping on the validation loss,
// optional transposition augmentation, deterministic seeds, atomic checkpoints and resume.
#include <string>
#include <vector>

#include "antiphon/models/registry.h"
#include "models/neural/codec.h"
#include "models/neural/neural_model.h"
#include "models/neural/nets.h"

namespace antiphon::neural {

struct TrainConfig {
  int epochs = 20;
  int batch = 64;               // melodies per batch
  double learning_rate = 1e-3;  // Adam
  double clip = 5;              // global gradient norm (0 = none)
  double valid = 0.1;           // share of melodies held out for validation and early stopping
  int patience = 3;             // epochs without a better validation loss before stopping (0 = never stop)
  std::string schedule = "plateau";  // plateau (halve on no improvement) | cosine | constant
  int augment = 0;              // transpose each training melody by a random -augment..augment semitones per epoch
  double weight_decay = 0;      // Adam L2
  // Throws ConfigError naming the option and value.
  void validate() const;
};

struct TrainRun {
  std::vector<EpochRecord> history;
  int best_epoch = 0;
  double best_valid_bits = 0;
  size_t train_melodies = 0;
  size_t valid_melodies = 0;
  size_t skipped = 0;           // melodies the encoding cannot represent (logged)
  size_t tokens = 0;            // training tokens per epoch (before augmentation)
  bool stopped_early = false;
  bool resumed = false;
};

// Trains `net` in place and leaves it with the weights of its best validation epoch. `identity` (the model
// spec and encoding) is stored in checkpoints and must match on resume. Throws ConfigError (too few melodies
// for a split or a batch, a checkpoint of another model), TrainingError (the loss became NaN; names the last
// good checkpoint), Cancelled, IoError (a checkpoint cannot be written).
TrainRun train_net(Net& net, const Codec& codec, const Encoding& encoding, const TrainingData& data,
                   const TrainConfig& config, const std::string& identity);

}  // namespace antiphon::neural
