#include "antiphon/models/hmm.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "antiphon/models/model_file.h"
#include "antiphon/models/registry.h"
#include "antiphon/tokens/target.h"

namespace antiphon {
namespace {

// The classic example: states Rainy (0) and Sunny (1), observations walk (0), shop (1), clean (2).
//   pi = (0.6, 0.4)    A = | 0.7 0.3 |    B = | 0.1 0.4 0.5 |  (Rainy)
//                          | 0.4 0.6 |        | 0.6 0.3 0.1 |  (Sunny)
HmmParams rainy_sunny() { return HmmParams{2, 3, {0.6, 0.4}, {0.7, 0.3, 0.4, 0.6}, {0.1, 0.4, 0.5, 0.6, 0.3, 0.1}}; }

// A 2-state generator with sticky states and distinct emissions (for recovery and sampling tests).
HmmParams sticky_two_state() {
  return HmmParams{2, 3, {0.6, 0.4}, {0.9, 0.1, 0.2, 0.8}, {0.8, 0.1, 0.1, 0.1, 0.2, 0.7}};
}

std::vector<std::vector<int>> sample_sequences(const HmmParams& p, size_t count, size_t length, uint64_t seed) {
  std::vector<std::vector<int>> out;
  for (size_t i = 0; i < count; ++i) out.push_back(hmm_sample(p, length, seed * 100003 + i).symbols);
  return out;
}

std::shared_ptr<const Encoding> pitch_encoding(std::vector<int> pitches) {
  TargetConfig config;
  config.kind = TargetKind::pitch;
  config.pitches = std::move(pitches);
  return std::make_shared<TargetEncoding>(config);
}

Melody melody_of(const std::vector<int>& pitches) {
  Melody m;
  for (int p : pitches) m.append(Pitch{p}, Rational(1, 2));
  return m;
}

// Melodies over C D E G drawn from an HMM (symbol k -> pitch kPitches[k]); F (65) never occurs.
std::vector<Melody> training_melodies() {
  const int pitches[] = {60, 62, 64, 67};
  HmmParams gen{2, 4, {0.5, 0.5}, {0.85, 0.15, 0.3, 0.7}, {0.6, 0.3, 0.05, 0.05, 0.05, 0.05, 0.4, 0.5}};
  std::vector<Melody> out;
  for (uint64_t s = 0; s < 12; ++s) {
    std::vector<int> notes;
    for (int x : hmm_sample(gen, 20 + 3 * s, s + 1).symbols) notes.push_back(pitches[x]);
    out.push_back(melody_of(notes));
  }
  return out;
}

ModelPtr train(const std::string& spec, const std::vector<Melody>& melodies,
               std::shared_ptr<const Encoding> encoding = nullptr) {
  add_model_family(hmm_family());
  TrainingData data;
  data.melodies = &melodies;
  data.encoding = std::move(encoding);
  data.corpus = "generated";
  data.corpus_fingerprint = "abc123";
  data.seed = 42;
  return train_model(ModelSpec::parse(spec), data);
}

std::string config_value(const SequenceModel& model, const std::string& key) {
  for (const auto& [k, v] : model.config())
    if (k == key) return v;
  return "<missing " + key + ">";
}

TEST(HmmForward, gives_hand_computed_likelihood_for_short_sequence) {
  // x = walk, shop, clean. alpha_t(j) = [sum_i alpha_{t-1}(i) A(i,j)] B(j, x_t):
  //   t=1: R = 0.6*0.1 = 0.06                            S = 0.4*0.6 = 0.24
  //   t=2: R = (0.06*0.7 + 0.24*0.4)*0.4 = 0.0552        S = (0.06*0.3 + 0.24*0.6)*0.3 = 0.0486
  //   t=3: R = (0.0552*0.7 + 0.0486*0.4)*0.5 = 0.02904   S = (0.0552*0.3 + 0.0486*0.6)*0.1 = 0.004572
  //   P(x) = 0.02904 + 0.004572 = 0.033612; P(walk) = 0.3, P(walk, shop) = 0.1038.
  const HmmParams p = rainy_sunny();
  const std::vector<int> x = {0, 1, 2};
  EXPECT_NEAR(std::exp(hmm_log_likelihood(p, x)), 0.033612, 1e-12);
  EXPECT_NEAR(hmm_log_likelihood(p, x), std::log(0.033612), 1e-12);
  EXPECT_NEAR(hmm_log_likelihood(p, std::vector<int>{0}), std::log(0.3), 1e-12);
  EXPECT_NEAR(hmm_log_likelihood(p, std::vector<int>{0, 1}), std::log(0.1038), 1e-12);
  EXPECT_EQ(hmm_log_likelihood(p, std::vector<int>{}), 0.0);
}

TEST(HmmForward, gives_minus_infinity_for_impossible_sequence) {
  HmmParams p = rainy_sunny();
  p.emissions = {0.0, 0.5, 0.5, 0.0, 0.5, 0.5};  // nobody walks
  EXPECT_EQ(hmm_log_likelihood(p, std::vector<int>{1, 0, 2}), -INFINITY);
}

TEST(HmmViterbi, finds_hand_computed_path_and_probability) {
  // delta_t(j) = max_i delta_{t-1}(i) A(i,j) * B(j, x_t), x = walk, shop, clean:
  //   t=1: R = 0.06                                  S = 0.24
  //   t=2: R = max(0.06*0.7, 0.24*0.4)*0.4 = 0.0384 (from S)   S = max(0.06*0.3, 0.24*0.6)*0.3 = 0.0432 (from S)
  //   t=3: R = max(0.0384*0.7, 0.0432*0.4)*0.5 = 0.01344 (from R)   S = max(0.0384*0.3, 0.0432*0.6)*0.1 = 0.002592
  //   best: R at t=3 with 0.01344, back through R, S: path Sunny, Rainy, Rainy.
  const ViterbiPath v = hmm_viterbi(rainy_sunny(), std::vector<int>{0, 1, 2});
  EXPECT_EQ(v.states, (std::vector<int>{1, 0, 0}));
  EXPECT_NEAR(v.log_prob, std::log(0.01344), 1e-12);
}

TEST(HmmViterbi, path_probability_matches_joint_probability_on_long_sequence) {
  const HmmParams p = random_hmm(4, 5, 3);
  const HmmSample s = hmm_sample(p, 2000, 9);
  const ViterbiPath v = hmm_viterbi(p, s.symbols);
  ASSERT_EQ(v.states.size(), s.symbols.size());
  double joint = std::log(p.initial[static_cast<size_t>(v.states[0])]);
  for (size_t t = 0; t < v.states.size(); ++t) {
    const auto st = static_cast<size_t>(v.states[t]);
    if (t > 0) joint += std::log(p.transition(static_cast<size_t>(v.states[t - 1]), st));
    joint += std::log(p.emission(st, static_cast<size_t>(s.symbols[t])));
  }
  EXPECT_NEAR(v.log_prob, joint, 1e-9 * std::abs(joint));
  // The best path is at least as likely as the one that generated the data, and below the total.
  double generating = std::log(p.initial[static_cast<size_t>(s.states[0])]);
  for (size_t t = 0; t < s.states.size(); ++t) {
    const auto st = static_cast<size_t>(s.states[t]);
    if (t > 0) generating += std::log(p.transition(static_cast<size_t>(s.states[t - 1]), st));
    generating += std::log(p.emission(st, static_cast<size_t>(s.symbols[t])));
  }
  EXPECT_GE(v.log_prob, generating);
  EXPECT_LT(v.log_prob, hmm_log_likelihood(p, s.symbols));
  EXPECT_TRUE(hmm_viterbi(p, std::vector<int>{}).states.empty());
}

TEST(HmmModel, predicts_hand_computed_distributions) {
  const auto model =
      std::make_shared<HmmModel>(rainy_sunny(), pitch_encoding({60, 62, 64}), ModelInfo{}, HmmTraining{});
  std::vector<double> probs(3);
  auto state = model->start();
  // P(x_1 = k) = sum_i pi(i) B(i,k): walk 0.6*0.1 + 0.4*0.6 = 0.3, shop 0.36, clean 0.34.
  model->predict(*state, probs);
  EXPECT_NEAR(probs[0], 0.3, 1e-15);
  EXPECT_NEAR(probs[1], 0.36, 1e-15);
  EXPECT_NEAR(probs[2], 0.34, 1e-15);
  // After walk: filtered (0.06, 0.24) / 0.3 = (0.2, 0.8); next state (0.2*0.7 + 0.8*0.4, 0.2*0.3 + 0.8*0.6)
  // = (0.46, 0.54); P(x_2) = 0.46 B(R) + 0.54 B(S) = (0.37, 0.346, 0.284).
  model->advance(*state, 0);
  model->predict(*state, probs);
  EXPECT_NEAR(probs[0], 0.37, 1e-15);
  EXPECT_NEAR(probs[1], 0.346, 1e-15);
  EXPECT_NEAR(probs[2], 0.284, 1e-15);
  EXPECT_EQ(state->history(), (std::vector<int>{0}));
  // A clone continues on its own.
  auto copy = state->clone();
  model->advance(*copy, 2);
  std::vector<double> again(3);
  model->predict(*state, again);
  EXPECT_EQ(again, probs);
}

TEST(HmmModel, predictive_distribution_equals_forward_ratio) {
  const HmmParams p = random_hmm(3, 5, 11);
  const auto model = std::make_shared<HmmModel>(p, pitch_encoding({60, 61, 62, 63, 64}), ModelInfo{}, HmmTraining{});
  const std::vector<int> x = hmm_sample(p, 40, 5).symbols;
  auto state = model->start();
  std::vector<double> probs(5);
  std::vector<int> prefix;
  for (int token : x) {
    model->predict(*state, probs);
    const double before = hmm_log_likelihood(p, prefix);
    double sum = 0;
    for (int k = 0; k < 5; ++k) {
      std::vector<int> longer = prefix;
      longer.push_back(k);
      // P(x_1..t-1, k) / P(x_1..t-1)
      EXPECT_NEAR(probs[static_cast<size_t>(k)], std::exp(hmm_log_likelihood(p, longer) - before), 1e-12);
      EXPECT_GT(probs[static_cast<size_t>(k)], 0);
      sum += probs[static_cast<size_t>(k)];
    }
    EXPECT_NEAR(sum, 1.0, 1e-12);
    model->advance(*state, token);
    prefix.push_back(token);
  }
}

TEST(HmmForward, scaling_keeps_10000_step_likelihood_finite) {
  const HmmParams p = random_hmm(4, 6, 21);
  const std::vector<int> x = hmm_sample(p, 10000, 22).symbols;
  const double ll = hmm_log_likelihood(p, x);
  ASSERT_TRUE(std::isfinite(ll));
  EXPECT_LT(ll, std::log(1e-308));  // unscaled forward probabilities would have underflowed
  const HmmModel model(p, pitch_encoding({60, 61, 62, 63, 64, 65}), ModelInfo{}, HmmTraining{});
  // The fast path and the interface's start/predict/advance loop both sum ln P(x_t | x_<t) to ln P(x).
  double fast = 0, loop = 0;
  for (double l2 : model.token_log2_probs(x)) fast += l2 * std::log(2.0);
  for (double l2 : model.SequenceModel::token_log2_probs(x)) loop += l2 * std::log(2.0);
  EXPECT_NEAR(fast, ll, 1e-9 * std::abs(ll));
  EXPECT_NEAR(loop, ll, 1e-9 * std::abs(ll));
}

TEST(BaumWelch, log_likelihood_never_decreases) {
  const HmmParams gen{3,
                      4,
                      {0.5, 0.3, 0.2},
                      {0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.3, 0.3, 0.4},
                      {0.7, 0.1, 0.1, 0.1, 0.1, 0.6, 0.2, 0.1, 0.25, 0.25, 0.25, 0.25}};
  const auto data = sample_sequences(gen, 20, 150, 3);
  BaumWelchOptions o;
  o.tolerance = 0;
  o.iterations = 60;
  o.prior = 0;
  const BaumWelchRun ml = baum_welch_from(random_hmm(4, 4, 17), data, o);
  ASSERT_EQ(ml.log_likelihoods.size(), 61u);
  EXPECT_EQ(ml.iterations, 60);
  for (size_t i = 1; i < ml.log_likelihoods.size(); ++i)
    EXPECT_GE(ml.log_likelihoods[i], ml.log_likelihoods[i - 1] - 1e-9 * std::abs(ml.log_likelihoods[i - 1]))
        << "iteration " << i;
  EXPECT_EQ(ml.objectives, ml.log_likelihoods);  // no prior: the objective is the likelihood
  EXPECT_GT(ml.log_likelihood, ml.log_likelihoods.front() + 100);
  EXPECT_EQ(ml.log_likelihood, ml.log_likelihoods.back());

  // With a prior EM climbs the log-posterior.
  o.prior = 0.5;
  const BaumWelchRun map = baum_welch_from(random_hmm(4, 4, 17), data, o);
  for (size_t i = 1; i < map.objectives.size(); ++i)
    EXPECT_GE(map.objectives[i], map.objectives[i - 1] - 1e-9 * std::abs(map.objectives[i - 1])) << "iteration " << i;
}

TEST(BaumWelch, stops_when_relative_change_is_below_tolerance) {
  const auto data = sample_sequences(sticky_two_state(), 10, 100, 4);
  BaumWelchOptions o;
  o.tolerance = 1e-3;
  o.iterations = 1000;
  const BaumWelchRun run = baum_welch_from(random_hmm(2, 3, 5), data, o);
  ASSERT_GE(run.objectives.size(), 2u);
  EXPECT_LT(run.iterations, 1000);
  const double last = run.objectives.back(), prev = run.objectives[run.objectives.size() - 2];
  EXPECT_LE(std::abs(last - prev), 1e-3 * std::abs(prev));
  for (size_t i = 1; i + 1 < run.objectives.size(); ++i)
    EXPECT_GT(std::abs(run.objectives[i] - run.objectives[i - 1]), 1e-3 * std::abs(run.objectives[i - 1]));
}

TEST(BaumWelch, recovers_two_state_generator_up_to_permutation) {
  const HmmParams gen = sticky_two_state();
  const auto data = sample_sequences(gen, 400, 50, 8);
  BaumWelchOptions o;
  o.states = 2;
  o.restarts = 3;
  o.iterations = 1000;
  o.tolerance = 1e-10;
  o.prior = 0;
  o.seed = 5;
  const BaumWelchRun run = baum_welch(data, 3, o);
  const HmmParams& p = run.params;
  // State 0 of the generator emits symbol 0 most; find which learnt state does.
  const size_t s0 = p.emission(0, 0) > p.emission(1, 0) ? 0 : 1, s1 = 1 - s0;
  const size_t map[2] = {s0, s1};
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_NEAR(p.initial[map[i]], gen.initial[i], 0.1) << "pi " << i;
    for (size_t j = 0; j < 2; ++j)
      EXPECT_NEAR(p.transition(map[i], map[j]), gen.transition(i, j), 0.05) << "A " << i << j;
    for (size_t k = 0; k < 3; ++k) EXPECT_NEAR(p.emission(map[i], k), gen.emission(i, k), 0.05) << "B " << i << k;
  }
  // The fit explains the data at least as well as the generator (it maximises the likelihood).
  double gen_ll = 0;
  for (const auto& seq : data) gen_ll += hmm_log_likelihood(gen, seq);
  EXPECT_GE(run.log_likelihood, gen_ll);
}

TEST(BaumWelch, same_result_for_any_thread_count_and_seed_reproducible) {
  const auto data = sample_sequences(sticky_two_state(), 60, 120, 2);  // 7200 tokens: several blocks
  BaumWelchOptions o;
  o.states = 4;
  o.restarts = 2;
  o.iterations = 20;
  o.threads = 1;
  const BaumWelchRun one = baum_welch(data, 3, o);
  o.threads = 2;
  const BaumWelchRun two = baum_welch(data, 3, o);
  o.threads = 3;
  const BaumWelchRun three = baum_welch(data, 3, o);
  EXPECT_EQ(one.params, two.params);
  EXPECT_EQ(one.params, three.params);
  EXPECT_EQ(one.log_likelihoods, two.log_likelihoods);
  o.seed = 2;
  EXPECT_NE(baum_welch(data, 3, o).params, one.params);
}

TEST(BaumWelch, keeps_every_probability_positive_with_prior) {
  // Symbol 3 never occurs: the prior keeps its emission probability above 0.
  const auto data = sample_sequences(sticky_two_state(), 10, 60, 6);
  BaumWelchOptions o;
  o.states = 3;
  o.restarts = 1;
  const BaumWelchRun run = baum_welch(data, 4, o);
  EXPECT_NO_THROW(run.params.validate(1e-12));
  for (double v : run.params.emissions) EXPECT_GT(v, 0);
  for (double v : run.params.transitions) EXPECT_GT(v, 0);
}

TEST(BaumWelch, rejects_symbol_outside_alphabet_and_bad_options) {
  BaumWelchOptions o;
  try {
    baum_welch({{0, 1}, {2, 5}}, 3, o);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("sequence 1, position 1: symbol 5"), std::string::npos) << e.what();
  }
  o.states = 0;
  EXPECT_THROW(baum_welch({{0, 1}}, 3, o), ConfigError);
  o.states = 2;
  o.tolerance = -1;
  EXPECT_THROW(baum_welch({{0, 1}}, 3, o), ConfigError);
}

