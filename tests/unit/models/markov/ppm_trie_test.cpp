// PPM's count structure and predictor (src/models/markov/ppm_trie.h): hand-computed distributions for each
// escape method, blending and back-off, exclusion, update exclusion and PPM*'s state selection; agreement
// with a naive map-of-contexts reference on random data for every combination of options; learning,
// removal, the size of unbounded tries, save and load.
#include "models/markov/ppm_trie.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/models/model_file.h"

namespace antiphon::ppm {
namespace {

using Seq = std::vector<int>;

PpmConfig make_config(int order, Escape escape = Escape::c, bool blend = true, bool exclusion = true,
                      bool update_exclusion = false) {
  PpmConfig c;
  c.order = order;
  c.escape = escape;
  c.blend = blend;
  c.exclusion = exclusion;
  c.update_exclusion = update_exclusion;
  return c;
}

std::vector<double> predict_after(const PpmTrie& trie, const Seq& history) {
  PpmTrie::Context context = trie.root();
  for (int s : history) trie.advance(context, s);
  std::vector<double> p(static_cast<size_t>(trie.alphabet_size()));
  trie.predict(context, p);
  return p;
}

PpmTrie trained(int alphabet_size, PpmConfig config, const std::vector<Seq>& sequences) {
  PpmTrie trie(alphabet_size, config);
  for (const Seq& s : sequences) trie.add_sequence(s);
  return trie;
}

void expect_distribution(const std::vector<double>& p, const std::vector<double>& expected) {
  ASSERT_EQ(p.size(), expected.size());
  for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i], expected[i], 1e-12) << "symbol " << i;
}

void expect_proper(const std::vector<double>& p) {
  double sum = 0.0;
  for (double x : p) {
    EXPECT_GT(x, 0.0);
    sum += x;
  }
  EXPECT_NEAR(sum, 1.0, 1e-9);
}

// ---- a naive reference: every context as a key of a map, counted position by position -------------------

// Counts of what followed each context, from any source (a map, or a scan of the training data).
class CountSource {
 public:
  virtual ~CountSource() = default;
  virtual std::map<int, int> counts(const Seq& context) const = 0;
};

class NaiveCounts : public CountSource {
 public:
  explicit NaiveCounts(PpmConfig config) : config_(config) {}
  void add(const Seq& s) {
    const size_t bound = config_.order < 0 ? SIZE_MAX : static_cast<size_t>(config_.order);
    for (size_t i = 0; i < s.size(); ++i) {
      const size_t top = std::min(bound, i);
      size_t from = 0;
      if (config_.update_exclusion) {
        // Count from the highest order that has seen the symbol (all orders when none has).
        for (size_t k = top + 1; k-- > 0;) {
          auto it = counts_.find(Seq(s.begin() + static_cast<long>(i - k), s.begin() + static_cast<long>(i)));
          if (it != counts_.end() && it->second.count(s[i])) {
            from = k;
            break;
          }
        }
      }
      for (size_t k = from; k <= top; ++k)
        ++counts_[Seq(s.begin() + static_cast<long>(i - k), s.begin() + static_cast<long>(i))][s[i]];
    }
  }
  std::map<int, int> counts(const Seq& context) const override {
    auto it = counts_.find(context);
    return it == counts_.end() ? std::map<int, int>{} : it->second;
  }

 private:
  PpmConfig config_;
  std::map<Seq, std::map<int, int>> counts_;
};

// Counts by scanning the training sequences (no stored contexts at all), for long data.
class ScanCounts : public CountSource {
 public:
  explicit ScanCounts(const std::vector<Seq>& data) : data_(data) {}
  std::map<int, int> counts(const Seq& context) const override {
    std::map<int, int> out;
    for (const Seq& s : data_)
      for (size_t i = context.size(); i < s.size(); ++i)
        if (std::equal(context.begin(), context.end(), s.begin() + static_cast<long>(i - context.size()))) ++out[s[i]];
    return out;
  }

 private:
  const std::vector<Seq>& data_;
};

