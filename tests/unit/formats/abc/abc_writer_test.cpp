// ABC 2.1 writer: exact output for a small melody, round trips through the reader, and abc2midi's verdict.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "antiphon/core/transform.h"
#include "antiphon/formats/abc.h"
#include "antiphon/formats/format.h"

namespace antiphon {
namespace {

namespace fs = std::filesystem;

Pitch p(const char* name) { return Pitch::parse(name); }

Melody make_melody(const Meter& meter, const Key& key) {
  Melody m;
  m.title = "Test";
  m.meters = {Timed<Meter>{0, meter}};
  m.keys = {Timed<Key>{0, key}};
  return m;
}

// Reads the written text back and compares everything a round trip keeps.
void expect_round_trip(const Melody& m) {
  std::string text = write_abc(m);
  ReadResult r = read_abc(text, "round-trip.abc");
  ASSERT_EQ(r.melodies.size(), 1u) << text << (r.rejected.empty() ? "" : r.rejected[0].to_string());
  EXPECT_TRUE(r.warnings.empty()) << text << r.warnings[0].to_string();
  const Melody& b = r.melodies[0];
  EXPECT_EQ(b.notes, m.notes) << text;
  EXPECT_EQ(b.meters, m.meters) << text;
  EXPECT_EQ(b.keys, m.keys) << text;
  EXPECT_EQ(b.title, m.title) << text;
  EXPECT_EQ(b.pickup, m.pickup) << text;
  EXPECT_DOUBLE_EQ(b.tempo_qpm, m.tempo_qpm) << text;
}

TEST(AbcWriter, writes_bars_accidentals_ties_and_triplets) {
  Melody m = make_melody(Meter{MeterKind::regular, 2, 4}, Key{1, Mode::major, false});
  m.tempo_qpm = 100;
  m.pickup = Rational(1, 2);
  m.append(p("D5"), Rational(1, 2));  // the pickup
  m.append(p("G4"), Rational(1, 2));
  m.append(p("F4"), Rational(1, 2));  // F natural against the key's F sharp: =F
  m.append(p("F4"), Rational(1, 2));  // the natural holds to the bar line
  m.append(p("A4"), Rational(1, 2));
  m.append(p("F4"), Rational(1, 2));  // a new bar needs =F again
  m.append(p("E4"), Rational(1, 3));  // a triplet
  m.append(p("D4"), Rational(1, 3));
  m.append(p("C4"), Rational(1, 3));
  m.append(p("B4"), Rational(1));  // crosses the bar line: tied halves
  m.append(std::nullopt, Rational(1, 2));
  m.append(p("C#6"), Rational(1));
  m.append(p("B2"), Rational(2));
  EXPECT_EQ(write_abc(m),
            "X:1\n"
            "T:Test\n"
            "M:2/4\n"
            "L:1/8\n"
            "Q:1/4=100\n"
            "K:G\n"
            "d | G=FFA | =F(3EDCB- | Bz^c'2 |\n"
            "B,,4 |]\n");
  expect_round_trip(m);
}

TEST(AbcWriter, writes_free_meter_without_bar_lines) {
  Melody m = make_melody(Meter{MeterKind::free, 4, 4}, Key{-1, Mode::dorian, false});
  m.append(p("G4"), Rational(3));
  m.append(p("A4"), Rational(5));
  m.append(p("B4"), Rational(1, 2));  // B flat in the key: B natural needs =B
  std::string text = write_abc(m);
  EXPECT_NE(text.find("M:none\n"), std::string::npos) << text;
  EXPECT_NE(text.find("K:Gdor\n"), std::string::npos) << text;
  EXPECT_NE(text.find("G6A10=B |]\n"), std::string::npos) << text;
  expect_round_trip(m);
}

TEST(AbcWriter, writes_meter_and_key_changes_as_inline_fields) {
  Melody m = make_melody(Meter{MeterKind::regular, 3, 4}, Key{2, Mode::major, false});
  for (int i = 0; i < 4; ++i) m.append(p("F#4"), Rational(1));
  m.meters.push_back(Timed<Meter>{4, Meter{MeterKind::regular, 2, 4}});  // off the 3/4 grid
  m.keys.push_back(Timed<Key>{6, Key{-2, Mode::minor, false}});
  m.append(p("F#4"), Rational(1));
  m.append(p("A4"), Rational(2));  // crosses the key change at 6
  m.append(p("Bb4"), Rational(1));
  std::string text = write_abc(m);
  EXPECT_NE(text.find("F2F2F2 | F2 | [M:2/4]F2A2- | [K:Gm]A2B2 |]"), std::string::npos) << text;
  expect_round_trip(m);
}

TEST(AbcWriter, keeps_accidentals_over_a_meter_change_inside_the_first_bar) {
  Melody m = make_melody(Meter{MeterKind::regular, 4, 4}, Key{});
  m.append(p("F#4"), Rational(1));
  m.meters.push_back(Timed<Meter>{1, Meter{MeterKind::regular, 3, 4}});  // before any bar line
  m.append(p("F4"), Rational(1));  // needs its natural: the sharp still holds in this bar
  m.append(p("F#4"), Rational(1));
  std::string text = write_abc(m);
  EXPECT_NE(text.find("^F2[M:3/4]=F2^F2"), std::string::npos) << text;
  expect_round_trip(m);
}

TEST(AbcWriter, writes_estimated_keys_as_k_none) {
  Melody m = make_melody(Meter{MeterKind::regular, 4, 4}, Key{});
  for (const char* name : {"E4", "F#4", "G4", "A4", "B4", "C5", "D5", "E5"}) m.append(p(name), Rational(1, 2));
  m.keys = {Timed<Key>{0, estimate_key(m)}};
  ASSERT_TRUE(m.key().estimated);
  std::string text = write_abc(m);
  EXPECT_NE(text.find("K:none\n"), std::string::npos) << text;
  EXPECT_NE(text.find("E^FGABcde"), std::string::npos) << text;  // no signature: every sharp written
  expect_round_trip(m);
}

TEST(AbcWriter, writes_other_tuplets_as_p_q_r_groups) {
  Melody m = make_melody(Meter{MeterKind::regular, 2, 4}, Key{});
  for (const char* name : {"C5", "D5", "E5", "F5", "G5"}) m.append(p(name), Rational(1, 5));  // 5 in a quarter
  m.append(p("A5"), Rational(1, 6));  // sextuplet sixteenths are triplet values
  m.append(p("B5"), Rational(1, 6));
  m.append(p("C6"), Rational(2, 3));
  std::string text = write_abc(m);
  EXPECT_NE(text.find("(5:4:5c/d/e/f/g/(3a/b/c'2 |]"), std::string::npos) << text;
  expect_round_trip(m);
}

TEST(AbcWriter, throws_an_encoding_error_naming_a_note_it_cannot_write) {
  Melody m = make_melody(Meter{MeterKind::regular, 4, 4}, Key{});
  m.append(p("C4"), Rational(1));
  m.append(p("D4"), Rational(1, 11));  // 11 notes in a quarter: no ABC tuplet
  m.append(p("E4"), Rational(10, 11));
  try {
    write_abc(m);
    FAIL() << "expected an EncodingError";
  } catch (const EncodingError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("note 1"), std::string::npos) << what;
    EXPECT_NE(what.find("D4"), std::string::npos) << what;
    EXPECT_NE(what.find("1/11"), std::string::npos) << what;
  }
}

TEST(AbcWriter, throws_an_encoding_error_for_a_broken_melody) {
  Melody m = make_melody(Meter{MeterKind::regular, 4, 4}, Key{});
  m.append(p("C4"), Rational(1));
  m.append(p("D4"), Rational(1));
  m.notes[1].onset = Rational(3);  // a gap: onsets no longer follow the durations
  EXPECT_THROW(write_abc(m), EncodingError);
}

TEST(AbcWriter, writes_metadata_and_exact_tempo) {
  Melody m = make_melody(Meter{MeterKind::regular, 6, 8}, Key{-3, Mode::minor, false});
  m.title = "Two\nlines";
  m.metadata = {{"composer", "J. Smith"}, {"notes", "50% slower"}, {"region", "not an ABC field"}};
  m.tempo_qpm = 112.5;
  m.append(p("C5"), Rational(3, 2));
  m.append(p("G4"), Rational(3, 2));
  std::string text = write_abc(m);
  EXPECT_NE(text.find("T:Two lines\nC:J. Smith\nN:50\\% slower\nM:6/8\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Q:1/8=225\nK:Cm\n"), std::string::npos) << text;
  ReadResult r = read_abc(text, "meta.abc");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(r.melodies[0].metadata_value("notes"), "50% slower");
  EXPECT_DOUBLE_EQ(r.melodies[0].tempo_qpm, 112.5);
}

TEST(AbcWriter, breaks_long_lines) {
  Melody m = make_melody(Meter{MeterKind::free, 4, 4}, Key{});
  for (int i = 0; i < 300; ++i) m.append(p(i % 2 == 0 ? "C#5" : "D5"), Rational(1, 2));
  std::string text = write_abc(m);
  std::istringstream lines(text);
  std::string line;
  int count = 0;
  while (std::getline(lines, line)) {
    EXPECT_LE(line.size(), 80u) << line;
    ++count;
  }
  EXPECT_GT(count, 10);
  expect_round_trip(m);
}

TEST(AbcWriter, round_trips_every_fixture_tune) {
  size_t tunes = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(ANTIPHON_FIXTURES) / "abc")) {
    if (entry.path().extension() != ".abc") continue;
    for (const Melody& m : read_file(entry.path()).melodies) {
      SCOPED_TRACE(entry.path().filename().string() + ": " + m.title);
      expect_round_trip(m);
      ++tunes;
    }
  }
  EXPECT_GE(tunes, 50u);
}

