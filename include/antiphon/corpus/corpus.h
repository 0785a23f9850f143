#pragma once
// Corpora: load a folder (recursively, mixed formats) or a list of files, with per-file diagnostics,
// filters, a content fingerprint and deterministic k-fold splits by melody.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/core/melody.h"
#include "antiphon/formats/format.h"

namespace antiphon {

struct CorpusFilter {
  size_t min_notes = 0;                 // minimum pitched notes
  std::vector<std::string> meters;      // keep only these meter names ("6/8", "free"); empty: all
  int grid_steps_per_quarter = 0;       // > 0: keep only melodies exactly representable on this grid
  void validate() const;                // throws ConfigError
};

struct CorpusOptions {
  ReadOptions read;
  CorpusFilter filter;
  int threads = 0;                                            // parsing threads; 0: one per core
  LogFn log;                                                  // optional
  std::function<void(size_t done, size_t total)> progress;   // optional, called per file (from one thread)
};

struct Corpus {
  std::vector<Melody> melodies;
  size_t files = 0;                  // files found with a known extension
  size_t files_loaded = 0;           // files that gave at least one melody
  uint64_t bytes = 0;                // bytes read
  std::vector<Diagnostic> rejected;  // files, tunes and tracks that could not be read, with reasons
  std::vector<Diagnostic> warnings;  // read with a fallback
  std::vector<Diagnostic> filtered;  // melodies dropped by the filter (reason names the filter)
  std::string fingerprint;           // hex hash of (relative path, contents) of every file, sorted by path
};

// Loads every file with a reader under each path (folders recursively, in sorted order so results are
// deterministic). One bad file is reported in `rejected` and skipped, never aborts the load. Throws
// IoError only when a given path does not exist.
Corpus load_corpus(const std::vector<std::filesystem::path>& paths, const CorpusOptions& options = {});

// The files load_corpus would read under these paths, in its order (sorted by relative path per root).
// A given file with no reader goes to `rejected`. Throws IoError when a path does not exist.
std::vector<std::filesystem::path> list_corpus_files(const std::vector<std::filesystem::path>& paths,
                                                     std::vector<Diagnostic>* rejected = nullptr);

// The data root: $ANTIPHON_DATA if set, else ../shared/data (relative to the working directory, then to
// the executable's build tree). Throws IoError when none exists, saying where it looked.
std::filesystem::path default_data_root();
// Resolves a --corpus argument: an existing path as is; otherwise relative to the data root
// ("essen/europa/deutschl/fink"). Throws IoError naming both places it looked.
std::filesystem::path resolve_corpus_path(const std::string& arg);

// Deterministic k-fold split by melody: indices 0..n-1 shuffled with the seed, fold i tests on every
// k-th of them. Every index is in exactly one test set. Throws ConfigError when k < 2 or k > n.
struct Fold {
  std::vector<size_t> train;
  std::vector<size_t> test;
};
std::vector<Fold> kfold_split(size_t n, int k, uint64_t seed);

// Whether every onset and duration is a whole number of steps at this resolution; when not, the first
// offending note index (for the error message).
std::optional<size_t> first_off_grid_note(const Melody& melody, int steps_per_quarter);

}  // namespace antiphon
