// The feature codecs of Melody RNN's lookback_rnn and attention_rnn configs (Magenta's melody_rnn_model.py):
// tokens are the one-hot event classes of events.h; a step's input is the feature vector of the event before
// it (tokens/lookback.h, tokens/key_melody.h) and its label the feature label of its own event, so a repeat
// of the event one or two bars back has a label of its own. Step 0 reads a zero vector (Magenta never
// predicts the first event; here it is predicted from nothing).
#include <algorithm>
#include <array>
#include <cassert>

#include "antiphon/core/error.h"
#include "antiphon/tokens/key_melody.h"
#include "antiphon/tokens/lookback.h"
#include "models/neural/codec.h"

namespace antiphon::neural {
namespace {

// Event values (events.h) of a token sequence; throws EncodingError naming the position of a token that is
// not an event class.
std::vector<int> events_of(const EventEncoding& encoding, std::span<const int> tokens, const std::string& codec) {
  std::vector<int> events(tokens.size());
  for (size_t t = 0; t < tokens.size(); ++t) {
    if (tokens[t] < 0 || tokens[t] >= encoding.num_classes())
      throw EncodingError("the " + codec + " inputs: token " + std::to_string(t) + " has id " +
                          std::to_string(tokens[t]) + ", outside the " + std::to_string(encoding.num_classes()) +
                          " event classes");
    events[t] = encoding.event_of(tokens[t]);
  }
  return events;
}

// What each label stands for: a fixed event class, or a copy of the event a lookback distance back.
struct LabelMeaning {
  int event_class = 0;  // when distance == 0
  size_t distance = 0;  // > 0: the class of the token this far back (no event before the start)
};

// The token distribution from a label distribution: each label's mass goes to the class it stands for at
// step history.size() (a repeat label to the token it copies). O(labels), independent of the history length.
// Throws EncodingError naming a copied token that is not an event class.
void sum_label_probs(const std::vector<LabelMeaning>& meanings, std::span<const int> history,
                     std::span<const double> label_probs, std::span<double> token_probs, const std::string& codec) {
  assert(label_probs.size() == meanings.size());
  std::fill(token_probs.begin(), token_probs.end(), 0.0);
  const size_t position = history.size();
  for (size_t l = 0; l < meanings.size(); ++l) {
    const LabelMeaning& m = meanings[l];
    int cls = m.event_class;
    if (m.distance > 0 && position >= m.distance) {
      const size_t copied = position - m.distance;
      cls = history[copied];
      if (cls < 0 || static_cast<size_t>(cls) >= token_probs.size())
        throw EncodingError("the " + codec + " inputs: token " + std::to_string(copied) + " has id " +
                            std::to_string(cls) + ", outside the " + std::to_string(token_probs.size()) +
                            " event classes");
    } else if (m.distance > 0) {
      cls = 0;  // before the start: no event
    }
    token_probs[static_cast<size_t>(cls)] += label_probs[l];
  }
}

// Label meanings from a features class (LookbackFeatures, KeyMelodyFeatures) whose repeat labels are the last
// `lookbacks.size()` labels: the fixed labels mean the same at every position, so ask at position 0.
template <typename Features>
std::vector<LabelMeaning> label_meanings(const Features& features, const std::vector<int>& lookbacks) {
  const int labels = features.num_classes();
  const int first_repeat = labels - static_cast<int>(lookbacks.size());
  std::vector<LabelMeaning> out(static_cast<size_t>(labels));
  for (int l = 0; l < labels; ++l) {
    if (l >= first_repeat)
      out[static_cast<size_t>(l)].distance = static_cast<size_t>(lookbacks[static_cast<size_t>(l - first_repeat)]);
    else
      out[static_cast<size_t>(l)].event_class = features.class_from_label({}, 0, l);
  }
  return out;
}

class LookbackCodec : public Codec {
 public:
  explicit LookbackCodec(const LookbackEncoding& encoding)
      : events_(encoding.event_encoding()),
        features_(encoding.features()),
        meanings_(label_meanings(features_, features_.lookback_distances())) {}

  std::string name() const override { return "lookback"; }
  int input_size() const override { return features_.input_size(); }
  int input_vocab() const override { return 0; }
  int num_labels() const override { return features_.num_classes(); }

