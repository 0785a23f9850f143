// antiphon train / eval / info / bench ppm end to end, and the agreement of our PPM with the independent
// Python reference's published figures on the real Essen subsets (../shared/data/README.md).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "antiphon/core/text.h"
#include "cli_run.h"
#include "antiphon/corpus/corpus.h"

namespace fs = std::filesystem;

namespace {

using antiphon::testing::CliRun;

fs::path temp_dir() {
  static fs::path dir = antiphon::testing::cli_temp_dir("antiphon_model_cli");
  return dir;
}

CliRun run(const std::string& args) { return antiphon::testing::run_cli(args, temp_dir()); }

const std::string kTunes = std::string(ANTIPHON_FIXTURES) + "/models";

nlohmann::json eval_json(const std::string& args) {
  CliRun r = run("eval " + args + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

}  // namespace

TEST(ModelCli, every_family_trains_saves_and_is_described_by_info) {
  for (const std::string spec : {"markov:order=2", "mixed:order=2", "ppm:order=star,stm=1", "hmm:states=4,restarts=1"}) {
    const std::string file = (temp_dir() / "m.model").string();
    CliRun t = run("train --model " + spec + " --corpus " + kTunes + " --out " + file);
    ASSERT_EQ(t.exit_code, 0) << spec << ": " << t.err;
    EXPECT_NE(t.out.find("trained "), std::string::npos) << t.out;
    EXPECT_NE(t.out.find("12 melodies (384 tokens"), std::string::npos) << t.out;
    CliRun i = run("info " + file + " --json");
    ASSERT_EQ(i.exit_code, 0) << i.err;
    auto j = nlohmann::json::parse(i.out);
    EXPECT_EQ(j["family"], spec.substr(0, spec.find(':')));
    EXPECT_EQ(j["training_melodies"], 12);
    EXPECT_EQ(j["vocab_size"], 9);  // G4 A4 B4 C5 C#5 D5 E5 F#5 G5: the tunes in G and D major
    EXPECT_EQ(j["corpus_fingerprint"].get<std::string>().size(), 32u);
    // Held-out evaluation of the saved model on its own training data: finite, well below the uniform log2(9) = 3.17 bits.
    auto e = eval_json("--model " + file + " --corpus " + kTunes);
    EXPECT_EQ(e["mode"], "held-out");
    EXPECT_EQ(e["notes"], 384);
    EXPECT_GT(e["bits_per_note"].get<double>(), 0.5) << spec;
    EXPECT_LT(e["bits_per_note"].get<double>(), 3.0) << spec;
  }
}

TEST(ModelCli, cross_validation_reports_folds_and_both_averages) {
  auto j = eval_json("--model ppm --corpus " + kTunes + " --folds 4 --seed 3");
  EXPECT_EQ(j["mode"], "cross-validation");
  EXPECT_EQ(j["melodies"], 12);
  EXPECT_EQ(j["notes"], 384);
  EXPECT_EQ(j["alphabet"], 9);
  ASSERT_EQ(j["folds"].size(), 4u);
  double sum = 0;
  size_t melodies = 0;
  for (const auto& f : j["folds"]) {
    sum += f["bits_per_note"].get<double>() * f["melodies"].get<double>();
    melodies += f["melodies"].get<size_t>();
  }
  EXPECT_EQ(melodies, 12u);
  EXPECT_NEAR(sum / 12, j["bits_per_note"].get<double>(), 1e-9);
  EXPECT_GT(j["bits_per_note_event_avg"].get<double>(), 0);
  EXPECT_GE(j["seconds"].get<double>(), 0);
  // Same seed, same folds, same figure; the note target has a larger alphabet.
  EXPECT_EQ(eval_json("--model ppm --corpus " + kTunes + " --folds 4 --seed 3")["bits_per_note"], j["bits_per_note"]);
  auto n = eval_json("--model ppm --corpus " + kTunes + " --folds 4 --seed 3 --target note");
  EXPECT_GT(n["alphabet"].get<int>(), 9);
  EXPECT_GT(n["bits_per_note"].get<double>(), j["bits_per_note"].get<double>());
}

TEST(ModelCli, bad_requests_get_clear_errors) {
  CliRun r = run("eval --model ppm:ordr=3 --corpus " + kTunes);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown option 'ordr'"), std::string::npos) << r.err;
  r = run("eval --model ppm --corpus " + kTunes + " --folds 20");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("needs at least 20 melodies with notes; the corpus has 12"), std::string::npos) << r.err;
  r = run("train --model lstm9 --corpus " + kTunes + " --out " + (temp_dir() / "x.model").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--model lstm9 is neither a preset"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nor a model family (markov, mixed, ppm, hmm"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(temp_dir() / "x.model"));
  // A spec names its family, which must exist.
  r = run("train --model lstm9:order=2 --corpus " + kTunes + " --out " + (temp_dir() / "x.model").string());
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown model family 'lstm9'"), std::string::npos) << r.err;

  const std::string file = (temp_dir() / "p.model").string();
  ASSERT_EQ(run("train --model ppm --corpus " + kTunes + " --out " + file).exit_code, 0);
  r = run("eval --model " + file + " --corpus " + kTunes + " --target note");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("predicts pitch"), std::string::npos) << r.err;
  // A corpus with a pitch the model never saw: named, not crashed.
  r = run("eval --model " + file + " --corpus " + std::string(ANTIPHON_FIXTURES) + "/abc/notes_octaves.abc");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not in the alphabet"), std::string::npos) << r.err;
  // A truncated model file.
  std::string bytes = antiphon::read_file_bytes(file);
  antiphon::write_file_atomic(file, bytes.substr(0, bytes.size() / 2));
  r = run("info " + file);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(file + ": checksum mismatch"), std::string::npos) << r.err;
}

