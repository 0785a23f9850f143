#include "antiphon/tokens/grid.h"

#include "tokens/internal.h"

namespace antiphon {

using tokens_detail::note_label;

void GridConfig::validate() const {
  if (steps_per_quarter < 1 || steps_per_quarter > tokens_detail::kMaxStepsPerQuarter)
    throw ConfigError("steps=" + std::to_string(steps_per_quarter) + ": steps per quarter must be 1.." +
                      std::to_string(tokens_detail::kMaxStepsPerQuarter));
  if (pitch_min < kMidiMin || pitch_min > kMidiMax)
    throw ConfigError("min=" + std::to_string(pitch_min) + ": the lowest pitch must be a MIDI number 0..127");
  if (pitch_max < kMidiMin || pitch_max > kMidiMax)
    throw ConfigError("max=" + std::to_string(pitch_max) + ": the highest pitch must be a MIDI number 0..127");
  if (pitch_min > pitch_max)
    throw ConfigError("min=" + std::to_string(pitch_min) + " is above max=" + std::to_string(pitch_max));
}

GridEncoding::GridEncoding(GridConfig config) : config_(config) {
  config_.validate();
  std::vector<std::string> tokens;
  for (int p = config_.pitch_min; p <= config_.pitch_max; ++p) tokens.push_back(std::to_string(p));
  hold_id_ = static_cast<int>(tokens.size());
  tokens.emplace_back("_");
  rest_id_ = static_cast<int>(tokens.size());
  tokens.emplace_back("r");
  end_id_ = static_cast<int>(tokens.size());
  tokens.emplace_back("</s>");
  vocab_ = Vocab(std::move(tokens));
}

std::string GridEncoding::spec() const {
  std::string s = "grid:steps=" + std::to_string(config_.steps_per_quarter);
  if (config_.pitch_min != GridConfig{}.pitch_min || config_.pitch_max != GridConfig{}.pitch_max)
    s += ",min=" + std::to_string(config_.pitch_min) + ",max=" + std::to_string(config_.pitch_max);
  return s;
}

int GridEncoding::pitch_id(int midi) const {
  if (midi < config_.pitch_min || midi > config_.pitch_max) return -1;
  return midi - config_.pitch_min;
}

std::vector<int> GridEncoding::encode(const Melody& melody) const {
  const std::string name = spec();
  std::vector<int64_t> steps = tokens_detail::note_steps(melody, config_.steps_per_quarter, name);
  int64_t total = 0;
  for (int64_t s : steps) total += s;
  std::vector<int> out;
  out.reserve(static_cast<size_t>(total) + 1);
  bool previous_rest = false;
  for (size_t i = 0; i < melody.notes.size(); ++i) {
    const Note& n = melody.notes[i];
    int64_t holds = steps[i] - 1;
    if (n.is_rest()) {
      if (previous_rest)
        ++holds;  // continues the rest before it
      else
        out.push_back(rest_id_);
      previous_rest = true;
    } else {
      int id = pitch_id(n.pitch->midi);
      if (id < 0)
        throw EncodingError(name + " cannot represent " + note_label(melody, i) + ": pitch " +
                            std::to_string(n.pitch->midi) + " is outside " + std::to_string(config_.pitch_min) + ".." +
                            std::to_string(config_.pitch_max));
      out.push_back(id);
      previous_rest = false;
    }
    out.insert(out.end(), static_cast<size_t>(holds), hold_id_);
  }
  out.push_back(end_id_);
  return out;
}

Melody GridEncoding::decode(const std::vector<int>& tokens) const {
  // Runs of (pitch or rest, steps), turned into exact durations at the end.
  struct Run {
    int midi;  // -1: rest
    int64_t steps;
  };
  std::vector<Run> runs;
  const std::string name = spec();
  bool ended = false;
  for (size_t k = 0; k < tokens.size(); ++k) {
    int id = tokens[k];
    auto fail = [&](const std::string& why) {
      throw EncodingError(name + " cannot decode token " + std::to_string(k) + ": " + why);
    };
    if (id < 0 || static_cast<size_t>(id) >= vocab_.size())
      fail("id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab_.size()) + " tokens");
    if (ended) fail("'" + vocab_.token(id) + "' after the end symbol");
    if (id == end_id_) {
      ended = true;
    } else if (id == hold_id_) {
      if (runs.empty()) fail("a hold '_' with no note or rest before it");
      ++runs.back().steps;
    } else if (id == rest_id_) {
      if (!runs.empty() && runs.back().midi < 0)
        ++runs.back().steps;
      else
        runs.push_back({-1, 1});
    } else {
      runs.push_back({config_.pitch_min + id, 1});
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

}  // namespace antiphon

namespace antiphon {

std::vector<int> GridEncoding::pitch_alternatives(int token) const {
  const int pitches = config_.pitch_max - config_.pitch_min + 1;
  if (token < 0 || token >= pitches) return {};
  std::vector<int> out(static_cast<size_t>(pitches));
  for (int p = 0; p < pitches; ++p) out[static_cast<size_t>(p)] = p;
  return out;
}

}  // namespace antiphon
