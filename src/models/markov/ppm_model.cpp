// The `ppm` family (antiphon/models/ppm.h): a multiple-viewpoint system of PPM models as IDyOM builds it.
//
// Per viewpoint, a long-term model (a PpmTrie trained on the corpus, then read only and shared) and a
// short-term model (a PpmTrie in the caller's state, empty at start(), learning each token after predicting
// it). Each viewpoint's prediction is mapped to the encoding's tokens; the viewpoints are combined within the
// LTM and within the STM, and then the LTM with the STM (IDyOM's order, mvs:combine-predictions).
#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>

#include "antiphon/models/ppm.h"
#include "antiphon/models/registry.h"
#include "models/families.h"
#include "models/markov/combine.h"
#include "models/markov/ppm_trie.h"
#include "models/markov/viewpoints.h"

namespace antiphon {

// Config ----------------------------------------------------------------------------------------------------

namespace {

constexpr int kMaxOrder = 1000;
constexpr double kMaxBias = 1000;

const std::vector<std::string> kEscapeNames = {"A", "B", "C", "D", "X"};
const std::vector<std::string> kCombinationNames = {"arithmetic", "geometric"};

std::string escape_text(PpmEscape e) { return kEscapeNames[static_cast<size_t>(e)]; }
PpmEscape escape_of(const std::string& text) {
  return static_cast<PpmEscape>(std::find(kEscapeNames.begin(), kEscapeNames.end(), text) - kEscapeNames.begin());
}
std::string combination_text(PpmCombination c) { return kCombinationNames[static_cast<size_t>(c)]; }
PpmCombination combination_of(const std::string& text) {
  return text == "arithmetic" ? PpmCombination::arithmetic : PpmCombination::geometric;
}

std::string order_text(int order) { return order < 0 ? "star" : std::to_string(order); }

int read_order(SpecReader& r, const char* key, int fallback) {
  const std::string text = r.text(key, order_text(fallback));
  if (text == "star") return -1;
  int order = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), order);
  if (ec != std::errc() || p != text.data() + text.size() || order < 0 || order > kMaxOrder)
    throw ConfigError("ppm: " + std::string(key) + "=" + text + " is not 'star' or an integer 0.." +
                      std::to_string(kMaxOrder));
  return order;
}

PpmMemoryConfig read_memory(SpecReader& r, const std::string& prefix, const PpmMemoryConfig& fallback) {
  PpmMemoryConfig m;
  m.order = read_order(r, (prefix + "order").c_str(), fallback.order);
  m.escape = escape_of(r.choice(prefix + "escape", escape_text(fallback.escape), kEscapeNames));
  m.blend = r.flag(prefix + "blend", fallback.blend);
  m.exclusion = r.flag(prefix + "exclusion", fallback.exclusion);
  m.update_exclusion = r.flag(prefix + "update_exclusion", fallback.update_exclusion);
  return m;
}

void write_memory(std::vector<std::pair<std::string, std::string>>& out, const std::string& prefix,
                  const PpmMemoryConfig& m) {
  out.emplace_back(prefix + "order", order_text(m.order));
  out.emplace_back(prefix + "escape", escape_text(m.escape));
  out.emplace_back(prefix + "blend", m.blend ? "1" : "0");
  out.emplace_back(prefix + "exclusion", m.exclusion ? "1" : "0");
  out.emplace_back(prefix + "update_exclusion", m.update_exclusion ? "1" : "0");
}

// Shortest text that reads back as the same double.
std::string real_text(double x) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, x);
  assert(ec == std::errc());
  return std::string(buf, p);
}

std::string join_plus(const std::vector<std::string>& items) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : "+") + i;
  return s;
}

}  // namespace

void PpmModelConfig::validate() const {
  if (!ltm && !stm) throw ConfigError("ppm: ltm=0 and stm=0 leave no model to predict with");
  for (const auto* m : {&ltm_memory, &stm_memory})
    if (m->order < -1 || m->order > kMaxOrder)
      throw ConfigError("ppm: order " + std::to_string(m->order) + " is outside -1 (star)..1000");
  for (double b : {viewpoint_bias, ltm_stm_bias})
    if (!(b >= 0 && b <= kMaxBias)) throw ConfigError("ppm: bias " + real_text(b) + " is outside 0..1000");
}

