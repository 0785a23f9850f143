#include "antiphon/corpus/corpus.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <cstdlib>
#include <numeric>
#include <random>
#include <system_error>

#include "antiphon/core/text.h"

namespace antiphon {
namespace fs = std::filesystem;

namespace {

struct FoundFile {
  fs::path path;
  std::string relative;  // for the fingerprint: stable across machines
};

void collect(const fs::path& root, std::vector<FoundFile>& out, std::vector<Diagnostic>& rejected) {
  std::error_code ec;
  if (fs::is_regular_file(root, ec)) {
    auto format = format_from_path(root);
    if (!format || !has_reader(*format)) {
      rejected.push_back({root.string(), 0, 0, "unsupported format",
                          "unknown file type '" + root.extension().string() + "' (readers: .krn .abc .mid)"});
      return;
    }
    out.push_back({root, root.filename().string()});
    return;
  }
  if (!fs::is_directory(root, ec)) throw IoError(root.string() + ": no such file or folder");
  std::vector<FoundFile> found;
  auto options = fs::directory_options::skip_permission_denied;
  for (auto it = fs::recursive_directory_iterator(root, options, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto format = format_from_path(it->path());
    if (!format || !has_reader(*format)) continue;  // READMEs, licences, notation exports
    found.push_back({it->path(), fs::relative(it->path(), root, ec).generic_string()});
  }
  if (ec) throw IoError(root.string() + ": cannot list folder: " + ec.message());
  std::sort(found.begin(), found.end(), [](const FoundFile& a, const FoundFile& b) { return a.relative < b.relative; });
  out.insert(out.end(), found.begin(), found.end());
}

std::string hex128(XXH128_hash_t h) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s(32, '0');
  uint64_t words[2] = {h.high64, h.low64};
  for (int w = 0; w < 2; ++w)
    for (int i = 0; i < 16; ++i) s[static_cast<size_t>(w * 16 + i)] = kHex[(words[w] >> (60 - 4 * i)) & 0xF];
  return s;
}

}  // namespace

void CorpusFilter::validate() const {
  if (grid_steps_per_quarter < 0 || grid_steps_per_quarter > 96)
    throw ConfigError("grid steps per quarter must be in 0..96, got " + std::to_string(grid_steps_per_quarter));
}

std::optional<size_t> first_off_grid_note(const Melody& melody, int steps_per_quarter) {
  Rational step(1, steps_per_quarter);
  for (size_t i = 0; i < melody.notes.size(); ++i) {
    const Note& n = melody.notes[i];
    if (!(n.onset / step).is_integer() || !(n.duration / step).is_integer()) return i;
  }
  return std::nullopt;
}

namespace {

// What one file gave; filled by worker threads, merged in file order so results do not depend on timing.
struct FileOutcome {
  uint64_t size = 0;
  XXH128_hash_t hash{};
  ReadResult result;
  std::optional<Diagnostic> failure;
};

FileOutcome read_one(const FoundFile& f, const ReadOptions& options) {
  FileOutcome out;
  std::string name = f.path.string();
  std::string bytes;
  try {
    bytes = read_file_bytes(f.path);
  } catch (const IoError& e) {
    out.failure = Diagnostic{name, 0, 0, "unreadable file", e.what()};
    return out;
  }
  out.size = bytes.size();
  out.hash = XXH3_128bits(bytes.data(), bytes.size());
  try {
    out.result = read_bytes(bytes, *format_from_path(f.path), name, options);
  } catch (const ParseError& e) {
    out.failure = Diagnostic::from(e);
  } catch (const std::exception& e) {
    // A reader bug must not abort the import: report it against the file and go on.
    out.failure = Diagnostic{name, 0, 0, "reader failure", std::string("could not read: ") + e.what()};
  }
  return out;
}

std::string filter_reason(const Melody& m, const CorpusFilter& flt, std::string& reason) {
  if (m.pitched_count() < flt.min_notes) {
    reason = "filter: min notes";
    return "fewer than " + std::to_string(flt.min_notes) + " notes";
  }
  if (!flt.meters.empty() && std::find(flt.meters.begin(), flt.meters.end(), m.meter().name()) == flt.meters.end()) {
    reason = "filter: meter";
    return "meter " + m.meter().name() + " not selected";
  }
  if (flt.grid_steps_per_quarter > 0) {
    if (auto bad = first_off_grid_note(m, flt.grid_steps_per_quarter)) {
      reason = "filter: off grid";
      return "not on a grid of " + std::to_string(flt.grid_steps_per_quarter) + " steps per quarter (note " +
             std::to_string(*bad) + " at " + m.notes[*bad].onset.to_string() + ", duration " +
             m.notes[*bad].duration.to_string() + ")";
    }
  }
  return "";
}

}  // namespace

Corpus load_corpus(const std::vector<fs::path>& paths, const CorpusOptions& options) {
  options.filter.validate();
  options.read.midi.validate();
  if (options.threads < 0) throw ConfigError("threads must be >= 0, got " + std::to_string(options.threads));
  Corpus corpus;
  std::vector<FoundFile> files;
  for (const fs::path& p : paths) collect(p, files, corpus.rejected);
  corpus.files = files.size() + corpus.rejected.size();

  std::vector<FileOutcome> outcomes(files.size());
  size_t threads = options.threads > 0 ? static_cast<size_t>(options.threads)
                                       : std::max<size_t>(1, std::thread::hardware_concurrency());
  threads = std::min(threads, std::max<size_t>(1, files.size()));
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::mutex progress_mutex;
  auto work = [&](bool reports) {
    for (size_t i = next++; i < files.size(); i = next++) {
      outcomes[i] = read_one(files[i], options.read);
      size_t d = ++done;
      if (options.progress && reports) {
        std::lock_guard<std::mutex> lock(progress_mutex);
        options.progress(d, files.size());
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work, false);
  work(true);
  for (auto& t : pool) t.join();
  if (options.progress) options.progress(files.size(), files.size());

  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  for (size_t i = 0; i < files.size(); ++i) {
    FileOutcome& o = outcomes[i];
    const FoundFile& f = files[i];
    XXH3_128bits_update(state, f.relative.data(), f.relative.size());
    XXH3_128bits_update(state, "\0", 1);
    XXH3_128bits_update(state, &o.size, sizeof o.size);
    XXH3_128bits_update(state, &o.hash, sizeof o.hash);
    corpus.bytes += o.size;
    if (o.failure) {
      if (options.log) options.log(LogLevel::warning, o.failure->to_string());
      corpus.rejected.push_back(std::move(*o.failure));
      continue;
    }
    ReadResult& r = o.result;
    corpus.warnings.insert(corpus.warnings.end(), r.warnings.begin(), r.warnings.end());
    corpus.rejected.insert(corpus.rejected.end(), r.rejected.begin(), r.rejected.end());
    if (!r.melodies.empty()) ++corpus.files_loaded;
    for (Melody& m : r.melodies) {
      std::string reason;
      std::string why = filter_reason(m, options.filter, reason);
      if (!why.empty()) {
        corpus.filtered.push_back(
            {m.source_file, m.source_line, 0, reason, (m.title.empty() ? "" : m.title + ": ") + why});
        continue;
      }
      corpus.melodies.push_back(std::move(m));
    }
    r = ReadResult{};
  }
  corpus.fingerprint = hex128(XXH3_128bits_digest(state));
  XXH3_freeState(state);
  return corpus;
}

std::vector<fs::path> list_corpus_files(const std::vector<fs::path>& paths, std::vector<Diagnostic>* rejected) {
  std::vector<FoundFile> files;
  std::vector<Diagnostic> bad;
  for (const fs::path& p : paths) collect(p, files, bad);
  if (rejected) *rejected = std::move(bad);
  std::vector<fs::path> out;
  out.reserve(files.size());
  for (auto& f : files) out.push_back(std::move(f.path));
  return out;
}

fs::path default_data_root() {
  std::vector<fs::path> tried;
  if (const char* env = std::getenv("ANTIPHON_DATA"); env != nullptr && *env != '\0') {
    fs::path p(env);
    if (fs::is_directory(p)) return p;
    throw IoError("ANTIPHON_DATA=" + p.string() + " is not a folder");
  }
  std::error_code ec;
  std::vector<fs::path> candidates = {fs::current_path(ec) / ".." / "shared" / "data"};
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/bin/antiphon -> <checkout>/../shared/data
    fs::path dir = exe.parent_path();
    for (int up = 0; up < 4 && !dir.empty(); ++up) {
      candidates.push_back(dir / ".." / "shared" / "data");
      dir = dir.parent_path();
    }
  }
  for (const fs::path& c : candidates) {
    if (fs::is_directory(c, ec)) return fs::weakly_canonical(c, ec);
    tried.push_back(c);
  }
  std::string where;
  for (const auto& t : tried) where += "\n  " + t.lexically_normal().string();
  throw IoError("no corpus data folder found; set ANTIPHON_DATA or pass --corpus PATH. Looked in:" + where);
}

fs::path resolve_corpus_path(const std::string& arg) {
  fs::path p(arg);
  std::error_code ec;
  if (fs::exists(p, ec)) return p;
  if (p.is_relative()) {
    fs::path root;
    try {
      root = default_data_root();
    } catch (const IoError&) {
      throw IoError(arg + ": no such file or folder");
    }
    fs::path q = root / p;
    if (fs::exists(q, ec)) return q;
    throw IoError(arg + ": no such file or folder (looked here and in " + root.string() + ")");
  }
  throw IoError(arg + ": no such file or folder");
}

std::vector<Fold> kfold_split(size_t n, int k, uint64_t seed) {
  if (k < 2) throw ConfigError("folds must be at least 2, got " + std::to_string(k));
  if (static_cast<size_t>(k) > n)
    throw ConfigError("cannot split " + std::to_string(n) + " melodies into " + std::to_string(k) + " folds");
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  // Fisher-Yates with our own index draw so the split is the same with every standard library.
  std::mt19937_64 rng(seed);
  for (size_t i = n; i > 1; --i) {
    size_t j = static_cast<size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
  std::vector<Fold> folds(static_cast<size_t>(k));
  for (size_t pos = 0; pos < n; ++pos) {
    size_t f = pos % static_cast<size_t>(k);
    for (size_t g = 0; g < folds.size(); ++g) (g == f ? folds[g].test : folds[g].train).push_back(order[pos]);
  }
  for (Fold& f : folds) {
    std::sort(f.test.begin(), f.test.end());
    std::sort(f.train.begin(), f.train.end());
  }
  return folds;
}

}  // namespace antiphon
