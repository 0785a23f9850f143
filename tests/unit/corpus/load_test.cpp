#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "antiphon/core/text.h"
#include "antiphon/corpus/corpus.h"
#include "antiphon/corpus/stats.h"

namespace fs = std::filesystem;

namespace antiphon {
namespace {

fs::path mixed() { return fs::path(ANTIPHON_FIXTURES) / "cli" / "corpus"; }

fs::path scratch(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("antiphon_corpus_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(LoadCorpus, loads_good_files_and_reports_each_bad_one) {
  Corpus c = load_corpus({mixed()});
  EXPECT_EQ(c.files, 5u);
  EXPECT_EQ(c.files_loaded, 2u);
  ASSERT_EQ(c.melodies.size(), 3u);
  // Sorted by relative path: good.krn, then sub/tunes.abc.
  EXPECT_EQ(c.melodies[0].title, "Kleines Lied");
  EXPECT_EQ(c.melodies[1].title, "First Tune");
  EXPECT_EQ(c.melodies[2].title, "Second Tune");
  ASSERT_EQ(c.rejected.size(), 4u);
  for (const Diagnostic& d : c.rejected) {
    EXPECT_FALSE(d.file.empty());
    EXPECT_FALSE(d.reason.empty());
  }
}

TEST(LoadCorpus, gives_the_same_result_with_one_or_many_threads) {
  CorpusOptions one;
  one.threads = 1;
  CorpusOptions many;
  many.threads = 4;
  Corpus a = load_corpus({mixed()}, one);
  Corpus b = load_corpus({mixed()}, many);
  EXPECT_EQ(a.melodies, b.melodies);
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  ASSERT_EQ(a.rejected.size(), b.rejected.size());
  for (size_t i = 0; i < a.rejected.size(); ++i) EXPECT_EQ(a.rejected[i].to_string(), b.rejected[i].to_string());
}

TEST(LoadCorpus, fingerprint_follows_the_contents_not_the_location) {
  fs::path d1 = scratch("fp1"), d2 = scratch("fp2");
  std::string kern = read_file_bytes(mixed() / "good.krn");
  write_file_atomic(d1 / "a.krn", kern);
  write_file_atomic(d2 / "a.krn", kern);
  std::string f1 = load_corpus({d1}).fingerprint;
  EXPECT_EQ(f1, load_corpus({d2}).fingerprint);
  std::string changed = kern;
  changed.replace(changed.find("4a"), 2, "4c");
  write_file_atomic(d2 / "a.krn", changed);
  EXPECT_NE(f1, load_corpus({d2}).fingerprint);
  fs::rename(d1 / "a.krn", d1 / "b.krn");  // a renamed file is a different corpus
  EXPECT_NE(f1, load_corpus({d1}).fingerprint);
  fs::remove_all(d1);
  fs::remove_all(d2);
}

TEST(LoadCorpus, applies_filters_and_says_why) {
  CorpusOptions o;
  o.filter.min_notes = 7;
  Corpus c = load_corpus({mixed()}, o);
  ASSERT_EQ(c.melodies.size(), 1u);
  EXPECT_EQ(c.melodies[0].title, "Second Tune");
  ASSERT_EQ(c.filtered.size(), 2u);
  EXPECT_EQ(c.filtered[0].reason, "filter: min notes");

  CorpusOptions g;
  g.filter.grid_steps_per_quarter = 1;  // eighth notes do not fit
  Corpus h = load_corpus({mixed()}, g);
  EXPECT_EQ(h.melodies.size(), 0u);
  EXPECT_NE(h.filtered[0].message.find("note 0"), std::string::npos) << h.filtered[0].message;
  CorpusOptions bad;
  bad.filter.grid_steps_per_quarter = -1;
  EXPECT_THROW(load_corpus({mixed()}, bad), ConfigError);
}

TEST(LoadCorpus, throws_for_a_missing_path_and_rejects_an_unknown_file_type) {
  EXPECT_THROW(load_corpus({"/no/such/corpus"}), IoError);
  Corpus c = load_corpus({mixed() / "README.txt"});
  ASSERT_EQ(c.rejected.size(), 1u);
  EXPECT_EQ(c.rejected[0].reason, "unsupported format");
}

TEST(LoadCorpus, summarizes_counts) {
  CorpusStats s = summarize(load_corpus({mixed()}));
  EXPECT_EQ(s.melodies, 3u);
  EXPECT_EQ(s.notes, 20u);
  EXPECT_EQ(s.pitch_min, 62);
  EXPECT_EQ(s.pitch_max, 72);
  EXPECT_EQ(s.meters["3/4"], 1u);
  EXPECT_EQ(s.rejected_by_reason["binary data"], 1u);
  EXPECT_EQ(s.rejected_by_reason["empty file"], 1u);
  EXPECT_EQ(s.with_pickup, 1u);  // the kern song starts with two eighths before bar 1
}

TEST(DataRoot, honours_the_environment_variable) {
  fs::path d = scratch("root");
  fs::create_directories(d / "mine");
  ::setenv("ANTIPHON_DATA", d.c_str(), 1);
  EXPECT_EQ(default_data_root(), d);
  EXPECT_EQ(resolve_corpus_path("mine"), d / "mine");
  EXPECT_THROW(resolve_corpus_path("not-there"), IoError);
  ::setenv("ANTIPHON_DATA", (d / "nope").c_str(), 1);
  EXPECT_THROW(default_data_root(), IoError);
  ::unsetenv("ANTIPHON_DATA");
  fs::remove_all(d);
}

}  // namespace antiphon
