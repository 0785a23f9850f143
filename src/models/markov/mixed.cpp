// The "mixed" family: a mixed-order Markov chain, the maximum-likelihood estimates of orders 0..k and the
// uniform distribution mixed with weights fitted by EM on held-out data (Jelinek & Mercer's deleted
// interpolation, with Bahl et al.'s buckets by context count as an option).
#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "antiphon/models/markov.h"
#include "antiphon/models/registry.h"
#include "models/families.h"
#include "models/markov/ngram_counts.h"

namespace antiphon {

using markov_detail::format_real;
using markov_detail::NgramCounts;
using markov_detail::NgramState;

namespace {

constexpr uint32_t kPayloadVersion = 1;
constexpr int kMaxOrder = 16;
constexpr int kMaxBuckets = 8;
constexpr double kMinUniform = 1e-12;  // keeps every token above 0 whatever EM converges to

// Counts 1, 2-3, 4-7, ... (one class per doubling), the last class open.
int count_class(uint64_t count, int buckets) {
  assert(count > 0);
  int cls = 0;
  while (count > 1 && cls + 1 < buckets) {
    count >>= 1;
    ++cls;
  }
  return cls;
}

size_t bucket_index(int longest_order, int cls, int buckets) {
  return static_cast<size_t>(longest_order) * static_cast<size_t>(buckets) + static_cast<size_t>(cls);
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Parses "u+w0/u+w0+w1/..." into weight vectors; ConfigError naming the bad part.
std::vector<std::vector<double>> parse_weights(const std::string& text) {
  std::vector<std::vector<double>> out(1);
  size_t start = 0;
  while (true) {
    const size_t end = text.find_first_of("+/", start);
    const std::string item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    double x = 0;
    auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), x);
    if (item.empty() || ec != std::errc() || p != item.data() + item.size() || !std::isfinite(x))
      throw ConfigError("mixed: weights=" + text + ": '" + item + "' is not a number");
    out.back().push_back(x);
    if (end == std::string::npos) break;
    if (text[end] == '/') out.emplace_back();
    start = end + 1;
  }
  return out;
}

std::string format_weights(const std::vector<MixedWeights>& weights) {
  std::string s;
  for (size_t b = 0; b < weights.size(); ++b) {
    if (b) s += '/';
    for (size_t i = 0; i < weights[b].weights.size(); ++i) s += (i ? "+" : "") + format_real(weights[b].weights[i]);
  }
  return s;
}

// Checks one bucket's weights (what a user or a file gives).
std::vector<double> checked_weights(std::vector<double> w, int longest_order, int cls) {
  const std::string where = "mixed: weights of longest order " + std::to_string(longest_order) + ", count class " +
                            std::to_string(cls) + ": ";
  if (w.size() != static_cast<size_t>(longest_order) + 2)
    throw ConfigError(where + std::to_string(w.size()) + " values, not " + std::to_string(longest_order + 2) +
                      " (uniform, then orders 0.." + std::to_string(longest_order) + ")");
  double sum = 0;
  for (double x : w) {
    if (!(x >= 0 && std::isfinite(x))) throw ConfigError(where + format_real(x) + " is not a weight (>= 0)");
    sum += x;
  }
  // Kept as given (not renormalised), so the weights config() prints rebuild the very same model.
  if (std::abs(sum - 1) > 1e-9) throw ConfigError(where + "they add up to " + format_real(sum) + ", not 1");
  if (!(w[0] > 0)) throw ConfigError(where + "the uniform weight (the first) must be above 0");
  return w;
}

MixedMarkovConfig read_config(const ModelSpec& spec) {
  SpecReader r(spec);
  MixedMarkovConfig c;
  c.order = static_cast<int>(r.integer("order", c.order, 0, kMaxOrder));
  c.heldout = r.real("heldout", c.heldout, 0, 0.5);
  c.buckets = static_cast<int>(r.integer("buckets", c.buckets, 1, kMaxBuckets));
  c.iterations = static_cast<int>(r.integer("iterations", c.iterations, 1, 100000));
  c.tolerance = r.real("tolerance", c.tolerance, 0, 1);
  const std::string weights = r.text("weights", "");
  if (spec.has("weights")) c.weights = parse_weights(weights);
  r.finish();
  c.validate();
  return c;
}

std::vector<std::pair<std::string, std::string>> training_options(const MixedMarkovConfig& c) {
  return {{"order", std::to_string(c.order)},
          {"heldout", format_real(c.heldout)},
          {"buckets", std::to_string(c.buckets)},
          {"iterations", std::to_string(c.iterations)},
          {"tolerance", format_real(c.tolerance)}};
}

// The held-out evidence of one bucket: per token the probabilities its components give it.
struct BucketSamples {
  size_t components = 0;
  std::vector<double> probs;  // tokens x components
  size_t tokens() const { return components ? probs.size() / components : 0; }
};

// One EM pass: the log2-likelihood under `weights` and the next weights.
double em_pass(const std::vector<BucketSamples>& samples, std::vector<MixedWeights>& weights) {
  double log2_likelihood = 0;
  for (size_t b = 0; b < samples.size(); ++b) {
    const BucketSamples& s = samples[b];
    if (s.tokens() == 0) continue;
    std::vector<double>& w = weights[b].weights;
    std::vector<double> posterior(s.components, 0.0);
    std::vector<double> joint(s.components);
    for (size_t t = 0; t < s.tokens(); ++t) {
      const double* p = &s.probs[t * s.components];
      double sum = 0;
      for (size_t c = 0; c < s.components; ++c) sum += joint[c] = w[c] * p[c];
      log2_likelihood += std::log2(sum);
      for (size_t c = 0; c < s.components; ++c) posterior[c] += joint[c] / sum;
    }
    for (size_t c = 0; c < s.components; ++c) w[c] = posterior[c] / static_cast<double>(s.tokens());
  }
  return log2_likelihood;
}

}  // namespace

