#include "antiphon/generate/sampler.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>
#include <numeric>

#include "antiphon/core/error.h"

namespace antiphon {
namespace {

// The shortest text that reads back as the same double: 0.8, 2.5, -1, 1e-05.
std::string number_text(double x) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

// Indices of the candidates from the most probable down, ties by token id (lower first).
std::vector<size_t> by_probability(const std::vector<Candidate>& c) {
  std::vector<size_t> order(c.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (c[a].prob != c[b].prob) return c[a].prob > c[b].prob;
    return c[a].token < c[b].token;
  });
  return order;
}

// Keeps the candidates whose flag is set, in their original order, and renormalises.
void keep_flagged(std::vector<Candidate>& c, const std::vector<bool>& keep) {
  size_t out = 0;
  for (size_t i = 0; i < c.size(); ++i)
    if (keep[i]) c[out++] = c[i];
  c.resize(out);
  normalize(c);
}

// The most probable candidate alone (ties: the lowest token id), with probability 1.
void keep_greedy(std::vector<Candidate>& c) {
  size_t best = 0;
  for (size_t i = 1; i < c.size(); ++i)
    if (c[i].prob > c[best].prob || (c[i].prob == c[best].prob && c[i].token < c[best].token)) best = i;
  c = {Candidate{c[best].token, 1.0}};
}

// The candidates tempered with inverse temperature beta, in log space so that neither a tiny temperature
// nor a tiny probability underflows to 0/0: p_i^beta / sum_j p_j^beta = exp(beta (log p_i - log p_max)) / Z.
struct Tempered {
  std::vector<double> log_prob;  // log p_i - log p_max (<= 0)
  explicit Tempered(const std::vector<Candidate>& c) {
    double max_log = -std::numeric_limits<double>::infinity();
    log_prob.reserve(c.size());
    for (const Candidate& x : c) log_prob.push_back(std::log(x.prob));
    for (double l : log_prob) max_log = std::max(max_log, l);
    for (double& l : log_prob) l -= max_log;
  }
  // Writes the tempered probabilities into `c` (same order) and returns their entropy in bits.
  double apply(std::vector<Candidate>& c, double beta) const {
    double z = 0;
    for (size_t i = 0; i < c.size(); ++i) z += (c[i].prob = std::exp(beta * log_prob[i]));
    // z >= 1: the most probable candidate contributes exp(0). -log2 p_i = (log z - beta log_prob_i) / ln 2.
    const double log_z = std::log(z);
    double h = 0;
    for (size_t i = 0; i < c.size(); ++i) {
      c[i].prob /= z;
      if (c[i].prob > 0) h += c[i].prob * (log_z - beta * log_prob[i]);
    }
    return h / std::log(2.0);
  }
};

class TemperatureSampler : public Sampler {
 public:
  explicit TemperatureSampler(double t) : t_(t) {}
  void apply(std::vector<Candidate>& c) const override {
    normalize(c);
    if (t_ == 0) return keep_greedy(c);
    if (t_ == 1) return;
    Tempered(c).apply(c, 1.0 / t_);
    normalize(c);  // drops candidates that underflowed to 0 at a low temperature
  }
  std::string describe() const override { return "temperature=" + number_text(t_); }

 private:
  double t_;
};

// Top-k and top-p choose by probability (ties: lower token id first) but leave the kept candidates in the
// order they came in, so a draw from the result depends only on the input order and the seed.
class TopKSampler : public Sampler {
 public:
  explicit TopKSampler(int k) : k_(k) {}
  void apply(std::vector<Candidate>& c) const override {
    normalize(c);
    if (c.size() <= static_cast<size_t>(k_)) return;
    const std::vector<size_t> order = by_probability(c);
    std::vector<bool> keep(c.size(), false);
    for (int i = 0; i < k_; ++i) keep[order[i]] = true;
    keep_flagged(c, keep);
  }
  std::string describe() const override { return "top_k=" + std::to_string(k_); }

 private:
  int k_;
};

class TopPSampler : public Sampler {
 public:
  explicit TopPSampler(double p) : p_(p) {}
  void apply(std::vector<Candidate>& c) const override {
    normalize(c);
    if (p_ >= 1) return;
    const std::vector<size_t> order = by_probability(c);
    std::vector<bool> keep(c.size(), false);
    double sum = 0;
    // The tolerance lets p = 0.8 keep {0.5, 0.3} although 0.5 + 0.3 may round just below 0.8.
    for (size_t i : order) {
      keep[i] = true;
      sum += c[i].prob;
      if (sum >= p_ - 1e-12) break;
    }
    keep_flagged(c, keep);
  }
  std::string describe() const override { return "top_p=" + number_text(p_); }