TEST(HmmSample, frequencies_match_model_probabilities) {
  // 30000 draws of length 3 spread over the 27 possible sequences; Pearson's statistic has 26 degrees of
  // freedom (mean 26, sd 7.2), so 70 is far in the tail for a correct sampler.
  const HmmParams p = sticky_two_state();
  std::map<std::vector<int>, int> counts;
  const int n = 30000;
  for (int s = 0; s < n; ++s) ++counts[hmm_sample(p, 3, static_cast<uint64_t>(s)).symbols];
  double chi2 = 0;
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 3; ++c) {
        const std::vector<int> x = {a, b, c};
        const double expected = n * std::exp(hmm_log_likelihood(p, x));
        const double d = counts[x] - expected;
        chi2 += d * d / expected;
      }
  EXPECT_LT(chi2, 70.0);
  // And the states: the first state follows pi.
  int first_zero = 0;
  for (int s = 0; s < n; ++s) first_zero += hmm_sample(p, 1, static_cast<uint64_t>(s)).states[0] == 0;
  EXPECT_NEAR(first_zero / double(n), 0.6, 4 * std::sqrt(0.24 / n));
  EXPECT_EQ(hmm_sample(p, 50, 7).symbols, hmm_sample(p, 50, 7).symbols);
}

TEST(HmmParams, validate_names_the_bad_row) {
  HmmParams p = rainy_sunny();
  p.transitions[3] = 0.5;
  try {
    p.validate();
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("transitions row 1 sums to 0.9"), std::string::npos) << e.what();
  }
  p = rainy_sunny();
  p.emissions.pop_back();
  EXPECT_THROW(p.validate(), ConfigError);
}

