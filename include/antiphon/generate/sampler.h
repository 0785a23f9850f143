#pragma once
// The sampler chain: composable edits of the next-token distribution (as llama.cpp's sampler chain), and the
// seeded random source every stochastic part of generation takes (no global random state: an output is
// reproduced from the model file, the parameters and the seed).
//
// A sampler edits a list of candidates (token, probability); the probabilities need not sum to 1 on entry
// (they are weights) and sum to 1 on exit. Candidates with weight 0 are dropped. Ties are broken by token
// id (lower first), so every sampler is deterministic.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace antiphon {

struct Candidate {
  int token = 0;
  double prob = 0;
  friend bool operator==(const Candidate&, const Candidate&) = default;
};

// Seeded random numbers: std::mt19937_64 (fully specified by the C++ standard, so the same seed gives the
// same numbers with every compiler) and a uniform double built from its top 53 bits.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  uint64_t next() { return engine_(); }
  double uniform();  // [0, 1)

 private:
  std::mt19937_64 engine_;
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  virtual void apply(std::vector<Candidate>& candidates) const = 0;
  virtual std::string describe() const = 0;  // "temperature=0.8"
};

// p_i^(1/T), renormalised. T = 0 keeps only the most probable candidate (greedy). Throws ConfigError for
// T < 0 or T > 100.
std::unique_ptr<Sampler> temperature_sampler(double temperature);
// Keeps the k most probable candidates (k >= 1; ConfigError otherwise).
std::unique_ptr<Sampler> top_k_sampler(int k);
// Nucleus: the fewest most probable candidates whose probabilities reach p (0 < p <= 1; ConfigError).
std::unique_ptr<Sampler> top_p_sampler(double p);
// Finds the temperature whose tempered distribution has this entropy (bits) and applies it: a target at or
// above log2(number of candidates) gives the uniform distribution, 0 the greedy choice. Keeps surprise
// steady whatever the model's confidence (bits >= 0; ConfigError otherwise).
std::unique_ptr<Sampler> target_entropy_sampler(double bits);

// Applies its samplers in order; itself a sampler. An empty chain only normalises.
class SamplerChain : public Sampler {
 public:
  SamplerChain& add(std::unique_ptr<Sampler> sampler);
  void apply(std::vector<Candidate>& candidates) const override;
  std::string describe() const override;  // "temperature=0.8 top_k=5", "none"
  bool empty() const { return samplers_.empty(); }

 private:
  std::vector<std::shared_ptr<const Sampler>> samplers_;
};

// The sampling parameters as the CLI and the server take them.
struct SamplerParams {
  double temperature = 1.0;     // 0 = greedy
  int top_k = 0;                // 0 = off
  double top_p = 1.0;           // 1 = off
  double target_entropy = -1;   // bits; < 0 = off (replaces the temperature when set)
  // Throws ConfigError naming the parameter and value.
  void validate() const;
  // The chain in the order temperature (or target entropy), top-k, top-p; samplers at their neutral values
  // are left out.
  SamplerChain chain() const;
};

// Normalises the weights to sum to 1 (asserts a positive total) and drops zero weights.
void normalize(std::vector<Candidate>& candidates);
// Draws one candidate in proportion to its weight; returns its index. Asserts a non-empty list with a
// positive total.
size_t draw(const std::vector<Candidate>& candidates, Rng& rng);
// Shannon entropy in bits of normalised candidates.
double entropy_bits(const std::vector<Candidate>& candidates);

}  // namespace antiphon
