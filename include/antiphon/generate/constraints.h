#pragma once
// One constraint language for every model. Constraints describe the generated region on a grid of steps
// (16th notes by default) counted from the region's start, and the pitches of the notes that start in it:
//
//   per step     free | onset (some note starts here) | pitch set (a note of one of these pitches starts
//                here; a fixed pitch is a set of one) | hold (nothing starts: the sound before goes on) |
//                rest (silence sounds here)
//   pitches      a pitch-class set (a key's scale or any set) and a range for every note of the region, and
//                the same for a span of steps
//   contour      per note of the region: up, down or same as the note before (the context's last note for
//                the first), or any
//   final        the pitch classes the region's last note may have (an answer that closes on the tonic)
//   fixed rhythm onsets given, pitches free: a list of durations, expanded into onset / hold / rest steps
//
// JSON (parse_constraints):
//   { "steps_per_quarter": 4,
//     "steps": "C4 - - - * - . . r - - - C4|E4|G4 - . .",   (or an array of these words; one per step:
//              a pitch "C4"/"F#5"/"60" or several joined by '|', "*" onset, "-" hold, "r" rest, "." free)
//     "rhythm": ["1", "1/2", "r1/2", "2"],                  (quarters; "r" marks a rest; instead of "steps")
//     "key": "G major",  or "pitch_classes": ["G", "A", "B", 0, 2],
//     "range": ["C4", "G5"],
//     "spans": [ { "from": 0, "to": 16, "key": "D dorian", "range": ["D4", "D5"] } ],   (steps, [from, to))
//     "contour": "UUD*S",                                    (U up, D down, S same, * any; one per note)
//     "final": ["G"] }
// Unknown fields, bad pitch names, a range with low > high, an empty pitch-class set, steps outside the
// region: ConfigError (or ParseError with line and column for malformed JSON), naming the field and value.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "antiphon/core/melody.h"

namespace antiphon {

enum class StepKind { free, onset, pitch, hold, rest };
enum class Contour { any, up, down, same };

struct StepConstraint {
  StepKind kind = StepKind::free;
  std::vector<int> pitches;  // StepKind::pitch: the allowed MIDI pitches (sorted, unique)
  friend bool operator==(const StepConstraint&, const StepConstraint&) = default;
};

using PitchClassSet = std::array<bool, 12>;

// Pitch rules over the steps [from, to) of the region (to = -1: to its end).
struct PitchSpan {
  int from = 0;
  int to = -1;
  std::optional<PitchClassSet> pitch_classes;
  int low = 0;
  int high = 127;
};

struct Constraints {
  int steps_per_quarter = 4;
  std::vector<StepConstraint> steps;     // from the region's start; steps beyond the list are free
  std::optional<PitchClassSet> pitch_classes;
  int low = 0;                           // range of every note of the region (MIDI, inclusive)
  int high = 127;
  std::vector<PitchSpan> spans;
  std::vector<Contour> contour;          // per note of the region; notes beyond the list are free
  std::optional<PitchClassSet> final_pitch_classes;

  bool empty() const;  // nothing constrained
  // Whether a note of this pitch may start at this step (the pitch rules only, not the step kind).
  bool pitch_allowed(int step, int midi) const;
  // Throws ConfigError naming the problem: a step grid outside 1..960, a range outside 0..127 or inverted,
  // a span outside the region, steps beyond the region (region_steps < 0: no length check), an empty set.
  void validate(int64_t region_steps = -1) const;
  // One line per rule, for --json output and messages: "steps: C4 - - - * ...; key ...".
  std::string describe() const;
};

// The pitch classes of a key's scale (major, minor = natural minor, the church modes).
PitchClassSet scale_pitch_classes(const Key& key);
// Parses "G major", "E dorian", "Bb minor", "F# mix" (throws ConfigError naming the text).
Key parse_key_name(const std::string& text);
// Reads a pitch "C4", "F#5", "Bb3" or a MIDI number "60" (throws ConfigError naming the text).
int parse_pitch_word(const std::string& text);
// The steps of a rhythm (durations in quarters, "r" before a rest's): onset and hold steps, rest steps.
// Throws ConfigError when a duration is not a whole number of steps or not positive.
std::vector<StepConstraint> rhythm_steps(const std::vector<std::string>& durations, int steps_per_quarter);

// Parses the JSON above. `name` names the source in errors (a file name, "request").
Constraints parse_constraints(std::string_view json, const std::string& name);
Constraints read_constraints_file(const std::string& path);  // IoError when unreadable

}  // namespace antiphon
