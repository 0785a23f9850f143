#include "antiphon/tokens/key_melody.h"

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

// Index layout for [48, 84), two lookbacks, 7 counter bits.
constexpr size_t kNote = 36, kSilence = 37, kAttack = 38, kAscending = 39, kRepeat = 40, kCounter = 42, kBarStart = 49,
                 kKeys = 50, kRecentKeys = 62;

std::vector<float> zeros() { return std::vector<float>(74, 0.0f); }

void set_counter(std::vector<float>& v, unsigned n) {
  for (size_t i = 0; i < 7; ++i) v[kCounter + i] = ((n >> i) & 1U) ? 1.0f : -1.0f;
}

}  // namespace

TEST(KeyMelodyFeatures, has_magentas_sizes) {
  KeyMelodyFeatures f(48, 83);
  EXPECT_EQ(f.input_size(), 74);
  EXPECT_EQ(f.num_classes(), 40);
  EXPECT_EQ(f.default_label(), 36);
}

TEST(KeyMelodyFeatures, inputs_after_an_up_and_a_down) {
  // C4, hold, E4, off, D4 (position 4): the notes C E D fit C, F and G major equally.
  KeyMelodyFeatures f(48, 83);
  std::vector<int> e = {60, N, 64, X, 62, N, 60};
  std::vector<float> expected = zeros();
  expected[62 - 48] = 1;
  expected[kNote] = 1;
  expected[kAttack] = 1;
  expected[kAscending] = -1;  // D4 went down from E4
  set_counter(expected, 5);
  for (size_t k : {0, 5, 7}) {
    expected[kKeys + k] = 1;
    expected[kRecentKeys + k] = 1;
  }
  EXPECT_EQ(f.inputs(e, 4), expected);
}

TEST(KeyMelodyFeatures, inputs_on_a_note_off_keep_magentas_attack_flag) {
  KeyMelodyFeatures f(48, 83);
  std::vector<int> e = {60, N, 64, X, 62, N, 60};
  std::vector<float> expected = zeros();
  expected[kSilence] = 1;
  expected[kAttack] = 1;  // the note off leaves the flag of E4's onset set, as in Magenta
  expected[kAscending] = 1;
  set_counter(expected, 4);
  // C and E: C, F and G major hold both.
  for (size_t k : {0, 5, 7}) {
    expected[kKeys + k] = 1;
    expected[kRecentKeys + k] = 1;
  }
  EXPECT_EQ(f.inputs(e, 3), expected);
}

TEST(KeyMelodyFeatures, inputs_while_a_single_note_is_held) {
  KeyMelodyFeatures f(48, 83);
  std::vector<int> e = {60, N, 64};
  std::vector<float> expected = zeros();
  expected[60 - 48] = 1;
  expected[kNote] = 1;
  // No attack (held), no direction yet.
  set_counter(expected, 2);
  // The major keys holding C: C, Db, Eb, F, G, Ab, Bb.
  for (size_t k : {0, 1, 3, 5, 7, 8, 10}) {
    expected[kKeys + k] = 1;
    expected[kRecentKeys + k] = 1;
  }
  EXPECT_EQ(f.inputs(e, 1), expected);
}

TEST(KeyMelodyFeatures, inputs_separate_the_whole_key_from_the_last_three_notes) {
  // C D E F# G A: only G major holds all six; the last three F# G A fit D and G major.
  KeyMelodyFeatures f(48, 83);
  std::vector<int> e = {60, 62, 64, 66, 67, 69};
  std::vector<float> expected = zeros();
  expected[69 - 48] = 1;
  expected[kNote] = 1;
  expected[kAttack] = 1;
  expected[kAscending] = 1;
  set_counter(expected, 6);
  expected[kKeys + 7] = 1;
  expected[kRecentKeys + 2] = 1;
  expected[kRecentKeys + 7] = 1;
  EXPECT_EQ(f.inputs(e, 5), expected);
}

