#include "antiphon/tokens/target.h"

#include <algorithm>
#include <cassert>
#include <set>

#include "tokens/internal.h"

namespace antiphon {

std::vector<NoteEvent> note_events(const Melody& melody) {
  std::vector<NoteEvent> events;
  events.reserve(melody.notes.size());
  const bool has_key = !melody.keys.empty();
  std::optional<Rational> previous_onset;
  Rational previous_end(0);
  for (const Note& n : melody.notes) {
    if (n.is_rest()) continue;
    NoteEvent e;
    e.pitch = n.pitch->midi;
    e.duration = n.duration;
    e.onset = n.onset;
    e.ioi = previous_onset ? n.onset - *previous_onset : Rational(0);
    e.rest_before = previous_onset ? n.onset - previous_end : Rational(0);
    if (has_key) {
      const Key& k = melody.key_at(n.onset);
      e.tonic = k.tonic_pitch_class();
      e.mode = k.mode;
      e.key_estimated = k.estimated;
    }
    const Meter& meter = melody.meter_at(n.onset);
    const Duration bar = meter.bar_length();
    if (bar > Rational(0)) {
      // Bars start at the pickup's end (and every bar length after); the pickup itself sits at the end of a bar.
      e.bar_position = floor_mod(n.onset - melody.pickup, bar);
    }
    e.phrase_begin = n.phrase_begin;
    e.phrase_end = n.phrase_end;
    events.push_back(e);
    previous_onset = n.onset;
    previous_end = n.end();
  }
  return events;
}

void TargetConfig::validate() const {
  const char* name = kind == TargetKind::pitch ? "pitch" : "pitchdur";
  if (pitches.empty()) throw ConfigError(std::string(name) + ": pitches= is empty (no pitched notes to learn from)");
  for (int p : pitches)
    if (p < 0 || p > 127) throw ConfigError(std::string(name) + ": pitch " + std::to_string(p) + " is outside 0..127");
  if (kind == TargetKind::pitch && !durations.empty())
    throw ConfigError("pitch: durations= belongs to pitchdur (the pitch target has no durations)");
  if (kind == TargetKind::pitch_duration) {
    if (durations.empty()) throw ConfigError("pitchdur: durations= is empty");
    tokens_detail::validate_durations(durations);
    if (pitches.size() * durations.size() > 65536)
      throw ConfigError("pitchdur: " + std::to_string(pitches.size()) + " pitches x " +
                        std::to_string(durations.size()) + " durations is more than 65536 tokens");
  }
}

TargetConfig TargetConfig::from_melodies(TargetKind kind, const std::vector<Melody>& melodies) {
  std::set<int> pitches;
  std::set<Duration> durations;
  for (const Melody& m : melodies)
    for (const Note& n : m.notes) {
      if (n.is_rest()) continue;
      pitches.insert(n.pitch->midi);
      if (kind == TargetKind::pitch_duration) durations.insert(n.duration);
    }
  TargetConfig c;
  c.kind = kind;
  c.pitches.assign(pitches.begin(), pitches.end());
  c.durations.assign(durations.begin(), durations.end());
  return c;
}

namespace {

TargetConfig canonical(TargetConfig c) {
  std::sort(c.pitches.begin(), c.pitches.end());
  c.pitches.erase(std::unique(c.pitches.begin(), c.pitches.end()), c.pitches.end());
  c.durations = tokens_detail::canonical_durations(std::move(c.durations));
  c.validate();
  return c;
}

std::vector<std::string> target_tokens(const TargetConfig& c) {
  std::vector<std::string> out;
  for (int p : c.pitches) {
    if (c.kind == TargetKind::pitch) {
      out.push_back(std::to_string(p));
      continue;
    }
    for (const Duration& d : c.durations) out.push_back(std::to_string(p) + ":" + d.to_string());
  }
  return out;
}

}  // namespace

TargetEncoding::TargetEncoding(TargetConfig config) : config_(canonical(std::move(config))), vocab_(target_tokens(config_)) {}

std::string TargetEncoding::spec() const {
  std::string s = config_.kind == TargetKind::pitch ? "pitch" : "pitchdur";
  s += ":pitches=" + tokens_detail::join_ints(config_.pitches);
  if (config_.kind == TargetKind::pitch_duration) s += ",durations=" + tokens_detail::join_durations(config_.durations);
  return s;
}

int TargetEncoding::pitch_index(int midi) const {
  auto it = std::lower_bound(config_.pitches.begin(), config_.pitches.end(), midi);
  if (it == config_.pitches.end() || *it != midi) return -1;
  return static_cast<int>(it - config_.pitches.begin());
}

int TargetEncoding::duration_index(const Duration& d) const {
  auto it = std::lower_bound(config_.durations.begin(), config_.durations.end(), d);
  if (it == config_.durations.end() || *it != d) return -1;
  return static_cast<int>(it - config_.durations.begin());
}

int TargetEncoding::token_of(const NoteEvent& event) const {
  int p = pitch_index(event.pitch);
  if (p < 0) return -1;
  if (config_.kind == TargetKind::pitch) return p;
  int d = duration_index(event.duration);
  if (d < 0) return -1;
  return p * static_cast<int>(config_.durations.size()) + d;
}

int TargetEncoding::token_pitch(int token) const {
  assert(token >= 0 && static_cast<size_t>(token) < vocab_.size());
  size_t per = config_.kind == TargetKind::pitch ? 1 : config_.durations.size();
  return config_.pitches[static_cast<size_t>(token) / per];
}

std::optional<Duration> TargetEncoding::token_duration(int token) const {
  assert(token >= 0 && static_cast<size_t>(token) < vocab_.size());
  if (config_.kind == TargetKind::pitch) return std::nullopt;
  return config_.durations[static_cast<size_t>(token) % config_.durations.size()];
}

std::vector<int> TargetEncoding::encode(const Melody& melody) const {
  std::vector<int> out;
  out.reserve(melody.notes.size());
  for (size_t i = 0; i < melody.notes.size(); ++i) {
    const Note& n = melody.notes[i];
    if (n.is_rest()) continue;
    if (pitch_index(n.pitch->midi) < 0)
      throw EncodingError(spec().substr(0, spec().find(':')) + " cannot encode " + tokens_detail::note_label(melody, i) +
                          ": pitch " + std::to_string(n.pitch->midi) + " is not in the alphabet");
    if (config_.kind == TargetKind::pitch_duration && duration_index(n.duration) < 0)
      throw EncodingError("pitchdur cannot encode " + tokens_detail::note_label(melody, i) + ": duration " +
                          n.duration.to_string() + " is not in the alphabet");
    NoteEvent e;
    e.pitch = n.pitch->midi;
    e.duration = n.duration;
    out.push_back(token_of(e));
  }
  return out;
}

Melody TargetEncoding::decode(const std::vector<int>& tokens) const {
  Melody m;
  for (size_t k = 0; k < tokens.size(); ++k) {
    int t = tokens[k];
    if (t < 0 || static_cast<size_t>(t) >= vocab_.size())
      throw EncodingError("token " + std::to_string(k) + ": id " + std::to_string(t) + " is outside the vocabulary (" +
                          std::to_string(vocab_.size()) + " tokens)");
    m.append(Pitch::from_midi(token_pitch(t)), token_duration(t).value_or(Rational(1)));
  }
  return m;
}

}  // namespace antiphon

namespace antiphon {

std::vector<int> TargetEncoding::pitch_alternatives(int token) const {
  assert(token >= 0 && static_cast<size_t>(token) < vocab_.size());
  const size_t per = config_.kind == TargetKind::pitch ? 1 : config_.durations.size();
  std::vector<int> out;
  for (size_t p = 0; p < config_.pitches.size(); ++p)
    out.push_back(static_cast<int>(p * per + static_cast<size_t>(token) % per));
  return out;
}

}  // namespace antiphon