  CodedSequence code(std::span<const int> tokens) const override {
    const std::vector<int> events = events_of(events_, tokens, name());
    const auto f = static_cast<size_t>(input_size());
    CodedSequence c;
    c.steps = tokens.size();
    c.features.assign(c.steps * f, 0.0f);
    c.labels.resize(c.steps);
    for (size_t t = 0; t < c.steps; ++t) {
      // Every lookback input reads a fixed number of events, so a row is O(input_size).
      if (t > 0) {
        const std::vector<float> in = features_.inputs(events, t - 1);
        std::copy(in.begin(), in.end(), c.features.begin() + static_cast<std::ptrdiff_t>(t * f));
      }
      c.labels[t] = features_.label(events, t);
    }
    return c;
  }

  int64_t input_id(std::span<const int>) const override {
    assert(!"the lookback codec has feature inputs");
    return 0;
  }

  void input_features(std::span<const int> history, std::span<float> features) const override {
    assert(features.size() == static_cast<size_t>(input_size()));
    const std::vector<int> events = events_of(events_, history, name());
    if (events.empty()) {
      std::fill(features.begin(), features.end(), 0.0f);
      return;
    }
    const std::vector<float> in = features_.inputs(events, events.size() - 1);
    std::copy(in.begin(), in.end(), features.begin());
  }

  void token_probs(std::span<const int> history, std::span<const double> label_probs,
                   std::span<double> token_probs) const override {
    assert(token_probs.size() == static_cast<size_t>(events_.num_classes()));
    sum_label_probs(meanings_, history, label_probs, token_probs, name());
  }

 private:
  EventEncoding events_;
  LookbackFeatures features_;
  std::vector<LabelMeaning> meanings_;
};

// KeyMelodyFeatures::inputs rescans the events up to the position on every call; this keeps the same running
// figures (sounding pitch, attack flag, direction, the last three distinct pitches, pitch-class counts) one
// event at a time, so a whole sequence is coded in one pass. It writes exactly what KeyMelodyFeatures::inputs
// writes (the tests compare them at every position).
class KeyMelodyScan {
 public:
  explicit KeyMelodyScan(const KeyMelodyConfig& config) : config_(config) {}

  // The event at the next position (events are in range: they come from event classes).
  void push(int e) {
    if (e == kMelodyNoEvent) {
      attack_ = false;
    } else if (e == kMelodyNoteOff) {
      current_ = -1;
    } else {
      attack_ = true;
      current_ = e;
      if (recent_count_ > 0) {
        const int previous = recent_[recent_count_ - 1];
        if (e > previous) ascending_ = 1;
        if (e < previous) ascending_ = -1;
      }
      // The last three distinct pitches, most recent last.
      auto end = recent_.begin() + static_cast<std::ptrdiff_t>(recent_count_);
      auto it = std::find(recent_.begin(), end, e);
      if (it != end) {
        std::copy(it + 1, end, it);
        --recent_count_;
      } else if (recent_count_ == recent_.size()) {
        std::copy(recent_.begin() + 1, recent_.end(), recent_.begin());
        --recent_count_;
      }
      recent_[recent_count_++] = e;
      ++pc_counts_[static_cast<size_t>(e % 12)];
    }
  }

  // The input vector of `position`, the last event pushed (events[0, position] pushed so far).
  void write(const std::vector<int>& events, size_t position, std::span<float> in) const {
    std::fill(in.begin(), in.end(), 0.0f);
    const int pitch_min = config_.events.pitch_min;
    const auto range = static_cast<size_t>(config_.events.pitch_max - pitch_min + 1);
    size_t offset = 0;
    if (current_ >= 0) {
      in[static_cast<size_t>(current_ - pitch_min)] = 1.0f;
      in[range] = 1.0f;
    } else {
      in[range + 1] = 1.0f;
    }
    offset += range + 2;
    if (attack_) in[offset] = 1.0f;
    ++offset;
    in[offset++] = static_cast<float>(ascending_);
    for (int d : config_.lookback_distances) {
      const auto dist = static_cast<size_t>(d);
      if (position >= dist && events[position] == events[position - dist]) in[offset] = 1.0f;
      ++offset;
    }
    const size_t n = position + 1;
    for (int i = 0; i < config_.binary_counter_bits; ++i) in[offset++] = ((n >> i) & 1U) ? 1.0f : -1.0f;
    if (n % static_cast<size_t>(config_.steps_per_bar) == 0) in[offset] = 1.0f;
    ++offset;
    mark_best_keys(pc_counts_, in, offset);
    offset += 12;
    std::array<int, 12> recent{};
    for (size_t i = 0; i < recent_count_; ++i) ++recent[static_cast<size_t>(recent_[i] % 12)];
    mark_best_keys(recent, in, offset);
    offset += 12;
    assert(offset == in.size());
  }