 private:
  double p_;
};

class TargetEntropySampler : public Sampler {
 public:
  explicit TargetEntropySampler(double bits) : bits_(bits) {}
  void apply(std::vector<Candidate>& c) const override {
    normalize(c);
    if (c.size() == 1) return;
    if (bits_ == 0) return keep_greedy(c);
    if (bits_ >= std::log2(static_cast<double>(c.size()))) {
      for (Candidate& x : c) x.prob = 1.0 / static_cast<double>(c.size());
      return;
    }
    // All probabilities equal: no temperature changes the distribution, and the target lies below its
    // entropy; it stays uniform.
    if (std::all_of(c.begin(), c.end(), [&](const Candidate& x) { return x.prob == c.front().prob; })) return;
    // The entropy falls monotonically as beta = 1/T grows (from log2 n at beta 0 to log2 of the number of
    // most probable candidates as beta -> infinity). Bisection on log2 beta in [-64, 64]: 60 halvings
    // narrow the bracket to 1e-16, far below what the entropy can resolve.
    const Tempered tempered(c);
    std::vector<Candidate> work = c;
    double lo = -64, hi = 64;  // log2 beta: entropy(lo) >= target >= entropy(hi) when reachable
    if (tempered.apply(work, std::exp2(hi)) >= bits_) {
      // Below the entropy of the T -> 0 limit (the tied most probable candidates): that limit is closest.
      c = work;
      normalize(c);
      return;
    }
    if (tempered.apply(work, std::exp2(lo)) <= bits_) {
      c = work;
      normalize(c);
      return;
    }
    for (int i = 0; i < 60; ++i) {
      const double mid = 0.5 * (lo + hi);
      const double h = tempered.apply(work, std::exp2(mid));
      if (std::abs(h - bits_) <= 1e-9 * bits_) break;
      (h > bits_ ? lo : hi) = mid;
    }
    c = work;
    normalize(c);
  }
  std::string describe() const override { return "target_entropy=" + number_text(bits_); }

 private:
  double bits_;
};

}  // namespace

double Rng::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

std::unique_ptr<Sampler> temperature_sampler(double temperature) {
  if (!(temperature >= 0 && temperature <= 100))
    throw ConfigError("temperature " + number_text(temperature) + " is outside [0, 100]");
  return std::make_unique<TemperatureSampler>(temperature);
}

std::unique_ptr<Sampler> top_k_sampler(int k) {
  if (k < 1) throw ConfigError("top_k " + std::to_string(k) + " is not positive (a top-k sampler keeps k >= 1)");
  return std::make_unique<TopKSampler>(k);
}

std::unique_ptr<Sampler> top_p_sampler(double p) {
  if (!(p > 0 && p <= 1)) throw ConfigError("top_p " + number_text(p) + " is outside (0, 1]");
  return std::make_unique<TopPSampler>(p);
}

std::unique_ptr<Sampler> target_entropy_sampler(double bits) {
  if (!(bits >= 0) || std::isinf(bits))
    throw ConfigError("target_entropy " + number_text(bits) + " is not a finite number of bits >= 0");
  return std::make_unique<TargetEntropySampler>(bits);
}

SamplerChain& SamplerChain::add(std::unique_ptr<Sampler> sampler) {
  assert(sampler);
  samplers_.push_back(std::move(sampler));
  return *this;
}

void SamplerChain::apply(std::vector<Candidate>& candidates) const {
  normalize(candidates);
  for (const auto& s : samplers_) s->apply(candidates);
}

std::string SamplerChain::describe() const {
  if (samplers_.empty()) return "none";
  std::string out;
  for (const auto& s : samplers_) out += (out.empty() ? "" : " ") + s->describe();
  return out;
}

void SamplerParams::validate() const {
  if (!(temperature >= 0 && temperature <= 100))
    throw ConfigError("temperature " + number_text(temperature) + " is outside [0, 100]");
  if (top_k < 0) throw ConfigError("top_k " + std::to_string(top_k) + " is negative (0 = off)");
  if (!(top_p > 0 && top_p <= 1)) throw ConfigError("top_p " + number_text(top_p) + " is outside (0, 1]");
  if (std::isnan(target_entropy) || std::isinf(target_entropy))
    throw ConfigError("target_entropy " + number_text(target_entropy) + " is not a finite number of bits");
  if (target_entropy >= 0 && temperature != 1)
    throw ConfigError("target_entropy " + number_text(target_entropy) + " with temperature " +
                      number_text(temperature) + ": choose one of --temperature and --target-entropy");
}

SamplerChain SamplerParams::chain() const {
  validate();
  SamplerChain chain;
  if (target_entropy >= 0)
    chain.add(target_entropy_sampler(target_entropy));
  else if (temperature != 1)
    chain.add(temperature_sampler(temperature));
  if (top_k > 0) chain.add(top_k_sampler(top_k));
  if (top_p < 1) chain.add(top_p_sampler(top_p));
  return chain;
}

void normalize(std::vector<Candidate>& candidates) {
  double total = 0;
  size_t out = 0;
  for (const Candidate& c : candidates) {
    assert(c.prob >= 0 && std::isfinite(c.prob));
    if (c.prob == 0) continue;
    total += c.prob;
    candidates[out++] = c;
  }
  candidates.resize(out);
  assert(total > 0 && std::isfinite(total));
  for (Candidate& c : candidates) c.prob /= total;
}

size_t draw(const std::vector<Candidate>& candidates, Rng& rng) {
  assert(!candidates.empty());
  double total = 0;
  for (const Candidate& c : candidates) total += c.prob;
  assert(total > 0 && std::isfinite(total));
  const double u = rng.uniform() * total;
  double sum = 0;
  size_t last_positive = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].prob <= 0) continue;
    sum += candidates[i].prob;
    last_positive = i;
    if (u < sum) return i;
  }
  return last_positive;  // u fell past the rounded total
}

double entropy_bits(const std::vector<Candidate>& candidates) {
  double total = 0;
  for (const Candidate& c : candidates) total += c.prob;
  double h = 0;
  for (const Candidate& c : candidates)
    if (c.prob > 0) h -= c.prob / total * std::log2(c.prob / total);
  return h;
}

}  // namespace antiphon