// IDyOM's predictor written out directly (ref_ppm.py's prob() generalised to every option).
std::vector<double> naive_predict(const CountSource& source, int alphabet_size, PpmConfig config, const Seq& history) {
  auto suffix = [&](size_t k) { return Seq(history.end() - static_cast<long>(k), history.end()); };
  const size_t bound = config.order < 0 ? SIZE_MAX : static_cast<size_t>(config.order);
  const size_t top = std::min(bound, history.size());
  std::vector<std::map<int, int>> tables;  // [k]: counts after the suffix of length k, while they exist
  for (size_t k = 0; k <= top; ++k) {
    auto t = source.counts(suffix(k));
    if (t.empty()) break;
    tables.push_back(std::move(t));
  }
  int kmax = static_cast<int>(tables.size()) - 1;
  if (config.order < 0 && kmax > 0) {
    int k = kmax;
    while (k > 0 && tables[static_cast<size_t>(k)].size() == 1) --k;
    if (k < kmax) kmax = k + 1;
  }
  const double q = config.escape == Escape::b ? -1.0 : config.escape == Escape::d ? -0.5 : 0.0;
  std::vector<double> dist(static_cast<size_t>(alphabet_size), 0.0);
  double escape = 1.0;
  const std::map<int, int>* above = nullptr;
  for (int k = kmax; k >= 0; --k) {
    const auto& tc = tables[static_cast<size_t>(k)];
    auto excluded = [&](int s) { return above != nullptr && above->count(s) > 0; };
    double n = 0.0;
    int singletons = 0;
    for (auto [s, c] : tc) {
      if (c == 1) ++singletons;
      if (!config.exclusion || !excluded(s)) n += c + q;
    }
    const double types = static_cast<double>(tc.size());
    const double e = config.escape == Escape::a   ? 1.0
                     : config.escape == Escape::d ? types / 2
                     : config.escape == Escape::x ? singletons + 1.0
                                                  : types;
    const double w = n + e > 0 ? n / (n + e) : 0.0;
    if (n > 0)
      for (auto [s, c] : tc) {
        if (config.blend)
          dist[static_cast<size_t>(s)] += escape * w * (c + q) / n;
        else if (!excluded(s) && c + q > 0)
          dist[static_cast<size_t>(s)] = escape * w * (c + q) / n;
      }
    above = &tc;
    escape *= 1.0 - w;
  }
  const double t0 = static_cast<double>(source.counts({}).size());
  const double u = config.exclusion ? 1.0 / (alphabet_size + 1.0 - t0) : 1.0 / alphabet_size;
  double total = 0.0;
  for (double& p : dist) {
    if (config.blend || p == 0.0) p += escape * u;
    total += p;
  }
  for (double& p : dist) p /= total;
  return dist;
}

std::vector<PpmConfig> every_config() {
  std::vector<PpmConfig> out;
  for (int order : {-1, 0, 1, 2, 5})
    for (Escape e : {Escape::a, Escape::b, Escape::c, Escape::d, Escape::x})
      for (bool blend : {true, false})
        for (bool exclusion : {true, false})
          for (bool ue : {false, true}) out.push_back(make_config(order, e, blend, exclusion, ue));
  return out;
}

std::string describe(const PpmConfig& c) {
  return "order " + std::to_string(c.order) + " escape " + escape_name(c.escape) + (c.blend ? " blend" : " back-off") +
         (c.exclusion ? " exclusion" : "") + (c.update_exclusion ? " update-exclusion" : "");
}

// Random melodies full of repeats: runs of one symbol, periodic stretches and copies of earlier parts.
Seq repetitive_sequence(std::mt19937& rng, int alphabet_size, int length) {
  Seq s;
  std::uniform_int_distribution<int> sym(0, alphabet_size - 1), kind(0, 3);
  while (static_cast<int>(s.size()) < length) {
    const int k = kind(rng);
    if (k == 0 || s.size() < 3) {
      s.push_back(sym(rng));
    } else if (k == 1) {
      s.insert(s.end(), 3, sym(rng));
    } else {
      std::uniform_int_distribution<size_t> from(0, s.size() - 2);
      const size_t a = from(rng);
      const size_t len = std::min<size_t>(s.size() - a, 6);
      for (size_t i = 0; i < len; ++i) s.push_back(s[a + i]);
    }
  }
  s.resize(static_cast<size_t>(length));
  return s;
}

// ---- hand-computed cases ----------------------------------------------------------------------------------
// Training 0 1 0 1 0 2 over the alphabet {0,1,2,3}, order bound 1, history "0": order 1 has {1:2, 2:1},
// order 0 has {0:3, 1:2, 2:1}. (Derivations in the comments use the names of ppm_trie.h.)

const Seq kHand = {0, 1, 0, 1, 0, 2};

TEST(PpmTrie, escape_c_blending_with_exclusion_matches_hand_computation) {
  // Order 1: n 3, t 2, w 3/5 -> 1: 2/5, 2: 1/5; escape 2/5. Order 0: n counts only symbol 0 (3), t 3,
  // w 1/2 -> 0: 1/5, 1: 2/15, 2: 1/15; escape 1/5. Order -1: u = 1/(4+1-3) -> 1/10 each. Sum 42/30.
  const PpmTrie trie = trained(4, make_config(1), {kHand});
  expect_distribution(predict_after(trie, {0}), {9 / 42., 19 / 42., 11 / 42., 3 / 42.});
}

TEST(PpmTrie, escape_a_matches_hand_computation) {
  // Order 1: w 3/4 -> 1: 1/2, 2: 1/4; escape 1/4. Order 0: n 3, w 3/4 -> 0: 3/16, 1: 1/8, 2: 1/16;
  // escape 1/16. Order -1: 1/32 each. Sum 40/32.
  const PpmTrie trie = trained(4, make_config(1, Escape::a), {kHand});
  expect_distribution(predict_after(trie, {0}), {7 / 40., 21 / 40., 11 / 40., 1 / 40.});
}

