#include "generate/clock.h"

#include <cassert>
#include <charconv>

#include "antiphon/core/error.h"
#include "antiphon/models/registry.h"
#include "antiphon/tokens/events.h"
#include "antiphon/tokens/grid.h"
#include "antiphon/tokens/intervals.h"
#include "antiphon/tokens/key_melody.h"
#include "antiphon/tokens/lookback.h"
#include "antiphon/tokens/notes.h"
#include "antiphon/tokens/target.h"

namespace antiphon::gen {

void apply(ClockState& state, const Effect& effect) {
  assert(effect.valid);
  if (effect.end) {
    state.ended = true;
    return;
  }
  state.time = effect.finish;
  switch (effect.sound) {
    case Sound::note:
      state.sounding = effect.pitch;
      state.last_pitch = effect.pitch;
      ++state.notes;
      break;
    case Sound::rest:
      state.sounding = kSilence;
      break;
    case Sound::hold:
      if (state.sounding == kNothing) state.sounding = kSilence;
      break;
  }
}

Melody melody_before(const Melody& melody, const Rational& at) {
  Melody out;
  out.title = melody.title;
  out.meters = melody.meters;
  out.keys = melody.keys;
  out.pickup = melody.pickup;
  out.tempo_qpm = melody.tempo_qpm;
  for (const Note& n : melody.notes)
    if (n.end() <= at) out.notes.push_back(n);
  return out;
}

Melody melody_from(const Melody& melody, const Rational& at) {
  Melody out;
  out.title = melody.title;
  out.meters = {{Rational(0), melody.meter_at(at)}};
  out.keys = {{Rational(0), melody.key_at(at)}};
  out.tempo_qpm = melody.tempo_qpm;
  for (const Note& n : melody.notes)
    if (n.onset >= at) {
      Note moved = n;
      moved.onset = n.onset - at;
      out.notes.push_back(moved);
    }
  return out;
}

namespace {

std::vector<int> without_end(std::vector<int> tokens, int end_id) {
  if (end_id >= 0 && !tokens.empty() && tokens.back() == end_id) tokens.pop_back();
  return tokens;
}

// Whether the melody's sound at `at` is a rest (the note starting there, or nothing).
bool rest_at(const Melody& melody, const Rational& at) {
  for (const Note& n : melody.notes)
    if (n.onset == at) return n.is_rest();
  return false;
}

// The 16th-note (or finer) grid and the Melody RNN events share this: one token per step.
class StepClock : public Clock {
 protected:
  explicit StepClock(int steps_per_quarter) : step_(1, steps_per_quarter), steps_per_quarter_(steps_per_quarter) {}
  Effect span(const ClockState& state) const {
    Effect e;
    e.valid = true;
    e.gap_begin = state.time;
    e.begin = state.time;
    e.finish = state.time + step_;
    return e;
  }
  size_t step_index(const Rational& at) const {
    return static_cast<size_t>(floor_div(at, step_));
  }
  Rational step_;
  int steps_per_quarter_;
};

class GridClock final : public StepClock {
 public:
  explicit GridClock(const GridEncoding& grid) : StepClock(grid.config().steps_per_quarter), grid_(grid) {}

  Effect effect(const ClockState& state, int token) const override {
    if (token == grid_.end_id()) {
      Effect e;
      e.valid = true;
      e.end = true;
      return e;
    }
    Effect e = span(state);
    if (token == grid_.hold_id()) {
      e.sound = Sound::hold;
      e.valid = state.sounding != kNothing;  // a hold needs something to hold
    } else if (token == grid_.rest_id()) {
      e.sound = state.sounding == kSilence ? Sound::hold : Sound::rest;
    } else {
      e.sound = Sound::note;
      e.pitch = grid_.config().pitch_min + token;
    }
    return e;
  }
  std::vector<int> context_tokens(const Melody& full, const Rational& at) const override {
    auto tokens = without_end(grid_.encode(melody_before(full, at)), grid_.end_id());
    return tokens;
  }
  std::vector<int> right_tokens(const Melody& full, const Rational& at, const ClockState&) const override {
    auto tokens = grid_.encode(full);
    const size_t first = step_index(at);
    assert(first <= tokens.size());
    std::vector<int> out(tokens.begin() + static_cast<std::ptrdiff_t>(first), tokens.end());
    // A rest after the region's last note starts with a rest token, not the hold that merged it with a rest
    // the region replaced.
    if (!out.empty() && out[0] == grid_.hold_id() && rest_at(full, at)) out[0] = grid_.rest_id();
    return out;
  }
  std::pair<int, int> pitch_range() const override { return {grid_.config().pitch_min, grid_.config().pitch_max}; }
  int end_id() const override { return grid_.end_id(); }
  Rational token_step() const override { return step_; }
  int constraint_token(const StepConstraint& c) const override {
    if (c.kind == StepKind::hold) return grid_.hold_id();
    if (c.kind == StepKind::pitch && c.pitches.size() == 1) return grid_.pitch_id(c.pitches[0]);
    return -1;
  }