TEST(ModelCli, bench_ppm_runs_without_the_reference) {
  CliRun r = run("bench ppm --corpus " + kTunes + " --no-reference --repeat 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("384"), std::string::npos) << r.out;
}

// The correctness anchor of the PPM family: IDyOM's long-term model on chromatic pitch (escape C, blending,
// PPM*), 10-fold cross-validation, must agree with the independent reference within 0.03 bits per note.
TEST(PpmReference, agrees_with_the_reference_figures_on_essen) {
  const fs::path root = antiphon::default_data_root();
  struct Case {
    std::string corpus, order;
    double reference;
  };
  for (const Case& c : {Case{"essen/europa/deutschl/fink", "star", 2.942}, Case{"essen/europa/deutschl/erk", "star", 2.540},
                        Case{"essen/europa/deutschl/fink", "2", 3.007}}) {
    ASSERT_TRUE(fs::is_directory(root / c.corpus)) << (root / c.corpus) << " is missing: the corpora are required";
    auto j = eval_json("--model ppm:order=" + c.order + ",escape=C,blend=1 --corpus " + (root / c.corpus).string() +
                       " --folds 10 --seed 1 --target pitch");
    EXPECT_NEAR(j["bits_per_note"].get<double>(), c.reference, 0.03) << c.corpus << " order " << c.order;
    EXPECT_GT(j["melodies"].get<int>(), 500);
  }
}

// Beyond the reference: short- plus long-term models over linked viewpoints (Pearce 2005's kind of system)
// predict Essen clearly better than the long-term cpitch model (about 19 % fewer bits on fink).
TEST(PpmReference, linked_viewpoints_with_short_term_model_beat_the_long_term_cpitch_model) {
  const std::string fink = (antiphon::default_data_root() / "essen/europa/deutschl/fink").string();
  const double ltm = eval_json("--model ppm --corpus " + fink)["bits_per_note"].get<double>();
  const double best = eval_json(
      "--model 'ppm:viewpoints=cpint*dur+cpintfref*cpint+cpitch+thrfiph+cpintfref*fib+cpintfip,stm=1,stm_escape=C' "
      "--corpus " + fink)["bits_per_note"].get<double>();
  EXPECT_LT(best, ltm - 0.4) << "LTM cpitch " << ltm << ", best system " << best;
}
