#include "antiphon/models/preset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "antiphon/core/error.h"
#include "antiphon/models/spec.h"

namespace antiphon {
namespace {

using ::testing::HasSubstr;

class PresetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test and process: CTest runs the cases of this suite in parallel.
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("antiphon-preset-test-" + std::string(test->name()) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::filesystem::path dir_;
};

TEST_F(PresetTest, a_name_a_file_and_a_spec_all_resolve) {
  write("small.json", R"({"description": "a small chain", "spec": "markov:order=1", "encoding": "grid"})");
  ModelPreset by_name = resolve_model_argument("small", dir_.string());
  EXPECT_EQ(by_name.name, "small");
  EXPECT_EQ(by_name.spec, "markov:order=1");
  EXPECT_EQ(by_name.encoding, "grid");
  EXPECT_EQ(by_name.description, "a small chain");
  ModelPreset by_file = resolve_model_argument((dir_ / "small.json").string(), dir_.string());
  EXPECT_EQ(by_file.spec, "markov:order=1");
  ModelPreset spec = resolve_model_argument("ppm:order=2", dir_.string());
  EXPECT_EQ(spec.spec, "ppm:order=2");
  EXPECT_TRUE(spec.encoding.empty());
  EXPECT_TRUE(spec.file.empty());
  // A bare family name is a spec with the family's defaults.
  EXPECT_EQ(resolve_model_argument("markov", dir_.string()).spec, "markov");
}

TEST_F(PresetTest, an_unknown_name_lists_the_presets_and_families) {
  write("small.json", R"({"spec": "markov:order=1"})");
  try {
    resolve_model_argument("nosuch", dir_.string());
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("nosuch"));
    EXPECT_THAT(e.what(), HasSubstr("small"));
    EXPECT_THAT(e.what(), HasSubstr("markov"));
  }
}

TEST_F(PresetTest, malformed_presets_name_the_file_and_problem) {
  const std::string no_spec = write("a.json", R"({"description": "x"})");
  EXPECT_THAT([&] { read_preset(no_spec); }, ::testing::ThrowsMessage<ConfigError>(HasSubstr("a.json")));
  const std::string extra = write("b.json", R"({"spec": "markov", "epochs": 3})");
  EXPECT_THAT([&] { read_preset(extra); }, ::testing::ThrowsMessage<ConfigError>(HasSubstr("unknown preset field 'epochs'")));
  const std::string broken = write("c.json", R"({"spec": )");
  EXPECT_THAT([&] { read_preset(broken); }, ::testing::ThrowsMessage<ConfigError>(HasSubstr("c.json")));
  const std::string bad_spec = write("d.json", R"({"spec": "markov:order"})");
  EXPECT_THROW(read_preset(bad_spec), ConfigError);
  EXPECT_THROW(read_preset((dir_ / "missing.json").string()), IoError);
}

TEST(ShippedPresets, every_preset_in_configs_parses) {
  const std::vector<ModelPreset> presets = list_presets(preset_dir());
  std::vector<std::string> names;
  for (const ModelPreset& p : presets) names.push_back(p.name);
  for (const char* expected : {"linear", "mlp", "rnn", "lstm", "basic_rnn", "mono_rnn", "lookback_rnn", "attention_rnn",
                               "note_lstm", "anticipation_rnn", "transformer"})
    EXPECT_THAT(names, ::testing::Contains(expected));
  for (const ModelPreset& p : presets) EXPECT_FALSE(p.description.empty()) << p.name;
}

}  // namespace
}  // namespace antiphon
