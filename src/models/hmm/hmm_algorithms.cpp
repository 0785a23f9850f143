// Forward, Viterbi, sampling, filtering and Baum-Welch for discrete HMMs (antiphon/models/hmm.h).
//
// Conventions (Rabiner 1989, with scaling): the forward vector is normalised at every step,
//   alpha_t(j) = [sum_i alpha_{t-1}(i) A(i,j)] B(j, x_t) / c_t   (alpha_1(j) = pi(j) B(j, x_1) / c_1),
// so that c_t = P(x_t | x_<t) and ln P(x) = sum_t ln c_t. The backward vector uses the same scales,
//   beta_T = 1,  beta_t(i) = sum_j A(i,j) B(j, x_{t+1}) beta_{t+1}(j) / c_{t+1},
// which makes gamma_t(i) = alpha_t(i) beta_t(i) the state posterior and
//   xi_t(i,j) = alpha_t(i) A(i,j) B(j, x_{t+1}) beta_{t+1}(j) / c_{t+1}.
#include <algorithm>
#include <atomic>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <thread>

#include "antiphon/models/hmm.h"
#include "models/hmm/hmm_internal.h"

namespace antiphon {

std::string hmm_detail::number(double v) {
  // Plain decimals read better ("0.0001", not "1e-04"); exponents only where they would run long.
  char buf[32];
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (fixed.ec == std::errc() && fixed.ptr - buf <= 20) return std::string(buf, fixed.ptr);
  auto shortest = std::to_chars(buf, buf + sizeof buf, v);
  return shortest.ec == std::errc() ? std::string(buf, shortest.ptr) : std::to_string(v);
}

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// A block of training sequences closes once it holds this many tokens. Blocks are the unit of parallel work
// and their counts are summed in block order, so the split depends on the data alone, not on the threads.
constexpr size_t kBlockTokens = 2048;

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from the top 53 bits (the same on every platform, unlike std::uniform_real_distribution).
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

// Index drawn from the weights (which need not sum to 1 exactly); never returns a zero-weight index.
size_t draw(std::span<const double> weights, std::mt19937_64& rng) {
  double total = 0;
  for (double w : weights) total += w;
  double u = uniform01(rng) * total;
  size_t last = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] <= 0) continue;
    last = i;
    if (u < weights[i]) return i;
    u -= weights[i];
  }
  return last;  // rounding left u at or just above the last weight
}

void normalise(std::span<double> row) {
  double sum = 0;
  for (double v : row) sum += v;
  for (double& v : row) v /= sum;
}

using hmm_detail::number;

void check_row(const char* name, size_t row, std::span<const double> values, double tolerance) {
  double sum = 0;
  for (size_t k = 0; k < values.size(); ++k) {
    double v = values[k];
    if (!std::isfinite(v) || v < 0)
      throw ConfigError(std::string("hmm: ") + name + " row " + std::to_string(row) + " entry " + std::to_string(k) +
                        " is " + number(v) + " (not a probability)");
    sum += v;
  }
  if (!(std::abs(sum - 1) <= tolerance))
    throw ConfigError(std::string("hmm: ") + name + " row " + std::to_string(row) + " sums to " + number(sum) +
                      ", not 1");
}

// Per-block expected counts. Emission counts are stored transposed (symbol-major) like the E-step reads B.
struct Counts {
  std::vector<double> initial;      // N: gamma_1
  std::vector<double> transitions;  // N*N: sum_t alpha_t(i) w_{t+1}(j) (times A(i,j) after summing blocks)
  std::vector<double> emissions;    // V*N: sum over t with x_t = k of gamma_t(i), at [k * N + i]
  double log_likelihood = 0;

  Counts(size_t n, size_t v) : initial(n), transitions(n * n), emissions(v * n) {}
  void clear() {
    std::fill(initial.begin(), initial.end(), 0.0);
    std::fill(transitions.begin(), transitions.end(), 0.0);
    std::fill(emissions.begin(), emissions.end(), 0.0);
    log_likelihood = 0;
  }
};

// Working memory of one E-step thread, sized once for the longest sequence.
struct Scratch {
  std::vector<double> alpha;  // T*N
  std::vector<double> scale;  // T
  std::vector<double> beta;   // N
  std::vector<double> next;   // N
  std::vector<double> w;      // N

  Scratch(size_t n, size_t longest) : alpha(n * longest), scale(longest), beta(n), next(n), w(n) {}
};