TEST(AbcWriter, output_is_accepted_by_abc2midi) {
  ASSERT_EQ(std::system("command -v abc2midi > /dev/null 2>&1"), 0)
      << "abc2midi is needed for this check (Debian package abcmidi)";
  Melody m = make_melody(Meter{MeterKind::regular, 6, 8}, Key{3, Mode::minor, false});
  m.pickup = Rational(1, 2);
  m.append(p("C#5"), Rational(1, 2));
  m.append(p("F#5"), Rational(3, 2));
  m.append(p("E#5"), Rational(1, 2));  // spelled sharp
  m.append(p("F#5"), Rational(1, 3));  // a triplet inside the beat
  m.append(p("G#5"), Rational(1, 3));
  m.append(p("A5"), Rational(1, 3));
  m.append(std::nullopt, Rational(1, 2));
  m.append(p("B4"), Rational(3));  // tied over the bar line
  m.meters.push_back(Timed<Meter>{Rational(13, 2), Meter{MeterKind::regular, 2, 4}});
  m.keys.push_back(Timed<Key>{Rational(13, 2), Key{-1, Mode::major, false}});
  m.append(p("Bb4"), Rational(1));
  m.append(p("B4"), Rational(1));
  m.append(p("Eb3"), Rational(2));

  fs::path dir = fs::temp_directory_path() /
                 ("antiphon_abc2midi_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  fs::create_directories(dir);
  std::ofstream(dir / "in.abc") << write_abc(m);
  std::string command = "cd '" + dir.string() + "' && abc2midi in.abc -o out.mid > log.txt 2>&1";
  int status = std::system(command.c_str());
  std::ifstream log_file(dir / "log.txt");
  std::string log((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
  std::ifstream abc_file(dir / "in.abc");
  std::string abc((std::istreambuf_iterator<char>(abc_file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(status, 0) << log;
  EXPECT_EQ(log.find("Error"), std::string::npos) << log << "\n" << abc;
  EXPECT_EQ(log.find("Warning"), std::string::npos) << log << "\n" << abc;
  ASSERT_TRUE(fs::exists(dir / "out.mid")) << log;
  EXPECT_GT(fs::file_size(dir / "out.mid"), 0u);
  fs::remove_all(dir);
  expect_round_trip(m);
}

}  // namespace
}  // namespace antiphon
