// The neural families through the program: presets, training with checkpoints, a trainer killed with SIGKILL
// and resumed, evaluation of the saved model, and the errors a user meets first.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "cli_run.h"

namespace fs = std::filesystem;

namespace {

using antiphon::testing::CliRun;

fs::path temp_dir() {
  static fs::path dir = antiphon::testing::cli_temp_dir("antiphon_neural_cli");
  return dir;
}

CliRun run(const std::string& args) { return antiphon::testing::run_cli(args, temp_dir()); }

const std::string kTunes = std::string(ANTIPHON_FIXTURES) + "/models/tunes.abc";
const std::string kTiny = "lstm:layers=1,hidden=8,batch=4,valid=0.2,patience=0";

TEST(NeuralCli, trains_a_spec_evaluates_and_describes_the_model) {
  const std::string file = (temp_dir() / "lstm.model").string();
  CliRun t = run("train --model " + kTiny + " --encoding notes --corpus " + kTunes + " --out " + file +
                 " --epochs 3 --train-threads 1");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_TRUE(fs::exists(file));
  EXPECT_FALSE(fs::exists(file + ".ckpt")) << "the checkpoint is removed once the model is written";
  EXPECT_NE(t.err.find("epoch 3: train"), std::string::npos) << t.err;

  CliRun i = run("info --json " + file);
  ASSERT_EQ(i.exit_code, 0) << i.err;
  const nlohmann::json info = nlohmann::json::parse(i.out);
  EXPECT_EQ(info["family"], "lstm");
  EXPECT_EQ(info["encoding"].get<std::string>().substr(0, 5), "notes");
  const nlohmann::json history = nlohmann::json::parse(info["config"]["history"].get<std::string>());
  ASSERT_EQ(history.size(), 3u);
  EXPECT_GT(history[0]["valid_bits"].get<double>(), 0.0);
  EXPECT_EQ(info["config"]["epochs"], "3");

  for (const std::string target : {"pitch", "note"}) {
    CliRun e = run("eval --model " + file + " --corpus " + kTunes + " --target " + target + " --json");
    ASSERT_EQ(e.exit_code, 0) << e.err;
    const nlohmann::json r = nlohmann::json::parse(e.out);
    EXPECT_EQ(r["target"], target);
    EXPECT_GT(r["bits_per_note"].get<double>(), 0.0);
    EXPECT_LT(r["bits_per_note"].get<double>(), 20.0);
  }
}

TEST(NeuralCli, a_preset_trains_by_name_and_cross_validates) {
  const std::string file = (temp_dir() / "basic.model").string();
  // The basic_rnn preset with its batch of 128 cannot train on 12 tunes: the error says so and what to do.
  CliRun too_big = run("train --model basic_rnn --corpus " + kTunes + " --out " + file + " --epochs 1");
  EXPECT_EQ(too_big.exit_code, 2);
  EXPECT_NE(too_big.err.find("fewer than one batch of 128"), std::string::npos) << too_big.err;
  EXPECT_FALSE(fs::exists(file));

  CliRun unknown = run("train --model no_such_preset --corpus " + kTunes + " --out " + file);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("basic_rnn"), std::string::npos) << "the error lists the presets: " << unknown.err;

  CliRun cv = run("eval --model " + kTiny + ",epochs=2 --encoding notes --corpus " + kTunes +
                  " --folds 3 --target pitch --json --eval-threads 1");
  ASSERT_EQ(cv.exit_code, 0) << cv.err;
  const nlohmann::json r = nlohmann::json::parse(cv.out);
  EXPECT_EQ(r["folds"].size(), 3u);
  EXPECT_GT(r["bits_per_note"].get<double>(), 0.0);
}

// Starts `antiphon ARGS` in the background and returns its process id.
pid_t spawn(const std::string& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string cmd = "exec env OMP_WAIT_POLICY=PASSIVE " + std::string(ANTIPHON_BIN) + " " + args +
                            " >/dev/null 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST(NeuralCli, a_trainer_killed_with_sigkill_resumes_from_its_last_checkpoint) {
  const std::string file = (temp_dir() / "killed.model").string();
  const std::string ckpt = file + ".ckpt";
  fs::remove(ckpt);
  const std::string common = "train --model " + kTiny + " --encoding notes --corpus " + kTunes + " --out " + file +
                             " --train-threads 1";
  const pid_t pid = spawn(common + " --epochs 100000 --checkpoint-every 1");
  // Wait for a few checkpoints, then kill it without warning.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!fs::exists(ckpt) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(fs::exists(ckpt)) << "no checkpoint appeared";
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(fs::exists(ckpt + ".tmp") && fs::file_size(ckpt + ".tmp") > 0 && !fs::exists(ckpt));

  // Resuming reads the checkpoint and finishes (a short run: the killed one planned 100000 epochs).
  CliRun r = run(common + " --resume --epochs 4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming " + ckpt), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(file));
}

}  // namespace
