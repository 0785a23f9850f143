#pragma once
// What a token does on the timeline, for every encoding: the clock of generation. The engine (engine.cpp)
// checks constraints and the region's length on these effects, so it never looks at an encoding itself.
// Pitches here are sounding (real) MIDI pitches: a clock maps them to and from its encoding's pitch space
// (Melody RNN's squash transposes to C).
#include <memory>
#include <string>
#include <vector>

#include "antiphon/core/melody.h"
#include "antiphon/generate/constraints.h"
#include "antiphon/tokens/encoding.h"

namespace antiphon::gen {

constexpr int kNothing = -2;  // nothing has sounded yet
constexpr int kSilence = -1;  // a rest sounds

struct ClockState {
  Rational time;             // quarters from the region's start
  int sounding = kNothing;   // the sounding pitch, kSilence or kNothing
  int last_pitch = -1;       // the last pitched note (context included); -1 before any
  int notes = 0;             // pitched notes started in the region
  bool ended = false;        // the end symbol came
};

enum class Sound { note, rest, hold };  // what a token starts: a note, a rest, or nothing new

struct Effect {
  bool valid = false;  // false: the token cannot come here (a hold before anything, an interval off the keyboard)
  bool end = false;    // the end symbol
  Rational gap_begin;  // a rest the token implies before its note ([gap_begin, begin); the pitch target)
  Rational begin;      // the span the token covers
  Rational finish;
  Sound sound = Sound::hold;
  int pitch = -1;      // Sound::note: the sounding pitch
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Effect effect(const ClockState& state, int token) const = 0;
  // The tokens of the notes of `full` before `at` (the context the model reads first), without an end symbol.
  virtual std::vector<int> context_tokens(const Melody& full, const Rational& at) const = 0;
  // The tokens of the notes of `full` from `at` on (the right-hand context of an infill, end symbol
  // included), as they read after a region whose last state is `terminal` (it ends on a note when the
  // right side starts with a rest).
  virtual std::vector<int> right_tokens(const Melody& full, const Rational& at, const ClockState& terminal) const = 0;
  // True when the tokens carry no durations: the region's rhythm must be given (set_rhythm).
  virtual bool needs_rhythm() const { return false; }
  // The pitched notes' (onset, duration) from the region's start, and the region's length.
  virtual void set_rhythm(std::vector<std::pair<Rational, Rational>> /*notes*/, const Rational& /*length*/) {}
  // Pitches the encoding can produce (sounding), for messages and the satisfiability check of pitch sets.
  virtual std::pair<int, int> pitch_range() const = 0;
  // Whether the encoding's pitch tokens depend on the previous pitch (intervals): the lattice then keys on it.
  virtual bool relative() const { return false; }
  virtual int end_id() const { return -1; }
  // Clocks with one token per step (grid, events): the step's length (else 0), and the token a constraint
  // fixes at a step, for models that read constraints per token (-1: the constraint fixes no single token).
  virtual Rational token_step() const { return Rational(0); }
  virtual int constraint_token(const StepConstraint& /*constraint*/) const { return -1; }
};

// Applies an effect (asserts it is valid).
void apply(ClockState& state, const Effect& effect);

// The clock of a model's encoding. `context` is the melody the model reads before the region (it fixes
// Melody RNN's transposition). Throws ConfigError for an encoding generation does not know.
std::unique_ptr<Clock> make_clock(const Encoding& encoding, const Melody& context);

// The notes of `melody` that end by `at`, and those that start at or after it (onsets from `at`), with the
// melody's meter, key and tempo.
Melody melody_before(const Melody& melody, const Rational& at);
Melody melody_from(const Melody& melody, const Rational& at);

}  // namespace antiphon::gen