TEST(HmmFamily, trains_model_with_info_config_and_positive_predictions) {
  const auto melodies = training_melodies();
  // F (65) is in the alphabet but never in the training melodies.
  const ModelPtr model = train("hmm:states=3,restarts=2", melodies, pitch_encoding({60, 62, 64, 65, 67}));
  const ModelInfo& info = model->info();
  EXPECT_EQ(info.family, "hmm");
  EXPECT_EQ(info.spec, "hmm:states=3,restarts=2,iterations=100,tolerance=0.0001,prior=0.001");
  EXPECT_EQ(info.encoding, "pitch:pitches=60;62;64;65;67");
  EXPECT_EQ(info.corpus, "generated");
  EXPECT_EQ(info.corpus_fingerprint, "abc123");
  EXPECT_EQ(info.training_melodies, 12u);
  size_t notes = 0;
  for (const auto& m : melodies) notes += m.pitched_count();
  EXPECT_EQ(info.training_tokens, notes);
  EXPECT_EQ(config_value(*model, "states"), "3");
  EXPECT_EQ(config_value(*model, "restarts"), "2");
  EXPECT_EQ(config_value(*model, "iterations"), "100");
  EXPECT_EQ(config_value(*model, "tolerance"), "0.0001");
  EXPECT_EQ(config_value(*model, "prior"), "0.001");
  EXPECT_EQ(config_value(*model, "seed"), "42");
  const auto& hmm = dynamic_cast<const HmmModel&>(*model);
  EXPECT_EQ(config_value(*model, "iterations_used"), std::to_string(hmm.training().iterations));
  EXPECT_GT(hmm.training().iterations, 0);
  // The reported training likelihood is that of the stored parameters.
  double ll = 0;
  for (const auto& seq : encode_melodies(model->encoding(), melodies)) ll += hmm_log_likelihood(hmm.params(), seq);
  EXPECT_NEAR(hmm.training().log_likelihood, ll, 1e-9 * std::abs(ll));
  EXPECT_EQ(std::stod(config_value(*model, "log_likelihood")), hmm.training().log_likelihood);

  auto state = model->start();
  std::vector<double> probs(5);
  for (int token : model->encoding().encode(melodies[0])) {
    model->predict(*state, probs);
    double sum = 0;
    for (double p : probs) {
      EXPECT_GT(p, 0);
      sum += p;
    }
    EXPECT_NEAR(sum, 1.0, 1e-12);
    model->advance(*state, token);
  }
  EXPECT_LT(probs[3], 0.01);  // the unseen F stays rare
}