// Adds one sequence's expected counts. `emission_t` is B transposed: emission_t[k * N + i] = B(i, k).
void expect(const HmmParams& p, std::span<const double> emission_t, std::span<const int> x, Scratch& s,
            Counts& counts) {
  const size_t n = p.states;
  const size_t len = x.size();
  const double* a = p.transitions.data();
  double* alpha = s.alpha.data();

  // Forward.
  for (size_t t = 0; t < len; ++t) {
    double* cur = alpha + t * n;
    const double* b = emission_t.data() + static_cast<size_t>(x[t]) * n;
    if (t == 0) {
      for (size_t j = 0; j < n; ++j) cur[j] = p.initial[j] * b[j];
    } else {
      const double* prev = cur - n;
      std::fill(cur, cur + n, 0.0);
      for (size_t i = 0; i < n; ++i) {
        const double ai = prev[i];
        const double* row = a + i * n;
        for (size_t j = 0; j < n; ++j) cur[j] += ai * row[j];
      }
      for (size_t j = 0; j < n; ++j) cur[j] *= b[j];
    }
    double c = 0;
    for (size_t j = 0; j < n; ++j) c += cur[j];
    // EM never makes a sequence impossible once it is possible; baum_welch_from's precondition.
    assert(c > 0 && "a training sequence is impossible under the starting parameters");
    const double inv = 1.0 / c;
    for (size_t j = 0; j < n; ++j) cur[j] *= inv;
    s.scale[t] = c;
    counts.log_likelihood += std::log(c);
  }

  // Backward, accumulating gamma and the outer products behind xi as it goes.
  double* beta = s.beta.data();
  std::fill(beta, beta + n, 1.0);
  for (size_t t = len; t-- > 0;) {
    const double* cur = alpha + t * n;
    double* e = counts.emissions.data() + static_cast<size_t>(x[t]) * n;
    for (size_t i = 0; i < n; ++i) e[i] += cur[i] * beta[i];
    if (t == 0) {
      for (size_t i = 0; i < n; ++i) counts.initial[i] += cur[i] * beta[i];
      break;
    }
    const double* b = emission_t.data() + static_cast<size_t>(x[t]) * n;
    const double inv = 1.0 / s.scale[t];
    double* w = s.w.data();
    for (size_t j = 0; j < n; ++j) w[j] = b[j] * beta[j] * inv;
    const double* prev = cur - n;
    for (size_t i = 0; i < n; ++i) {
      const double ai = prev[i];
      double* acc = counts.transitions.data() + i * n;
      const double* row = a + i * n;
      double dot = 0;
      for (size_t j = 0; j < n; ++j) {
        acc[j] += ai * w[j];
        dot += row[j] * w[j];
      }
      s.next[i] = dot;
    }
    std::copy(s.next.begin(), s.next.end(), beta);
  }
}

// The data cut into blocks of consecutive non-empty sequences.
struct Blocks {
  std::vector<std::span<const int>> sequences;
  std::vector<size_t> starts;  // block b holds sequences[starts[b] .. starts[b+1])
  size_t longest = 0;

  explicit Blocks(const std::vector<std::vector<int>>& data) {
    size_t tokens = kBlockTokens;
    for (const auto& seq : data) {
      if (seq.empty()) continue;
      if (tokens >= kBlockTokens) {
        starts.push_back(sequences.size());
        tokens = 0;
      }
      sequences.emplace_back(seq);
      tokens += seq.size();
      longest = std::max(longest, seq.size());
    }
    starts.push_back(sequences.size());
  }
  size_t count() const { return starts.size() - 1; }
};

double log_prior(const HmmParams& p, double prior) {
  if (prior == 0) return 0;
  double sum = 0;
  for (double v : p.initial) sum += std::log(v);
  for (double v : p.transitions) sum += std::log(v);
  for (double v : p.emissions) sum += std::log(v);
  return prior * sum;
}

