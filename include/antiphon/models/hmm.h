#pragma once
// Discrete hidden Markov models: N hidden states, each emitting one of V symbols (the tokens of an encoding).
//
// The algorithms work on plain parameters (HmmParams) and token sequences, without the model interface:
// the scaled forward algorithm (log-likelihood), Viterbi (most probable state path, in log space), Baum-Welch
// (EM over many sequences, with seeded random restarts), sampling, and the one-step predictive distribution.
// HmmModel wraps trained parameters as a SequenceModel; the `hmm` family (spec "hmm:states=16,restarts=3,
// iterations=100,tolerance=1e-4,prior=1e-3") trains one on the model's encoding, by default the `pitch` target
// (tokens/target.h).
//
// Logarithms are natural (nats) in this header, except SequenceModel's log2 methods.
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/models/model.h"
#include "antiphon/models/model_file.h"
#include "antiphon/models/registry.h"

namespace antiphon {

// pi, A and B as flat row-major arrays.
struct HmmParams {
  size_t states = 0;                // N
  size_t symbols = 0;               // V
  std::vector<double> initial;      // pi[i] = P(s_1 = i), size N
  std::vector<double> transitions;  // A[i * N + j] = P(s_{t+1} = j | s_t = i), size N * N
  std::vector<double> emissions;    // B[i * V + k] = P(x_t = k | s_t = i), size N * V

  double transition(size_t from, size_t to) const { return transitions[from * states + to]; }
  double emission(size_t state, size_t symbol) const { return emissions[state * symbols + symbol]; }

