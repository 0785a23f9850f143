#include "antiphon/tokens/lookback.h"

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

// Three 4/4 bars A B B in C major: A = C4 D4 E4 rest, B = C4 F4 E4 rest (quarters). Bar 2 differs from bar 1
// in its second note; bar 3 repeats bar 2.
Melody abb() {
  return in_key(make_melody({{60, q(1)},
                             {62, q(1)},
                             {64, q(1)},
                             {kRest, q(1)},
                             {60, q(1)},
                             {65, q(1)},
                             {64, q(1)},
                             {kRest, q(1)},
                             {60, q(1)},
                             {65, q(1)},
                             {64, q(1)},
                             {kRest, q(1)}}),
                0);
}

// The events of abb(), written out: onsets on steps 0, 4, 8, a note off on 12, and so on.
std::vector<int> abb_events() {
  std::vector<int> e(48, N);
  const int bars[3][3] = {{60, 62, 64}, {60, 65, 64}, {60, 65, 64}};
  for (int b = 0; b < 3; ++b) {
    for (int k = 0; k < 3; ++k) e[static_cast<size_t>(16 * b + 4 * k)] = bars[b][k];
    e[static_cast<size_t>(16 * b + 12)] = X;
  }
  return e;
}

std::vector<float> zeros(size_t n) { return std::vector<float>(n, 0.0f); }

}  // namespace

TEST(LookbackFeatures, has_magentas_sizes_for_the_basic_range) {
  LookbackFeatures f(48, 83);
  EXPECT_EQ(f.input_size(), 121);
  EXPECT_EQ(f.num_classes(), 40);
  EXPECT_EQ(f.event_classes(), 38);
  EXPECT_EQ(f.lookback_distances(), (std::vector<int>{16, 32}));
  LookbackFeatures mono(0, 127);
  EXPECT_EQ(mono.input_size(), 130 * 3 + 5 + 2);
  EXPECT_EQ(mono.num_classes(), 132);
}

TEST(LookbackFeatures, works_on_the_events_of_the_event_encoding) {
  LookbackEncoding enc;
  EXPECT_EQ(enc.event_encoding().events(abb()), abb_events());
  EXPECT_EQ(note_view(enc.decode(enc.encode(abb()))), note_view(abb()));
  EXPECT_EQ(enc.spec(), "lookback:range=basic");
  EXPECT_EQ(enc.vocab().size(), 38u);
  EXPECT_EQ(enc.features().input_size(), 121);
}

TEST(LookbackFeatures, inputs_at_the_end_of_the_first_bar) {
  LookbackFeatures f(48, 83);
  std::vector<float> expected = zeros(121);
  expected[0] = 1;        // current event: no event (class 0)
  expected[38 + 14] = 1;  // the event after the one 16 back: events[0] = C4, class 2 + 60 - 48
  expected[76 + 0] = 1;   // 32 back lies before the start: no event
  for (int i = 114; i < 118; ++i) expected[static_cast<size_t>(i)] = -1;  // counter of 16 = 0b10000
  expected[118] = 1;
  // Neither repeat flag: nothing lies 16 or 32 steps back.
  EXPECT_EQ(f.inputs(abb_events(), 15), expected);
}

TEST(LookbackFeatures, inputs_see_the_next_event_of_the_previous_bar) {
  LookbackFeatures f(48, 83);
  std::vector<float> expected = zeros(121);
  expected[0] = 1;        // events[19]: no event
  expected[38 + 16] = 1;  // events[19 - 16 + 1] = events[4] = D4
  expected[76] = 1;       // before the start
  // counter of 20 = 0b10100
  expected[114] = -1;
  expected[115] = -1;
  expected[116] = 1;
  expected[117] = -1;
  expected[118] = 1;
  expected[119] = 1;  // events[19] == events[3] (both no event)
  EXPECT_EQ(f.inputs(abb_events(), 19), expected);
}

TEST(LookbackFeatures, inputs_flag_the_repeat_of_the_previous_bar) {
  LookbackFeatures f(48, 83);
  std::vector<float> expected = zeros(121);
  expected[19] = 1;  // events[36] = F4, class 2 + 65 - 48
  expected[38] = 1;  // events[21]: no event
  expected[76] = 1;  // events[5]: no event
  // counter of 37 = 0b100101 (five bits)
  expected[114] = 1;
  expected[115] = -1;
  expected[116] = 1;
  expected[117] = -1;
  expected[118] = -1;
  expected[119] = 1;  // events[36] == events[20] = F4
  expected[120] = 0;  // events[4] = D4
  EXPECT_EQ(f.inputs(abb_events(), 36), expected);
}