// One E-step over every block on `threads` threads; returns the counts summed in block order in total.
void expect_all(const HmmParams& p, const Blocks& blocks, int threads, std::vector<Counts>& per_block,
                std::vector<Scratch>& scratch, Counts& total) {
  const size_t n = p.states, v = p.symbols;
  std::vector<double> emission_t(v * n);
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < v; ++k) emission_t[k * n + i] = p.emissions[i * v + k];

  std::atomic<size_t> next_block{0};
  auto work = [&](size_t worker) {
    for (size_t b = next_block++; b < blocks.count(); b = next_block++) {
      Counts& c = per_block[b];
      c.clear();
      for (size_t s = blocks.starts[b]; s < blocks.starts[b + 1]; ++s)
        expect(p, emission_t, blocks.sequences[s], scratch[worker], c);
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < scratch.size() && t < static_cast<size_t>(threads); ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();

  total.clear();
  for (const Counts& c : per_block) {
    for (size_t i = 0; i < c.initial.size(); ++i) total.initial[i] += c.initial[i];
    for (size_t i = 0; i < c.transitions.size(); ++i) total.transitions[i] += c.transitions[i];
    for (size_t i = 0; i < c.emissions.size(); ++i) total.emissions[i] += c.emissions[i];
    total.log_likelihood += c.log_likelihood;
  }
}

// The M-step: expected counts plus the prior's pseudo-count, normalised per row. A row without counts (a
// state never visited, possible only when prior is 0) keeps its previous values.
void maximise(HmmParams& p, const Counts& c, double prior) {
  const size_t n = p.states, v = p.symbols;
  {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += c.initial[i] + prior;
    if (sum > 0)
      for (size_t i = 0; i < n; ++i) p.initial[i] = (c.initial[i] + prior) / sum;
  }
  for (size_t i = 0; i < n; ++i) {
    double* row = p.transitions.data() + i * n;
    const double* acc = c.transitions.data() + i * n;
    double sum = 0;
    for (size_t j = 0; j < n; ++j) sum += row[j] * acc[j] + prior;
    if (sum <= 0) continue;
    for (size_t j = 0; j < n; ++j) row[j] = (row[j] * acc[j] + prior) / sum;
  }
  for (size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (size_t k = 0; k < v; ++k) sum += c.emissions[k * n + i] + prior;
    if (sum <= 0) continue;
    double* row = p.emissions.data() + i * v;
    for (size_t k = 0; k < v; ++k) row[k] = (c.emissions[k * n + i] + prior) / sum;
  }
}

// A restart's starting point: every row a draw from the flat Dirichlet (independent exponential weights,
// normalised), and for the emissions those weights times the symbols' overall frequencies. Rows far enough
// apart matter: from nearly equal states EM's first steps barely move the likelihood and the tolerance
// test would stop it on that plateau.
HmmParams random_start(size_t states, std::span<const double> frequency, uint64_t seed) {
  const size_t symbols = frequency.size();
  std::mt19937_64 rng(seed);
  HmmParams p{states, symbols, std::vector<double>(states), std::vector<double>(states * states),
              std::vector<double>(states * symbols)};
  auto fill = [&](std::span<double> row, std::span<const double> scale) {
    for (size_t k = 0; k < row.size(); ++k) row[k] = -std::log1p(-uniform01(rng)) * (scale.empty() ? 1.0 : scale[k]);
    normalise(row);
  };
  fill(p.initial, {});
  for (size_t i = 0; i < states; ++i) fill(std::span(p.transitions).subspan(i * states, states), {});
  for (size_t i = 0; i < states; ++i) fill(std::span(p.emissions).subspan(i * symbols, symbols), frequency);
  return p;
}

}  // namespace

void HmmParams::validate(double tolerance) const {
  if (states == 0) throw ConfigError("hmm: 0 states");
  if (symbols == 0) throw ConfigError("hmm: 0 symbols");
  auto size = [](const char* name, size_t got, size_t want) {
    if (got != want)
      throw ConfigError(std::string("hmm: ") + name + " has " + std::to_string(got) + " values, expected " +
                        std::to_string(want));
  };
  size("initial", initial.size(), states);
  size("transitions", transitions.size(), states * states);
  size("emissions", emissions.size(), states * symbols);
  check_row("initial", 0, initial, tolerance);
  for (size_t i = 0; i < states; ++i)
    check_row("transitions", i, std::span(transitions).subspan(i * states, states), tolerance);
  for (size_t i = 0; i < states; ++i)
    check_row("emissions", i, std::span(emissions).subspan(i * symbols, symbols), tolerance);
}

