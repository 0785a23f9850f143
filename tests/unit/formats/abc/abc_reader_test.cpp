// ABC 2.1 reader: one tiny fixture per feature, expected notes computed by hand.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "antiphon/core/text.h"
#include "antiphon/core/transform.h"
#include "antiphon/formats/abc.h"
#include "antiphon/formats/format.h"

namespace antiphon {
namespace {

std::string fixture(const std::string& name) { return std::string(ANTIPHON_FIXTURES) + "/abc/" + name; }

ReadResult read_fixture(const std::string& name) { return read_file(fixture(name)); }

// A note as expected: pitch in scientific notation ("" for a rest), onset and duration in quarters.
struct Expected {
  std::string pitch;
  std::string onset;
  std::string duration;
};

std::string describe(const Melody& m) {
  std::string s;
  for (const Note& n : m.notes)
    s +=
        " " + (n.pitch ? n.pitch->name() : std::string("z")) + "@" + n.onset.to_string() + "/" + n.duration.to_string();
  return s;
}

void expect_notes(const Melody& m, const std::vector<Expected>& expected) {
  ASSERT_EQ(m.notes.size(), expected.size()) << describe(m);
  for (size_t i = 0; i < expected.size(); ++i) {
    const Note& n = m.notes[i];
    if (expected[i].pitch.empty()) {
      EXPECT_TRUE(n.is_rest()) << "note " << i << describe(m);
    } else {
      ASSERT_TRUE(n.pitch.has_value()) << "note " << i << describe(m);
      EXPECT_EQ(*n.pitch, Pitch::parse(expected[i].pitch)) << "note " << i << ": " << n.pitch->name();
    }
    EXPECT_EQ(n.onset, Rational::parse(expected[i].onset)) << "note " << i << describe(m);
    EXPECT_EQ(n.duration, Rational::parse(expected[i].duration)) << "note " << i << describe(m);
  }
  EXPECT_EQ(m.check(), "");
}

// The pitch names of the notes (rests as "z").
std::vector<std::string> pitch_names(const Melody& m) {
  std::vector<std::string> names;
  for (const Note& n : m.notes) names.push_back(n.pitch ? n.pitch->name() : "z");
  return names;
}

size_t count_reason(const std::vector<Diagnostic>& diagnostics, const std::string& reason) {
  size_t k = 0;
  for (const Diagnostic& d : diagnostics) k += d.reason == reason;
  return k;
}

TEST(AbcReader, reads_note_letters_with_octave_marks) {
  ReadResult r = read_fixture("notes_octaves.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_TRUE(r.rejected.empty());
  expect_notes(r.melodies[0], {{"C3", "0", "1"},
                               {"C4", "1", "1"},
                               {"C5", "2", "1"},
                               {"C6", "3", "1"},
                               {"B2", "4", "1"},
                               {"B6", "5", "1"},
                               {"", "6", "2"}});
  EXPECT_EQ(r.melodies[0].notes[1].pitch->midi, 60);
}

TEST(AbcReader, reads_lengths_as_exact_multiples_of_the_unit) {
  ReadResult r = read_fixture("durations.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  // L:1/8 is half a quarter: A2 = 1, B/2 = 1/4, c/ = 1/4, d// = 1/8, f3/2 = 3/4, g3/ = 3/4, a/4 = 1/8
  expect_notes(r.melodies[0], {{"A4", "0", "1"},
                               {"B4", "1", "1/4"},
                               {"C5", "5/4", "1/4"},
                               {"D5", "3/2", "1/8"},
                               {"E5", "13/8", "1/8"},
                               {"F5", "7/4", "3/4"},
                               {"G5", "5/2", "3/4"},
                               {"A5", "13/4", "1/8"},
                               {"B5", "27/8", "1/8"},
                               {"C5", "7/2", "1/2"},
                               {"A4", "4", "4"}});
}

TEST(AbcReader, picks_the_default_unit_length_from_the_meter) {
  ReadResult r = read_fixture("default_unit_length.abc");
  ASSERT_EQ(r.melodies.size(), 3u);
  // M:2/4 is below 3/4: L:1/16, a quarter of a quarter
  expect_notes(
      r.melodies[0],
      {{"C4", "0", "1/4"}, {"D4", "1/4", "1/4"}, {"E4", "1/2", "1/4"}, {"F4", "3/4", "1/4"}, {"G4", "1", "1"}});
  // M:3/4: L:1/8
  EXPECT_EQ(r.melodies[1].notes.size(), 7u);
  EXPECT_EQ(r.melodies[1].notes[0].duration, Rational(1, 2));
  EXPECT_EQ(r.melodies[1].notes[6].duration, Rational(3));
  // no M: at all: free meter, L:1/8
  EXPECT_EQ(r.melodies[2].meter().kind, MeterKind::free);
  expect_notes(r.melodies[2], {{"C4", "0", "1/2"}, {"D4", "1/2", "1/2"}, {"E4", "1", "1/2"}});
}

TEST(AbcReader, carries_accidentals_through_the_bar_in_the_same_octave) {
  ReadResult r = read_fixture("accidentals.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  expect_notes(r.melodies[0], {{"F#4", "0", "1"},
                               {"F#4", "1", "1"},  // carried
                               {"F5", "2", "1"},   // another octave
                               {"F4", "3", "1"},   // =F
                               {"F4", "4", "1"},   // the bar line resets
                               {"Bb4", "5", "1"},
                               {"Bb4", "6", "1"},
                               {"B5", "7", "1"},
                               {"C##4", "8", "1"},  // ^^C keeps its spelling
                               {"Dbb4", "9", "1"},
                               {"E4", "10", "1"},
                               {"E4", "11", "1"},
                               {"F4", "12", "4"}});
  EXPECT_EQ(r.melodies[0].notes[8].pitch->midi, 62);
  EXPECT_EQ(r.melodies[0].notes[9].pitch->midi, 60);
}

TEST(AbcReader, applies_key_signatures_of_every_mode) {
  ReadResult r = read_fixture("keys.abc");
  ASSERT_EQ(r.melodies.size(), 12u);
  ASSERT_TRUE(r.rejected.empty());
  struct Case {
    int fifths;
    Mode mode;
    std::vector<std::string> notes;  // the body is F C G D A E B in every tune
  };
  const std::vector<Case> cases = {
      {2, Mode::major, {"F#4", "C#4", "G4", "D4", "A4", "E4", "B4"}},      // K:D
      {1, Mode::dorian, {"F#4", "C4", "G4", "D4", "A4", "E4", "B4"}},      // K:Ador
      {-2, Mode::major, {"F4", "C4", "G4", "D4", "A4", "Eb4", "Bb4"}},     // K:Bb
      {3, Mode::minor, {"F#4", "C#4", "G#4", "D4", "A4", "E4", "B4"}},     // K:F#m
      {0, Mode::mixolydian, {"F4", "C4", "G4", "D4", "A4", "E4", "B4"}},   // K:G Mixolydian
      {-2, Mode::phrygian, {"F4", "C4", "G4", "D4", "A4", "Eb4", "Bb4"}},  // K:Dphr
      {1, Mode::lydian, {"F#4", "C4", "G4", "D4", "A4", "E4", "B4"}},      // K:CLyd
      {0, Mode::locrian, {"F4", "C4", "G4", "D4", "A4", "E4", "B4"}},      // K:B loc
      {-3, Mode::major, {"F4", "C4", "G4", "D4", "Ab4", "Eb4", "Bb4"}},    // K:Eb
      {0, Mode::aeolian, {"F4", "C4", "G4", "D4", "A4", "E4", "B4"}},      // K:A Aeolian
      {0, Mode::ionian, {"F4", "C4", "G4", "D4", "A4", "E4", "B4"}},       // K:Cion
      {1, Mode::minor, {"F#4", "C4", "G4", "D4", "A4", "E4", "B4"}},       // K:Emin clef=bass middle=d
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Melody& m = r.melodies[i];
    EXPECT_EQ(m.key(), (Key{cases[i].fifths, cases[i].mode, false})) << m.title;
    EXPECT_EQ(pitch_names(m), cases[i].notes) << m.title;
  }
}

TEST(AbcReader, applies_explicit_key_accidentals) {
  ReadResult r = read_fixture("key_explicit.abc");
  ASSERT_EQ(r.melodies.size(), 2u);
  // K:D exp _b ^f: only B flat and F sharp
  EXPECT_EQ(pitch_names(r.melodies[0]), (std::vector<std::string>{"F#4", "C4", "Bb4", "G4"}));
  EXPECT_EQ(r.melodies[0].key(), (Key{2, Mode::major, false}));
  // K:D ^g: the D major signature plus G sharp
  EXPECT_EQ(pitch_names(r.melodies[1]), (std::vector<std::string>{"F#4", "C#4", "G#4"}));
}

TEST(AbcReader, estimates_the_key_for_k_none) {
  ReadResult r = read_fixture("key_none.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  const Melody& m = r.melodies[0];
  EXPECT_EQ(pitch_names(m),
            (std::vector<std::string>{"C4", "D4", "E4", "F4", "G4", "A4", "B4", "C5", "G4", "E4", "C4"}));
  ASSERT_EQ(m.keys.size(), 1u);
  EXPECT_TRUE(m.key().estimated);
  EXPECT_EQ(m.key(), estimate_key(m));
  EXPECT_EQ(m.key().fifths, 0);  // a C major scale and arpeggio
  EXPECT_EQ(m.key().mode, Mode::major);
}

TEST(AbcReader, reads_highland_pipe_keys) {
  ReadResult r = read_fixture("key_highland_pipes.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(r.melodies[0].key(), (Key{2, Mode::mixolydian, false}));
  EXPECT_EQ(pitch_names(r.melodies[0]), (std::vector<std::string>{"F#4", "C#4", "G4", "A4"}));
}

TEST(AbcReader, reads_broken_rhythm) {
  ReadResult r = read_fixture("broken_rhythm.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  // A>B: 3/4 + 1/4; c<d: 1/4 + 3/4; e>>f: 7/8 + 1/8; g<<a: 1/8 + 7/8 (L:1/8 = 1/2 quarter)
  expect_notes(r.melodies[0], {{"A4", "0", "3/4"},
                               {"B4", "3/4", "1/4"},
                               {"C5", "1", "1/4"},
                               {"D5", "5/4", "3/4"},
                               {"E5", "2", "7/8"},
                               {"F5", "23/8", "1/8"},
                               {"G5", "3", "1/8"},
                               {"A5", "25/8", "7/8"},
                               {"A4", "4", "1"},
                               {"B4", "5", "1"},
                               {"C5", "6", "1"},
                               {"D5", "7", "1"}});
  EXPECT_TRUE(r.warnings.empty());  // every bar adds up
}

TEST(AbcReader, reads_tuplets_with_meter_dependent_defaults) {
  ReadResult r = read_fixture("tuplets.abc");
  ASSERT_EQ(r.melodies.size(), 2u);
  // 4/4: (3 = 3 in 2; (3:2:2 applies to two notes; (5 = 5 in 2 (simple meter)
  expect_notes(r.melodies[0], {{"A5", "0", "1/3"},
                               {"B5", "1/3", "1/3"},
                               {"C5", "2/3", "1/3"},
                               {"D5", "1", "1"},
                               {"D5", "2", "2/3"},
                               {"E5", "8/3", "1/3"},
                               {"F5", "3", "1/5"},
                               {"G5", "16/5", "1/5"},
                               {"A5", "17/5", "1/5"},
                               {"B5", "18/5", "1/5"},
                               {"C5", "19/5", "1/5"}});
  // 6/8: (2 = 2 in 3; (4 = 4 in 3; (5 = 5 in 3 (compound meter)
  expect_notes(r.melodies[1], {{"A5", "0", "3/4"},
                               {"B5", "3/4", "3/4"},
                               {"C5", "3/2", "3/8"},
                               {"D5", "15/8", "3/8"},
                               {"E5", "9/4", "3/8"},
                               {"F5", "21/8", "3/8"},
                               {"G5", "3", "3/10"},
                               {"A5", "33/10", "3/10"},
                               {"B5", "18/5", "3/10"},
                               {"C5", "39/10", "3/10"},
                               {"D5", "21/5", "3/10"},
                               {"E5", "9/2", "3/2"}});
}

TEST(AbcReader, merges_tied_notes_across_bar_lines) {
  ReadResult r = read_fixture("ties.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  expect_notes(r.melodies[0], {{"C5", "0", "3"},   // c2- c
                               {"F#4", "3", "2"},  // ^F- | F keeps its sharp over the bar line
                               {"G4", "5", "1"},   // G- A: a tie to another pitch does not merge
                               {"A4", "6", "1"},
                               {"B4", "7", "1"},  // B | B- B2: no tie from the first B
                               {"B4", "8", "3"},
                               {"", "11", "1"}});
}

TEST(AbcReader, reads_rests_and_multi_measure_rests) {
  ReadResult r = read_fixture("rests.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  // x6 and Z2 (two bars of 3/4) merge into one rest
  expect_notes(r.melodies[0], {{"", "0", "1"}, {"A4", "1", "2"}, {"", "3", "9"}, {"B4", "12", "3"}});
}

TEST(AbcReader, expands_repeats_and_endings) {
  ReadResult r = read_fixture("repeats.abc");
  ASSERT_EQ(r.melodies.size(), 6u);
  using V = std::vector<std::string>;
  EXPECT_EQ(pitch_names(r.melodies[0]), (V{"C4", "D4", "C4", "D4", "E4", "F4"}));              // |: C D :| E F
  EXPECT_EQ(pitch_names(r.melodies[1]), (V{"C4", "D4", "E4", "F4", "C4", "D4", "G4", "A4"}));  // |1 :|2
  EXPECT_EQ(pitch_names(r.melodies[2]), (V{"C4", "D4", "C4", "D4", "E4", "F4", "E4", "F4"}));  // C D :: E F :|
  EXPECT_EQ(pitch_names(r.melodies[3]), (V{"C4", "D4", "E4", "F4", "E4", "F4"}));              // back to the double bar
  // |: C |1,3 D :|2 E :|4 F: four passes
  EXPECT_EQ(pitch_names(r.melodies[4]), (V{"C4", "D4", "C4", "E4", "C4", "D4", "C4", "F4"}));
  EXPECT_EQ(pitch_names(r.melodies[5]), (V{"C4", "D4", "E4", "C4", "D4", "F4"}));  // [1 ... :| [2
  EXPECT_EQ(r.melodies[1].length(), Rational(8));
}

TEST(AbcReader, plays_parts_in_the_header_order) {
  ReadResult r = read_fixture("parts.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  // P:ABA, part B repeated from its label
  EXPECT_EQ(pitch_names(r.melodies[0]), (std::vector<std::string>{"C4", "D4", "E4", "F4", "E4", "F4", "C4", "D4"}));
  EXPECT_EQ(r.melodies[0].metadata_value("parts"), "ABA");
}

TEST(AbcReader, applies_inline_and_mid_tune_fields_at_their_onset) {
  ReadResult r = read_fixture("inline_fields.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  const Melody& m = r.melodies[0];
  expect_notes(m, {{"C4", "0", "1"},
                   {"D4", "1", "1"},
                   {"E4", "2", "1"},
                   {"F4", "3", "1"},
                   {"G4", "4", "1"},
                   {"F#4", "5", "1"},    // [K:G]
                   {"F#4", "6", "1/2"},  // [L:1/8]
                   {"F#4", "13/2", "1/2"},
                   {"G4", "7", "1"},
                   {"Bb4", "8", "1/2"},  // K:Bb on its own line
                   {"C4", "17/2", "1/2"}});
  ASSERT_EQ(m.meters.size(), 3u);
  EXPECT_EQ(m.meters[0], (Timed<Meter>{0, Meter{MeterKind::regular, 2, 4}}));
  EXPECT_EQ(m.meters[1], (Timed<Meter>{2, Meter{MeterKind::regular, 3, 4}}));
  EXPECT_EQ(m.meters[2], (Timed<Meter>{8, Meter{MeterKind::regular, 2, 4}}));
  ASSERT_EQ(m.keys.size(), 3u);
  EXPECT_EQ(m.keys[0], (Timed<Key>{0, Key{0, Mode::major, false}}));
  EXPECT_EQ(m.keys[1], (Timed<Key>{5, Key{1, Mode::major, false}}));
  EXPECT_EQ(m.keys[2], (Timed<Key>{8, Key{-2, Mode::major, false}}));
}

TEST(AbcReader, reduces_chords_to_the_top_note_with_a_warning) {
  ReadResult r = read_fixture("chords.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  // [CEG] -> G; [E2c2] -> c, length of its first note; [ce]- | [ce] -> a tied e
  expect_notes(r.melodies[0], {{"G4", "0", "1"}, {"C5", "1", "2"}, {"E5", "3", "2"}, {"C4", "5", "3"}});
  ASSERT_EQ(count_reason(r.warnings, "chord reduced"), 1u);
  const Diagnostic& w = r.warnings[0];
  EXPECT_EQ(w.line, 6);
  EXPECT_EQ(w.column, 1);
  EXPECT_NE(w.message.find("4 chord"), std::string::npos) << w.message;
}

TEST(AbcReader, skips_decorations_grace_notes_annotations_and_lyrics) {
  ReadResult r = read_fixture("decorations.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_TRUE(r.warnings.empty());
  expect_notes(r.melodies[0], {{"A4", "0", "1"},
                               {"B4", "1", "1"},
                               {"C5", "2", "1"},
                               {"D5", "3", "1"},
                               {"E5", "4", "1"},
                               {"F#5", "5", "1"},
                               {"G5", "6", "1/2"},  // (ga) is a slur, not a tuplet
                               {"A5", "13/2", "1/2"},
                               {"B5", "7", "1"},
                               {"C6", "8", "1"},
                               {"D6", "9", "1"},
                               {"E5", "10", "1"},
                               {"F#5", "11", "1"},
                               {"G5", "12", "4"}});
  EXPECT_EQ(r.melodies[0].metadata_value("words"), "Some words");
}

TEST(AbcReader, reads_only_the_first_voice) {
  ReadResult r = read_fixture("voices.abc");
  ASSERT_EQ(r.melodies.size(), 2u);
  EXPECT_EQ(pitch_names(r.melodies[0]), (std::vector<std::string>{"C4", "D4", "E4", "F4", "G4", "A4"}));
  expect_notes(r.melodies[1],
               {{"C5", "0", "1"}, {"D5", "1", "1"}, {"C5", "2", "2"}, {"E5", "4", "1"}, {"F5", "5", "1"}});
  ASSERT_EQ(count_reason(r.warnings, "multiple voices"), 2u);
  EXPECT_EQ(r.warnings[0].line, 10);  // the first V:2
  EXPECT_EQ(r.warnings[0].column, 1);
  EXPECT_EQ(r.warnings[1].line, 21);  // [V:2]
  EXPECT_EQ(r.warnings[1].column, 2);
}

TEST(AbcReader, reads_headers_in_any_order_into_metadata) {
  ReadResult r = read_fixture("header.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  const Melody& m = r.melodies[0];
  EXPECT_EQ(m.title, "Main Title");
  const std::vector<std::pair<std::string, std::string>> metadata = {
      {"composer", "Trad."}, {"title", "Main Title"},      {"title", "Second Title"}, {"origin", "Ireland"},
      {"rhythm", "jig"},     {"transcription", "someone"}, {"notes", "a note"}};
  EXPECT_EQ(m.metadata, metadata);
  // Q:3/8=120 is 120 dotted quarters a minute
  EXPECT_DOUBLE_EQ(m.tempo_qpm, 180.0);
  // M:3/4 right after K: replaces M:6/8 at onset 0; L:1/8 stays
  ASSERT_EQ(m.meters.size(), 1u);
  EXPECT_EQ(m.meter(), (Meter{MeterKind::regular, 3, 4}));
  expect_notes(m, {{"D5", "0", "1"}, {"E5", "1", "1"}, {"F#5", "2", "1"}});
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].reason, "unknown header");
  EXPECT_EQ(r.warnings[0].line, 9);
  EXPECT_EQ(r.warnings[0].column, 1);
  EXPECT_NE(r.warnings[0].message.find("Y:"), std::string::npos);
}

TEST(AbcReader, reads_tempo_forms) {
  ReadResult r = read_fixture("tempo.abc");
  ASSERT_EQ(r.melodies.size(), 4u);
  EXPECT_DOUBLE_EQ(r.melodies[0].tempo_qpm, 60.0);   // Q:120 eighths (L:1/8) a minute
  EXPECT_DOUBLE_EQ(r.melodies[1].tempo_qpm, 100.0);  // Q:"Allegro" 1/4=100
  EXPECT_DOUBLE_EQ(r.melodies[2].tempo_qpm, 120.0);  // Q:"Andante" names no speed
  EXPECT_DOUBLE_EQ(r.melodies[3].tempo_qpm, 160.0);  // Q:1/2=80
}

TEST(AbcReader, applies_the_file_header_to_every_tune) {
  ReadResult r = read_fixture("file_header.abc");
  ASSERT_EQ(r.melodies.size(), 2u);
  const Melody& a = r.melodies[0];
  EXPECT_EQ(a.meter(), (Meter{MeterKind::regular, 3, 4}));
  EXPECT_EQ(a.key(), (Key{-1, Mode::major, false}));
  expect_notes(a, {{"Bb4", "0", "1"}, {"C4", "1", "1"}, {"D4", "2", "1"}});
  EXPECT_EQ(a.metadata_value("origin"), "Scotland");
  const Melody& b = r.melodies[1];
  EXPECT_EQ(b.meter(), (Meter{MeterKind::regular, 2, 4}));
  EXPECT_EQ(b.key(), (Key{1, Mode::major, false}));
  expect_notes(b, {{"B4", "0", "1"}, {"F#4", "1", "1"}});  // L:1/4 from the file header
}

TEST(AbcReader, finds_the_pickup) {
  ReadResult r = read_fixture("pickup.abc");
  ASSERT_EQ(r.melodies.size(), 3u);
  EXPECT_EQ(r.melodies[0].pickup, Rational(1));
  EXPECT_EQ(r.melodies[1].pickup, Rational(0));
  EXPECT_EQ(r.melodies[2].pickup, Rational(1));  // the |: at onset 0 is not the end of a bar
  EXPECT_EQ(pitch_names(r.melodies[2]), (std::vector<std::string>{"G4", "C5", "G4", "C5"}));
}

TEST(AbcReader, reads_meter_forms) {
  ReadResult r = read_fixture("meters.abc");
  ASSERT_EQ(r.melodies.size(), 5u);
  EXPECT_EQ(r.melodies[0].meter(), (Meter{MeterKind::regular, 4, 4}));  // C
  EXPECT_EQ(r.melodies[1].meter(), (Meter{MeterKind::regular, 2, 2}));  // C|
  EXPECT_EQ(r.melodies[2].meter().kind, MeterKind::free);               // none
  EXPECT_EQ(r.melodies[3].meter(), (Meter{MeterKind::regular, 5, 8}));  // 2+3/8
  EXPECT_EQ(r.melodies[3].notes[0].duration, Rational(5, 2));
  EXPECT_TRUE(r.melodies[4].meter().is_compound());
}

TEST(AbcReader, rejects_broken_tunes_with_line_and_column_and_loads_the_rest) {
  ReadResult r = read_fixture("errors.abc");
  ASSERT_EQ(r.melodies.size(), 2u);
  EXPECT_EQ(r.melodies[0].title, "Good");
  EXPECT_EQ(r.melodies[0].source_line, 1);
  EXPECT_EQ(r.melodies[0].source_index, 0);
  EXPECT_EQ(r.melodies[0].source_file, fixture("errors.abc"));
  EXPECT_EQ(r.melodies[1].title, "Good again");
  EXPECT_EQ(r.melodies[1].source_line, 33);
  EXPECT_EQ(r.melodies[1].source_index, 6);
  expect_notes(r.melodies[1], {{"C5", "0", "1"}, {"D5", "1", "1"}});  // L: in the body

  struct Rejection {
    int line;
    int column;
    std::string reason;
    std::string token;  // named in the message
  };
  const std::vector<Rejection> expected = {
      {11, 1, "no K: field", "'C'"},         {16, 5, "bad note", "'^'"},
      {21, 7, "bad character", "'§'"},  // columns count characters: "é" is one
      {26, 3, "unterminated quote", "\"Am"}, {31, 1, "bad tuplet", "(1abc"},
  };
  ASSERT_EQ(r.rejected.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Diagnostic& d = r.rejected[i];
    EXPECT_EQ(d.file, fixture("errors.abc"));
    EXPECT_EQ(d.line, expected[i].line) << d.to_string();
    EXPECT_EQ(d.column, expected[i].column) << d.to_string();
    EXPECT_EQ(d.reason, expected[i].reason) << d.to_string();
    EXPECT_NE(d.message.find(expected[i].token), std::string::npos) << d.to_string();
  }
  EXPECT_NE(r.rejected[0].message.find("X:2 'No key'"), std::string::npos) << r.rejected[0].message;
}

TEST(AbcReader, ends_a_tune_at_an_empty_line) {
  ReadResult r = read_fixture("free_text.abc");
  ASSERT_EQ(r.melodies.size(), 2u);
  EXPECT_TRUE(r.rejected.empty());
  EXPECT_EQ(pitch_names(r.melodies[0]), (std::vector<std::string>{"C4", "D4", "E4", "F4"}));
  EXPECT_EQ(pitch_names(r.melodies[1]), (std::vector<std::string>{"G4", "A4"}));
}

TEST(AbcReader, warns_about_bars_that_do_not_fill_the_meter) {
  ReadResult r = read_fixture("bar_length.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].reason, "bar length");
  EXPECT_EQ(r.warnings[0].line, 6);
  EXPECT_EQ(r.warnings[0].column, 7);  // the E that starts the long bar
  EXPECT_NE(r.warnings[0].message.find("1 of 2 bars"), std::string::npos) << r.warnings[0].message;
}

TEST(AbcReader, reads_common_sloppiness_with_warnings) {
  ReadResult r = read_fixture("lenient.abc");
  ASSERT_EQ(r.melodies.size(), 2u);
  // a lone ':' as |:, an ending number at the start of a line, a reserved '*', a rest in a chord, a stray '}'
  expect_notes(r.melodies[0], {{"C4", "0", "1"},
                               {"D4", "1", "1"},
                               {"E4", "2", "1"},
                               {"F4", "3", "1"},
                               {"C4", "4", "1"},
                               {"D4", "5", "1"},
                               {"G4", "6", "1"},
                               {"A4", "7", "1"},
                               {"B4", "8", "2"},
                               {"C5", "10", "1"},
                               {"D5", "11", "1"}});
  EXPECT_EQ(count_reason(r.warnings, "bad bar line"), 1u);
  EXPECT_EQ(count_reason(r.warnings, "reserved character"), 1u);
  // "E:|" at the start of a line is music, not an E: field
  EXPECT_EQ(pitch_names(r.melodies[1]), (std::vector<std::string>{"C4", "D4", "E4", "C4", "D4", "E4"}));
}

TEST(AbcReader, rejects_a_tune_whose_repeats_expand_too_far) {
  // 60000 notes played twice pass the 100000-note cap
  std::string text = "X:1\nT:Too long\nL:1/16\nK:C\n|:";
  for (int i = 0; i < 60000; ++i) text += (i % 16 == 15) ? "c|\n" : "c";
  text += ":|\n\nX:2\nT:Fine\nK:C\nCDE|]\n";
  ReadResult r = read_abc(text, "long.abc");
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "repeat expansion too long");
  EXPECT_GT(r.rejected[0].line, 4);
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(r.melodies[0].title, "Fine");
}

TEST(AbcReader, rejects_a_tune_too_long_to_hold) {
  std::string text = "X:1\nL:1/16\nK:C\n";
  for (int i = 0; i < 7000; ++i) text += "cdefgabcdefgabcd|\n";  // 112000 notes, no repeat
  ReadResult r = read_abc(text, "huge.abc");
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "tune too long");
  EXPECT_EQ(r.rejected[0].line, 4 + 100000 / 16);  // the line of note 100001
  EXPECT_TRUE(r.melodies.empty());
}

TEST(AbcReader, ends_weird_repeat_structures) {
  // the second pass skips ending 1, and ending 63 too, up to the section end "|]"; each "::" and ":|"
  // then repeats the section since the previous one
  ReadResult r = read_abc("X:1\nL:1/4\nK:C\n|: C [1 D :| [63 E |] F :: G :: A :| B :|\n", "weird.abc");
  ASSERT_EQ(r.melodies.size(), 1u) << (r.rejected.empty() ? "" : r.rejected[0].to_string());
  EXPECT_EQ(pitch_names(r.melodies[0]),
            (std::vector<std::string>{"C4", "D4", "C4", "F4", "F4", "G4", "G4", "A4", "A4", "B4", "B4"}));
}

TEST(AbcReader, reports_a_file_without_tunes) {
  ReadResult r = read_abc("% just a comment\nT:not a tune\n", "none.abc");
  EXPECT_TRUE(r.melodies.empty());
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "no tunes");
}

TEST(AbcReader, never_throws_on_random_input) {
  const std::string alphabet = "ABCDEFGabcdefgzZxX^_=,'/23456789|:[]()<>-{}!+\"%\\ \n.~&KML:VPQT1";
  std::mt19937 rng(12345);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::uniform_int_distribution<int> length(0, 200);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string text = "X:1\nK:C\n";
    int n = length(rng);
    for (int i = 0; i < n; ++i) text += alphabet[pick(rng)];
    ReadResult r;
    ASSERT_NO_THROW(r = read_abc(text, "random.abc")) << text;
    EXPECT_GE(r.melodies.size() + r.rejected.size(), 1u) << text;
    for (const Melody& m : r.melodies) EXPECT_EQ(m.check(), "") << text;
  }
}

TEST(AbcReader, never_throws_on_mutated_fixtures) {
  // every fixture with random characters replaced, inserted or deleted: most tunes still load
  std::mt19937 rng(777);
  const std::string alphabet = "ABCabc^_=,'/23|:[]()<>-{}!+\"%\\ \nzZxK:M:L:V:P:|1[2";
  size_t loaded = 0, rejected = 0;
  for (const char* name : {"repeats.abc", "tuplets.abc", "inline_fields.abc", "decorations.abc", "voices.abc",
                           "parts.abc", "broken_rhythm.abc", "chords.abc", "lenient.abc", "keys.abc"}) {
    const std::string original = read_file_bytes(fixture(name));
    for (int trial = 0; trial < 200; ++trial) {
      std::string text = original;
      std::uniform_int_distribution<int> edits(1, 4);
      for (int e = edits(rng); e > 0 && !text.empty(); --e) {
        size_t at = std::uniform_int_distribution<size_t>(0, text.size() - 1)(rng);
        char c = alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
        switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
          case 0:
            text[at] = c;
            break;
          case 1:
            text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
            break;
          default:
            text.erase(at, 1);
        }
      }
      ReadResult r;
      ASSERT_NO_THROW(r = read_abc(text, name)) << text;
      for (const Melody& m : r.melodies) EXPECT_EQ(m.check(), "") << text;
      for (const Diagnostic& d : r.rejected) EXPECT_FALSE(d.reason.empty()) << text;
      loaded += r.melodies.size();
      rejected += r.rejected.size();
    }
  }
  EXPECT_GT(loaded, rejected);
}

}  // namespace
}  // namespace antiphon
