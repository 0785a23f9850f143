// antiphon bench ppm: the 10-fold cross-validation of the long-term PPM* cpitch model (IDyOM's reference
// configuration), timed against the independent Python reference (../shared/tools/ref_ppm.py) on the same
// corpus in the same run, with both results in bits per note so speed and agreement are read side by side.
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <regex>

#include "antiphon/analysis/evaluate.h"
#include "antiphon/corpus/corpus.h"
#include "cli.h"

namespace antiphon::cli {
namespace {

struct BenchPpmArgs {
  std::vector<std::string> corpora = {"essen/europa/deutschl/fink", "essen/europa/deutschl/erk"};
  std::string model = "ppm:order=star,escape=C,blend=1,ltm=1,stm=0,viewpoints=cpitch";
  std::string reference;  // path to ref_ppm.py; default: tools/ref_ppm.py beside the data root
  bool no_reference = false;
  int repeat = 3;
  int threads = 0;
};

using Clock = std::chrono::steady_clock;

struct RefRun {
  bool ran = false;
  double seconds = 0;
  double bits = 0;
  std::string output;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

RefRun run_reference(const std::string& script, const std::filesystem::path& corpus) {
  RefRun r;
  const std::string cmd = "python3 " + shell_quote(script) + " " + shell_quote(corpus.string()) + " 2>&1";
  const auto t0 = Clock::now();
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  std::smatch m;
  if (status == 0 && std::regex_search(r.output, m, std::regex("melody-avg=([0-9.]+)"))) {
    r.ran = true;
    r.bits = std::stod(m[1].str());
  }
  return r;
}

bool have_python() { return std::system("python3 -c 'pass' >/dev/null 2>&1") == 0; }

int run_bench_ppm(const BenchPpmArgs& args) {
  std::string script = args.reference;
  if (script.empty()) script = (default_data_root() / ".." / "tools" / "ref_ppm.py").lexically_normal().string();
  const bool reference = !args.no_reference && have_python() && std::filesystem::is_regular_file(script);
  if (!args.no_reference && !reference)
    std::cerr << "note: the Python reference is not run (" << (have_python() ? script + " not found" : "no python3")
              << "); pass --reference PATH to point to ref_ppm.py\n";
  const ModelSpec spec = ModelSpec::parse(args.model);
  std::ostream& o = std::cout;
  o << std::fixed << "model " << spec.to_string() << ", 10-fold cross-validation, seed 1, best of " << args.repeat
    << "\n\n";
  o << std::left << std::setw(30) << "corpus" << std::right << std::setw(9) << "melodies" << std::setw(8) << "notes"
    << std::setw(10) << "bits" << std::setw(10) << "seconds" << std::setw(12) << "1 thread";
  if (reference) o << std::setw(10) << "ref bits" << std::setw(12) << "ref seconds" << std::setw(9) << "ratio";
  o << "\n";
  double ours_total = 0, ours_single_total = 0, ref_total = 0;
  for (const std::string& c : args.corpora) {
    const std::filesystem::path path = resolve_corpus_path(c);
    Corpus corpus = load_corpus({path}, {});
    EvalOptions options;
    options.folds = 10;
    options.seed = 1;
    auto best_of = [&](int threads) {
      options.threads = threads;
      double best = 1e300;
      EvalResult r;
      for (int k = 0; k < args.repeat; ++k) {
        r = cross_validate(spec, corpus.melodies, options);
        best = std::min(best, r.seconds);
      }
      r.seconds = best;
      return r;
    };
    EvalResult ours = best_of(args.threads);
    EvalResult single = best_of(1);
    ours_total += ours.seconds;
    ours_single_total += single.seconds;
    o << std::left << std::setw(30) << c << std::right << std::setw(9) << ours.melodies << std::setw(8) << ours.notes
      << std::setw(10) << std::setprecision(3) << ours.bits_per_note << std::setw(10) << std::setprecision(4)
      << ours.seconds << std::setw(12) << single.seconds;
    if (reference) {
      RefRun ref = run_reference(script, path);
      if (!ref.ran) {
        o << "  reference failed:\n" << ref.output << "\n";
        continue;
      }
      ref_total += ref.seconds;
      o << std::setw(10) << std::setprecision(3) << ref.bits << std::setw(12) << std::setprecision(2) << ref.seconds
        << std::setw(8) << std::setprecision(0) << ref.seconds / ours.seconds << "x";
    }
    o << std::endl;
  }
  if (reference && ours_total > 0)
    o << "\ntotal: antiphon " << std::setprecision(3) << ours_total << " s (" << ours_single_total
      << " s on 1 thread), reference " << std::setprecision(1) << ref_total << " s: " << std::setprecision(0)
      << ref_total / ours_total << "x faster (" << ref_total / ours_single_total << "x on 1 thread; goal >= 200x)\n";
  return kExitOk;
}

}  // namespace

void add_bench_ppm_command(CLI::App& bench, int& exit_code) {
  auto a = std::make_shared<BenchPpmArgs>();
  CLI::App* cmd = bench.add_subcommand(
      "ppm", "10-fold cross-validation of the PPM* cpitch model vs. the Python reference on the same corpus");
  cmd->add_option("--corpus", a->corpora, "Corpus folder(s) of **kern files (each timed separately)")
      ->capture_default_str();
  cmd->add_option("--model", a->model, "Model spec to time")->capture_default_str();
  cmd->add_option("--reference", a->reference, "Path to ref_ppm.py (default: tools/ref_ppm.py beside the data root)");
  cmd->add_flag("--no-reference", a->no_reference, "Do not run the Python reference");
  cmd->add_option("--repeat", a->repeat, "Runs of ours; the best is reported")->check(CLI::Range(1, 100))->capture_default_str();
  cmd->add_option("--eval-threads", a->threads, "Folds in parallel (0: one per core)")->check(CLI::NonNegativeNumber);
  cmd->callback([a, &exit_code] { exit_code = run_bench_ppm(*a); });
}

}  // namespace antiphon::cli
