#pragma once
// Token encodings: a melody <-> a sequence of token ids over a fixed vocabulary.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/core/melody.h"

namespace antiphon {

class Vocab {
 public:
  Vocab() = default;
  explicit Vocab(std::vector<std::string> tokens);  // asserts no duplicates
  size_t size() const { return tokens_.size(); }
  const std::string& token(int id) const;            // asserts 0 <= id < size
  int id(std::string_view token) const;              // -1 when absent
  const std::vector<std::string>& tokens() const { return tokens_; }
  friend bool operator==(const Vocab& a, const Vocab& b) { return a.tokens_ == b.tokens_; }

 private:
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int> index_;
};

// One encoding of melodies as token sequences. encode() throws EncodingError when the melody cannot be
// represented exactly (naming the note and why), never rounds; decode(encode(m)) gives back m's notes
// (pitches, onsets, durations) for every representable m.
class Encoding {
 public:
  virtual ~Encoding() = default;
  // Short name and parameters, parseable by make_encoding: "grid:steps=4", "events:range=basic".
  virtual std::string spec() const = 0;
  virtual const Vocab& vocab() const = 0;
  virtual std::vector<int> encode(const Melody& melody) const = 0;
  // Rebuilds notes from tokens (meter and key default; copy them from the source melody as needed).
  // Throws EncodingError on an id out of range or an impossible sequence (naming the position).
  virtual Melody decode(const std::vector<int>& tokens) const = 0;
  // The id of the end-of-melody symbol, or -1 when the encoding has none.
  virtual int end_id() const { return -1; }
  // When `token` starts a pitched note: every token that would start a note the same way but with another
  // pitch (`token` itself included; same duration where the token carries one), in vocabulary order. Empty
  // when `token` starts no pitched note (a hold, a rest, the end). Scoring a model on pitch alone renormalises
  // its prediction over these (analysis/evaluate.h).
  virtual std::vector<int> pitch_alternatives(int token) const = 0;
};

// Builds an encoding from a spec "name[:key=value,...]"; throws ConfigError naming the bad part.
// Names: grid, events, notes, intervals, pitch, pitchdur (target.h).
std::unique_ptr<Encoding> make_encoding(const std::string& spec);
// Also: lookback and attention (Melody RNN event classes with Magenta's lookback / key-melody features).
// The concrete classes and their configs: grid.h, events.h, lookback.h, key_melody.h, notes.h, intervals.h.

// The tokens as readable text separated by spaces, e.g. "60 _ _ _ r _ 62 _ </s>"; an id outside the
// vocabulary shows as "<?id>".
std::string describe_tokens(const Encoding& encoding, const std::vector<int>& tokens);

}  // namespace antiphon