PpmModelConfig PpmModelConfig::from_spec(const ModelSpec& spec) {
  SpecReader r(spec);
  PpmModelConfig c;
  c.ltm_memory = read_memory(r, "", c.ltm_memory);
  c.ltm = r.flag("ltm", c.ltm);
  c.stm = r.flag("stm", c.stm);
  c.stm_memory = read_memory(r, "stm_", c.stm_memory);
  c.viewpoints = r.list("viewpoints", {});
  c.viewpoint_combination =
      combination_of(r.choice("viewpoint_combination", combination_text(c.viewpoint_combination), kCombinationNames));
  c.viewpoint_bias = r.real("viewpoint_bias", c.viewpoint_bias, 0, kMaxBias);
  c.ltm_stm_combination =
      combination_of(r.choice("ltm_stm_combination", combination_text(c.ltm_stm_combination), kCombinationNames));
  c.ltm_stm_bias = r.real("ltm_stm_bias", c.ltm_stm_bias, 0, kMaxBias);
  r.finish();
  c.validate();
  return c;
}

std::vector<std::pair<std::string, std::string>> PpmModelConfig::options() const {
  std::vector<std::pair<std::string, std::string>> out;
  write_memory(out, "", ltm_memory);
  out.emplace_back("ltm", ltm ? "1" : "0");
  out.emplace_back("stm", stm ? "1" : "0");
  write_memory(out, "stm_", stm_memory);
  if (!viewpoints.empty()) out.emplace_back("viewpoints", join_plus(viewpoints));
  out.emplace_back("viewpoint_combination", combination_text(viewpoint_combination));
  out.emplace_back("viewpoint_bias", real_text(viewpoint_bias));
  out.emplace_back("ltm_stm_combination", combination_text(ltm_stm_combination));
  out.emplace_back("ltm_stm_bias", real_text(ltm_stm_bias));
  return out;
}

// Model -----------------------------------------------------------------------------------------------------

namespace {

using ppm::BasicAlphabet;
using ppm::PpmTrie;
using ppm::ViewEvent;
using ppm::Viewpoint;
using ppm::ViewpointAlphabet;

constexpr uint32_t kPayloadVersion = 1;

ppm::PpmConfig trie_config(const PpmMemoryConfig& m) {
  ppm::PpmConfig c;
  c.order = m.order;
  c.escape = static_cast<ppm::Escape>(static_cast<int>(m.escape));
  c.blend = m.blend;
  c.exclusion = m.exclusion;
  c.update_exclusion = m.update_exclusion;
  return c;
}

bool same_trie_config(const ppm::PpmConfig& a, const ppm::PpmConfig& b) {
  return a.order == b.order && a.escape == b.escape && a.blend == b.blend && a.exclusion == b.exclusion &&
         a.update_exclusion == b.update_exclusion;
}

// The viewpoints of a config, checked against the encoding (defaults: cpitch, or token for other encodings).
std::vector<Viewpoint> resolve_viewpoints(PpmModelConfig& config, const BasicAlphabet& basic) {
  if (config.viewpoints.empty()) config.viewpoints = {basic.is_target() ? "cpitch" : "token"};
  std::vector<Viewpoint> out;
  for (const std::string& text : config.viewpoints) {
    Viewpoint v = Viewpoint::parse(text);
    for (ppm::Primitive p : v.parts())
      if (!ppm::is_available(p, basic))
        throw ConfigError("ppm: viewpoint '" + text + "' needs the pitch or pitchdur encoding; encoding '" +
                          basic.encoding_name + "' allows only viewpoints=token");
    for (const Viewpoint& w : out)
      if (w.name() == v.name()) throw ConfigError("ppm: viewpoint '" + text + "' is listed twice");
    out.push_back(std::move(v));
  }
  return out;
}

// Whether the viewpoints read more of an event than its pitch (and token): durations, onsets, keys, bars or
// phrases. When they do not, events are built from the tokens alone and no source melody is needed, which
// spares deriving every attribute of every note (most of the work of the plain cpitch model otherwise).
bool needs_source(const std::vector<Viewpoint>& viewpoints) {
  for (const Viewpoint& v : viewpoints)
    for (ppm::Primitive p : v.parts())
      switch (p) {
        case ppm::Primitive::token:
        case ppm::Primitive::cpitch:
        case ppm::Primitive::cpitch_class:
        case ppm::Primitive::cpint:
        case ppm::Primitive::cpint_size:
        case ppm::Primitive::cpcint:
        case ppm::Primitive::contour:
        case ppm::Primitive::cpintfip:
          break;
        default:
          return true;
      }
  return false;
}

class PpmState final : public ModelState {
 public:
  std::unique_ptr<ModelState> clone() const override { return std::make_unique<PpmState>(*this); }