void MixedMarkovConfig::validate() const {
  if (order < 0 || order > kMaxOrder)
    throw ConfigError("mixed: order=" + std::to_string(order) + " is outside 0.." + std::to_string(kMaxOrder));
  if (!(heldout >= 0 && heldout <= 0.5))
    throw ConfigError("mixed: heldout=" + format_real(heldout) + " is outside 0..0.5");
  if (buckets < 1 || buckets > kMaxBuckets)
    throw ConfigError("mixed: buckets=" + std::to_string(buckets) + " is outside 1.." + std::to_string(kMaxBuckets));
  if (iterations < 1) throw ConfigError("mixed: iterations=" + std::to_string(iterations) + " is below 1");
  if (!(tolerance >= 0 && std::isfinite(tolerance)))
    throw ConfigError("mixed: tolerance=" + format_real(tolerance) + " is not a number >= 0");
  if (weights.empty()) return;
  const auto layout = MixedMarkovModel::weight_buckets(order, buckets);
  if (weights.size() != layout.size())
    throw ConfigError("mixed: weights has " + std::to_string(weights.size()) +
                      " vectors, order=" + std::to_string(order) + " with buckets=" + std::to_string(buckets) +
                      " needs " + std::to_string(layout.size()) + " (separated by '/')");
  for (size_t b = 0; b < layout.size(); ++b) checked_weights(weights[b], layout[b].first, layout[b].second);
}

// MixedMarkovModel ------------------------------------------------------------------------------------------

std::vector<std::pair<int, int>> MixedMarkovModel::weight_buckets(int order, int buckets) {
  std::vector<std::pair<int, int>> out;
  for (int m = 0; m <= order; ++m)
    for (int cls = 0; cls < buckets; ++cls) out.emplace_back(m, cls);
  return out;
}

MixedMarkovModel::MixedMarkovModel(MixedMarkovConfig config, std::shared_ptr<const Encoding> encoding, ModelInfo info,
                                   std::unique_ptr<NgramCounts> counts, std::vector<MixedWeights> weights)
    : SequenceModel(std::move(info), std::move(encoding)),
      config_(std::move(config)),
      counts_(std::move(counts)),
      weights_(std::move(weights)) {
  assert(static_cast<size_t>(counts_->vocab_size()) == vocab_size());
  assert(weights_.size() == weight_buckets(config_.order, config_.buckets).size());
}

MixedMarkovModel::~MixedMarkovModel() = default;

