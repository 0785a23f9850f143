#pragma once
// Shared pieces of the antiphon command-line program.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "antiphon/corpus/corpus.h"

namespace antiphon::cli {

// Exit codes: 0 success, 1 bad input (files, data), 2 bad usage (options).
constexpr int kExitOk = 0;
constexpr int kExitBadInput = 1;
constexpr int kExitUsage = 2;

// Options shared by every command that loads a corpus.
struct CorpusArgs {
  std::vector<std::string> paths;     // --corpus (repeatable); default: the default corpus
  size_t min_notes = 0;
  std::vector<std::string> meters;
  int grid_steps = 0;
  int midi_steps = 4;
  bool drop_polyphonic = false;
  int threads = 0;
  void add_to(CLI::App& cmd, const std::string& default_corpus);
  CorpusOptions options() const;
  std::vector<std::filesystem::path> resolved() const;  // throws IoError
};

void add_stats_command(CLI::App& app, int& exit_code);
void add_convert_command(CLI::App& app, int& exit_code);
void add_encode_command(CLI::App& app, int& exit_code);
void add_bench_command(CLI::App& app, int& exit_code);
void add_model_commands(CLI::App& app, int& exit_code);  // train, eval, info
void add_bench_ppm_command(CLI::App& bench, int& exit_code);
void add_generate_commands(CLI::App& app, int& exit_code);
void add_bench_respond_command(CLI::App& bench, int& exit_code);
#ifdef ANTIPHON_HAVE_TORCH
// bench generate and bench train (the LibTorch build only).
void add_neural_bench_commands(CLI::App& bench, int& exit_code);
#endif

// Reads one melody of a file (--index picks among tunes/tracks). Throws ParseError / ConfigError.
Melody read_one_melody(const std::string& path, int index, std::vector<Diagnostic>* warnings = nullptr);

}  // namespace antiphon::cli
