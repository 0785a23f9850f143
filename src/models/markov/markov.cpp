// The "markov" family: a Markov chain of fixed order over any encoding's tokens, with additive, Witten-Bell or
// interpolated Kneser-Ney smoothing (Chen & Goodman 1998, "An empirical study of smoothing techniques").
#include "antiphon/models/markov.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>

#include "antiphon/models/registry.h"
#include "models/families.h"
#include "models/markov/ngram_counts.h"

namespace antiphon {

using markov_detail::NgramCounts;
using markov_detail::NgramState;

namespace {

constexpr uint32_t kPayloadVersion = 1;
constexpr int kMaxOrder = 16;

const char* discount_name(DiscountKind kind) { return kind == DiscountKind::modified ? "modified" : "plain"; }

std::vector<int32_t> to_symbols(std::span<const int> context, int vocab_size, int order) {
  assert(context.size() <= static_cast<size_t>(order));
  std::vector<int32_t> out(context.begin(), context.end());
  for (int32_t s : out) assert(s >= 0 && s <= vocab_size);
  return out;
}

// Chen & Goodman's estimates from the counts of counts n1..n4 of one order: Y = n1 / (n1 + 2 n2),
// D_r = r - (r + 1) Y n_{r+1} / n_r (which makes D1 = Y). Where a count of counts is missing (small data),
// Y stands in.
std::array<double, 3> estimate_discounts(const std::array<uint64_t, 5>& n, DiscountKind kind) {
  const double y = n[1] == 0 ? 0.5 : static_cast<double>(n[1]) / static_cast<double>(n[1] + 2 * n[2]);
  std::array<double, 3> d = {y, y, y};
  if (kind == DiscountKind::plain) return d;
  for (int r = 2; r <= 3; ++r) {
    if (n[static_cast<size_t>(r)] == 0) continue;
    const double x = r - (r + 1) * y * static_cast<double>(n[static_cast<size_t>(r) + 1]) /
                             static_cast<double>(n[static_cast<size_t>(r)]);
    // A discount must leave lower orders some mass (> 0) and cannot take more than the count (<= r).
    if (x > 0 && x <= r) d[static_cast<size_t>(r) - 1] = x;
  }
  return d;
}

MarkovConfig read_config(const ModelSpec& spec) {
  SpecReader r(spec);
  MarkovConfig c;
  c.order = static_cast<int>(r.integer("order", c.order, 0, kMaxOrder));
  const std::string smoothing =
      r.choice("smoothing", smoothing_name(c.smoothing), {"additive", "witten-bell", "kneser-ney"});
  c.smoothing = smoothing == "additive"      ? Smoothing::additive
                : smoothing == "witten-bell" ? Smoothing::witten_bell
                                             : Smoothing::kneser_ney;
  if (c.smoothing == Smoothing::additive) {
    c.alpha = r.real("alpha", c.alpha, 0, 1e9);
  } else if (spec.has("alpha")) {
    throw ConfigError("markov: alpha=" + *spec.get("alpha") +
                      " applies to smoothing=additive only, not smoothing=" + smoothing);
  }
  if (c.smoothing == Smoothing::kneser_ney) {
    const std::string d = r.text("discount", discount_name(c.discount_kind));
    if (d == "modified") {
      c.discount_kind = DiscountKind::modified;
    } else if (d == "plain") {
      c.discount_kind = DiscountKind::plain;
    } else {
      double x = 0;
      auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), x);
      if (ec != std::errc() || p != d.data() + d.size() || !std::isfinite(x))
        throw ConfigError("markov: discount=" + d + " is not modified, plain or a number in (0, 1]");
      c.discount_kind = DiscountKind::fixed;
      c.discount = x;
    }
  } else if (spec.has("discount")) {
    throw ConfigError("markov: discount=" + *spec.get("discount") +
                      " applies to smoothing=kneser-ney only, not smoothing=" + smoothing);
  }
  r.finish();
  c.validate();
  return c;
}

std::vector<std::pair<std::string, std::string>> config_options(const MarkovConfig& c) {
  std::vector<std::pair<std::string, std::string>> out = {{"order", std::to_string(c.order)},
                                                          {"smoothing", smoothing_name(c.smoothing)}};
  if (c.smoothing == Smoothing::additive) out.emplace_back("alpha", markov_detail::format_real(c.alpha));
  if (c.smoothing == Smoothing::kneser_ney)
    out.emplace_back("discount", c.discount_kind == DiscountKind::fixed ? markov_detail::format_real(c.discount)
                                                                        : discount_name(c.discount_kind));
  return out;
}

}  // namespace

