#pragma once
// Markov chains (n-gram models) over the tokens of any encoding: the families "markov" (fixed order k with
// additive, Witten-Bell or Kneser-Ney smoothing) and "mixed" (orders 0..k mixed with weights fitted on
// held-out data by EM, Jelinek-Mercer deleted interpolation).
//
// Both read the context as the actual history: at the start of a melody the context is the shorter history
// with a begin-of-melody symbol in front, so the first token has its own distribution and no context reaches
// across melodies. When the encoding has an end symbol, the training sequences include it (encode() appends
// it) and the models predict it like any token. Every distribution sums to 1 and gives every token more than 0.
//
// Spec options (the encoding is TrainingData::encoding, by default the `pitch` target of the melodies):
//   markov:order=2,smoothing=kneser-ney
//     order      0..16 (default 2)
//     smoothing  additive | witten-bell | kneser-ney (default kneser-ney: the best measured at every order
//                from 2, see below)
//     alpha      additive only: the constant added to every count (default 1, > 0)
//     discount   kneser-ney only: `modified` (default: D1, D2, D3+ per order from the counts of counts, Chen &
//                Goodman), `plain` (one D = n1 / (n1 + 2 n2) per order) or a number in (0, 1] for every order
//   mixed:order=3,heldout=0.1
//     order      0..16 (default 3)
//     heldout    fraction of the melodies held out to fit the weights (default 0.1, at most 0.5); 0, or a
//                single melody to learn from, fits on leave-one-out estimates of the training tokens instead
//     buckets    count classes of the longest seen context, one weight vector each (default 1, at most 8)
//     iterations EM iterations at most (default 200); tolerance: stop when the held-out bits per token
//                improve by less (default 1e-7)
//     weights    the weight vectors themselves, skipping EM (what config() reports; see MixedMarkovModel)
//
// Measured on essen/europa/deutschl/fink (566 melodies, pitch target over its 37 pitches), 10-fold
// cross-validation by melody, bits per note averaged per melody, orders 1 / 2 / 3 / 4:
//   additive alpha=1     3.205 / 3.181 / 3.701 / 4.360
//   additive alpha=0.1   3.191 / 3.028 / 3.325 / 3.922
//   witten-bell          3.196 / 2.986 / 3.052 / 3.260
//   kneser-ney plain     3.192 / 2.979 / 3.029 / 3.130
//   kneser-ney modified  3.196 / 2.966 / 2.934 / 2.969
//   mixed (heldout=0.1)  3.196 / 2.981 / 2.921 / 2.900   (order 5: 2.890)
// For comparison, an IDyOM-style PPM* (escape C, interpolated) gives 2.942 on the same corpus.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "antiphon/models/model.h"
#include "antiphon/models/model_file.h"

namespace antiphon {

namespace markov_detail {
class NgramCounts;
}

enum class Smoothing { additive, witten_bell, kneser_ney };
std::string smoothing_name(Smoothing smoothing);  // "additive", "witten-bell", "kneser-ney"

enum class DiscountKind { modified, plain, fixed };

struct MarkovConfig {
  int order = 2;
  Smoothing smoothing = Smoothing::kneser_ney;
  double alpha = 1.0;                                   // additive
  DiscountKind discount_kind = DiscountKind::modified;  // kneser-ney
  double discount = 0.75;                               // kneser-ney with DiscountKind::fixed
  // Throws ConfigError naming the value: order outside 0..16, alpha <= 0, a fixed discount outside (0, 1].
  void validate() const;
};

// P(w | h) for the context h of the last `order` symbols. Additive: (c(h, w) + alpha) / (c(h) + alpha V),
// uniform for a context never seen. Witten-Bell: (c(h, w) + T(h) P(w | h')) / (c(h) + T(h)), T(h) the number
// of distinct tokens seen after h and h' the context without its oldest symbol, down to order 0 and then the
// uniform distribution. Kneser-Ney (interpolated): (c'(h, w) - D(c')) / c'(h) + gamma(h) P(w | h'), where c'
// is the raw count at the highest order and for contexts starting a melody, and the continuation count
// N1+(. h w) (distinct older symbols) below, recursive down to the uniform distribution.
class MarkovModel final : public SequenceModel {
 public:
  // Counts the sequences (tokens of `encoding`); `info` is stored as given. Asserts the sequences hold at
  // least one token; families check that with a ConfigError first.
  static std::shared_ptr<const MarkovModel> train(const MarkovConfig& config, std::shared_ptr<const Encoding> encoding,
                                                  const std::vector<std::vector<int>>& sequences, ModelInfo info);
  // The family's loader: reads what save_payload wrote. Throws ModelFileError.
  static std::shared_ptr<const MarkovModel> load(const ModelHeader& header, std::shared_ptr<const Encoding> encoding,
                                                 ModelReader& reader);
  ~MarkovModel() override;

