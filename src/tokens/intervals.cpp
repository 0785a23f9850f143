#include "antiphon/tokens/intervals.h"

#include "tokens/internal.h"
#include "tokens/note_pairs.h"

namespace antiphon {

using tokens_detail::note_label;

void IntervalConfig::validate() const {
  tokens_detail::validate_durations(durations);
  if (interval_min < -kMidiMax || interval_min > kMidiMax)
    throw ConfigError("min=" + std::to_string(interval_min) + ": the largest step down must be within -127..127");
  if (interval_max < -kMidiMax || interval_max > kMidiMax)
    throw ConfigError("max=" + std::to_string(interval_max) + ": the largest step up must be within -127..127");
  if (interval_min > interval_max)
    throw ConfigError("min=" + std::to_string(interval_min) + " is above max=" + std::to_string(interval_max));
}

namespace {
IntervalConfig canonical(IntervalConfig c) {
  c.validate();
  c.durations = tokens_detail::canonical_durations(std::move(c.durations));
  return c;
}
std::string interval_token(int semitones) {
  if (semitones > 0) return "+" + std::to_string(semitones);
  return std::to_string(semitones);  // "0", "-3"
}
std::vector<std::string> interval_pitch_tokens(const IntervalConfig& c) {
  std::vector<std::string> t;
  for (int p = kMidiMin; p <= kMidiMax; ++p) t.push_back("@" + std::to_string(p));
  for (int s = c.interval_min; s <= c.interval_max; ++s) t.push_back(interval_token(s));
  t.emplace_back("r");
  return t;
}
constexpr int kAbsoluteCount = kMidiMax + 1;
}  // namespace

IntervalEncoding::IntervalEncoding(IntervalConfig config)
    : PairEncoding(interval_pitch_tokens(canonical(config)), canonical(config).durations), config_(canonical(config)) {}

std::string IntervalEncoding::spec() const {
  std::string s =
      "intervals:min=" + std::to_string(config_.interval_min) + ",max=" + std::to_string(config_.interval_max);
  if (config_.durations != default_note_durations())
    s += ",durations=" + tokens_detail::join_durations(config_.durations);
  return s;
}

int IntervalEncoding::interval_id(int semitones) const {
  if (semitones < config_.interval_min || semitones > config_.interval_max) return -1;
  return kAbsoluteCount + semitones - config_.interval_min;
}

std::vector<NoteToken> IntervalEncoding::encode_pairs(const Melody& melody) const {
  int previous = -1;  // MIDI of the previous pitched note
  return tokens_detail::encode_note_pairs(*this, melody, [&](size_t i) {
    int midi = melody.notes[i].pitch->midi;
    int id;
    if (previous < 0) {
      id = absolute_id(midi);
    } else {
      int step = midi - previous;
      id = interval_id(step);
      if (id < 0)
        throw EncodingError(spec() + " cannot represent " + note_label(melody, i) + ": the step of " +
                            interval_token(step) + " semitones from the previous pitched note (" +
                            std::to_string(previous) + ") is outside " + std::to_string(config_.interval_min) + ".." +
                            interval_token(config_.interval_max));
    }
    previous = midi;
    return id;
  });
}

Melody IntervalEncoding::decode_pairs(const std::vector<NoteToken>& pairs) const {
  std::vector<std::pair<int, int>> runs;
  runs.reserve(pairs.size());
  int previous = -1;
  for (size_t k = 0; k < pairs.size(); ++k) {
    const NoteToken& t = pairs[k];
    auto fail = [&](const std::string& why) {
      throw EncodingError(spec() + " cannot decode pair " + std::to_string(k) + ": " + why);
    };
    if (t.pitch < 0 || t.pitch > rest_pitch_id() || t.duration < 0 ||
        static_cast<size_t>(t.duration) >= durations().size())
      fail("(" + std::to_string(t.pitch) + ", " + std::to_string(t.duration) +
           ") is outside the pitch and duration vocabularies");
    int midi = -1;
    if (t.pitch == rest_pitch_id()) {
      midi = -1;
    } else if (t.pitch < kAbsoluteCount) {
      midi = t.pitch;
      previous = midi;
    } else {
      int step = t.pitch - kAbsoluteCount + config_.interval_min;
      if (previous < 0) fail("interval " + interval_token(step) + " before any absolute pitch");
      midi = previous + step;
      if (midi < kMidiMin || midi > kMidiMax)
        fail("interval " + interval_token(step) + " from " + std::to_string(previous) + " leaves MIDI 0..127");
      previous = midi;
    }
    runs.emplace_back(midi, t.duration);
  }
  return melody_from_runs(runs);
}

}  // namespace antiphon