std::string smoothing_name(Smoothing smoothing) {
  switch (smoothing) {
    case Smoothing::additive:
      return "additive";
    case Smoothing::witten_bell:
      return "witten-bell";
    case Smoothing::kneser_ney:
      return "kneser-ney";
  }
  return "?";
}

void MarkovConfig::validate() const {
  if (order < 0 || order > kMaxOrder)
    throw ConfigError("markov: order=" + std::to_string(order) + " is outside 0.." + std::to_string(kMaxOrder));
  if (smoothing == Smoothing::additive && !(alpha > 0 && std::isfinite(alpha)))
    throw ConfigError("markov: alpha=" + markov_detail::format_real(alpha) +
                      " must be above 0 (every token needs a probability above 0; maximum_likelihood() gives the "
                      "unsmoothed estimate)");
  if (smoothing == Smoothing::kneser_ney && discount_kind == DiscountKind::fixed && !(discount > 0 && discount <= 1))
    throw ConfigError("markov: discount=" + markov_detail::format_real(discount) + " is outside (0, 1]");
}

// MarkovModel -----------------------------------------------------------------------------------------------

MarkovModel::MarkovModel(MarkovConfig config, std::shared_ptr<const Encoding> encoding, ModelInfo info,
                         std::unique_ptr<NgramCounts> counts)
    : SequenceModel(std::move(info), std::move(encoding)), config_(std::move(config)), counts_(std::move(counts)) {
  assert(static_cast<size_t>(counts_->vocab_size()) == vocab_size());
  prepare();
}

MarkovModel::~MarkovModel() = default;

std::shared_ptr<const MarkovModel> MarkovModel::train(const MarkovConfig& config,
                                                      std::shared_ptr<const Encoding> encoding,
                                                      const std::vector<std::vector<int>>& sequences, ModelInfo info) {
  config.validate();
  const int v = static_cast<int>(encoding->vocab().size());
  auto counts = std::make_unique<NgramCounts>(NgramCounts::count(v, config.order, sequences));
  assert(counts->total(0) > 0);
  return std::shared_ptr<const MarkovModel>(
      new MarkovModel(config, std::move(encoding), std::move(info), std::move(counts)));
}

void MarkovModel::prepare() {
  const NgramCounts& c = *counts_;
  const double v = static_cast<double>(c.vocab_size());
  entry_weight_.assign(c.entry_count(), 0.0);
  node_lower_.assign(c.node_count(), 1.0);
  switch (config_.smoothing) {
    case Smoothing::additive:
    case Smoothing::witten_bell:
      for (size_t n = 0; n < c.node_count(); ++n) {
        const auto node = static_cast<int32_t>(n);
        // Additive: (c + alpha) / (c(h) + alpha V) = c / denom + (alpha V / denom) * (1 / V).
        const double mass = config_.smoothing == Smoothing::additive ? config_.alpha * v : c.types(node);
        const double denom = static_cast<double>(c.total(node)) + mass;
        node_lower_[n] = mass / denom;
        for (uint32_t e = c.entry_begin(node); e < c.entry_end(node); ++e) entry_weight_[e] = c.entry_count(e) / denom;
      }
      break;
    case Smoothing::kneser_ney: {
      // The counts Kneser-Ney discounts: raw at the highest order and for contexts that start a melody
      // (nothing precedes them), else the number of distinct older symbols the pair was seen after.
      auto raw = [&](int32_t node) { return c.depth(node) == c.order() || c.starts_melody(node); };
      std::vector<uint64_t> adjusted(c.entry_count(), 0);
      for (size_t n = 0; n < c.node_count(); ++n)
        if (raw(static_cast<int32_t>(n)))
          for (uint32_t e = c.entry_begin(static_cast<int32_t>(n)); e < c.entry_end(static_cast<int32_t>(n)); ++e)
            adjusted[e] = c.entry_count(e);
      for (size_t n = 1; n < c.node_count(); ++n) {
        const int32_t p = c.parent(static_cast<int32_t>(n));
        if (raw(p)) continue;
        for (uint32_t e = c.entry_begin(static_cast<int32_t>(n)); e < c.entry_end(static_cast<int32_t>(n)); ++e) {
          const int64_t pe = c.find_entry(p, c.entry_token(e));
          assert(pe >= 0);
          ++adjusted[static_cast<size_t>(pe)];
        }
      }
      std::vector<std::array<uint64_t, 5>> count_of_counts(static_cast<size_t>(c.order()) + 1, {0, 0, 0, 0, 0});
      for (size_t n = 0; n < c.node_count(); ++n)
        for (uint32_t e = c.entry_begin(static_cast<int32_t>(n)); e < c.entry_end(static_cast<int32_t>(n)); ++e)
          if (adjusted[e] <= 4) ++count_of_counts[static_cast<size_t>(c.depth(static_cast<int32_t>(n)))][adjusted[e]];
      discounts_.clear();
      for (const auto& n : count_of_counts)
        discounts_.push_back(config_.discount_kind == DiscountKind::fixed
                                 ? std::array<double, 3>{config_.discount, config_.discount, config_.discount}
                                 : estimate_discounts(n, config_.discount_kind));
      for (size_t n = 0; n < c.node_count(); ++n) {
        const auto node = static_cast<int32_t>(n);
        const auto& d = discounts_[static_cast<size_t>(c.depth(node))];
        uint64_t total = 0;
        double removed = 0;
        for (uint32_t e = c.entry_begin(node); e < c.entry_end(node); ++e) {
          assert(adjusted[e] > 0);
          total += adjusted[e];
          removed += d[std::min<uint64_t>(adjusted[e], 3) - 1];
        }
        const double denom = static_cast<double>(total);
        node_lower_[n] = removed / denom;
        for (uint32_t e = c.entry_begin(node); e < c.entry_end(node); ++e)
          entry_weight_[e] =
              std::max(0.0, static_cast<double>(adjusted[e]) - d[std::min<uint64_t>(adjusted[e], 3) - 1]) / denom;
      }
      break;
    }
  }
}

