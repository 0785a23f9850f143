// The ABC reader and writer on the real corpora: Nottingham (1034 tunes) and abc-collections (~4400 tunes).
// Counts of loaded and rejected tunes by reason, a bar-length self-check, round trips through the writer and
// abc2midi's verdict on written tunes.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "antiphon/corpus/corpus.h"
#include "antiphon/formats/abc.h"
#include "antiphon/formats/format.h"

namespace antiphon {
namespace {

namespace fs = std::filesystem;

// $ANTIPHON_DATA, or ../shared/data beside the checkout (found from the working directory or the binary).
fs::path data_root() { return default_data_root(); }

std::vector<fs::path> abc_files(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().extension() == ".abc") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

struct CorpusRead {
  size_t files = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  std::vector<Melody> melodies;
  std::vector<Diagnostic> rejected;
  std::vector<Diagnostic> warnings;
};

CorpusRead read_all(const fs::path& dir) {
  CorpusRead c;
  auto start = std::chrono::steady_clock::now();
  for (const fs::path& f : abc_files(dir)) {
    ++c.files;
    c.bytes += fs::file_size(f);
    ReadResult r = read_file(f);
    std::move(r.melodies.begin(), r.melodies.end(), std::back_inserter(c.melodies));
    c.rejected.insert(c.rejected.end(), r.rejected.begin(), r.rejected.end());
    c.warnings.insert(c.warnings.end(), r.warnings.begin(), r.warnings.end());
  }
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return c;
}

std::map<std::string, size_t> by_reason(const std::vector<Diagnostic>& diagnostics) {
  std::map<std::string, size_t> counts;
  for (const Diagnostic& d : diagnostics) ++counts[d.reason];
  return counts;
}

void report(const std::string& name, const CorpusRead& c) {
  std::cout << name << ": " << c.files << " files, " << c.melodies.size() << " tunes loaded, " << c.rejected.size()
            << " rejected, " << c.bytes / 1024 << " KiB in " << c.seconds << " s ("
            << static_cast<double>(c.bytes) / 1e6 / std::max(c.seconds, 1e-9) << " MB/s)\n";
  for (const auto& [reason, n] : by_reason(c.rejected)) std::cout << "  rejected " << reason << ": " << n << "\n";
  for (const auto& [reason, n] : by_reason(c.warnings)) std::cout << "  warning " << reason << ": " << n << "\n";
  for (const Diagnostic& d : c.rejected) std::cout << "  " << d.reason << " | " << d.to_string() << "\n";
}

// Every rejection names its file, line and column and has a countable reason.
void expect_located(const std::vector<Diagnostic>& rejected) {
  for (const Diagnostic& d : rejected) {
    EXPECT_EQ(fs::path(d.file).extension(), ".abc") << d.to_string();
    EXPECT_GT(d.line, 0) << d.to_string();
    EXPECT_GT(d.column, 0) << d.to_string();
    EXPECT_FALSE(d.reason.empty()) << d.to_string();
  }
}

// Share of tunes whose complete bars all match the meter (the reader warns "bar length" once per tune).
double share_with_regular_bars(const CorpusRead& c) {
  size_t irregular = by_reason(c.warnings)["bar length"];
  return 1.0 - static_cast<double>(irregular) / static_cast<double>(c.melodies.size());
}

// A check on the played melody itself: with one regular meter, the length is whole bars, or whole bars plus
// the pickup (when the last bar does not give the pickup's time back). Repeats, ties, tuplets and broken
// rhythm all change the length, so a reader bug in any of them shows here.
double share_of_whole_bar_lengths(const CorpusRead& c, size_t* checked) {
  size_t ok = 0;
  *checked = 0;
  for (const Melody& m : c.melodies) {
    if (m.meters.size() != 1 || m.meter().kind != MeterKind::regular) continue;
    ++*checked;
    Rational rest = floor_mod(m.length(), m.meter().bar_length());
    ok += rest == Rational(0) || rest == m.pickup;
  }
  return static_cast<double>(ok) / static_cast<double>(std::max<size_t>(*checked, 1));
}

struct RoundTrip {
  size_t same = 0;
  size_t different = 0;
  size_t unwritable = 0;
  std::vector<std::string> examples;
};

// write_abc then read_abc, comparing the notes (pitch with spelling, onset, duration), meters, keys, title
// and pickup.
RoundTrip round_trip(const std::vector<Melody>& melodies) {
  RoundTrip rt;
  for (const Melody& m : melodies) {
    std::string text;
    try {
      text = write_abc(m);
    } catch (const EncodingError& e) {
      ++rt.unwritable;
      if (rt.examples.size() < 10)
        rt.examples.push_back(m.source_file + ":" + std::to_string(m.source_line) + ": " + e.what());
      continue;
    }
    ReadResult r = read_abc(text, "round-trip.abc");
    bool same = r.melodies.size() == 1 && r.melodies[0].notes == m.notes && r.melodies[0].meters == m.meters &&
                r.melodies[0].keys == m.keys && r.melodies[0].title == m.title && r.melodies[0].pickup == m.pickup;
    if (same) {
      ++rt.same;
    } else {
      ++rt.different;
      if (rt.examples.size() < 10) rt.examples.push_back(m.source_file + ":" + std::to_string(m.source_line));
    }
  }
  return rt;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs abc2midi on the written tune; returns its output when it fails or reports an error, else "".
std::string abc2midi_complaint(const Melody& m, const fs::path& dir) {
  std::ofstream(dir / "in.abc") << write_abc(m);
  fs::remove(dir / "out.mid");
  std::string command = "cd '" + dir.string() + "' && abc2midi in.abc -o out.mid > log.txt 2>&1";
  int status = std::system(command.c_str());
  std::string log = slurp(dir / "log.txt");
  if (status != 0 || log.find("Error") != std::string::npos || !fs::exists(dir / "out.mid") ||
      fs::file_size(dir / "out.mid") == 0)
    return log.empty() ? "abc2midi failed" : log;
  return "";
}

TEST(AbcCorpus, reads_the_nottingham_database) {
  fs::path dir = data_root() / "nottingham" / "abc";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  CorpusRead c = read_all(dir);
  report("nottingham", c);
  EXPECT_EQ(c.files, 14u);
  EXPECT_EQ(c.melodies.size() + c.rejected.size(), 1034u);
  EXPECT_LE(c.rejected.size(), 10u);  // at most 1%
  expect_located(c.rejected);
  // Reviewed by hand: the only rejection is truly broken, a chord that never closes:
  // "A7"[e3-c3][e2c2(3A/2B/2c/2|
  bool found = std::any_of(c.rejected.begin(), c.rejected.end(), [](const Diagnostic& d) {
    return d.file.ends_with("jigs.abc") && d.line == 2236 && d.reason == "bad chord";
  });
  EXPECT_TRUE(found);
  for (const Melody& m : c.melodies) EXPECT_EQ(m.check(), "") << m.source_file << ":" << m.source_line;

  double regular = share_with_regular_bars(c);
  size_t checked = 0;
  double whole = share_of_whole_bar_lengths(c, &checked);
  std::cout << "  tunes whose checked bars all match the meter: " << regular * 100 << "%\n"
            << "  tunes (one regular meter, " << checked << ") whose length is whole bars (+ pickup): " << whole * 100
            << "%\n";
  EXPECT_GE(regular, 0.98);
  EXPECT_GE(whole, 0.90);
}

TEST(AbcCorpus, reads_the_abc_collections) {
  fs::path dir = data_root() / "abc-collections";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  CorpusRead c = read_all(dir);
  report("abc-collections", c);
  size_t tunes = c.melodies.size() + c.rejected.size();
  EXPECT_GE(tunes, 4300u);
  EXPECT_LE(tunes, 4500u);
  EXPECT_LE(c.rejected.size(), tunes / 50);  // at most 2%
  expect_located(c.rejected);
  for (const Melody& m : c.melodies) EXPECT_EQ(m.check(), "") << m.source_file << ":" << m.source_line;

  double regular = share_with_regular_bars(c);
  size_t checked = 0;
  double whole = share_of_whole_bar_lengths(c, &checked);
  std::cout << "  tunes whose checked bars all match the meter: " << regular * 100 << "%\n"
            << "  tunes (one regular meter, " << checked << ") whose length is whole bars (+ pickup): " << whole * 100
            << "%\n";
  EXPECT_GE(regular, 0.92);
  EXPECT_GE(whole, 0.80);
}

TEST(AbcCorpus, round_trips_every_tune_through_the_writer) {
  for (const char* sub : {"nottingham/abc", "abc-collections"}) {
    fs::path dir = data_root() / sub;
    ASSERT_TRUE(fs::is_directory(dir)) << dir;
    CorpusRead c = read_all(dir);
    RoundTrip rt = round_trip(c.melodies);
    std::cout << sub << ": " << rt.same << " tunes round-trip, " << rt.different << " differ, " << rt.unwritable
              << " cannot be written\n";
    for (const std::string& e : rt.examples) std::cout << "  " << e << "\n";
    EXPECT_EQ(rt.different, 0u);
    // Nottingham has only binary lengths and triplets; the collections have a few 5- and 7-tuplets,
    // which the writer writes as (p:q:r groups
    EXPECT_EQ(rt.unwritable, 0u);
  }
}

TEST(AbcCorpus, abc2midi_accepts_written_tunes) {
  ASSERT_EQ(std::system("command -v abc2midi > /dev/null 2>&1"), 0)
      << "abc2midi is needed for this check (Debian package abcmidi)";
  fs::path dir = fs::temp_directory_path() /
                 ("antiphon_abc_corpus_" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
  fs::create_directories(dir);
  // the first three tunes of every Nottingham file: repeats, endings, triplets, ties, key and meter changes
  size_t tried = 0;
  for (const fs::path& f : abc_files(data_root() / "nottingham" / "abc")) {
    ReadResult r = read_file(f);
    for (size_t i = 0; i < r.melodies.size() && i < 3; ++i) {
      ++tried;
      EXPECT_EQ(abc2midi_complaint(r.melodies[i], dir), "") << f << ":" << r.melodies[i].source_line;
    }
  }
  fs::remove_all(dir);
  EXPECT_EQ(tried, 42u);
}

}  // namespace
}  // namespace antiphon
