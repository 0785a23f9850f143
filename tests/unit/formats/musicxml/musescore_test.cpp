// Independent check: MuseScore 3 reads our MusicXML and writes its own; the notes it exports (pitch
// spelling and octave, durations normalized by its divisions, ties merged, accidentals shown), the
// measures (number, implicit flag, length) and the key signatures at measure starts must be identical to
// ours. MuseScore must be installed: a missing or failing mscore3 fails these tests.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <pugixml.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "antiphon/core/melody.h"
#include "antiphon/formats/musicxml.h"

namespace antiphon {
namespace {

namespace fs = std::filesystem;

constexpr int kMscoreTimeoutSeconds = 60;

Pitch p(const char* name) { return Pitch::parse(name); }

Melody melody_in(int numerator, int denominator, Rational pickup = 0, Key key = Key{}) {
  Melody m;
  m.meters = {{0, Meter{MeterKind::regular, numerator, denominator}}};
  m.keys = {{0, key}};
  m.pickup = pickup;
  return m;
}

// What both files must agree on.
struct Summary {
  std::vector<std::string> notes;     // "F#4 3/2 sharp" or "rest 1", ties and adjacent rests merged
  std::vector<std::string> measures;  // "0 implicit 1", "1 3"
  std::vector<std::string> keys;      // "measure 3: fifths 2" for keys at the start of a measure
};

std::string pitch_name(pugi::xml_node pitch) {
  std::string s = pitch.child("step").text().as_string();
  int alter = pitch.child("alter").text().as_int();
  for (int i = 0; i < alter; ++i) s += '#';
  for (int i = 0; i > alter; --i) s += 'b';
  return s + pitch.child("octave").text().as_string();
}

Summary summarize(const fs::path& path) {
  pugi::xml_document doc;
  pugi::xml_parse_result result = doc.load_file(path.c_str());
  EXPECT_TRUE(result) << path << ": " << result.description();
  Summary out;
  struct Event {
    std::string what;
    Rational duration;
    std::string accidental;
  };
  std::vector<Event> events;
  int64_t divisions = 0;
  pugi::xml_node part = doc.child("score-partwise").child("part");
  EXPECT_TRUE(part) << path << " has no part";
  EXPECT_FALSE(part.next_sibling("part")) << path << " has more than one part";
  size_t measure_index = 0;
  for (pugi::xml_node measure : part.children("measure")) {
    ++measure_index;
    Rational length;
    bool seen_note = false;
    for (pugi::xml_node child : measure.children()) {
      std::string name = child.name();
      if (name == "attributes") {
        if (pugi::xml_node d = child.child("divisions")) divisions = d.text().as_llong();
        if (pugi::xml_node key = child.child("key"); key && !seen_note)
          out.keys.push_back("measure " + std::to_string(measure_index) + ": fifths " +
                             key.child("fifths").text().as_string());
      } else if (name == "note" || name == "forward" || name == "backup") {
        EXPECT_GT(divisions, 0) << path << ": duration before divisions";
        if (divisions <= 0) return out;
        Rational duration(child.child("duration").text().as_llong(), divisions);
        seen_note = true;
        if (name == "backup") {
          events.push_back({"backup", duration, ""});
          length -= duration;
          continue;
        }
        std::string what = name == "forward" || child.child("rest") ? "rest" : pitch_name(child.child("pitch"));
        if (child.child("chord")) what = "chord " + what;
        if (child.child("grace")) what = "grace " + what;
        if (!child.child("chord")) length += duration;
        bool tie_stop = false;
        for (pugi::xml_node tie : child.children("tie"))
          tie_stop = tie_stop || std::string(tie.attribute("type").value()) == "stop";
        bool merge = !events.empty() && events.back().what == what && (what == "rest" || tie_stop);
        if (merge) {
          events.back().duration += duration;
        } else {
          // MuseScore adds an accidental we left out (it keeps ones we wrote), so comparing them catches
          // missing accidentals.
          std::string accidental = child.child("accidental").text().as_string();
          events.push_back({(tie_stop ? "(tied) " : "") + what, duration, accidental});
        }
      }
    }
    std::string m = measure.attribute("number").value();
    if (std::string(measure.attribute("implicit").value()) == "yes") m += " implicit";
    out.measures.push_back(m + " " + length.to_string());
  }
  for (const Event& e : events)
    out.notes.push_back(e.what + " " + e.duration.to_string() + (e.accidental.empty() ? "" : " " + e.accidental));
  return out;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class MuseScore : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(std::system("command -v mscore3 > /dev/null 2>&1"), 0)
        << "mscore3 (Debian package musescore3) is required for this check and was not found on PATH";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("antiphon-musicxml-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::owner_all);  // MuseScore wants a private runtime directory
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);  // kept for inspection when a comparison failed
  }