TEST(KeyMelodyFeatures, inputs_mark_the_bar_start_and_lookback_repeats) {
  KeyMelodyFeatures f(48, 83);
  std::vector<int> e(17, N);
  e[0] = 60;
  e[16] = 60;
  std::vector<float> at15 = f.inputs(e, 15);
  EXPECT_EQ(at15[kBarStart], 1);  // the next event starts bar 2
  EXPECT_EQ(at15[kCounter + 4], 1);
  EXPECT_EQ(at15[kCounter + 0], -1);
  EXPECT_EQ(at15[kRepeat], 0);
  std::vector<float> at16 = f.inputs(e, 16);
  EXPECT_EQ(at16[kBarStart], 0);
  EXPECT_EQ(at16[kRepeat], 1);      // C4 16 back
  EXPECT_EQ(at16[kRepeat + 1], 0);  // nothing 32 back
  EXPECT_EQ(at16[kAttack], 1);
  EXPECT_EQ(at16[kAscending], 0);  // the same pitch again: no direction
}

TEST(KeyMelodyFeatures, labels_pitches_first_then_specials_then_repeats) {
  KeyMelodyFeatures f(48, 83);
  std::vector<int> e(49, N);
  e[0] = 60;
  e[16] = 60;
  e[32] = X;
  EXPECT_EQ(f.label(e, 0), 12);   // 60 - 48
  EXPECT_EQ(f.label(e, 5), 39);   // Magenta: no event before step 32
  EXPECT_EQ(f.label(e, 16), 38);  // repeats 16 back
  EXPECT_EQ(f.label(e, 32), 37);  // note off, no repeat
  EXPECT_EQ(f.label(e, 40), 39);  // no event repeating both lookbacks: the more distant wins
  EXPECT_EQ(f.label(e, 48), 36);  // no event, repeating neither (events[32] off, events[16] C4)
}

TEST(KeyMelodyFeatures, turns_labels_back_into_events_and_classes) {
  KeyMelodyFeatures f(48, 83);
  std::vector<int> e(49, N);
  e[0] = 60;
  e[16] = 60;
  e[32] = X;
  EXPECT_EQ(f.event_from_label(e, 3, 12), 60);
  EXPECT_EQ(f.class_from_label(e, 3, 12), 14);
  EXPECT_EQ(f.event_from_label(e, 3, 36), N);
  EXPECT_EQ(f.class_from_label(e, 3, 37), 1);
  EXPECT_EQ(f.event_from_label(e, 32, 38), 60);  // events[16]
  EXPECT_EQ(f.event_from_label(e, 48, 38), X);   // events[32]
  EXPECT_EQ(f.event_from_label(e, 10, 39), N);   // before the start
  for (size_t p = 0; p < e.size(); ++p) EXPECT_EQ(f.event_from_label(e, p, f.label(e, p)), e[p]) << p;
}

TEST(AttentionEncoding, tokens_are_the_event_classes) {
  AttentionEncoding enc;
  EXPECT_EQ(enc.spec(), "attention:range=basic");
  EXPECT_EQ(enc.vocab().size(), 38u);
  EXPECT_EQ(enc.end_id(), -1);
  Melody m = in_key(make_melody({{60, q(1, 2)}, {kRest, q(1, 4)}, {67, q(1, 4)}}), 0);
  EXPECT_EQ(enc.encode(m), (std::vector<int>{14, 0, 1, 21}));
  EXPECT_EQ(note_view(enc.decode(enc.encode(m))), note_view(m));
  EXPECT_EQ(enc.features().input_size(), 74);
}

TEST(KeyMelodyFeatures, names_an_event_outside_the_range) {
  KeyMelodyFeatures f(48, 83);
  try {
    f.inputs({60, 40}, 1);
    FAIL() << "no error";
  } catch (const EncodingError& e) {
    EXPECT_STREQ(e.what(), "key-melody features: event 1 (40) is outside the pitch range 48..83");
  }
}

TEST(KeyMelodyFeatures, pairs_each_input_with_the_label_of_the_next_event) {
  KeyMelodyFeatures f(48, 83);
  std::vector<int> e = {60, N, 64, X, 62, N, 60};
  FeatureSequence seq = f.sequence(e);
  ASSERT_EQ(seq.inputs.size(), 6u);
  EXPECT_EQ(seq.inputs[3], f.inputs(e, 3));
  EXPECT_EQ(seq.labels, (std::vector<int>{39, 16, 37, 14, 39, 12}));
}

}  // namespace antiphon
