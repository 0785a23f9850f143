#include "antiphon/tokens/target.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace antiphon {
namespace {

using ::testing::HasSubstr;

Melody sample() {
  // 3/4 with a one-beat pickup, G major: D4 | G4 A4. (eighth rest) B4. | C5 (half)
  Melody m;
  m.meters = {{Rational(0), Meter{MeterKind::regular, 3, 4}}};
  m.keys = {{Rational(0), Key{1, Mode::major}}};
  m.pickup = Rational(1);
  m.append(Pitch::from_midi(62), Rational(1));
  m.append(Pitch::from_midi(67), Rational(1));
  m.append(Pitch::from_midi(69), Rational(1, 2));
  m.append(std::nullopt, Rational(1, 2));
  m.append(Pitch::from_midi(71), Rational(1));
  m.append(Pitch::from_midi(72), Rational(2));
  return m;
}

TEST(NoteEvents, derive_ioi_rests_key_and_bar_position) {
  auto e = note_events(sample());
  ASSERT_EQ(e.size(), 5u);
  EXPECT_EQ(e[0].pitch, 62);
  EXPECT_EQ(e[0].ioi, Rational(0));
  EXPECT_EQ(e[0].bar_position, Rational(2));  // the pickup beat is the last beat of a 3/4 bar
  EXPECT_EQ(e[1].bar_position, Rational(0));
  EXPECT_EQ(e[1].ioi, Rational(1));
  EXPECT_EQ(e[3].pitch, 71);
  EXPECT_EQ(e[3].ioi, Rational(1));            // A4 eighth + eighth rest
  EXPECT_EQ(e[3].rest_before, Rational(1, 2));
  EXPECT_EQ(e[3].bar_position, Rational(2));
  EXPECT_EQ(e[4].bar_position, Rational(0));
  EXPECT_EQ(e[4].tonic, 7);  // G
  EXPECT_EQ(e[4].mode, Mode::major);
  Melody no_key = sample();
  no_key.keys.clear();
  EXPECT_EQ(note_events(no_key)[0].tonic, -1);
}

TEST(TargetEncoding, pitch_alphabet_comes_from_the_data_and_skips_rests) {
  TargetEncoding enc(TargetConfig::from_melodies(TargetKind::pitch, {sample()}));
  EXPECT_EQ(enc.spec(), "pitch:pitches=62;67;69;71;72");
  EXPECT_EQ(enc.vocab().size(), 5u);
  EXPECT_EQ(enc.end_id(), -1);
  EXPECT_EQ(enc.encode(sample()), (std::vector<int>{0, 1, 2, 3, 4}));
  Melody back = enc.decode({4, 0});
  ASSERT_EQ(back.notes.size(), 2u);
  EXPECT_EQ(back.notes[0].pitch->midi, 72);
  EXPECT_EQ(back.notes[1].duration, Rational(1));
}

TEST(TargetEncoding, pitchdur_tokens_join_pitch_and_duration) {
  TargetEncoding enc(TargetConfig::from_melodies(TargetKind::pitch_duration, {sample()}));
  EXPECT_EQ(enc.spec(), "pitchdur:pitches=62;67;69;71;72,durations=1/2;1;2");
  EXPECT_EQ(enc.vocab().size(), 15u);
  EXPECT_EQ(enc.vocab().token(enc.encode(sample())[2]), "69:1/2");
  EXPECT_EQ(enc.token_pitch(enc.encode(sample())[4]), 72);
  EXPECT_EQ(enc.token_duration(enc.encode(sample())[4]), Rational(2));
  Melody back = enc.decode(enc.encode(sample()));
  ASSERT_EQ(back.notes.size(), 5u);
  EXPECT_EQ(back.notes[4].onset, Rational(7, 2));  // back to back: the rest is not restored
}

TEST(TargetEncoding, spec_round_trips_through_make_encoding) {
  TargetEncoding enc(TargetConfig::from_melodies(TargetKind::pitch_duration, {sample()}));
  auto again = make_encoding(enc.spec());
  EXPECT_EQ(again->vocab(), enc.vocab());
  EXPECT_EQ(make_encoding("pitch:pitches=72;60;60")->spec(), "pitch:pitches=60;72");
}

TEST(TargetEncoding, errors_name_the_note_or_option) {
  TargetEncoding enc(TargetConfig{TargetKind::pitch, {60, 62}, {}});
  try {
    enc.encode(sample());
    FAIL();
  } catch (const EncodingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("note 1 (G4, onset 1, duration 1): pitch 67")) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("not in the alphabet"));
  }
  EXPECT_THROW(enc.decode({2}), EncodingError);
  EXPECT_THROW(make_encoding("pitch:pitches="), ConfigError);
  EXPECT_THROW(make_encoding("pitch:pitches=60;200"), ConfigError);
  EXPECT_THROW(make_encoding("pitch:pitches=60,durations=1"), ConfigError);
  EXPECT_THROW(make_encoding("pitchdur:pitches=60"), ConfigError);
}

}  // namespace
}  // namespace antiphon
