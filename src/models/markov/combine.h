#pragma once
// Distributions over the encoding's tokens for the ppm family: mapping a derived viewpoint's prediction to the
// tokens, and combining several predictions with entropy-based weights (Pearce, Conklin & Wiggins 2005, as
// IDyOM does it). Private to src/models.
#include <span>

#include "antiphon/models/ppm.h"

namespace antiphon::ppm {

// Shannon entropy in bits (terms with p = 0 contribute 0).
double entropy_bits(std::span<const double> p);
// H(p) / log2(p.size()); 1 for a distribution over fewer than 2 symbols (IDyOM).
double relative_entropy(std::span<const double> p);
// A prediction's weight, relative_entropy(p)^-bias. Relative entropies are floored at 1e-12 so a certain
// prediction gets a large finite weight instead of an infinite one.
double combination_weight(std::span<const double> p, double bias);

// Combines distributions over the same symbols into `out` (same size, sums to 1):
//   arithmetic: sum_m w_m p_m / sum_m w_m
//   geometric:  prod_m p_m^(w_m / sum w), renormalised (computed in the log domain)
// with w_m = combination_weight(p_m, bias). Asserts at least one distribution, all of out.size().
void combine_distributions(std::span<const std::span<const double>> distributions, PpmCombination rule, double bias,
                           std::span<double> out);

// Maps a viewpoint's prediction to the tokens: symbols[t] is the viewpoint's value (its symbol) for token t;
// out[t] = viewpoint_probs[symbols[t]] / |{t' : symbols[t'] == symbols[t]}|, renormalised over the tokens
// (values no token reaches drop out). When the reachable values have no probability at all, out is uniform.
// `counts` is scratch space of viewpoint_probs.size() zeros, left as zeros.
void map_to_tokens(std::span<const double> viewpoint_probs, std::span<const int> symbols, std::span<int> counts,
                   std::span<double> out);

}  // namespace antiphon::ppm
