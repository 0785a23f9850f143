#include "antiphon/tokens/notes.h"

#include <cassert>
#include <map>

#include "tokens/internal.h"
#include "tokens/note_pairs.h"

namespace antiphon {

using tokens_detail::note_label;

std::vector<Duration> default_note_durations() {
  std::vector<Duration> d;
  // Breve (8) .. 64th (1/16), plain, dotted (x 3/2) and double-dotted (x 7/4).
  for (Rational base(8); base >= Rational(1, 16); base /= Rational(2)) {
    d.push_back(base);
    d.push_back(base * Rational(3, 2));
    d.push_back(base * Rational(7, 4));
  }
  // Triplets: kern 3, 6, 12, 24, 48, 96 and the triplet whole.
  for (Rational t : {Rational(8, 3), Rational(4, 3), Rational(2, 3), Rational(1, 3), Rational(1, 6), Rational(1, 12),
                     Rational(1, 24)})
    d.push_back(t);
  // Tied sums that folk songs use often (over bar lines in 2/4, 3/4, 6/8; long final notes); 11/4, 11/2 and
  // 13/2 each occur in the Essen collection or the O'Neill/Ryan ABC collections.
  for (Rational t : {Rational(5, 4), Rational(5, 2), Rational(5), Rational(9, 4), Rational(9, 2), Rational(9),
                     Rational(10), Rational(16), Rational(11, 4), Rational(11, 2), Rational(13, 2)})
    d.push_back(t);
  return tokens_detail::canonical_durations(std::move(d));
}

std::vector<Duration> observed_durations(const std::vector<Melody>& melodies, size_t min_count) {
  std::map<Duration, size_t> counts;
  for (const Melody& m : melodies) {
    Duration rest(0);
    for (const Note& n : m.notes) {
      if (n.is_rest()) {
        rest += n.duration;
        continue;
      }
      if (rest > Rational(0)) ++counts[rest];
      rest = Rational(0);
      ++counts[n.duration];
    }
    if (rest > Rational(0)) ++counts[rest];
  }
  std::vector<Duration> out;
  for (const auto& [d, c] : counts)
    if (c >= min_count && d > Rational(0)) out.push_back(d);
  return out;
}

// PairEncoding ---------------------------------------------------------------------------------------------

PairEncoding::PairEncoding(std::vector<std::string> pitch_tokens, std::vector<Duration> durations)
    : durations_(std::move(durations)) {
  assert(!pitch_tokens.empty() && pitch_tokens.back() == "r");
  std::vector<std::string> duration_tokens;
  for (const Duration& d : durations_) duration_tokens.push_back(d.to_string());
  std::vector<std::string> joint;
  joint.reserve(pitch_tokens.size() * duration_tokens.size() + 1);
  for (const auto& p : pitch_tokens)
    for (const auto& d : duration_tokens) joint.push_back(p + ":" + d);
  end_id_ = static_cast<int>(joint.size());
  joint.emplace_back("</s>");
  pitch_vocab_ = Vocab(std::move(pitch_tokens));
  duration_vocab_ = Vocab(std::move(duration_tokens));
  vocab_ = Vocab(std::move(joint));
}

int PairEncoding::duration_id(const Duration& d) const {
  // durations_ is sorted: binary search.
  auto it = std::lower_bound(durations_.begin(), durations_.end(), d);
  if (it == durations_.end() || *it != d) return -1;
  return static_cast<int>(it - durations_.begin());
}

int PairEncoding::joint_id(NoteToken pair) const {
  assert(pair.pitch >= 0 && static_cast<size_t>(pair.pitch) < pitch_vocab_.size());
  assert(pair.duration >= 0 && static_cast<size_t>(pair.duration) < durations_.size());
  return pair.pitch * static_cast<int>(durations_.size()) + pair.duration;
}

NoteToken PairEncoding::split(int joint_id) const {
  assert(joint_id >= 0 && joint_id < end_id_);
  const int d = static_cast<int>(durations_.size());
  return {joint_id / d, joint_id % d};
}

std::vector<int> PairEncoding::encode(const Melody& melody) const {
  std::vector<NoteToken> pairs = encode_pairs(melody);
  std::vector<int> out;
  out.reserve(pairs.size() + 1);
  for (const NoteToken& p : pairs) out.push_back(joint_id(p));
  out.push_back(end_id_);
  return out;
}

Melody PairEncoding::decode(const std::vector<int>& tokens) const {
  std::vector<NoteToken> pairs;
  pairs.reserve(tokens.size());
  bool ended = false;
  for (size_t k = 0; k < tokens.size(); ++k) {
    int id = tokens[k];
    auto fail = [&](const std::string& why) {
      throw EncodingError(spec() + " cannot decode token " + std::to_string(k) + ": " + why);
    };
    if (id < 0 || static_cast<size_t>(id) >= vocab_.size())
      fail("id " + std::to_string(id) + " is outside the vocabulary of " + std::to_string(vocab_.size()) + " tokens");
    if (ended) fail("'" + vocab_.token(id) + "' after the end symbol");
    if (id == end_id_)
      ended = true;
    else
      pairs.push_back(split(id));
  }
  return decode_pairs(pairs);
}

Melody PairEncoding::melody_from_runs(const std::vector<std::pair<int, int>>& runs) const {
  Melody m;
  m.notes.reserve(runs.size());
  for (const auto& [midi, duration] : runs) {
    const Duration& d = durations_[static_cast<size_t>(duration)];
    if (midi < 0 && !m.notes.empty() && m.notes.back().is_rest()) {
      m.notes.back().duration += d;
      continue;
    }
    std::optional<Pitch> p;
    if (midi >= 0) p = Pitch::from_midi(midi);
    m.append(p, d);
  }
  return m;
}

// NoteEncoding ---------------------------------------------------------------------------------------------

void NoteConfig::validate() const {
  tokens_detail::validate_durations(durations);
  if (pitch_min < kMidiMin || pitch_min > kMidiMax)
    throw ConfigError("min=" + std::to_string(pitch_min) + ": the lowest pitch must be a MIDI number 0..127");
  if (pitch_max < kMidiMin || pitch_max > kMidiMax)
    throw ConfigError("max=" + std::to_string(pitch_max) + ": the highest pitch must be a MIDI number 0..127");
  if (pitch_min > pitch_max)
    throw ConfigError("min=" + std::to_string(pitch_min) + " is above max=" + std::to_string(pitch_max));
}

namespace {
NoteConfig canonical(NoteConfig c) {
  c.validate();
  c.durations = tokens_detail::canonical_durations(std::move(c.durations));
  return c;
}
std::vector<std::string> note_pitch_tokens(const NoteConfig& c) {
  std::vector<std::string> t;
  for (int p = c.pitch_min; p <= c.pitch_max; ++p) t.push_back(std::to_string(p));
  t.emplace_back("r");
  return t;
}
}  // namespace

NoteEncoding::NoteEncoding(NoteConfig config)
    : PairEncoding(note_pitch_tokens(canonical(config)), canonical(config).durations), config_(canonical(config)) {}

std::string NoteEncoding::spec() const {
  std::string opts;
  if (config_.durations != default_note_durations())
    opts += "durations=" + tokens_detail::join_durations(config_.durations);
  if (config_.pitch_min != NoteConfig{}.pitch_min || config_.pitch_max != NoteConfig{}.pitch_max)
    opts += std::string(opts.empty() ? "" : ",") + "min=" + std::to_string(config_.pitch_min) +
            ",max=" + std::to_string(config_.pitch_max);
  return opts.empty() ? "notes" : "notes:" + opts;
}

int NoteEncoding::pitch_id(int midi) const {
  if (midi < config_.pitch_min || midi > config_.pitch_max) return -1;
  return midi - config_.pitch_min;
}

std::vector<NoteToken> NoteEncoding::encode_pairs(const Melody& melody) const {
  return tokens_detail::encode_note_pairs(*this, melody, [&](size_t i) {
    int midi = melody.notes[i].pitch->midi;
    int id = pitch_id(midi);
    if (id < 0)
      throw EncodingError(spec() + " cannot represent " + note_label(melody, i) + ": pitch " + std::to_string(midi) +
                          " is outside " + std::to_string(config_.pitch_min) + ".." +
                          std::to_string(config_.pitch_max));
    return id;
  });
}

Melody NoteEncoding::decode_pairs(const std::vector<NoteToken>& pairs) const {
  std::vector<std::pair<int, int>> runs;
  runs.reserve(pairs.size());
  for (size_t k = 0; k < pairs.size(); ++k) {
    const NoteToken& t = pairs[k];
    if (t.pitch < 0 || t.pitch > rest_pitch_id() || t.duration < 0 ||
        static_cast<size_t>(t.duration) >= durations().size())
      throw EncodingError(spec() + " cannot decode pair " + std::to_string(k) + ": (" + std::to_string(t.pitch) + ", " +
                          std::to_string(t.duration) + ") is outside the pitch and duration vocabularies");
    runs.emplace_back(t.pitch == rest_pitch_id() ? -1 : config_.pitch_min + t.pitch, t.duration);
  }
  return melody_from_runs(runs);
}

}  // namespace antiphon

namespace antiphon {

std::vector<int> PairEncoding::pitch_alternatives(int token) const {
  if (token < 0 || token >= end_id_) return {};
  const NoteToken pair = split(token);
  if (pair.pitch == rest_pitch_id()) return {};
  std::vector<int> out;
  for (int p = 0; p < rest_pitch_id(); ++p) out.push_back(joint_id({p, pair.duration}));
  return out;
}

}  // namespace antiphon
