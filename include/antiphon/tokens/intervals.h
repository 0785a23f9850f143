#pragma once
// Interval tokens (Todd 1989): note-level like notes.h, but the pitch part of the first pitched note is its
// absolute pitch ("@60") and every later pitched note carries the semitone step from the previous pitched note
// ("+2", "-3", "0"); rests have their own token "r" and do not break the chain.
//   C4 quarter, eighth rest, D4 eighth, B3 half:  @60:1 r:1/2 +2:1/2 -3:2 </s>
#include <string>
#include <vector>

#include "antiphon/tokens/notes.h"

namespace antiphon {

struct IntervalConfig {
  std::vector<Duration> durations = default_note_durations();  // spec key "durations"
  int interval_min = -24;  // spec key "min": the largest step down, in semitones (inclusive)
  int interval_max = 24;   // spec key "max": the largest step up (inclusive)
  // Throws ConfigError naming the key and value: alphabet as NoteConfig, min > max, steps beyond +-127.
  void validate() const;
};

// Encoding spec "intervals[:min=-24,max=24,durations=..]". Pitch tokens: "@0".."@127" (absolute, id = midi),
// then the intervals min..max ("-24", .., "0", .., "+24"), then "r".
class IntervalEncoding : public PairEncoding {
 public:
  explicit IntervalEncoding(IntervalConfig config = {});  // validates

  std::string spec() const override;  // "intervals:min=-24,max=24", plus durations when not the default
  // Throws EncodingError naming the note when a step lies outside [min, max], a duration is not in the
  // alphabet, the notes are not back to back, or a rest cannot be split into alphabet values.
  std::vector<NoteToken> encode_pairs(const Melody& melody) const override;
  // An interval before any absolute pitch, or one leading outside MIDI 0..127, is an error naming the
  // position. A later absolute pitch is accepted (it restarts the chain).
  Melody decode_pairs(const std::vector<NoteToken>& pairs) const override;

  const IntervalConfig& config() const { return config_; }
  int absolute_id(int midi) const { return midi; }
  int interval_id(int semitones) const;  // -1 outside [min, max]

 private:
  IntervalConfig config_;
};

}  // namespace antiphon
