#pragma once
// Magenta's KeyMelodyEncoderDecoder (magenta/music/melody_encoder_decoder.py), the inputs and labels of the
// attention_rnn config (melody_rnn_model.py), over Melody RNN events (events.h). With pitches [48, 84), two
// lookbacks [16, 32] and 7 counter bits (Magenta's defaults) an input vector has 74 floats:
//   [0, 36)  1 at the pitch of the note sounding at `position` (after a note off, none)
//   36       1 when a note sounds;  37: 1 when silence sounds
//   38       1 when the most recent event up to `position` other than a note off is a note on (Magenta's
//            flag is cleared by a no-event and left alone by a note off)
//   39       +1 when the last note-on went up from the one before, -1 down (a repeated pitch keeps the
//            previous value), 0 before there are two notes
//   40, 41   1 when events[position] equals events[position - 16] (resp. - 32)
//   [42, 49) binary counter of position + 1, bit 0 first, +1 / -1
//   49       1 when position + 1 is a multiple of 16 steps (the next event starts a bar; Magenta's fixed
//            DEFAULT_STEPS_PER_BAR)
//   [50, 62) 1 for each major key (C = 0 .. B = 11) holding the most note-ons of events[0, position]
//   [62, 74) the same over the last three distinct pitches played (most recent kept last)
// Labels (40): 0..35 the pitch - 48, 36 no event, 37 note off, 38 + i a repeat of lookback i (the most
// distant matching lookback wins); a no-event within the first max(lookbacks) steps gets label 39 as in
// Magenta. One deliberate difference: Magenta tests the sounding pitch with Python truthiness, so MIDI 0
// would read as silence; here pitch 0 is a note (it only matters for ranges that include 0).
#include <cstddef>
#include <string>
#include <vector>

#include "antiphon/tokens/events.h"
#include "antiphon/tokens/lookback.h"

namespace antiphon {

class KeyMelodyFeatures {
 public:
  // The pitch range is inclusive (events.h). Asserts at least one positive distance, 0 <= counter bits <= 30,
  // steps_per_bar >= 1.
  KeyMelodyFeatures(int pitch_min, int pitch_max, std::vector<int> lookback_distances = kMagentaLookbackDistances,
                    int binary_counter_bits = 7, int steps_per_bar = 16);

  int input_size() const;   // range + 2 + 1 + 1 + lookbacks + counter bits + 1 + 12 + 12
  int num_classes() const;  // range + 2 + lookbacks
  int note_range() const { return pitch_max_ - pitch_min_ + 1; }
  const std::vector<int>& lookback_distances() const { return lookbacks_; }
  int default_label() const { return note_range(); }  // no event

  // events_to_input. Throws EncodingError naming the position when a pitch lies outside the range.
  std::vector<float> inputs(const std::vector<int>& events, size_t position) const;
  // events_to_label.
  int label(const std::vector<int>& events, size_t position) const;
  // class_index_to_event given events[0, position).
  int event_from_label(const std::vector<int>& events, size_t position, int label) const;
  // The one-hot event class of events.h (0 no event, 1 note off, 2 + pitch - pitch_min) of that event.
  int class_from_label(const std::vector<int>& events, size_t position, int label) const;
  // Magenta's encode(): inputs and next-event labels for a whole event sequence (lookback.h).
  FeatureSequence sequence(const std::vector<int>& events) const;

 private:
  int pitch_min_;
  int pitch_max_;
  std::vector<int> lookbacks_;
  int counter_bits_;
  int steps_per_bar_;
};

struct KeyMelodyConfig {
  EventConfig events;                                               // spec keys range, min, max, squash, steps
  std::vector<int> lookback_distances = kMagentaLookbackDistances;  // spec key "lookbacks"
  int binary_counter_bits = 7;                                      // spec key "bits"
  int steps_per_bar = 16;                                           // spec key "bar"
  void validate() const;                                            // throws ConfigError naming the key and value
  friend bool operator==(const KeyMelodyConfig&, const KeyMelodyConfig&) = default;
};

// Encoding spec "attention[:range=..,lookbacks=16;32,bits=7,bar=16]": tokens are the 38 one-hot event
// classes of events.h (round trip as EventEncoding), with the key-melody features on top.
class AttentionEncoding : public Encoding {
 public:
  explicit AttentionEncoding(KeyMelodyConfig config = {});  // validates

  std::string spec() const override;  // "attention:range=basic"
  const Vocab& vocab() const override { return events_.vocab(); }
  std::vector<int> encode(const Melody& melody) const override { return events_.encode(melody); }
  Melody decode(const std::vector<int>& tokens) const override { return events_.decode(tokens); }
  int end_id() const override { return -1; }
  std::vector<int> pitch_alternatives(int token) const override { return events_.pitch_alternatives(token); }

  const KeyMelodyConfig& config() const { return config_; }
  const EventEncoding& event_encoding() const { return events_; }
  const KeyMelodyFeatures& features() const { return features_; }

 private:
  KeyMelodyConfig config_;
  EventEncoding events_;
  KeyMelodyFeatures features_;
};

}  // namespace antiphon