HmmParams random_hmm(size_t states, size_t symbols, uint64_t seed) {
  assert(states > 0 && symbols > 0);
  std::mt19937_64 rng(seed);
  HmmParams p{states, symbols, std::vector<double>(states), std::vector<double>(states * states),
              std::vector<double>(states * symbols)};
  auto fill = [&](std::span<double> row) {
    for (double& v : row) v = 0.5 + uniform01(rng);
    normalise(row);
  };
  fill(p.initial);
  for (size_t i = 0; i < states; ++i) fill(std::span(p.transitions).subspan(i * states, states));
  for (size_t i = 0; i < states; ++i) fill(std::span(p.emissions).subspan(i * symbols, symbols));
  return p;
}

double hmm_log_likelihood(const HmmParams& p, std::span<const int> sequence) {
  std::vector<double> belief(p.initial), scratch(p.states);
  double ll = 0;
  for (int x : sequence) {
    const double c = hmm_update(p, belief, x, scratch);
    if (c <= 0) return kNegInf;
    ll += std::log(c);
  }
  return ll;
}

void hmm_predict(const HmmParams& p, std::span<const double> belief, std::span<double> probs) {
  assert(belief.size() == p.states && probs.size() == p.symbols);
  std::fill(probs.begin(), probs.end(), 0.0);
  for (size_t i = 0; i < p.states; ++i) {
    const double bi = belief[i];
    if (bi == 0) continue;
    const double* row = p.emissions.data() + i * p.symbols;
    for (size_t k = 0; k < p.symbols; ++k) probs[k] += bi * row[k];
  }
}

double hmm_update(const HmmParams& p, std::span<double> belief, int symbol, std::span<double> scratch) {
  const size_t n = p.states;
  assert(belief.size() == n && scratch.size() == n);
  assert(symbol >= 0 && static_cast<size_t>(symbol) < p.symbols);
  double c = 0;
  for (size_t i = 0; i < n; ++i) {
    scratch[i] = belief[i] * p.emissions[i * p.symbols + static_cast<size_t>(symbol)];
    c += scratch[i];
  }
  if (c <= 0) return 0;
  std::fill(belief.begin(), belief.end(), 0.0);
  for (size_t i = 0; i < n; ++i) {
    const double ai = scratch[i] / c;
    const double* row = p.transitions.data() + i * n;
    for (size_t j = 0; j < n; ++j) belief[j] += ai * row[j];
  }
  // Rows of A sum to 1 only up to rounding (or a loader's tolerance); keep the belief a distribution.
  normalise(belief);
  return c;
}

ViterbiPath hmm_viterbi(const HmmParams& p, std::span<const int> sequence) {
  const size_t n = p.states, v = p.symbols, len = sequence.size();
  ViterbiPath out;
  if (len == 0) return out;
  auto ln = [](double x) { return x > 0 ? std::log(x) : kNegInf; };
  std::vector<double> log_a(n * n), log_b(n * v);
  for (size_t i = 0; i < n * n; ++i) log_a[i] = ln(p.transitions[i]);
  for (size_t i = 0; i < n * v; ++i) log_b[i] = ln(p.emissions[i]);

  std::vector<double> delta(n), next(n);
  std::vector<int> back(len * n, 0);  // back[t * n + j]: best predecessor of state j at step t
  for (int x : sequence) assert(x >= 0 && static_cast<size_t>(x) < v);
  for (size_t j = 0; j < n; ++j) delta[j] = ln(p.initial[j]) + log_b[j * v + static_cast<size_t>(sequence[0])];
  for (size_t t = 1; t < len; ++t) {
    const size_t x = static_cast<size_t>(sequence[t]);
    for (size_t j = 0; j < n; ++j) {
      double best = delta[0] + log_a[j];
      int arg = 0;
      for (size_t i = 1; i < n; ++i) {
        const double s = delta[i] + log_a[i * n + j];
        if (s > best) {
          best = s;
          arg = static_cast<int>(i);
        }
      }
      next[j] = best + log_b[j * v + x];
      back[t * n + j] = arg;
    }
    delta.swap(next);
  }
  size_t last = 0;
  for (size_t j = 1; j < n; ++j)
    if (delta[j] > delta[last]) last = j;
  out.log_prob = delta[last];
  out.states.resize(len);
  out.states[len - 1] = static_cast<int>(last);
  for (size_t t = len - 1; t > 0; --t) out.states[t - 1] = back[t * n + static_cast<size_t>(out.states[t])];
  return out;
}

