#include "models/markov/combine.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <vector>

namespace antiphon::ppm {

double entropy_bits(std::span<const double> p) {
  double h = 0;
  for (double x : p)
    if (x > 0) h -= x * std::log2(x);
  return h;
}

double relative_entropy(std::span<const double> p) {
  if (p.size() < 2) return 1.0;
  return entropy_bits(p) / std::log2(static_cast<double>(p.size()));
}

double combination_weight(std::span<const double> p, double bias) {
  return std::pow(std::max(relative_entropy(p), 1e-12), -bias);
}

void combine_distributions(std::span<const std::span<const double>> distributions, PpmCombination rule, double bias,
                           std::span<double> out) {
  assert(!distributions.empty());
  for (const auto& d : distributions) assert(d.size() == out.size());
  if (distributions.size() == 1) {
    std::copy(distributions[0].begin(), distributions[0].end(), out.begin());
    return;
  }
  double weight_sum = 0;
  std::vector<double> weights;
  weights.reserve(distributions.size());
  for (const auto& d : distributions) {
    weights.push_back(combination_weight(d, bias));
    weight_sum += weights.back();
  }
  for (double& w : weights) w /= weight_sum;
  if (rule == PpmCombination::arithmetic) {
    std::fill(out.begin(), out.end(), 0.0);
    for (size_t m = 0; m < distributions.size(); ++m)
      for (size_t t = 0; t < out.size(); ++t) out[t] += weights[m] * distributions[m][t];
  } else {
    // Weighted sum of logs, shifted by its maximum before exponentiating so nothing underflows to 0.
    double top = -std::numeric_limits<double>::infinity();
    for (size_t t = 0; t < out.size(); ++t) {
      double s = 0;
      for (size_t m = 0; m < distributions.size(); ++m) {
        const double p = distributions[m][t];
        s += weights[m] * (p > 0 ? std::log(p) : -std::numeric_limits<double>::infinity());
      }
      out[t] = s;
      top = std::max(top, s);
    }
    assert(std::isfinite(top));
    for (double& x : out) x = std::exp(x - top);
  }
  double sum = 0;
  for (double x : out) sum += x;
  assert(sum > 0);
  for (double& x : out) x /= sum;
}

void map_to_tokens(std::span<const double> viewpoint_probs, std::span<const int> symbols, std::span<int> counts,
                   std::span<double> out) {
  assert(symbols.size() == out.size() && counts.size() == viewpoint_probs.size());
  for (int s : symbols) {
    assert(s >= 0 && static_cast<size_t>(s) < counts.size());
    ++counts[static_cast<size_t>(s)];
  }
  double sum = 0;
  for (size_t t = 0; t < out.size(); ++t) {
    const auto s = static_cast<size_t>(symbols[t]);
    out[t] = viewpoint_probs[s] / counts[s];
    sum += out[t];
  }
  for (int s : symbols) counts[static_cast<size_t>(s)] = 0;
  if (sum > 0) {
    for (double& x : out) x /= sum;
  } else {
    std::fill(out.begin(), out.end(), 1.0 / static_cast<double>(out.size()));
  }
}

}  // namespace antiphon::ppm
