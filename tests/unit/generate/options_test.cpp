#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "antiphon/core/error.h"
#include "antiphon/generate/generate.h"
#include "error_of.h"

namespace antiphon {
namespace {

using ::testing::HasSubstr;

using testing_support::error_of;

// The note list a melody reads back from: "C4:1 D4:1/2 r:1".
std::string note_list(const Melody& m) {
  std::string out;
  for (const Note& n : m.notes)
    out += (out.empty() ? "" : " ") + (n.pitch ? n.pitch->name() : std::string("r")) + ":" + n.duration.to_string();
  return out;
}

TEST(ParseNoteList, reads_pitches_durations_and_rests) {
  const Melody m = parse_note_list("C4 D4:1/2 E4:2 r:1");
  ASSERT_EQ(m.notes.size(), 4u);
  EXPECT_EQ(m.notes[0].pitch->midi, 60);
  EXPECT_EQ(m.notes[0].onset, Rational(0));
  EXPECT_EQ(m.notes[0].duration, Rational(1));
  EXPECT_EQ(m.notes[1].pitch->midi, 62);
  EXPECT_EQ(m.notes[1].onset, Rational(1));
  EXPECT_EQ(m.notes[1].duration, Rational(1, 2));
  EXPECT_EQ(m.notes[2].pitch->midi, 64);
  EXPECT_EQ(m.notes[2].onset, Rational(3, 2));
  EXPECT_EQ(m.notes[2].duration, Rational(2));
  EXPECT_TRUE(m.notes[3].is_rest());
  EXPECT_EQ(m.notes[3].onset, Rational(7, 2));
  EXPECT_EQ(m.length(), Rational(9, 2));
  EXPECT_EQ(m.meter().name(), "4/4");
  EXPECT_EQ(m.key().name(), "C major");
  EXPECT_EQ(m.check(), "");
}

TEST(ParseNoteList, round_trips_through_its_text) {
  const Melody m = parse_note_list("  G4:3/2 Bb3:1/2\tF#5 r:1/3 72:2/3  ");
  EXPECT_EQ(note_list(m), "G4:3/2 Bb3:1/2 F#5:1 r:1/3 C5:2/3");
  EXPECT_EQ(parse_note_list(note_list(m)), m);
}

TEST(ParseNoteList, errors_name_the_word) {
  EXPECT_THAT(error_of([] { parse_note_list("C4 H4 E4"); }), HasSubstr("'H4'"));
  EXPECT_THAT(error_of([] { parse_note_list("C4 D4:0"); }), HasSubstr("'D4:0'"));
  EXPECT_THAT(error_of([] { parse_note_list("C4 D4:-1/2"); }), HasSubstr("'D4:-1/2'"));
  EXPECT_THAT(error_of([] { parse_note_list("C4:x"); }), HasSubstr("'x'"));
  EXPECT_THAT(error_of([] { parse_note_list("C4:"); }), HasSubstr("'C4:'"));
  EXPECT_THAT(error_of([] { parse_note_list("200"); }), HasSubstr("'200'"));
  EXPECT_THAT(error_of([] { parse_note_list("   "); }), HasSubstr("no notes"));
}

TEST(RespondMode, names_parse_back) {
  for (RespondMode m : {RespondMode::continuation, RespondMode::answer})
    EXPECT_EQ(parse_respond_mode(respond_mode_name(m)), m);
  EXPECT_EQ(respond_mode_name(RespondMode::answer), "answer");
  EXPECT_EQ(parse_respond_mode("Answer"), RespondMode::answer);
  EXPECT_THAT(error_of([] { parse_respond_mode("echo"); }), HasSubstr("'echo'"));
}

TEST(BeamParams, validate_names_the_parameter_outside_its_range) {
  EXPECT_NO_THROW(BeamParams{}.validate());
  BeamParams b;
  b.beam_size = 0;
  EXPECT_THAT(error_of([&] { b.validate(); }), HasSubstr("beam_size 0 is outside 1..64"));
  BeamParams f;
  f.branch_factor = 65;
  EXPECT_THAT(error_of([&] { f.validate(); }), HasSubstr("branch_factor 65"));
  BeamParams s;
  s.steps_per_iteration = 1025;
  EXPECT_THAT(error_of([&] { s.validate(); }), HasSubstr("steps_per_iteration 1025"));
  BeamParams edge;
  edge.beam_size = 64;
  edge.branch_factor = 64;
  edge.steps_per_iteration = 1024;
  EXPECT_NO_THROW(edge.validate());
}

TEST(GenerateOptions, validate_checks_every_part) {
  EXPECT_NO_THROW(GenerateOptions{}.validate());
  GenerateOptions t;
  t.sampler.temperature = 200;
  EXPECT_THAT(error_of([&] { t.validate(); }), HasSubstr("temperature 200"));
  GenerateOptions b;
  b.beam.beam_size = 100;
  EXPECT_THAT(error_of([&] { b.validate(); }), HasSubstr("beam_size 100"));
  GenerateOptions c;
  c.count = 0;
  EXPECT_THAT(error_of([&] { c.validate(); }), HasSubstr("count 0 is outside 1..1000"));
  GenerateOptions r;
  r.rejection_tries = -1;
  EXPECT_THAT(error_of([&] { r.validate(); }), HasSubstr("rejection_tries -1"));
  GenerateOptions e;
  e.estimate_samples = 10001;
  EXPECT_THAT(error_of([&] { e.validate(); }), HasSubstr("estimate_samples 10001"));
  GenerateOptions l;
  l.lattice_limit = 0;
  EXPECT_THAT(error_of([&] { l.validate(); }), HasSubstr("lattice_limit 0"));
  GenerateOptions zero;
  zero.rejection_tries = 0;
  zero.estimate_samples = 0;
  zero.count = 1000;
  EXPECT_NO_THROW(zero.validate());
}

}  // namespace
}  // namespace antiphon