  std::unique_ptr<ModelState> start(const Melody* source = nullptr) const override;
  void predict(const ModelState& state, std::span<double> probs) const override;
  std::optional<std::string> state_key(const ModelState& state) const override;  // the last `order` tokens
  std::optional<std::string> next_state_key(const ModelState& state, int token) const override;
  std::vector<double> token_log2_probs(std::span<const int> tokens, const Melody* source = nullptr) const override;
  // order, smoothing, alpha (additive) or discount (kneser-ney), and for kneser-ney the discounts found,
  // discounts=D1+D2+D3/D1+D2+D3/... (order 0 first).
  std::vector<std::pair<std::string, std::string>> config() const override;
  void save_payload(ModelWriter& out) const override;

  const MarkovConfig& markov_config() const { return config_; }
  // The symbol that marks the start of a melody in a context (vocab_size()).
  int begin_symbol() const { return static_cast<int>(vocab_size()); }
  // Raw training counts for a context given oldest first (at most `order` symbols; it may start with
  // begin_symbol()): c(context, token) and c(context) = how often any token followed it.
  uint64_t count(std::span<const int> context, int token) const;
  uint64_t context_count(std::span<const int> context) const;
  // The unsmoothed estimate c(context, token) / c(context); nullopt for a context never seen.
  std::optional<double> maximum_likelihood(std::span<const int> context, int token) const;
  // Kneser-Ney: the discounts {D1, D2, D3+} used at this order (0..order); all equal unless modified.
  std::array<double, 3> discounts(int order) const;
  size_t stored_contexts() const;  // distinct contexts counted (the empty one included)

 protected:
  void advance_state(ModelState& state, int token) const override;

 private:
  MarkovModel(MarkovConfig config, std::shared_ptr<const Encoding> encoding, ModelInfo info,
              std::unique_ptr<markov_detail::NgramCounts> counts);
  void prepare();  // the per-node and per-entry terms of the smoothing
  // P(token | context) along a chain of context nodes (chain[j] = node of the last j symbols).
  double probability(std::span<const int32_t> chain, size_t context_length, int token) const;

