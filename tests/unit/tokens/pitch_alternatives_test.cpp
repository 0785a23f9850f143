// Encoding::pitch_alternatives: the tokens among which a note's pitch is renormalised when a model is scored
// on pitch alone. Each onset token lists every pitch the note could have had, and nothing else does.
#include <gtest/gtest.h>

#include "antiphon/tokens/events.h"
#include "antiphon/tokens/grid.h"
#include "antiphon/tokens/lookback.h"
#include "antiphon/tokens/notes.h"
#include "antiphon/tokens/target.h"
#include "melodies.h"

namespace antiphon {
namespace {

using test::kRest;
using test::make_melody;
using test::q;

// Counts the onset tokens of a sequence and checks each lists itself among its alternatives.
size_t onsets(const Encoding& e, const std::vector<int>& tokens) {
  size_t n = 0;
  for (int t : tokens) {
    const std::vector<int> alt = e.pitch_alternatives(t);
    if (alt.empty()) continue;
    ++n;
    EXPECT_NE(std::find(alt.begin(), alt.end(), t), alt.end()) << e.spec() << " token " << t;
  }
  return n;
}

const Melody kTune = make_melody({{60, q(1)}, {kRest, q(1, 2)}, {62, q(1, 2)}, {64, q(3, 2)}, {62, q(1, 2)}});

TEST(PitchAlternatives, grid_onsets_range_over_the_pitch_tokens_only) {
  GridEncoding e({4, 48, 83});
  EXPECT_EQ(e.pitch_alternatives(e.pitch_id(60)).size(), 36u);
  EXPECT_EQ(e.pitch_alternatives(e.pitch_id(60)).front(), 0);
  EXPECT_TRUE(e.pitch_alternatives(e.hold_id()).empty());
  EXPECT_TRUE(e.pitch_alternatives(e.rest_id()).empty());
  EXPECT_TRUE(e.pitch_alternatives(e.end_id()).empty());
  EXPECT_EQ(onsets(e, e.encode(kTune)), 4u);
}

TEST(PitchAlternatives, event_onsets_range_over_the_pitch_classes) {
  EventEncoding e;
  const std::vector<int> alt = e.pitch_alternatives(e.class_of(60));
  EXPECT_EQ(alt.size(), 36u);
  EXPECT_EQ(alt.front(), 2);
  EXPECT_TRUE(e.pitch_alternatives(0).empty());  // no event
  EXPECT_TRUE(e.pitch_alternatives(1).empty());  // note off
  EXPECT_EQ(onsets(e, e.encode(kTune)), 4u);
  LookbackEncoding l;
  EXPECT_EQ(l.pitch_alternatives(e.class_of(60)), alt);
}

TEST(PitchAlternatives, note_tokens_keep_their_duration) {
  NoteEncoding e;
  const std::vector<int> tokens = e.encode(kTune);
  EXPECT_EQ(onsets(e, tokens), 4u);
  const NoteToken first = e.split(tokens[0]);
  for (int a : e.pitch_alternatives(tokens[0])) {
    EXPECT_EQ(e.split(a).duration, first.duration);
    EXPECT_NE(e.split(a).pitch, e.rest_pitch_id());
  }
  EXPECT_EQ(e.pitch_alternatives(tokens[0]).size(), 128u);
  EXPECT_TRUE(e.pitch_alternatives(tokens[1]).empty());  // the rest
  EXPECT_TRUE(e.pitch_alternatives(e.end_id()).empty());
}

TEST(PitchAlternatives, target_tokens_are_all_alternatives_of_each_other) {
  TargetConfig pc;
  pc.pitches = {60, 62, 64};
  TargetEncoding pitch(pc);
  EXPECT_EQ(pitch.pitch_alternatives(1), (std::vector<int>{0, 1, 2}));
  TargetConfig dc;
  dc.kind = TargetKind::pitch_duration;
  dc.pitches = {60, 62};
  dc.durations = {Duration(1, 2), Duration(1)};
  TargetEncoding joint(dc);
  // Token 3 is (62, 1): its alternatives are (60, 1) and (62, 1).
  EXPECT_EQ(joint.pitch_alternatives(3), (std::vector<int>{1, 3}));
}

}  // namespace
}  // namespace antiphon
