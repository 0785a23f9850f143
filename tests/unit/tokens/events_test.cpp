#include "antiphon/tokens/events.h"

#include <gtest/gtest.h>

#include "melodies.h"

namespace antiphon {
namespace {

using test::in_key;
using test::kRest;
using test::make_melody;
using test::note_view;
using test::q;

constexpr int N = kMelodyNoEvent;
constexpr int X = kMelodyNoteOff;

std::vector<int> pitches_of(const Melody& m) {
  std::vector<int> out;
  for (const Note& n : m.notes) out.push_back(n.is_rest() ? kRest : n.pitch->midi);
  return out;
}

}  // namespace

TEST(EventEncoding, mono_writes_magenta_events_for_note_rest_note) {
  EventEncoding enc(EventConfig::mono());
  Melody m = make_melody({{60, q(1)}, {kRest, q(1)}, {62, q(1, 2)}});
  EXPECT_EQ(enc.events(m), (std::vector<int>{60, N, N, N, X, N, N, N, 62, N}));
  // Classes: 0 no event, 1 note off, 2 + pitch.
  EXPECT_EQ(enc.encode(m), (std::vector<int>{62, 0, 0, 0, 1, 0, 0, 0, 64, 0}));
  EXPECT_EQ(describe_tokens(enc, enc.encode(m)), "60 _ _ _ off _ _ _ 62 _");
  EXPECT_EQ(enc.num_classes(), 130);
  EXPECT_EQ(enc.end_id(), -1);
  EXPECT_EQ(enc.spec(), "events:range=mono");
}

TEST(EventEncoding, fills_a_leading_rest_with_no_events_as_magenta) {
  EventEncoding enc(EventConfig::mono());
  Melody m = make_melody({{kRest, q(1, 2)}, {60, q(1, 2)}, {kRest, q(1, 4)}});
  EXPECT_EQ(enc.events(m), (std::vector<int>{N, N, 60, N, X}));
  EXPECT_EQ(note_view(enc.decode(enc.encode(m))), note_view(m));
}

TEST(EventEncoding, starts_a_repeated_pitch_with_a_new_note_on) {
  EventEncoding enc(EventConfig::mono());
  Melody m = make_melody({{60, q(1, 2)}, {60, q(1, 4)}, {kRest, q(1, 4)}, {kRest, q(1, 4)}});
  EXPECT_EQ(enc.events(m), (std::vector<int>{60, N, 60, X, N}));
}

TEST(EventEncoding, mono_round_trips_exactly) {
  EventEncoding enc(EventConfig::mono());
  Melody m = make_melody({{kRest, q(1)},
                          {21, q(3, 4)},
                          {108, q(1, 4)},
                          {108, q(2)},
                          {kRest, q(1, 2)},
                          {0, q(1, 4)},
                          {127, q(3, 2)},
                          {kRest, q(1, 4)}});
  EXPECT_EQ(note_view(enc.decode(enc.encode(m))), note_view(m));
}

TEST(EventEncoding, basic_is_38_classes_from_48_to_83) {
  EventEncoding enc;
  EXPECT_EQ(enc.num_classes(), 38);
  EXPECT_EQ(enc.vocab().token(2), "48");
  EXPECT_EQ(enc.vocab().token(37), "83");
  EXPECT_EQ(enc.class_of(48), 2);
  EXPECT_EQ(enc.event_of(37), 83);
  EXPECT_EQ(enc.event_of(0), N);
  EXPECT_EQ(enc.event_of(1), X);
  EXPECT_THROW(enc.class_of(84), EncodingError);
  EXPECT_EQ(enc.spec(), "events:range=basic");
}

TEST(Squash, transposes_d_major_to_c_and_centres_it) {
  // Key shift -2; melody centre 80 -> 78; (65.5 - 78) / 12 rounds to -1: shift -14.
  Melody m = in_key(make_melody({{74, q(1)}, {78, q(1)}, {81, q(1)}, {86, q(1)}}), 2);
  SquashResult s = squash(m, 48, 83);
  EXPECT_EQ(s.transpose_semitones, -14);
  EXPECT_EQ(pitches_of(s.melody), (std::vector<int>{60, 64, 67, 72}));
  EXPECT_EQ(s.melody.notes[1].pitch->name(), "E4");
  EXPECT_EQ(s.melody.keys[0].value.name(), "C major");

  EventEncoding enc;
  EXPECT_EQ(enc.encode(m), (std::vector<int>{14, 0, 0, 0, 18, 0, 0, 0, 21, 0, 0, 0, 26, 0, 0, 0}));
}

TEST(Squash, uses_the_key_signature_for_the_transposition) {
  // G major: key shift +5; centre 70.5 + 5 = 75.5; (65.5 - 75.5) / 12 rounds to -1: shift -7.
  Melody m = in_key(make_melody({{67, q(1)}, {71, q(1)}, {74, q(1)}}), 1);
  SquashResult s = squash(m, 48, 83);
  EXPECT_EQ(s.transpose_semitones, -7);
  EXPECT_EQ(pitches_of(s.melody), (std::vector<int>{60, 64, 67}));
}

TEST(Squash, folds_notes_outside_the_range_by_octaves) {
  // C major, centre 65: no shift; 40 folds up to 52, 90 folds down to 78.
  Melody m = in_key(make_melody({{40, q(1)}, {60, q(1)}, {90, q(1)}, {kRest, q(1)}}), 0);
  SquashResult s = squash(m, 48, 83);
  EXPECT_EQ(s.transpose_semitones, 0);
  EXPECT_EQ(pitches_of(s.melody), (std::vector<int>{52, 60, 78, kRest}));
}

TEST(Squash, rounds_half_octaves_to_even_as_python) {
  // Centre 59.5: (65.5 - 59.5) / 12 = 0.5 rounds to 0, not 1.
  Melody low = in_key(make_melody({{59, q(1)}, {60, q(1)}}), 0);
  EXPECT_EQ(squash(low, 48, 83).transpose_semitones, 0);
  // Centre 71.5: -0.5 rounds to 0, not -1.
  Melody high = in_key(make_melody({{71, q(1)}, {72, q(1)}}), 0);
  EXPECT_EQ(squash(high, 48, 83).transpose_semitones, 0);
  // Centre 47.5: 1.5 rounds to 2.
  Melody lower = in_key(make_melody({{47, q(1)}, {48, q(1)}}), 0);
  EXPECT_EQ(squash(lower, 48, 83).transpose_semitones, 24);
}

TEST(Squash, only_folds_when_not_transposing) {
  Melody m = in_key(make_melody({{30, q(1)}, {62, q(1)}}), 2);
  SquashResult s = squash(m, 48, 83, false);
  EXPECT_EQ(s.transpose_semitones, 0);
  EXPECT_EQ(pitches_of(s.melody), (std::vector<int>{54, 62}));
}

TEST(EventEncoding, basic_decodes_to_the_squashed_melody) {
  Melody m = in_key(make_melody({{kRest, q(1, 2)}, {74, q(3, 4)}, {78, q(1, 4)}, {kRest, q(1)}, {86, q(2)}}), 2);
  EventEncoding enc;
  EXPECT_EQ(note_view(enc.decode(enc.encode(m))), note_view(squash(m, 48, 83).melody));
  EXPECT_EQ(note_view(enc.prepare(m)), note_view(squash(m, 48, 83).melody));
}

TEST(EventEncoding, refuses_an_off_grid_note_naming_it_as_written) {
  EventEncoding enc;
  Melody m = in_key(make_melody({{74, q(1)}, {76, q(1, 3)}}), 2);
  try {
    enc.encode(m);
    FAIL() << "no error";
  } catch (const EncodingError& e) {
    EXPECT_STREQ(e.what(),
                 "events:range=basic cannot represent note 1 (E5, onset 1, duration 1/3): the duration 1/3 is 4/3 "
                 "steps, not a whole number of steps at 4 steps per quarter");
  }
}

TEST(EventEncoding, without_squash_refuses_a_pitch_outside_the_range) {
  EventConfig c;
  c.squash = false;
  EventEncoding enc(c);
  EXPECT_EQ(enc.spec(), "events:min=48,max=83,squash=0");
  Melody m = make_melody({{60, q(1)}, {84, q(1)}});
  try {
    enc.encode(m);
    FAIL() << "no error";
  } catch (const EncodingError& e) {
    EXPECT_STREQ(e.what(),
                 "events:min=48,max=83,squash=0 cannot represent note 1 (C6, onset 1, duration 1): pitch 84 is "
                 "outside 48..83");
  }
}

TEST(EventEncoding, reads_note_offs_in_silence_as_more_silence) {
  EventEncoding enc(EventConfig::mono());
  Melody m = enc.melody_from_events({X, N, 60, X, X, N, 62});
  EXPECT_EQ(note_view(m),
            (std::vector<test::NoteView>{
                {kRest, q(0), q(1, 2)}, {60, q(1, 2), q(1, 4)}, {kRest, q(3, 4), q(3, 4)}, {62, q(3, 2), q(1, 4)}}));
}

TEST(EventEncoding, names_the_position_of_a_bad_event_or_token) {
  EventEncoding enc;
  try {
    enc.melody_from_events({60, N, -3});
    FAIL() << "no error";
  } catch (const EncodingError& e) {
    EXPECT_STREQ(e.what(),
                 "events:range=basic cannot decode event 2: value -3 is not -2 (no event), -1 (note off) or a MIDI "
                 "pitch 0..127");
  }
  try {
    enc.decode({2, 38});
    FAIL() << "no error";
  } catch (const EncodingError& e) {
    EXPECT_STREQ(e.what(), "events:range=basic cannot decode token 1: id 38 is outside the vocabulary of 38 tokens");
  }
}

TEST(EventEncoding, supports_a_finer_grid) {
  EventConfig c = EventConfig::mono();
  c.steps_per_quarter = 12;
  EventEncoding enc(c);
  EXPECT_EQ(enc.spec(), "events:range=mono,steps=12");
  Melody m = make_melody({{60, q(1, 3)}, {62, q(1, 6)}, {kRest, q(1, 2)}});
  EXPECT_EQ(enc.events(m), (std::vector<int>{60, N, N, N, 62, N, X, N, N, N, N, N}));
  EXPECT_EQ(note_view(enc.decode(enc.encode(m))), note_view(m));
}

TEST(EventConfig, names_the_bad_value) {
  EventConfig c;
  c.pitch_min = 60;
  c.pitch_max = 65;
  try {
    c.validate();
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "min=60,max=65: squash needs a range of at least 12 pitches");
  }
  c.squash = false;
  EXPECT_NO_THROW(c.validate());
  c.pitch_max = 128;
  EXPECT_THROW(c.validate(), ConfigError);
}

}  // namespace antiphon