TEST(PpmTrie, escape_b_matches_hand_computation) {
  // Counts less one. Order 1: {1:1, 2:0}, n 1, t 2, w 1/3 -> 1: 1/3; escape 2/3. Order 0: n = 3-1 = 2, t 3,
  // w 2/5 -> 0: 4/15, 1: 2/15, 2: 0; escape 2/5. Order -1: 1/5 each. Sum 23/15.
  const PpmTrie trie = trained(4, make_config(1, Escape::b), {kHand});
  expect_distribution(predict_after(trie, {0}), {7 / 23., 10 / 23., 3 / 23., 3 / 23.});
}

TEST(PpmTrie, escape_d_matches_hand_computation) {
  // Counts less 1/2, escape count t/2. Order 1: {1:1.5, 2:0.5}, n 2, e 1, w 2/3 -> 1: 1/2, 2: 1/6; escape
  // 1/3. Order 0: n 2.5, e 1.5, w 5/8 -> 0: 5/24, 1: 1/8, 2: 1/24; escape 1/8. Order -1: 1/16 each.
  const PpmTrie trie = trained(4, make_config(1, Escape::d), {kHand});
  expect_distribution(predict_after(trie, {0}), {13 / 62., 33 / 62., 13 / 62., 3 / 62.});
}

TEST(PpmTrie, escape_x_matches_hand_computation) {
  // Escape count: symbols seen once + 1. Order 1: e 2, w 3/5 -> 1: 2/5, 2: 1/5; escape 2/5. Order 0: one
  // singleton, e 2, n 3, w 3/5 -> 0: 6/25, 1: 4/25, 2: 2/25; escape 4/25. Order -1: 2/25 each. Sum 35/25.
  const PpmTrie trie = trained(4, make_config(1, Escape::x), {kHand});
  expect_distribution(predict_after(trie, {0}), {8 / 35., 16 / 35., 9 / 35., 2 / 35.});
}

TEST(PpmTrie, blending_without_exclusion_sums_to_one_before_normalising) {
  // Order 1 as with exclusion; order 0: n 6, w 2/3 -> 0: 2/15, 1: 4/45, 2: 2/45; escape 2/15; order -1
  // uniform 1/4 -> 1/30 each. The parts add to exactly 1.
  const PpmTrie trie = trained(4, make_config(1, Escape::c, true, false), {kHand});
  expect_distribution(predict_after(trie, {0}), {15 / 90., 47 / 90., 25 / 90., 3 / 90.});
}

TEST(PpmTrie, back_off_takes_each_symbol_from_the_highest_order_that_saw_it) {
  // Order 1 gives 1: 2/5, 2: 1/5 (escape 2/5); order 0 adds only symbol 0: with exclusion w 1/2 -> 1/5
  // (escape 1/5, order -1 1/2 -> 1/10 to symbol 3); without, w 2/3 -> 2/15 (escape 2/15, u 1/4 -> 1/30).
  const PpmTrie with = trained(4, make_config(1, Escape::c, false, true), {kHand});
  expect_distribution(predict_after(with, {0}), {2 / 9., 4 / 9., 2 / 9., 1 / 9.});
  const PpmTrie without = trained(4, make_config(1, Escape::c, false, false), {kHand});
  expect_distribution(predict_after(without, {0}), {4 / 23., 12 / 23., 6 / 23., 1 / 23.});
}

TEST(PpmTrie, update_exclusion_counts_from_the_order_that_had_seen_the_symbol) {
  // Position 3 (1 after 0) and 4 (0 after 1) were seen at order 1, so order 0 keeps {0:2, 1:1, 2:1}.
  // Order 1: w 3/5 -> 1: 2/5, 2: 1/5; escape 2/5. Order 0: n 2, t 3, w 2/5 -> 0: 4/25, 1: 2/25, 2: 2/25;
  // escape 6/25. Order -1: 3/25 each. Sum 35/25.
  const PpmTrie trie = trained(4, make_config(1, Escape::c, true, true, true), {kHand});
  expect_distribution(predict_after(trie, {0}), {7 / 35., 15 / 35., 10 / 35., 3 / 35.});
  // The same without update exclusion differs (order 0 then has {0:3, 1:2, 2:1}).
  const PpmTrie full = trained(4, make_config(1), {kHand});
  EXPECT_GT(std::abs(predict_after(full, {0})[0] - 7 / 35.), 0.01);
}

