#pragma once
// The "seed" grid encoding: one token per grid step (16th notes by default). A note is its MIDI number on
// its onset step followed by holds "_"; a rest is "r" followed by holds; "</s>" ends the melody.
//   C4 quarter, quarter rest, D4 eighth at 4 steps per quarter:  60 _ _ _ r _ _ _ 62 _ </s>
#include <string>
#include <vector>

#include "antiphon/tokens/encoding.h"

namespace antiphon {

struct GridConfig {
  int steps_per_quarter = 4;  // spec key "steps": 4 = 16th notes; 12 also holds 8th and 16th triplets
  int pitch_min = 0;          // spec key "min": lowest MIDI pitch with a token (inclusive)
  int pitch_max = 127;        // spec key "max": highest MIDI pitch with a token (inclusive)
  // Throws ConfigError naming the key and value: steps outside 1..960, pitches outside 0..127, min > max.
  void validate() const;
  friend bool operator==(const GridConfig&, const GridConfig&) = default;
};

// Vocabulary: the pitches pitch_min..pitch_max ("48", ...; id = midi - pitch_min), then "_" (hold), "r" (rest),
// "</s>" (end). Adjacent rests encode as one rest ("r _ _ _"), and decode merges them.
class GridEncoding : public Encoding {
 public:
  explicit GridEncoding(GridConfig config = {});  // validates

  // "grid:steps=4", plus ",min=..,max=.." when the pitch range is not 0..127.
  std::string spec() const override;
  const Vocab& vocab() const override { return vocab_; }
  // Throws EncodingError naming the note (index, pitch, onset, duration) and the grid when an onset or a
  // duration is not a whole number of steps or a pitch lies outside the range; never rounds.
  std::vector<int> encode(const Melody& melody) const override;
  // Tokens after "</s>" and a hold with nothing before it are errors naming the position; a sequence
  // without "</s>" decodes to its end.
  Melody decode(const std::vector<int>& tokens) const override;
  int end_id() const override { return end_id_; }
  std::vector<int> pitch_alternatives(int token) const override;  // every pitch token

  const GridConfig& config() const { return config_; }
  int hold_id() const { return hold_id_; }
  int rest_id() const { return rest_id_; }
  int pitch_id(int midi) const;  // -1 outside the range

 private:
  GridConfig config_;
  Vocab vocab_;
  int hold_id_ = 0;
  int rest_id_ = 0;
  int end_id_ = 0;
};

}  // namespace antiphon