  // Throws ConfigError naming the first problem: N or V zero, an array of the wrong size, a value that is
  // not finite or negative, a row (pi, a row of A or of B) whose sum differs from 1 by more than tolerance.
  void validate(double tolerance = 1e-6) const;
  friend bool operator==(const HmmParams&, const HmmParams&) = default;
};

// Random parameters: every row drawn uniformly from [0.5, 1.5) per entry and normalised (all positive).
HmmParams random_hmm(size_t states, size_t symbols, uint64_t seed);

// ln P(x_1..x_T) by the forward algorithm, rescaled at every step so that long sequences do not underflow.
// 0 for an empty sequence; -infinity when the sequence is impossible under the model. Asserts every symbol
// is < params.symbols.
double hmm_log_likelihood(const HmmParams& params, std::span<const int> sequence);

struct ViterbiPath {
  std::vector<int> states;  // the most probable state sequence (ties go to the lower state)
  double log_prob = 0;      // ln P(states, sequence); -infinity when the sequence is impossible
};
// Viterbi in log space. An empty sequence gives an empty path with log_prob 0.
ViterbiPath hmm_viterbi(const HmmParams& params, std::span<const int> sequence);

struct HmmSample {
  std::vector<int> states;
  std::vector<int> symbols;
};
// Draws a state path and its symbols of the given length; the same (params, length, seed) give the same sample.
HmmSample hmm_sample(const HmmParams& params, size_t length, uint64_t seed);

// Filtering, one token at a time. `belief` is P(s_t | x_1..x_{t-1}), the state distribution before the next
// token (pi at the start); hmm_predict gives P(x_t = k | x_<t) = sum_i belief[i] B[i][k] for every k, and
// hmm_update folds in the token that came: belief'[j] = sum_i alpha[i] A[i][j], where alpha is the normalised
// forward vector alpha[i] ∝ belief[i] B[i][x_t] (scratch, size N, holds it). hmm_update returns P(x_t | x_<t)
// (0 when the token was impossible: the belief is then left unchanged).
void hmm_predict(const HmmParams& params, std::span<const double> belief, std::span<double> probs);
double hmm_update(const HmmParams& params, std::span<double> belief, int symbol, std::span<double> scratch);

struct BaumWelchOptions {
  size_t states = 16;
  int restarts = 3;         // independent runs from random starts; the best training objective is kept
  int iterations = 100;     // EM iterations per run at most
  double tolerance = 1e-4;  // stop when the objective's relative change falls below this
  // Dirichlet smoothing: a pseudo-count added to every expected count of pi, A and B in the M-step (the MAP
  // estimate under a symmetric Dirichlet prior), so no probability becomes 0. 0 gives plain maximum likelihood.
  double prior = 1e-3;
  uint64_t seed = 1;  // restart r starts from a generator seeded with a hash of (seed, r)
  // Threads for the E-step. The sequences are cut into fixed blocks whose counts are added in block order,
  // so the result is the same, bit for bit, for any thread count.
  int threads = 2;
  // Throws ConfigError naming the bad value (states 0, restarts or iterations < 1, tolerance or prior
  // negative or not finite, threads < 1).
  void validate() const;
};

struct BaumWelchRun {
  HmmParams params;
  // Per EM iteration, for the parameters it started from: the training log-likelihood (sum over the
  // sequences) and the objective that EM increases, log-likelihood + prior * sum of ln of every parameter
  // (the log-posterior up to a constant; equal to the log-likelihood when prior = 0). The objectives never
  // decrease (up to rounding); the log-likelihoods neither when prior is 0.
  std::vector<double> log_likelihoods;
  std::vector<double> objectives;
  double log_likelihood = 0;  // of the final params
  double objective = 0;       // of the final params
  int iterations = 0;         // EM updates done
  int restart = 0;            // which restart this was
};

// EM from the given starting parameters (run.restart is 0; options.states and restarts are not used).
// Throws ConfigError for bad options or a start that is not valid; asserts that every symbol is < start.symbols and
// that every sequence is possible under start (always so when its probabilities are positive). Empty sequences are
// ignored.
BaumWelchRun baum_welch_from(HmmParams start, const std::vector<std::vector<int>>& sequences,
                             const BaumWelchOptions& options);
// options.restarts runs, each from rows drawn from the flat Dirichlet (the emission rows weighted by the
// symbols' overall frequencies), seeded from options.seed and the restart's number; returns the run with the highest
// final objective (the first on ties). Throws ConfigError for bad options, symbols 0, or a symbol >= symbols (naming
// the sequence and position).
BaumWelchRun baum_welch(const std::vector<std::vector<int>>& sequences, size_t symbols, const BaumWelchOptions& options,
                        const LogFn& log = {});

// What the `hmm` family trained with and reached (kept in the model file).
struct HmmTraining {
  BaumWelchOptions options;
  double log_likelihood = 0;  // final training log-likelihood (nats)
  int iterations = 0;         // EM iterations of the kept run
};

// A trained HMM as a SequenceModel. Its state holds the belief over the next hidden state; predict() is
// hmm_predict, so every distribution is positive when every emission probability is (the prior sees to it).
class HmmModel : public SequenceModel {
 public:
  // Throws ConfigError unless params are valid (HmmParams::validate), params.symbols is the encoding's
  // vocabulary size and every emission probability is positive.
  HmmModel(HmmParams params, std::shared_ptr<const Encoding> encoding, ModelInfo info, HmmTraining training);

  std::unique_ptr<ModelState> start(const Melody* source = nullptr) const override;
  void predict(const ModelState& state, std::span<double> probs) const override;
  std::vector<double> token_log2_probs(std::span<const int> tokens, const Melody* source = nullptr) const override;
  // states, restarts, iterations, tolerance, prior, seed, log_likelihood, iterations_used.
  std::vector<std::pair<std::string, std::string>> config() const override;
  void save_payload(ModelWriter& out) const override;

  const HmmParams& params() const { return params_; }
  const HmmTraining& training() const { return training_; }

 protected:
  void advance_state(ModelState& state, int token) const override;

 private:
  HmmParams params_;
  HmmTraining training_;
  std::vector<double> emission_sums_;  // per state, sum of its emission row (1 up to rounding)
};

// The `hmm` family (train and load), for registering with add_model_family. Options: states (1..1024, default
// 16), restarts (default 3), iterations (default 100), tolerance (default 1e-4), prior (> 0, default 1e-3);
// the random starts come from TrainingData::seed. The default encoding is training_encoding(data).
ModelFamily hmm_family();

}  // namespace antiphon