TEST(PpmTrie, ppm_star_predicts_from_the_shortest_deterministic_context) {
  // Training 0 1 2 0 3 2 0, history 0 1 2: "012" {0:1}, "12" {0:1} and "2" {0:2} are deterministic, the
  // empty context has {0:3, 1:1, 2:2, 3:1}.
  const Seq training = {0, 1, 2, 0, 3, 2, 0};
  // PPM* starts at "2": w 2/3 -> 0: 2/3, escape 1/3; order 0 (0 excluded): n 4, t 4, w 1/2 -> 0: 1/8,
  // 1: 1/24, 2: 1/12, 3: 1/24; escape 1/6; order -1: u = 1/(4+1-4) = 1 -> 1/6 each. Sum 39/24.
  const PpmTrie star = trained(4, make_config(-1), {training});
  expect_distribution(predict_after(star, {0, 1, 2}), {23 / 39., 5 / 39., 6 / 39., 5 / 39.});
  // Order bound 3 starts at "012": w 1/2 -> 0: 1/2; "12" and "2" add nothing (their only symbol is
  // excluded); order 0: w 1/2 -> 0: 3/16, 1: 1/16, 2: 1/8, 3: 1/16; escape 1/4 -> 1/4 each. Sum 31/16.
  const PpmTrie bounded = trained(4, make_config(3), {training});
  expect_distribution(predict_after(bounded, {0, 1, 2}), {15 / 31., 5 / 31., 6 / 31., 5 / 31.});
}

TEST(PpmTrie, ppm_star_uses_the_longest_context_when_none_is_deterministic) {
  // Training 0 1 0 2 1 0 3, history 1 0: "10" {2:1, 3:1} and "0" {1:1, 2:1, 3:1} both branch, so PPM*
  // blends from "10" exactly as an order bound of 2 does.
  const Seq training = {0, 1, 0, 2, 1, 0, 3};
  const PpmTrie star = trained(4, make_config(-1), {training});
  const PpmTrie bounded = trained(4, make_config(2), {training});
  expect_distribution(predict_after(star, {1, 0}), predict_after(bounded, {1, 0}));
  // "10": w 2/4 -> 2: 1/4, 3: 1/4; escape 1/2. "0": n 1 (symbol 1), t 3, w 1/4 -> 1, 2, 3: 1/8 each
  // (each count over n = 1); escape 3/8. Order 0 {0:3, 1:2, 2:1, 3:1}: n 3, t 4, w 3/7 -> 0: 9/56,
  // 1: 6/56, 2: 3/56, 3: 3/56; escape 3/14. Order -1: u 1 -> 12/56 each. In 56ths: 21, 25, 36, 36.
  expect_distribution(predict_after(star, {1, 0}), {21 / 118., 25 / 118., 36 / 118., 36 / 118.});
}

TEST(PpmTrie, agrees_with_the_reference_formula_on_a_tiny_corpus) {
  // ref_ppm.py's prob() (escape C, blending, exclusion shrinking the total, PPM* and order 2), written
  // out as naive_predict, on two melodies with shared phrases and a held-out one.
  const std::vector<Seq> training = {{0, 2, 4, 5, 4, 2, 0, 2, 4, 2}, {4, 5, 7, 5, 4, 2, 0, 0, 2, 4}};
  const Seq test = {0, 2, 4, 5, 7, 5, 4, 2, 4, 0};
  for (int order : {-1, 2}) {
    const PpmConfig config = make_config(order);
    const PpmTrie trie = trained(8, config, training);
    NaiveCounts naive(config);
    for (const Seq& s : training) naive.add(s);
    PpmTrie::Context context = trie.root();
    std::vector<double> p(8);
    for (size_t i = 0; i < test.size(); ++i) {
      trie.predict(context, p);
      expect_distribution(p, naive_predict(naive, 8, config, Seq(test.begin(), test.begin() + static_cast<long>(i))));
      trie.advance(context, test[i]);
    }
  }
}

TEST(PpmTrie, empty_trie_predicts_uniform_then_learns_the_first_symbol) {
  PpmTrie trie(4, make_config(-1));
  PpmTrie::Context context = trie.root();
  std::vector<double> p(4);
  trie.predict(context, p);
  expect_distribution(p, {0.25, 0.25, 0.25, 0.25});
  trie.learn(context, 2);
  trie.predict(context, p);
  // Order 0 {2:1}: w 1/2 -> 2: 1/2; order -1: u = 1/(4+1-1) -> 1/8 each; sum 1.
  expect_distribution(p, {1 / 8., 1 / 8., 5 / 8., 1 / 8.});
  EXPECT_EQ(context.length(), 1u);
  EXPECT_EQ(trie.sequence_count(), 1u);
}

// ---- agreement with the naive reference ---------------------------------------------------------------

// Training melodies with shared material: repeats inside each, a duplicate, and one that is a prefix of
// another (so some contexts end where a melody does and continue elsewhere).
std::vector<Seq> random_corpus(std::mt19937& rng, int alphabet_size) {
  std::vector<Seq> out;
  for (int i = 0; i < 4; ++i) out.push_back(repetitive_sequence(rng, alphabet_size, 6 + 8 * i));
  out.push_back(out[1]);
  out.emplace_back(out[3].begin(), out[3].begin() + 9);
  return out;
}