double MarkovModel::probability(std::span<const int32_t> chain, size_t context_length, int token) const {
  double p = 1.0 / static_cast<double>(counts_->vocab_size());
  // Additive smoothing uses the full context alone (uniform when it never occurred).
  size_t first = 0;
  if (config_.smoothing == Smoothing::additive) {
    if (chain.size() != context_length + 1) return p;
    first = context_length;
  }
  for (size_t j = first; j < chain.size(); ++j) {
    const int32_t node = chain[j];
    const int64_t e = counts_->find_entry(node, token);
    const double w = e < 0 ? 0.0 : entry_weight_[static_cast<size_t>(e)];
    p = node_lower_[static_cast<size_t>(node)] * p + w;
  }
  return p;
}

std::unique_ptr<ModelState> MarkovModel::start(const Melody*) const { return std::make_unique<NgramState>(*counts_); }

void MarkovModel::advance_state(ModelState& state, int token) const {
  auto* s = dynamic_cast<NgramState*>(&state);
  assert(s);
  s->push(*counts_, token);
}

std::optional<std::string> MarkovModel::state_key(const ModelState& state) const {
  const auto* s = dynamic_cast<const NgramState*>(&state);
  assert(s);
  // Additive smoothing reads the full context only when it was seen; the others interpolate along the seen
  // suffixes, so the longest seen one is the whole state.
  return config_.smoothing == Smoothing::additive ? s->key() : s->seen_key();
}

std::optional<std::string> MarkovModel::next_state_key(const ModelState& state, int token) const {
  const auto* s = dynamic_cast<const NgramState*>(&state);
  assert(s);
  if (config_.smoothing == Smoothing::additive) return s->key_after(counts_->order(), token);
  return s->seen_key_after(*counts_, token);
}

void MarkovModel::predict(const ModelState& state, std::span<double> probs) const {
  const auto* s = dynamic_cast<const NgramState*>(&state);
  assert(s);
  assert(probs.size() == vocab_size());
  std::fill(probs.begin(), probs.end(), 1.0 / static_cast<double>(probs.size()));
  const auto& chain = s->chain();
  size_t first = 0;
  if (config_.smoothing == Smoothing::additive) {
    if (chain.size() != s->context().size() + 1) return;
    first = s->context().size();
  }
  // Same arithmetic as probability(), one token at a time: p = lower * p + weight.
  for (size_t j = first; j < chain.size(); ++j) {
    const int32_t node = chain[j];
    const double lower = node_lower_[static_cast<size_t>(node)];
    for (double& p : probs) p *= lower;
    for (uint32_t e = counts_->entry_begin(node); e < counts_->entry_end(node); ++e)
      probs[static_cast<size_t>(counts_->entry_token(e))] += entry_weight_[e];
  }
}