 private:
  const GridEncoding& grid_;
};

class EventClock final : public StepClock {
 public:
  EventClock(const EventEncoding& events, const Melody& context)
      : StepClock(events.config().steps_per_quarter), events_(events) {
    const auto& c = events.config();
    if (c.squash && antiphon::pitch_range(context)) shift_ = squash(context, c.pitch_min, c.pitch_max, true).transpose_semitones;
  }

  Effect effect(const ClockState& state, int token) const override {
    Effect e = span(state);
    if (token == 0) {  // no event: whatever sounds goes on (silence at the start)
      e.sound = Sound::hold;
    } else if (token == 1) {  // note off
      e.sound = state.sounding >= 0 ? Sound::rest : Sound::hold;
    } else {
      e.sound = Sound::note;
      e.pitch = events_.event_of(token) - shift_;
      e.valid = e.pitch >= kMidiMin && e.pitch <= kMidiMax;
    }
    return e;
  }
  // The events of the whole melody, so the context and the right side share one transposition.
  std::vector<int> context_tokens(const Melody& full, const Rational& at) const override {
    auto tokens = classes(full);
    tokens.resize(std::min(tokens.size(), step_index(at)));
    return tokens;
  }
  std::vector<int> right_tokens(const Melody& full, const Rational& at, const ClockState&) const override {
    auto tokens = classes(full);
    const size_t first = std::min(tokens.size(), step_index(at));
    std::vector<int> out(tokens.begin() + static_cast<std::ptrdiff_t>(first), tokens.end());
    if (!out.empty() && out[0] == 0 && rest_at(full, at)) out[0] = 1;  // the rest now follows a note
    return out;
  }
  std::pair<int, int> pitch_range() const override {
    return {std::max(kMidiMin, events_.config().pitch_min - shift_), std::min(kMidiMax, events_.config().pitch_max - shift_)};
  }
  Rational token_step() const override { return step_; }
  int constraint_token(const StepConstraint& c) const override {
    if (c.kind == StepKind::hold) return 0;
    if (c.kind == StepKind::pitch && c.pitches.size() == 1) {
      const int p = c.pitches[0] + shift_;
      if (p >= events_.config().pitch_min && p <= events_.config().pitch_max) return events_.class_of(p);
    }
    return -1;
  }

 private:
  // The classes of the melody transposed by this clock's shift (the context's), folded into the range by
  // octaves as squash folds.
  std::vector<int> classes(const Melody& full) const {
    const auto& c = events_.config();
    EventConfig plain = c;
    plain.squash = false;
    if (!c.squash) return EventEncoding(plain).encode(full);
    Melody moved = full;
    for (Note& n : moved.notes) {
      if (n.is_rest()) continue;
      int p = n.pitch->midi + shift_;
      while (p < c.pitch_min) p += 12;
      while (p > c.pitch_max) p -= 12;
      n.pitch = Pitch::from_midi(p);
    }
    return EventEncoding(plain).encode(moved);
  }
  const EventEncoding& events_;
  int shift_ = 0;
};

class PairClock final : public Clock {
 public:
  explicit PairClock(const PairEncoding& pairs) : pairs_(pairs) {
    intervals_ = dynamic_cast<const IntervalEncoding*>(&pairs) != nullptr;
    const Vocab& pv = pairs.pitch_vocab();
    parts_.resize(pv.size());
    for (size_t i = 0; i < pv.size(); ++i) {
      const std::string& t = pv.token(static_cast<int>(i));
      Part& part = parts_[i];
      if (t == "r") {
        part.kind = Part::rest;
        continue;
      }
      std::string_view digits = t;
      if (!digits.empty() && digits[0] == '@') {
        digits.remove_prefix(1);
        part.kind = Part::absolute;
      } else {
        part.kind = intervals_ ? Part::interval : Part::absolute;
      }
      if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
      std::from_chars(digits.data(), digits.data() + digits.size(), part.value);
    }
  }