void expect_matches_naive(const PpmTrie& trie, const NaiveCounts& naive, const Seq& test) {
  PpmTrie::Context context = trie.root();
  std::vector<double> p(static_cast<size_t>(trie.alphabet_size()));
  for (size_t i = 0; i <= test.size(); ++i) {
    trie.predict(context, p);
    expect_proper(p);
    const auto expected = naive_predict(naive, trie.alphabet_size(), trie.config(),
                                        Seq(test.begin(), test.begin() + static_cast<long>(i)));
    for (size_t s = 0; s < p.size(); ++s) ASSERT_NEAR(p[s], expected[s], 1e-12) << "position " << i;
    if (i < test.size()) trie.advance(context, test[i]);
  }
}

TEST(PpmTrie, matches_naive_reference_for_every_option_on_random_data) {
  std::mt19937 rng(7);
  for (const PpmConfig& config : every_config()) {
    SCOPED_TRACE(describe(config));
    for (int alphabet_size : {2, 3, 5, 8}) {
      SCOPED_TRACE("alphabet " + std::to_string(alphabet_size));
      const std::vector<Seq> training = random_corpus(rng, alphabet_size);
      const PpmTrie trie = trained(alphabet_size, config, training);
      NaiveCounts naive(config);
      for (const Seq& s : training) naive.add(s);
      expect_matches_naive(trie, naive, repetitive_sequence(rng, alphabet_size, 20));
      expect_matches_naive(trie, naive, training[3]);  // long contexts match all the way
    }
  }
}

TEST(PpmTrie, matches_naive_reference_after_removing_melodies) {
  std::mt19937 rng(29);
  for (const PpmConfig& config : every_config()) {
    if (config.update_exclusion) continue;
    SCOPED_TRACE(describe(config));
    for (int alphabet_size : {2, 4}) {
      std::vector<Seq> training = random_corpus(rng, alphabet_size);
      const std::vector<Seq> extra = random_corpus(rng, alphabet_size);
      PpmTrie trie(alphabet_size, config);
      for (size_t i = 0; i < training.size(); ++i) {  // interleaved with the ones removed below
        trie.add_sequence(training[i]);
        trie.add_sequence(extra[i]);
      }
      for (size_t i : {4u, 0u, 5u, 2u, 1u, 3u}) trie.remove_sequence(extra[i]);
      NaiveCounts naive(config);
      for (const Seq& s : training) naive.add(s);
      EXPECT_EQ(trie.node_count(), trained(alphabet_size, config, training).node_count());
      expect_matches_naive(trie, naive, repetitive_sequence(rng, alphabet_size, 20));
      expect_matches_naive(trie, naive, extra[3]);
    }
  }
}

TEST(PpmTrie, learning_context_matches_naive_reference_at_every_step) {
  // A short-term model: the trie already holds two melodies and learns a third as it goes; after each
  // symbol it predicts as if the part learned so far were a whole training melody.
  std::mt19937 rng(11);
  for (const PpmConfig& config : every_config()) {
    SCOPED_TRACE(describe(config));
    const std::vector<Seq> before = {repetitive_sequence(rng, 3, 12), repetitive_sequence(rng, 3, 9)};
    const Seq melody = repetitive_sequence(rng, 3, 24);
    PpmTrie trie = trained(3, config, before);
    PpmTrie::Context context = trie.root();
    std::vector<double> p(3);
    for (size_t i = 0; i < melody.size(); ++i) {
      trie.learn(context, melody[i]);
      const Seq learned(melody.begin(), melody.begin() + static_cast<long>(i) + 1);
      NaiveCounts naive(config);
      for (const Seq& s : before) naive.add(s);
      naive.add(learned);
      trie.predict(context, p);
      const auto expected = naive_predict(naive, 3, config, learned);
      for (size_t s = 0; s < p.size(); ++s) ASSERT_NEAR(p[s], expected[s], 1e-12) << "after " << i + 1;
      // Another context into the growing trie reads the same counts.
      const Seq other = {melody[0], 1, melody[i]};
      const auto from_other = predict_after(trie, other);
      const auto expected_other = naive_predict(naive, 3, config, other);
      for (size_t s = 0; s < p.size(); ++s) ASSERT_NEAR(from_other[s], expected_other[s], 1e-12) << "after " << i + 1;
    }
  }
}

TEST(PpmTrie, learning_a_melody_gives_the_same_trie_as_adding_it) {
  std::mt19937 rng(3);
  const std::vector<Seq> melodies = {repetitive_sequence(rng, 4, 30), repetitive_sequence(rng, 4, 40)};
  for (const PpmConfig& config : every_config()) {
    SCOPED_TRACE(describe(config));
    PpmTrie learned(4, config);
    for (const Seq& m : melodies) {
      PpmTrie::Context context = learned.root();  // a root context starts a new sequence
      for (int s : m) learned.learn(context, s);
    }
    const PpmTrie added = trained(4, config, melodies);
    EXPECT_EQ(learned.node_count(), added.node_count());
    EXPECT_EQ(learned.symbol_count(), 70u);
    for (const Seq& h : {Seq{}, Seq{0, 1}, Seq{melodies[1].begin(), melodies[1].begin() + 7}})
      EXPECT_EQ(predict_after(learned, h), predict_after(added, h));
  }
}

