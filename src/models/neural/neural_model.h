#pragma once
// The neural families behind the one model interface: a Net (nets.h) read through a Codec (codec.h).
// Scoring runs one batched forward pass per melody; generation runs the net's batch-1 step() (FastLstm for
// the LSTMs). The model file's payload holds the net's architecture, the codec, the training history and
// the weights as a torch archive.
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "antiphon/models/model.h"
#include "antiphon/models/model_file.h"
#include "models/neural/codec.h"
#include "models/neural/nets.h"

namespace antiphon::neural {

// One epoch of a training run, as the model file keeps it.
struct EpochRecord {
  int epoch = 0;
  size_t steps = 0;          // optimiser steps so far
  double train_bits = 0;     // mean bits per token over the epoch's training batches
  double valid_bits = 0;     // bits per token on the validation melodies
  double learning_rate = 0;
  double seconds = 0;        // wall time since the run began
};

// Everything besides the weights that rebuilds a trained net.
struct NeuralSetup {
  NetParams net;
  NetShape shape;
  std::string codec = "tokens";
  std::vector<std::pair<std::string, std::string>> options;  // resolved spec options, shown by config()
  std::vector<EpochRecord> history;
  int best_epoch = 0;
  double best_valid_bits = 0;
};

class NeuralModel : public SequenceModel {
 public:
  // Freezes the net (eval mode, fast inference copies). Asserts the codec fits the encoding and the net.
  NeuralModel(ModelInfo info, std::shared_ptr<const Encoding> encoding, NeuralSetup setup, std::shared_ptr<Net> net,
              std::unique_ptr<Codec> codec);

  std::unique_ptr<ModelState> start(const Melody* source = nullptr) const override;
  // Anticipation nets: the state before the first token of a sequence whose steps must meet `constraints`
  // (one per step: a token id, or vocab_size() for free). Other nets ignore the constraints.
  std::unique_ptr<ModelState> start_constrained(std::span<const int64_t> constraints) const;
  // The same through the model interface (token -1: free); nullptr for nets without a constraint reader.
  std::unique_ptr<ModelState> start_with_constraints(const Melody* source, std::span<const int> tokens) const override;
  void predict(const ModelState& state, std::span<double> probs) const override;
  std::vector<double> token_log2_probs(std::span<const int> tokens, const Melody* source = nullptr) const override;
  void predict_all(std::span<const int> tokens, const Melody* source, const DistributionVisitor& visit) const override;
  std::vector<std::pair<std::string, std::string>> config() const override;
  void save_payload(ModelWriter& out) const override;

  const NeuralSetup& setup() const { return setup_; }
  const Codec& codec() const { return *codec_; }
  const Net& net() const { return *net_; }

 protected:
  void advance_state(ModelState& state, int token) const override;

 private:
  // Label log-probabilities [T, labels] of a whole token sequence in one forward pass.
  torch::Tensor label_log_probs(std::span<const int> tokens, const Melody* source) const;
  std::vector<int64_t> free_constraints(size_t steps) const;

  NeuralSetup setup_;
  std::shared_ptr<Net> net_;
  std::unique_ptr<Codec> codec_;
  bool token_codec_ = false;
};

// The weights of a net as torch archive bytes, and back (ModelFileError naming the file when the archive
// does not fit the architecture).
std::string net_to_bytes(Net& net);
void net_from_bytes(Net& net, const std::string& bytes, const std::string& file);

// The model file loader shared by every neural family (registry.h ModelFamily::load).
ModelPtr load_neural_model(const ModelHeader& header, std::shared_ptr<const Encoding> encoding, ModelReader& reader);

// The padded batch of these coded sequences (labels -100 and mask false on padding).
NetBatch make_batch(const std::vector<const CodedSequence*>& sequences, const Codec& codec);

}  // namespace antiphon::neural
