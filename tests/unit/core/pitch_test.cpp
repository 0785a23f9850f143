#include "antiphon/core/pitch.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace antiphon {

TEST(Pitch, parses_scientific_names_with_spelling) {
  Pitch p = Pitch::parse("F#3");
  EXPECT_EQ(p.midi, 54);
  EXPECT_EQ(p.letter, Letter::F);
  EXPECT_EQ(p.alter, 1);
  EXPECT_EQ(Pitch::parse("C4").midi, 60);
  EXPECT_EQ(Pitch::parse("Bb5").midi, 82);
  EXPECT_EQ(Pitch::parse("Ebb2").midi, 38);
  EXPECT_EQ(Pitch::parse("c#4").name(), "C#4");
}

TEST(Pitch, keeps_octave_of_the_spelling_across_the_c_boundary) {
  Pitch bsharp = Pitch::from_spelling(Letter::B, 1, 3);
  EXPECT_EQ(bsharp.midi, 60);
  EXPECT_EQ(bsharp.octave(), 3);
  EXPECT_EQ(bsharp.name(), "B#3");
  Pitch cflat = Pitch::from_spelling(Letter::C, -1, 5);
  EXPECT_EQ(cflat.midi, 71);
  EXPECT_EQ(cflat.name(), "Cb5");
}

TEST(Pitch, rejects_malformed_or_out_of_range_names) {
  EXPECT_THROW(Pitch::parse("H4"), std::invalid_argument);
  EXPECT_THROW(Pitch::parse("C"), std::invalid_argument);
  EXPECT_THROW(Pitch::parse("C4x"), std::invalid_argument);
  EXPECT_THROW(Pitch::parse("G10"), std::invalid_argument);  // MIDI 139
  EXPECT_THROW(Pitch::parse("C#-2"), std::invalid_argument);
  EXPECT_EQ(Pitch::parse("C-1").midi, 0);
}

TEST(Pitch, spells_from_midi_with_sharps_or_flats) {
  EXPECT_EQ(Pitch::from_midi(61, true).name(), "C#4");
  EXPECT_EQ(Pitch::from_midi(61, false).name(), "Db4");
  EXPECT_EQ(Pitch::from_midi(59).name(), "B3");
}

TEST(Pitch, transposes_by_spelled_intervals) {
  // E4 up a minor third is G4; up an augmented second {3, 1} it is F##4.
  EXPECT_EQ(Pitch::parse("E4").transposed({3, 2}).name(), "G4");
  EXPECT_EQ(Pitch::parse("E4").transposed({3, 1}).name(), "F##4");
  EXPECT_EQ(Pitch::parse("F#4").transposed(Interval::from_semitones(-2)).name(), "E4");
  EXPECT_EQ(Pitch::parse("Bb3").transposed(Interval::from_semitones(12)).name(), "Bb4");
}

TEST(Interval, spells_semitone_counts_as_usual_intervals) {
  EXPECT_EQ(Interval::from_semitones(3), (Interval{3, 2}));
  EXPECT_EQ(Interval::from_semitones(7), (Interval{7, 4}));
  EXPECT_EQ(Interval::from_semitones(-1), (Interval{-1, -1}));
  EXPECT_EQ(Interval::from_semitones(-12), (Interval{-12, -7}));
  EXPECT_EQ(Interval::from_semitones(14), (Interval{14, 8}));
}

}  // namespace antiphon
