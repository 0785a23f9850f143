// The Essen Folksong Collection (7055 **kern files) through read_file: every file either loads or is
// rejected with a ParseError that names the file, the line and the offending token; the rejected ones are the
// known garbled files. Every loaded melody round-trips through write_kern. Also measures parse speed against
// the speed of just reading the bytes.
#include <gtest/gtest.h>

#include "antiphon/corpus/corpus.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "antiphon/core/text.h"
#include "antiphon/formats/format.h"
#include "antiphon/formats/kern.h"

namespace antiphon {
namespace {

namespace fs = std::filesystem;

// $ANTIPHON_DATA, or ../shared/data beside the checkout (found from the working directory or the binary).
fs::path data_root() { return default_data_root(); }

std::vector<fs::path> essen_files() {
  std::vector<fs::path> files;
  fs::path root = data_root() / "essen";
  if (!fs::is_directory(root)) return files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().extension() == ".krn") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

// Line `line` (1-based) of text, without its line end.
std::string_view line_of(std::string_view text, int line) {
  std::vector<std::string_view> lines = split_lines(text);
  return line >= 1 && static_cast<size_t>(line) <= lines.size() ? lines[static_cast<size_t>(line) - 1]
                                                                : std::string_view();
}

// The text from 1-based character column `column` of `line` to the next tab or the line end.
std::string token_at(std::string_view line, int column) {
  size_t i = 0;
  for (int c = 1; c < column && i < line.size(); ++c) {
    ++i;
    while (i < line.size() && (static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) ++i;
  }
  size_t end = line.find('\t', i);
  return std::string(line.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i));
}

struct Rejection {
  fs::path path;
  ParseError error;
};

TEST(EssenCorpus, loads_every_file_and_rejects_only_the_garbled_ones) {
  const std::vector<fs::path> files = essen_files();
  ASSERT_GT(files.size(), 7000u) << "Essen corpus not found under " << data_root() / "essen"
                                 << " (set ANTIPHON_DATA)";

  // Baseline: just reading the bytes.
  uint64_t bytes = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (const fs::path& f : files) bytes += read_file_bytes(f).size();
  double read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Reading, decoding and parsing every file.
  size_t loaded = 0, notes = 0;
  std::vector<Rejection> rejected;
  auto t1 = std::chrono::steady_clock::now();
  for (const fs::path& f : files) {
    try {
      ReadResult r = read_file(f);
      ASSERT_EQ(r.melodies.size(), 1u) << f;
      ASSERT_EQ(r.melodies[0].check(), "") << f;
      ASSERT_GT(r.melodies[0].pitched_count(), 0u) << f;
      notes += r.melodies[0].notes.size();
      ++loaded;
    } catch (const ParseError& e) {
      rejected.push_back({f, e});
    }
  }
  double parse_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();

  EXPECT_EQ(loaded + rejected.size(), files.size());
  EXPECT_LE(rejected.size(), 20u);

  std::map<std::string, std::string> reasons;  // file name -> reason
  for (const Rejection& r : rejected) {
    const ParseError& e = r.error;
    reasons[r.path.filename().string()] = e.reason();
    EXPECT_EQ(e.file(), r.path.string());
    EXPECT_GT(e.line(), 0) << e.what();
    EXPECT_GT(e.column(), 0) << e.what();
    // The message names what stands at that line and column of the file.
    std::string raw = read_file_bytes(r.path);
    if (e.reason() == "binary data") {
      std::string_view line = line_of(raw, e.line());
      ASSERT_LE(static_cast<size_t>(e.column()), line.size()) << e.what();
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(line[static_cast<size_t>(e.column()) - 1]));
      EXPECT_NE(e.message().find(hex), std::string::npos) << e.what();
    } else {
      std::string token = token_at(line_of(decode_text(raw, r.path.string()).utf8, e.line()), e.column());
      ASSERT_FALSE(token.empty()) << e.what();
      EXPECT_NE(e.message().find(token), std::string::npos) << e.what() << " / token at position: " << token;
    }
    std::printf("rejected [%s] %s\n", e.reason().c_str(), e.what());
  }

  // The files with garbled tokens (an accidental after an editorial mark, decimal durations, a backspace
  // byte), and the one file whose **kern spine holds no notes at all.
  const std::map<std::string, std::string> expected = {
      {"han0047.krn", "garbled token"},  {"han0118.krn", "garbled token"},  {"han0139.krn", "garbled token"},
      {"han0311.krn", "garbled token"},  {"han0403.krn", "garbled token"},  {"han0463.krn", "garbled token"},
      {"han0882.krn", "garbled token"},  {"han0920.krn", "garbled token"},  {"han1003.krn", "garbled token"},
      {"deut3765.krn", "garbled token"}, {"deut4465.krn", "garbled token"}, {"deut3939.krn", "garbled token"},
      {"deut4016.krn", "garbled token"}, {"deut4312.krn", "garbled token"}, {"deut4321.krn", "garbled token"},
      {"deut4355.krn", "garbled token"}, {"deut1328.krn", "binary data"},   {"han0953.krn", "no notes"},
  };
  EXPECT_EQ(reasons, expected);

  // The parser alone, on text already read and decoded.
  std::vector<std::pair<std::string, std::string>> texts;
  for (const fs::path& f : files) {
    try {
      texts.emplace_back(f.string(), decode_text(read_file_bytes(f), f.string()).utf8);
    } catch (const ParseError&) {
    }
  }
  auto t2 = std::chrono::steady_clock::now();
  size_t kern_loaded = 0;
  for (const auto& [name, text] : texts) {
    try {
      kern_loaded += read_kern(text, name).melodies.size();
    } catch (const ParseError&) {
    }
  }
  double kern_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
  EXPECT_EQ(kern_loaded, loaded);

  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("Essen: %zu files, %zu loaded, %zu rejected, %zu notes, %.1f MB\n", files.size(), loaded, rejected.size(),
              notes, mb);
  std::printf("read bytes only: %.3f s (%.0f MB/s); read_file (read + decode + parse): %.3f s (%.0f MB/s)\n",
              read_seconds, mb / read_seconds, parse_seconds, mb / parse_seconds);
  std::printf("read_kern alone on decoded text: %.3f s (%.0f MB/s)\n", kern_seconds, mb / kern_seconds);
  RecordProperty("files", static_cast<int>(files.size()));
  RecordProperty("rejected", static_cast<int>(rejected.size()));
}

TEST(EssenCorpus, every_loaded_file_round_trips_through_the_writer) {
  const std::vector<fs::path> files = essen_files();
  ASSERT_GT(files.size(), 7000u) << "Essen corpus not found under " << data_root() / "essen";
  size_t checked = 0;
  for (const fs::path& f : files) {
    Melody m;
    try {
      m = read_file(f).melodies.front();
    } catch (const ParseError&) {
      continue;  // the rejected files are checked above
    }
    std::string kern = write_kern(m);
    Melody back = read_kern(kern, f.string() + " (rewritten)").melodies.front();
    EXPECT_EQ(back.notes, m.notes) << f;
    EXPECT_EQ(back.meters, m.meters) << f;
    EXPECT_EQ(back.keys, m.keys) << f;
    EXPECT_EQ(back.pickup, m.pickup) << f;
    EXPECT_EQ(back.title, m.title) << f;
    EXPECT_EQ(back.metadata, m.metadata) << f;
    if (::testing::Test::HasFailure()) break;
    ++checked;
  }
  EXPECT_GT(checked, 7000u);
}

}  // namespace
}  // namespace antiphon
