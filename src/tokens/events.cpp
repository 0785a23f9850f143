#include "antiphon/tokens/events.h"

#include <algorithm>
#include <cassert>
#include <cmath>

#include "antiphon/core/transform.h"
#include "tokens/internal.h"

namespace antiphon {

using tokens_detail::note_label;

namespace {

int floor_mod(int a, int m) { return ((a % m) + m) % m; }

// Python 3 round(): halves go to the even neighbour.
int round_half_even(double x) {
  double r = std::nearbyint(x);  // default rounding mode: to nearest, ties to even
  return static_cast<int>(r);
}

}  // namespace

void EventConfig::validate() const {
  if (pitch_min < kMidiMin || pitch_min > kMidiMax)
    throw ConfigError("min=" + std::to_string(pitch_min) + ": the lowest pitch must be a MIDI number 0..127");
  if (pitch_max < kMidiMin || pitch_max > kMidiMax)
    throw ConfigError("max=" + std::to_string(pitch_max) + ": the highest pitch must be a MIDI number 0..127");
  if (pitch_min > pitch_max)
    throw ConfigError("min=" + std::to_string(pitch_min) + " is above max=" + std::to_string(pitch_max));
  if (squash && pitch_max - pitch_min + 1 < 12)
    throw ConfigError("min=" + std::to_string(pitch_min) + ",max=" + std::to_string(pitch_max) +
                      ": squash needs a range of at least 12 pitches");
  if (steps_per_quarter < 1 || steps_per_quarter > tokens_detail::kMaxStepsPerQuarter)
    throw ConfigError("steps=" + std::to_string(steps_per_quarter) + ": steps per quarter must be 1.." +
                      std::to_string(tokens_detail::kMaxStepsPerQuarter));
}

std::string EventConfig::spec_options() const {
  EventConfig range_only = *this;
  range_only.steps_per_quarter = 4;
  std::string s;
  if (range_only == basic())
    s = "range=basic";
  else if (range_only == mono())
    s = "range=mono";
  else
    s = "min=" + std::to_string(pitch_min) + ",max=" + std::to_string(pitch_max) + ",squash=" + (squash ? "1" : "0");
  if (steps_per_quarter != 4) s += ",steps=" + std::to_string(steps_per_quarter);
  return s;
}

SquashResult squash(const Melody& melody, int pitch_min, int pitch_max, bool transpose_to_c) {
  assert(pitch_max - pitch_min + 1 >= 12);
  const int max_note = pitch_max + 1;  // Magenta's exclusive bound
  auto range = pitch_range(melody);
  int shift = 0;
  if (transpose_to_c && range) {
    int key_diff = semitones_to_c(melody);
    double melody_center = (range->first + range->second) / 2.0;
    double target_center = (pitch_min + max_note - 1) / 2.0;
    double center_diff = target_center - (melody_center + key_diff);
    shift = key_diff + 12 * round_half_even(center_diff / 12.0);
  }
  SquashResult out{melody, shift};
  const Interval by = Interval::from_semitones(shift);
  for (Note& n : out.melody.notes) {
    if (n.is_rest()) continue;
    int p = n.pitch->midi + shift;
    int octaves = 0;  // folding, in octaves
    if (p < pitch_min) {
      int folded = pitch_min + floor_mod(p - pitch_min, 12);
      octaves = (folded - p) / 12;
    } else if (p >= max_note) {
      int folded = max_note - 12 + floor_mod(p - max_note, 12);
      octaves = (folded - p) / 12;
    }
    n.pitch = n.pitch->transposed(Interval{by.semitones + 12 * octaves, by.steps + 7 * octaves});
  }
  if (shift != 0 && !out.melody.keys.empty()) {
    Melody keys_only;
    keys_only.keys = out.melody.keys;
    out.melody.keys = transpose(keys_only, by).keys;
  }
  return out;
}

Vocab event_class_vocab(int pitch_min, int pitch_max) {
  std::vector<std::string> tokens = {"_", "off"};
  for (int p = pitch_min; p <= pitch_max; ++p) tokens.push_back(std::to_string(p));
  return Vocab(std::move(tokens));
}

EventEncoding::EventEncoding(EventConfig config) : config_(config) {
  config_.validate();
  vocab_ = event_class_vocab(config_.pitch_min, config_.pitch_max);
}

std::string EventEncoding::spec() const { return "events:" + config_.spec_options(); }

Melody EventEncoding::prepare(const Melody& melody) const {
  if (!config_.squash) return melody;
  return squash(melody, config_.pitch_min, config_.pitch_max, true).melody;
}

std::vector<int> EventEncoding::events(const Melody& source) const {
  const std::string name = spec();
  // The grid check names the notes as written; squashing changes pitches only.
  std::vector<int64_t> steps = tokens_detail::note_steps(source, config_.steps_per_quarter, name);
  Melody melody = prepare(source);
  int64_t total = 0;
  for (int64_t s : steps) total += s;
  std::vector<int> out;
  out.reserve(static_cast<size_t>(total));
  bool sounding = false;  // a note sounds at the end of what is written so far
  for (size_t i = 0; i < melody.notes.size(); ++i) {
    const Note& n = melody.notes[i];
    int64_t filler = steps[i] - 1;
    if (n.is_rest()) {
      if (sounding)
        out.push_back(kMelodyNoteOff);
      else
        ++filler;  // leading silence, or the continuation of a rest
      sounding = false;
    } else {
      int p = n.pitch->midi;
      if (p < config_.pitch_min || p > config_.pitch_max)
        throw EncodingError(name + " cannot represent " + note_label(melody, i) + ": pitch " + std::to_string(p) +
                            " is outside " + std::to_string(config_.pitch_min) + ".." +
                            std::to_string(config_.pitch_max));
      out.push_back(p);
      sounding = true;
    }
    out.insert(out.end(), static_cast<size_t>(filler), kMelodyNoEvent);
  }
  return out;
}

Melody EventEncoding::melody_from_events(const std::vector<int>& events) const {
  struct Run {
    int midi;  // -1: rest
    int64_t steps;
  };
  std::vector<Run> runs;
  for (size_t k = 0; k < events.size(); ++k) {
    int e = events[k];
    if (e < kMelodyNoEvent || e > kMidiMax)
      throw EncodingError(spec() + " cannot decode event " + std::to_string(k) + ": value " + std::to_string(e) +
                          " is not -2 (no event), -1 (note off) or a MIDI pitch 0..127");
    if (e >= 0) {
      runs.push_back({e, 1});
    } else if (runs.empty()) {
      runs.push_back({-1, 1});  // silence before the first note
    } else if (e == kMelodyNoteOff && runs.back().midi >= 0) {
      runs.push_back({-1, 1});
    } else {
      ++runs.back().steps;  // no event, or a note off during silence: whatever sounds goes on
    }
  }
  Melody m;
  m.notes.reserve(runs.size());
  for (const Run& r : runs) {
    std::optional<Pitch> p;
    if (r.midi >= 0) p = Pitch::from_midi(r.midi);
    m.append(p, Rational(r.steps, config_.steps_per_quarter));
  }
  return m;
}

int EventEncoding::class_of(int event) const {
  if (event == kMelodyNoEvent) return 0;
  if (event == kMelodyNoteOff) return 1;
  if (event < config_.pitch_min || event > config_.pitch_max)
    throw EncodingError(spec() + ": event " + std::to_string(event) + " is outside the pitch range " +
                        std::to_string(config_.pitch_min) + ".." + std::to_string(config_.pitch_max));
  return event - config_.pitch_min + 2;
}

int EventEncoding::event_of(int cls) const {
  assert(cls >= 0 && cls < num_classes());
  if (cls < 2) return cls - 2;
  return cls - 2 + config_.pitch_min;
}

std::vector<int> EventEncoding::encode(const Melody& melody) const {
  std::vector<int> ev = events(melody);
  for (int& e : ev) e = class_of(e);
  return ev;
}

Melody EventEncoding::decode(const std::vector<int>& tokens) const {
  std::vector<int> ev(tokens.size());
  for (size_t k = 0; k < tokens.size(); ++k) {
    int id = tokens[k];
    if (id < 0 || id >= num_classes())
      throw EncodingError(spec() + " cannot decode token " + std::to_string(k) + ": id " + std::to_string(id) +
                          " is outside the vocabulary of " + std::to_string(num_classes()) + " tokens");
    ev[k] = event_of(id);
  }
  return melody_from_events(ev);
}

}  // namespace antiphon

namespace antiphon {

std::vector<int> EventEncoding::pitch_alternatives(int token) const {
  if (token < 2 || token >= num_classes()) return {};
  std::vector<int> out;
  for (int c = 2; c < num_classes(); ++c) out.push_back(c);
  return out;
}

}  // namespace antiphon