std::shared_ptr<const MixedMarkovModel> MixedMarkovModel::train(const MixedMarkovConfig& config,
                                                                std::shared_ptr<const Encoding> encoding,
                                                                const std::vector<std::vector<int>>& sequences,
                                                                uint64_t seed, ModelInfo info, const LogFn& log) {
  config.validate();
  const int v = static_cast<int>(encoding->vocab().size());
  const auto layout = weight_buckets(config.order, config.buckets);
  std::vector<MixedWeights> weights(layout.size());
  for (size_t b = 0; b < layout.size(); ++b) {
    weights[b].longest_order = layout[b].first;
    weights[b].count_class = layout[b].second;
    weights[b].weights.assign(static_cast<size_t>(layout[b].first) + 2, 1.0 / (layout[b].first + 2));
  }
  auto all = std::make_unique<NgramCounts>(NgramCounts::count(v, config.order, sequences));
  assert(all->total(0) > 0);
  std::vector<double> trace;
  std::string fit = "given weights";

  if (!config.weights.empty()) {
    for (size_t b = 0; b < layout.size(); ++b)
      weights[b].weights = checked_weights(config.weights[b], layout[b].first, layout[b].second);
  } else {
    std::vector<BucketSamples> samples(layout.size());
    for (size_t b = 0; b < layout.size(); ++b) samples[b].components = weights[b].weights.size();
    auto add_sample = [&](int longest, uint64_t context_total, const std::vector<double>& probs) {
      BucketSamples& s = samples[bucket_index(longest, count_class(context_total, config.buckets), config.buckets)];
      assert(probs.size() == s.components);
      s.probs.insert(s.probs.end(), probs.begin(), probs.end());
    };
    std::vector<size_t> melodies;  // the ones with tokens
    for (size_t i = 0; i < sequences.size(); ++i)
      if (!sequences[i].empty()) melodies.push_back(i);
    const double uniform = 1.0 / v;
    std::vector<double> probs;
    std::string method;
    if (config.heldout > 0 && melodies.size() >= 2) {
      // A seeded split by melody: the weights learn how the estimates from the rest do on unseen melodies.
      uint64_t state = seed;
      for (size_t i = melodies.size(); i > 1; --i) std::swap(melodies[i - 1], melodies[splitmix64(state) % i]);
      const auto held =
          std::clamp<size_t>(static_cast<size_t>(std::llround(config.heldout * static_cast<double>(melodies.size()))),
                             1, melodies.size() - 1);
      std::vector<std::vector<int>> rest;
      for (size_t i = held; i < melodies.size(); ++i) rest.push_back(sequences[melodies[i]]);
      const NgramCounts counts = NgramCounts::count(v, config.order, rest);
      size_t tokens = 0;
      for (size_t i = 0; i < held; ++i) {
        NgramState s(counts);
        for (int t : sequences[melodies[i]]) {
          const auto& chain = s.chain();
          probs.assign(1, uniform);
          for (int32_t node : chain)
            probs.push_back(static_cast<double>(counts.count(node, t)) / static_cast<double>(counts.total(node)));
          add_sample(static_cast<int>(chain.size()) - 1, counts.total(chain.back()), probs);
          s.push(counts, t);
          ++tokens;
        }
      }
      method = std::to_string(held) + " held-out melodies (" + std::to_string(tokens) + " tokens)";
    } else {
      // Leave-one-out: each training token scored by the counts without itself (one melody, or heldout=0).
      for (const auto& seq : sequences) {
        NgramState s(*all);
        for (int t : seq) {
          probs.assign(1, uniform);
          uint64_t context_total = 0;
          for (int32_t node : s.chain()) {
            const uint64_t rest = all->total(node) - 1;
            if (rest == 0) break;
            probs.push_back(static_cast<double>(all->count(node, t) - 1) / static_cast<double>(rest));
            context_total = rest;
          }
          if (probs.size() >= 2) add_sample(static_cast<int>(probs.size()) - 2, context_total, probs);
          s.push(*all, t);
        }
      }
      method = "leave-one-out on the training tokens";
    }

    size_t fitted = 0;
    for (const auto& s : samples) fitted += s.tokens();
    if (fitted > 0) {
      // Each pass measures the likelihood of the current weights and moves them one EM step; the trace holds
      // the likelihood of every weight vector the weights went through, the final one included.
      trace.push_back(em_pass(samples, weights));
      for (int it = 1; it < config.iterations; ++it) {
        trace.push_back(em_pass(samples, weights));
        if ((trace.back() - trace[trace.size() - 2]) / static_cast<double>(fitted) < config.tolerance) break;
      }
      std::vector<MixedWeights> probe = weights;
      trace.push_back(em_pass(samples, probe));
    }
    // Buckets without evidence take the weights of the nearest count class of their order, else those of the
    // order below with 0 for the orders it lacks.
    for (size_t b = 0; b < layout.size(); ++b) weights[b].fitted_tokens = samples[b].tokens();
    for (int m = 0; m <= config.order; ++m)
      for (int cls = 0; cls < config.buckets; ++cls) {
        MixedWeights& w = weights[bucket_index(m, cls, config.buckets)];
        if (w.fitted_tokens > 0) continue;
        const MixedWeights* from = nullptr;
        for (int d = 1; d < config.buckets && !from; ++d)
          for (int other : {cls - d, cls + d})
            if (!from && other >= 0 && other < config.buckets &&
                weights[bucket_index(m, other, config.buckets)].fitted_tokens > 0)
              from = &weights[bucket_index(m, other, config.buckets)];
        if (from) {
          w.weights = from->weights;
        } else if (m > 0) {
          w.weights = weights[bucket_index(m - 1, cls, config.buckets)].weights;
          w.weights.push_back(0.0);
        }
      }
    for (auto& w : weights) {
      if (w.weights[0] >= kMinUniform) continue;
      w.weights[0] = kMinUniform;
      double sum = 0;
      for (double x : w.weights) sum += x;
      for (double& x : w.weights) x /= sum;
    }
    if (trace.empty()) {
      fit = "no tokens to fit on (" + method + "): equal weights";
    } else {
      char bits[32];
      std::snprintf(bits, sizeof bits, "%.4f", -trace.back() / static_cast<double>(fitted));
      fit = "EM on " + method + ", " + std::to_string(trace.size() - 1) + " iterations, " + bits + " bits per token";
    }
    if (log) log(LogLevel::info, "mixed: weights fitted by " + fit + ": " + format_weights(weights));
  }
  auto model = std::shared_ptr<MixedMarkovModel>(
      new MixedMarkovModel(config, std::move(encoding), std::move(info), std::move(all), std::move(weights)));
  model->em_trace_ = std::move(trace);
  model->fit_ = std::move(fit);
  return model;
}

