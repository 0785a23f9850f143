#include "antiphon/generate/constraints.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "antiphon/core/error.h"
#include "error_of.h"

namespace antiphon {
namespace {

using ::testing::HasSubstr;

PitchClassSet set_of(std::initializer_list<int> pcs) {
  PitchClassSet s{};
  for (int pc : pcs) s[pc] = true;
  return s;
}

StepConstraint step(StepKind kind, std::vector<int> pitches = {}) { return {kind, std::move(pitches)}; }

std::string config_error_of(const std::string& json) {
  try {
    parse_constraints(json, "c.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

using testing_support::error_of;

TEST(ScalePitchClasses, d_dorian_is_the_white_keys) {
  EXPECT_EQ(scale_pitch_classes(Key::from_tonic(Letter::D, 0, Mode::dorian)), set_of({2, 4, 5, 7, 9, 11, 0}));
}

TEST(ScalePitchClasses, covers_major_minor_and_the_modes) {
  EXPECT_EQ(scale_pitch_classes(parse_key_name("G major")), set_of({7, 9, 11, 0, 2, 4, 6}));
  EXPECT_EQ(scale_pitch_classes(parse_key_name("A minor")), set_of({9, 11, 0, 2, 4, 5, 7}));
  EXPECT_EQ(scale_pitch_classes(parse_key_name("E phrygian")), set_of({4, 5, 7, 9, 11, 0, 2}));
  EXPECT_EQ(scale_pitch_classes(parse_key_name("F lydian")), set_of({5, 7, 9, 11, 0, 2, 4}));
  EXPECT_EQ(scale_pitch_classes(parse_key_name("D mixolydian")), set_of({2, 4, 6, 7, 9, 11, 0}));
  EXPECT_EQ(scale_pitch_classes(parse_key_name("B locrian")), set_of({11, 0, 2, 4, 5, 7, 9}));
  EXPECT_EQ(scale_pitch_classes(parse_key_name("Bb minor")), set_of({10, 0, 1, 3, 5, 6, 8}));
}

TEST(ParseKeyName, reads_tonic_and_mode_words) {
  const Key bb = parse_key_name("Bb minor");
  EXPECT_EQ(bb.tonic_pitch_class(), 10);
  EXPECT_EQ(bb.mode, Mode::minor);
  const Key fs = parse_key_name("F# mix");
  EXPECT_EQ(fs.tonic_pitch_class(), 6);
  EXPECT_EQ(fs.mode, Mode::mixolydian);
  const Key a = parse_key_name(" A aeolian ");
  EXPECT_EQ(a.tonic_pitch_class(), 9);
  EXPECT_EQ(a.mode, Mode::aeolian);
  EXPECT_EQ(parse_key_name("E dorian").name(), "E dorian");
}

TEST(ParseKeyName, names_the_text_it_cannot_read) {
  EXPECT_THAT(error_of([] { parse_key_name("H major"); }), HasSubstr("'H major'"));
  EXPECT_THAT(error_of([] { parse_key_name("G weird"); }), HasSubstr("'G weird'"));
  EXPECT_THAT(error_of([] { parse_key_name("G# major"); }), HasSubstr("'G# major'"));  // 8 sharps
}

TEST(ParsePitchWord, reads_names_and_midi_numbers) {
  EXPECT_EQ(parse_pitch_word("C4"), 60);
  EXPECT_EQ(parse_pitch_word("F#5"), 78);
  EXPECT_EQ(parse_pitch_word("Bb3"), 58);
  EXPECT_EQ(parse_pitch_word("60"), 60);
  EXPECT_EQ(parse_pitch_word("0"), 0);
  EXPECT_THAT(error_of([] { parse_pitch_word("H4"); }), HasSubstr("'H4'"));
  EXPECT_THAT(error_of([] { parse_pitch_word("128"); }), HasSubstr("128"));
  EXPECT_THAT(error_of([] { parse_pitch_word("C"); }), HasSubstr("'C'"));
}

TEST(RhythmSteps, expands_notes_into_onset_and_holds_and_rests_into_rests) {
  EXPECT_EQ(rhythm_steps({"1", "1/2", "r1/2"}, 4),
            (std::vector<StepConstraint>{step(StepKind::onset), step(StepKind::hold), step(StepKind::hold),
                                         step(StepKind::hold), step(StepKind::onset), step(StepKind::hold),
                                         step(StepKind::rest), step(StepKind::rest)}));
}

TEST(RhythmSteps, rejects_durations_off_the_grid_or_not_positive) {
  EXPECT_THAT(error_of([] { rhythm_steps({"1/3"}, 4); }), HasSubstr("'1/3' is not a whole number of steps"));
  EXPECT_THAT(error_of([] { rhythm_steps({"r0"}, 4); }), HasSubstr("'r0' is not positive"));
  EXPECT_THAT(error_of([] { rhythm_steps({"x"}, 4); }), HasSubstr("'x'"));
  EXPECT_EQ(rhythm_steps({"1/3"}, 3), (std::vector<StepConstraint>{step(StepKind::onset)}));
}

TEST(ParseConstraints, reads_every_field) {
  const Constraints c = parse_constraints(R"({
    "steps_per_quarter": 2,
    "steps": "C4 - * r C4|E4|G4|E4 . 62",
    "key": "G major",
    "range": ["C4", "G5"],
    "spans": [ { "from": 0, "to": 4, "key": "D dorian", "range": ["D4", 74] },
               { "from": 4, "pitch_classes": ["C", "F#", 11] } ],
    "contour": "uUd*S",
    "final": ["G", 2]
  })",
                                          "test");
  EXPECT_EQ(c.steps_per_quarter, 2);
  EXPECT_EQ(c.steps, (std::vector<StepConstraint>{step(StepKind::pitch, {60}), step(StepKind::hold),
                                                  step(StepKind::onset), step(StepKind::rest),
                                                  step(StepKind::pitch, {60, 64, 67}), step(StepKind::free),
                                                  step(StepKind::pitch, {62})}));
  EXPECT_EQ(c.pitch_classes, set_of({7, 9, 11, 0, 2, 4, 6}));
  EXPECT_EQ(c.low, 60);
  EXPECT_EQ(c.high, 79);
  ASSERT_EQ(c.spans.size(), 2u);
  EXPECT_EQ(c.spans[0].from, 0);
  EXPECT_EQ(c.spans[0].to, 4);
  EXPECT_EQ(c.spans[0].pitch_classes, set_of({2, 4, 5, 7, 9, 11, 0}));
  EXPECT_EQ(c.spans[0].low, 62);
  EXPECT_EQ(c.spans[0].high, 74);
  EXPECT_EQ(c.spans[1].from, 4);
  EXPECT_EQ(c.spans[1].to, -1);
  EXPECT_EQ(c.spans[1].pitch_classes, set_of({0, 6, 11}));
  EXPECT_EQ(c.spans[1].low, 0);
  EXPECT_EQ(c.spans[1].high, 127);
  EXPECT_EQ(c.contour, (std::vector<Contour>{Contour::up, Contour::up, Contour::down, Contour::any, Contour::same}));
  EXPECT_EQ(c.final_pitch_classes, set_of({7, 2}));
  EXPECT_FALSE(c.empty());
}

TEST(ParseConstraints, reads_steps_as_an_array_and_rhythm_at_the_given_grid) {
  const Constraints a = parse_constraints(R"({"steps": ["D4", "-", 64, "."]})", "test");
  EXPECT_EQ(a.steps, (std::vector<StepConstraint>{step(StepKind::pitch, {62}), step(StepKind::hold),
                                                  step(StepKind::pitch, {64}), step(StepKind::free)}));
  const Constraints r = parse_constraints(R"({"steps_per_quarter": 2, "rhythm": ["1", 0.5, "r1/2"]})", "test");
  EXPECT_EQ(r.steps, (std::vector<StepConstraint>{step(StepKind::onset), step(StepKind::hold), step(StepKind::onset),
                                                  step(StepKind::rest)}));
  const Constraints pcs = parse_constraints(R"({"pitch_classes": ["G", "A", "B", 0, 2]})", "test");
  EXPECT_EQ(pcs.pitch_classes, set_of({7, 9, 11, 0, 2}));
  const Constraints midi_range = parse_constraints(R"({"range": [55, 72]})", "test");
  EXPECT_EQ(midi_range.low, 55);
  EXPECT_EQ(midi_range.high, 72);
}

TEST(ParseConstraints, an_empty_object_constrains_nothing) {
  const Constraints c = parse_constraints("{}", "test");
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.describe(), "none");
}

TEST(ParseConstraints, errors_name_the_offending_field_and_value) {
  const std::string unknown = config_error_of(R"({"tempo": 90})");
  EXPECT_THAT(unknown, HasSubstr("c.json"));
  EXPECT_THAT(unknown, HasSubstr("'tempo'"));
  EXPECT_THAT(unknown, HasSubstr("known: steps_per_quarter, steps, rhythm, key, pitch_classes, range, spans"));
  EXPECT_THAT(config_error_of(R"({"steps": "C4 H4 -"})"), HasSubstr("'H4'"));
  EXPECT_THAT(config_error_of(R"({"steps": "C4 E4| -"})"), HasSubstr("'E4|'"));
  EXPECT_THAT(config_error_of(R"({"steps": "C4", "rhythm": ["1"]})"), HasSubstr("both \"steps\" and \"rhythm\""));
  EXPECT_THAT(config_error_of(R"({"key": "C major", "pitch_classes": [0]})"), HasSubstr("both \"key\" and \"pitch_classes\""));
  EXPECT_THAT(config_error_of(R"({"key": "Q minor"})"), HasSubstr("'Q minor'"));
  EXPECT_THAT(config_error_of(R"({"key": 5})"), HasSubstr("\"key\""));
  EXPECT_THAT(config_error_of(R"({"pitch_classes": ["C", 12]})"), HasSubstr("pitch class 12"));
  EXPECT_THAT(config_error_of(R"({"pitch_classes": ["C", "Xb"]})"), HasSubstr("'Xb'"));
  EXPECT_THAT(config_error_of(R"({"pitch_classes": []})"), HasSubstr("pitch-class set is empty"));
  EXPECT_THAT(config_error_of(R"({"range": ["G5", "C4"]})"), HasSubstr("range G5..C4 is inverted"));
  EXPECT_THAT(config_error_of(R"({"range": ["C4"]})"), HasSubstr("[\"C4\"]"));
  EXPECT_THAT(config_error_of(R"({"range": [0, 200]})"), HasSubstr("200"));
  EXPECT_THAT(config_error_of(R"({"rhythm": ["1", "1/3"]})"), HasSubstr("'1/3'"));
  EXPECT_THAT(config_error_of(R"({"rhythm": ["1", "-1"]})"), HasSubstr("'-1' is not positive"));
  EXPECT_THAT(config_error_of(R"({"steps_per_quarter": 0})"), HasSubstr("steps_per_quarter 0 is outside 1..960"));
  EXPECT_THAT(config_error_of(R"({"steps_per_quarter": 1.5})"), HasSubstr("1.5"));
  EXPECT_THAT(config_error_of(R"({"contour": "UXD"})"), HasSubstr("'X'"));
  EXPECT_THAT(config_error_of(R"({"final": "G"})"), HasSubstr("\"G\""));
  EXPECT_THAT(config_error_of(R"({"spans": [{"from": 5, "to": 3}]})"), HasSubstr("to 3 is not after from 5"));
  EXPECT_THAT(config_error_of(R"({"spans": [{"from": -2}]})"), HasSubstr("from -2"));
  EXPECT_THAT(config_error_of(R"({"spans": [{"from": 0, "scale": "x"}]})"), HasSubstr("'scale'"));
  EXPECT_THAT(config_error_of(R"({"spans": [{"key": "C major"}, {"range": ["E4", "C4"]}]})"),
              HasSubstr("span 1: range E4..C4"));
  EXPECT_THAT(config_error_of("[1, 2]"), HasSubstr("a JSON object"));
}

TEST(ParseConstraints, malformed_json_is_a_parse_error_with_line_and_column) {
  const std::string text = "{\n  \"key\": \"G major\",\n  \"range\": [C4, \"G5\"]\n}";
  try {
    parse_constraints(text, "c.json");
    FAIL() << "no ParseError";
  } catch (const ParseError& e) {
    EXPECT_EQ(e.file(), "c.json");
    EXPECT_EQ(e.line(), 3);
    EXPECT_EQ(e.column(), 13);  // the C of C4
    EXPECT_THAT(std::string(e.what()), HasSubstr("c.json:3:13"));
  }
}

TEST(Constraints, pitch_allowed_applies_the_global_rules_and_every_span_over_the_step) {
  Constraints c;
  c.pitch_classes = scale_pitch_classes(parse_key_name("C major"));
  c.low = 60;
  c.high = 84;
  c.spans.push_back({0, 4, set_of({0, 4, 7}), 0, 127});  // C E G on steps 0..3
  c.spans.push_back({2, -1, std::nullopt, 60, 67});       // C4..G4 from step 2 on
  EXPECT_TRUE(c.pitch_allowed(0, 72));    // C5: in the scale, the triad, the range
  EXPECT_FALSE(c.pitch_allowed(0, 62));   // D4: not in the first span's triad
  EXPECT_FALSE(c.pitch_allowed(0, 61));   // C#4: not in the scale
  EXPECT_FALSE(c.pitch_allowed(0, 55));   // G3: below the range
  EXPECT_FALSE(c.pitch_allowed(2, 72));   // C5: above the second span's range
  EXPECT_TRUE(c.pitch_allowed(3, 64));    // E4: both spans allow it
  EXPECT_TRUE(c.pitch_allowed(4, 62));    // D4: the triad span has ended
  EXPECT_FALSE(c.pitch_allowed(100, 69)); // A4: the second span runs to the end
}

TEST(Constraints, pitch_allowed_honours_a_pitch_step) {
  Constraints c;
  c.steps = {step(StepKind::pitch, {60, 64}), step(StepKind::onset)};
  EXPECT_TRUE(c.pitch_allowed(0, 64));
  EXPECT_FALSE(c.pitch_allowed(0, 62));
  EXPECT_TRUE(c.pitch_allowed(1, 62));
}

TEST(Constraints, validate_checks_the_region_length) {
  Constraints c;
  c.steps.assign(41, step(StepKind::free));
  EXPECT_THAT(error_of([&] { c.validate(32); }), HasSubstr("step 40 is beyond the region of 32 steps"));
  EXPECT_NO_THROW(c.validate(41));
  EXPECT_NO_THROW(c.validate());
  Constraints s;
  s.spans.push_back({8, 40, std::nullopt, 60, 72});
  EXPECT_THAT(error_of([&] { s.validate(32); }), HasSubstr("span [8, 40) is beyond the region of 32 steps"));
  EXPECT_NO_THROW(s.validate(40));
  s.spans[0] = {40, -1, std::nullopt, 60, 72};
  EXPECT_THAT(error_of([&] { s.validate(32); }), HasSubstr("span [40, end)"));
  s.spans[0] = {6, 6, std::nullopt, 0, 127};
  EXPECT_THAT(error_of([&] { s.validate(); }), HasSubstr("span [6, 6) is empty or reversed"));
}

TEST(Constraints, validate_names_bad_values) {
  Constraints c;
  c.low = 70;
  c.high = 65;
  EXPECT_THAT(error_of([&] { c.validate(); }), HasSubstr("range A#4..F4 is inverted"));
  Constraints g;
  g.steps_per_quarter = 1000;
  EXPECT_THAT(error_of([&] { g.validate(); }), HasSubstr("steps_per_quarter 1000"));
  Constraints f;
  f.final_pitch_classes = PitchClassSet{};
  EXPECT_THAT(error_of([&] { f.validate(); }), HasSubstr("final pitch-class set is empty"));
  Constraints p;
  p.steps = {step(StepKind::onset), step(StepKind::pitch, {})};
  EXPECT_THAT(error_of([&] { p.validate(); }), HasSubstr("step 1 has an empty pitch set"));
}

TEST(Constraints, describe_lists_each_rule) {
  const Constraints c = parse_constraints(
      R"({"steps": "C4 - * r C4|E4 .", "key": "F major", "range": ["C4", "G5"],
          "spans": [{"from": 0, "to": 4, "range": ["D4", "D5"]}], "contour": "UD*", "final": ["F"]})",
      "test");
  EXPECT_EQ(c.describe(),
            "steps_per_quarter 4; steps: C4 - * r C4|E4 .; pitch classes: C D E F G A Bb; range: C4..G5; "
            "span [0, 4): range D4..D5; contour: UD*; final: F");
}

TEST(ReadConstraintsFile, reads_a_file_and_reports_a_missing_one) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("antiphon_constraints_" + std::to_string(::getpid()) + ".json");
  {
    std::ofstream out(path);
    out << R"({"key": "E dorian", "contour": "U"})";
  }
  const Constraints c = read_constraints_file(path.string());
  EXPECT_EQ(c.pitch_classes, set_of({4, 6, 7, 9, 11, 1, 2}));
  std::filesystem::remove(path);
  EXPECT_THROW(read_constraints_file(path.string()), IoError);
}

}  // namespace
}  // namespace antiphon