std::vector<double> MarkovModel::token_log2_probs(std::span<const int> tokens, const Melody*) const {
  std::vector<double> out;
  out.reserve(tokens.size());
  NgramState state(*counts_);
  for (int t : tokens) {
    assert(t >= 0 && static_cast<size_t>(t) < vocab_size());
    out.push_back(std::log2(probability(state.chain(), state.context().size(), t)));
    state.push(*counts_, t);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> MarkovModel::config() const {
  auto out = config_options(config_);
  if (config_.smoothing == Smoothing::kneser_ney) {
    std::string text;
    for (const auto& d : discounts_)
      text += (text.empty() ? "" : "/") + markov_detail::format_real(d[0]) + "+" + markov_detail::format_real(d[1]) +
              "+" + markov_detail::format_real(d[2]);
    out.emplace_back("discounts", text);
  }
  return out;
}

uint64_t MarkovModel::count(std::span<const int> context, int token) const {
  assert(token >= 0 && static_cast<size_t>(token) < vocab_size());
  const int32_t node = counts_->find(to_symbols(context, counts_->vocab_size(), config_.order));
  return node < 0 ? 0 : counts_->count(node, token);
}

uint64_t MarkovModel::context_count(std::span<const int> context) const {
  const int32_t node = counts_->find(to_symbols(context, counts_->vocab_size(), config_.order));
  return node < 0 ? 0 : counts_->total(node);
}

std::optional<double> MarkovModel::maximum_likelihood(std::span<const int> context, int token) const {
  const uint64_t total = context_count(context);
  if (total == 0) return std::nullopt;
  return static_cast<double>(count(context, token)) / static_cast<double>(total);
}

std::array<double, 3> MarkovModel::discounts(int order) const {
  assert(order >= 0 && order <= config_.order);
  if (config_.smoothing != Smoothing::kneser_ney) return {0, 0, 0};
  return discounts_[static_cast<size_t>(order)];
}

size_t MarkovModel::stored_contexts() const { return counts_->node_count(); }

void MarkovModel::save_payload(ModelWriter& out) const {
  out.u32(kPayloadVersion);
  out.u32(static_cast<uint32_t>(config_.order));
  out.u32(static_cast<uint32_t>(counts_->vocab_size()));
  out.u8(static_cast<uint8_t>(config_.smoothing));
  out.f64(config_.alpha);
  out.u8(static_cast<uint8_t>(config_.discount_kind));
  out.f64(config_.discount);
  counts_->save(out);
}

std::shared_ptr<const MarkovModel> MarkovModel::load(const ModelHeader& header,
                                                     std::shared_ptr<const Encoding> encoding, ModelReader& reader) {
  reader.version("markov payload version", kPayloadVersion);
  MarkovConfig c;
  c.order = static_cast<int>(reader.u32_in("order", 0, kMaxOrder));
  const uint32_t v = reader.u32("vocabulary size");
  if (v != encoding->vocab().size())
    reader.fail("vocabulary size " + std::to_string(v) + " differs from the encoding's " +
                std::to_string(encoding->vocab().size()));
  const uint8_t smoothing = reader.u8("smoothing");
  if (smoothing > static_cast<uint8_t>(Smoothing::kneser_ney))
    reader.fail("smoothing " + std::to_string(smoothing) + " is unknown");
  c.smoothing = static_cast<Smoothing>(smoothing);
  c.alpha = reader.f64("alpha");
  const uint8_t kind = reader.u8("discount kind");
  if (kind > static_cast<uint8_t>(DiscountKind::fixed))
    reader.fail("discount kind " + std::to_string(kind) + " is unknown");
  c.discount_kind = static_cast<DiscountKind>(kind);
  c.discount = reader.f64("discount");
  try {
    c.validate();
  } catch (const ConfigError& e) {
    reader.fail(e.what());
  }
  auto counts = std::make_unique<NgramCounts>(NgramCounts::load(reader, static_cast<int>(v), c.order));
  return std::shared_ptr<const MarkovModel>(new MarkovModel(c, std::move(encoding), header.info, std::move(counts)));
}

// The family ------------------------------------------------------------------------------------------------

ModelFamily markov_family() {
  ModelFamily f;
  f.name = "markov";
  f.summary = "Markov chain of fixed order (order=2) with additive, Witten-Bell or Kneser-Ney smoothing";
  f.train = [](const ModelSpec& spec, const TrainingData& data) -> ModelPtr {
    const MarkovConfig config = read_config(spec);
    markov_detail::EncodedTraining training = markov_detail::encode_training("markov", data);
    const std::string resolved = ModelSpec("markov", config_options(config)).to_string();
    ModelInfo info = markov_detail::make_info(resolved, data, training);
    auto model = MarkovModel::train(config, training.encoding, training.sequences, std::move(info));
    if (data.log && config.smoothing == Smoothing::kneser_ney)
      data.log(LogLevel::info, "markov: Kneser-Ney discounts D1+D2+D3 by order: " + model->config().back().second);
    return model;
  };
  f.load = [](const ModelHeader& header, std::shared_ptr<const Encoding> encoding, ModelReader& reader) -> ModelPtr {
    return MarkovModel::load(header, std::move(encoding), reader);
  };
  return f;
}

}  // namespace antiphon
