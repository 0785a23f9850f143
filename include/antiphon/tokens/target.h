#pragma once
// Target encodings: what the counting models predict and `antiphon eval --target` scores, one token per
// pitched note, rests skipped (a rest shows only in the next note's inter-onset interval), no end symbol,
// over an alphabet taken from the data (as IDyOM: "all pitches of the dataset").
//   pitch:pitches=60;62;64                      tokens "60" "62" "64"       (chromatic pitch)
//   pitchdur:pitches=60;62,durations=1/2;1      tokens "60:1/2" "60:1" ...   (pitch and duration jointly,
//                                                id = pitch_index * durations + duration_index)
// decode() gives the notes back to back (quarter notes for `pitch`); what the tokens do not hold (rests,
// meter, key) is not restored.
#include <optional>
#include <string>
#include <vector>

#include "antiphon/core/melody.h"
#include "antiphon/tokens/encoding.h"

namespace antiphon {

// A pitched note as the note-level models see it, with what viewpoints derive from (IDyOM's event).
struct NoteEvent {
  int pitch = 60;              // MIDI (chromatic pitch, IDyOM cpitch)
  Duration duration;           // quarters
  Rational onset;              // quarters from the start
  Duration ioi;                // onset minus the previous pitched note's onset; 0 for the first note
  Duration rest_before;        // total rest between the previous pitched note's end and this onset
  int tonic = -1;              // pitch class 0..11 of the key's tonic at this onset; -1 when no key is known
  Mode mode = Mode::major;
  bool key_estimated = false;  // the key came from key estimation, not from the file
  Rational bar_position;       // onset within its bar (quarters); 0 without a regular meter
  bool phrase_begin = false;
  bool phrase_end = false;
};

// The pitched notes of a melody as events (keys from Melody::keys; none when the melody has no key).
std::vector<NoteEvent> note_events(const Melody& melody);

enum class TargetKind { pitch, pitch_duration };

struct TargetConfig {
  TargetKind kind = TargetKind::pitch;
  std::vector<int> pitches;           // sorted, unique, 0..127; spec key "pitches" ("60;62;64")
  std::vector<Duration> durations;    // pitch_duration only: sorted, unique, > 0; spec key "durations"
  // Throws ConfigError naming the problem: an empty alphabet, a pitch outside 0..127, durations given for
  // `pitch` or missing for `pitchdur`, more than 65536 tokens.
  void validate() const;
  // The alphabets of these melodies (every pitch, and for pitch_duration every duration of a pitched note).
  static TargetConfig from_melodies(TargetKind kind, const std::vector<Melody>& melodies);
};

class TargetEncoding : public Encoding {
 public:
  explicit TargetEncoding(TargetConfig config);  // validates; sorts and deduplicates the alphabets
  std::string spec() const override;
  const Vocab& vocab() const override { return vocab_; }
  // Throws EncodingError naming the note whose pitch (or duration) is not in the alphabet.
  std::vector<int> encode(const Melody& melody) const override;
  Melody decode(const std::vector<int>& tokens) const override;
  // Every token (`pitch`) or every token with the same duration (`pitchdur`).
  std::vector<int> pitch_alternatives(int token) const override;

  const TargetConfig& config() const { return config_; }
  // Index of a pitch / duration in its alphabet; -1 when absent.
  int pitch_index(int midi) const;
  int duration_index(const Duration& d) const;
  // The token of an event (-1 when it is not in the alphabet) and the pitch / duration of a token.
  int token_of(const NoteEvent& event) const;
  int token_pitch(int token) const;
  std::optional<Duration> token_duration(int token) const;  // nullopt for `pitch`

 private:
  TargetConfig config_;
  Vocab vocab_;
};

}  // namespace antiphon