  Effect effect(const ClockState& state, int token) const override {
    Effect e;
    e.valid = true;
    if (token == pairs_.end_id()) {
      e.end = true;
      return e;
    }
    const NoteToken pair = pairs_.split(token);
    e.gap_begin = state.time;
    e.begin = state.time;
    e.finish = state.time + pairs_.durations()[static_cast<size_t>(pair.duration)];
    const Part& part = parts_[static_cast<size_t>(pair.pitch)];
    switch (part.kind) {
      case Part::rest:
        e.sound = state.sounding == kSilence ? Sound::hold : Sound::rest;
        break;
      case Part::absolute:
        e.sound = Sound::note;
        e.pitch = part.value;
        break;
      case Part::interval:
        e.sound = Sound::note;
        e.pitch = state.last_pitch + part.value;
        e.valid = state.last_pitch >= 0 && e.pitch >= kMidiMin && e.pitch <= kMidiMax;
        break;
    }
    return e;
  }
  std::vector<int> context_tokens(const Melody& full, const Rational& at) const override {
    return without_end(pairs_.encode(melody_before(full, at)), pairs_.end_id());
  }
  std::vector<int> right_tokens(const Melody& full, const Rational& at, const ClockState& terminal) const override {
    Melody right = melody_from(full, at);
    if (!intervals_ || terminal.last_pitch < 0 || right.notes.empty()) return pairs_.encode(right);
    // Intervals: the right side's first note steps from the region's last pitch.
    Melody joined = right;
    joined.notes.clear();
    joined.append(Pitch::from_midi(terminal.last_pitch), pairs_.durations().front());
    for (const Note& n : right.notes) joined.append(n.pitch, n.duration);
    auto tokens = pairs_.encode(joined);
    tokens.erase(tokens.begin());
    return tokens;
  }
  std::pair<int, int> pitch_range() const override {
    int low = kMidiMax, high = kMidiMin;
    for (const Part& p : parts_)
      if (p.kind == Part::absolute) {
        low = std::min(low, p.value);
        high = std::max(high, p.value);
      }
    if (intervals_) return {kMidiMin, kMidiMax};
    return {low, high};
  }
  bool relative() const override { return intervals_; }
  int end_id() const override { return pairs_.end_id(); }

 private:
  struct Part {
    enum Kind { rest, absolute, interval } kind = absolute;
    int value = 0;
  };
  const PairEncoding& pairs_;
  bool intervals_ = false;
  std::vector<Part> parts_;
};

// The `pitch` and `pitchdur` targets: one token per pitched note; rests only show as gaps. For `pitch` the
// region's rhythm is given (set_rhythm).
class TargetClock final : public Clock {
 public:
  explicit TargetClock(const TargetEncoding& target) : target_(target) {}

  Effect effect(const ClockState& state, int token) const override {
    Effect e;
    e.valid = true;
    e.sound = Sound::note;
    e.pitch = target_.token_pitch(token);
    e.gap_begin = state.time;
    if (auto d = target_.token_duration(token)) {
      e.begin = state.time;
      e.finish = state.time + *d;
      return e;
    }
    const auto k = static_cast<size_t>(state.notes);
    if (k >= rhythm_.size()) {
      e.valid = false;
      return e;
    }
    e.begin = rhythm_[k].first;
    // The last note of the rhythm carries the rest after it, so the region ends where it should.
    e.finish = k + 1 == rhythm_.size() ? length_ : rhythm_[k].first + rhythm_[k].second;
    return e;
  }
  std::vector<int> context_tokens(const Melody& full, const Rational& at) const override {
    return target_.encode(melody_before(full, at));
  }
  std::vector<int> right_tokens(const Melody& full, const Rational& at, const ClockState&) const override {
    return target_.encode(melody_from(full, at));
  }
  bool needs_rhythm() const override { return !target_.token_duration(0).has_value(); }
  void set_rhythm(std::vector<std::pair<Rational, Rational>> notes, const Rational& length) override {
    rhythm_ = std::move(notes);
    length_ = length;
  }
  std::pair<int, int> pitch_range() const override {
    const auto& p = target_.config().pitches;
    return {p.front(), p.back()};
  }

 private:
  const TargetEncoding& target_;
  std::vector<std::pair<Rational, Rational>> rhythm_;
  Rational length_;
};

}  // namespace

std::unique_ptr<Clock> make_clock(const Encoding& encoding, const Melody& context) {
  if (const auto* g = dynamic_cast<const GridEncoding*>(&encoding)) return std::make_unique<GridClock>(*g);
  if (const auto* e = dynamic_cast<const EventEncoding*>(&encoding)) return std::make_unique<EventClock>(*e, context);
  if (const auto* l = dynamic_cast<const LookbackEncoding*>(&encoding))
    return std::make_unique<EventClock>(l->event_encoding(), context);
  if (const auto* a = dynamic_cast<const AttentionEncoding*>(&encoding))
    return std::make_unique<EventClock>(a->event_encoding(), context);
  if (const auto* p = dynamic_cast<const PairEncoding*>(&encoding)) return std::make_unique<PairClock>(*p);
  if (const auto* t = dynamic_cast<const TargetEncoding*>(&encoding)) return std::make_unique<TargetClock>(*t);
  throw ConfigError("generation does not know the encoding '" + encoding.spec() + "'");
}

}  // namespace antiphon::gen