// ---- removal ----------------------------------------------------------------------------------------

TEST(PpmTrie, remove_sequence_undoes_add_sequence_exactly) {
  std::mt19937 rng(5);
  for (int order : {-1, 0, 3}) {
    for (Escape escape : {Escape::c, Escape::x}) {
      const PpmConfig config = make_config(order, escape);
      SCOPED_TRACE(describe(config));
      std::vector<Seq> melodies;
      for (int i = 0; i < 6; ++i) melodies.push_back(repetitive_sequence(rng, 4, 20 + 5 * i));
      melodies.push_back(melodies[2]);  // the same melody twice: removing one keeps the other
      PpmTrie trie = trained(4, config, melodies);
      const PpmTrie full = trained(4, config, melodies);
      trie.remove_sequence(melodies[4]);
      trie.remove_sequence(melodies[2]);
      const PpmTrie without = trained(4, config, {melodies[0], melodies[1], melodies[3], melodies[5], melodies[6]});
      EXPECT_EQ(trie.node_count(), without.node_count());
      EXPECT_EQ(trie.sequence_count(), 5u);
      std::vector<Seq> histories = {{}, {0}, {1, 2}};
      for (const Seq& m : melodies)
        for (size_t i = 0; i < m.size(); i += 3) histories.emplace_back(m.begin(), m.begin() + static_cast<long>(i));
      for (const Seq& h : histories) EXPECT_EQ(predict_after(trie, h), predict_after(without, h));
      // Adding them back restores the full trie.
      trie.add_sequence(melodies[2]);
      trie.add_sequence(melodies[4]);
      EXPECT_EQ(trie.node_count(), full.node_count());
      for (const Seq& h : histories) EXPECT_EQ(predict_after(trie, h), predict_after(full, h));
      // Removing everything leaves an empty trie predicting uniformly.
      for (const Seq& m : melodies) trie.remove_sequence(m);
      EXPECT_EQ(trie.node_count(), 1u);
      expect_distribution(predict_after(trie, {1}), {0.25, 0.25, 0.25, 0.25});
    }
  }
}

TEST(PpmTrie, remove_sequence_rejects_a_sequence_it_does_not_hold) {
  PpmTrie trie = trained(4, make_config(-1), {{0, 1, 2}, {0, 1, 2}});
  trie.remove_sequence(Seq{0, 1, 2});
  trie.remove_sequence(Seq{0, 1, 2});
  try {
    trie.remove_sequence(Seq{0, 1, 2});
    FAIL() << "removed a sequence three times";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("3 symbols"), std::string::npos) << e.what();
  }
  PpmTrie excluded = trained(4, make_config(-1, Escape::c, true, true, true), {{0, 1, 2}});
  EXPECT_THROW(excluded.remove_sequence(Seq{0, 1, 2}), ConfigError);
}

// ---- size of unbounded tries --------------------------------------------------------------------------

// Predictions at `positions` of `test` checked against counts scanned from the training data.
void expect_matches_scan(const PpmTrie& trie, const std::vector<Seq>& training, const Seq& test,
                         const std::vector<size_t>& positions) {
  const ScanCounts scan(training);
  PpmTrie::Context context = trie.root();
  std::vector<double> p(static_cast<size_t>(trie.alphabet_size()));
  size_t at = 0;
  for (size_t i : positions) {
    for (; at < i; ++at) trie.advance(context, test[at]);
    trie.predict(context, p);
    const auto expected = naive_predict(scan, trie.alphabet_size(), trie.config(),
                                        Seq(test.begin(), test.begin() + static_cast<long>(i)));
    for (size_t s = 0; s < p.size(); ++s) ASSERT_NEAR(p[s], expected[s], 1e-12) << "position " << i;
  }
}

TEST(PpmTrie, unbounded_trie_of_long_random_sequences_stays_linear) {
  std::mt19937 rng(13);
  std::uniform_int_distribution<int> sym(0, 29);
  std::vector<Seq> training(50);
  for (Seq& s : training)
    for (int i = 0; i < 2000; ++i) s.push_back(sym(rng));
  const PpmTrie trie = trained(30, make_config(-1), training);
  const size_t naive_nodes = 50 * (2000 * 2001 / 2);
  EXPECT_LT(trie.node_count(), 3 * 50 * 2000u);
  EXPECT_LT(trie.node_count() * 300, naive_nodes);
  // A held-out sequence that copies stretches of the training data, so long contexts match.
  Seq test(training[7].begin() + 100, training[7].begin() + 140);
  for (int i = 0; i < 20; ++i) test.push_back(sym(rng));
  test.insert(test.end(), training[31].begin() + 900, training[31].begin() + 930);
  expect_matches_scan(trie, training, test, {0, 1, 2, 5, 12, 39, 40, 41, 45, 59, 60, 62, 70, 89});
}

