// The antiphon program end to end: exit codes, stats on a small mixed corpus, convert, encode.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/wait.h>

#include "antiphon/core/text.h"
#include "cli_run.h"
#include "antiphon/formats/format.h"

namespace fs = std::filesystem;

namespace {

using antiphon::testing::CliRun;

fs::path temp_dir() {
  static fs::path dir = antiphon::testing::cli_temp_dir("antiphon_cli");
  return dir;
}

CliRun run(const std::string& args) { return antiphon::testing::run_cli(args, temp_dir()); }

std::string fixture(const std::string& rel) { return std::string(ANTIPHON_FIXTURES) + "/" + rel; }

}  // namespace

TEST(Cli, prints_help_and_exits_zero) {
  CliRun r = run("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("stats"), std::string::npos);
  EXPECT_NE(r.out.find("convert"), std::string::npos);
  CliRun s = run("stats --help");
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_NE(s.out.find("--corpus"), std::string::npos);
  EXPECT_EQ(run("bench ingest --help").exit_code, 0);
}

TEST(Cli, exits_two_on_bad_usage) {
  EXPECT_EQ(run("").exit_code, 2);
  EXPECT_EQ(run("frobnicate").exit_code, 2);
  EXPECT_EQ(run("stats --min-notes banana").exit_code, 2);
  EXPECT_EQ(run("stats --grid 1000").exit_code, 2);
  EXPECT_EQ(run("encode --encoding nonsense " + fixture("cli/corpus/good.krn")).exit_code, 2);
}

TEST(Cli, exits_one_on_bad_input_naming_the_file) {
  CliRun r = run("convert " + fixture("cli/corpus/junk.krn") + " " + (temp_dir() / "x.abc").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("junk.krn:1:1: binary data"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(temp_dir() / "x.abc"));
  CliRun m = run("stats --corpus /no/such/folder");
  EXPECT_EQ(m.exit_code, 1);
  EXPECT_NE(m.err.find("/no/such/folder"), std::string::npos);
}

TEST(Cli, stats_reports_loaded_and_rejected_files_as_json) {
  CliRun r = run("stats --json --corpus " + fixture("cli/corpus"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["files"], 5);  // README.txt is not a melody file
  EXPECT_EQ(j["files_loaded"], 2);
  EXPECT_EQ(j["melodies"], 3);
  EXPECT_EQ(j["notes"], 6 + 6 + 8);
  EXPECT_EQ(j["pitch_range"][0], 62);  // D4
  EXPECT_EQ(j["pitch_range"][1], 72);  // C5
  EXPECT_EQ(j["meters"]["3/4"], 1);
  EXPECT_EQ(j["meters"]["6/8"], 1);
  EXPECT_EQ(j["keys"]["G major"], 1);
  EXPECT_EQ(j["keys"]["A dorian"], 1);
  ASSERT_EQ(j["rejected"].size(), 4u);
  std::map<std::string, std::string> reason_by_file;
  for (const auto& d : j["rejected"]) {
    std::string file = fs::path(d["file"].get<std::string>()).filename().string();
    reason_by_file[file] = d["reason"];
    EXPECT_FALSE(d["message"].get<std::string>().empty());
  }
  EXPECT_EQ(reason_by_file["junk.krn"], "binary data");
  EXPECT_EQ(reason_by_file["empty.abc"], "empty file");
  EXPECT_TRUE(reason_by_file.count("truncated.mid"));
  EXPECT_TRUE(reason_by_file.count("tunes.abc"));  // tune 3 has no K: field
  EXPECT_EQ(j["fingerprint"].get<std::string>().size(), 32u);
}

TEST(Cli, stats_filters_by_meter_and_min_notes) {
  CliRun r = run("stats --json --meter 6/8 --corpus " + fixture("cli/corpus"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["melodies"], 1);
  EXPECT_EQ(j["filtered"].size(), 2u);
  CliRun t = run("stats --json --min-notes 7 --corpus " + fixture("cli/corpus"));
  auto k = nlohmann::json::parse(t.out);
  EXPECT_EQ(k["melodies"], 1);  // only the 8-note 6/8 tune
}

TEST(Cli, stats_prints_a_readable_summary) {
  CliRun r = run("stats --corpus " + fixture("cli/corpus"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("melodies     3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rejected     4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("junk.krn:1:1: binary data"), std::string::npos) << r.out;
}

TEST(Cli, converts_between_formats_and_round_trips_notes) {
  std::string krn = fixture("cli/corpus/good.krn");
  auto original = antiphon::read_file(krn).melodies.at(0);
  for (std::string ext : {".abc", ".mid", ".krn", ".musicxml"}) {
    fs::path out = temp_dir() / ("converted" + ext);
    CliRun r = run("convert " + krn + " " + out.string());
    ASSERT_EQ(r.exit_code, 0) << ext << ": " << r.err;
    ASSERT_TRUE(fs::exists(out)) << ext;
    if (ext == ".musicxml") continue;  // no reader; checked by the MusicXML tests
    auto back = antiphon::read_file(out).melodies.at(0);
    ASSERT_EQ(back.notes.size(), original.notes.size()) << ext;
    for (size_t i = 0; i < back.notes.size(); ++i) {
      EXPECT_EQ(back.notes[i].onset, original.notes[i].onset) << ext << " note " << i;
      EXPECT_EQ(back.notes[i].duration, original.notes[i].duration) << ext << " note " << i;
      EXPECT_EQ(back.notes[i].pitch->midi, original.notes[i].pitch->midi) << ext << " note " << i;
    }
  }
  CliRun bad = run("convert " + krn + " " + (temp_dir() / "out.wav").string());
  EXPECT_EQ(bad.exit_code, 2);
  CliRun idx = run("convert --index 5 " + fixture("cli/corpus/sub/tunes.abc") + " " + (temp_dir() / "t.krn").string());
  EXPECT_EQ(idx.exit_code, 2);
  EXPECT_NE(idx.err.find("holds 2 melodies"), std::string::npos) << idx.err;
}

TEST(Cli, encodes_a_melody_on_the_grid) {
  CliRun r = run("encode --encoding grid " + fixture("cli/corpus/good.krn"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 8d 8e | 4g 4a 4b | 2.g : eighths are 2 steps, quarters 4, dotted half 12.
  EXPECT_NE(r.out.find("62 _ 64 _ 67 _ _ _ 69 _ _ _ 71 _ _ _ 67 _ _ _ _ _ _ _ _ _ _ _"), std::string::npos) << r.out;
  CliRun j = run("encode --json --encoding notes " + fixture("cli/corpus/sub/tunes.abc"));
  ASSERT_EQ(j.exit_code, 0) << j.err;
  auto arr = nlohmann::json::parse(j.out);
  ASSERT_EQ(arr.size(), 2u);
  EXPECT_EQ(arr[1]["title"], "Second Tune");
  CliRun trip = run("encode --encoding grid:steps=1 " + fixture("cli/corpus/good.krn"));
  EXPECT_EQ(trip.exit_code, 1);  // eighths do not fit a quarter-note grid
  EXPECT_NE(trip.err.find("note 0"), std::string::npos) << trip.err;
}

TEST(Cli, bench_ingest_prints_the_ratio_to_raw_reading) {
  CliRun r = run("bench ingest --repeat 1 --corpus " + fixture("cli/corpus"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("read only"), std::string::npos);
  EXPECT_NE(r.out.find("% of raw read speed"), std::string::npos);
}