const MixedWeights& MixedMarkovModel::bucket(std::span<const int32_t> chain) const {
  const int longest = static_cast<int>(chain.size()) - 1;
  return weights_[bucket_index(longest, count_class(counts_->total(chain.back()), config_.buckets), config_.buckets)];
}

double MixedMarkovModel::probability(std::span<const int32_t> chain, int token) const {
  const std::vector<double>& w = bucket(chain).weights;
  double p = w[0] / static_cast<double>(counts_->vocab_size());
  for (size_t j = 0; j < chain.size(); ++j)
    p +=
        w[j + 1] / static_cast<double>(counts_->total(chain[j])) * static_cast<double>(counts_->count(chain[j], token));
  return p;
}

std::unique_ptr<ModelState> MixedMarkovModel::start(const Melody*) const {
  return std::make_unique<NgramState>(*counts_);
}

void MixedMarkovModel::advance_state(ModelState& state, int token) const {
  auto* s = dynamic_cast<NgramState*>(&state);
  assert(s);
  s->push(*counts_, token);
}

std::optional<std::string> MixedMarkovModel::state_key(const ModelState& state) const {
  const auto* s = dynamic_cast<const NgramState*>(&state);
  assert(s);
  return s->seen_key();  // the weights and estimates read the seen suffixes only
}

std::optional<std::string> MixedMarkovModel::next_state_key(const ModelState& state, int token) const {
  const auto* s = dynamic_cast<const NgramState*>(&state);
  assert(s);
  return s->seen_key_after(*counts_, token);
}

void MixedMarkovModel::predict(const ModelState& state, std::span<double> probs) const {
  const auto* s = dynamic_cast<const NgramState*>(&state);
  assert(s);
  assert(probs.size() == vocab_size());
  const auto& chain = s->chain();
  const std::vector<double>& w = bucket(chain).weights;
  std::fill(probs.begin(), probs.end(), w[0] / static_cast<double>(probs.size()));
  // Same arithmetic as probability(): tokens without an entry add 0.
  for (size_t j = 0; j < chain.size(); ++j) {
    const int32_t node = chain[j];
    const double scale = w[j + 1] / static_cast<double>(counts_->total(node));
    for (uint32_t e = counts_->entry_begin(node); e < counts_->entry_end(node); ++e)
      probs[static_cast<size_t>(counts_->entry_token(e))] += scale * static_cast<double>(counts_->entry_count(e));
  }
}

