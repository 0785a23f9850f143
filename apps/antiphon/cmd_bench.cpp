// antiphon bench ingest (bench ppm: cmd_bench_ppm.cpp): parsing speed against the speed of merely reading the same bytes, in one run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <thread>

#include "antiphon/core/text.h"
#include "antiphon/formats/format.h"
#include "cli.h"

namespace antiphon::cli {
namespace {

struct BenchArgs {
  CorpusArgs corpus;
  int repeat = 3;
};

using Clock = std::chrono::steady_clock;

// Runs work(file) over every file with `threads` threads; returns the sum of what it returned.
template <typename Work>
uint64_t for_each_file(const std::vector<std::filesystem::path>& files, int threads, Work work) {
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> total{0};
  auto loop = [&] {
    uint64_t local = 0;
    for (size_t i = next++; i < files.size(); i = next++) local += work(files[i]);
    total += local;
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(loop);
  loop();
  for (auto& t : pool) t.join();
  return total;
}

// The baseline: merely reading the bytes (the count is returned so the reads are not elided).
uint64_t read_all(const std::vector<std::filesystem::path>& files, int threads) {
  return for_each_file(files, threads, [](const std::filesystem::path& f) { return read_file_bytes(f).size(); });
}

// The same reads plus decoding and parsing into melodies; returns the melody count. Files that fail are
// counted as parsed work too (their error is part of the job).
uint64_t parse_all(const std::vector<std::filesystem::path>& files, int threads, const ReadOptions& options) {
  return for_each_file(files, threads, [&](const std::filesystem::path& f) -> uint64_t {
    std::string bytes = read_file_bytes(f);
    try {
      return read_bytes(bytes, *format_from_path(f), f.string(), options).melodies.size();
    } catch (const ParseError&) {
      return 0;
    }
  });
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int run_ingest(const BenchArgs& a) {
  auto roots = a.corpus.resolved();
  auto files = list_corpus_files(roots);
  int threads = a.corpus.threads > 0 ? a.corpus.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  CorpusOptions options = a.corpus.options();
  options.threads = threads;

  uint64_t bytes = read_all(files, threads);  // warm the page cache so both sides read from memory
  double best_read = 1e300, best_parse = 1e300;
  uint64_t melodies = 0;
  for (int r = 0; r < a.repeat; ++r) {
    auto t0 = Clock::now();
    read_all(files, threads);
    best_read = std::min(best_read, seconds_since(t0));
    t0 = Clock::now();
    melodies = parse_all(files, threads, options.read);
    best_parse = std::min(best_parse, seconds_since(t0));
  }
  double mb = static_cast<double>(bytes) / 1e6;
  auto& o = std::cout;
  o << std::fixed << std::setprecision(1);
  o << "ingest " << files.size() << " files, " << mb << " MB, " << melodies << " melodies; " << threads << " thread(s), best of " << a.repeat << "\n";
  o << "  read only      " << std::setw(9) << mb / best_read << " MB/s  " << std::setw(9)
    << static_cast<double>(files.size()) / best_read << " files/s  (" << std::setprecision(3) << best_read * 1e3
    << " ms)\n"
    << std::setprecision(1);
  o << "  read + parse   " << std::setw(9) << mb / best_parse << " MB/s  " << std::setw(9)
    << static_cast<double>(files.size()) / best_parse << " files/s  (" << std::setprecision(3) << best_parse * 1e3
    << " ms)\n";
  double ratio = best_read / best_parse;
  o << std::setprecision(1) << "  parse speed = " << ratio * 100 << " % of raw read speed (goal >= 25 %)\n";
  return kExitOk;
}

}  // namespace

void add_bench_command(CLI::App& app, int& exit_code) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks that print ratios against a baseline from the same run");
  bench->require_subcommand(1);
  auto a = std::make_shared<BenchArgs>();
  CLI::App* ingest = bench->add_subcommand("ingest", "Corpus parsing speed vs. merely reading the same bytes");
  a->corpus.add_to(*ingest, "essen");
  ingest->add_option("--repeat", a->repeat, "Runs; the best is reported")->check(CLI::Range(1, 100))->capture_default_str();
  ingest->callback([a, &exit_code] { exit_code = run_ingest(*a); });
  add_bench_ppm_command(*bench, exit_code);
  add_bench_respond_command(*bench, exit_code);
#ifdef ANTIPHON_HAVE_TORCH
  add_neural_bench_commands(*bench, exit_code);
#endif
}

}  // namespace antiphon::cli
