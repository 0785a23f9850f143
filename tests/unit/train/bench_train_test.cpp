// bench_train on a tiny run: the figures are positive and consistent with each other, and the Python
// reference's result (or the reason it has none) comes back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "antiphon/core/error.h"
#include "antiphon/train/bench.h"

namespace antiphon {
namespace {

using ::testing::HasSubstr;

TrainBenchOptions tiny() {
  TrainBenchOptions o;
  o.steps = 2;
  o.batch = 4;
  o.seq_len = 8;
  o.threads = 1;
  o.python = false;
  return o;
}

TEST(BenchTrain, reports_positive_figures_that_agree_with_each_other) {
  const TrainBenchResult r = bench_train(tiny());
  EXPECT_EQ(r.hidden, 128);
  EXPECT_EQ(r.layers, 2);
  EXPECT_EQ(r.vocab, 38);
  EXPECT_EQ(r.batch, 4);
  EXPECT_EQ(r.seq_len, 8);
  EXPECT_EQ(r.steps, 2);
  EXPECT_EQ(r.threads, 1);
  // 3 * (2*4H*H [layer 0, recurrent only] + 2*4H*2H [layer 1] + 2*H*V [output]) with H = 128, V = 38.
  EXPECT_DOUBLE_EQ(r.flops_per_token, 3.0 * (131072 + 262144 + 9728));
  EXPECT_GT(r.tokens_per_s, 0);
  EXPECT_GT(r.libtorch_lstm_tokens_per_s, 0);
  EXPECT_GT(r.peak_gflops, 0);
  EXPECT_NEAR(r.gflops, r.tokens_per_s * r.flops_per_token / 1e9, 1e-9 * r.gflops);
  EXPECT_NEAR(r.fraction_of_peak, r.gflops / r.peak_gflops, 1e-12);
  EXPECT_EQ(r.pytorch_tokens_per_s, 0);
  EXPECT_THAT(r.pytorch_note, HasSubstr("python = false"));
}

TEST(BenchTrain, reads_the_reference_result_or_says_why_there_is_none) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("bench_train_test_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "ok.py") << "import sys\nprint('warming up')\nprint('{\"tokens_per_s\": 1234.5}')\n";
  std::ofstream(dir / "fails.py")
      << "import sys\nprint('the torch module does not import: no torch', file=sys.stderr)\nsys.exit(2)\n";

  TrainBenchOptions o = tiny();
  o.python = true;
  o.reference_script = (dir / "ok.py").string();
  const TrainBenchResult ok = bench_train(o);
  o.reference_script = (dir / "fails.py").string();
  const TrainBenchResult fails = bench_train(o);
  o.reference_script = (dir / "missing.py").string();
  const TrainBenchResult missing = bench_train(o);
  std::filesystem::remove_all(dir);

  if (access("/usr/bin/python3", X_OK) == 0) {
    EXPECT_EQ(ok.pytorch_tokens_per_s, 1234.5);
    EXPECT_EQ(ok.pytorch_note, "");
    EXPECT_EQ(fails.pytorch_tokens_per_s, 0);
    EXPECT_THAT(fails.pytorch_note, HasSubstr("the torch module does not import: no torch"));
    EXPECT_EQ(missing.pytorch_tokens_per_s, 0);
    EXPECT_THAT(missing.pytorch_note, HasSubstr("missing.py does not exist"));
  } else {
    for (const TrainBenchResult* r : {&ok, &fails, &missing}) {
      EXPECT_EQ(r->pytorch_tokens_per_s, 0);
      EXPECT_THAT(r->pytorch_note, HasSubstr("/usr/bin/python3 is not installed"));
    }
  }
}

TEST(BenchTrain, rejects_options_out_of_range_naming_them) {
  TrainBenchOptions o = tiny();
  o.batch = 0;
  try {
    bench_train(o);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("batch=0"));
  }
  o = tiny();
  o.threads = -1;
  EXPECT_THROW(bench_train(o), ConfigError);
}

}  // namespace
}  // namespace antiphon