std::vector<double> MixedMarkovModel::token_log2_probs(std::span<const int> tokens, const Melody*) const {
  std::vector<double> out;
  out.reserve(tokens.size());
  NgramState state(*counts_);
  for (int t : tokens) {
    assert(t >= 0 && static_cast<size_t>(t) < vocab_size());
    out.push_back(std::log2(probability(state.chain(), t)));
    state.push(*counts_, t);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> MixedMarkovModel::config() const {
  auto out = training_options(config_);
  out.emplace_back("weights", format_weights(weights_));
  out.emplace_back("fit", fit_);
  return out;
}

void MixedMarkovModel::save_payload(ModelWriter& out) const {
  out.u32(kPayloadVersion);
  out.u32(static_cast<uint32_t>(config_.order));
  out.u32(static_cast<uint32_t>(counts_->vocab_size()));
  out.u32(static_cast<uint32_t>(config_.buckets));
  out.f64(config_.heldout);
  out.u32(static_cast<uint32_t>(config_.iterations));
  out.f64(config_.tolerance);
  out.u8(config_.weights.empty() ? 0 : 1);
  out.str(fit_);
  for (const MixedWeights& w : weights_) {
    out.f64s(w.weights);
    out.u64(w.fitted_tokens);
  }
  counts_->save(out);
}

std::shared_ptr<const MixedMarkovModel> MixedMarkovModel::load(const ModelHeader& header,
                                                               std::shared_ptr<const Encoding> encoding,
                                                               ModelReader& reader) {
  reader.version("mixed payload version", kPayloadVersion);
  MixedMarkovConfig c;
  c.order = static_cast<int>(reader.u32_in("order", 0, kMaxOrder));
  const uint32_t v = reader.u32("vocabulary size");
  if (v != encoding->vocab().size())
    reader.fail("vocabulary size " + std::to_string(v) + " differs from the encoding's " +
                std::to_string(encoding->vocab().size()));
  const uint32_t buckets = reader.u32("buckets");
  if (buckets < 1 || buckets > kMaxBuckets)
    reader.fail("buckets " + std::to_string(buckets) + " is outside 1.." + std::to_string(kMaxBuckets));
  c.buckets = static_cast<int>(buckets);
  c.heldout = reader.f64("heldout");
  const uint32_t iterations = reader.u32("iterations");
  if (iterations < 1 || iterations > 100000)
    reader.fail("iterations " + std::to_string(iterations) + " is outside 1..100000");
  c.iterations = static_cast<int>(iterations);
  c.tolerance = reader.f64("tolerance");
  const uint8_t given = reader.u8("weights given");
  if (given > 1) reader.fail("weights-given flag " + std::to_string(given) + " is not 0 or 1");
  std::string fit = reader.str("fit summary");
  const auto layout = weight_buckets(c.order, c.buckets);
  std::vector<MixedWeights> weights(layout.size());
  for (size_t b = 0; b < layout.size(); ++b) {
    weights[b].longest_order = layout[b].first;
    weights[b].count_class = layout[b].second;
    std::vector<double> w = reader.f64s("weights");
    try {
      weights[b].weights = checked_weights(std::move(w), layout[b].first, layout[b].second);
    } catch (const ConfigError& e) {
      reader.fail(e.what());
    }
    weights[b].fitted_tokens = reader.u64("fitted tokens");
    if (given) c.weights.push_back(weights[b].weights);
  }
  try {
    c.validate();
  } catch (const ConfigError& e) {
    reader.fail(e.what());
  }
  auto counts = std::make_unique<NgramCounts>(NgramCounts::load(reader, static_cast<int>(v), c.order));
  auto model = std::shared_ptr<MixedMarkovModel>(
      new MixedMarkovModel(c, std::move(encoding), header.info, std::move(counts), std::move(weights)));
  model->fit_ = std::move(fit);
  return model;
}

// The family ------------------------------------------------------------------------------------------------

ModelFamily mixed_markov_family() {
  ModelFamily f;
  f.name = "mixed";
  f.summary = "mixed-order Markov chain: orders 0..k (order=3) mixed with weights fitted by EM on held-out melodies";
  f.train = [](const ModelSpec& spec, const TrainingData& data) -> ModelPtr {
    const MixedMarkovConfig config = read_config(spec);
    markov_detail::EncodedTraining training = markov_detail::encode_training("mixed", data);
    auto options = training_options(config);
    if (spec.has("weights")) options.emplace_back("weights", *spec.get("weights"));
    ModelInfo info = markov_detail::make_info(ModelSpec("mixed", options).to_string(), data, training);
    return MixedMarkovModel::train(config, training.encoding, training.sequences, data.seed, std::move(info), data.log);
  };
  f.load = [](const ModelHeader& header, std::shared_ptr<const Encoding> encoding, ModelReader& reader) -> ModelPtr {
    return MixedMarkovModel::load(header, std::move(encoding), reader);
  };
  return f;
}

}  // namespace antiphon