  // Writes the melody, has MuseScore convert it, and compares the two files.
  void check(const Melody& melody, const std::string& name) {
    fs::path ours = dir_ / (name + ".musicxml");
    fs::path theirs = dir_ / (name + ".mscore.musicxml");
    fs::path log = dir_ / (name + ".log");
    std::ofstream(ours) << write_musicxml(melody);
    std::string d = shell_quote(dir_.string());
    std::string command = "cd " + d + " && env QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=" + d +
                          " XDG_CONFIG_HOME=" + d + " XDG_DATA_HOME=" + d + " XDG_CACHE_HOME=" + d + " timeout " +
                          std::to_string(kMscoreTimeoutSeconds) + " mscore3 -d -o " + shell_quote(theirs.string()) +
                          " " + shell_quote(ours.string()) + " > " + shell_quote(log.string()) + " 2>&1";
    int rc = std::system(command.c_str());
    std::ifstream log_in(log);
    std::stringstream log_text;
    log_text << log_in.rdbuf();
    ASSERT_EQ(rc, 0) << "mscore3 failed or timed out on " << ours << ":\n" << log_text.str();
    ASSERT_TRUE(fs::exists(theirs)) << "mscore3 wrote no file:\n" << log_text.str();
    // With -d MuseScore reports a file that fails its MusicXML schema (3.1; we use no 4.0-only elements).
    EXPECT_EQ(log_text.str().find("is not a valid MusicXML file"), std::string::npos) << log_text.str();
    Summary a = summarize(ours);
    Summary b = summarize(theirs);
    ASSERT_FALSE(a.notes.empty());
    EXPECT_EQ(a.notes, b.notes) << name << ": notes differ (files in " << dir_ << ")";
    EXPECT_EQ(a.measures, b.measures) << name << ": measures differ (files in " << dir_ << ")";
    EXPECT_EQ(a.keys, b.keys) << name << ": key signatures differ (files in " << dir_ << ")";
  }