 private:
  // 1 at offset + k for every major key k (C = 0) holding the most of these pitch-class counts.
  static void mark_best_keys(const std::array<int, 12>& pc_counts, std::span<float> in, size_t offset) {
    static constexpr std::array<bool, 12> kMajorScale = {true,  false, true,  false, true,  true,
                                                         false, true,  false, true,  false, true};
    std::array<int, 12> keys{};
    for (size_t k = 0; k < 12; ++k)
      for (size_t pc = 0; pc < 12; ++pc)
        if (kMajorScale[(pc + 12 - k) % 12]) keys[k] += pc_counts[pc];
    const int best = *std::max_element(keys.begin(), keys.end());
    for (size_t k = 0; k < 12; ++k)
      if (keys[k] == best) in[offset + k] = 1.0f;
  }

  const KeyMelodyConfig& config_;
  int current_ = -1;  // sounding pitch, -1: silence
  bool attack_ = false;
  int ascending_ = 0;
  std::array<int, 3> recent_{};
  size_t recent_count_ = 0;
  std::array<int, 12> pc_counts_{};
};

class AttentionCodec : public Codec {
 public:
  explicit AttentionCodec(const AttentionEncoding& encoding)
      : config_(encoding.config()),
        events_(encoding.event_encoding()),
        features_(encoding.features()),
        meanings_(label_meanings(features_, features_.lookback_distances())) {}

  std::string name() const override { return "attention"; }
  int input_size() const override { return features_.input_size(); }
  int input_vocab() const override { return 0; }
  int num_labels() const override { return features_.num_classes(); }

  CodedSequence code(std::span<const int> tokens) const override {
    const std::vector<int> events = events_of(events_, tokens, name());
    const auto f = static_cast<size_t>(input_size());
    CodedSequence c;
    c.steps = tokens.size();
    c.features.assign(c.steps * f, 0.0f);
    c.labels.resize(c.steps);
    KeyMelodyScan scan(config_);
    for (size_t t = 0; t < c.steps; ++t) {
      if (t > 0) {
        scan.push(events[t - 1]);
        scan.write(events, t - 1, std::span<float>(c.features).subspan(t * f, f));
      }
      c.labels[t] = features_.label(events, t);
    }
    return c;
  }

  int64_t input_id(std::span<const int>) const override {
    assert(!"the attention codec has feature inputs");
    return 0;
  }

  void input_features(std::span<const int> history, std::span<float> features) const override {
    assert(features.size() == static_cast<size_t>(input_size()));
    const std::vector<int> events = events_of(events_, history, name());
    if (events.empty()) {
      std::fill(features.begin(), features.end(), 0.0f);
      return;
    }
    KeyMelodyScan scan(config_);
    for (int e : events) scan.push(e);
    scan.write(events, events.size() - 1, features);
  }

  void token_probs(std::span<const int> history, std::span<const double> label_probs,
                   std::span<double> token_probs) const override {
    assert(token_probs.size() == static_cast<size_t>(events_.num_classes()));
    sum_label_probs(meanings_, history, label_probs, token_probs, name());
  }

 private:
  KeyMelodyConfig config_;
  EventEncoding events_;
  KeyMelodyFeatures features_;
  std::vector<LabelMeaning> meanings_;
};

}  // namespace

std::unique_ptr<Codec> make_lookback_codec(const LookbackEncoding& encoding) {
  return std::make_unique<LookbackCodec>(encoding);
}

std::unique_ptr<Codec> make_attention_codec(const AttentionEncoding& encoding) {
  return std::make_unique<AttentionCodec>(encoding);
}

}  // namespace antiphon::neural
