#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "antiphon/core/text.h"
#include "antiphon/models/markov.h"
#include "antiphon/models/model_file.h"
#include "antiphon/models/registry.h"
#include "antiphon/tokens/target.h"
#include "models/families.h"

namespace antiphon {
namespace {

using ::testing::HasSubstr;

// Melodies of quarter notes over the pitch target 60..64 (tokens 0..4).
Melody token_melody(const std::vector<int>& tokens) {
  Melody m;
  for (int t : tokens) m.append(Pitch::from_midi(60 + t), Rational(1));
  return m;
}

std::shared_ptr<const Encoding> five_tokens() {
  TargetConfig c;
  c.pitches = {60, 61, 62, 63, 64};
  return std::make_shared<TargetEncoding>(c);
}

// A first-order source: from token t the next is t + 1 (mod 5) with probability 0.6, t - 1 with 0.25, t + 2
// with 0.15. Seeded, so the melodies are the same on every run.
std::vector<Melody> order_one_source(size_t melodies, size_t length, uint64_t seed) {
  uint64_t state = seed;
  auto uniform = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  std::vector<Melody> out;
  for (size_t m = 0; m < melodies; ++m) {
    std::vector<int> tokens = {static_cast<int>(uniform() * 5)};
    while (tokens.size() < length) {
      const double u = uniform();
      const int step = u < 0.6 ? 1 : u < 0.85 ? 4 : 2;
      tokens.push_back((tokens.back() + step) % 5);
    }
    out.push_back(token_melody(tokens));
  }
  return out;
}

ModelPtr train(const std::string& spec, const std::vector<Melody>& melodies,
               std::shared_ptr<const Encoding> encoding = five_tokens(), LogFn log = {}) {
  add_model_family(mixed_markov_family());
  TrainingData data;
  data.melodies = &melodies;
  data.encoding = std::move(encoding);
  data.seed = 7;
  data.log = std::move(log);
  return train_model(ModelSpec::parse(spec), data);
}

const MixedMarkovModel& as_mixed(const ModelPtr& model) {
  const auto* m = dynamic_cast<const MixedMarkovModel*>(model.get());
  EXPECT_NE(m, nullptr);
  return *m;
}

std::string train_error(const std::string& spec, const std::vector<Melody>& melodies) {
  try {
    train(spec, melodies);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::vector<double> predict_after(const SequenceModel& model, const std::vector<int>& history) {
  auto state = model.start();
  for (int t : history) model.advance(*state, t);
  std::vector<double> probs(model.vocab_size());
  model.predict(*state, probs);
  return probs;
}

}  // namespace

TEST(MixedMarkov, em_never_lowers_the_heldout_likelihood) {
  ModelPtr model = train("mixed:order=3,buckets=3", order_one_source(40, 30, 1));
  const auto& trace = as_mixed(model).em_log2_likelihood();
  ASSERT_GE(trace.size(), 3u);
  for (size_t i = 1; i < trace.size(); ++i) EXPECT_GE(trace[i], trace[i - 1] - 1e-9) << "iteration " << i;
  EXPECT_GT(trace.back(), trace.front());  // the equal starting weights are not the best
}

TEST(MixedMarkov, fits_weights_that_sum_to_one_with_a_positive_uniform_share) {
  ModelPtr model = train("mixed:order=2,buckets=2", order_one_source(30, 20, 2));
  const auto& weights = as_mixed(model).weights();
  ASSERT_EQ(weights.size(), 6u);  // longest order 0..2 x count classes 0..1
  for (const MixedWeights& w : weights) {
    EXPECT_EQ(w.weights.size(), static_cast<size_t>(w.longest_order) + 2);
    EXPECT_NEAR(std::accumulate(w.weights.begin(), w.weights.end(), 0.0), 1.0, 1e-12);
    EXPECT_GT(w.weights[0], 0.0);
    for (double x : w.weights) EXPECT_GE(x, 0.0);
  }
}

TEST(MixedMarkov, gives_the_first_order_most_weight_on_a_first_order_source) {
  ModelPtr model = train("mixed:order=3", order_one_source(200, 40, 3));
  const MixedMarkovModel& m = as_mixed(model);
  // Nearly every held-out token has its order-3 context in the training counts.
  const MixedWeights& top = m.weights().back();
  ASSERT_EQ(top.longest_order, 3);
  EXPECT_GT(top.fitted_tokens, 500u);
  const auto& w = top.weights;  // uniform, order 0, 1, 2, 3
  EXPECT_GT(w[2], 0.5);
  for (size_t c : {0u, 1u, 3u, 4u}) EXPECT_LT(w[c], w[2]) << "component " << c;
}

TEST(MixedMarkov, mixes_given_weights_as_hand_computed) {
  // A-B-B-A-C-A-B as tokens 0 1 1 0 2 0 1: order 0 gives P(B) = 3/7, after A order 1 gives P(B | A) = 2/3.
  ModelPtr model = train("mixed:order=1,weights=0.5+0.5/0.2+0.3+0.5", {token_melody({0, 1, 1, 0, 2, 0, 1})});
  const auto p = predict_after(*model, {0});
  EXPECT_NEAR(p[1], 0.2 / 5 + 0.3 * 3 / 7 + 0.5 * 2 / 3, 1e-15);
  EXPECT_NEAR(p[3], 0.2 / 5, 1e-15);  // a token never seen: the uniform share alone
  // The start of a melody: the begin context saw A once.
  EXPECT_NEAR(predict_after(*model, {})[0], 0.2 / 5 + 0.3 * 3 / 7 + 0.5, 1e-15);
  EXPECT_TRUE(as_mixed(model).em_log2_likelihood().empty());
}

TEST(MixedMarkov, reports_weights_in_config_that_rebuild_the_same_model) {
  const std::vector<Melody> melodies = order_one_source(30, 25, 4);
  std::string logged;
  ModelPtr model = train("mixed:order=2,buckets=2", melodies, five_tokens(),
                         [&](LogLevel, std::string_view text) { logged += std::string(text); });
  EXPECT_THAT(logged, HasSubstr("weights fitted by EM on 3 held-out melodies (75 tokens)"));
  const auto config = model->config();
  ASSERT_EQ(config.size(), 7u);
  ASSERT_EQ(config[5].first, "weights");
  EXPECT_EQ(std::count(config[5].second.begin(), config[5].second.end(), '/'), 5);
  ASSERT_EQ(config[6].first, "fit");
  EXPECT_THAT(config[6].second, HasSubstr("EM on 3 held-out melodies (75 tokens), "));
  EXPECT_EQ(model->info().spec, "mixed:order=2,heldout=0.1,buckets=2,iterations=200,tolerance=1e-07");
  ModelSpec spec = ModelSpec::parse(model->info().spec);
  spec.set("weights", config[5].second);
  ModelPtr again = train(spec.to_string(), melodies);
  EXPECT_EQ(again->config()[5], config[5]);
  EXPECT_EQ(again->config()[6].second, "given weights");
  for (const Melody& m : order_one_source(3, 25, 5)) {
    const auto tokens = model->encoding().encode(m);
    EXPECT_EQ(again->token_log2_probs(tokens), model->token_log2_probs(tokens));
  }
}

TEST(MixedMarkov, gives_proper_distributions_that_agree_with_token_log2_probs) {
  const std::vector<Melody> melodies = order_one_source(20, 15, 6);
  for (const std::string spec :
       {"mixed:order=0", "mixed:order=2", "mixed:order=4,buckets=4", "mixed:order=3,heldout=0"}) {
    SCOPED_TRACE(spec);
    ModelPtr model = train(spec, melodies);
    for (const Melody& m : order_one_source(3, 20, 8)) {
      const auto tokens = model->encoding().encode(m);
      const auto fast = model->token_log2_probs(tokens);
      auto state = model->start();
      std::vector<double> probs(model->vocab_size());
      for (size_t i = 0; i < tokens.size(); ++i) {
        model->predict(*state, probs);
        EXPECT_NEAR(std::accumulate(probs.begin(), probs.end(), 0.0), 1.0, 1e-9);
        for (double p : probs) EXPECT_GT(p, 0.0);
        EXPECT_NEAR(fast[i], std::log2(probs[static_cast<size_t>(tokens[i])]), 1e-12);
        model->advance(*state, tokens[i]);
      }
    }
  }
}

TEST(MixedMarkov, fits_by_leave_one_out_on_a_single_melody) {
  std::string logged;
  ModelPtr model = train("mixed:order=2", order_one_source(1, 60, 9), five_tokens(),
                         [&](LogLevel, std::string_view text) { logged += std::string(text); });
  EXPECT_THAT(logged, HasSubstr("leave-one-out"));
  const auto& trace = as_mixed(model).em_log2_likelihood();
  ASSERT_GE(trace.size(), 2u);
  for (size_t i = 1; i < trace.size(); ++i) EXPECT_GE(trace[i], trace[i - 1] - 1e-9);
}

TEST(MixedMarkov, rejects_bad_options_naming_them) {
  const std::vector<Melody> melodies = order_one_source(5, 10, 10);
  EXPECT_THAT(train_error("mixed:oder=2", melodies), HasSubstr("'oder'"));
  EXPECT_THAT(train_error("mixed:heldout=0.9", melodies), HasSubstr("heldout=0.9"));
  EXPECT_THAT(train_error("mixed:buckets=9", melodies), HasSubstr("buckets=9"));
  EXPECT_THAT(train_error("mixed:order=1,weights=0.5+0.5", melodies), HasSubstr("weights has 1 vectors"));
  EXPECT_THAT(train_error("mixed:order=1,weights=0.5+0.5/0.2+0.3", melodies), HasSubstr("2 values, not 3"));
  EXPECT_THAT(train_error("mixed:order=1,weights=0.5+0.5/0.2+0.3+0.6", melodies), HasSubstr("add up to 1.1"));
  EXPECT_THAT(train_error("mixed:order=1,weights=0.5+0.5/0+0.5+0.5", melodies), HasSubstr("uniform weight"));
  EXPECT_THAT(train_error("mixed:order=1,weights=0.5+x/0.2+0.3+0.5", melodies), HasSubstr("'x' is not a number"));
  EXPECT_THAT(train_error("mixed", {}), HasSubstr("mixed: no training melodies"));
}

class MixedMarkovFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("antiphon_mixed_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(MixedMarkovFile, round_trip_gives_identical_predictions) {
  ModelPtr model = train("mixed:order=3,buckets=2", order_one_source(30, 20, 11));
  save_model(*model, path("m.model"));
  ModelPtr back = load_model(path("m.model"));
  EXPECT_EQ(back->config(), model->config());
  EXPECT_EQ(back->info().spec, model->info().spec);
  EXPECT_EQ(as_mixed(back).weights().size(), as_mixed(model).weights().size());
  for (const Melody& m : order_one_source(4, 20, 12)) {
    const auto tokens = model->encoding().encode(m);
    EXPECT_EQ(back->token_log2_probs(tokens), model->token_log2_probs(tokens));
    EXPECT_EQ(predict_after(*back, tokens), predict_after(*model, tokens));
  }
}

TEST_F(MixedMarkovFile, truncated_file_or_payload_throws_model_file_error) {
  ModelPtr model = train("mixed:order=1", {token_melody({0, 1, 1, 0, 2, 0, 1}), token_melody({2, 2, 1})});
  save_model(*model, path("m.model"));
  const std::string bytes = read_file_bytes(path("m.model"));
  for (size_t cut : {size_t{5}, size_t{30}, bytes.size() / 2, bytes.size() - 8, bytes.size() - 1})
    EXPECT_THROW(load_model_bytes(bytes.substr(0, cut), "cut.model"), ModelFileError) << "cut at " << cut;
  ModelWriter w;
  model->save_payload(w);
  ModelHeader header;
  header.info = model->info();
  for (size_t cut = 0; cut < w.bytes().size(); ++cut) {
    ModelReader reader(std::string_view(w.bytes()).substr(0, cut), "cut.model");
    EXPECT_THROW(MixedMarkovModel::load(header, five_tokens(), reader), ModelFileError) << "cut at " << cut;
  }
  // Weights that no longer add up to 1: 37 bytes of options, the fit summary, then the first vector's length
  // and values.
  const std::string fit = model->config().back().second;
  std::string bad = w.bytes();
  const double wrong = 0.9;
  std::memcpy(bad.data() + 37 + 8 + fit.size() + 8, &wrong, 8);
  ModelReader reader(bad, "bad.model");
  try {
    MixedMarkovModel::load(header, five_tokens(), reader);
    ADD_FAILURE() << "no error";
  } catch (const ModelFileError& e) {
    EXPECT_THAT(std::string(e.what()), HasSubstr("bad.model: payload offset"));
    EXPECT_THAT(std::string(e.what()), HasSubstr("add up to"));
  }
}

}  // namespace antiphon