  std::vector<ViewEvent> source;         // the source melody's events (context known)
  std::vector<ViewEvent> events;         // the events fed so far
  std::vector<PpmTrie::Context> ltm_at;  // per viewpoint, where its sequence stands in the LTM
  std::vector<PpmTrie> stm;              // per viewpoint, the short-term model (when used)
  std::vector<PpmTrie::Context> stm_at;
};

class PpmModel final : public SequenceModel {
 public:
  PpmModel(ModelInfo info, std::shared_ptr<const Encoding> encoding, PpmModelConfig config,
           std::vector<Viewpoint> viewpoints, std::vector<ViewpointAlphabet> alphabets, std::vector<PpmTrie> ltm)
      : SequenceModel(std::move(info), std::move(encoding)),
        basic_(BasicAlphabet::of(this->encoding())),
        config_(std::move(config)),
        viewpoints_(std::move(viewpoints)),
        alphabets_(std::move(alphabets)),
        ltm_(std::move(ltm)) {
    assert(alphabets_.size() == viewpoints_.size());
    assert(ltm_.size() == (config_.ltm ? viewpoints_.size() : 0));
    direct_ = is_direct();
    needs_source_ = needs_source(viewpoints_);
  }


  std::unique_ptr<ModelState> start(const Melody* source) const override {
    auto state = std::make_unique<PpmState>();
    if (source && basic_.is_target() && needs_source_) state->source = ppm::view_events(*source);
    const size_t n = viewpoints_.size();
    if (config_.ltm)
      for (size_t k = 0; k < n; ++k) state->ltm_at.push_back(ltm_[k].root());
    if (config_.stm)
      for (size_t k = 0; k < n; ++k) {
        state->stm.emplace_back(static_cast<int>(alphabets_[k].size()), trie_config(config_.stm_memory));
        state->stm_at.push_back(state->stm.back().root());
      }
    return state;
  }

  void predict(const ModelState& base, std::span<double> probs) const override {
    const auto& state = static_cast<const PpmState&>(base);
    const size_t vocab = vocab_size();
    assert(probs.size() == vocab);
    if (direct_) {
      predict_direct(state, probs);
      return;
    }
    const size_t i = state.events.size();
    const ViewEvent* from_source = i < state.source.size() ? &state.source[i] : nullptr;
    std::vector<ViewEvent> candidates;
    candidates.reserve(vocab);
    for (size_t t = 0; t < vocab; ++t) candidates.push_back(basic_.event(static_cast<int>(t), from_source));

    // Per memory, one distribution over the tokens per viewpoint that takes part.
    std::vector<std::vector<double>> ltm_dists, stm_dists;
    std::vector<int> symbols(vocab);
    std::vector<double> viewpoint_probs;
    std::vector<int> counts;
    std::vector<uint8_t> reachable;
    for (size_t k = 0; k < viewpoints_.size(); ++k) {
      if (!candidate_symbols(k, state.events, candidates, symbols)) continue;
      viewpoint_probs.resize(alphabets_[k].size());
      counts.assign(alphabets_[k].size(), 0);
      reachable.assign(alphabets_[k].size(), 0);
      for (int s : symbols) reachable[static_cast<size_t>(s)] = 1;
      if (config_.ltm) {
        predict_reachable(ltm_[k], state.ltm_at[k], reachable, viewpoint_probs);
        ltm_dists.emplace_back(vocab);
        ppm::map_to_tokens(viewpoint_probs, symbols, counts, ltm_dists.back());
      }
      if (config_.stm) {
        predict_reachable(state.stm[k], state.stm_at[k], reachable, viewpoint_probs);
        stm_dists.emplace_back(vocab);
        ppm::map_to_tokens(viewpoint_probs, symbols, counts, stm_dists.back());
      }
    }
    if (ltm_dists.empty() && stm_dists.empty()) {  // no viewpoint is defined here (IDyOM: uniform)
      std::fill(probs.begin(), probs.end(), 1.0 / static_cast<double>(vocab));
      return;
    }
    std::vector<double> ltm_combined(vocab), stm_combined(vocab);
    if (config_.ltm) combine(ltm_dists, config_.viewpoint_combination, config_.viewpoint_bias, ltm_combined);
    if (config_.stm) combine(stm_dists, config_.viewpoint_combination, config_.viewpoint_bias, stm_combined);
    if (config_.ltm && config_.stm) {
      const std::span<const double> both[] = {ltm_combined, stm_combined};
      ppm::combine_distributions(both, config_.ltm_stm_combination, config_.ltm_stm_bias, probs);
    } else {
      const auto& only = config_.ltm ? ltm_combined : stm_combined;
      std::copy(only.begin(), only.end(), probs.begin());
    }
  }

