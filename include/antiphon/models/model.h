#pragma once
// The one interface every model family answers (Markov chains, PPM, HMMs, and later the neural models), so
// samplers, constraints, analysis and the server never branch on the family.
//
// A model predicts the tokens of its encoding (tokens/encoding.h) one after another: P(x_i | x_<i). Use it
// through a state: start() gives the state before the first token, predict() the distribution over the next
// token, advance() feeds the token that came. Models are immutable once trained and shared between threads
// (std::shared_ptr<const SequenceModel>); a state belongs to one caller.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "antiphon/core/melody.h"
#include "antiphon/tokens/encoding.h"

namespace antiphon {

// What every model file carries besides the family's own parameters.
struct ModelInfo {
  std::string family;            // "markov", "ppm", "hmm", ...
  std::string spec;              // the full model spec it was trained from, "ppm:order=star,escape=C"
  std::string encoding;          // the encoding spec (make_encoding rebuilds it)
  std::string corpus;            // where the training melodies came from (a path or a description)
  std::string corpus_fingerprint;  // Corpus::fingerprint of the training melodies ("" when unknown)
  size_t training_melodies = 0;
  size_t training_tokens = 0;
};

// Per-caller prediction state: the tokens fed so far and whatever the family keeps to predict quickly
// (a context node, a forward vector, a short-term model). Copyable through clone() for beam search.
class ModelState {
 public:
  virtual ~ModelState() = default;
  virtual std::unique_ptr<ModelState> clone() const = 0;
  // The tokens fed so far.
  const std::vector<int>& history() const { return history_; }

 protected:
  std::vector<int> history_;
  friend class SequenceModel;
};

class SequenceModel {
 public:
  virtual ~SequenceModel() = default;

  const ModelInfo& info() const { return info_; }
  const Encoding& encoding() const { return *encoding_; }
  size_t vocab_size() const { return encoding().vocab().size(); }

  // The state before the first token. `source`, when given, is the melody being scored or continued:
  // models that read more than the tokens (PPM viewpoints: key, durations and inter-onset intervals of the
  // notes whose pitch is predicted) take it from there; the state copies what it needs (source may die).
  virtual std::unique_ptr<ModelState> start(const Melody* source = nullptr) const = 0;
  // Writes P(next token | history) into probs (size vocab_size()); the values sum to 1 (within 1e-9).
  virtual void predict(const ModelState& state, std::span<double> probs) const = 0;
  // Feeds the token that came. Asserts 0 <= token < vocab_size().
  void advance(ModelState& state, int token) const;

  // log2 P(token_i | tokens_<i) for every position: the information content in bits is the negative.
  // The default runs start/predict/advance; families override it when they have a faster path.
  virtual std::vector<double> token_log2_probs(std::span<const int> tokens, const Melody* source = nullptr) const;
  double log2_prob(std::span<const int> tokens, const Melody* source = nullptr) const;
  // The whole predictive distribution before each token: visit(i, P(. | tokens_<i)) for i = 0..size-1, in
  // order (probs has vocab_size() entries and is only valid during the call). The default runs
  // start/predict/advance; families with a batched forward pass override it.
  using DistributionVisitor = std::function<void(size_t position, std::span<const double> probs)>;
  virtual void predict_all(std::span<const int> tokens, const Melody* source,
                           const DistributionVisitor& visit) const;

  // A key of the state such that two states of this model with equal keys give the same predictions for
  // every continuation: the Markov state (a Markov chain's last `order` tokens, a PPM context). Generation
  // builds its exact constraint lattice on it. nullopt (the default) when the state depends on the whole
  // history; the lattice then keys on the history itself.
  virtual std::optional<std::string> state_key(const ModelState& state) const;
  // state_key of the state after `token`, without building that state when the family knows a shortcut (the
  // default clones and advances).
  virtual std::optional<std::string> next_state_key(const ModelState& state, int token) const;
  // Models that read per-position constraints (Anticipation-RNN): the state before the first token of a
  // sequence whose position i must hold tokens[i] (-1: free), with `source` as for start(). nullptr (the
  // default) when the model does not read constraints.
  virtual std::unique_ptr<ModelState> start_with_constraints(const Melody* source, std::span<const int> tokens) const;

  // The family's resolved options (every option, defaults included) and what training found (final
  // likelihood, fitted weights), written to the model file's header and shown by `antiphon info`.
  // info().spec is the spec that retrains a model like this one.
  virtual std::vector<std::pair<std::string, std::string>> config() const = 0;
  // The family's numbers for the model file (see model_file.h); the family's loader reads them back.
  virtual void save_payload(class ModelWriter& out) const = 0;

 protected:
  // Every family's model carries what it was trained from and the encoding it predicts (asserted non-null).
  SequenceModel(ModelInfo info, std::shared_ptr<const Encoding> encoding);
  // Family-specific part of advance(); history is appended by advance() after this returns.
  virtual void advance_state(ModelState& state, int token) const = 0;

 private:
  ModelInfo info_;
  std::shared_ptr<const Encoding> encoding_;
};

using ModelPtr = std::shared_ptr<const SequenceModel>;

}  // namespace antiphon
