#pragma once
// Pitches: MIDI number plus spelling (letter and alteration), and intervals for transposition.
#include <string>

namespace antiphon {

// Diatonic step of a letter name: C=0, D=1, E=2, F=3, G=4, A=5, B=6.
enum class Letter : int { C = 0, D, E, F, G, A, B };

// Pitch class of a natural letter (C=0, D=2, E=4, F=5, G=7, A=9, B=11).
int letter_pitch_class(Letter letter);

// An interval: semitones and diatonic steps (a major third up is {4, 2}; a diminished fourth is {4, 3}).
struct Interval {
  int semitones = 0;
  int steps = 0;
  friend bool operator==(const Interval&, const Interval&) = default;
  // The usual spelling of a number of semitones (m2 M2 m3 M3 P4 A4 P5 m6 M6 m7 M7 plus octaves):
  // from_semitones(3) is a minor third {3, 2}; from_semitones(-1) is a minor second down {-1, -1}.
  static Interval from_semitones(int semitones);
};

struct Pitch {
  int midi = 60;            // MIDI note number, 60 = middle C (C4)
  Letter letter = Letter::C;
  int alter = 0;            // -2..+2 (double flat .. double sharp)

  // The default spelling of a MIDI number: sharps when prefer_sharps, flats otherwise.
  static Pitch from_midi(int midi, bool prefer_sharps = true);
  // Builds a pitch from letter, alteration and octave (scientific: C4 = 60). Throws std::invalid_argument
  // when the result lies outside MIDI 0..127.
  static Pitch from_spelling(Letter letter, int alter, int octave);
  // Parses scientific pitch notation: "C4", "F#3", "Bb5", "Ebb2", "c#4", "C-1" (case-insensitive letter).
  // Throws std::invalid_argument with the text when malformed or out of range.
  static Pitch parse(const std::string& text);

  int pitch_class() const { return ((midi % 12) + 12) % 12; }
  // Octave in scientific notation, taken from the spelling (B#3 is MIDI 60 but octave 3).
  int octave() const;
  // "C#4", "Bb3"
  std::string name() const;
  Pitch transposed(const Interval& by) const;

  friend bool operator==(const Pitch&, const Pitch&) = default;
};

constexpr int kMidiMin = 0;
constexpr int kMidiMax = 127;

}  // namespace antiphon