  std::vector<std::pair<std::string, std::string>> config() const override { return config_.options(); }

  // The long-term model's context when it alone predicts the tokens directly; the short-term model and the
  // derived viewpoints depend on the whole history (nullopt).
  std::optional<std::string> state_key(const ModelState& base) const override {
    if (!direct_ || config_.stm || !config_.ltm) return std::nullopt;
    return static_cast<const PpmState&>(base).ltm_at[0].key();
  }
  std::optional<std::string> next_state_key(const ModelState& base, int token) const override {
    if (!direct_ || config_.stm || !config_.ltm) return std::nullopt;
    PpmTrie::Context next = static_cast<const PpmState&>(base).ltm_at[0];
    ltm_[0].advance(next, token);
    return next.key();
  }

  void save_payload(ModelWriter& out) const override {
    out.u32(kPayloadVersion);
    out.u32(static_cast<uint32_t>(viewpoints_.size()));
    for (size_t k = 0; k < viewpoints_.size(); ++k) {
      out.str(viewpoints_[k].name());
      alphabets_[k].save(out);
      if (config_.ltm) ltm_[k].save(out);
    }
  }

 protected:
  void advance_state(ModelState& base, int token) const override {
    auto& state = static_cast<PpmState&>(base);
    if (direct_) {  // the token is the viewpoint's symbol
      if (config_.ltm) ltm_[0].advance(state.ltm_at[0], token);
      if (config_.stm) state.stm[0].learn(state.stm_at[0], token);
      ViewEvent event;
      event.token = token;
      state.events.push_back(std::move(event));
      return;
    }
    const size_t i = state.events.size();
    const ViewEvent* from_source = i < state.source.size() ? &state.source[i] : nullptr;
    ViewEvent event = basic_.event(token, from_source);
    for (size_t k = 0; k < viewpoints_.size(); ++k) {
      auto value = viewpoints_[k].value(state.events, event);
      if (!value) continue;  // viewpoint sequences skip the events where they are undefined
      const int symbol = alphabets_[k].symbol(*value);
      if (symbol < 0) {
        // A value never seen in training (e.g. a new duration): no context containing it has counts, so the
        // models start again from the empty context.
        if (config_.ltm) state.ltm_at[k] = ltm_[k].root();
        if (config_.stm) state.stm_at[k] = state.stm[k].root();
        continue;
      }
      if (config_.ltm) ltm_[k].advance(state.ltm_at[k], symbol);
      if (config_.stm) state.stm[k].learn(state.stm_at[k], symbol);
    }
    state.events.push_back(std::move(event));
  }

 private:
  // Whether the model is one viewpoint whose symbols are the tokens themselves (cpitch on the pitch target, or
  // token): then its tries predict the tokens directly, with nothing to map or combine across viewpoints
  // (IDyOM's reference configuration, and the one cross-validation runs most).
  bool is_direct() const {
    if (viewpoints_.size() != 1) return false;
    const std::string& name = viewpoints_[0].name();
    if (name != "cpitch" && name != "token") return false;
    const size_t vocab = vocab_size();
    if (alphabets_[0].size() != vocab) return false;
    for (size_t t = 0; t < vocab; ++t) {
      auto value = viewpoints_[0].value({}, basic_.event(static_cast<int>(t), nullptr));
      if (!value || alphabets_[0].symbol(*value) != static_cast<int>(t)) return false;
    }
    return true;
  }

  void predict_direct(const PpmState& state, std::span<double> probs) const {
    if (config_.ltm && !config_.stm) return ltm_[0].predict(state.ltm_at[0], probs);
    if (!config_.ltm) return state.stm[0].predict(state.stm_at[0], probs);
    thread_local std::vector<double> ltm_probs, stm_probs;
    ltm_probs.resize(probs.size());
    stm_probs.resize(probs.size());
    ltm_[0].predict(state.ltm_at[0], ltm_probs);
    state.stm[0].predict(state.stm_at[0], stm_probs);
    const std::span<const double> both[] = {ltm_probs, stm_probs};
    ppm::combine_distributions(both, config_.ltm_stm_combination, config_.ltm_stm_bias, probs);
  }

