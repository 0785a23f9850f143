#include "antiphon/generate/sampler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "antiphon/core/error.h"
#include "error_of.h"

namespace antiphon {
namespace {

using ::testing::HasSubstr;

std::vector<Candidate> candidates(std::initializer_list<double> probs) {
  std::vector<Candidate> c;
  int token = 0;
  for (double p : probs) c.push_back({token++, p});
  return c;
}

std::vector<int> tokens_of(const std::vector<Candidate>& c) {
  std::vector<int> t;
  for (const Candidate& x : c) t.push_back(x.token);
  return t;
}

double sum_of(const std::vector<Candidate>& c) {
  double s = 0;
  for (const Candidate& x : c) s += x.prob;
  return s;
}

using testing_support::error_of;

TEST(Rng, uniform_takes_the_top_53_bits_of_the_engine) {
  Rng rng(2024);
  std::mt19937_64 reference(2024);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rng.uniform(), static_cast<double>(reference() >> 11) / 9007199254740992.0);
}

TEST(Rng, uniform_lies_in_zero_one_with_mean_one_half) {
  Rng rng(7);
  const int n = 100000;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // Standard error of the mean of U(0,1): sqrt(1/12 / n).
  EXPECT_NEAR(sum / n, 0.5, 4 * std::sqrt(1.0 / 12 / n));
}

TEST(Normalize, drops_zero_weights_and_divides_by_the_sum) {
  std::vector<Candidate> c = {{3, 2.0}, {4, 0.0}, {9, 6.0}};
  normalize(c);
  EXPECT_EQ(c, (std::vector<Candidate>{{3, 0.25}, {9, 0.75}}));
}

TEST(EntropyBits, is_one_and_a_half_bits_for_a_half_and_two_quarters) {
  EXPECT_DOUBLE_EQ(entropy_bits(candidates({0.5, 0.25, 0.25})), 1.5);
  EXPECT_DOUBLE_EQ(entropy_bits(candidates({1.0})), 0.0);
}

TEST(TemperatureSampler, temperature_two_takes_square_roots) {
  std::vector<Candidate> c = candidates({0.5, 0.25, 0.25});
  temperature_sampler(2)->apply(c);
  // sqrt(.5) = 0.70710678, sqrt(.25) = 0.5; sum 1.70710678: 0.70710678 / 1.70710678 = sqrt(2) - 1,
  // 0.5 / 1.70710678 = 1 - 1/sqrt(2).
  ASSERT_EQ(tokens_of(c), (std::vector<int>{0, 1, 2}));
  EXPECT_NEAR(c[0].prob, 0.41421356237, 1e-10);
  EXPECT_NEAR(c[1].prob, 0.29289321881, 1e-10);
  EXPECT_NEAR(c[2].prob, 0.29289321881, 1e-10);
}

TEST(TemperatureSampler, temperature_one_half_squares) {
  std::vector<Candidate> c = candidates({0.5, 0.25, 0.25});
  temperature_sampler(0.5)->apply(c);
  // .25, .0625, .0625; sum .375.
  EXPECT_NEAR(c[0].prob, 2.0 / 3, 1e-12);
  EXPECT_NEAR(c[1].prob, 1.0 / 6, 1e-12);
  EXPECT_NEAR(c[2].prob, 1.0 / 6, 1e-12);
}

TEST(TemperatureSampler, normalises_weights_at_temperature_one) {
  std::vector<Candidate> c = {{0, 1.0}, {1, 3.0}};
  temperature_sampler(1)->apply(c);
  EXPECT_EQ(c, (std::vector<Candidate>{{0, 0.25}, {1, 0.75}}));
}

TEST(TemperatureSampler, zero_is_greedy_and_breaks_ties_by_lower_token) {
  std::vector<Candidate> c = {{5, 0.4}, {2, 0.4}, {7, 0.2}};
  temperature_sampler(0)->apply(c);
  EXPECT_EQ(c, (std::vector<Candidate>{{2, 1.0}}));
}

TEST(TemperatureSampler, stays_finite_at_a_low_temperature_with_tiny_probabilities) {
  std::vector<Candidate> c = {{0, 1e-300}, {1, 0.5}, {2, 0.49}};
  temperature_sampler(0.01)->apply(c);
  // (0.49/0.5)^100 = 0.13262; the 1e-300 candidate underflows and is dropped.
  ASSERT_EQ(tokens_of(c), (std::vector<int>{1, 2}));
  const double ratio = std::pow(0.98, 100);
  EXPECT_NEAR(c[0].prob, 1 / (1 + ratio), 1e-9);
  EXPECT_NEAR(c[1].prob, ratio / (1 + ratio), 1e-9);
}

TEST(TemperatureSampler, rejects_a_temperature_outside_zero_to_hundred) {
  EXPECT_THAT(error_of([] { temperature_sampler(-1); }), HasSubstr("temperature -1 is outside [0, 100]"));
  EXPECT_THAT(error_of([] { temperature_sampler(101); }), HasSubstr("temperature 101"));
  EXPECT_THAT(error_of([] { temperature_sampler(std::nan("")); }), HasSubstr("temperature nan"));
}

TEST(TopKSampler, keeps_the_two_most_probable_in_their_input_order) {
  std::vector<Candidate> c = candidates({0.1, 0.4, 0.2, 0.3});
  top_k_sampler(2)->apply(c);
  ASSERT_EQ(tokens_of(c), (std::vector<int>{1, 3}));
  EXPECT_NEAR(c[0].prob, 0.4 / 0.7, 1e-12);
  EXPECT_NEAR(c[1].prob, 0.3 / 0.7, 1e-12);
}

TEST(TopKSampler, breaks_ties_by_lower_token_and_keeps_input_order) {
  std::vector<Candidate> c = {{3, 0.25}, {1, 0.25}, {0, 0.25}, {2, 0.25}};
  top_k_sampler(2)->apply(c);
  EXPECT_EQ(c, (std::vector<Candidate>{{1, 0.5}, {0, 0.5}}));
}

TEST(TopKSampler, keeps_everything_when_k_exceeds_the_list) {
  std::vector<Candidate> c = candidates({2, 1, 1});
  top_k_sampler(10)->apply(c);
  EXPECT_EQ(c, candidates({0.5, 0.25, 0.25}));
}

TEST(TopKSampler, rejects_k_below_one) {
  EXPECT_THAT(error_of([] { top_k_sampler(0); }), HasSubstr("top_k 0"));
}

TEST(TopPSampler, keeps_the_shortest_prefix_reaching_p) {
  std::vector<Candidate> c = candidates({0.5, 0.3, 0.2});
  top_p_sampler(0.7)->apply(c);
  ASSERT_EQ(tokens_of(c), (std::vector<int>{0, 1}));
  EXPECT_NEAR(c[0].prob, 0.625, 1e-12);  // 0.5 / 0.8
  EXPECT_NEAR(c[1].prob, 0.375, 1e-12);  // 0.3 / 0.8
}

TEST(TopPSampler, counts_a_sum_that_rounds_just_below_p_as_reaching_it) {
  std::vector<Candidate> c = {{0, 0.1}, {1, 0.2}, {2, 0.7}};
  top_p_sampler(0.9)->apply(c);  // 0.7 + 0.2 is 0.8999999999999999 in doubles
  EXPECT_EQ(tokens_of(c), (std::vector<int>{1, 2}));
}

TEST(TopPSampler, keeps_at_least_one_candidate) {
  std::vector<Candidate> c = candidates({0.3, 0.5, 0.2});
  top_p_sampler(0.01)->apply(c);
  EXPECT_EQ(c, (std::vector<Candidate>{{1, 1.0}}));
}

TEST(TopPSampler, rejects_p_outside_zero_one) {
  EXPECT_THAT(error_of([] { top_p_sampler(0); }), HasSubstr("top_p 0 is outside (0, 1]"));
  EXPECT_THAT(error_of([] { top_p_sampler(1.5); }), HasSubstr("top_p 1.5"));
}

TEST(TargetEntropySampler, reaches_the_target_by_tempering) {
  const std::vector<Candidate> input = candidates({0.5, 0.3, 0.15, 0.05});
  for (double target : {0.2, 1.0, 1.5, 1.9}) {
    std::vector<Candidate> c = input;
    target_entropy_sampler(target)->apply(c);
    ASSERT_EQ(tokens_of(c), (std::vector<int>{0, 1, 2, 3}));
    EXPECT_NEAR(entropy_bits(c), target, 1e-6) << target;
    EXPECT_NEAR(sum_of(c), 1.0, 1e-12);
    // The order of the probabilities stays, and every log ratio scales by the same 1/T.
    EXPECT_GT(c[0].prob, c[1].prob);
    EXPECT_GT(c[1].prob, c[2].prob);
    EXPECT_GT(c[2].prob, c[3].prob);
    const double beta = std::log(c[0].prob / c[1].prob) / std::log(0.5 / 0.3);
    EXPECT_NEAR(std::log(c[0].prob / c[3].prob) / std::log(0.5 / 0.05), beta, 1e-6 * beta) << target;
  }
}

TEST(TargetEntropySampler, gives_the_uniform_distribution_at_or_above_log2_n) {
  for (double target : {2.0, 7.0}) {
    std::vector<Candidate> c = candidates({0.5, 0.3, 0.15, 0.05, 0});
    target_entropy_sampler(target)->apply(c);
    EXPECT_EQ(c, candidates({0.25, 0.25, 0.25, 0.25}));
  }
}

TEST(TargetEntropySampler, gives_the_greedy_choice_at_zero) {
  std::vector<Candidate> c = {{4, 0.2}, {1, 0.5}, {3, 0.3}};
  target_entropy_sampler(0)->apply(c);
  EXPECT_EQ(c, (std::vector<Candidate>{{1, 1.0}}));
}

TEST(TargetEntropySampler, keeps_a_uniform_list_that_no_temperature_can_change) {
  std::vector<Candidate> c = candidates({1, 1, 1, 1});
  target_entropy_sampler(1.0)->apply(c);
  EXPECT_EQ(c, candidates({0.25, 0.25, 0.25, 0.25}));
}

TEST(TargetEntropySampler, gives_the_low_temperature_limit_below_the_entropy_of_tied_maxima) {
  // As T -> 0, {.4, .4, .2} tends to {.5, .5, 0}: 1 bit is the least any temperature above 0 reaches.
  std::vector<Candidate> c = candidates({0.4, 0.4, 0.2});
  target_entropy_sampler(0.5)->apply(c);
  EXPECT_EQ(c, candidates({0.5, 0.5}));
}

TEST(TargetEntropySampler, rejects_negative_bits) {
  EXPECT_THAT(error_of([] { target_entropy_sampler(-0.5); }), HasSubstr("target_entropy -0.5"));
}

TEST(SamplerChain, empty_chain_only_normalises) {
  SamplerChain chain;
  std::vector<Candidate> c = {{0, 2.0}, {1, 0.0}, {2, 6.0}};
  chain.apply(c);
  EXPECT_EQ(c, (std::vector<Candidate>{{0, 0.25}, {2, 0.75}}));
  EXPECT_EQ(chain.describe(), "none");
  EXPECT_TRUE(chain.empty());
}

TEST(SamplerChain, applies_temperature_before_top_p) {
  // T = 2 on {.5, .3, .2}: sqrt .70711, .54772, .44721 (sum 1.70204) -> .41545, .32180, .26275. Their first
  // two sum to .73725 < .75, so top-p 0.75 keeps all three; on the untempered list .5 + .3 = .8 keeps two.
  SamplerParams params;
  params.temperature = 2;
  params.top_p = 0.75;
  const SamplerChain chain = params.chain();
  EXPECT_EQ(chain.describe(), "temperature=2 top_p=0.75");
  std::vector<Candidate> c = candidates({0.5, 0.3, 0.2});
  chain.apply(c);
  ASSERT_EQ(tokens_of(c), (std::vector<int>{0, 1, 2}));
  EXPECT_NEAR(c[0].prob, 0.41545, 1e-5);
  EXPECT_NEAR(c[2].prob, 0.26275, 1e-5);

  SamplerChain reversed;
  reversed.add(top_p_sampler(0.75)).add(temperature_sampler(2));
  std::vector<Candidate> r = candidates({0.5, 0.3, 0.2});
  reversed.apply(r);
  EXPECT_EQ(tokens_of(r), (std::vector<int>{0, 1}));
}

TEST(SamplerChain, applies_top_k_before_top_p) {
  // top-k 2 on {.5, .3, .2} -> .625, .375, and top-p 0.6 then keeps .625 alone; top-p first would keep .5, .3.
  SamplerParams params;
  params.top_k = 2;
  params.top_p = 0.6;
  std::vector<Candidate> c = candidates({0.5, 0.3, 0.2});
  params.chain().apply(c);
  EXPECT_EQ(c, (std::vector<Candidate>{{0, 1.0}}));

  SamplerChain reversed;
  reversed.add(top_p_sampler(0.6)).add(top_k_sampler(2));
  std::vector<Candidate> r = candidates({0.5, 0.3, 0.2});
  reversed.apply(r);
  EXPECT_EQ(tokens_of(r), (std::vector<int>{0, 1}));
}

TEST(SamplerParams, chain_leaves_out_neutral_values_and_describes_the_rest) {
  EXPECT_EQ(SamplerParams{}.chain().describe(), "none");
  SamplerParams p;
  p.temperature = 0.8;
  p.top_k = 5;
  p.top_p = 0.9;
  EXPECT_EQ(p.chain().describe(), "temperature=0.8 top_k=5 top_p=0.9");
  SamplerParams e;
  e.target_entropy = 2.5;
  EXPECT_EQ(e.chain().describe(), "target_entropy=2.5");
  SamplerParams g;
  g.temperature = 0;
  EXPECT_EQ(g.chain().describe(), "temperature=0");
}

TEST(SamplerParams, validate_names_the_bad_parameter) {
  SamplerParams t;
  t.temperature = -1;
  EXPECT_THAT(error_of([&] { t.validate(); }), HasSubstr("temperature -1 is outside [0, 100]"));
  SamplerParams k;
  k.top_k = -3;
  EXPECT_THAT(error_of([&] { k.validate(); }), HasSubstr("top_k -3"));
  SamplerParams p;
  p.top_p = 0;
  EXPECT_THAT(error_of([&] { p.validate(); }), HasSubstr("top_p 0"));
  SamplerParams both;
  both.temperature = 0.7;
  both.target_entropy = 2;
  EXPECT_THAT(error_of([&] { both.validate(); }), HasSubstr("choose one of --temperature and --target-entropy"));
  EXPECT_THAT(error_of([&] { both.chain(); }), HasSubstr("target_entropy 2"));
  SamplerParams fine;
  fine.temperature = 100;
  fine.top_k = 1;
  fine.top_p = 1;
  EXPECT_NO_THROW(fine.validate());
}

TEST(Draw, frequencies_match_the_weights) {
  const std::vector<Candidate> c = {{0, 1.0}, {1, 2.0}, {2, 3.0}, {3, 4.0}};  // 0.1 0.2 0.3 0.4
  Rng rng(12345);
  const int n = 200000;
  std::vector<int> counts(c.size(), 0);
  for (int i = 0; i < n; ++i) ++counts[draw(c, rng)];
  for (size_t i = 0; i < c.size(); ++i) {
    const double p = c[i].prob / 10;
    const double standard_error = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(static_cast<double>(counts[i]) / n, p, 4 * standard_error) << i;
  }
}

TEST(Draw, never_returns_a_zero_weight_candidate) {
  const std::vector<Candidate> c = {{0, 0.0}, {1, 1.0}, {2, 0.0}};
  Rng rng(3);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(draw(c, rng), 1u);
}

TEST(Draw, same_seed_gives_same_draws_and_another_seed_others) {
  const std::vector<Candidate> c = candidates({0.25, 0.25, 0.25, 0.25});
  const auto draws = [&](uint64_t seed) {
    Rng rng(seed);
    std::vector<size_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(draw(c, rng));
    return out;
  };
  EXPECT_EQ(draws(99), draws(99));
  EXPECT_NE(draws(99), draws(100));
}

}  // namespace
}  // namespace antiphon
