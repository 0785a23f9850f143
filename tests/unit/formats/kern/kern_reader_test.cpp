#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "antiphon/core/text.h"
#include "antiphon/formats/kern.h"

namespace antiphon {
namespace {

std::string fixture_path(const std::string& name) { return std::string(ANTIPHON_FIXTURES) + "/kern/" + name; }

ReadResult read_fixture(const std::string& name) {
  std::string path = fixture_path(name);
  return read_kern(read_file_bytes(path), path);
}

const Melody& only_melody(const ReadResult& r) {
  EXPECT_EQ(r.melodies.size(), 1u);
  return r.melodies.front();
}

// Reads `name` expecting a ParseError; returns it.
ParseError parse_error_of(const std::string& name) {
  try {
    read_fixture(name);
  } catch (const ParseError& e) {
    return e;
  }
  ADD_FAILURE() << name << " was read without a ParseError";
  return ParseError("", 0, 0, "");
}

ParseError parse_error_of_text(const std::string& text) {
  try {
    read_kern(text, "inline.krn");
  } catch (const ParseError& e) {
    return e;
  }
  ADD_FAILURE() << "read without a ParseError: " << text;
  return ParseError("", 0, 0, "");
}

bool has_warning(const ReadResult& r, const std::string& reason, const std::string& text) {
  for (const Diagnostic& d : r.warnings)
    if (d.reason == reason && d.message.find(text) != std::string::npos) return true;
  return false;
}

std::vector<int> midis(const Melody& m) {
  std::vector<int> v;
  for (const Note& n : m.notes) v.push_back(n.is_rest() ? -1 : n.pitch->midi);
  return v;
}

std::vector<Rational> durations(const Melody& m) {
  std::vector<Rational> v;
  for (const Note& n : m.notes) v.push_back(n.duration);
  return v;
}

std::vector<Rational> onsets(const Melody& m) {
  std::vector<Rational> v;
  for (const Note& n : m.notes) v.push_back(n.onset);
  return v;
}

Rational q(int64_t n, int64_t d = 1) { return Rational(n, d); }

TEST(KernReader, reads_dotted_durations_exactly) {
  ReadResult r = read_fixture("dotted.krn");
  const Melody& m = only_melody(r);
  EXPECT_EQ(m.title, "Dotted");
  EXPECT_EQ(midis(m), (std::vector<int>{60, 62, 64, 65, 67, 69}));
  // 4. = 3/2, 8 = 1/2, 4 = 1, 2.. = 7/2, 8 = 1/2, 2. = 3
  EXPECT_EQ(durations(m), (std::vector<Rational>{q(3, 2), q(1, 2), q(1), q(7, 2), q(1, 2), q(3)}));
  EXPECT_EQ(onsets(m), (std::vector<Rational>{q(0), q(3, 2), q(2), q(3), q(13, 2), q(7)}));
  EXPECT_EQ(m.check(), "");
  EXPECT_EQ(m.source_file, fixture_path("dotted.krn"));
  EXPECT_EQ(m.source_line, 1);
}

TEST(KernReader, merges_tied_notes_across_barlines_into_one_note) {
  const Melody m = only_melody(read_fixture("ties.krn"));
  ASSERT_EQ(m.notes.size(), 3u);
  EXPECT_EQ(midis(m), (std::vector<int>{60, 62, 64}));
  EXPECT_EQ(durations(m), (std::vector<Rational>{q(3), q(1), q(4)}));
  EXPECT_TRUE(m.notes[0].phrase_begin);
  EXPECT_FALSE(m.notes[0].phrase_end);
  EXPECT_TRUE(m.notes[1].phrase_end);
}

TEST(KernReader, warns_and_keeps_separate_notes_when_a_tie_joins_different_pitches) {
  ReadResult r = read_fixture("tie_pitch_mismatch.krn");
  const Melody& m = only_melody(r);
  EXPECT_EQ(midis(m), (std::vector<int>{60, 62}));
  EXPECT_TRUE(has_warning(r, "unmatched tie", "different pitch"));
}

TEST(KernReader, reads_triplet_values_as_exact_thirds) {
  const Melody m = only_melody(read_fixture("triplets.krn"));
  ASSERT_EQ(m.notes.size(), 16u);
  EXPECT_EQ(m.notes[0].duration, q(1, 3));  // 12
  EXPECT_EQ(m.notes[2].onset, q(2, 3));
  EXPECT_EQ(m.notes[3].onset, q(1));        // after three 12ths
  EXPECT_EQ(m.notes[4].duration, q(2, 3));  // 6
  EXPECT_EQ(m.notes[7].duration, q(4, 3));  // 3
  EXPECT_EQ(m.notes[8].onset, q(16, 3));
  EXPECT_EQ(m.notes[9].duration, q(1, 6));  // 24
  EXPECT_EQ(m.notes[15].onset, q(7));       // six 24ths fill a quarter
  EXPECT_EQ(m.length(), q(8));
}

TEST(KernReader, reads_breve_longa_and_dotted_breve) {
  const Melody m = only_melody(read_fixture("breve.krn"));
  EXPECT_EQ(durations(m), (std::vector<Rational>{q(8), q(12), q(4), q(16)}));
  EXPECT_EQ(m.meter().bar_length(), q(8));
}

TEST(KernReader, reads_rational_rhythms) {
  const Melody m = only_melody(read_fixture("rational_rhythm.krn"));
  // N%M is 4M/N quarters: 3%2 = 8/3, 1%3 = 12, 4%3 = 3.
  EXPECT_EQ(durations(m), (std::vector<Rational>{q(8, 3), q(12), q(3)}));
}

TEST(KernReader, finds_the_pickup_before_the_first_barline) {
  EXPECT_EQ(only_melody(read_fixture("pickup.krn")).pickup, q(1));
  EXPECT_EQ(only_melody(read_fixture("no_pickup.krn")).pickup, q(0));
  // A whole bar before the first barline is not a pickup.
  EXPECT_EQ(only_melody(read_fixture("full_first_bar.krn")).pickup, q(0));
  // Irregular meter has no bar length, so no pickup either.
  EXPECT_EQ(only_melody(read_fixture("meter_irregular.krn")).pickup, q(0));
}

TEST(KernReader, records_meter_changes_at_their_onsets) {
  const Melody m = only_melody(read_fixture("meter_change.krn"));
  ASSERT_EQ(m.meters.size(), 3u);
  EXPECT_EQ(m.meters[0].onset, q(0));
  EXPECT_EQ(m.meters[0].value.name(), "3/4");
  EXPECT_EQ(m.meters[1].onset, q(6));
  EXPECT_EQ(m.meters[1].value.name(), "2/4");
  EXPECT_EQ(m.meters[2].onset, q(8));
  EXPECT_EQ(m.meters[2].value.name(), "6/8");
}

TEST(KernReader, reads_irregular_and_free_meter) {
  const Melody irregular = only_melody(read_fixture("meter_irregular.krn"));
  ASSERT_EQ(irregular.meters.size(), 1u);
  EXPECT_EQ(irregular.meters[0].value.kind, MeterKind::irregular);
  EXPECT_TRUE(irregular.notes[0].phrase_begin);
  EXPECT_TRUE(irregular.notes.back().phrase_end);
  const Melody free = only_melody(read_fixture("meter_free.krn"));
  ASSERT_EQ(free.meters.size(), 1u);
  EXPECT_EQ(free.meters[0].value.kind, MeterKind::free);
  const Melody qm = only_melody(read_kern("**kern\n*M?\n4c\n*-\n", "x.krn"));
  EXPECT_EQ(qm.meter().kind, MeterKind::free);
}

TEST(KernReader, reads_key_signature_with_key_token) {
  const Melody m = only_melody(read_fixture("key_minor.krn"));
  ASSERT_EQ(m.keys.size(), 1u);
  EXPECT_EQ(m.keys[0].value, (Key{-1, Mode::minor, false}));
  EXPECT_EQ(m.key().name(), "D minor");
}

TEST(KernReader, reads_church_mode_key_tokens) {
  const Melody m = only_melody(read_fixture("key_dorian.krn"));
  EXPECT_EQ(m.key(), (Key{0, Mode::dorian, false}));
  EXPECT_EQ(m.key().name(), "D dorian");
  const Melody mix = only_melody(read_kern("**kern\n*k[]\n*G:mix\n4g\n*-\n", "x.krn"));
  EXPECT_EQ(mix.key(), (Key{0, Mode::mixolydian, false}));
  const Melody flat_minor = only_melody(read_kern("**kern\n*e-:\n4e-\n*-\n", "x.krn"));
  EXPECT_EQ(flat_minor.key(), (Key{-6, Mode::minor, false}));
}

TEST(KernReader, records_key_changes_at_their_onsets) {
  const Melody m = only_melody(read_fixture("key_change.krn"));
  ASSERT_EQ(m.keys.size(), 2u);
  EXPECT_EQ(m.keys[0].onset, q(0));
  EXPECT_EQ(m.keys[0].value, (Key{3, Mode::major, false}));
  EXPECT_EQ(m.keys[1].onset, q(4));
  EXPECT_EQ(m.keys[1].value, (Key{-1, Mode::major, false}));
}

TEST(KernReader, chooses_relative_minor_from_the_notes_when_only_a_signature_is_given) {
  // *k[] over an A minor arpeggio ending on A: A minor, not C major.
  const Melody m = only_melody(read_fixture("key_signature_only.krn"));
  EXPECT_EQ(m.key(), (Key{0, Mode::minor, true}));
  // The same signature over a C major tune stays C major.
  const Melody c = only_melody(read_kern("**kern\n*k[]\n4c\n4e\n4g\n2c\n*-\n", "x.krn"));
  EXPECT_EQ(c.key(), (Key{0, Mode::major, true}));
}

TEST(KernReader, estimates_the_key_when_the_file_gives_none) {
  const Melody m = only_melody(read_fixture("key_none.krn"));
  ASSERT_EQ(m.keys.size(), 1u);
  EXPECT_EQ(m.key(), (Key{1, Mode::major, true}));  // G major: F# and a long final G
}

TEST(KernReader, rejects_garbled_token_with_line_column_and_token) {
  ParseError e = parse_error_of("garbled_token.krn");
  EXPECT_EQ(e.file(), fixture_path("garbled_token.krn"));
  EXPECT_EQ(e.line(), 7);
  EXPECT_EQ(e.column(), 1);
  EXPECT_EQ(e.message(), "unrecognized kern token '4ffx#'");
  EXPECT_EQ(e.reason(), "garbled token");
  EXPECT_NE(std::string(e.what()).find("garbled_token.krn:7:1:"), std::string::npos);

  ParseError d = parse_error_of("garbled_decimal.krn");
  EXPECT_EQ(d.line(), 5);
  EXPECT_EQ(d.message(), "unrecognized kern token '1.5a'");
}

TEST(KernReader, counts_the_column_of_a_garbled_token_in_characters) {
  // Line 3 is "grüß<TAB>4ffx#": four characters (six bytes) and a tab before the token.
  ParseError e = parse_error_of("garbled_token_spines.krn");
  EXPECT_EQ(e.line(), 3);
  EXPECT_EQ(e.column(), 6);
  EXPECT_EQ(e.reason(), "garbled token");
}

TEST(KernReader, rejects_tokens_with_signifiers_out_of_place) {
  for (const char* token : {"4ffx#", "1.5a", "0gg//#", "2gg>>#}", "4c#n", "4cd", "4", "x4c", "4.c.", "4c%", "4%c",
                            "0004c", "04c", "4c{", "c4", "4ccc###", "4Z", "4c 4e 4g"}) {
    ParseError e = parse_error_of_text(std::string("**kern\n") + token + "\n*-\n");
    EXPECT_EQ(e.line(), 2) << token;
    EXPECT_TRUE(e.reason() == "garbled token" || e.reason() == "chord") << token << ": " << e.reason();
  }
}

TEST(KernReader, accepts_marks_that_do_not_change_pitch_or_time) {
  struct Case {
    const char* token;
    int midi;
    Rational duration;
  };
  for (const Case& c : std::vector<Case>{{"4ffx", 77, q(1)},
                                         {"16eexx", 76, q(1, 4)},
                                         {"4ff//}", 77, q(1)},
                                         {"8dxxx}", 62, q(1, 2)},
                                         {"(4c;", 60, q(1)},
                                         {"8cL", 60, q(1, 2)},
                                         {"8c#J'", 61, q(1, 2)},
                                         {"4c#X", 61, q(1)},
                                         {"4c)", 60, q(1)},
                                         {"4.d-/", 61, q(3, 2)},
                                         {"4e\\t", 64, q(1)},
                                         {"2gg^~", 79, q(2)},
                                         {"4ryy", -1, q(1)}}) {
    ReadResult r = read_kern(std::string("**kern\n") + c.token + "\n4c\n*-\n", "x.krn");
    const Melody& m = only_melody(r);
    ASSERT_EQ(m.notes.size(), 2u) << c.token;
    EXPECT_EQ(m.notes[0].is_rest() ? -1 : m.notes[0].pitch->midi, c.midi) << c.token;
    EXPECT_EQ(m.notes[0].duration, c.duration) << c.token;
  }
}

TEST(KernReader, rejects_a_chord_in_the_melody_spine) {
  ParseError e = parse_error_of("chord.krn");
  EXPECT_EQ(e.reason(), "chord");
  EXPECT_EQ(e.line(), 5);
  EXPECT_EQ(e.column(), 1);
  EXPECT_NE(e.message().find("'4c 4e'"), std::string::npos);
}

TEST(KernReader, rejects_a_note_without_duration) {
  ParseError e = parse_error_of("missing_duration.krn");
  EXPECT_EQ(e.reason(), "missing duration");
  EXPECT_EQ(e.line(), 5);
  EXPECT_NE(e.message().find("'d'"), std::string::npos);
}

TEST(KernReader, rejects_a_file_without_kern_spine_or_without_notes) {
  EXPECT_EQ(parse_error_of("no_kern_spine.krn").reason(), "no kern spine");
  EXPECT_EQ(parse_error_of_text("").reason(), "no kern spine");
  EXPECT_EQ(parse_error_of("no_notes.krn").reason(), "no notes");
}

TEST(KernReader, rejects_a_record_with_the_wrong_number_of_fields) {
  ParseError e = parse_error_of("spine_count.krn");
  EXPECT_EQ(e.reason(), "spine count");
  EXPECT_EQ(e.line(), 4);
}

TEST(KernReader, reports_time_overflow_as_parse_error) {
  ParseError e = parse_error_of_text("**kern\n4" + std::string(70, '.') + "c\n*-\n");
  EXPECT_EQ(e.reason(), "duration overflow");
  EXPECT_EQ(e.line(), 2);
  // Denominators that are large primes overflow the running onset after a few notes.
  ParseError p = parse_error_of_text("**kern\n999999937c\n999999929c\n999999893c\n999999883c\n*-\n");
  EXPECT_EQ(p.reason(), "duration overflow");
}

TEST(KernReader, reads_the_first_kern_spine_and_warns_about_the_others) {
  ReadResult r = read_fixture("multi_spine.krn");
  const Melody& m = only_melody(r);
  EXPECT_EQ(midis(m), (std::vector<int>{60, 62}));
  EXPECT_TRUE(has_warning(r, "several spines", "3 spines"));
}

TEST(KernReader, follows_spine_splits_joins_exchanges_and_additions) {
  ReadResult r = read_fixture("spine_manipulators.krn");
  const Melody& m = only_melody(r);
  EXPECT_EQ(midis(m), (std::vector<int>{60, 62, 67, 69}));
  EXPECT_EQ(onsets(m), (std::vector<Rational>{q(0), q(1), q(2), q(3)}));
  EXPECT_TRUE(has_warning(r, "several spines", "3 spines"));
  EXPECT_TRUE(has_warning(r, "split spine", "first sub-spine"));
}

TEST(KernReader, reads_the_first_sub_spine_of_a_split_melody) {
  ReadResult r = read_fixture("split_melody.krn");
  const Melody& m = only_melody(r);
  EXPECT_EQ(midis(m), (std::vector<int>{60, 64, 65, 60}));
  EXPECT_EQ(durations(m), (std::vector<Rational>{q(1), q(1), q(1), q(3)}));
  EXPECT_TRUE(has_warning(r, "split spine", "*^"));
}

TEST(KernReader, reads_ten_thousand_spines_in_bounded_time) {
  constexpr int kSpines = 10000;
  auto record = [&](const std::string& first, const std::string& rest, int columns) {
    std::string s = first;
    for (int i = 1; i < columns; ++i) s += "\t" + rest;
    return s + "\n";
  };
  std::string text = record("**kern", "**kern", kSpines) + record("*M4/4", "*M4/4", kSpines);
  for (int i = 0; i < 20; ++i) text += record("4c", "4d", kSpines);
  text += record("*^", "*^", kSpines);  // 20000 columns: the melody is columns 0 and 1
  std::string both;
  for (int i = 0; i < 2 * kSpines; ++i) both += (i == 0 ? "" : "\t") + std::string(i == 0 ? "4e" : "4f");
  for (int i = 0; i < 20; ++i) text += both + "\n";
  std::string join;
  for (int i = 0; i < 2 * kSpines; ++i) join += (i == 0 ? "" : "\t") + std::string("*v");
  text += join + "\n";  // one run of *v: everything joins into a single column
  text += "4g\n";
  text += "*^\n*x\t*x\n4a\t4b\n*-\t*-\n";  // split, exchange: the melody's first sub-spine moves to column 1
  auto start = std::chrono::steady_clock::now();
  ReadResult r = read_kern(text, "wide.krn");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Melody& m = only_melody(r);
  ASSERT_EQ(m.notes.size(), 42u);
  EXPECT_EQ(m.notes[0].pitch->midi, 60);
  EXPECT_EQ(m.notes[20].pitch->midi, 64);
  EXPECT_EQ(m.notes[40].pitch->midi, 67);
  EXPECT_EQ(m.notes[41].pitch->midi, 69);  // column 0 after the exchange holds the other sub-spine
  EXPECT_TRUE(has_warning(r, "several spines", "10000 spines"));
  EXPECT_LT(seconds, 5.0);
}

TEST(KernReader, reads_many_key_and_meter_changes_in_bounded_time) {
  std::string text = "**kern\n";
  for (int i = 0; i < 20000; ++i) text += (i % 2 ? "*k[f#]\n*M3/8\n4g\n" : "*k[]\n*M2/4\n4c\n");
  text += "*-\n";
  auto start = std::chrono::steady_clock::now();
  const Melody m = only_melody(read_kern(text, "changes.krn"));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(m.keys.size(), 20000u);
  EXPECT_EQ(m.keys[1].onset, q(1));
  EXPECT_EQ(m.keys[1].value, (Key{1, Mode::major, true}));  // a lone G under one sharp: G major
  ASSERT_EQ(m.meters.size(), 20000u);
  EXPECT_EQ(m.meters[1].value.name(), "3/8");
  std::string kern = write_kern(m);
  EXPECT_EQ(read_kern(kern, "again.krn").melodies.front().keys, m.keys);
  EXPECT_LT(seconds, 5.0);
}

TEST(KernReader, tolerates_junk_lines_before_the_kern_interpretation) {
  ReadResult r = read_fixture("chinese_junk_header.krn");
  const Melody& m = only_melody(r);
  EXPECT_EQ(midis(m), (std::vector<int>{67, 69}));
  EXPECT_EQ(m.title, "Xiao hua");
  EXPECT_EQ(m.meter().name(), "2/4");
}

TEST(KernReader, skips_grace_notes_with_a_warning) {
  ReadResult r = read_fixture("grace.krn");
  const Melody& m = only_melody(r);
  EXPECT_EQ(midis(m), (std::vector<int>{60, 65}));
  EXPECT_EQ(m.notes[1].onset, q(1));
  EXPECT_TRUE(has_warning(r, "grace notes", "skipped 2 grace notes"));
}

TEST(KernReader, keeps_rests_and_ignores_null_tokens) {
  const Melody m = only_melody(read_fixture("rests.krn"));
  EXPECT_EQ(midis(m), (std::vector<int>{60, -1, -1}));
  EXPECT_EQ(durations(m), (std::vector<Rational>{q(1), q(1), q(2)}));
}

TEST(KernReader, keeps_pitch_spelling) {
  const Melody m = only_melody(read_fixture("pitch_spelling.krn"));
  ASSERT_EQ(m.notes.size(), 8u);
  // c# d- en CC ccc b# c-- FF##
  EXPECT_EQ(midis(m), (std::vector<int>{61, 61, 64, 36, 84, 72, 58, 43}));
  EXPECT_EQ(m.notes[0].pitch->letter, Letter::C);
  EXPECT_EQ(m.notes[0].pitch->alter, 1);
  EXPECT_EQ(m.notes[1].pitch->letter, Letter::D);
  EXPECT_EQ(m.notes[1].pitch->alter, -1);
  EXPECT_EQ(m.notes[2].pitch->alter, 0);
  EXPECT_EQ(m.notes[5].pitch->name(), "B#4");
  EXPECT_EQ(m.notes[6].pitch->name(), "Cbb4");
  EXPECT_EQ(m.notes[7].pitch->name(), "F##2");
}

TEST(KernReader, reads_phrase_marks) {
  const Melody m = only_melody(read_fixture("phrases.krn"));
  ASSERT_EQ(m.notes.size(), 3u);
  EXPECT_TRUE(m.notes[0].phrase_begin);
  EXPECT_TRUE(m.notes[1].phrase_end);
  EXPECT_TRUE(m.notes[2].phrase_begin);
  EXPECT_TRUE(m.notes[2].phrase_end);
  EXPECT_EQ(m.notes[2].duration, q(2));
}

TEST(KernReader, reads_reference_records_as_title_and_metadata) {
  const Melody m = only_melody(read_fixture("reference_records.krn"));
  EXPECT_EQ(m.title, "Der Mond");
  using KV = std::pair<std::string, std::string>;
  EXPECT_EQ(m.metadata, (std::vector<KV>{{"ARE", "Europa, Deutschland"}, {"AMT", "simple duple"}}));
  EXPECT_EQ(m.tempo_qpm, 96.0);
}

TEST(KernReader, accepts_a_byte_order_mark_and_crlf_line_ends) {
  const Melody m = only_melody(read_kern("\xEF\xBB\xBF**kern\r\n*M2/4\r\n4c\r\n4d\r\n*-\r\n", "x.krn"));
  EXPECT_EQ(midis(m), (std::vector<int>{60, 62}));
  EXPECT_EQ(m.meter().name(), "2/4");
}

TEST(KernReader, stops_at_the_end_of_the_melody_spine) {
  // After *- only reference records are read; a later section is not part of the melody.
  const Melody m = only_melody(read_kern("**kern\n4c\n*-\n**kern\n4d\n*-\n!!!ONB: note\n", "x.krn"));
  EXPECT_EQ(midis(m), (std::vector<int>{60}));
  ASSERT_EQ(m.metadata.size(), 1u);
  EXPECT_EQ(m.metadata[0].second, "note");
}

}  // namespace
}  // namespace antiphon
