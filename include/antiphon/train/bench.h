#pragma once
// The neural benchmarks behind `antiphon bench generate` and `antiphon bench train` (torch-free interface;
// the work runs in src/train). Each prints ratios against a baseline measured in the same run.
#include <cstddef>
#include <string>

namespace antiphon {

struct GenerateBenchOptions {
  int hidden = 128;      // units per layer
  int layers = 2;
  int vocab = 38;        // one-hot inputs and outputs (Melody RNN basic)
  int steps = 2000;      // timed steps per path (after a warm-up)
  int threads = 1;       // torch::set_num_threads for the LibTorch path
  unsigned seed = 1;
};

struct GenerateBenchResult {
  double libtorch_us_per_step = 0;  // torch::nn::LSTM batch 1, one step at a time, NoGradGuard
  double fast_us_per_step = 0;      // the dedicated inference path (fast_lstm.h)
  double ratio = 0;                 // libtorch / fast
  double max_abs_diff = 0;          // largest |logit difference| between the two paths over the timed steps
  std::string fast_isa;             // the kernels the fast path ran: "avx2" or "generic"
  int hidden = 0, layers = 0, vocab = 0, steps = 0, threads = 0;
};

GenerateBenchResult bench_generate(const GenerateBenchOptions& options);

struct TrainBenchOptions {
  int hidden = 128;
  int layers = 2;
  int vocab = 38;
  int batch = 64;
  int seq_len = 64;
  int steps = 30;        // timed optimiser steps (after warm-up)
  int threads = 0;       // 0 = hardware concurrency
  bool python = true;    // also time bench/reference/lstm_train.py with /usr/bin/python3 (when torch imports)
  std::string reference_script;  // path of lstm_train.py ("" = the source tree's bench/reference/)
  unsigned seed = 1;
};

struct TrainBenchResult {
  double tokens_per_s = 0;          // our training step (forward, backward, clip, Adam)
  double gflops = 0;                // the matmul FLOPs that implies
  double peak_gflops = 0;           // a large float matmul measured in the same run
  double fraction_of_peak = 0;      // gflops / peak_gflops
  double libtorch_lstm_tokens_per_s = 0;  // torch::nn::LSTM, same model and batch, same run
  double pytorch_tokens_per_s = 0;  // Python PyTorch reference; 0 when it could not run
  std::string pytorch_note;         // why the reference did not run, when it did not
  double flops_per_token = 0;
  int hidden = 0, layers = 0, vocab = 0, batch = 0, seq_len = 0, steps = 0, threads = 0;
};

TrainBenchResult bench_train(const TrainBenchOptions& options);

}  // namespace antiphon
