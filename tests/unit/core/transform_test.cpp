#include "antiphon/core/transform.h"

#include <gtest/gtest.h>

namespace antiphon {
namespace {

Melody from_names(std::initializer_list<const char*> names, Rational each = Rational(1)) {
  Melody m;
  for (const char* n : names) m.append(Pitch::parse(n), each);
  return m;
}

}  // namespace

TEST(Transpose, moves_pitches_and_key_with_spelling) {
  Melody m = from_names({"D4", "F#4", "A4"});
  m.keys = {{Rational(0), Key{2, Mode::major}}};
  Melody up = transpose(m, Interval{3, 2});  // minor third up: F major
  EXPECT_EQ(up.notes[0].pitch->name(), "F4");
  EXPECT_EQ(up.notes[1].pitch->name(), "A4");
  EXPECT_EQ(up.notes[2].pitch->name(), "C5");
  EXPECT_EQ(up.keys[0].value.name(), "F major");
  EXPECT_EQ(up.notes[1].onset, Rational(1));
}

TEST(Transpose, refuses_to_leave_the_midi_range) {
  Melody m = from_names({"C4", "G9"});
  EXPECT_THROW(transpose(m, 1), std::out_of_range);
}

TEST(Transpose, to_c_major_and_a_minor_by_the_signature) {
  Melody d = from_names({"D4", "E4", "F#4", "G4", "A4"});
  d.keys = {{Rational(0), Key{2, Mode::major}}};
  EXPECT_EQ(semitones_to_c(d), -2);
  Melody c = transpose_to_c(d);
  EXPECT_EQ(c.keys[0].value.name(), "C major");
  EXPECT_EQ(c.notes[2].pitch->name(), "E4");

  Melody em = from_names({"E4", "G4", "B4"});
  em.keys = {{Rational(0), Key{1, Mode::minor}}};
  Melody am = transpose_to_c(em);
  EXPECT_EQ(am.keys[0].value.name(), "A minor");
  EXPECT_EQ(am.notes[0].pitch->name(), "A4");  // +5 rather than -7

  Melody edor = from_names({"E4", "F#4", "G4"});
  edor.keys = {{Rational(0), Key{2, Mode::dorian}}};
  EXPECT_EQ(transpose_to_c(edor).keys[0].value.name(), "D dorian");
}

TEST(Transpose, all_twelve_transpositions_within_range) {
  Melody m = from_names({"C4", "E4", "G4"});
  auto all = all_transpositions(m);
  ASSERT_EQ(all.size(), 12u);
  EXPECT_EQ(all.front().notes[0].pitch->midi, 55);
  EXPECT_EQ(all.back().notes[0].pitch->midi, 66);
  EXPECT_EQ(all[5], m);  // shift 0 is the original
  // Near the top of the range only the shifts that fit are kept.
  Melody high = from_names({"C9", "E9"});  // 120, 124
  EXPECT_EQ(all_transpositions(high).size(), 9u);  // -5..+3
}

TEST(KeyEstimation, finds_major_and_minor_scales) {
  Melody g = from_names({"G4", "A4", "B4", "C5", "D5", "E5", "F#5", "G5", "D5", "B4", "G4"});
  Key k = estimate_key(g);
  EXPECT_TRUE(k.estimated);
  EXPECT_EQ(k.name(), "G major");

  Melody a = from_names({"A4", "B4", "C5", "D5", "E5", "F5", "G#5", "A5", "E5", "C5", "A4"});
  EXPECT_EQ(estimate_key(a).name(), "A minor");

  Melody eflat = from_names({"Eb4", "F4", "G4", "Ab4", "Bb4", "C5", "D5", "Eb5", "Bb4", "G4", "Eb4"});
  EXPECT_EQ(estimate_key(eflat).name(), "Eb major");
}

TEST(KeyEstimation, weights_pitch_classes_by_duration) {
  // A C major triad in passing, then long A, C and E: the durations make A minor win.
  Melody m;
  for (const char* n : {"C4", "E4", "G4"}) m.append(Pitch::parse(n), Rational(1, 4));
  m.append(Pitch::parse("A4"), Rational(8));
  m.append(Pitch::parse("C5"), Rational(4));
  m.append(Pitch::parse("E5"), Rational(4));
  EXPECT_EQ(estimate_key(m).name(), "A minor");
  Melody same_notes_short_a;
  for (const char* n : {"C4", "E4", "G4"}) same_notes_short_a.append(Pitch::parse(n), Rational(4));
  same_notes_short_a.append(Pitch::parse("A4"), Rational(1, 4));
  EXPECT_EQ(estimate_key(same_notes_short_a).name(), "C major");
  auto r = key_correlations(m);
  ASSERT_EQ(r.size(), 24u);
  EXPECT_GT(r[12 + 9], r[0]);
}

}  // namespace antiphon
