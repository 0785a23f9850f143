#include "antiphon/tokens/key_melody.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <deque>

#include "tokens/internal.h"

namespace antiphon {
namespace {

constexpr int kNotesPerOctave = 12;

// Whether pitch class pc belongs to the major key with tonic k (Magenta's NOTE_KEYS).
bool in_major_key(int pc, int k) {
  static constexpr std::array<bool, 12> kMajorScale = {true,  false, true,  false, true,  true,
                                                       false, true,  false, true,  false, true};
  return kMajorScale[static_cast<size_t>(((pc - k) % 12 + 12) % 12)];
}

// Sets 1 at offset + k for every major key k holding the most of the given pitch-class counts.
void mark_best_keys(const std::array<int, 12>& pc_counts, std::vector<float>& in, size_t offset) {
  std::array<int, 12> keys{};
  for (int k = 0; k < kNotesPerOctave; ++k)
    for (int pc = 0; pc < kNotesPerOctave; ++pc)
      if (in_major_key(pc, k)) keys[static_cast<size_t>(k)] += pc_counts[static_cast<size_t>(pc)];
  int best = *std::max_element(keys.begin(), keys.end());
  for (size_t k = 0; k < keys.size(); ++k)
    if (keys[k] == best) in[offset + k] = 1.0f;
}

}  // namespace

KeyMelodyFeatures::KeyMelodyFeatures(int pitch_min, int pitch_max, std::vector<int> lookback_distances,
                                     int binary_counter_bits, int steps_per_bar)
    : pitch_min_(pitch_min),
      pitch_max_(pitch_max),
      lookbacks_(std::move(lookback_distances)),
      counter_bits_(binary_counter_bits),
      steps_per_bar_(steps_per_bar) {
  assert(pitch_min_ >= kMidiMin && pitch_max_ <= kMidiMax && pitch_min_ <= pitch_max_);
  assert(!lookbacks_.empty());
  for (int d : lookbacks_) assert(d > 0);
  assert(counter_bits_ >= 0 && counter_bits_ <= 30);
  assert(steps_per_bar_ >= 1);
}

int KeyMelodyFeatures::input_size() const {
  return note_range() + 2 + 1 + 1 + static_cast<int>(lookbacks_.size()) + counter_bits_ + 1 + 2 * kNotesPerOctave;
}

int KeyMelodyFeatures::num_classes() const { return note_range() + 2 + static_cast<int>(lookbacks_.size()); }

std::vector<float> KeyMelodyFeatures::inputs(const std::vector<int>& events, size_t position) const {
  assert(position < events.size());
  int current = -1;  // sounding pitch, -1: silence
  bool attack = false;
  int ascending = 0;  // +1 up, -1 down, 0 unknown
  std::deque<int> last3;
  std::array<int, 12> pc_counts{};
  for (size_t k = 0; k <= position; ++k) {
    int e = events[k];
    if (e == kMelodyNoEvent) {
      attack = false;
    } else if (e == kMelodyNoteOff) {
      current = -1;
    } else {
      if (e < pitch_min_ || e > pitch_max_)
        throw EncodingError("key-melody features: event " + std::to_string(k) + " (" + std::to_string(e) +
                            ") is outside the pitch range " + std::to_string(pitch_min_) + ".." +
                            std::to_string(pitch_max_));
      attack = true;
      current = e;
      if (!last3.empty()) {
        if (e > last3.back()) ascending = 1;
        if (e < last3.back()) ascending = -1;
      }
      auto it = std::find(last3.begin(), last3.end(), e);
      if (it != last3.end()) last3.erase(it);
      last3.push_back(e);
      if (last3.size() > 3) last3.pop_front();
      ++pc_counts[static_cast<size_t>(e % kNotesPerOctave)];
    }
  }

  std::vector<float> in(static_cast<size_t>(input_size()), 0.0f);
  const auto range = static_cast<size_t>(note_range());
  size_t offset = 0;
  if (current >= 0) {
    in[offset + static_cast<size_t>(current - pitch_min_)] = 1.0f;
    in[offset + range] = 1.0f;
  } else {
    in[offset + range + 1] = 1.0f;
  }
  offset += range + 2;
  if (attack) in[offset] = 1.0f;
  ++offset;
  in[offset++] = static_cast<float>(ascending);
  for (int d : lookbacks_) {
    auto dist = static_cast<size_t>(d);
    if (position >= dist && events[position] == events[position - dist]) in[offset] = 1.0f;
    ++offset;
  }
  const size_t n = position + 1;
  for (int i = 0; i < counter_bits_; ++i) in[offset++] = ((n >> i) & 1U) ? 1.0f : -1.0f;
  if (n % static_cast<size_t>(steps_per_bar_) == 0) in[offset] = 1.0f;
  ++offset;
  mark_best_keys(pc_counts, in, offset);
  offset += kNotesPerOctave;
  std::array<int, 12> recent{};
  for (int p : last3) ++recent[static_cast<size_t>(p % kNotesPerOctave)];
  mark_best_keys(recent, in, offset);
  offset += kNotesPerOctave;
  assert(offset == in.size());
  return in;
}

int KeyMelodyFeatures::label(const std::vector<int>& events, size_t position) const {
  assert(position < events.size());
  const int range = note_range();
  const int lookbacks = static_cast<int>(lookbacks_.size());
  int e = events[position];
  if (position < static_cast<size_t>(lookbacks_.back()) && e == kMelodyNoEvent) return range + lookbacks + 1;
  for (int i = lookbacks - 1; i >= 0; --i) {
    auto dist = static_cast<size_t>(lookbacks_[static_cast<size_t>(i)]);
    if (position >= dist && e == events[position - dist]) return range + 2 + i;
  }
  if (e == kMelodyNoteOff) return range + 1;
  if (e == kMelodyNoEvent) return range;
  if (e < pitch_min_ || e > pitch_max_)
    throw EncodingError("key-melody features: event " + std::to_string(position) + " (" + std::to_string(e) +
                        ") is outside the pitch range " + std::to_string(pitch_min_) + ".." +
                        std::to_string(pitch_max_));
  return e - pitch_min_;
}

int KeyMelodyFeatures::event_from_label(const std::vector<int>& events, size_t position, int label) const {
  assert(label >= 0 && label < num_classes());
  assert(position <= events.size());
  const int range = note_range();
  if (label >= range + 2) {
    auto dist = static_cast<size_t>(lookbacks_[static_cast<size_t>(label - range - 2)]);
    return position < dist ? kMelodyNoEvent : events[position - dist];
  }
  if (label == range + 1) return kMelodyNoteOff;
  if (label == range) return kMelodyNoEvent;
  return pitch_min_ + label;
}

FeatureSequence KeyMelodyFeatures::sequence(const std::vector<int>& events) const {
  return tokens_detail::feature_sequence(*this, events);
}

int KeyMelodyFeatures::class_from_label(const std::vector<int>& events, size_t position, int label) const {
  int e = event_from_label(events, position, label);
  if (e == kMelodyNoEvent) return 0;
  if (e == kMelodyNoteOff) return 1;
  if (e < pitch_min_ || e > pitch_max_)
    throw EncodingError("key-melody features: event " + std::to_string(e) + " is outside the pitch range " +
                        std::to_string(pitch_min_) + ".." + std::to_string(pitch_max_));
  return e - pitch_min_ + 2;
}

void KeyMelodyConfig::validate() const {
  events.validate();
  if (lookback_distances.empty()) throw ConfigError("lookbacks=: the key-melody inputs need at least one lookback");
  tokens_detail::validate_lookbacks(lookback_distances, binary_counter_bits);
  if (steps_per_bar < 1 || steps_per_bar > tokens_detail::kMaxSteps)
    throw ConfigError("bar=" + std::to_string(steps_per_bar) + ": steps per bar must be positive");
}

namespace {
KeyMelodyConfig validated(KeyMelodyConfig c) {
  c.validate();
  return c;
}
}  // namespace

AttentionEncoding::AttentionEncoding(KeyMelodyConfig config)
    : config_(validated(std::move(config))),
      events_(config_.events),
      features_(config_.events.pitch_min, config_.events.pitch_max, config_.lookback_distances,
                config_.binary_counter_bits, config_.steps_per_bar) {}

std::string AttentionEncoding::spec() const {
  const KeyMelodyConfig defaults;
  std::string s = "attention:" + config_.events.spec_options();
  if (config_.lookback_distances != defaults.lookback_distances)
    s += ",lookbacks=" + tokens_detail::join_ints(config_.lookback_distances);
  if (config_.binary_counter_bits != defaults.binary_counter_bits)
    s += ",bits=" + std::to_string(config_.binary_counter_bits);
  if (config_.steps_per_bar != defaults.steps_per_bar) s += ",bar=" + std::to_string(config_.steps_per_bar);
  return s;
}

}  // namespace antiphon
