#include "antiphon/tokens/intervals.h"

#include <gtest/gtest.h>

#include "melodies.h"

namespace antiphon {
namespace {

using test::kRest;
using test::make_melody;
using test::note_view;
using test::q;

IntervalConfig small_alphabet(int min = -24, int max = 24) {
  IntervalConfig c;
  c.durations = {q(1, 2), q(1), q(2)};
  c.interval_min = min;
  c.interval_max = max;
  return c;
}

template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(IntervalEncoding, encodes_the_first_pitch_then_steps_as_hand_computed) {
  // Pitch ids: @0..@127 = 0..127, steps -24..+24 = 128..176 (0 at 152), rest 177. Durations 1/2, 1, 2.
  IntervalEncoding enc(small_alphabet());
  Melody m = make_melody({{60, q(1)}, {kRest, q(1, 2)}, {62, q(1, 2)}, {59, q(2)}});
  EXPECT_EQ(enc.encode_pairs(m), (std::vector<NoteToken>{{60, 1}, {177, 0}, {154, 0}, {149, 2}}));
  EXPECT_EQ(enc.encode(m), (std::vector<int>{181, 531, 462, 449, 534}));
  EXPECT_EQ(describe_tokens(enc, enc.encode(m)), "@60:1 r:1/2 +2:1/2 -3:2 </s>");
  EXPECT_EQ(enc.pitch_vocab().size(), 178u);
  EXPECT_EQ(enc.pitch_vocab().token(152), "0");
  EXPECT_EQ(enc.interval_id(0), 152);
  EXPECT_EQ(enc.interval_id(25), -1);
  EXPECT_EQ(enc.spec(), "intervals:min=-24,max=24,durations=1/2;1;2");
}

TEST(IntervalEncoding, round_trips_exactly_with_a_leading_rest_and_unisons) {
  IntervalEncoding enc;
  Melody m = make_melody({{kRest, q(1)},
                          {67, q(1, 2)},
                          {67, q(1, 2)},
                          {kRest, q(1, 4)},
                          {91, q(3, 4)},
                          {67, q(1, 3)},
                          {43, q(2, 3)},
                          {44, q(3)}});
  std::vector<NoteToken> pairs = enc.encode_pairs(m);
  EXPECT_EQ(enc.pitch_vocab().token(pairs[1].pitch), "@67");
  EXPECT_EQ(enc.pitch_vocab().token(pairs[2].pitch), "0");
  EXPECT_EQ(enc.pitch_vocab().token(pairs[4].pitch), "+24");  // across the rest
  EXPECT_EQ(enc.pitch_vocab().token(pairs[6].pitch), "-24");
  EXPECT_EQ(note_view(enc.decode(enc.encode(m))), note_view(m));
  EXPECT_EQ(enc.spec(), "intervals:min=-24,max=24");
}

TEST(IntervalEncoding, refuses_a_step_outside_the_range_naming_the_note) {
  IntervalEncoding enc(small_alphabet());
  Melody m = make_melody({{60, q(1)}, {86, q(1)}});
  EXPECT_EQ(error_of([&] { enc.encode(m); }),
            "intervals:min=-24,max=24,durations=1/2;1;2 cannot represent note 1 (D6, onset 1, duration 1): the step "
            "of +26 semitones from the previous pitched note (60) is outside -24..+24");
  IntervalEncoding octave(small_alphabet(-12, 12));
  Melody down = make_melody({{60, q(1)}, {kRest, q(1)}, {47, q(2)}});
  EXPECT_EQ(error_of([&] { octave.encode(down); }),
            "intervals:min=-12,max=12,durations=1/2;1;2 cannot represent note 2 (B2, onset 2, duration 2): the step "
            "of -13 semitones from the previous pitched note (60) is outside -12..+12");
}

TEST(IntervalEncoding, refuses_a_duration_outside_the_alphabet) {
  IntervalEncoding enc(small_alphabet());
  Melody m = make_melody({{60, q(1)}, {62, q(3, 2)}});
  EXPECT_EQ(error_of([&] { enc.encode(m); }),
            "intervals:min=-24,max=24,durations=1/2;1;2 cannot represent note 1 (D4, onset 1, duration 3/2): the "
            "duration 3/2 is not in the duration alphabet");
}

TEST(IntervalEncoding, names_impossible_pairs_when_decoding) {
  IntervalEncoding enc(small_alphabet());
  EXPECT_EQ(error_of([&] {
              enc.decode_pairs({{177, 1}, {154, 1}});
            }),
            "intervals:min=-24,max=24,durations=1/2;1;2 cannot decode pair 1: interval +2 before any absolute pitch");
  EXPECT_EQ(error_of([&] {
              enc.decode_pairs({{120, 1}, {176, 1}});
            }),
            "intervals:min=-24,max=24,durations=1/2;1;2 cannot decode pair 1: interval +24 from 120 leaves MIDI "
            "0..127");
  // A later absolute pitch restarts the chain.
  Melody m = enc.decode_pairs({{60, 1}, {154, 1}, {40, 0}, {153, 0}});
  ASSERT_EQ(m.notes.size(), 4u);
  EXPECT_EQ(m.notes[1].pitch->midi, 62);
  EXPECT_EQ(m.notes[3].pitch->midi, 41);
}

TEST(IntervalConfig, names_the_bad_value) {
  EXPECT_EQ(error_of([] { small_alphabet(5, -5).validate(); }), "min=5 is above max=-5");
  EXPECT_EQ(error_of([] { small_alphabet(-200, 5).validate(); }),
            "min=-200: the largest step down must be within -127..127");
}

}  // namespace antiphon