HmmSample hmm_sample(const HmmParams& p, size_t length, uint64_t seed) {
  std::mt19937_64 rng(seed);
  HmmSample out;
  out.states.reserve(length);
  out.symbols.reserve(length);
  size_t s = 0;
  for (size_t t = 0; t < length; ++t) {
    s = t == 0 ? draw(p.initial, rng) : draw(std::span(p.transitions).subspan(s * p.states, p.states), rng);
    out.states.push_back(static_cast<int>(s));
    out.symbols.push_back(static_cast<int>(draw(std::span(p.emissions).subspan(s * p.symbols, p.symbols), rng)));
  }
  return out;
}

void BaumWelchOptions::validate() const {
  if (states == 0) throw ConfigError("hmm: states=0 (need at least 1)");
  if (restarts < 1) throw ConfigError("hmm: restarts=" + std::to_string(restarts) + " (need at least 1)");
  if (iterations < 1) throw ConfigError("hmm: iterations=" + std::to_string(iterations) + " (need at least 1)");
  if (!std::isfinite(tolerance) || tolerance < 0)
    throw ConfigError("hmm: tolerance=" + number(tolerance) + " is not a non-negative number");
  if (!std::isfinite(prior) || prior < 0)
    throw ConfigError("hmm: prior=" + number(prior) + " is not a non-negative number");
  if (threads < 1) throw ConfigError("hmm: threads=" + std::to_string(threads) + " (need at least 1)");
}

BaumWelchRun baum_welch_from(HmmParams start, const std::vector<std::vector<int>>& sequences,
                             const BaumWelchOptions& options) {
  options.validate();
  start.validate();
  for (const auto& seq : sequences)
    for (int x : seq) assert(x >= 0 && static_cast<size_t>(x) < start.symbols);
  const size_t n = start.states, v = start.symbols;
  const Blocks blocks(sequences);
  const int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(blocks.count())));
  std::vector<Counts> per_block(blocks.count(), Counts(n, v));
  std::vector<Scratch> scratch(static_cast<size_t>(threads), Scratch(n, blocks.longest));
  Counts total(n, v);

  BaumWelchRun run;
  run.params = std::move(start);
  for (int it = 0;; ++it) {
    expect_all(run.params, blocks, threads, per_block, scratch, total);
    const double ll = total.log_likelihood;
    const double objective = ll + log_prior(run.params, options.prior);
    run.log_likelihoods.push_back(ll);
    run.objectives.push_back(objective);
    run.log_likelihood = ll;
    run.objective = objective;
    if (it > 0) {
      const double prev = run.objectives[run.objectives.size() - 2];
      if (std::isfinite(prev) && std::abs(objective - prev) <= options.tolerance * std::abs(prev)) break;
    }
    if (it == options.iterations) break;
    // The transition counts still lack their factor A(i,j), which maximise() applies.
    maximise(run.params, total, options.prior);
    run.iterations = it + 1;
  }
  return run;
}

BaumWelchRun baum_welch(const std::vector<std::vector<int>>& sequences, size_t symbols, const BaumWelchOptions& options,
                        const LogFn& log) {
  options.validate();
  if (symbols == 0) throw ConfigError("hmm: 0 symbols");
  // Overall symbol counts, add-one smoothed, centre the random emission rows: states start near the unigram
  // distribution and EM pulls them apart, instead of first spending iterations on finding the frequencies.
  std::vector<double> frequency(symbols, 1.0);
  for (size_t s = 0; s < sequences.size(); ++s)
    for (size_t t = 0; t < sequences[s].size(); ++t) {
      const int x = sequences[s][t];
      if (x < 0 || static_cast<size_t>(x) >= symbols)
        throw ConfigError("hmm: sequence " + std::to_string(s) + ", position " + std::to_string(t) + ": symbol " +
                          std::to_string(x) + " is outside 0.." + std::to_string(symbols - 1));
      frequency[static_cast<size_t>(x)] += 1;
    }

  BaumWelchRun best;
  for (int r = 0; r < options.restarts; ++r) {
    const uint64_t seed = splitmix64(options.seed ^ splitmix64(static_cast<uint64_t>(r)));
    HmmParams start = random_start(options.states, frequency, seed);
    BaumWelchRun run = baum_welch_from(std::move(start), sequences, options);
    run.restart = r;
    if (log)
      log(LogLevel::info, "hmm: restart " + std::to_string(r + 1) + "/" + std::to_string(options.restarts) +
                              ": log-likelihood " + number(run.log_likelihood) + " after " +
                              std::to_string(run.iterations) + " iterations");
    if (r == 0 || run.objective > best.objective) best = std::move(run);
  }
  return best;
}

}  // namespace antiphon