  // The symbol of viewpoint k's value for each candidate token; false when the viewpoint does not take part
  // (undefined here, or a value outside its alphabet).
  bool candidate_symbols(size_t k, std::span<const ViewEvent> history, const std::vector<ViewEvent>& candidates,
                         std::vector<int>& symbols) const {
    for (size_t t = 0; t < candidates.size(); ++t) {
      auto value = viewpoints_[k].value(history, candidates[t]);
      if (!value) return false;
      symbols[t] = alphabets_[k].symbol(*value);
      if (symbols[t] < 0) return false;
    }
    return true;
  }

  // A viewpoint's prediction over the values the candidate tokens reach here. IDyOM predicts over this
  // per-event alphabet (the counts of other values and their share of the order -1 escape do not take part),
  // which matters for the short-term model of a derived viewpoint, whose few counts would otherwise leave
  // most of the escape probability on values no token can take.
  static void predict_reachable(const PpmTrie& trie, const PpmTrie::Context& context,
                                std::span<const uint8_t> reachable, std::span<double> out) {
    trie.predict(context, reachable, out);
  }

  static void combine(const std::vector<std::vector<double>>& dists, PpmCombination rule, double bias,
                      std::span<double> out) {
    std::vector<std::span<const double>> spans(dists.begin(), dists.end());
    ppm::combine_distributions(spans, rule, bias, out);
  }

