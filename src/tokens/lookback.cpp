#include "antiphon/tokens/lookback.h"

#include <cassert>

#include "tokens/internal.h"

namespace antiphon {

std::vector<int> bar_lookback_distances(const Meter& meter, int steps_per_quarter) {
  Duration bar = meter.bar_length();
  if (bar <= Rational(0)) return kMagentaLookbackDistances;
  Rational steps = bar * Rational(steps_per_quarter);
  if (!steps.is_integer() || steps.num() > tokens_detail::kMaxSteps / 2) return kMagentaLookbackDistances;
  int s = static_cast<int>(steps.num());
  return {s, 2 * s};
}

LookbackFeatures::LookbackFeatures(int pitch_min, int pitch_max, std::vector<int> lookback_distances,
                                   int binary_counter_bits)
    : pitch_min_(pitch_min),
      pitch_max_(pitch_max),
      lookbacks_(std::move(lookback_distances)),
      counter_bits_(binary_counter_bits) {
  assert(pitch_min_ >= kMidiMin && pitch_max_ <= kMidiMax && pitch_min_ <= pitch_max_);
  assert(counter_bits_ >= 0 && counter_bits_ <= 30);
  for (int d : lookbacks_) assert(d > 0);
}

int LookbackFeatures::input_size() const {
  int lookbacks = static_cast<int>(lookbacks_.size());
  return event_classes() * (1 + lookbacks) + counter_bits_ + lookbacks;
}

int LookbackFeatures::num_classes() const { return event_classes() + static_cast<int>(lookbacks_.size()); }

int LookbackFeatures::event_class(int event) const {
  if (event == kMelodyNoEvent) return 0;
  if (event == kMelodyNoteOff) return 1;
  if (event < pitch_min_ || event > pitch_max_)
    throw EncodingError("lookback features: event " + std::to_string(event) + " is outside the pitch range " +
                        std::to_string(pitch_min_) + ".." + std::to_string(pitch_max_));
  return event - pitch_min_ + 2;
}

std::vector<float> LookbackFeatures::inputs(const std::vector<int>& events, size_t position) const {
  assert(position < events.size());
  std::vector<float> in(static_cast<size_t>(input_size()), 0.0f);
  const auto classes = static_cast<size_t>(event_classes());
  auto at = [&](size_t p) {
    try {
      return event_class(events[p]);
    } catch (const EncodingError& e) {
      throw EncodingError(std::string(e.what()) + " (event " + std::to_string(p) + ")");
    }
  };
  size_t offset = 0;
  in[static_cast<size_t>(at(position))] = 1.0f;
  offset += classes;
  // The event that followed the event one lookback back.
  for (int d : lookbacks_) {
    auto dist = static_cast<size_t>(d);
    int cls = position + 1 >= dist ? at(position + 1 - dist) : 0;
    in[offset + static_cast<size_t>(cls)] = 1.0f;
    offset += classes;
  }
  // Binary counter of the step of the next event.
  const size_t n = position + 1;
  for (int i = 0; i < counter_bits_; ++i) in[offset++] = ((n >> i) & 1U) ? 1.0f : -1.0f;
  // Whether the current event repeats the event a lookback back.
  for (int d : lookbacks_) {
    auto dist = static_cast<size_t>(d);
    if (position >= dist && events[position] == events[position - dist]) in[offset] = 1.0f;
    ++offset;
  }
  assert(offset == in.size());
  return in;
}

int LookbackFeatures::label(const std::vector<int>& events, size_t position) const {
  assert(position < events.size());
  const int classes = event_classes();
  const int lookbacks = static_cast<int>(lookbacks_.size());
  // Magenta: a no-event before the longest lookback is labelled with the last lookback.
  if (lookbacks > 0 && position < static_cast<size_t>(lookbacks_.back()) && events[position] == kMelodyNoEvent)
    return classes + lookbacks - 1;
  for (int i = lookbacks - 1; i >= 0; --i) {
    auto dist = static_cast<size_t>(lookbacks_[static_cast<size_t>(i)]);
    if (position >= dist && events[position] == events[position - dist]) return classes + i;
  }
  try {
    return event_class(events[position]);
  } catch (const EncodingError& e) {
    throw EncodingError(std::string(e.what()) + " (event " + std::to_string(position) + ")");
  }
}

int LookbackFeatures::event_from_label(const std::vector<int>& events, size_t position, int label) const {
  assert(label >= 0 && label < num_classes());
  assert(position <= events.size());
  const int classes = event_classes();
  if (label >= classes) {
    auto dist = static_cast<size_t>(lookbacks_[static_cast<size_t>(label - classes)]);
    return position < dist ? kMelodyNoEvent : events[position - dist];
  }
  if (label < 2) return label - 2;
  return label - 2 + pitch_min_;
}

FeatureSequence LookbackFeatures::sequence(const std::vector<int>& events) const {
  return tokens_detail::feature_sequence(*this, events);
}

int LookbackFeatures::class_from_label(const std::vector<int>& events, size_t position, int label) const {
  return event_class(event_from_label(events, position, label));
}

void LookbackConfig::validate() const {
  events.validate();
  tokens_detail::validate_lookbacks(lookback_distances, binary_counter_bits);
}

namespace {
LookbackConfig validated(LookbackConfig c) {
  c.validate();
  return c;
}
}  // namespace

LookbackEncoding::LookbackEncoding(LookbackConfig config)
    : config_(validated(std::move(config))),
      events_(config_.events),
      features_(config_.events.pitch_min, config_.events.pitch_max, config_.lookback_distances,
                config_.binary_counter_bits) {}

std::string LookbackEncoding::spec() const {
  std::string s = "lookback:" + config_.events.spec_options();
  if (config_.lookback_distances != kMagentaLookbackDistances)
    s += ",lookbacks=" + tokens_detail::join_ints(config_.lookback_distances);
  if (config_.binary_counter_bits != LookbackConfig{}.binary_counter_bits)
    s += ",bits=" + std::to_string(config_.binary_counter_bits);
  return s;
}

}  // namespace antiphon
