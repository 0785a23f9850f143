#include "antiphon/tokens/notes.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "melodies.h"

namespace antiphon {
namespace {

using test::kRest;
using test::make_melody;
using test::note_view;
using test::q;

NoteConfig with_durations(std::vector<Duration> d) {
  NoteConfig c;
  c.durations = std::move(d);
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

TEST(NoteEncoding, encodes_pitch_duration_pairs_as_hand_computed) {
  // Durations sorted: 1/2 -> 0, 1 -> 1, 3/2 -> 2. Pitch ids: MIDI, rest 128. Joint = pitch * 3 + duration.
  NoteEncoding enc(with_durations({q(1), q(1, 2), q(3, 2)}));
  Melody m = make_melody({{60, q(1)}, {kRest, q(1, 2)}, {62, q(3, 2)}});
  EXPECT_EQ(enc.encode_pairs(m), (std::vector<NoteToken>{{60, 1}, {128, 0}, {62, 2}}));
  EXPECT_EQ(enc.encode(m), (std::vector<int>{181, 384, 188, 387}));
  EXPECT_EQ(enc.end_id(), 387);
  EXPECT_EQ(enc.vocab().size(), 388u);
  EXPECT_EQ(describe_tokens(enc, enc.encode(m)), "60:1 r:1/2 62:3/2 </s>");
  EXPECT_EQ(enc.pitch_vocab().size(), 129u);
  EXPECT_EQ(enc.duration_vocab().token(2), "3/2");
  EXPECT_EQ(enc.split(188), (NoteToken{62, 2}));
  EXPECT_EQ(enc.joint_id({128, 0}), 384);
  EXPECT_EQ(enc.spec(), "notes:durations=1/2;1;3/2");
}

TEST(NoteEncoding, round_trips_folk_rhythms_with_the_default_alphabet) {
  NoteEncoding enc;
  Melody m = make_melody({{kRest, q(1, 2)},
                          {67, q(1, 2)},
                          {72, q(3, 4)},
                          {71, q(1, 4)},
                          {69, q(1, 3)},
                          {67, q(1, 3)},
                          {65, q(1, 3)},
                          {64, q(5, 2)},
                          {kRest, q(1, 2)},
                          {62, q(7, 4)},
                          {60, q(1, 4)},
                          {60, q(9, 2)},
                          {kRest, q(1)}});
  EXPECT_EQ(note_view(enc.decode(enc.encode(m))), note_view(m));
  EXPECT_EQ(note_view(enc.decode_pairs(enc.encode_pairs(m))), note_view(m));
}

TEST(NoteEncoding, default_alphabet_holds_kern_and_abc_values) {
  std::vector<Duration> d = default_note_durations();
  EXPECT_EQ(d.size(), 42u);
  EXPECT_TRUE(std::is_sorted(d.begin(), d.end()));
  for (Duration v : {q(8), q(4), q(1, 16), q(12), q(3, 32), q(7, 4), q(7, 64), q(4, 3), q(1, 3), q(1, 12), q(8, 3),
                     q(1, 24), q(5, 2), q(11, 4), q(13, 2), q(16)})
    EXPECT_TRUE(std::binary_search(d.begin(), d.end(), v)) << v.to_string();
  EXPECT_FALSE(std::binary_search(d.begin(), d.end(), q(1, 5)));
  NoteEncoding enc;
  EXPECT_EQ(enc.vocab().size(), 129u * 42u + 1u);
  EXPECT_EQ(enc.spec(), "notes");
}

TEST(NoteEncoding, refuses_a_duration_outside_the_alphabet_naming_the_note) {
  NoteEncoding enc(with_durations({q(1, 2), q(1), q(3, 2)}));
  Melody m = make_melody({{60, q(1)}, {62, q(1, 5)}});
  EXPECT_EQ(error_of([&] { enc.encode(m); }),
            "notes:durations=1/2;1;3/2 cannot represent note 1 (D4, onset 1, duration 1/5): the duration 1/5 is "
            "not in the duration alphabet");
}

TEST(NoteEncoding, merges_adjacent_rests) {
  NoteEncoding enc(with_durations({q(1, 2), q(1), q(3, 2)}));
  Melody m = make_melody({{60, q(1)}, {kRest, q(1, 2)}, {kRest, q(1)}, {62, q(1)}});
  EXPECT_EQ(describe_tokens(enc, enc.encode(m)), "60:1 r:3/2 62:1 </s>");
}

TEST(NoteEncoding, splits_a_rest_that_is_not_in_the_alphabet) {
  NoteEncoding enc(with_durations({q(1, 2), q(1), q(3, 2)}));
  Melody m = make_melody({{60, q(1)}, {kRest, q(5, 2)}, {62, q(1)}});
  EXPECT_EQ(describe_tokens(enc, enc.encode(m)), "60:1 r:3/2 r:1 62:1 </s>");
  EXPECT_EQ(note_view(enc.decode(enc.encode(m))), note_view(m));
  // 2 = 1 + 1, where taking 3/2 first would leave 1/2, which this alphabet lacks.
  NoteEncoding coarse(with_durations({q(1), q(3, 2)}));
  Melody two = make_melody({{60, q(1)}, {kRest, q(2)}});
  EXPECT_EQ(describe_tokens(coarse, coarse.encode(two)), "60:1 r:1 r:1 </s>");
}

TEST(NoteEncoding, names_a_rest_that_cannot_be_split) {
  NoteEncoding enc(with_durations({q(1)}));
  Melody m = make_melody({{60, q(1)}, {kRest, q(1, 4)}, {kRest, q(1, 4)}, {62, q(1)}});
  EXPECT_EQ(error_of([&] { enc.encode(m); }),
            "notes:durations=1 cannot represent note 1 (rest, onset 1, duration 1/4): a rest of 1/2 quarters is not "
            "a sum of durations in the alphabet");
}

TEST(NoteEncoding, refuses_a_pitch_outside_its_range) {
  NoteConfig c;
  c.pitch_min = 48;
  c.pitch_max = 84;
  NoteEncoding enc(c);
  EXPECT_EQ(enc.spec(), "notes:min=48,max=84");
  EXPECT_EQ(enc.pitch_id(48), 0);
  EXPECT_EQ(enc.rest_pitch_id(), 37);
  EXPECT_EQ(error_of([&] {
              enc.encode(make_melody({{90, q(1)}}));
            }),
            "notes:min=48,max=84 cannot represent note 0 (F#6, onset 0, duration 1): pitch 90 is outside 48..84");
}

TEST(NoteEncoding, names_the_position_of_a_bad_token) {
  NoteEncoding enc(with_durations({q(1, 2), q(1)}));
  EXPECT_EQ(error_of([&] {
              enc.decode({120, 258, 120});
            }),
            "notes:durations=1/2;1 cannot decode token 2: '60:1/2' after the end symbol");
  EXPECT_EQ(error_of([&] { enc.decode({259}); }),
            "notes:durations=1/2;1 cannot decode token 0: id 259 is outside the vocabulary of 259 tokens");
  EXPECT_EQ(error_of([&] {
              enc.decode_pairs({{60, 0}, {129, 0}});
            }),
            "notes:durations=1/2;1 cannot decode pair 1: (129, 0) is outside the pitch and duration vocabularies");
}

TEST(NoteEncoding, decodes_consecutive_rest_tokens_as_one_rest) {
  NoteEncoding enc(with_durations({q(1, 2), q(1)}));
  Melody m = enc.decode({128 * 2 + 1, 128 * 2 + 0, 60 * 2 + 1});
  ASSERT_EQ(m.notes.size(), 2u);
  EXPECT_EQ(m.notes[0].duration, q(3, 2));
  EXPECT_EQ(m.notes[1].onset, q(3, 2));
}

TEST(ObservedDurations, collects_note_and_merged_rest_values) {
  std::vector<Melody> corpus = {make_melody({{60, q(1)}, {kRest, q(1, 2)}, {kRest, q(1, 4)}, {62, q(1, 2)}}),
                                make_melody({{60, q(1)}, {62, q(1, 3)}, {kRest, q(5)}})};
  EXPECT_EQ(observed_durations(corpus), (std::vector<Duration>{q(1, 3), q(1, 2), q(3, 4), q(1), q(5)}));
  EXPECT_EQ(observed_durations(corpus, 2), (std::vector<Duration>{q(1)}));
  NoteConfig c;
  c.durations = observed_durations(corpus);
  NoteEncoding enc(c);
  for (const Melody& m : corpus) EXPECT_EQ(note_view(enc.decode(enc.encode(m))), note_view(m));
}

TEST(NoteConfig, names_the_bad_value) {
  EXPECT_EQ(error_of([] { with_durations({}).validate(); }), "durations=: the duration alphabet is empty");
  EXPECT_EQ(error_of([] {
              with_durations({q(1), q(-1, 2)}).validate();
            }),
            "durations: -1/2 is not a positive duration");
}

}  // namespace antiphon
