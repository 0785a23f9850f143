// The `hmm` family: a discrete HMM trained by Baum-Welch on the tokens of its encoding, used through the
// SequenceModel interface by filtering (the state carries the belief over the next hidden state).
#include "antiphon/models/hmm.h"

#include <cassert>
#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "antiphon/models/registry.h"
#include "models/families.h"
#include "models/hmm/hmm_internal.h"

namespace antiphon {

namespace {

using hmm_detail::number;

constexpr int64_t kMaxStates = 1024;

class HmmState : public ModelState {
 public:
  explicit HmmState(const std::vector<double>& initial) : belief(initial), scratch(initial.size()) {}
  std::unique_ptr<ModelState> clone() const override { return std::make_unique<HmmState>(*this); }

  std::vector<double> belief;   // P(next hidden state | tokens so far)
  std::vector<double> scratch;  // hmm_update's working vector, kept so advancing never allocates
};

const HmmState& hmm_state(const ModelState& state) {
  const auto* s = dynamic_cast<const HmmState*>(&state);
  assert(s && "a state from another model");
  return *s;
}

HmmState& hmm_state(ModelState& state) { return const_cast<HmmState&>(hmm_state(std::as_const(state))); }

ModelPtr train_hmm(const ModelSpec& spec, const TrainingData& data) {
  SpecReader reader(spec);
  BaumWelchOptions options;
  options.states = static_cast<size_t>(reader.integer("states", 16, 1, kMaxStates));
  options.restarts = static_cast<int>(reader.integer("restarts", 3, 1, 1000));
  options.iterations = static_cast<int>(reader.integer("iterations", 100, 1, 1000000));
  options.tolerance = reader.real("tolerance", 1e-4, 0, 1);
  options.prior = reader.real("prior", 1e-3, 0, 1e6);
  reader.finish();
  if (options.prior <= 0)
    throw ConfigError("hmm: prior=" + number(options.prior) +
                      " must be positive (a token unseen in training would get probability 0)");
  options.seed = data.seed;
  options.threads = 2;
  if (!data.melodies) throw ConfigError("hmm: no training melodies");

  std::shared_ptr<const Encoding> encoding = training_encoding(data);
  const std::vector<std::vector<int>> sequences = encode_melodies(*encoding, *data.melodies);
  size_t tokens = 0;
  for (const auto& s : sequences) tokens += s.size();
  if (tokens == 0)
    throw ConfigError("hmm: the " + std::to_string(sequences.size()) +
                      " training melodies hold no tokens of encoding '" + encoding->spec() + "'");

  BaumWelchRun run = baum_welch(sequences, encoding->vocab().size(), options, data.log);

  ModelInfo info;
  info.family = "hmm";
  info.spec = ModelSpec("hmm", {{"states", std::to_string(options.states)},
                                {"restarts", std::to_string(options.restarts)},
                                {"iterations", std::to_string(options.iterations)},
                                {"tolerance", number(options.tolerance)},
                                {"prior", number(options.prior)}})
                  .to_string();
  info.encoding = encoding->spec();
  info.corpus = data.corpus;
  info.corpus_fingerprint = data.corpus_fingerprint;
  info.training_melodies = data.melodies->size();
  info.training_tokens = tokens;
  HmmTraining training{options, run.log_likelihood, run.iterations};
  return std::make_shared<HmmModel>(std::move(run.params), std::move(encoding), std::move(info), training);
}

ModelPtr load_hmm(const ModelHeader& header, std::shared_ptr<const Encoding> encoding, ModelReader& in) {
  HmmParams p;
  HmmTraining training;
  p.states = in.u32("states");
  p.symbols = in.u32("symbols");
  if (p.states == 0 || p.states > static_cast<size_t>(kMaxStates))
    in.fail("states " + std::to_string(p.states) + " is outside 1.." + std::to_string(kMaxStates));
  if (p.symbols != encoding->vocab().size())
    in.fail("the emissions cover " + std::to_string(p.symbols) + " symbols but encoding '" + encoding->spec() +
            "' has " + std::to_string(encoding->vocab().size()) + " tokens");
  BaumWelchOptions& o = training.options;
  o.states = p.states;
  const uint32_t restarts = in.u32("restarts");
  const uint32_t iterations = in.u32("iterations");
  o.tolerance = in.f64("tolerance");
  o.prior = in.f64("prior");
  o.seed = in.u64("seed");
  training.log_likelihood = in.f64("training log-likelihood");
  const uint32_t used = in.u32("iterations used");
  if (restarts < 1 || restarts > 1000) in.fail("restarts " + std::to_string(restarts) + " is outside 1..1000");
  if (iterations < 1 || iterations > 1000000)
    in.fail("iterations " + std::to_string(iterations) + " is outside 1..1000000");
  if (used > iterations)
    in.fail("iterations used " + std::to_string(used) + " is more than the limit " + std::to_string(iterations));
  if (!(o.tolerance >= 0 && o.tolerance <= 1)) in.fail("tolerance " + number(o.tolerance) + " is outside 0..1");
  if (!(o.prior > 0 && std::isfinite(o.prior))) in.fail("prior " + number(o.prior) + " is not positive");
  if (!std::isfinite(training.log_likelihood))
    in.fail("training log-likelihood " + number(training.log_likelihood) + " is not finite");
  o.restarts = static_cast<int>(restarts);
  o.iterations = static_cast<int>(iterations);
  training.iterations = static_cast<int>(used);

  p.initial = in.f64s("initial distribution");
  p.transitions = in.f64s("transitions");
  p.emissions = in.f64s("emissions");
  try {
    p.validate(1e-6);
  } catch (const ConfigError& e) {
    in.fail(e.what());
  }
  for (size_t i = 0; i < p.states; ++i)
    for (size_t k = 0; k < p.symbols; ++k)
      if (!(p.emission(i, k) > 0))
        in.fail("hmm: emission of token '" + encoding->vocab().token(static_cast<int>(k)) + "' by state " +
                std::to_string(i) + " is 0 (the token could never be predicted)");
  return std::make_shared<HmmModel>(std::move(p), std::move(encoding), header.info, training);
}

}  // namespace

HmmModel::HmmModel(HmmParams params, std::shared_ptr<const Encoding> encoding, ModelInfo info, HmmTraining training)
    : SequenceModel(std::move(info), std::move(encoding)), params_(std::move(params)), training_(training) {
  params_.validate();
  training_.options.states = params_.states;  // the parameters decide, whatever the options said
  if (params_.symbols != vocab_size())
    throw ConfigError("hmm: " + std::to_string(params_.symbols) + " emission symbols for encoding '" +
                      this->encoding().spec() + "' with " + std::to_string(vocab_size()) + " tokens");
  for (size_t i = 0; i < params_.emissions.size(); ++i)
    if (!(params_.emissions[i] > 0))
      throw ConfigError("hmm: emission of symbol " + std::to_string(i % params_.symbols) + " by state " +
                        std::to_string(i / params_.symbols) + " is 0");
  emission_sums_.assign(params_.states, 0.0);
  for (size_t i = 0; i < params_.states; ++i)
    for (size_t k = 0; k < params_.symbols; ++k) emission_sums_[i] += params_.emission(i, k);
}

std::unique_ptr<ModelState> HmmModel::start(const Melody*) const { return std::make_unique<HmmState>(params_.initial); }

void HmmModel::predict(const ModelState& state, std::span<double> probs) const {
  assert(probs.size() == params_.symbols);
  hmm_predict(params_, hmm_state(state).belief, probs);
  // Rows of B sum to 1 only up to rounding (or the loader's tolerance); the interface promises a distribution.
  double sum = 0;
  for (double p : probs) sum += p;
  for (double& p : probs) p /= sum;
}

void HmmModel::advance_state(ModelState& state, int token) const {
  HmmState& s = hmm_state(state);
  const double c = hmm_update(params_, s.belief, token, s.scratch);
  assert(c > 0 && "every emission is positive, so every token is possible");
  (void)c;
}

std::vector<double> HmmModel::token_log2_probs(std::span<const int> tokens, const Melody*) const {
  // The forward recursion alone: P(x_t | x_<t) is the step's scale factor, normalised like predict().
  std::vector<double> out;
  out.reserve(tokens.size());
  std::vector<double> belief(params_.initial), scratch(params_.states);
  for (int t : tokens) {
    assert(t >= 0 && static_cast<size_t>(t) < params_.symbols);
    double z = 0;
    for (size_t i = 0; i < params_.states; ++i) z += belief[i] * emission_sums_[i];
    const double c = hmm_update(params_, belief, t, scratch);
    assert(c > 0);
    out.push_back(std::log2(c / z));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> HmmModel::config() const {
  const BaumWelchOptions& o = training_.options;
  return {{"states", std::to_string(o.states)},
          {"restarts", std::to_string(o.restarts)},
          {"iterations", std::to_string(o.iterations)},
          {"tolerance", number(o.tolerance)},
          {"prior", number(o.prior)},
          {"seed", std::to_string(o.seed)},
          {"log_likelihood", number(training_.log_likelihood)},
          {"iterations_used", std::to_string(training_.iterations)}};
}

void HmmModel::save_payload(ModelWriter& out) const {
  const BaumWelchOptions& o = training_.options;
  out.u32(static_cast<uint32_t>(params_.states));
  out.u32(static_cast<uint32_t>(params_.symbols));
  out.u32(static_cast<uint32_t>(o.restarts));
  out.u32(static_cast<uint32_t>(o.iterations));
  out.f64(o.tolerance);
  out.f64(o.prior);
  out.u64(o.seed);
  out.f64(training_.log_likelihood);
  out.u32(static_cast<uint32_t>(training_.iterations));
  out.f64s(params_.initial);
  out.f64s(params_.transitions);
  out.f64s(params_.emissions);
}

ModelFamily hmm_family() {
  return ModelFamily{
      "hmm", "discrete hidden Markov model trained by Baum-Welch (states, restarts, iterations, tolerance, prior)",
      train_hmm, load_hmm, {}};
}

}  // namespace antiphon
