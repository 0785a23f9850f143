#include "antiphon/models/markov.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include <cmath>
#include <filesystem>
#include <numeric>

#include "antiphon/core/text.h"
#include "antiphon/models/model_file.h"
#include "antiphon/models/registry.h"
#include "antiphon/tokens/grid.h"
#include "antiphon/tokens/target.h"
#include "models/families.h"

namespace antiphon {
namespace {

using ::testing::HasSubstr;

// The worked example A-B-B-A-C-A-B over the pitch target with A, B, C = 60, 62, 64 (tokens 0, 1, 2).
constexpr int A = 0, B = 1, C = 2;

Melody pitches_melody(const std::vector<int>& midi) {
  Melody m;
  for (int p : midi) m.append(p < 0 ? std::nullopt : std::optional<Pitch>(Pitch::from_midi(p)), Rational(1));
  return m;
}

Melody abc_melody(const std::vector<int>& tokens) {
  std::vector<int> midi;
  for (int t : tokens) midi.push_back(60 + 2 * t);
  return pitches_melody(midi);
}

std::shared_ptr<const Encoding> abc_encoding() {
  TargetConfig c;
  c.pitches = {60, 62, 64};
  return std::make_shared<TargetEncoding>(c);
}

ModelPtr train(const std::string& spec, const std::vector<Melody>& melodies,
               std::shared_ptr<const Encoding> encoding = abc_encoding(), LogFn log = {}) {
  add_model_family(markov_family());
  TrainingData data;
  data.melodies = &melodies;
  data.encoding = std::move(encoding);
  data.corpus = "test melodies";
  data.log = std::move(log);
  return train_model(ModelSpec::parse(spec), data);
}

const MarkovModel& as_markov(const ModelPtr& model) {
  const auto* m = dynamic_cast<const MarkovModel*>(model.get());
  EXPECT_NE(m, nullptr);
  return *m;
}

const std::vector<Melody>& worked_example() {
  static const std::vector<Melody> melodies = {abc_melody({A, B, B, A, C, A, B})};
  return melodies;
}

// P(next | these tokens fed from the start of a melody).
std::vector<double> predict_after(const SequenceModel& model, const std::vector<int>& history) {
  auto state = model.start();
  for (int t : history) model.advance(*state, t);
  std::vector<double> probs(model.vocab_size());
  model.predict(*state, probs);
  return probs;
}

std::string train_error(const std::string& spec, const std::vector<Melody>& melodies,
                        std::shared_ptr<const Encoding> encoding = abc_encoding()) {
  try {
    train(spec, melodies, std::move(encoding));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// Melodies with a little of everything: repeated figures, rests, a note the others lack.
std::vector<Melody> varied_melodies() {
  return {pitches_melody({60, 62, 64, 65, 67, 65, 64, 62, 60}), pitches_melody({67, 67, 69, -1, 67, 65, 64, 64, 62}),
          pitches_melody({60, 64, 67, 72, 67, 64, 60}), pitches_melody({62, 62, 62, 71})};
}

// Every prediction along every melody sums to 1, gives every token > 0, and agrees with token_log2_probs.
void expect_proper_distributions(const SequenceModel& model, const std::vector<Melody>& melodies) {
  for (const Melody& m : melodies) {
    const std::vector<int> tokens = model.encoding().encode(m);
    const std::vector<double> fast = model.token_log2_probs(tokens);
    ASSERT_EQ(fast.size(), tokens.size());
    auto state = model.start();
    std::vector<double> probs(model.vocab_size());
    for (size_t i = 0; i <= tokens.size(); ++i) {
      model.predict(*state, probs);
      EXPECT_NEAR(std::accumulate(probs.begin(), probs.end(), 0.0), 1.0, 1e-9);
      for (double p : probs) EXPECT_GT(p, 0.0);
      if (i == tokens.size()) break;
      EXPECT_NEAR(fast[i], std::log2(probs[static_cast<size_t>(tokens[i])]), 1e-12);
      model.advance(*state, tokens[i]);
    }
  }
}

}  // namespace

TEST(MarkovModel, gives_the_maximum_likelihood_two_thirds_for_b_after_a) {
  ModelPtr model = train("markov:order=1", worked_example());
  const MarkovModel& m = as_markov(model);
  const std::vector<int> a = {A};
  EXPECT_EQ(m.count(a, B), 2u);
  EXPECT_EQ(m.context_count(a), 3u);
  EXPECT_DOUBLE_EQ(*m.maximum_likelihood(a, B), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(*m.maximum_likelihood(a, C), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(*m.maximum_likelihood({}, A), 3.0 / 7.0);
  const std::vector<int> begin = {m.begin_symbol()};
  EXPECT_DOUBLE_EQ(*m.maximum_likelihood(begin, A), 1.0);  // the melody starts with A
}

TEST(MarkovModel, counts_the_start_of_each_melody_and_no_context_across_melodies) {
  const std::vector<Melody> two = {abc_melody({A, B}), abc_melody({C, A})};
  ModelPtr model = train("markov:order=2", two);
  const MarkovModel& m = as_markov(model);
  const int s = m.begin_symbol();
  EXPECT_EQ(m.count(std::vector<int>{s}, A), 1u);
  EXPECT_EQ(m.count(std::vector<int>{s}, C), 1u);
  EXPECT_EQ(m.count(std::vector<int>{s, A}, B), 1u);
  EXPECT_EQ(m.count(std::vector<int>{B}, C), 0u);  // B ends one melody, C starts the next
  EXPECT_EQ(m.context_count(std::vector<int>{B}), 0u);
  EXPECT_FALSE(m.maximum_likelihood(std::vector<int>{B, C}, A).has_value());
  EXPECT_EQ(m.context_count({}), 4u);
}

TEST(MarkovModel, additive_alpha_one_gives_three_sixths_for_b_after_a) {
  ModelPtr model = train("markov:order=1,smoothing=additive,alpha=1", worked_example());
  const auto p = predict_after(*model, {A});
  EXPECT_DOUBLE_EQ(p[B], (2.0 + 1) / (3 + 3));
  EXPECT_DOUBLE_EQ(p[A], (0.0 + 1) / (3 + 3));
  EXPECT_DOUBLE_EQ(p[C], (1.0 + 1) / (3 + 3));
}

TEST(MarkovModel, additive_smoothing_is_uniform_in_a_context_never_seen) {
  ModelPtr model = train("markov:order=2,smoothing=additive,alpha=0.5", worked_example());
  const auto p = predict_after(*model, {C, C});  // "C C" never occurs
  for (double x : p) EXPECT_DOUBLE_EQ(x, 1.0 / 3);
  // "A B" occurs twice, followed by B once: (1 + 0.5) / (1 + 1.5).
  EXPECT_DOUBLE_EQ(predict_after(*model, {A, B})[B], 1.5 / 2.5);
}

TEST(MarkovModel, witten_bell_matches_hand_computed_values) {
  // Order 0: counts A 3, B 3, C 1 (N = 7, T = 3): P0 = (c + 3 / 3) / 10 = 0.4, 0.4, 0.2.
  // After A: c(A .) = 3 with T = 2 types: P(B | A) = (2 + 2 * 0.4) / 5; P(C | B) = (0 + 2 * 0.2) / 4.
  ModelPtr model = train("markov:order=1,smoothing=witten-bell", worked_example());
  const auto after_a = predict_after(*model, {A});
  EXPECT_NEAR(after_a[B], 0.56, 1e-15);
  EXPECT_NEAR(after_a[A], 0.16, 1e-15);
  EXPECT_NEAR(after_a[C], 0.28, 1e-15);
  EXPECT_NEAR(predict_after(*model, {A, B})[C], 0.1, 1e-15);
  // The first token: the begin context saw A once (T = 1): (1 + 0.4) / 2.
  EXPECT_NEAR(predict_after(*model, {})[A], 0.7, 1e-15);
  ModelPtr order0 = train("markov:order=0,smoothing=witten-bell", worked_example());
  EXPECT_NEAR(predict_after(*order0, {C, B})[A], 0.4, 1e-15);
}

TEST(MarkovModel, plain_kneser_ney_matches_hand_computed_values) {
  // Order 1 raw counts S>A 1, A>B 2, A>C 1, B>B 1, B>A 1, C>A 1: n1 = 5, n2 = 1, D1 = 5/7.
  // Order 0 continuation counts (distinct predecessors, S included): A 3, B 2, C 1 (sum 6): D0 = 1/3,
  // gamma0 = (1/3) * 3 / 6 = 1/6, so P0(A) = (3 - 1/3)/6 + 1/18 = 1/2, P0(B) = 1/3, P0(C) = 1/6.
  // After C (seen once, before A): P(A | C) = (1 - 5/7) / 1 + (5/7) P0(A) = 9/14.
  ModelPtr model = train("markov:order=1,smoothing=kneser-ney,discount=plain", worked_example());
  const MarkovModel& m = as_markov(model);
  EXPECT_DOUBLE_EQ(m.discounts(1)[0], 5.0 / 7);
  EXPECT_DOUBLE_EQ(m.discounts(0)[0], 1.0 / 3);
  const auto after_c = predict_after(m, {A, C});
  EXPECT_NEAR(after_c[A], 9.0 / 14, 1e-15);
  EXPECT_NEAR(after_c[B], 5.0 / 7 / 3, 1e-15);
  EXPECT_NEAR(after_c[C], 5.0 / 7 / 6, 1e-15);
}

TEST(MarkovModel, modified_kneser_ney_matches_hand_computed_values) {
  // Order 0 continuation counts A 3, B 2, C 1: n1 = n2 = n3 = 1, n4 = 0, Y = 1/3, so D1 = 1/3,
  // D2 = 2 - 3Y = 1, D3+ = 3. gamma0 = (1/3 + 1 + 3) / 6 = 13/18: P0(A) = 0 + 13/54.
  // Order 1: n1 = 5, n2 = 1, n3 = 0: D1 = 5/7, D2 = 2. P(A | C) = (1 - 5/7) + (5/7)(13/54) = 173/378.
  ModelPtr model = train("markov:order=1,smoothing=kneser-ney", worked_example());
  const MarkovModel& m = as_markov(model);
  EXPECT_DOUBLE_EQ(m.discounts(0)[0], 1.0 / 3);
  EXPECT_DOUBLE_EQ(m.discounts(0)[1], 1.0);
  EXPECT_DOUBLE_EQ(m.discounts(0)[2], 3.0);
  EXPECT_DOUBLE_EQ(m.discounts(1)[0], 5.0 / 7);
  EXPECT_DOUBLE_EQ(m.discounts(1)[1], 2.0);
  EXPECT_NEAR(predict_after(m, {C})[A], 173.0 / 378, 1e-15);
  EXPECT_NEAR(predict_after(m, {C})[B], 5.0 / 7 * 22 / 54, 1e-15);
}

TEST(MarkovModel, logs_the_estimated_kneser_ney_discounts) {
  std::string logged;
  train("markov:order=1", worked_example(), abc_encoding(),
        [&](LogLevel, std::string_view text) { logged += std::string(text); });
  EXPECT_EQ(logged,
            "markov: Kneser-Ney discounts D1+D2+D3 by order: 0.3333333333333333+1+3/"
            "0.7142857142857143+2+0.7142857142857143");
}

TEST(MarkovModel, fixed_discount_applies_to_every_order) {
  ModelPtr model = train("markov:order=2,smoothing=kneser-ney,discount=0.5", worked_example());
  const MarkovModel& m = as_markov(model);
  for (int order = 0; order <= 2; ++order)
    for (double d : m.discounts(order)) EXPECT_EQ(d, 0.5);
  using Option = std::pair<std::string, std::string>;
  const std::vector<Option> expected = {{"order", "2"},
                                        {"smoothing", "kneser-ney"},
                                        {"discount", "0.5"},
                                        {"discounts", "0.5+0.5+0.5/0.5+0.5+0.5/0.5+0.5+0.5"}};
  EXPECT_EQ(m.config(), expected);
}

TEST(MarkovModel, gives_proper_distributions_for_every_smoothing_and_order) {
  const std::vector<Melody> melodies = varied_melodies();
  for (const std::string smoothing : {"additive", "witten-bell", "kneser-ney"})
    for (int order = 0; order <= 4; ++order) {
      SCOPED_TRACE(smoothing + " order " + std::to_string(order));
      ModelPtr model = train("markov:order=" + std::to_string(order) + ",smoothing=" + smoothing, melodies, nullptr);
      expect_proper_distributions(*model, melodies);
      // A melody unlike the training ones: contexts never seen, the rarest pitch.
      expect_proper_distributions(*model, {pitches_melody({71, 60, 71, 69, 72, 72, 72, 62})});
    }
}

TEST(MarkovModel, predicts_the_end_symbol_of_the_grid_encoding) {
  const std::vector<Melody> melodies = {pitches_melody({60, 62, -1, 64}), pitches_melody({64, 62, 60}),
                                        pitches_melody({60, 60, 67, 67, 69, 69, 67})};
  auto grid = std::make_shared<GridEncoding>(GridConfig{1, 55, 75});
  ModelPtr model = train("markov:order=3,smoothing=witten-bell", melodies, grid);
  const MarkovModel& m = as_markov(model);
  EXPECT_EQ(model->info().encoding, "grid:steps=1,min=55,max=75");
  EXPECT_EQ(m.count({}, grid->end_id()), 3u);  // one end per melody
  // After "64 </s>"'s context "62 60" the end came every time it was seen.
  EXPECT_EQ(*m.maximum_likelihood(std::vector<int>{grid->pitch_id(62), grid->pitch_id(60)}, grid->end_id()), 1.0);
  expect_proper_distributions(*model, melodies);
  const auto after = predict_after(*model, {grid->pitch_id(64), grid->pitch_id(62), grid->pitch_id(60)});
  EXPECT_GT(after[static_cast<size_t>(grid->end_id())], 0.5);
}

TEST(MarkovModel, fills_info_with_the_resolved_spec) {
  const std::vector<Melody> melodies = {abc_melody({A, B, B, A, C, A, B}), pitches_melody({-1}), abc_melody({C})};
  ModelPtr model = train("markov", melodies);
  EXPECT_EQ(model->info().family, "markov");
  EXPECT_EQ(model->info().spec, "markov:order=2,smoothing=kneser-ney,discount=modified");
  EXPECT_EQ(model->info().encoding, "pitch:pitches=60;62;64");
  EXPECT_EQ(model->info().corpus, "test melodies");
  EXPECT_EQ(model->info().training_melodies, 2u);  // the rest-only melody has no tokens
  EXPECT_EQ(model->info().training_tokens, 8u);
  ModelPtr additive = train("markov:smoothing=additive,order=1", melodies);
  EXPECT_EQ(additive->info().spec, "markov:order=1,smoothing=additive,alpha=1");
}

TEST(MarkovModel, rejects_unknown_and_misplaced_options_naming_them) {
  EXPECT_THAT(train_error("markov:ordr=2", worked_example()), HasSubstr("'ordr'"));
  EXPECT_THAT(train_error("markov:order=17", worked_example()), HasSubstr("order=17"));
  EXPECT_THAT(train_error("markov:smoothing=good-turing", worked_example()), HasSubstr("smoothing=good-turing"));
  EXPECT_THAT(train_error("markov:smoothing=witten-bell,alpha=2", worked_example()), HasSubstr("alpha=2"));
  EXPECT_THAT(train_error("markov:smoothing=additive,discount=0.5", worked_example()), HasSubstr("discount=0.5"));
  EXPECT_THAT(train_error("markov:smoothing=additive,alpha=0", worked_example()), HasSubstr("alpha=0"));
  EXPECT_THAT(train_error("markov:discount=1.5", worked_example()), HasSubstr("discount=1.5"));
  EXPECT_THAT(train_error("markov:discount=lots", worked_example()), HasSubstr("discount=lots"));
}

TEST(MarkovModel, rejects_training_without_melodies_or_tokens) {
  EXPECT_THAT(train_error("markov", {}), HasSubstr("no training melodies"));
  const std::vector<Melody> rests = {pitches_melody({-1, -1}), Melody{}};
  EXPECT_THAT(train_error("markov", rests, nullptr), HasSubstr("none of the 2 training melodies has a pitched note"));
  EXPECT_THAT(train_error("markov", rests), HasSubstr("give no tokens"));
}

// Model files -----------------------------------------------------------------------------------------------

class MarkovModelFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("antiphon_markov_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  static ModelHeader header_of(const SequenceModel& model) {
    ModelHeader h;
    h.info = model.info();
    h.config = model.config();
    return h;
  }
  static std::string payload_of(const SequenceModel& model) {
    ModelWriter w;
    model.save_payload(w);
    return w.bytes();
  }
  static std::string payload_error(const SequenceModel& model, const std::string& payload) {
    ModelReader reader(payload, "test.model");
    try {
      MarkovModel::load(header_of(model), abc_encoding(), reader);
      reader.expect_end();
    } catch (const ModelFileError& e) {
      return e.what();
    }
    return "no error";
  }

  std::filesystem::path dir_;
};

TEST_F(MarkovModelFile, round_trip_gives_identical_predictions) {
  const std::vector<Melody> melodies = varied_melodies();
  for (const std::string spec : {"markov:order=3,smoothing=additive,alpha=0.25", "markov:order=2,smoothing=witten-bell",
                                 "markov:order=4", "markov:order=2,smoothing=kneser-ney,discount=plain"}) {
    SCOPED_TRACE(spec);
    ModelPtr model = train(spec, melodies, nullptr);
    save_model(*model, path("m.model"));
    ModelPtr back = load_model(path("m.model"));
    EXPECT_EQ(back->info().spec, model->info().spec);
    EXPECT_EQ(back->config(), model->config());
    EXPECT_EQ(back->encoding().spec(), model->encoding().spec());
    for (const Melody& m : melodies) {
      const auto tokens = model->encoding().encode(m);
      EXPECT_EQ(back->token_log2_probs(tokens), model->token_log2_probs(tokens));
      for (size_t cut = 0; cut <= tokens.size(); ++cut) {
        const std::vector<int> history(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(cut));
        EXPECT_EQ(predict_after(*back, history), predict_after(*model, history));
      }
    }
  }
}

TEST_F(MarkovModelFile, truncated_file_throws_model_file_error) {
  ModelPtr model = train("markov:order=2", worked_example());
  save_model(*model, path("m.model"));
  const std::string bytes = read_file_bytes(path("m.model"));
  for (size_t cut : {size_t{0}, size_t{10}, size_t{40}, bytes.size() / 2, bytes.size() - 9, bytes.size() - 1})
    EXPECT_THROW(load_model_bytes(bytes.substr(0, cut), "cut.model"), ModelFileError) << "cut at " << cut;
}

TEST_F(MarkovModelFile, truncated_payload_throws_model_file_error_at_every_length) {
  ModelPtr model = train("markov:order=2,smoothing=witten-bell", worked_example());
  const std::string payload = payload_of(*model);
  EXPECT_EQ(payload_error(*model, payload), "no error");
  for (size_t cut = 0; cut < payload.size(); ++cut)
    EXPECT_THAT(payload_error(*model, payload.substr(0, cut)), HasSubstr("test.model: payload offset")) << cut;
}

TEST_F(MarkovModelFile, inconsistent_counts_throw_model_file_error) {
  ModelPtr model = train("markov:order=1,smoothing=witten-bell", worked_example());
  const std::string payload = payload_of(*model);
  // The payload ends with the counts (u32 each); the last is c(C, A) = 1. As 2, the contexts S, B and C
  // before A add up to 4 where order 0 counted A 3 times.
  std::string more = payload;
  more[more.size() - 4] = static_cast<char>(more[more.size() - 4] + 1);
  EXPECT_THAT(payload_error(*model, more), HasSubstr("count 3 of token 0 differs from the 4 of its longer contexts"));
  std::string zero = payload;
  zero.replace(zero.size() - 4, 4, std::string(4, '\0'));
  EXPECT_THAT(payload_error(*model, zero), HasSubstr("a count of zero"));
  // After the version and the order: the vocabulary size, then the smoothing.
  std::string vocab = payload;
  vocab[8] = 4;
  EXPECT_THAT(payload_error(*model, vocab), HasSubstr("vocabulary size 4"));
  std::string smoothing = payload;
  smoothing[12] = 7;
  EXPECT_THAT(payload_error(*model, smoothing), HasSubstr("smoothing 7 is unknown"));
}

namespace {

// Exact constrained generation merges histories by state_key: equal keys must predict alike, now and after
// every continuation, and next_state_key must equal the key of the advanced state. Checked over every history
// of 4 tokens of an order-3 chain (three symbols: 81 histories), for each smoothing.
TEST(MarkovStateKey, equal_keys_predict_alike_after_every_continuation) {
  const std::vector<Melody> melodies = {abc_melody({0, 1, 1, 0, 2, 0, 1}), abc_melody({2, 2, 1, 0, 1}),
                                        abc_melody({1, 0, 2, 2, 0})};
  add_model_family(mixed_markov_family());
  for (const std::string spec : {"markov:order=3,smoothing=kneser-ney", "markov:order=3,smoothing=witten-bell",
                                 "markov:order=3,smoothing=additive", "mixed:order=3"}) {
    const ModelPtr model = train(spec, melodies);
    std::map<std::string, std::vector<double>> seen;
    size_t merged = 0;
    for (int code = 0; code < 81; ++code) {
      auto state = model->start();
      int c = code;
      for (int i = 0; i < 4; ++i, c /= 3) {
        const auto next = model->next_state_key(*state, c % 3);
        model->advance(*state, c % 3);
        ASSERT_EQ(next, model->state_key(*state)) << spec;
      }
      // Predictions now and after each possible next token, under this key.
      std::vector<double> all, probs(3);
      model->predict(*state, probs);
      all.insert(all.end(), probs.begin(), probs.end());
      for (int t = 0; t < 3; ++t) {
        auto s2 = state->clone();
        model->advance(*s2, t);
        model->predict(*s2, probs);
        all.insert(all.end(), probs.begin(), probs.end());
      }
      const auto [it, fresh] = seen.emplace(*model->state_key(*state), all);
      if (!fresh) {
        ++merged;
        for (size_t i = 0; i < all.size(); ++i) EXPECT_DOUBLE_EQ(it->second[i], all[i]) << spec;
      }
    }
    EXPECT_GT(merged, 0u) << spec;  // histories do share states
  }
}

}  // namespace

}  // namespace antiphon
