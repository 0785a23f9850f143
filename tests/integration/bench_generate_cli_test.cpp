// antiphon bench generate end to end: both generation paths run on the same weights and inputs, the JSON
// report carries every figure, and the two paths agree within 1e-5 on every logit.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_run.h"

namespace {

using antiphon::testing::CliRun;

CliRun run(const std::string& args) {
  static const std::filesystem::path dir = antiphon::testing::cli_temp_dir("antiphon_bench_generate_cli");
  return antiphon::testing::run_cli(args, dir);
}

// The command exists only in the LibTorch build; say so plainly instead of failing on the JSON. (Asked once
// per process: each run of the program loads LibTorch.)
void require_generate_command() {
  static const CliRun help = run("bench generate --help");
  ASSERT_TRUE(help.exit_code == 0 && help.out.find("--hidden") != std::string::npos)
      << "antiphon has no working `bench generate` command (built with -DANTIPHON_TORCH=OFF, or the command is "
         "not added to `bench`?); `antiphon bench generate --help` exited with "
      << help.exit_code << ":\n"
      << help.out << help.err;
}

nlohmann::json generate_json(const std::string& args) {
  const CliRun r = run("bench generate --json " + args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  try {
    return nlohmann::json::parse(r.out);
  } catch (const nlohmann::json::exception& e) {
    ADD_FAILURE() << "not JSON (" << e.what() << "):\n" << r.out << r.err;
    return nlohmann::json::object();
  }
}

}  // namespace

TEST(BenchGenerateCli, reports_both_paths_and_their_agreement_as_json) {
  ASSERT_NO_FATAL_FAILURE(require_generate_command());
  const nlohmann::json j = generate_json("--steps 200");
  for (const char* field : {"libtorch_us_per_step", "fast_us_per_step", "ratio"}) {
    ASSERT_TRUE(j.contains(field)) << field << " missing in\n" << j.dump(2);
    ASSERT_TRUE(j[field].is_number()) << field;
    EXPECT_GT(j[field].get<double>(), 0) << field;
  }
  ASSERT_TRUE(j.contains("max_abs_diff")) << j.dump(2);
  EXPECT_GE(j["max_abs_diff"].get<double>(), 0);
  EXPECT_LT(j["max_abs_diff"].get<double>(), 1e-5);
  EXPECT_NEAR(j["ratio"].get<double>(), j["libtorch_us_per_step"].get<double>() / j["fast_us_per_step"].get<double>(),
              1e-9 * j["ratio"].get<double>());
  // The default shape is Melody RNN's basic_rnn: 2 x 128 units over 38 one-hot classes.
  EXPECT_EQ(j.value("hidden", 0), 128);
  EXPECT_EQ(j.value("layers", 0), 2);
  EXPECT_EQ(j.value("vocab", 0), 38);
  EXPECT_EQ(j.value("steps", 0), 200);
}

TEST(BenchGenerateCli, runs_the_shape_it_is_given) {
  ASSERT_NO_FATAL_FAILURE(require_generate_command());
  const nlohmann::json j = generate_json("--steps 50 --hidden 16 --layers 1");
  EXPECT_EQ(j.value("hidden", 0), 16);
  EXPECT_EQ(j.value("layers", 0), 1);
  EXPECT_EQ(j.value("steps", 0), 50);
  ASSERT_TRUE(j.contains("max_abs_diff")) << j.dump(2);
  EXPECT_LT(j["max_abs_diff"].get<double>(), 1e-5);
}

TEST(BenchGenerateCli, rejects_a_step_count_of_zero_as_bad_usage) {
  ASSERT_NO_FATAL_FAILURE(require_generate_command());
  const CliRun r = run("bench generate --steps 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--steps"), std::string::npos) << r.err;
}