  MarkovConfig config_;
  std::unique_ptr<markov_detail::NgramCounts> counts_;
  // P(w | h) = entry_weight_[(h, w)] (0 without an entry) + node_lower_[h] * P(w | lower); for additive
  // smoothing only the full context takes part.
  std::vector<double> entry_weight_;
  std::vector<double> node_lower_;
  std::vector<std::array<double, 3>> discounts_;  // per order (kneser-ney)
};

// One weight vector of the mixed model: the weights of the uniform distribution (first) and of the
// maximum-likelihood estimates of orders 0..longest_order, used where the longest context seen in training
// has that order and its count falls in count_class (counts 1, 2-3, 4-7, ... doubling, the last class open).
struct MixedWeights {
  int longest_order = 0;
  int count_class = 0;
  std::vector<double> weights;  // longest_order + 2 values summing to 1, the uniform one > 0
  size_t fitted_tokens = 0;     // held-out tokens that fitted them (0: given, or copied from a neighbour)
};

struct MixedMarkovConfig {
  int order = 3;
  double heldout = 0.1;  // 0: leave-one-out estimates on the training data itself
  int buckets = 1;       // count classes per longest order
  int iterations = 200;
  double tolerance = 1e-7;  // bits per held-out token
  // Given weights (every bucket, in the order weight_buckets() lists them) skip EM.
  std::vector<std::vector<double>> weights;
  // Throws ConfigError naming the value.
  void validate() const;
};

// P(w | h) = sum_c lambda_c P_c(w | h) over the uniform distribution and the maximum-likelihood estimates of
// orders 0..m, m the longest order whose context occurred in training, with one weight vector per
// (m, count class of that context). The weights are fitted by EM on held-out melodies (a seeded split;
// the counts come from the rest) or on leave-one-out estimates, then the counts are redone on every melody.
// A bucket no held-out token fell in takes the weights of the nearest count class of its order, else those of
// the order below (0 for the order it lacks). The uniform weight is kept at 1e-12 or more.
class MixedMarkovModel final : public SequenceModel {
 public:
  // Fits and counts; `seed` picks the held-out melodies. Logs the fitted weights through `log` (may be empty).
  static std::shared_ptr<const MixedMarkovModel> train(const MixedMarkovConfig& config,
                                                       std::shared_ptr<const Encoding> encoding,
                                                       const std::vector<std::vector<int>>& sequences, uint64_t seed,
                                                       ModelInfo info, const LogFn& log = {});
  static std::shared_ptr<const MixedMarkovModel> load(const ModelHeader& header,
                                                      std::shared_ptr<const Encoding> encoding, ModelReader& reader);
  ~MixedMarkovModel() override;

  std::unique_ptr<ModelState> start(const Melody* source = nullptr) const override;
  void predict(const ModelState& state, std::span<double> probs) const override;
  std::optional<std::string> state_key(const ModelState& state) const override;  // the last `order` tokens
  std::optional<std::string> next_state_key(const ModelState& state, int token) const override;
  std::vector<double> token_log2_probs(std::span<const int> tokens, const Melody* source = nullptr) const override;
  // order, heldout, buckets, iterations, tolerance, the fitted weights, weights=u+w0+w1/u+w0+w1+w2/... (the
  // buckets separated by '/', longest order 0 first, count classes within; info().spec plus this option
  // rebuilds the same model), and `fit`, how they were found ("EM on 57 held-out melodies (3310 tokens),
  // 200 iterations, 2.9512 bits per token").
  std::vector<std::pair<std::string, std::string>> config() const override;
  void save_payload(ModelWriter& out) const override;

  const MixedMarkovConfig& mixed_config() const { return config_; }
  const std::vector<MixedWeights>& weights() const { return weights_; }
  // The held-out log2-likelihood (bits, summed over the held-out tokens) before the first EM iteration and
  // after each; EM never lowers it. Empty for given weights and after loading.
  const std::vector<double>& em_log2_likelihood() const { return em_trace_; }
  // The (longest order, count class) pairs in weight order for this order and bucket count.
  static std::vector<std::pair<int, int>> weight_buckets(int order, int buckets);

 protected:
  void advance_state(ModelState& state, int token) const override;

 private:
  MixedMarkovModel(MixedMarkovConfig config, std::shared_ptr<const Encoding> encoding, ModelInfo info,
                   std::unique_ptr<markov_detail::NgramCounts> counts, std::vector<MixedWeights> weights);
  const MixedWeights& bucket(std::span<const int32_t> chain) const;
  double probability(std::span<const int32_t> chain, int token) const;

  MixedMarkovConfig config_;
  std::unique_ptr<markov_detail::NgramCounts> counts_;
  std::vector<MixedWeights> weights_;
  std::vector<double> em_trace_;
  std::string fit_;
};

}  // namespace antiphon