TEST(HmmFamily, defaults_to_pitch_target_of_training_melodies) {
  const ModelPtr model = train("hmm:states=2,restarts=1,iterations=5", training_melodies());
  EXPECT_EQ(model->info().encoding, "pitch:pitches=60;62;64;67");
  EXPECT_EQ(dynamic_cast<const HmmModel&>(*model).params().states, 2u);
}

TEST(HmmFamily, save_load_round_trip_is_identical) {
  const auto melodies = training_melodies();
  const ModelPtr model = train("hmm:states=4,restarts=1,prior=0.01", melodies);
  const auto path = std::filesystem::temp_directory_path() / ("hmm_round_trip_" + std::to_string(getpid()) + ".model");
  save_model(*model, path.string());
  const ModelPtr loaded = load_model(path.string());
  std::filesystem::remove(path);
  const auto& a = dynamic_cast<const HmmModel&>(*model);
  const auto& b = dynamic_cast<const HmmModel&>(*loaded);
  EXPECT_EQ(a.params(), b.params());
  EXPECT_EQ(a.config(), b.config());
  EXPECT_EQ(b.info().spec, a.info().spec);
  EXPECT_EQ(b.info().training_tokens, a.info().training_tokens);
  for (const auto& seq : encode_melodies(model->encoding(), melodies))
    EXPECT_EQ(model->token_log2_probs(seq), loaded->token_log2_probs(seq));
}