TEST(PpmTrie, unbounded_trie_of_repeated_sections_stays_linear) {
  // Pop-song form: each melody is a random 100-note section played four times, so every substring of it
  // occurs at least four times (a trie of contexts would need ~80000 nodes per melody).
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> sym(0, 11);
  std::vector<Seq> training(20);
  for (Seq& s : training) {
    Seq section;
    for (int i = 0; i < 100; ++i) section.push_back(sym(rng));
    for (int r = 0; r < 4; ++r) s.insert(s.end(), section.begin(), section.end());
  }
  const PpmTrie trie = trained(12, make_config(-1), training);
  EXPECT_LT(trie.node_count(), 3 * 20 * 400u);
  Seq test(training[3].begin() + 50, training[3].begin() + 250);
  expect_matches_scan(trie, training, test, {0, 3, 20, 99, 150, 199});
  // A short-term model learning such a melody stays as small.
  PpmTrie stm(12, make_config(-1, Escape::x, true, true, true));
  PpmTrie::Context context = stm.root();
  for (int s : training[0]) stm.learn(context, s);
  EXPECT_LT(stm.node_count(), 4 * 400u);
}

// ---- save and load --------------------------------------------------------------------------------------

TEST(PpmTrie, save_and_load_give_identical_predictions) {
  std::mt19937 rng(19);
  std::vector<Seq> melodies;
  for (int i = 0; i < 5; ++i) melodies.push_back(repetitive_sequence(rng, 5, 30));
  for (const PpmConfig& config : {make_config(-1), make_config(2, Escape::x, false, false, true)}) {
    SCOPED_TRACE(describe(config));
    PpmTrie trie = trained(5, config, melodies);
    if (!config.update_exclusion) trie.remove_sequence(melodies[1]);
    PpmTrie::Context context = trie.root();  // and one melody still being learned
    for (int s : {0, 1, 2, 0, 1}) trie.learn(context, s);
    ModelWriter out;
    trie.save(out);
    ModelReader in(out.bytes(), "trie.model");
    const PpmTrie loaded = PpmTrie::load(in);
    EXPECT_TRUE(in.at_end());
    EXPECT_EQ(loaded.alphabet_size(), 5);
    EXPECT_EQ(loaded.config().order, config.order);
    EXPECT_EQ(loaded.config().escape, config.escape);
    EXPECT_EQ(loaded.config().update_exclusion, config.update_exclusion);
    EXPECT_EQ(loaded.node_count(), trie.node_count());
    EXPECT_EQ(loaded.sequence_count(), trie.sequence_count());
    for (const Seq& h : {Seq{}, Seq{0, 1, 2, 0, 1}, melodies[3], Seq{4, 4, 3}})
      EXPECT_EQ(predict_after(loaded, h), predict_after(trie, h));
  }
}

std::string load_error(const std::string& bytes) {
  ModelReader in(bytes, "trie.model");
  try {
    PpmTrie::load(in);
  } catch (const ModelFileError& e) {
    return e.what();
  }
  return "";
}

TEST(PpmTrie, load_rejects_a_corrupted_payload) {
  const PpmTrie trie = trained(5, make_config(-1), {{0, 1, 2, 3}, {4, 3, 2}});
  ModelWriter out;
  trie.save(out);
  const std::string good = out.bytes();
  ASSERT_EQ(load_error(good), "");
  // Layout: u32 format, i32 alphabet, i32 order, 4 flag bytes (16), lengths (u64 count + 2 x u32), symbols
  // (u64 count + 7 x i32), u64 node count, u64 count total.
  const size_t symbols_at = 16 + 8 + 8 + 8;
  std::string bad = good;
  const int32_t nine = 9;
  std::memcpy(&bad[symbols_at + 4 * 5], &nine, 4);  // the second melody's 3 becomes 9
  EXPECT_NE(load_error(bad).find("symbol 9"), std::string::npos) << load_error(bad);
  bad = good;
  std::memcpy(&bad[symbols_at + 4 * 5], &good[symbols_at + 4 * 4], 4);  // a valid symbol, different counts
  EXPECT_NE(load_error(bad).find("the file says"), std::string::npos) << load_error(bad);
  bad = good;
  bad[bad.size() - 16] = static_cast<char>(bad[bad.size() - 16] + 1);  // node count
  EXPECT_NE(load_error(bad).find("nodes"), std::string::npos) << load_error(bad);
  bad = good;
  bad[12] = 7;  // escape method
  EXPECT_NE(load_error(bad).find("escape method 7"), std::string::npos) << load_error(bad);
  bad = good;
  const uint32_t three = 3;
  std::memcpy(&bad[16 + 8], &three, 4);  // first length 4 -> 3: lengths no longer add up
  EXPECT_NE(load_error(bad).find("add up to 6"), std::string::npos) << load_error(bad);
  EXPECT_NE(load_error(good.substr(0, good.size() - 3)), "");  // truncated
}

// ---- contexts and errors ----------------------------------------------------------------------------

