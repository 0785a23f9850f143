#pragma once
// The model families: how to train one from a spec and melodies, and how to load one from a model file.
// `antiphon train`, `antiphon eval` and the server go through here and never name a family themselves.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "antiphon/core/melody.h"
#include "antiphon/models/model.h"
#include "antiphon/models/model_file.h"
#include "antiphon/models/spec.h"
#include "antiphon/tokens/target.h"

namespace antiphon {

// Where a long training run stands (neural families), for progress bars and the server.
struct TrainProgress {
  int epoch = 0;               // 1-based, the epoch under way
  int epochs = 0;              // the most epochs the run will take
  size_t step = 0;             // optimiser steps so far (all epochs)
  size_t steps_per_epoch = 0;
  double train_loss = 0;       // bits per token, running mean over the epoch so far
  double valid_loss = -1;      // bits per token after the last finished epoch (-1 before the first)
  double tokens_per_s = 0;
  double fraction = 0;         // 0..1 of the planned run
  bool checkpoint_written = false;
};

// What a family trains on.
struct TrainingData {
  const std::vector<Melody>* melodies = nullptr;  // training melodies (not owned)
  // The encoding the model predicts. When null the family picks its default (see each family's header) and
  // builds it from the melodies (e.g. the pitch alphabet of the corpus).
  std::shared_ptr<const Encoding> encoding;
  std::string corpus;               // description for ModelInfo::corpus
  std::string corpus_fingerprint;   // for ModelInfo::corpus_fingerprint
  uint64_t seed = 1;                // for families with random initialisation (HMM restarts)
  LogFn log;                        // progress messages (may be empty)
  // Long-running (neural) families only; the counting families ignore these.
  int threads = 0;                  // compute threads (0 = hardware concurrency)
  int epochs = 0;                   // overrides the spec's epochs when > 0
  std::string checkpoint;           // checkpoint file, written atomically every checkpoint_every steps ("" = none)
  size_t checkpoint_every = 0;      // steps between checkpoints (0 = once per epoch when `checkpoint` is set)
  bool resume = false;              // continue from `checkpoint` when it exists
  std::function<void(const TrainProgress&)> progress;
  const std::atomic<bool>* cancel = nullptr;  // set to stop training early (Cancelled is thrown)
};

struct ModelFamily {
  std::string name;     // "ppm"
  std::string summary;  // one line for `antiphon train --help`
  // Trains a model. Throws ConfigError for a bad option (SpecReader::finish for unknown ones) and
  // EncodingError when a melody cannot be encoded (naming it).
  std::function<ModelPtr(const ModelSpec&, const TrainingData&)> train;
  // Rebuilds a model from its header and payload. Throws ModelFileError.
  std::function<ModelPtr(const ModelHeader&, std::shared_ptr<const Encoding>, ModelReader&)> load;
  // The encoding spec the family trains on when given none (e.g. "events:range=basic" for Melody RNN);
  // empty, or no function, for the counting families' default, the target encoding of the data.
  std::function<std::string(const ModelSpec&)> default_encoding;
};

// The families compiled in: markov, mixed, ppm, hmm (neural ones add themselves with add_model_family).
const std::vector<ModelFamily>& model_families();
// nullptr when unknown.
const ModelFamily* find_model_family(const std::string& name);
// Throws ConfigError "unknown model family 'x' (known: ...)".
const ModelFamily& require_model_family(const std::string& name);
// Registers another family (replacing one with the same name). Not thread-safe: call at start-up.
void add_model_family(ModelFamily family);

// data.encoding, or when it is null the default of the counting families: the `pitch` target encoding
// (tokens/target.h) over every pitch of the training melodies.
std::shared_ptr<const Encoding> training_encoding(const TrainingData& data);

// Trains a model from a spec; throws ConfigError for an unknown family (listing the known ones).
ModelPtr train_model(const ModelSpec& spec, const TrainingData& data);

// Where a melody came from, for messages: "fink/deut0123.krn", "tunes.abc:40", "'Title'" or "a melody".
std::string melody_label(const Melody& melody);
// Encodes a melody, naming it in the error when it cannot be encoded:
// "fink/deut0123.krn: note 12 (onset 11/2): ...".
std::vector<int> encode_melody(const Encoding& encoding, const Melody& melody);
// encode_melody for each melody: one sequence per melody, in order (possibly empty).
std::vector<std::vector<int>> encode_melodies(const Encoding& encoding, const std::vector<Melody>& melodies);

}  // namespace antiphon
