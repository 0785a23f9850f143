#pragma once
// Torch-free: how a network reads a token sequence of its model's encoding, and what it predicts.
// Step t's input is made from tokens[0, t) (at t = 0 from nothing: a start id or a zero vector) and the
// network's label at step t stands for tokens[t]. Every token is predicted, the first one included (Magenta
// predicts from the second event on; here the first event is predicted from the start input).
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "antiphon/tokens/encoding.h"

namespace antiphon {
class LookbackEncoding;
class AttentionEncoding;
class PairEncoding;
}  // namespace antiphon

namespace antiphon::neural {

// A whole sequence coded for training or batched scoring.
struct CodedSequence {
  size_t steps = 0;                 // = tokens.size()
  std::vector<int64_t> input_ids;   // id inputs: `steps` ids (the previous token, or start_id() at t = 0)
  std::vector<float> features;      // feature inputs: steps * input_size() floats, row-major
  std::vector<int64_t> labels;      // `steps` labels in [0, num_labels())
};

class Codec {
 public:
  virtual ~Codec() = default;
  virtual std::string name() const = 0;  // "tokens", "lookback", "attention"
  // Inputs are ids in [0, input_vocab()) when input_size() == 0, else vectors of input_size() floats.
  virtual int input_size() const = 0;
  virtual int input_vocab() const = 0;
  virtual int num_labels() const = 0;
  // Throws EncodingError (naming the position) when a token is outside what the codec can read.
  virtual CodedSequence code(std::span<const int> tokens) const = 0;
  // The input of step history.size(): an id (id codecs) ...
  virtual int64_t input_id(std::span<const int> history) const = 0;
  // ... or input_size() floats written to `features` (feature codecs).
  virtual void input_features(std::span<const int> history, std::span<float> features) const = 0;
  // P(next token) over the encoding's vocabulary (token_probs.size()) from the network's label distribution
  // at step history.size() (label_probs.size() == num_labels()). For the plain token codec the identity; for
  // lookback codecs a token's probability is the sum over the labels that stand for it there.
  virtual void token_probs(std::span<const int> history, std::span<const double> label_probs,
                           std::span<double> token_probs) const = 0;
};

// The codec that reads tokens as ids: input at step t is tokens[t - 1], or start id = vocab size at t = 0;
// labels are the token ids. input_vocab = vocab + 1, num_labels = vocab.
class TokenCodec : public Codec {
 public:
  explicit TokenCodec(int vocab_size);
  std::string name() const override { return "tokens"; }
  int input_size() const override { return 0; }
  int input_vocab() const override { return vocab_ + 1; }
  int num_labels() const override { return vocab_; }
  int64_t start_id() const { return vocab_; }
  CodedSequence code(std::span<const int> tokens) const override;
  int64_t input_id(std::span<const int> history) const override;
  void input_features(std::span<const int> history, std::span<float> features) const override;
  void token_probs(std::span<const int> history, std::span<const double> label_probs,
                   std::span<double> token_probs) const override;

 private:
  int vocab_;
};

// Magenta's lookback_rnn inputs and labels (tokens/lookback.h): 121 input floats, 40 labels for the basic range.
std::unique_ptr<Codec> make_lookback_codec(const LookbackEncoding& encoding);   // codec_features.cpp
// Magenta's attention_rnn key-melody inputs and labels (tokens/key_melody.h): 74 input floats, 40 labels.
std::unique_ptr<Codec> make_attention_codec(const AttentionEncoding& encoding);  // codec_features.cpp
// Note-level features of (pitch part, duration) tokens (tokens/notes.h, tokens/intervals.h) for the note_lstm
// net: step t reads token t - 1 as one-hots of the last pitched note (an absolute pitch token), its duration,
// the step from the previous pitched note (-12..+12, clamped), the pitch class of the last pitched note, rest
// and start flags, the onset of token t in 16ths modulo a whole note (or off the 16th grid), the last pitch's
// interval class above the first, the share of each pitch class so far; with `repeats`, also what followed
// the longest earlier occurrences of the latest tokens, pitches and steps (a short-term model's guesses).
// Labels are the joint token ids. Codec names: "notes" (with repeats), "notes_basic" (without).
std::unique_ptr<Codec> make_note_codec(const PairEncoding& encoding, bool repeats = true);  // codec_notes.cpp

// Builds a codec by name for a model's encoding: "tokens" (any encoding), "lookback" (needs a
// LookbackEncoding, tokens/lookback.h), "attention" (needs an AttentionEncoding, tokens/key_melody.h),
// "notes" and "notes_basic" (need a PairEncoding: notes or intervals, tokens/notes.h).
// Throws ConfigError naming the codec and the encoding when they do not fit.
std::unique_ptr<Codec> make_codec(const std::string& name, const Encoding& encoding);

}  // namespace antiphon::neural
