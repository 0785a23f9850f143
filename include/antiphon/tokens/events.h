#pragma once
// Melody RNN events, as in Magenta (magenta/music/melodies_lib.py, melody_encoder_decoder.py): one event per
// 16th-note step: the MIDI pitch on a note's onset step, kNoEvent (-2) while it is held, kNoteOff (-1) on the
// step where a rest starts after a note (a rest at the very start is kNoEvent filler, as in Magenta, where
// nothing sounds yet). There is no end symbol: the melody ends with its last event.
//   C4 quarter, quarter rest, D4 eighth:  60 -2 -2 -2 -1 -2 -2 -2 62 -2
// The one-hot classes (MelodyOneHotEncoding) are 0 = no event, 1 = note off, 2 + (pitch - pitch_min).
//
// Presets (melody_rnn_model.py): basic (basic_rnn, lookback_rnn, attention_rnn): pitches [48, 84) = 38
// classes, with Magenta's squash (the melody is transposed to C by its key signature, moved by octaves
// towards the middle of the range, and notes still outside are folded into it by octaves); mono (mono_rnn):
// [0, 128) = 130 classes, no squash.
#include <string>
#include <vector>

#include "antiphon/tokens/encoding.h"

namespace antiphon {

constexpr int kMelodyNoEvent = -2;  // Magenta MELODY_NO_EVENT: the current note or rest goes on
constexpr int kMelodyNoteOff = -1;  // Magenta MELODY_NOTE_OFF: the sounding note stops, a rest starts

struct EventConfig {
  // The pitch range, inclusive at both ends (Magenta's max_note is exclusive: its [48, 84) is 48..83 here).
  int pitch_min = 48;         // spec key "min"
  int pitch_max = 83;         // spec key "max"
  bool squash = true;         // spec key "squash": Magenta's Melody.squash with transpose_to_key = 0 (C)
  int steps_per_quarter = 4;  // spec key "steps"
  // Spec key "range": basic (48..83, squash) or mono (0..127, no squash); other keys given override it.
  static EventConfig basic() { return {}; }
  static EventConfig mono() { return {0, 127, false, 4}; }
  // Throws ConfigError naming the key and value: pitches outside 0..127, min > max, squash over fewer than 12
  // pitches (Magenta requires an octave), steps outside 1..960.
  void validate() const;
  // "range=basic" / "range=mono" / "min=..,max=..,squash=.." plus ",steps=N" when not 4.
  std::string spec_options() const;
  friend bool operator==(const EventConfig&, const EventConfig&) = default;
};

struct SquashResult {
  Melody melody;            // transposed and folded (pitches respelled; keys moved with the shift)
  int transpose_semitones;  // the shift applied before folding (Magenta's return value)
};

// Magenta's Melody.squash(min_note, max_note, transpose_to_key=0), with the key taken from the melody's
// key signature (semitones_to_c; estimate_key when it has none) instead of Magenta's note-count heuristic:
// shift = key shift + 12 * round_half_even((centre of [pitch_min, pitch_max] - (centre of the melody's
// pitch range + key shift)) / 12); then a pitch below pitch_min moves up, one above pitch_max down, by
// octaves into the range. With transpose_to_c false the shift is 0 and only the folding applies.
// The range must span at least 12 pitches.
SquashResult squash(const Melody& melody, int pitch_min, int pitch_max, bool transpose_to_c = true);

// Encoding spec "events[:range=basic|mono,min=..,max=..,squash=0|1,steps=..]"; token ids are the one-hot
// classes, with the vocabulary "_" (no event), "off" (note off), then the pitches "48", ...
class EventEncoding : public Encoding {
 public:
  explicit EventEncoding(EventConfig config = {});  // validates

  std::string spec() const override;  // "events:range=basic"
  const Vocab& vocab() const override { return vocab_; }
  // The classes of events(melody).
  std::vector<int> encode(const Melody& melody) const override;
  // The melody of the events; for a squashing config that is the squashed melody, not the original.
  Melody decode(const std::vector<int>& tokens) const override;
  // Magenta has no end symbol.
  int end_id() const override { return -1; }
  std::vector<int> pitch_alternatives(int token) const override;  // every pitch class (2, 3, ...)

  const EventConfig& config() const { return config_; }
  int num_classes() const { return static_cast<int>(vocab_.size()); }
  // The melody as the model sees it: squashed when the config asks, else unchanged.
  Melody prepare(const Melody& melody) const;
  // Event values (-2, -1, MIDI pitch) of prepare(melody). Throws EncodingError naming the note when an
  // onset or duration falls between steps, or (without squash) a pitch lies outside the range.
  std::vector<int> events(const Melody& melody) const;
  // Notes back from event values: a pitch starts a note, kNoteOff starts a rest (or continues one),
  // kNoEvent continues whatever sounds (leading kNoEvents are a rest). Throws EncodingError naming the
  // position of a value outside -2..127.
  Melody melody_from_events(const std::vector<int>& events) const;
  // Magenta MelodyOneHotEncoding.encode_event / decode_event. class_of throws EncodingError naming the event
  // when it is outside the range; event_of asserts 0 <= cls < num_classes().
  int class_of(int event) const;
  int event_of(int cls) const;

 private:
  EventConfig config_;
  Vocab vocab_;
};

// The vocabulary of the one-hot event classes of a pitch range: "_", "off", "48", ..., "83".
Vocab event_class_vocab(int pitch_min, int pitch_max);

}  // namespace antiphon
