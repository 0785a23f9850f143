#pragma once
// Magenta's LookbackEventSequenceEncoderDecoder (magenta/music/encoder_decoder.py), the lookback_rnn inputs
// and labels over Melody RNN events (events.h). With the basic range (38 classes), lookbacks [16, 32] and 5
// counter bits, an input vector has 121 floats:
//   [0, 38)    one-hot class of the event at `position`
//   [38, 76)   one-hot class of the event that followed the event one lookback back: events[position - 16 + 1]
//              (kNoEvent before the start)
//   [76, 114)  the same for the second lookback: events[position - 32 + 1]
//   [114, 119) binary counter of position + 1 (the step of the *next* event), bit 0 first, +1 / -1
//   [119, 121) 1 when events[position] equals events[position - 16] (resp. - 32), else 0
// Labels (40): the event's class (0..37), or 38 + i when the event repeats the event lookback i back, the
// most distant matching lookback winning. Magenta's quirk kept: a kNoEvent within the first
// max(lookbacks) steps is labelled with the last lookback (39).
#include <cstddef>
#include <string>
#include <vector>

#include "antiphon/core/melody.h"
#include "antiphon/tokens/events.h"

namespace antiphon {

// Magenta's defaults: one and two 4/4 bars of 16th notes (DEFAULT_LOOKBACK_DISTANCES), whatever the meter.
inline const std::vector<int> kMagentaLookbackDistances = {16, 32};

// Magenta's EventSequenceEncoderDecoder.encode: the inputs at positions 0..n-2 and, for each, the label of
// the event after it (positions 1..n-1). Empty for fewer than two events.
struct FeatureSequence {
  std::vector<std::vector<float>> inputs;
  std::vector<int> labels;
};

// One and two bars of this meter in steps, for a meter-aware variant; Magenta's [16, 32] when the meter is
// irregular or free, or a bar is not a whole number of steps.
std::vector<int> bar_lookback_distances(const Meter& meter, int steps_per_quarter);

class LookbackFeatures {
 public:
  // The pitch range is inclusive (events.h). Asserts positive distances and 0 <= counter bits <= 30.
  LookbackFeatures(int pitch_min, int pitch_max, std::vector<int> lookback_distances = kMagentaLookbackDistances,
                   int binary_counter_bits = 5);

  int input_size() const;   // classes * (1 + lookbacks) + counter bits + lookbacks
  int num_classes() const;  // classes + lookbacks
  int event_classes() const { return pitch_max_ - pitch_min_ + 3; }
  const std::vector<int>& lookback_distances() const { return lookbacks_; }
  int binary_counter_bits() const { return counter_bits_; }
  // The label of the default event (kNoEvent): class 0.
  int default_label() const { return 0; }

  // events_to_input: the input vector for the event at `position` (which predicts the event after it).
  // Throws EncodingError naming the position when an event lies outside the range; asserts position < size.
  std::vector<float> inputs(const std::vector<int>& events, size_t position) const;
  // events_to_label: the label of the event at `position`.
  int label(const std::vector<int>& events, size_t position) const;
  // class_index_to_event: the event value a label stands for at `position`, given events[0, position)
  // (a lookback label copies events[position - distance], or kNoEvent when that lies before the start).
  int event_from_label(const std::vector<int>& events, size_t position, int label) const;
  // The same as a one-hot event class (0 no event, 1 note off, 2 + pitch - pitch_min).
  int class_from_label(const std::vector<int>& events, size_t position, int label) const;
  // The one-hot class of an event value; throws EncodingError when a pitch is outside the range.
  int event_class(int event) const;
  // Magenta's encode(): inputs and next-event labels for a whole event sequence.
  FeatureSequence sequence(const std::vector<int>& events) const;

 private:
  int pitch_min_;
  int pitch_max_;
  std::vector<int> lookbacks_;
  int counter_bits_;
};

struct LookbackConfig {
  EventConfig events;                                               // spec keys range, min, max, squash, steps
  std::vector<int> lookback_distances = kMagentaLookbackDistances;  // spec key "lookbacks": "16;32"
  int binary_counter_bits = 5;                                      // spec key "bits"
  void validate() const;                                            // throws ConfigError naming the key and value
  friend bool operator==(const LookbackConfig&, const LookbackConfig&) = default;
};

// Encoding spec "lookback[:range=..,lookbacks=16;32,bits=5]": the tokens are the one-hot event classes of
// events.h (so encode/decode round-trip exactly as EventEncoding), with the lookback features on top.
class LookbackEncoding : public Encoding {
 public:
  explicit LookbackEncoding(LookbackConfig config = {});  // validates

  std::string spec() const override;  // "lookback:range=basic"
  const Vocab& vocab() const override { return events_.vocab(); }
  std::vector<int> encode(const Melody& melody) const override { return events_.encode(melody); }
  Melody decode(const std::vector<int>& tokens) const override { return events_.decode(tokens); }
  int end_id() const override { return -1; }
  std::vector<int> pitch_alternatives(int token) const override { return events_.pitch_alternatives(token); }

  const LookbackConfig& config() const { return config_; }
  const EventEncoding& event_encoding() const { return events_; }
  const LookbackFeatures& features() const { return features_; }

 private:
  LookbackConfig config_;
  EventEncoding events_;
  LookbackFeatures features_;
};

}  // namespace antiphon