// Payload as HmmModel::save_payload writes it, with values to tamper with.
struct Payload {
  uint32_t states = 2, symbols = 3, restarts = 3, iterations = 100, used = 10;
  double tolerance = 1e-4, prior = 1e-3, log_likelihood = -10;
  HmmParams params = rainy_sunny();
  bool truncate = false;

  std::string bytes() const {
    ModelWriter w;
    w.u32(states);
    w.u32(symbols);
    w.u32(restarts);
    w.u32(iterations);
    w.f64(tolerance);
    w.f64(prior);
    w.u64(1);
    w.f64(log_likelihood);
    w.u32(used);
    w.f64s(params.initial);
    w.f64s(params.transitions);
    if (!truncate) w.f64s(params.emissions);
    return w.bytes();
  }
};

// Loads a payload through the family; returns the error message ("" when it loads).
std::string load_error(const Payload& payload) {
  ModelHeader header;
  header.info.family = "hmm";
  const std::string bytes = payload.bytes();
  ModelReader reader(bytes, "test.model");
  try {
    hmm_family().load(header, pitch_encoding({60, 62, 64}), reader);
    reader.expect_end();
  } catch (const ModelFileError& e) {
    return e.what();
  }
  return "";
}

TEST(HmmFamily, refuses_corrupt_payload) {
  EXPECT_EQ(load_error(Payload{}), "");
  auto expect_error = [](const Payload& p, const std::string& part) {
    const std::string error = load_error(p);
    EXPECT_NE(error.find(part), std::string::npos) << "expected '" << part << "' in '" << error << "'";
    EXPECT_NE(error.find("test.model"), std::string::npos) << error;
  };
  Payload p;
  p.params.transitions = {0.7, 0.3, 0.4, 0.5};
  expect_error(p, "transitions row 1 sums to 0.9");
  p = Payload{};
  p.params.emissions[4] = NAN;
  expect_error(p, "emissions row 1 entry 1 is nan");
  p = Payload{};
  p.params.initial = {1.5, -0.5};
  expect_error(p, "initial row 0 entry 1 is -0.5");
  p = Payload{};
  p.params.emissions = {0.1, 0.4, 0.5, 0.6, 0.3};
  expect_error(p, "emissions has 5 values, expected 6");
  p = Payload{};
  p.params.emissions = {0.0, 0.5, 0.5, 0.6, 0.3, 0.1};
  expect_error(p, "emission of token '60' by state 0 is 0");
  p = Payload{};
  p.symbols = 4;
  expect_error(p, "cover 4 symbols");
  p = Payload{};
  p.states = 0;
  expect_error(p, "states 0");
  p = Payload{};
  p.prior = 0;
  expect_error(p, "prior 0");
  p = Payload{};
  p.log_likelihood = INFINITY;
  expect_error(p, "log-likelihood inf");
  p = Payload{};
  p.truncate = true;
  expect_error(p, "emissions");
}

TEST(HmmFamily, rejects_bad_options) {
  const auto melodies = training_melodies();
  auto error_of = [&](const std::string& spec) -> std::string {
    try {
      train(spec, melodies);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of("hmm:states=0").find("states=0"), std::string::npos);
  EXPECT_NE(error_of("hmm:states=x").find("states=x"), std::string::npos);
  EXPECT_NE(error_of("hmm:stats=4").find("'stats'"), std::string::npos);
  EXPECT_NE(error_of("hmm:prior=0").find("prior=0"), std::string::npos);
  EXPECT_NE(error_of("hmm:restarts=0").find("restarts=0"), std::string::npos);
  EXPECT_NE(error_of("hmm:tolerance=-1").find("tolerance=-1"), std::string::npos);
  Melody rest;
  rest.append(std::nullopt, 1);
  try {
    train("hmm", {rest}, pitch_encoding({60}));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("training melodies hold no tokens"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace antiphon
