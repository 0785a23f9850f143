#include "antiphon/tokens/grid.h"

#include <gtest/gtest.h>

#include "melodies.h"

namespace antiphon {
namespace {

using test::kRest;
using test::make_melody;
using test::note_view;
using test::q;

std::string error_of(const GridEncoding& enc, const Melody& m) {
  try {
    enc.encode(m);
  } catch (const EncodingError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string decode_error_of(const GridEncoding& enc, const std::vector<int>& tokens) {
  try {
    enc.decode(tokens);
  } catch (const EncodingError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(GridEncoding, has_pitches_then_hold_rest_and_end_in_its_vocabulary) {
  GridEncoding enc;
  EXPECT_EQ(enc.vocab().size(), 131u);
  EXPECT_EQ(enc.vocab().token(60), "60");
  EXPECT_EQ(enc.hold_id(), 128);
  EXPECT_EQ(enc.rest_id(), 129);
  EXPECT_EQ(enc.end_id(), 130);
  EXPECT_EQ(enc.vocab().token(130), "</s>");
  EXPECT_EQ(enc.spec(), "grid:steps=4");
}

TEST(GridEncoding, encodes_note_rest_note_as_hand_computed) {
  // C4 quarter, quarter rest, D4 eighth at 4 steps per quarter.
  GridEncoding enc;
  Melody m = make_melody({{60, q(1)}, {kRest, q(1)}, {62, q(1, 2)}});
  std::vector<int> expected = {60, 128, 128, 128, 129, 128, 128, 128, 62, 128, 130};
  EXPECT_EQ(enc.encode(m), expected);
  EXPECT_EQ(describe_tokens(enc, expected), "60 _ _ _ r _ _ _ 62 _ </s>");
}

TEST(GridEncoding, writes_adjacent_rests_as_one_rest) {
  GridEncoding enc;
  Melody m = make_melody({{60, q(1, 4)}, {kRest, q(1, 2)}, {kRest, q(1, 4)}, {60, q(1, 4)}});
  EXPECT_EQ(describe_tokens(enc, enc.encode(m)), "60 r _ _ 60 </s>");
  Melody back = enc.decode(enc.encode(m));
  ASSERT_EQ(back.notes.size(), 3u);
  EXPECT_EQ(back.notes[1].duration, q(3, 4));
  EXPECT_TRUE(back.notes[1].is_rest());
}

TEST(GridEncoding, repeats_a_pitch_as_a_new_onset) {
  GridEncoding enc;
  Melody m = make_melody({{67, q(1, 2)}, {67, q(1, 2)}});
  EXPECT_EQ(describe_tokens(enc, enc.encode(m)), "67 _ 67 _ </s>");
}

TEST(GridEncoding, round_trips_triplets_at_twelve_steps) {
  GridEncoding enc(GridConfig{12, 0, 127});
  Melody m = make_melody({{60, q(1, 3)},
                          {62, q(1, 3)},
                          {64, q(1, 3)},
                          {kRest, q(1, 6)},
                          {65, q(5, 6)},
                          {67, q(3, 4)},
                          {69, q(1, 4)},
                          {kRest, q(2)}});
  std::vector<int> tokens = enc.encode(m);
  // 3 x 1/3 + 1/6 + 5/6 + 3/4 + 1/4 + 2 = 5 quarters = 60 steps, plus the end symbol.
  EXPECT_EQ(tokens.size(), 61u);
  EXPECT_EQ(describe_tokens(enc, {tokens.begin(), tokens.begin() + 14}), "60 _ _ _ 62 _ _ _ 64 _ _ _ r _");
  EXPECT_EQ(note_view(enc.decode(tokens)), note_view(m));
}

TEST(GridEncoding, refuses_triplets_at_four_steps_naming_the_note) {
  GridEncoding enc;
  Melody m = make_melody({{60, q(1)}, {62, q(1, 3)}, {64, q(1, 3)}, {65, q(1, 3)}});
  EXPECT_EQ(error_of(enc, m),
            "grid:steps=4 cannot represent note 1 (D4, onset 1, duration 1/3): the duration 1/3 is 4/3 steps, "
            "not a whole number of steps at 4 steps per quarter");
  EXPECT_THROW(enc.encode(m), EncodingError);
}

TEST(GridEncoding, refuses_a_pitch_outside_its_range) {
  GridEncoding enc(GridConfig{4, 48, 84});
  Melody m = make_melody({{60, q(1)}, {36, q(1)}});
  EXPECT_EQ(error_of(enc, m),
            "grid:steps=4,min=48,max=84 cannot represent note 1 (C2, onset 1, duration 1): pitch 36 is outside "
            "48..84");
}

TEST(GridEncoding, uses_ids_relative_to_the_lowest_pitch) {
  GridEncoding enc(GridConfig{4, 48, 84});
  EXPECT_EQ(enc.vocab().size(), 40u);
  Melody m = make_melody({{48, q(1, 4)}, {84, q(1, 2)}});
  EXPECT_EQ(enc.encode(m), (std::vector<int>{0, 36, 37, 39}));
}

TEST(GridEncoding, refuses_notes_that_are_not_back_to_back) {
  GridEncoding enc;
  Melody m = make_melody({{60, q(1)}, {62, q(1)}});
  m.notes[1].onset = q(2);
  EXPECT_EQ(error_of(enc, m),
            "grid:steps=4 cannot represent note 1 (D4, onset 2, duration 1): it starts at 2 but the previous note "
            "ends at 1");
}

TEST(GridEncoding, encodes_an_empty_melody_as_the_end_symbol) {
  GridEncoding enc;
  EXPECT_EQ(enc.encode(Melody{}), std::vector<int>{130});
  EXPECT_TRUE(enc.decode({130}).notes.empty());
}

TEST(GridEncoding, decodes_without_an_end_symbol_and_merges_rest_tokens) {
  GridEncoding enc;
  Melody m = enc.decode({129, 129, 128, 60, 128});
  ASSERT_EQ(m.notes.size(), 2u);
  EXPECT_TRUE(m.notes[0].is_rest());
  EXPECT_EQ(m.notes[0].duration, q(3, 4));
  EXPECT_EQ(m.notes[1].pitch->midi, 60);
  EXPECT_EQ(m.notes[1].onset, q(3, 4));
  EXPECT_EQ(m.notes[1].duration, q(1, 2));
}

TEST(GridEncoding, names_the_position_of_an_impossible_token) {
  GridEncoding enc;
  EXPECT_EQ(decode_error_of(enc, {128, 60}),
            "grid:steps=4 cannot decode token 0: a hold '_' with no note or rest before it");
  EXPECT_EQ(decode_error_of(enc, {60, 130, 62}), "grid:steps=4 cannot decode token 2: '62' after the end symbol");
  EXPECT_EQ(decode_error_of(enc, {60, 131}),
            "grid:steps=4 cannot decode token 1: id 131 is outside the vocabulary of 131 tokens");
  EXPECT_EQ(decode_error_of(enc, {-1}),
            "grid:steps=4 cannot decode token 0: id -1 is outside the vocabulary of 131 tokens");
}

TEST(GridConfig, names_the_bad_value) {
  EXPECT_THROW((GridEncoding(GridConfig{0, 0, 127})), ConfigError);
  try {
    GridConfig{4, 70, 60}.validate();
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "min=70 is above max=60");
  }
}

}  // namespace antiphon
