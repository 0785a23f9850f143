#include "antiphon/models/model.h"

#include <cassert>
#include <cmath>

namespace antiphon {

SequenceModel::SequenceModel(ModelInfo info, std::shared_ptr<const Encoding> encoding)
    : info_(std::move(info)), encoding_(std::move(encoding)) {
  assert(encoding_);
}

std::optional<std::string> SequenceModel::state_key(const ModelState&) const { return std::nullopt; }

std::optional<std::string> SequenceModel::next_state_key(const ModelState& state, int token) const {
  if (!state_key(state)) return std::nullopt;
  auto next = state.clone();
  advance(*next, token);
  return state_key(*next);
}

std::unique_ptr<ModelState> SequenceModel::start_with_constraints(const Melody*, std::span<const int>) const {
  return nullptr;
}

void SequenceModel::advance(ModelState& state, int token) const {
  assert(token >= 0 && static_cast<size_t>(token) < vocab_size());
  advance_state(state, token);
  state.history_.push_back(token);
}

std::vector<double> SequenceModel::token_log2_probs(std::span<const int> tokens, const Melody* source) const {
  std::vector<double> out;
  out.reserve(tokens.size());
  std::vector<double> probs(vocab_size());
  auto state = start(source);
  for (int t : tokens) {
    assert(t >= 0 && static_cast<size_t>(t) < probs.size());
    predict(*state, probs);
    out.push_back(std::log2(probs[static_cast<size_t>(t)]));
    advance(*state, t);
  }
  return out;
}

void SequenceModel::predict_all(std::span<const int> tokens, const Melody* source,
                                const DistributionVisitor& visit) const {
  std::vector<double> probs(vocab_size());
  auto state = start(source);
  for (size_t i = 0; i < tokens.size(); ++i) {
    predict(*state, probs);
    visit(i, probs);
    advance(*state, tokens[i]);
  }
}

double SequenceModel::log2_prob(std::span<const int> tokens, const Melody* source) const {
  double sum = 0;
  for (double x : token_log2_probs(tokens, source)) sum += x;
  return sum;
}

}  // namespace antiphon
