#pragma once
// Running the antiphon program from integration tests: its exit code, stdout and stderr.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "antiphon/core/text.h"

namespace antiphon::testing {

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// A scratch folder for this test process (named after `name` and the process id).
inline std::filesystem::path cli_temp_dir(const std::string& name) {
  std::filesystem::path d = std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

// Runs `antiphon ARGS` through the shell, capturing both streams in files under `dir`.
inline CliRun run_cli(const std::string& args, const std::filesystem::path& dir) {
  const std::filesystem::path out = dir / "stdout.txt", err = dir / "stderr.txt";
  const std::string cmd = std::string(ANTIPHON_BIN) + " " + args + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  CliRun r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file_bytes(out);
  r.err = read_file_bytes(err);
  return r;
}

}  // namespace antiphon::testing