TEST(LookbackFeatures, labels_repeats_preferring_the_more_distant_lookback) {
  LookbackFeatures f(48, 83);
  std::vector<int> e = abb_events();
  EXPECT_EQ(f.label(e, 0), 14);  // C4
  EXPECT_EQ(f.label(e, 4), 16);  // D4
  EXPECT_EQ(f.label(e, 12), 1);  // note off
  EXPECT_EQ(f.label(e, 1), 39);  // Magenta: a no event before step 32 takes the last lookback label
  EXPECT_EQ(f.label(e, 17), 39);
  EXPECT_EQ(f.label(e, 16), 38);  // C4 repeats 16 back
  EXPECT_EQ(f.label(e, 20), 19);  // F4 differs from D4 16 back
  EXPECT_EQ(f.label(e, 24), 38);  // E4 repeats 16 back
  EXPECT_EQ(f.label(e, 28), 38);  // note off repeats 16 back
  EXPECT_EQ(f.label(e, 32), 39);  // C4 repeats both: the more distant wins
  EXPECT_EQ(f.label(e, 36), 38);  // F4 repeats bar 2 only
  EXPECT_EQ(f.label(e, 37), 39);
  EXPECT_EQ(f.label(e, 44), 39);
}

TEST(LookbackFeatures, turns_labels_back_into_events) {
  LookbackFeatures f(48, 83);
  std::vector<int> e = abb_events();
  EXPECT_EQ(f.event_from_label(e, 36, 38), 65);  // events[20]
  EXPECT_EQ(f.event_from_label(e, 36, 39), 62);  // events[4]
  EXPECT_EQ(f.class_from_label(e, 36, 39), 16);
  EXPECT_EQ(f.event_from_label(e, 10, 38), N);  // before the start
  EXPECT_EQ(f.event_from_label(e, 10, 14), 60);
  EXPECT_EQ(f.event_from_label(e, 10, 1), X);
  EXPECT_EQ(f.class_from_label(e, 10, 0), 0);
  // Labels replayed in order rebuild every event.
  for (size_t p = 0; p < e.size(); ++p) EXPECT_EQ(f.event_from_label(e, p, f.label(e, p)), e[p]) << p;
}

TEST(LookbackFeatures, names_an_event_outside_the_range) {
  LookbackFeatures f(48, 83);
  std::vector<int> e = {60, N, 90};
  try {
    f.label(e, 2);
    FAIL() << "no error";
  } catch (const EncodingError& e2) {
    EXPECT_STREQ(e2.what(), "lookback features: event 90 is outside the pitch range 48..83 (event 2)");
  }
  EXPECT_THROW(f.inputs(e, 2), EncodingError);
}

TEST(LookbackFeatures, bar_distances_follow_the_meter) {
  EXPECT_EQ(bar_lookback_distances(Meter{MeterKind::regular, 3, 4}, 4), (std::vector<int>{12, 24}));
  EXPECT_EQ(bar_lookback_distances(Meter{MeterKind::regular, 6, 8}, 4), (std::vector<int>{12, 24}));
  EXPECT_EQ(bar_lookback_distances(Meter{MeterKind::regular, 2, 4}, 12), (std::vector<int>{24, 48}));
  EXPECT_EQ(bar_lookback_distances(Meter{MeterKind::free, 4, 4}, 4), (std::vector<int>{16, 32}));
}

TEST(LookbackFeatures, uses_configured_lookbacks_and_counter_bits) {
  LookbackFeatures f(48, 83, {12, 24}, 3);
  EXPECT_EQ(f.input_size(), 38 * 3 + 3 + 2);
  std::vector<int> e(13, N);
  e[0] = 60;
  e[12] = 60;
  std::vector<float> in = f.inputs(e, 12);
  EXPECT_EQ(in[14], 1);      // current C4
  EXPECT_EQ(in[38 + 0], 1);  // events[1]: no event
  EXPECT_EQ(in[76 + 0], 1);  // before the start
  EXPECT_EQ(in[114], 1);     // 13 = 0b1101
  EXPECT_EQ(in[115], -1);
  EXPECT_EQ(in[116], 1);
  EXPECT_EQ(in[117], 1);  // repeats 12 back
  EXPECT_EQ(in[118], 0);
  EXPECT_EQ(f.label(e, 12), 38);
}

TEST(LookbackFeatures, pairs_each_input_with_the_label_of_the_next_event) {
  LookbackFeatures f(48, 83);
  std::vector<int> e = abb_events();
  FeatureSequence seq = f.sequence(e);
  ASSERT_EQ(seq.inputs.size(), 47u);
  ASSERT_EQ(seq.labels.size(), 47u);
  EXPECT_EQ(seq.inputs[15], f.inputs(e, 15));
  EXPECT_EQ(seq.labels[15], 38);  // the label of events[16], C4 repeating bar 1
  EXPECT_EQ(seq.labels[0], 39);   // events[1], an early no event
  EXPECT_TRUE(f.sequence({60}).inputs.empty());
}

}  // namespace antiphon