TEST(PpmTrie, stale_and_foreign_contexts_are_rejected) {
  PpmTrie trie = trained(4, make_config(-1), {{0, 1, 2, 3}});
  PpmTrie::Context context = trie.root();
  trie.advance(context, 0);
  trie.add_sequence(Seq{1, 2});
  std::vector<double> p(4);
  try {
    trie.predict(context, p);
    FAIL() << "predicted from a stale context";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("stale"), std::string::npos) << e.what();
  }
  PpmTrie::Context fresh = trie.root();  // root contexts never go stale
  trie.predict(fresh, p);
  trie.advance(fresh, 1);
  EXPECT_THROW(trie.learn(fresh, 2), ConfigError);  // a reading context cannot continue a learned sequence
  PpmTrie::Context learning = trie.root();
  trie.learn(learning, 3);
  PpmTrie::Context copy = learning;
  trie.learn(learning, 2);
  EXPECT_THROW(trie.learn(copy, 1), ConfigError);  // behind the trie by one symbol
  trie.learn(learning, 1);
  trie.predict(learning, p);
  expect_proper(p);
}

TEST(PpmTrie, symbols_outside_the_alphabet_throw_naming_them) {
  PpmTrie trie(4, make_config(-1));
  try {
    trie.add_sequence(Seq{0, 4});
    FAIL() << "accepted symbol 4";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("symbol 4"), std::string::npos) << e.what();
  }
  EXPECT_EQ(trie.node_count(), 1u);  // nothing was added
  PpmTrie::Context context = trie.root();
  EXPECT_THROW(trie.advance(context, -1), ConfigError);
  EXPECT_THROW(trie.learn(context, 7), ConfigError);
  std::vector<double> wrong_size(3);
  EXPECT_THROW(trie.predict(context, wrong_size), ConfigError);
}

TEST(PpmTrie, config_and_escape_names_are_checked) {
  EXPECT_EQ(parse_escape("x"), Escape::x);
  EXPECT_EQ(parse_escape("D"), Escape::d);
  EXPECT_EQ(escape_name(Escape::b), "B");
  try {
    parse_escape("E");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'E'"), std::string::npos) << e.what();
  }
  PpmConfig bad;
  bad.order = -2;
  try {
    bad.validate();
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("order -2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(PpmTrie(0, PpmConfig{}), ConfigError);
}

TEST(PpmTrie, predicts_the_same_from_several_threads) {
  std::mt19937 rng(23);
  std::vector<Seq> melodies;
  for (int i = 0; i < 20; ++i) melodies.push_back(repetitive_sequence(rng, 6, 40));
  const PpmTrie trie = trained(6, make_config(-1, Escape::x), melodies);
  auto score = [&] {
    double bits = 0.0;
    for (const Seq& m : melodies) {
      PpmTrie::Context context = trie.root();
      std::vector<double> p(6);
      for (int s : m) {
        trie.predict(context, p);
        bits -= std::log2(p[static_cast<size_t>(s)]);
        trie.advance(context, s);
      }
    }
    return bits;
  };
  const double alone = score();
  double a = 0.0, b = 0.0;
  std::thread ta([&] { a = score(); });
  std::thread tb([&] { b = score(); });
  ta.join();
  tb.join();
  EXPECT_EQ(a, alone);
  EXPECT_EQ(b, alone);
}

}  // namespace
}  // namespace antiphon::ppm

namespace antiphon::ppm {
namespace {

TEST(PpmTrie, predicts_over_an_allowed_subset_by_hand) {
  // Order 0, escape C, exclusion: A B A C. Allowed {A, B}: counts A 2, B 1 (n 3, 2 types, w = 3/5); order -1
  // is uniform over the subset, 1 / (2 + 1 - 2 seen) = 1, weighted by the escape 2/5. A = 3/5 * 2/3 + 2/5 = 4/5,
  // B = 3/5 * 1/3 + 2/5 = 3/5, normalised by 7/5: A 4/7, B 3/7, C 0.
  PpmConfig config;
  config.order = 0;
  PpmTrie trie(3, config);
  const int seq[] = {0, 1, 0, 2};
  trie.add_sequence(seq);
  std::vector<double> out(3);
  const uint8_t allowed[] = {1, 1, 0};
  trie.predict(trie.root(), allowed, out);
  EXPECT_NEAR(out[0], 4.0 / 7.0, 1e-15);
  EXPECT_NEAR(out[1], 3.0 / 7.0, 1e-15);
  EXPECT_EQ(out[2], 0.0);
  // Everything allowed is the plain prediction.
  const uint8_t all[] = {1, 1, 1};
  std::vector<double> plain(3);
  trie.predict(trie.root(), all, out);
  trie.predict(trie.root(), plain);
  EXPECT_EQ(out, plain);
  const uint8_t none[] = {0, 0, 0};
  EXPECT_THROW(trie.predict(trie.root(), none, out), ConfigError);
  const uint8_t short_mask[] = {1, 1};
  EXPECT_THROW(trie.predict(trie.root(), short_mask, out), ConfigError);
}

}  // namespace
}  // namespace antiphon::ppm
