#include "antiphon/core/melody.h"

#include <gtest/gtest.h>

namespace antiphon {

TEST(Meter, gives_bar_length_in_quarters) {
  EXPECT_EQ((Meter{MeterKind::regular, 6, 8}.bar_length()), Rational(3));
  EXPECT_EQ((Meter{MeterKind::regular, 3, 2}.bar_length()), Rational(6));
  EXPECT_EQ((Meter{MeterKind::free, 0, 0}.bar_length()), Rational(0));
  EXPECT_TRUE((Meter{MeterKind::regular, 6, 8}.is_compound()));
  EXPECT_FALSE((Meter{MeterKind::regular, 3, 4}.is_compound()));
  EXPECT_EQ((Meter{MeterKind::irregular, 0, 0}.name()), "irregular");
}

TEST(Key, names_tonic_and_mode_from_signature) {
  EXPECT_EQ((Key{2, Mode::major}.name()), "D major");
  EXPECT_EQ((Key{-3, Mode::minor}.name()), "C minor");
  EXPECT_EQ((Key{0, Mode::dorian}.name()), "D dorian");
  EXPECT_EQ((Key{1, Mode::mixolydian}.name()), "D mixolydian");
  EXPECT_EQ((Key{6, Mode::major}.name()), "F# major");
  EXPECT_EQ((Key{-7, Mode::major}.name()), "Cb major");
}

TEST(Key, builds_from_tonic_and_mode) {
  EXPECT_EQ(Key::from_tonic(Letter::E, 0, Mode::dorian).fifths, 2);
  EXPECT_EQ(Key::from_tonic(Letter::B, -1, Mode::major).fifths, -2);
  EXPECT_EQ(Key::from_tonic(Letter::F, 1, Mode::minor).fifths, 3);
  EXPECT_EQ(Key::from_tonic(Letter::A, 0, Mode::mixolydian).fifths, 2);
  EXPECT_THROW(Key::from_tonic(Letter::G, 1, Mode::major), std::invalid_argument);  // 8 sharps
}

TEST(Key, reports_signature_alteration_per_letter) {
  Key d{2, Mode::major};
  EXPECT_EQ(d.signature_alter(Letter::F), 1);
  EXPECT_EQ(d.signature_alter(Letter::C), 1);
  EXPECT_EQ(d.signature_alter(Letter::G), 0);
  Key eflat{-3, Mode::major};
  EXPECT_EQ(eflat.signature_alter(Letter::B), -1);
  EXPECT_EQ(eflat.signature_alter(Letter::A), -1);
  EXPECT_EQ(eflat.signature_alter(Letter::D), 0);
}

TEST(Mode, parses_abbreviations_case_insensitively) {
  EXPECT_EQ(parse_mode("Dor"), Mode::dorian);
  EXPECT_EQ(parse_mode("MIXolydian"), Mode::mixolydian);
  EXPECT_EQ(parse_mode("m"), Mode::minor);
  EXPECT_EQ(parse_mode(""), Mode::major);
  EXPECT_EQ(parse_mode("xyz"), std::nullopt);
}

TEST(Melody, appends_notes_back_to_back_and_checks_invariants) {
  Melody m;
  m.append(Pitch::parse("G4"), Rational(1, 2));
  m.append(std::nullopt, Rational(1, 3));
  m.append(Pitch::parse("A4"), Rational(3, 2));
  EXPECT_EQ(m.notes[2].onset, Rational(5, 6));
  EXPECT_EQ(m.length(), Rational(7, 3));
  EXPECT_EQ(m.pitched_count(), 2u);
  EXPECT_EQ(m.check(), "");
  m.notes[1].onset = Rational(1);
  EXPECT_NE(m.check().find("note 1 starts at 1"), std::string::npos);
}

TEST(Melody, normalize_merges_adjacent_rests) {
  Melody m;
  m.append(Pitch::parse("C4"), Rational(1));
  m.append(std::nullopt, Rational(1));
  m.append(std::nullopt, Rational(1, 2));
  m.append(Pitch::parse("D4"), Rational(1));
  m.normalize();
  ASSERT_EQ(m.notes.size(), 3u);
  EXPECT_EQ(m.notes[1].duration, Rational(3, 2));
  EXPECT_EQ(m.notes[2].onset, Rational(5, 2));
}

TEST(Melody, finds_meter_and_key_in_force_at_an_onset) {
  Melody m;
  m.meters = {{Rational(0), Meter{MeterKind::regular, 3, 4}}, {Rational(6), Meter{MeterKind::regular, 2, 4}}};
  m.keys = {{Rational(0), Key{1, Mode::major}}};
  EXPECT_EQ(m.meter_at(Rational(5)).numerator, 3);
  EXPECT_EQ(m.meter_at(Rational(6)).numerator, 2);
  EXPECT_EQ(m.key_at(Rational(100)).fifths, 1);
  Melody empty;
  EXPECT_EQ(empty.meter().name(), "4/4");
  EXPECT_EQ(empty.key().name(), "C major");
}

TEST(Melody, pitch_range_ignores_rests) {
  Melody m;
  EXPECT_FALSE(pitch_range(m).has_value());
  m.append(std::nullopt, Rational(1));
  m.append(Pitch::parse("E5"), Rational(1));
  m.append(Pitch::parse("A3"), Rational(1));
  auto r = pitch_range(m);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->first, 57);
  EXPECT_EQ(r->second, 76);
}

}  // namespace antiphon