  fs::path dir_;
};

TEST_F(MuseScore, reads_pickup_ties_triplets_dotted_values_and_accidentals_as_written) {
  Melody m = melody_in(3, 4, 1, Key{1, Mode::major});
  m.title = "Tom & Jerry <\"jig\">";
  m.append(p("D4"), 1);  // pickup
  m.append(p("G4"), 2);
  m.append(p("F#4"), 2);  // tied over the barline
  m.append(p("E4"), Rational(1, 3));
  m.append(p("F4"), Rational(1, 3));
  m.append(p("G4"), Rational(1, 3));
  m.append(p("A4"), Rational(3, 2));  // tied over the barline
  m.append(p("B4"), Rational(1, 2));
  m.append(p("C#5"), Rational(5, 2));  // tied over the barline
  m.append(p("C5"), Rational(1, 2));
  m.append(p("G4"), 2);
  m.notes[1].phrase_begin = true;
  m.notes[7].phrase_end = true;
  check(m, "pickup_ties_triplets");
}

TEST_F(MuseScore, reads_tuplets_of_three_five_and_six_and_mixed_triplet_values) {
  Melody m = melody_in(2, 4);
  for (int i = 0; i < 3; ++i) m.append(p("C5"), Rational(1, 3));
  m.append(p("D5"), Rational(2, 3));
  m.append(p("E5"), Rational(1, 3));
  for (int i = 0; i < 5; ++i) m.append(p("F5"), Rational(1, 5));
  for (int i = 0; i < 6; ++i) m.append(p("G5"), Rational(1, 6));
  for (int i = 0; i < 3; ++i) m.append(p("A5"), Rational(2, 3));  // half-bar quarter triplets
  m.append(p("B4"), Rational(1, 3));
  m.append(std::nullopt, Rational(1, 3));  // a rest inside a triplet
  m.append(p("B4"), Rational(1, 3));
  m.append(p("C5"), 1);
  check(m, "tuplets");
}

TEST_F(MuseScore, reads_meter_changes_at_and_inside_bars) {
  Melody m = melody_in(4, 4);
  m.meters.push_back({6, Meter{MeterKind::regular, 3, 4}});   // inside bar 2: that bar is cut short
  m.meters.push_back({12, Meter{MeterKind::regular, 6, 8}});  // at a barline
  m.meters.push_back({18, Meter{MeterKind::regular, 5, 8}});
  const char* names[] = {"C4", "D4", "E4", "F4", "G4", "A4", "B4"};
  for (int i = 0; i < 16; ++i) m.append(p(names[i % 7]), Rational(3, 2) - Rational(i % 2));
  m.append(p("C5"), 3);  // crosses the 6/8 -> 5/8 change
  m.append(p("D5"), Rational(5, 2));
  check(m, "meter_changes");
}

TEST_F(MuseScore, reads_key_changes_modes_and_double_accidentals) {
  Melody m = melody_in(4, 4, 0, Key{-2, Mode::minor});
  m.keys.push_back({4, Key{2, Mode::dorian}});  // at a barline
  m.keys.push_back({8, Key{-4, Mode::major}});
  m.keys.push_back({10, Key{5, Mode::major}});          // inside a bar (MuseScore drops this one)
  const char* names[] = {"Bb4", "Eb4", "E4",   "B4",    // 0-4 in Bb minor
                         "F#4", "F4",  "C#5",  "Bbb4",  // 4-8 in E dorian (2 sharps)
                         "Ab4", "A4",  "E##4", "Fb4",   // 8-10 in Ab major, then B major
                         "B#3", "Cb4", "F4",   "F#4"};
  for (const char* n : names) m.append(p(n), 1);
  check(m, "keys_accidentals");
}

TEST_F(MuseScore, reads_whole_measure_rests_and_rests_across_barlines) {
  Melody m = melody_in(3, 4, Rational(1, 2));
  m.append(std::nullopt, Rational(1, 2));  // pickup rest
  m.append(p("C4"), 3);
  m.append(std::nullopt, 3);  // a whole measure rest
  m.append(p("D4"), 1);
  m.append(std::nullopt, Rational(7, 2));  // crosses the barline
  m.append(p("E4"), Rational(1, 2));
  m.append(std::nullopt, 3);
  m.append(p("F4"), 1);
  check(m, "rests");
}

TEST_F(MuseScore, reads_free_meter_measures_by_phrase) {
  Melody m;
  m.meters = {{0, Meter{MeterKind::free, 0, 0}}};
  m.keys = {{0, Key{-1, Mode::major}}};
  const char* names[] = {"F4", "G4", "A4", "Bb4", "C5", "A4", "F4", "G4", "E4", "F4", "D4", "C4", "F4"};
  int i = 0;
  for (const char* n : names) m.append(p(n), ++i % 3 == 0 ? Rational(3, 2) : Rational(1, 2));
  m.append(p("F4"), 10);  // longer than the free-measure maximum
  m.append(std::nullopt, 1);
  m.append(p("A4"), 1);
  m.notes[4].phrase_end = true;
  m.notes[5].phrase_begin = true;
  check(m, "free_meter");
}

TEST_F(MuseScore, reads_values_that_need_splitting_in_cut_and_three_two_time) {
  Melody m = melody_in(2, 2);
  m.meters.push_back({8, Meter{MeterKind::regular, 3, 2}});
  m.append(p("G3"), Rational(5, 2));
  m.append(p("A3"), Rational(3, 2));
  m.append(p("B3"), Rational(15, 4));
  m.append(p("C4"), Rational(1, 4));
  m.append(p("D3"), 6);  // a whole bar of 3/2
  m.append(p("E3"), Rational(7, 2));
  m.append(p("F3"), Rational(5, 2));
  check(m, "long_values");
}

TEST_F(MuseScore, reads_random_melodies_with_pickups_tuplets_and_rests) {
  std::mt19937 rng(20240611);
  const Rational values[] = {Rational(1, 4), Rational(1, 2), Rational(3, 4), 1, Rational(3, 2), 2, 3};
  const Meter meters[] = {{MeterKind::regular, 2, 4}, {MeterKind::regular, 3, 4}, {MeterKind::regular, 4, 4},
                          {MeterKind::regular, 6, 8}, {MeterKind::regular, 9, 8}, {MeterKind::free, 0, 0}};
  for (int round = 0; round < 6; ++round) {
    Melody m;
    const Meter& meter = meters[round];
    m.meters = {{0, meter}};
    m.keys = {{0, Key{static_cast<int>(rng() % 13) - 6, Mode::major}}};
    if (meter.kind == MeterKind::regular) m.pickup = Rational(static_cast<int64_t>(rng() % 4), 2);
    while (m.length() < Rational(40)) {
      bool prefer_sharps = rng() % 2 == 0;
      auto pitch = [&]() -> std::optional<Pitch> {
        if (rng() % 8 == 0) return std::nullopt;
        return Pitch::from_midi(55 + static_cast<int>(rng() % 24), prefer_sharps);
      };
      if (rng() % 6 == 0) {  // a triplet group of eighths or quarters
        Rational unit = rng() % 2 == 0 ? Rational(1, 3) : Rational(2, 3);
        for (int k = 0; k < 3; ++k) m.append(pitch(), unit);
      } else {
        m.append(pitch(), values[rng() % 7]);
      }
      if (rng() % 7 == 0) m.notes.back().phrase_end = true;
    }
    m.normalize();  // merges adjacent rests
    SCOPED_TRACE("round " + std::to_string(round) + " meter " + meter.name());
    check(m, "random_" + std::to_string(round));
  }
}

}  // namespace
}  // namespace antiphon
