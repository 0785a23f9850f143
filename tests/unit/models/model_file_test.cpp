#include "antiphon/models/model_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "antiphon/core/text.h"
#include "antiphon/tokens/target.h"
#include "test_unigram.h"

namespace antiphon {
namespace {

using ::testing::HasSubstr;
using testing::quarter_melody;

class ModelFile : public ::testing::Test {
 protected:
  void SetUp() override {
    add_model_family(testing::unigram_family());
    melodies_ = {quarter_melody({60, 62, 64, 62}), quarter_melody({60, 60, 67})};
    TrainingData data;
    data.melodies = &melodies_;
    data.corpus = "two tunes";
    data.corpus_fingerprint = "abc123";
    model_ = train_model(ModelSpec::parse("unigram"), data);
    dir_ = std::filesystem::temp_directory_path() / ("antiphon_model_file_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "m.model").string();
    save_model(*model_, path_);
    bytes_ = read_file_bytes(path_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string load_error(const std::string& bytes) {
    try {
      load_model_bytes(bytes, "bad.model");
    } catch (const ModelFileError& e) {
      return e.what();
    }
    return "no error";
  }

  std::vector<Melody> melodies_;
  ModelPtr model_;
  std::filesystem::path dir_;
  std::string path_;
  std::string bytes_;
};

TEST_F(ModelFile, round_trip_keeps_info_config_vocab_and_predictions) {
  ModelPtr back = load_model(path_);
  EXPECT_EQ(back->info().family, "unigram");
  EXPECT_EQ(back->info().corpus, "two tunes");
  EXPECT_EQ(back->info().corpus_fingerprint, "abc123");
  EXPECT_EQ(back->info().training_melodies, 2u);
  EXPECT_EQ(back->info().training_tokens, 7u);
  EXPECT_EQ(back->encoding().spec(), "pitch:pitches=60;62;64;67");
  EXPECT_EQ(back->config(), model_->config());
  std::vector<double> a(4), b(4);
  model_->predict(*model_->start(), a);
  back->predict(*back->start(), b);
  EXPECT_EQ(a, b);
  // Hand count: 60 x3, 62 x2, 64 x1, 67 x1 of 7 tokens, add-one over 4 symbols.
  EXPECT_DOUBLE_EQ(b[0], 4.0 / 11.0);
  EXPECT_DOUBLE_EQ(b[3], 2.0 / 11.0);
  ModelHeader h = read_model_header(path_);
  EXPECT_EQ(h.format_version, kModelFormatVersion);
  EXPECT_EQ(h.vocab, (std::vector<std::string>{"60", "62", "64", "67"}));
  EXPECT_EQ(h.config, (std::vector<std::pair<std::string, std::string>>{{"smoothing", "add-one"}}));
}

TEST_F(ModelFile, every_truncation_is_refused) {
  for (size_t n = 0; n < bytes_.size(); ++n) {
    std::string e = load_error(bytes_.substr(0, n));
    EXPECT_THAT(e, HasSubstr("bad.model: ")) << "cut at " << n;
    EXPECT_NE(e, "no error") << "cut at " << n;
  }
}

TEST_F(ModelFile, every_flipped_bit_is_refused) {
  for (size_t i = 0; i < bytes_.size(); ++i) {
    std::string b = bytes_;
    b[i] = static_cast<char>(b[i] ^ (1 << (i % 8)));
    EXPECT_NE(load_error(b), "no error") << "byte " << i;
  }
}

TEST_F(ModelFile, says_what_is_wrong) {
  EXPECT_THAT(load_error("hello world, this is not a model at all"), HasSubstr("not an Antiphon model file"));
  EXPECT_THAT(load_error(bytes_.substr(0, bytes_.size() - 3)), HasSubstr("checksum mismatch"));
  std::string newer = bytes_;
  newer[15] = 2;  // format version 2, checksum left stale as a newer writer's would not be ours
  EXPECT_THAT(load_error(newer), HasSubstr("version 2 is newer"));
}

TEST_F(ModelFile, refuses_a_vocabulary_that_disagrees_with_the_encoding) {
  // An intact file whose stored vocabulary is not the one its encoding spec builds (a model written by a
  // version with another alphabet): the header names pitches 59.., the stored tokens are 60..
  const auto& unigram = dynamic_cast<const testing::UnigramModel&>(*model_);
  ModelInfo info = model_->info();
  info.encoding = "pitch:pitches=59;62;64;67";
  testing::UnigramModel odd(info, std::make_shared<TargetEncoding>(TargetConfig{TargetKind::pitch, {60, 62, 64, 67}, {}}),
                            unigram.counts());
  save_model(odd, path_);
  try {
    load_model(path_);
    FAIL() << "no error";
  } catch (const ModelFileError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path_ + ": the vocabulary stored in the file (4 tokens) differs"));
  }
}

TEST_F(ModelFile, missing_file_and_unknown_family_are_model_file_errors) {
  EXPECT_THROW(load_model((dir_ / "absent.model").string()), ModelFileError);
  ModelInfo info = model_->info();
  info.family = "martian";
  testing::UnigramModel odd(info, std::shared_ptr<const Encoding>(model_, &model_->encoding()),
                            dynamic_cast<const testing::UnigramModel&>(*model_).counts());
  save_model(odd, path_);
  try {
    load_model(path_);
    FAIL() << "no error";
  } catch (const ModelFileError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown model family 'martian' (this program knows: "));
  }
}

TEST_F(ModelFile, writes_atomically_over_an_existing_file) {
  save_model(*model_, path_);
  EXPECT_EQ(read_file_bytes(path_), bytes_);
  for (const auto& e : std::filesystem::directory_iterator(dir_)) EXPECT_EQ(e.path().filename(), "m.model");
}

TEST(ModelReader, checks_every_length_against_the_rest) {
  ModelWriter w;
  w.u64(1ull << 60);  // a huge declared count
  ModelReader r(w.bytes(), "x.model");
  try {
    r.f64s("weights");
    FAIL() << "no error";
  } catch (const ModelFileError& e) {
    EXPECT_THAT(e.what(), HasSubstr("x.model: payload offset 8: weights: count 1152921504606846976 is larger"));
  }
  ModelWriter w2;
  w2.i32(-5);
  w2.str("abc");
  w2.f64(0.5);
  ModelReader r2(w2.bytes(), "y");
  EXPECT_EQ(r2.i32("a"), -5);
  EXPECT_EQ(r2.str("b"), "abc");
  EXPECT_EQ(r2.f64("c"), 0.5);
  EXPECT_TRUE(r2.at_end());
  EXPECT_THROW(r2.u8("d"), ModelFileError);
}

TEST(ModelRegistry, unknown_family_lists_the_known_ones) {
  add_model_family(testing::unigram_family());
  std::vector<Melody> none;
  TrainingData data;
  data.melodies = &none;
  try {
    train_model(ModelSpec::parse("nosuch"), data);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown model family 'nosuch' (known: "));
    EXPECT_THAT(e.what(), HasSubstr("unigram"));
  }
}

TEST(SequenceModel, default_log_probs_follow_predict_and_advance) {
  add_model_family(testing::unigram_family());
  std::vector<Melody> ms = {quarter_melody({60, 62, 60})};
  TrainingData data;
  data.melodies = &ms;
  ModelPtr m = train_model(ModelSpec::parse("unigram"), data);
  std::vector<int> tokens = {0, 1, 0};
  auto lp = m->token_log2_probs(tokens);
  ASSERT_EQ(lp.size(), 3u);
  EXPECT_DOUBLE_EQ(lp[0], std::log2(3.0 / 5.0));
  EXPECT_DOUBLE_EQ(lp[1], std::log2(2.0 / 5.0));
  EXPECT_DOUBLE_EQ(m->log2_prob(tokens), 2 * std::log2(3.0 / 5.0) + std::log2(2.0 / 5.0));
  auto state = m->start();
  m->advance(*state, 1);
  EXPECT_EQ(state->history(), (std::vector<int>{1}));
  auto copy = state->clone();
  m->advance(*state, 0);
  EXPECT_EQ(copy->history(), (std::vector<int>{1}));
}

}  // namespace
}  // namespace antiphon
