#pragma once
// Note-level encodings: one token per note or rest, the pair (pitch part, duration). The joint token id is
// pitch_id * durations + duration_id, and the end symbol "</s>" follows all pairs:
//   C4 quarter, eighth rest, D4 dotted quarter:  60:1 r:1/2 62:3/2 </s>
// Models may use the joint ids (encode) or the pairs (encode_pairs) with the two smaller vocabularies.
// Durations come from an alphabet: a note whose duration is not in it throws EncodingError naming the note;
// adjacent rests are merged and a rest that is not in the alphabet is written as several rest tokens (the
// fewest alphabet values, largest first), which decode merges back.
#include <cstddef>
#include <string>
#include <vector>

#include "antiphon/tokens/encoding.h"

namespace antiphon {

// The default duration alphabet (quarters), 42 values, sorted: breve .. 64th with 0, 1 or 2 dots; the triplet
// values of kern 3, 6, 12, 24, 48, 96 (4/3, 2/3, 1/3, 1/6, 1/12, 1/24) and the triplet whole 8/3; and tied sums
// common in folk music (5/4, 9/4, 11/4, 5/2, 9/2, 11/2, 13/2, 5, 9, 10, 16).
std::vector<Duration> default_note_durations();
// The durations that occur at least min_count times among the notes and (merged) rests of these melodies,
// sorted; for building an alphabet from a corpus.
std::vector<Duration> observed_durations(const std::vector<Melody>& melodies, size_t min_count = 1);

// A note or rest as a pair of ids into pitch_vocab() and duration_vocab().
struct NoteToken {
  int pitch = 0;
  int duration = 0;
  friend bool operator==(const NoteToken&, const NoteToken&) = default;
};

// The shared machinery of the (pitch part, duration) encodings: the joint vocabulary, splitting and joining.
class PairEncoding : public Encoding {
 public:
  const Vocab& vocab() const override { return vocab_; }
  int end_id() const override { return end_id_; }
  // The tokens with the same duration and a pitch part other than the rest.
  std::vector<int> pitch_alternatives(int token) const override;
  // Joint ids of encode_pairs(melody), then the end symbol.
  std::vector<int> encode(const Melody& melody) const override;
  // Splits the ids (stopping at the end symbol; anything after it is an error naming the position) and
  // decodes the pairs.
  Melody decode(const std::vector<int>& tokens) const override;

  // The pairs of the melody, without an end symbol.
  virtual std::vector<NoteToken> encode_pairs(const Melody& melody) const = 0;
  // Throws EncodingError naming the position of an id out of range or an impossible pair.
  virtual Melody decode_pairs(const std::vector<NoteToken>& pairs) const = 0;

  const Vocab& pitch_vocab() const { return pitch_vocab_; }
  const Vocab& duration_vocab() const { return duration_vocab_; }
  const std::vector<Duration>& durations() const { return durations_; }
  int duration_id(const Duration& d) const;                                        // -1 when not in the alphabet
  int rest_pitch_id() const { return static_cast<int>(pitch_vocab_.size()) - 1; }  // "r" is the last pitch token
  int joint_id(NoteToken pair) const;                                              // asserts both ids in range
  NoteToken split(int joint_id) const;                                             // asserts 0 <= id < end_id()

 protected:
  // pitch_tokens must end with "r"; durations sorted, unique and positive.
  PairEncoding(std::vector<std::string> pitch_tokens, std::vector<Duration> durations);
  // Builds the melody from (midi or -1 for a rest, duration id) runs, merging adjacent rests.
  Melody melody_from_runs(const std::vector<std::pair<int, int>>& runs) const;

 private:
  Vocab pitch_vocab_;
  Vocab duration_vocab_;
  std::vector<Duration> durations_;
  Vocab vocab_;
  int end_id_ = 0;
};

struct NoteConfig {
  std::vector<Duration> durations = default_note_durations();  // spec key "durations": "1/4;1/2;1;3/2"
  int pitch_min = 0;                                           // spec key "min" (inclusive)
  int pitch_max = 127;                                         // spec key "max" (inclusive)
  // Throws ConfigError naming the key and value: an empty alphabet, a duration <= 0, more than 1024 values,
  // pitches outside 0..127 or min > max.
  void validate() const;
};

// Encoding spec "notes[:durations=1/4;1/2;1,min=0,max=127]". Pitch tokens: "0".."127" (id = midi - pitch_min),
// then "r"; duration tokens "1/4", "1", "3/2" (quarters); joint tokens "60:1/2", "r:1".
class NoteEncoding : public PairEncoding {
 public:
  explicit NoteEncoding(NoteConfig config = {});  // validates; sorts the alphabet and drops duplicates

  std::string spec() const override;  // "notes", plus the options that differ from the defaults
  // Throws EncodingError naming the note when its duration is not in the alphabet, its pitch is outside the
  // range, the notes are not back to back, or a rest cannot be split into alphabet values.
  std::vector<NoteToken> encode_pairs(const Melody& melody) const override;
  Melody decode_pairs(const std::vector<NoteToken>& pairs) const override;

  const NoteConfig& config() const { return config_; }
  int pitch_id(int midi) const;  // -1 outside the range

 private:
  NoteConfig config_;
};

}  // namespace antiphon
