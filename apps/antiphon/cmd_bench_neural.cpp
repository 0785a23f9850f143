// antiphon bench generate / bench train: the neural benchmarks (src/train/bench_*.cpp), each against a
// baseline measured in the same run: LibTorch's own batch-1 LSTM step for generation; LibTorch's
// torch::nn::LSTM, the Python PyTorch reference and the machine's matmul peak for training.
#ifdef ANTIPHON_HAVE_TORCH
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "antiphon/train/bench.h"
#include "cli.h"

namespace antiphon::cli {
namespace {

struct GenerateArgs {
  GenerateBenchOptions options;
  bool json = false;
};

struct TrainArgs {
  TrainBenchOptions options;
  bool json = false;
  bool no_python = false;
};

int run_generate(const GenerateArgs& a) {
  const GenerateBenchResult r = bench_generate(a.options);
  if (a.json) {
    nlohmann::json j;
    j["libtorch_us_per_step"] = r.libtorch_us_per_step;
    j["fast_us_per_step"] = r.fast_us_per_step;
    j["ratio"] = r.ratio;
    j["max_abs_diff"] = r.max_abs_diff;
    j["fast_isa"] = r.fast_isa;
    j["hidden"] = r.hidden;
    j["layers"] = r.layers;
    j["vocab"] = r.vocab;
    j["steps"] = r.steps;
    j["threads"] = r.threads;
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::ostream& o = std::cout;
  o << "generate: LSTM " << r.layers << "x" << r.hidden << ", vocab " << r.vocab << " one-hot in/out, batch 1, "
    << r.steps << " timed steps (median step), LibTorch on " << r.threads << " thread(s)\n";
  o << std::fixed << std::setprecision(2);
  o << "  libtorch   " << std::setw(9) << r.libtorch_us_per_step << " us/step  (torch::nn::LSTM + Linear, NoGradGuard)\n";
  o << "  fast       " << std::setw(9) << r.fast_us_per_step << " us/step  (FastLstm, " << r.fast_isa << " kernels; goal <= 10 us/step)\n";
  o << std::setprecision(1) << "  ratio      " << std::setw(9) << r.ratio << "x faster\n";
  o << std::scientific << std::setprecision(2) << "  max |logit difference| " << r.max_abs_diff << " (goal < 1e-5)\n";
  return kExitOk;
}

int run_train(const TrainArgs& a) {
  TrainBenchOptions options = a.options;
  options.python = !a.no_python;
  const TrainBenchResult r = bench_train(options);
  if (a.json) {
    nlohmann::json j;
    j["tokens_per_s"] = r.tokens_per_s;
    j["gflops"] = r.gflops;
    j["peak_gflops"] = r.peak_gflops;
    j["fraction_of_peak"] = r.fraction_of_peak;
    j["libtorch_lstm_tokens_per_s"] = r.libtorch_lstm_tokens_per_s;
    j["pytorch_tokens_per_s"] = r.pytorch_tokens_per_s;
    j["pytorch_note"] = r.pytorch_note;
    j["flops_per_token"] = r.flops_per_token;
    j["hidden"] = r.hidden;
    j["layers"] = r.layers;
    j["vocab"] = r.vocab;
    j["batch"] = r.batch;
    j["seq_len"] = r.seq_len;
    j["steps"] = r.steps;
    j["threads"] = r.threads;
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::ostream& o = std::cout;
  o << "train: LSTM " << r.layers << "x" << r.hidden << ", vocab " << r.vocab << ", batch " << r.batch << " x "
    << r.seq_len << " steps, " << r.steps << " optimiser steps, " << r.threads << " thread(s)\n";
  o << std::fixed << std::setprecision(0);
  o << "  ours               " << std::setw(10) << r.tokens_per_s << " tokens/s  (" << std::setprecision(1) << r.gflops
    << " GFLOP/s = " << r.fraction_of_peak * 100 << " % of the " << r.peak_gflops << " GFLOP/s matmul peak)\n";
  o << std::setprecision(0) << "  torch::nn::LSTM    " << std::setw(10) << r.libtorch_lstm_tokens_per_s << " tokens/s";
  if (r.libtorch_lstm_tokens_per_s > 0)
    o << "  (ours " << std::setprecision(2) << r.tokens_per_s / r.libtorch_lstm_tokens_per_s << "x)";
  o << "\n";
  if (r.pytorch_tokens_per_s > 0) {
    o << std::setprecision(0) << "  PyTorch (Python)   " << std::setw(10) << r.pytorch_tokens_per_s
      << " tokens/s  (ours " << std::setprecision(2) << r.tokens_per_s / r.pytorch_tokens_per_s << "x)\n";
  } else {
    o << "  PyTorch (Python)   " << (r.pytorch_note.empty() ? "not run" : r.pytorch_note) << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_neural_bench_commands(CLI::App& bench, int& exit_code) {
  auto g = std::make_shared<GenerateArgs>();
  CLI::App* gen = bench.add_subcommand(
      "generate", "Batch-1 LSTM generation step: LibTorch vs. the dedicated inference path, same weights and inputs");
  gen->add_flag("--json", g->json, "Print the result as JSON");
  gen->add_option("--steps", g->options.steps, "Timed steps per path (after a warm-up)")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  gen->add_option("--hidden", g->options.hidden, "Units per layer")->check(CLI::Range(1, 4096))->capture_default_str();
  gen->add_option("--layers", g->options.layers, "LSTM layers")->check(CLI::Range(1, 8))->capture_default_str();
  gen->add_option("--threads", g->options.threads, "LibTorch threads")->check(CLI::Range(1, 1024))->capture_default_str();
  gen->callback([g, &exit_code] { exit_code = run_generate(*g); });

  auto t = std::make_shared<TrainArgs>();
  CLI::App* train = bench.add_subcommand(
      "train", "LSTM training throughput vs. torch::nn::LSTM, the Python PyTorch reference and the matmul peak");
  train->add_flag("--json", t->json, "Print the result as JSON");
  train->add_option("--steps", t->options.steps, "Timed optimiser steps (after a warm-up)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  train->add_option("--batch", t->options.batch, "Sequences per batch")->check(CLI::Range(1, 4096))->capture_default_str();
  train->add_option("--seq-len", t->options.seq_len, "Steps per sequence")->check(CLI::Range(1, 4096))->capture_default_str();
  train->add_option("--threads", t->options.threads, "Threads (0: one per core)")->check(CLI::Range(0, 1024))->capture_default_str();
  train->add_flag("--no-python", t->no_python, "Do not run the Python PyTorch reference");
  train->callback([t, &exit_code] { exit_code = run_train(*t); });
}

}  // namespace antiphon::cli
#endif  // ANTIPHON_HAVE_TORCH
