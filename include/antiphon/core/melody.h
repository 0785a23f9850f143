#pragma once
// The music model: notes and rests with exact rational time, meters, keys, phrase marks and metadata.
// Melodies are plain values (no pointer trees): cheap to copy and compare.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "antiphon/core/pitch.h"
#include "antiphon/core/rational.h"

namespace antiphon {

// Time unit everywhere: quarter notes. A quarter is 1, an eighth 1/2, a dotted half 3, a breve 8,
// an eighth-note triplet 1/3.
using Duration = Rational;

enum class MeterKind {
  regular,    // numerator/denominator, e.g. 6/8
  irregular,  // kern *MX: bars of varying length, no fixed signature
  free,       // kern *MZ, ABC "M:none": no meter at all
};

struct Meter {
  MeterKind kind = MeterKind::regular;
  int numerator = 4;
  int denominator = 4;
  // Length of one bar in quarters (numerator * 4 / denominator); 0 for irregular and free meter.
  Duration bar_length() const;
  // "6/8", "irregular", "free"
  std::string name() const;
  bool is_compound() const { return kind == MeterKind::regular && numerator % 3 == 0 && numerator > 3; }
  friend bool operator==(const Meter&, const Meter&) = default;
};

enum class Mode { major, minor, ionian, dorian, phrygian, lydian, mixolydian, aeolian, locrian };

std::string mode_name(Mode mode);
// Parses "major", "minor", "dor", "Dorian", "mix", "aeo", "ion", "phr", "lyd", "loc", "m", "min", "maj".
std::optional<Mode> parse_mode(const std::string& text);
// Semitones from the ionian tonic (the signature's major key) to this mode's tonic: dorian 2, minor 9.
int mode_offset(Mode mode);
// Steps (letters) from the ionian tonic to this mode's tonic: dorian 1, minor 5.
int mode_letter_offset(Mode mode);

struct Key {
  int fifths = 0;          // key signature: +n sharps or -n flats (-7..7)
  Mode mode = Mode::major;
  bool estimated = false;  // true when found by key estimation, not written in the file

  // Tonic pitch class 0..11 and its spelling letter/alteration.
  int tonic_pitch_class() const;
  Letter tonic_letter() const;
  int tonic_alter() const;
  // "G major", "E dorian", "Bb minor"
  std::string name() const;
  // Builds the key from a tonic spelling and mode (e.g. D dorian -> fifths 0). Throws
  // std::invalid_argument when the signature would need more than 7 sharps or flats.
  static Key from_tonic(Letter letter, int alter, Mode mode);
  // Whether the signature alters this letter: +1 sharp, -1 flat, 0 natural.
  int signature_alter(Letter letter) const;
  friend bool operator==(const Key&, const Key&) = default;
};

struct Note {
  Rational onset;                 // quarters from the start of the melody (the pickup starts at 0)
  Duration duration;              // quarters, > 0
  std::optional<Pitch> pitch;     // nullopt: a rest
  bool phrase_begin = false;      // a phrase mark opens on this note
  bool phrase_end = false;        // a phrase mark closes on this note
  bool is_rest() const { return !pitch.has_value(); }
  Rational end() const { return onset + duration; }
  friend bool operator==(const Note&, const Note&) = default;
};

template <typename T>
struct Timed {
  Rational onset;  // quarters from the start
  T value;
  friend bool operator==(const Timed&, const Timed&) = default;
};

// A monophonic melody: notes and rests back to back (each note starts where the previous ended), with
// meter and key changes at given onsets, an optional pickup (anacrusis), tempo, title and metadata.
struct Melody {
  std::string title;
  std::vector<std::pair<std::string, std::string>> metadata;  // e.g. {"region", "Germany"}, in file order
  std::string source_file;   // where it was read from (empty when made in memory)
  int source_line = 0;       // first line of this melody in its file (ABC tunes, kern files: 1)
  int source_index = 0;      // position of the melody in its file (0-based)

  std::vector<Note> notes;
  std::vector<Timed<Meter>> meters;  // sorted by onset; the first at onset 0
  std::vector<Timed<Key>> keys;      // sorted by onset; the first at onset 0
  Duration pickup;                   // length of the anacrusis before the first full bar; 0 if none
  double tempo_qpm = 120.0;          // quarter notes per minute

  Rational length() const { return notes.empty() ? Rational(0) : notes.back().end(); }
  size_t pitched_count() const;      // notes that are not rests
  const Meter& meter_at(const Rational& onset) const;  // 4/4 when none is set
  const Key& key_at(const Rational& onset) const;      // C major when none is set
  const Meter& meter() const { return meter_at(0); }
  const Key& key() const { return key_at(0); }
  std::optional<std::string> metadata_value(const std::string& name) const;

  // Appends a note or rest starting where the melody currently ends.
  void append(std::optional<Pitch> pitch, Duration duration);
  // Merges adjacent rests, recomputes onsets from the durations; asserts durations are positive.
  void normalize();
  // Checks the invariants (positive durations, contiguous onsets, sorted meters/keys); returns the
  // first violation, or an empty string.
  std::string check() const;

  friend bool operator==(const Melody&, const Melody&) = default;
};

// Lowest and highest MIDI number among the melody's pitched notes; nullopt when it has none.
std::optional<std::pair<int, int>> pitch_range(const Melody& melody);

}  // namespace antiphon