  BasicAlphabet basic_;
  PpmModelConfig config_;  // viewpoints resolved
  std::vector<Viewpoint> viewpoints_;
  std::vector<ViewpointAlphabet> alphabets_;
  std::vector<PpmTrie> ltm_;  // per viewpoint when config_.ltm
  bool direct_ = false;       // see is_direct()
  bool needs_source_ = true;  // see needs_source()
};

ModelPtr train_ppm(const ModelSpec& spec, const TrainingData& data) {
  PpmModelConfig config = PpmModelConfig::from_spec(spec);
  std::shared_ptr<const Encoding> encoding = training_encoding(data);
  const BasicAlphabet basic = BasicAlphabet::of(*encoding);
  std::vector<Viewpoint> viewpoints = resolve_viewpoints(config, basic);

  // The training melodies as events (empty ones skipped).
  const std::vector<std::vector<int>> tokens = encode_melodies(*encoding, *data.melodies);
  std::vector<std::vector<ViewEvent>> melodies;
  size_t token_count = 0;
  for (size_t m = 0; m < tokens.size(); ++m) {
    if (tokens[m].empty()) continue;
    std::vector<ViewEvent> events;
    if (basic.is_target() && needs_source(viewpoints)) {
      events = ppm::view_events((*data.melodies)[m]);
      assert(events.size() == tokens[m].size());
    } else if (basic.is_target()) {
      events.reserve(tokens[m].size());
      for (int t : tokens[m]) events.push_back(basic.event(t, nullptr));
    } else {
      events.resize(tokens[m].size());
    }
    for (size_t i = 0; i < events.size(); ++i) events[i].token = tokens[m][i];
    token_count += events.size();
    melodies.push_back(std::move(events));
  }
  if (melodies.empty())
    throw ConfigError("ppm: no training melodies with notes (" + std::to_string(tokens.size()) + " given)");

  std::vector<ViewpointAlphabet> alphabets;
  std::vector<PpmTrie> ltm;
  for (const Viewpoint& v : viewpoints) {
    std::vector<std::vector<ppm::ViewpointValue>> sequences;
    std::vector<ppm::ViewpointValue> all;
    for (const auto& events : melodies) {
      std::vector<ppm::ViewpointValue> seq;
      for (size_t i = 0; i < events.size(); ++i)
        if (auto value = v.value(std::span(events).first(i), events[i])) seq.push_back(*value);
      all.insert(all.end(), seq.begin(), seq.end());
      sequences.push_back(std::move(seq));
    }
    if (all.empty())
      throw ConfigError("ppm: viewpoint '" + v.name() + "' is undefined on every note of the training melodies");
    ViewpointAlphabet alphabet = ViewpointAlphabet::build(v, all, basic);
    if (config.ltm) {
      PpmTrie trie(static_cast<int>(alphabet.size()), trie_config(config.ltm_memory));
      std::vector<int> symbols;
      for (const auto& seq : sequences) {
        symbols.clear();
        for (const auto& value : seq) symbols.push_back(alphabet.symbol(value));
        if (!symbols.empty()) trie.add_sequence(symbols);
      }
      ltm.push_back(std::move(trie));
    }
    alphabets.push_back(std::move(alphabet));
    if (data.log)
      data.log(LogLevel::info,
               "ppm: viewpoint " + v.name() + ": " + std::to_string(alphabets.back().size()) + " values");
  }

  ModelInfo info;
  info.family = "ppm";
  info.spec = ModelSpec("ppm", config.options()).to_string();
  info.encoding = encoding->spec();
  info.corpus = data.corpus;
  info.corpus_fingerprint = data.corpus_fingerprint;
  info.training_melodies = melodies.size();
  info.training_tokens = token_count;
  return std::make_shared<PpmModel>(std::move(info), std::move(encoding), std::move(config), std::move(viewpoints),
                                    std::move(alphabets), std::move(ltm));
}

ModelPtr load_ppm(const ModelHeader& header, std::shared_ptr<const Encoding> encoding, ModelReader& in) {
  PpmModelConfig config;
  std::vector<Viewpoint> viewpoints;
  const BasicAlphabet basic = BasicAlphabet::of(*encoding);
  try {
    config = PpmModelConfig::from_spec(ModelSpec("ppm", header.config));
    if (config.viewpoints.empty()) in.fail("the header's config has no viewpoints");
    viewpoints = resolve_viewpoints(config, basic);
  } catch (const ConfigError& e) {
    in.fail(std::string("bad ppm config in the header: ") + e.what());
  }
  const uint32_t version = in.u32("ppm payload version");
  if (version != kPayloadVersion) in.fail("ppm payload version " + std::to_string(version) + " is not 1");
  const uint32_t count = in.u32("viewpoint count");
  if (count != viewpoints.size())
    in.fail("the payload has " + std::to_string(count) + " viewpoints, the header " +
            std::to_string(viewpoints.size()));
  std::vector<ViewpointAlphabet> alphabets;
  std::vector<PpmTrie> ltm;
  for (const Viewpoint& v : viewpoints) {
    const std::string name = in.str("viewpoint name");
    if (name != v.name()) in.fail("viewpoint '" + name + "' where the header has '" + v.name() + "'");
    ViewpointAlphabet alphabet = ViewpointAlphabet::load(in);
    if (alphabet.size() == 0) in.fail("viewpoint '" + name + "' has an empty alphabet");
    for (const auto& value : alphabet.values())
      if (value.size != v.parts().size()) in.fail("viewpoint '" + name + "' has the value " + value.to_string());
    // The alphabet must hold every value a candidate token can take (what build() adds), or predict() would
    // silently drop the viewpoint.
    ViewpointAlphabet closed;
    try {
      closed = ViewpointAlphabet::build(v, alphabet.values(), basic);
    } catch (const ConfigError& e) {
      in.fail(e.what());
    }
    if (closed.size() != alphabet.size())
      in.fail("viewpoint '" + name + "' lacks values the encoding's tokens reach (" + std::to_string(alphabet.size()) +
              " of " + std::to_string(closed.size()) + ")");
    if (config.ltm) {
      PpmTrie trie = PpmTrie::load(in);
      if (trie.alphabet_size() != static_cast<int>(alphabet.size()))
        in.fail("viewpoint '" + name + "': the trie's alphabet has " + std::to_string(trie.alphabet_size()) +
                " symbols, the viewpoint " + std::to_string(alphabet.size()));
      if (!same_trie_config(trie.config(), trie_config(config.ltm_memory)))
        in.fail("viewpoint '" + name + "': the trie's options differ from the header's");
      ltm.push_back(std::move(trie));
    }
    alphabets.push_back(std::move(alphabet));
  }
  return std::make_shared<PpmModel>(header.info, std::move(encoding), std::move(config), std::move(viewpoints),
                                    std::move(alphabets), std::move(ltm));
}

}  // namespace

ModelFamily ppm_family() {
  ModelFamily f;
  f.name = "ppm";
  f.summary =
      "PPM over multiple viewpoints with long- and short-term models, as IDyOM (order, escape, stm, viewpoints)";
  f.train = train_ppm;
  f.load = load_ppm;
  return f;
}

}  // namespace antiphon
