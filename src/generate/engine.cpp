// The generation engine: one region of tokens sampled after a context (and, for infilling, before a right-hand
// context), under constraints, by whichever method the model allows (generate.h). Every request
// (generate, infill, respond) becomes a Problem and goes through solve().
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "antiphon/core/error.h"
#include "antiphon/generate/generate.h"
#include "antiphon/models/registry.h"
#include "generate/clock.h"

namespace antiphon {

namespace {

using gen::ClockState;
using gen::Effect;
using gen::Sound;

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
// Exact sampling over a model without a finite state enumerates token paths; beyond this many it gives way.
constexpr double kTreePathLimit = 4096;
constexpr int64_t kMaxRegionQuarters = 1024;

double log2_add(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  const double m = std::max(a, b);
  return m + std::log2(std::exp2(a - m) + std::exp2(b - m));
}

void append_bytes(std::string& out, int64_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof v); }

// ---------------------------------------------------------------------------------------------------------
// Rules: what the region may contain (the constraints, or none for the structural check) and when it is done.

struct Rules {
  const Constraints* c = nullptr;  // nullptr: the structure only (length, no holding a context note)
  Rational length;                 // where the tokens end (the rhythm's last note end for the pitch target)
  Rational step;                   // 1 / steps_per_quarter
  bool end_allowed = false;        // the end symbol may stop the region early
  bool must_end_on_note = false;   // the right-hand context starts with a rest

  struct Heard {
    bool onset = false;
    bool silence = false;
    int pitch = -1;
  };

  static bool meets(const StepConstraint& sc, const Heard& h) {
    switch (sc.kind) {
      case StepKind::free:
        return true;
      case StepKind::onset:
        return h.onset && !h.silence;
      case StepKind::pitch:
        return h.onset && !h.silence && std::binary_search(sc.pitches.begin(), sc.pitches.end(), h.pitch);
      case StepKind::hold:
        return !h.onset;
      case StepKind::rest:
        return h.silence;
    }
    return false;
  }

  bool allows(const ClockState& s, const Effect& e) const {
    if (!e.valid) return false;
    if (e.end) return end_allowed && s.notes > 0;
    if (e.finish > length) return false;
    // The region starts something of its own: holding the context's last note would change it.
    if (e.begin == Rational(0) && e.sound == Sound::hold && s.sounding >= 0) return false;
    if (!c) return true;
    if (e.sound == Sound::note) {
      const auto step_of_onset = static_cast<int>(floor_div(e.begin, step));
      if (!c->pitch_allowed(step_of_onset, e.pitch)) return false;
      const auto k = static_cast<size_t>(s.notes);
      if (k < c->contour.size() && s.last_pitch >= 0) {
        switch (c->contour[k]) {
          case Contour::any:
            break;
          case Contour::up:
            if (e.pitch <= s.last_pitch) return false;
            break;
          case Contour::down:
            if (e.pitch >= s.last_pitch) return false;
            break;
          case Contour::same:
            if (e.pitch != s.last_pitch) return false;
            break;
        }
      }
    }
    if (c->steps.empty()) return true;
    // Every constrained step the token covers, the implied rest before a target note included.
    const int64_t total = static_cast<int64_t>(c->steps.size());
    int64_t k = floor_div(e.gap_begin, step);
    if (Rational(k) * step < e.gap_begin) ++k;
    for (; k < total; ++k) {
      const Rational t = Rational(k) * step;
      if (t >= e.finish) break;
      Heard h;
      if (t < e.begin) {  // the gap
        h.silence = true;
        h.onset = t == e.gap_begin && s.sounding != gen::kSilence;
      } else if (t == e.begin) {
        switch (e.sound) {
          case Sound::note:
            h.onset = true;
            h.pitch = e.pitch;
            break;
          case Sound::rest:
            h.onset = true;
            h.silence = true;
            break;
          case Sound::hold:
            h.silence = s.sounding < 0;
            h.pitch = s.sounding;
            break;
        }
        if (e.gap_begin < e.begin && e.sound == Sound::note) h.silence = false;
      } else {
        h.silence = e.sound == Sound::rest || (e.sound == Sound::hold && s.sounding < 0);
        h.pitch = e.sound == Sound::note ? e.pitch : s.sounding;
      }
      if (!meets(c->steps[static_cast<size_t>(k)], h)) return false;
    }
    return true;
  }

  bool terminal(const ClockState& s) const { return s.ended || s.time == length; }

  bool terminal_ok(const ClockState& s) const {
    if (s.ended) return true;
    if (must_end_on_note && s.sounding < 0) return false;
    if (c && c->final_pitch_classes) {
      if (s.notes == 0 || s.last_pitch < 0) return false;
      if (!(*c->final_pitch_classes)[static_cast<size_t>(s.last_pitch % 12)]) return false;
    }
    return true;
  }
};

// What of a clock state the lattice tells apart.
struct KeyShape {
  bool pitch = false;  // the last pitch (contour, intervals)
  // Only whether the last pitch may end the region (a final pitch-class set without contour or intervals):
  // tracking the pitch itself would multiply the states by the keyboard.
  const PitchClassSet* final_classes = nullptr;
  int notes = 0;       // the count of notes, up to this (a contour's length, or all of a given rhythm)
};

// The part of a clock state the lattice tells apart, as a hashable value.
struct ClockKey {
  int64_t num = 0;
  int64_t den = 1;
  int32_t sounding = 0;
  int32_t last_pitch = 0;
  int32_t notes = 0;
  bool ended = false;
  friend bool operator==(const ClockKey&, const ClockKey&) = default;
  // Appends the fields (not the padding) to a byte key.
  void append_to(std::string& out) const {
    append_bytes(out, num);
    append_bytes(out, den);
    append_bytes(out, (static_cast<int64_t>(sounding) << 32) ^ static_cast<uint32_t>(last_pitch));
    append_bytes(out, (static_cast<int64_t>(notes) << 1) | (ended ? 1 : 0));
  }
};

struct ClockKeyHash {
  size_t operator()(const ClockKey& k) const {
    uint64_t h = static_cast<uint64_t>(k.num) * 0x9e3779b97f4a7c15ULL;
    h ^= static_cast<uint64_t>(k.den) + 0x7f4a7c159e3779b9ULL + (h << 6) + (h >> 2);
    h ^= (static_cast<uint64_t>(static_cast<uint32_t>(k.sounding)) << 40) ^
         (static_cast<uint64_t>(static_cast<uint32_t>(k.last_pitch)) << 20) ^ static_cast<uint64_t>(k.notes) ^
         (k.ended ? 0x5555555555555555ULL : 0);
    h *= 0xff51afd7ed558ccdULL;
    return static_cast<size_t>(h ^ (h >> 33));
  }
};

ClockKey clock_key(const ClockState& s, const KeyShape& shape) {
  ClockKey k;
  k.num = s.time.num();
  k.den = s.time.den();
  k.sounding = std::min(s.sounding, 0);  // nothing, silence or a note: the rules need no more
  if (shape.pitch)
    k.last_pitch = s.last_pitch;
  else if (shape.final_classes)
    k.last_pitch = s.last_pitch >= 0 && (*shape.final_classes)[static_cast<size_t>(s.last_pitch % 12)] ? 1 : 0;
  k.notes = shape.notes > 0 ? std::min(s.notes, shape.notes) : 0;
  k.ended = s.ended;
  return k;
}

// ---------------------------------------------------------------------------------------------------------
// The model-free lattice: from a clock state, how many token sequences complete the region under the rules
// (0: none). Masking consults it so no draw walks into a dead end; a count within kTreePathLimit lets exact
// sampling enumerate a model that has no finite state. The moves out of a state are listed only for the
// states sampling and the exact lattice visit (an encoding with thousands of tokens would not fit otherwise).

class Feasibility {
 public:
  // A token allowed from a clock state and leading where the region can still be completed.
  struct Move {
    int token;
    ClockState next;
    ClockKey next_key;
  };

  Feasibility(const gen::Clock& clock, const Rules& rules, int vocab, KeyShape shape)
      : clock_(clock), rules_(rules), vocab_(vocab), shape_(shape) {}

  double paths(const ClockState& s) { return paths(s, clock_key(s, shape_)); }
  double paths(const ClockState& s, const ClockKey& key) {
    if (auto it = paths_.find(key); it != paths_.end()) return it->second;
    double count = 0;
    if (rules_.terminal(s)) {
      count = rules_.terminal_ok(s) ? 1 : 0;
    } else {
      for (int t = 0; t < vocab_; ++t) {
        const Effect e = clock_.effect(s, t);
        if (!rules_.allows(s, e)) continue;
        ClockState next = s;
        gen::apply(next, e);
        count = std::min(count + paths(next, clock_key(next, shape_)), 1e300);
      }
    }
    paths_.emplace(key, count);
    return count;
  }
  bool feasible(const ClockState& s) { return paths(s) > 0; }

  // The moves out of a state (references stay valid: the map's nodes never move).
  const std::vector<Move>& moves(const ClockState& s) {
    const ClockKey key = clock_key(s, shape_);
    if (auto it = moves_.find(key); it != moves_.end()) return it->second;
    std::vector<Move> out;
    if (!rules_.terminal(s))
      for (int t = 0; t < vocab_; ++t) {
        const Effect e = clock_.effect(s, t);
        if (!rules_.allows(s, e)) continue;
        Move m{t, s, {}};
        gen::apply(m.next, e);
        m.next_key = clock_key(m.next, shape_);
        if (paths(m.next, m.next_key) > 0) out.push_back(m);
      }
    return moves_.emplace(key, std::move(out)).first->second;
  }
  const Rules& rules() const { return rules_; }
  const gen::Clock& clock() const { return clock_; }
  int vocab() const { return vocab_; }
  const KeyShape& shape() const { return shape_; }

 private:
  const gen::Clock& clock_;
  Rules rules_;
  int vocab_;
  KeyShape shape_;
  std::unordered_map<ClockKey, double, ClockKeyHash> paths_;
  std::unordered_map<ClockKey, std::vector<Move>, ClockKeyHash> moves_;
};

struct LatticeTooLarge {};

// The sampler chain's edit of a whole distribution (dense, zeros for what it drops). The exact lattice and
// rejection condition this edited chain on the constraints, so both give the same distribution.
void edit(const SamplerChain* chain, std::vector<double>& probs) {
  if (!chain || chain->empty()) return;
  std::vector<Candidate> cands;
  cands.reserve(probs.size());
  for (size_t t = 0; t < probs.size(); ++t)
    if (probs[t] > 0) cands.push_back({static_cast<int>(t), probs[t]});
  chain->apply(cands);
  std::fill(probs.begin(), probs.end(), 0.0);
  for (const Candidate& c : cands) probs[static_cast<size_t>(c.token)] = c.prob;
}

// What comes after the region: the right-hand context's tokens, scored from the state the region ends in.
struct RightContext {
  const gen::Clock* clock = nullptr;
  const Melody* full = nullptr;  // nullptr: none
  Rational at;
  mutable std::unordered_map<int, std::vector<int>> cache;  // by the region's last pitch

  bool present() const { return full != nullptr; }
  const std::vector<int>& tokens(const ClockState& terminal) const {
    const int key = clock->relative() ? terminal.last_pitch : 0;
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, clock->right_tokens(*full, at, terminal)).first;
    return it->second;
  }
  double log2_prob(const SequenceModel& model, const ModelState& state, const ClockState& terminal) const {
    if (!present() || terminal.ended) return 0;
    const auto& right = tokens(terminal);
    if (right.empty()) return 0;
    auto s = state.clone();
    std::vector<double> probs(model.vocab_size());
    double total = 0;
    for (int t : right) {
      model.predict(*s, probs);
      total += std::log2(probs[static_cast<size_t>(t)]);
      model.advance(*s, t);
    }
    return total;
  }
};

// The exact lattice: log2 of P(the rest of the region meets the rules, and the right-hand context follows |
// clock state, model state), memoised on (clock state, the model's state key or the region's tokens).
class Lattice {
 public:
  Lattice(const SequenceModel& model, Feasibility& feasibility, const RightContext& right, KeyShape shape,
          size_t context_tokens, size_t node_limit, const SamplerChain* chain)
      : model_(model), feas_(feasibility), right_(right), shape_(shape), context_tokens_(context_tokens),
        node_limit_(node_limit), chain_(chain) {}

  std::string key(const ClockState& cs, const ModelState& ms) const {
    std::string k;
    clock_key(cs, shape_).append_to(k);  // the same bytes as child() builds from a move
    if (auto mk = model_.state_key(ms)) {
      k += *mk;
    } else {
      const auto& h = ms.history();
      for (size_t i = context_tokens_; i < h.size(); ++i) append_bytes(k, h[i]);
    }
    return k;
  }

  double log_beta(const ClockState& cs, const ModelState& ms) {
    std::string k = key(cs, ms);
    if (auto it = memo_.find(k); it != memo_.end()) return it->second;
    if (work_ >= node_limit_) throw LatticeTooLarge{};
    double value = kNegInf;
    const Rules& rules = feas_.rules();
    if (rules.terminal(cs)) {
      value = rules.terminal_ok(cs) ? right_.log2_prob(model_, ms, cs) : kNegInf;
    } else {
      probs_.resize(model_.vocab_size());
      model_.predict(ms, probs_);
      edit(chain_, probs_);
      // Copies: the recursion below reuses probs_ and may rehash nothing it holds references into.
      std::vector<std::pair<int, double>> weights;
      const auto& moves = feas_.moves(cs);
      work_ += moves.size() + 1;
      for (const auto& m : moves) weights.push_back({m.token, probs_[static_cast<size_t>(m.token)]});
      for (size_t i = 0; i < moves.size(); ++i) {
        if (weights[i].second <= 0) continue;
        value = log2_add(value, std::log2(weights[i].second) + child(moves[i], ms));
      }
    }
    memo_.emplace(std::move(k), value);
    return value;
  }

  // log_beta of the state after `token` (whose clock state is `next`), looked up without building the model's
  // next state when the model can name it.
  double child(const Feasibility::Move& move, const ModelState& ms) {
    if (auto mk = model_.next_state_key(ms, move.token)) {
      std::string k;
      move.next_key.append_to(k);
      k += *mk;
      if (auto it = memo_.find(k); it != memo_.end()) return it->second;
    }
    auto state = ms.clone();
    model_.advance(*state, move.token);
    return log_beta(move.next, *state);
  }

 private:
  const SequenceModel& model_;
  Feasibility& feas_;
  const RightContext& right_;
  KeyShape shape_;
  size_t context_tokens_;
  size_t node_limit_;   // the most work (nodes expanded plus the moves out of them)
  size_t work_ = 0;
  std::unordered_map<std::string, double> memo_;
  std::vector<double> probs_;
  const SamplerChain* chain_;
};

// ---------------------------------------------------------------------------------------------------------
// The problem every request becomes.

struct Problem {
  const SequenceModel* model = nullptr;
  std::unique_ptr<gen::Clock> clock;
  Melody output_before;          // the output's notes before the region (the primer or call as given)
  Melody output_after;           // infill: the notes after the region (onsets from its end)
  Melody context;                // what the model reads before the region (a trimmed call, a primer)
  Melody source;                 // given to start(): context, region rhythm and right side
  std::vector<int> context_tokens;
  Rational region_begin;         // in the output melody
  Rational length;               // the region's length
  Rational token_length;         // where the tokens end (the length, or a given rhythm's last note end)
  Constraints constraints;
  bool stop_at_end = false;
  RightContext right;
  Melody right_full;             // the melody the right context's tokens are read from
  std::vector<int> anticipation;  // per-position constraint tokens for a model that reads them (-1 free)
  std::vector<std::string> remarks;
};

enum class Method { free, exact, anticipation, rejection, masking };

std::string method_name(Method m) {
  switch (m) {
    case Method::free:
      return "free";
    case Method::exact:
      return "exact";
    case Method::anticipation:
      return "anticipation";
    case Method::rejection:
      return "rejection";
    case Method::masking:
      return "masking";
  }
  return "?";
}

struct Hyp {
  ClockState cs;
  std::unique_ptr<ModelState> ms;
  std::vector<int> tokens;
  std::vector<double> token_log2;  // the model's log2 probability of each token (temperature 1, unconstrained)
  double score = 0;                // sum of token_log2
  double rank = 0;                 // score plus the lattice's log2 beta (exact), for beam search
  double log_weight = 0;           // log2 of the constrained mass along the draw (importance weight)
  bool failed = false;             // rejection: a constraint broke

  Hyp copy() const {
    Hyp h;
    h.cs = cs;
    h.ms = ms->clone();
    h.tokens = tokens;
    h.token_log2 = token_log2;
    h.score = score;
    h.rank = rank;
    h.log_weight = log_weight;
    h.failed = failed;
    return h;
  }
};

// One run of the sampler: the method's masks and weights over the model's prediction.
class Stepper {
 public:
  Stepper(const Problem& p, const SamplerChain& chain, Feasibility& constrained, Feasibility& structural,
          Lattice* lattice, Method method)
      : p_(p), model_(*p.model), chain_(chain), cons_(constrained), struc_(structural), lattice_(lattice),
        method_(method), probs_(model_.vocab_size()) {}

  bool done(const Hyp& h) const { return h.failed || rules().terminal(h.cs); }

  // The candidates for the next token: (token, weight). Rejection: every token (the raw model, checked in
  // take()); free and masking: the tokens the rules allow; exact: those, weighted by the sampler-edited
  // probability times beta(child) / beta(here). Returns the log2 of the constrained share of the structurally
  // allowed mass (the importance factor of a masked draw).
  double candidates(const Hyp& h, std::vector<Candidate>& out, std::vector<double>& child_beta) {
    model_.predict(*h.ms, probs_);
    out.clear();
    child_beta.clear();
    if (method_ == Method::rejection) {
      for (size_t t = 0; t < probs_.size(); ++t)
        if (probs_[t] > 0) out.push_back({static_cast<int>(t), probs_[t]});
      child_beta.assign(out.size(), 0);
      return 0;
    }
    double mass_constrained = 0, mass_structural = 0;
    for (const auto& m : struc_.moves(h.cs)) mass_structural += probs_[static_cast<size_t>(m.token)];
    const auto& constrained = cons_.moves(h.cs);
    for (const auto& m : constrained) mass_constrained += probs_[static_cast<size_t>(m.token)];
    if (method_ == Method::free) {
      for (const auto& m : struc_.moves(h.cs)) {
        const double p = probs_[static_cast<size_t>(m.token)];
        if (p <= 0) continue;
        out.push_back({m.token, p});
        child_beta.push_back(0);
      }
    } else if (method_ == Method::exact) {
      edited_ = probs_;
      edit(&chain_, edited_);
      const double here = h.rank - h.score;
      for (const auto& m : constrained) {
        const double p = edited_[static_cast<size_t>(m.token)];
        if (p <= 0) continue;
        const double b = lattice_->child(m, *h.ms);
        if (b == kNegInf) continue;
        out.push_back({m.token, p * std::exp2(b - here)});
        child_beta.push_back(b);
      }
    } else {
      for (const auto& m : constrained) {
        const double p = probs_[static_cast<size_t>(m.token)];
        if (p <= 0) continue;
        out.push_back({m.token, p});
        child_beta.push_back(0);
      }
    }
    if (mass_structural <= 0) return 0;
    return mass_constrained > 0 ? std::log2(mass_constrained / mass_structural) : kNegInf;
  }

  void take(Hyp& h, int token, double beta) {
    const Effect e = p_.clock->effect(h.cs, token);
    if (method_ == Method::rejection) {
      // A draw of the raw model that leaves the structure or the constraints is thrown away.
      if (!struc_.rules().allows(h.cs, e) || !cons_.rules().allows(h.cs, e)) {
        h.failed = true;
        return;
      }
      ClockState next = h.cs;
      gen::apply(next, e);
      if (!struc_.feasible(next) || !cons_.feasible(next)) {
        h.failed = true;
        return;
      }
    }
    const double lp = std::log2(probs_[static_cast<size_t>(token)]);
    gen::apply(h.cs, e);
    model_.advance(*h.ms, token);
    h.tokens.push_back(token);
    h.token_log2.push_back(lp);
    h.score += lp;
    h.rank = h.score + (method_ == Method::exact ? beta : 0);
  }

  // Samples one token; false when nothing can come (cannot happen under masking: the lattice guards it).
  bool sample(Hyp& h, Rng& rng) {
    const double w = candidates(h, cands_, betas_);
    if (cands_.empty()) return false;
    h.log_weight += w;
    // The sampler chain edits a copy (exact: the weights are already the edited chain's, conditioned).
    std::vector<Candidate> edited = cands_;
    if (method_ == Method::exact)
      normalize(edited);
    else
      chain_.apply(edited);
    const size_t i = draw(edited, rng);
    const int token = edited[i].token;
    double beta = 0;
    for (size_t j = 0; j < cands_.size(); ++j)
      if (cands_[j].token == token) beta = betas_[j];
    take(h, token, beta);
    return true;
  }

  const SamplerChain& chain() const { return chain_; }
  const Rules& rules() const { return method_ == Method::rejection || method_ == Method::free ? struc_.rules() : cons_.rules(); }

 private:
  const Problem& p_;
  const SequenceModel& model_;
  const SamplerChain& chain_;
  Feasibility& cons_;
  Feasibility& struc_;
  Lattice* lattice_;
  Method method_;
  std::vector<double> probs_;
  std::vector<Candidate> cands_;
  std::vector<double> betas_;
  std::vector<double> edited_;
};

// The state after the context: the model's (constraint-reading for anticipation) and the clock's.
Hyp start_hyp(const Problem& p, bool anticipation) {
  Hyp h;
  if (anticipation) h.ms = p.model->start_with_constraints(&p.source, p.anticipation);
  if (!h.ms) h.ms = p.model->start(&p.source);
  for (int t : p.context_tokens) p.model->advance(*h.ms, t);
  for (const Note& n : p.context.notes) {
    h.cs.sounding = n.is_rest() ? gen::kSilence : n.pitch->midi;
    if (!n.is_rest()) h.cs.last_pitch = n.pitch->midi;
  }
  return h;
}

// Sampling or beam search from `root`; returns the chosen hypothesis (nullopt: a dead end).
std::optional<Hyp> run(Stepper& stepper, const Hyp& root, const BeamParams& beam, Rng& rng) {
  if (beam.beam_size <= 1) {
    Hyp h = root.copy();
    while (!stepper.done(h))
      if (!stepper.sample(h, rng)) return std::nullopt;
    return h;
  }
  std::vector<Hyp> beams;
  beams.push_back(root.copy());
  auto all_done = [&] {
    return std::all_of(beams.begin(), beams.end(), [&](const Hyp& h) { return stepper.done(h); });
  };
  while (!all_done()) {
    std::vector<Hyp> pool;
    for (Hyp& h : beams) {
      if (stepper.done(h)) {
        pool.push_back(std::move(h));
        continue;
      }
      if (beam.deterministic) {
        // Ordinary beam search: the most probable continuations of each kept sequence (ranked by the
        // constrained weight; the sampler chain's top-k / top-p narrow them), at most beam_size each.
        std::vector<Candidate> cands;
        std::vector<double> betas;
        stepper.candidates(h, cands, betas);
        std::vector<Candidate> kept = cands;
        if (kept.empty()) continue;
        stepper.chain().apply(kept);
        std::stable_sort(kept.begin(), kept.end(),
                         [](const Candidate& a, const Candidate& b) { return a.prob > b.prob; });
        if (kept.size() > static_cast<size_t>(beam.beam_size)) kept.resize(static_cast<size_t>(beam.beam_size));
        for (const Candidate& c : kept) {
          Hyp child = h.copy();
          double beta = 0;
          for (size_t j = 0; j < cands.size(); ++j)
            if (cands[j].token == c.token) beta = betas[j];
          stepper.take(child, c.token, beta);  // the model probabilities candidates() read for h
          pool.push_back(std::move(child));
        }
        continue;
      }
      for (int f = 0; f < beam.branch_factor; ++f) {
        Hyp child = h.copy();
        for (int s = 0; s < beam.steps_per_iteration && !stepper.done(child); ++s)
          if (!stepper.sample(child, rng)) {
            child.failed = true;
            break;
          }
        pool.push_back(std::move(child));
      }
    }
    if (pool.empty()) return std::nullopt;
    std::stable_sort(pool.begin(), pool.end(), [](const Hyp& a, const Hyp& b) {
      if (a.failed != b.failed) return !a.failed;
      return a.rank > b.rank;
    });
    if (pool.size() > static_cast<size_t>(beam.beam_size)) pool.resize(static_cast<size_t>(beam.beam_size));
    beams = std::move(pool);
  }
  return std::move(beams.front());
}


// Why the constraints cannot be met: the first step that cannot be reached given the steps before it, else the
// rule that no note the encoding can play meets, else the rules together.
std::string explain_unsatisfiable(const Problem& p, const Rules& rules, KeyShape shape, int vocab,
                                  const ClockState& start) {
  const Constraints& c = p.constraints;
  auto feasible_with = [&](const Constraints& only) {
    Rules r = rules;
    r.c = &only;
    Feasibility f(*p.clock, r, vocab, shape);
    return f.feasible(start);
  };
  Constraints steps_only;
  steps_only.steps_per_quarter = c.steps_per_quarter;
  for (size_t n = 1; n <= c.steps.size(); ++n) {
    steps_only.steps.assign(c.steps.begin(), c.steps.begin() + static_cast<std::ptrdiff_t>(n));
    if (!feasible_with(steps_only)) {
      const StepConstraint& sc = c.steps[n - 1];
      std::string what;
      switch (sc.kind) {
        case StepKind::pitch:
          what = "a note of pitch ";
          for (size_t i = 0; i < sc.pitches.size(); ++i)
            what += (i ? "|" : "") + Pitch::from_midi(sc.pitches[i]).name();
          break;
        case StepKind::onset:
          what = "a note onset";
          break;
        case StepKind::hold:
          what = "a hold";
          break;
        case StepKind::rest:
          what = "a rest";
          break;
        case StepKind::free:
          what = "anything";
          break;
      }
      const auto range = p.clock->pitch_range();
      return "step " + std::to_string(n - 1) + " asks for " + what +
             ", which the model's encoding cannot give there after the steps before it (it plays " +
             Pitch::from_midi(range.first).name() + ".." + Pitch::from_midi(range.second).name() + ")";
    }
  }
  // Then the rules added one kind at a time: the first that breaks is named.
  Constraints so_far = c;
  so_far.contour.clear();
  so_far.final_pitch_classes.reset();
  if (!feasible_with(so_far)) {
    Constraints pitch_only = so_far;
    pitch_only.steps.clear();
    if (!feasible_with(pitch_only)) return "no note the model's encoding can play meets the pitch classes and range";
    return "the steps cannot be met with the pitch classes and range";
  }
  so_far.contour = c.contour;
  if (!feasible_with(so_far)) return "the contour cannot be followed within the steps, pitch classes and range";
  so_far.final_pitch_classes = c.final_pitch_classes;
  if (!feasible_with(so_far)) return "no final note of the given pitch classes fits the other constraints";
  return "the constraints together leave no melody (each alone can be met)";
}

// The region's notes from its tokens, each with its tokens' log2 probability.
std::vector<GeneratedNote> region_notes(const Problem& p, const Hyp& root, const Hyp& h) {
  std::vector<GeneratedNote> notes;
  ClockState cs = root.cs;
  for (size_t i = 0; i < h.tokens.size(); ++i) {
    const Effect e = p.clock->effect(cs, h.tokens[i]);
    if (e.end) break;
    if (e.gap_begin < e.begin) {
      GeneratedNote rest;
      rest.note.onset = e.gap_begin;
      rest.note.duration = e.begin - e.gap_begin;
      notes.push_back(rest);
    }
    const bool extends = e.sound == Sound::hold && !notes.empty();
    if (extends) {
      notes.back().note.duration += e.finish - e.begin;
    } else {
      GeneratedNote n;
      n.note.onset = e.begin;
      n.note.duration = e.finish - e.begin;
      if (e.sound == Sound::note) n.note.pitch = Pitch::from_midi(e.pitch);
      notes.push_back(n);
    }
    notes.back().log2_probability += h.token_log2[i];
    ++notes.back().tokens;
    gen::apply(cs, e);
  }
  // What the tokens leave of the region (a given rhythm's last rest) is a rest.
  const Rational end = cs.ended ? cs.time : p.length;
  if (cs.time < end) {
    GeneratedNote rest;
    rest.note.onset = cs.time;
    rest.note.duration = end - cs.time;
    notes.push_back(rest);
  }
  return notes;
}

Generation make_generation(const Problem& p, const Hyp& root, const Hyp& h, Method method) {
  Generation g;
  g.method = method_name(method);
  g.tokens = h.tokens;
  g.log2_probability = h.score;
  g.notes = region_notes(p, root, h);
  g.remarks = p.remarks;
  Melody& m = g.melody;
  m = p.output_before;
  m.notes.clear();
  for (const Note& n : p.output_before.notes)
    if (n.end() <= p.region_begin) m.notes.push_back(n);
  // A primer shorter than the region's start (respond's rest up to the next beat) is padded.
  if (m.length() < p.region_begin) m.append(std::nullopt, p.region_begin - m.length());
  g.region_begin = p.region_begin;
  for (GeneratedNote& n : g.notes) {
    n.note.onset += p.region_begin;
    // Spelled for the key they sound in: flats in flat keys (Eb in Bb major, not D#).
    if (n.note.pitch) n.note.pitch = Pitch::from_midi(n.note.pitch->midi, m.key_at(n.note.onset).fifths >= 0);
    m.notes.push_back(n.note);
  }
  g.region_end = m.length();
  for (const Note& n : p.output_after.notes) {
    Note moved = n;
    moved.onset = m.length();
    m.notes.push_back(moved);
  }
  if (p.right.present()) g.context_log2_probability = p.right.log2_prob(*p.model, *h.ms, h.cs);
  return g;
}

GenerateResult solve(Problem& p, const GenerateOptions& options) {
  options.validate();
  const SequenceModel& model = *p.model;
  const int vocab = static_cast<int>(model.vocab_size());
  const Constraints& c = p.constraints;
  const bool constrained = !c.empty();

  KeyShape shape;
  shape.pitch = !c.contour.empty() || p.clock->relative();
  if (!shape.pitch && c.final_pitch_classes) shape.final_classes = &*c.final_pitch_classes;
  shape.notes = p.clock->needs_rhythm() ? std::numeric_limits<int>::max() : static_cast<int>(c.contour.size());

  Rules rules;
  rules.length = p.token_length;
  rules.step = Rational(1, c.steps_per_quarter);
  rules.end_allowed = p.stop_at_end && !constrained && !p.right.present();
  if (p.right.present()) {
    const Melody& after = p.output_after;
    rules.must_end_on_note = !after.notes.empty() && after.notes.front().is_rest();
  }
  Rules structural = rules;
  Rules with_constraints = rules;
  if (constrained) with_constraints.c = &c;

  Feasibility struc(*p.clock, structural, vocab, shape);
  Feasibility cons(*p.clock, with_constraints, vocab, shape);
  const Hyp root = start_hyp(p, false);

  GenerateResult result;
  if (!struc.feasible(root.cs)) {
    result.satisfiable = false;
    result.reason = "the model's encoding (" + model.encoding().spec() + ") cannot fill " + p.length.to_string() +
                    " quarters exactly" + (rules.must_end_on_note ? " ending on a note before the rest that follows" : "");
    return result;
  }
  if (!cons.feasible(root.cs)) {
    result.satisfiable = false;
    result.reason = explain_unsatisfiable(p, with_constraints, shape, vocab, root.cs);
    return result;
  }

  // The method. Without constraints or a right-hand context: free sampling. An Anticipation-RNN reads the
  // constraints itself. Any other model first tries rejection (the raw, sampler-edited model, draws that
  // break a rule thrown away: exact and cheap when the constraints are loose), then the exact lattice when
  // the model's state is finite or the constrained paths are few, else masking.
  const SamplerChain chain = options.sampler.chain();
  const bool conditioned = constrained || p.right.present();
  const bool anticipation = conditioned && !p.anticipation.empty() &&
                            model.start_with_constraints(&p.source, p.anticipation) != nullptr;
  const bool can_reject = constrained && !p.right.present() && !anticipation && options.rejection_tries > 0;

  std::unique_ptr<Lattice> lattice;
  double log_beta_root = 0;
  bool lattice_tried = false;
  auto try_lattice = [&]() -> bool {
    if (lattice_tried) return lattice != nullptr;
    lattice_tried = true;
    const bool keyed = model.state_key(*root.ms).has_value();
    if (!keyed && cons.paths(root.cs) > kTreePathLimit) {
      p.remarks.push_back("the model has no finite state and the constraints leave too many paths to enumerate");
      return false;
    }
    lattice = std::make_unique<Lattice>(model, cons, p.right, shape, root.ms->history().size(),
                                        options.lattice_limit, &chain);
    try {
      log_beta_root = lattice->log_beta(root.cs, *root.ms);
    } catch (const LatticeTooLarge&) {
      lattice.reset();
      p.remarks.push_back("the exact lattice needed more than " + std::to_string(options.lattice_limit) +
                          " steps of work; masking instead");
    }
    return lattice != nullptr;
  };

  Hyp exact_root = root.copy();
  const Hyp anticipation_root = anticipation ? start_hyp(p, true) : Hyp{};
  double estimate_sum = 0;
  int estimates = 0;

  for (int i = 0; i < options.count; ++i) {
    const uint64_t seed = options.seed + static_cast<uint64_t>(i);
    Rng rng(seed);
    std::optional<Hyp> chosen;
    Method used = Method::free;
    if (anticipation) used = Method::anticipation;
    if (can_reject) {
      Stepper rejecting(p, chain, cons, struc, nullptr, Method::rejection);
      for (int t = 0; t < options.rejection_tries && !chosen; ++t) {
        auto h = run(rejecting, root, options.beam, rng);
        if (h && !h->failed && rules.terminal(h->cs) && cons.rules().terminal_ok(h->cs)) {
          chosen = std::move(h);
          used = Method::rejection;
          estimate_sum += 1.0 / (t + 1);
          ++estimates;
        }
      }
    }
    if (!chosen && conditioned && !anticipation) {
      if (try_lattice()) {
        if (log_beta_root == kNegInf) {
          result.satisfiable = false;
          result.reason = "the model (with these sampling settings) gives every melody that meets the constraints "
                          "probability 0";
          return result;
        }
        used = Method::exact;
        exact_root.rank = log_beta_root;
      } else {
        used = Method::masking;
      }
    }
    if (!chosen) {
      Stepper stepper(p, chain, cons, struc, lattice.get(), used);
      chosen = run(stepper, used == Method::anticipation ? anticipation_root : exact_root, options.beam, rng);
      if (chosen && used == Method::masking) {
        estimate_sum += std::exp2(chosen->log_weight);
        ++estimates;
      }
    }
    if (!chosen) {
      result.satisfiable = false;
      result.reason = "sampling reached a dead end";
      return result;
    }
    Generation g = make_generation(p, root, *chosen, used);
    g.seed = seed;
    result.generations.push_back(std::move(g));
  }
  if (p.right.present() && !lattice && !anticipation)
    p.remarks.push_back("the right-hand context is not conditioned on (the model has no finite state)");

  // P(a sample meets the constraints): exact from the lattices when one was built, else estimated from the
  // draws made (1 / tries for rejection, the masked mass along a masked draw) and any extra masked draws.
  double satisfaction = 1;
  bool satisfaction_exact = true;
  if (constrained) {
    satisfaction = -1;
    if (lattice) {
      Lattice plain(model, struc, p.right, shape, root.ms->history().size(), options.lattice_limit, &chain);
      try {
        satisfaction = std::exp2(log_beta_root - plain.log_beta(root.cs, *root.ms));
      } catch (const LatticeTooLarge&) {
      }
    }
    if (satisfaction < 0) {
      satisfaction_exact = false;
      SamplerChain none;
      Stepper estimator(p, none, cons, struc, nullptr, Method::masking);
      Rng rng(options.seed ^ 0x9e3779b97f4a7c15ULL);
      for (int i = 0; i < options.estimate_samples; ++i) {
        Hyp h = root.copy();
        while (!estimator.done(h))
          if (!estimator.sample(h, rng)) break;
        estimate_sum += std::exp2(h.log_weight);
        ++estimates;
      }
      if (estimates > 0) satisfaction = std::min(1.0, estimate_sum / estimates);
    }
  }
  for (Generation& g : result.generations) {
    g.satisfaction_probability = satisfaction;
    g.satisfaction_exact = satisfaction_exact && satisfaction >= 0;
    g.remarks = p.remarks;
  }
  return result;
}


using Rhythm = std::vector<std::pair<Rational, Rational>>;

Rational beat_length(const Meter& meter) {
  if (meter.kind != MeterKind::regular) return Rational(1);
  if (meter.is_compound()) return Rational(12, meter.denominator);
  return Rational(4, meter.denominator);
}

Rational bar_length(const Meter& meter) {
  const Rational bar = meter.bar_length();
  return bar > Rational(0) ? bar : Rational(4);
}

void check_length(const Rational& length, int steps_per_quarter, const std::string& what) {
  if (length <= Rational(0)) throw ConfigError(what + " " + length.to_string() + " is not positive");
  if (length > Rational(kMaxRegionQuarters))
    throw ConfigError(what + " " + length.to_string() + " quarters is longer than the most, " +
                      std::to_string(kMaxRegionQuarters));
  if (!(length * Rational(steps_per_quarter)).is_integer())
    throw ConfigError(what + " " + length.to_string() + " quarters is not a whole number of steps of 1/" +
                      std::to_string(steps_per_quarter) + " quarter");
}

// The pitched notes of the rhythm the step constraints spell (onset and pitch steps start notes, rest steps
// rests, hold and free steps hold), over the region.
std::optional<Rhythm> rhythm_from_steps(const Constraints& c, const Rational& length) {
  Rhythm out;
  const Rational step(1, c.steps_per_quarter);
  std::optional<Rational> note_start;
  bool any = false;
  for (size_t k = 0; k < c.steps.size(); ++k) {
    const Rational t = Rational(static_cast<int64_t>(k)) * step;
    const StepKind kind = c.steps[k].kind;
    if (kind == StepKind::onset || kind == StepKind::pitch || kind == StepKind::rest) {
      if (note_start) out.push_back({*note_start, t - *note_start});
      note_start.reset();
      if (kind != StepKind::rest) note_start = t;
      any = true;
    }
  }
  if (!any) return std::nullopt;
  if (note_start) out.push_back({*note_start, length - *note_start});
  return out;
}

// The rhythm of the context's last bar (or all of it when shorter), repeated over the region; a quarter note
// per beat when the context has no notes.
Rhythm rhythm_from_context(const Melody& context, const Rational& length) {
  const Rational end = context.length();
  const Meter meter = context.meter_at(end);
  const Rational bar = bar_length(meter);
  const Rational from = end > bar ? end - bar : Rational(0);
  std::vector<Note> bar_notes;
  for (const Note& n : context.notes)
    if (n.onset >= from) bar_notes.push_back(n);
  Rhythm out;
  const bool pitched = std::any_of(bar_notes.begin(), bar_notes.end(), [](const Note& n) { return !n.is_rest(); });
  if (!pitched) {
    const Rational beat = beat_length(meter);
    for (Rational t = 0; t < length; t += beat) out.push_back({t, std::min(beat, length - t)});
    return out;
  }
  const Rational span = end - (bar_notes.front().onset);
  Rational offset = 0;
  while (offset < length) {
    for (const Note& n : bar_notes) {
      const Rational onset = offset + (n.onset - bar_notes.front().onset);
      if (onset >= length) break;
      if (n.is_rest()) continue;
      out.push_back({onset, std::min(n.duration, length - onset)});
    }
    offset += span;
  }
  return out;
}

// The step constraints of a melody's rhythm from its first downbeat, repeated over `length` (answer mode);
// nullopt when its notes fall between steps.
std::optional<std::vector<StepConstraint>> rhythm_constraints(const Melody& call, const Rational& length,
                                                              int steps_per_quarter) {
  const Rational step(1, steps_per_quarter);
  std::vector<Note> notes;
  for (const Note& n : call.notes)
    if (n.onset >= call.pickup) notes.push_back(n);
  if (notes.empty() || std::all_of(notes.begin(), notes.end(), [](const Note& n) { return n.is_rest(); }))
    return std::nullopt;
  for (const Note& n : notes)
    if (!((n.onset - call.pickup) / step).is_integer() || !(n.duration / step).is_integer()) return std::nullopt;
  const Rational span = notes.back().end() - notes.front().onset;
  const auto total = static_cast<size_t>(floor_div(length, step));
  std::vector<StepConstraint> steps(total);
  for (Rational offset = 0; offset < length; offset += span)
    for (const Note& n : notes) {
      const Rational onset = offset + n.onset - notes.front().onset;
      if (onset >= length) break;
      const auto first = static_cast<size_t>(floor_div(onset, step));
      const auto count = static_cast<size_t>(floor_div(n.duration, step));
      for (size_t k = first; k < first + count && k < total; ++k)
        steps[k].kind = n.is_rest() ? StepKind::rest : (k == first ? StepKind::onset : StepKind::hold);
    }
  return steps;
}

// The common tail of every request: the rhythm for a pitch-only model, the model's source melody, the
// context tokens and the per-token constraints for a model that reads them.
void prepare(Problem& p, const Melody& tokens_from, const Rational& context_end, std::optional<Rhythm> rhythm) {
  p.constraints.validate(
      static_cast<int64_t>(floor_div(p.length, Rational(1, p.constraints.steps_per_quarter))));
  p.token_length = p.length;
  p.source = p.context;
  if (p.clock->needs_rhythm()) {
    if (!rhythm) {
      if (auto from_steps = rhythm_from_steps(p.constraints, p.length)) {
        rhythm = std::move(from_steps);
        p.remarks.push_back("the model predicts pitches only: the rhythm is the constraints' steps");
      } else {
        rhythm = rhythm_from_context(p.context, p.length);
        p.remarks.push_back("the model predicts pitches only: the rhythm repeats the context's last bar");
      }
    }
    if (rhythm->empty()) throw ConfigError("the region's rhythm has no notes for the model to give pitches to");
    p.token_length = rhythm->back().first + rhythm->back().second;
    p.clock->set_rhythm(*rhythm, p.token_length);
    // The source melody holds the region's rhythm, so viewpoints read durations and onsets from it.
    const int placeholder = 60;  // any pitch: the pitch viewpoints read the tokens, not the source
    Melody source = p.context;
    Rational t = 0;
    for (const auto& [onset, duration] : *rhythm) {
      if (onset > t) source.append(std::nullopt, onset - t);
      source.append(Pitch::from_midi(placeholder), duration);
      t = onset + duration;
    }
    if (t < p.length) source.append(std::nullopt, p.length - t);  // the rest that ends the region
    for (const Note& n : p.output_after.notes) source.append(n.pitch, n.duration);
    p.source = std::move(source);
  }
  p.context_tokens = p.clock->context_tokens(tokens_from, context_end);

  // Per-token constraints: the context as it is, the region's fixed steps, the right side as it is.
  const Rational token_step = p.clock->token_step();
  if (token_step > Rational(0) && (p.length / token_step).is_integer()) {
    std::vector<int> fixed(p.context_tokens.begin(), p.context_tokens.end());
    const auto positions = static_cast<size_t>(floor_div(p.length, token_step));
    const Rational step(1, p.constraints.steps_per_quarter);
    for (size_t j = 0; j < positions; ++j) {
      const Rational k = Rational(static_cast<int64_t>(j)) * token_step / step;
      int token = -1;
      if (k.is_integer() && static_cast<size_t>(k.num()) < p.constraints.steps.size())
        token = p.clock->constraint_token(p.constraints.steps[static_cast<size_t>(k.num())]);
      fixed.push_back(token);
    }
    if (p.right.present()) {
      const auto right = p.clock->right_tokens(*p.right.full, p.right.at, ClockState{});
      fixed.insert(fixed.end(), right.begin(), right.end());
    }
    p.anticipation = std::move(fixed);
  }
}

}  // namespace

GenerateResult generate(const SequenceModel& model, const GenerateRequest& request) {
  request.options.validate();
  Problem p;
  p.model = &model;
  p.clock = gen::make_clock(model.encoding(), request.primer);
  check_length(request.length, request.constraints.steps_per_quarter, "length");
  if (!request.primer.notes.empty()) encode_melody(model.encoding(), request.primer);  // names a note it lacks
  p.output_before = request.primer;
  p.context = request.primer;
  p.region_begin = request.primer.length();
  p.length = request.length;
  p.constraints = request.constraints;
  p.stop_at_end = request.options.stop_at_end;
  prepare(p, request.primer, request.primer.length(), std::nullopt);
  return solve(p, request.options);
}

GenerateResult infill(const SequenceModel& model, const InfillRequest& request) {
  request.options.validate();
  const Melody& m = request.melody;
  if (m.notes.empty()) throw ConfigError("infill: the melody has no notes");
  if (request.from < Rational(0) || request.to <= request.from || request.to > m.length())
    throw ConfigError("infill: the region [" + request.from.to_string() + ", " + request.to.to_string() +
                      ") is not inside the melody (0 to " + m.length().to_string() + " quarters)");
  for (size_t i = 0; i < m.notes.size(); ++i) {
    const Note& n = m.notes[i];
    for (const Rational& edge : {request.from, request.to})
      if (n.onset < edge && edge < n.end())
        throw ConfigError("infill: the region's edge at " + edge.to_string() + " falls inside note " +
                          std::to_string(i + 1) + " (onset " + n.onset.to_string() + ", duration " +
                          n.duration.to_string() + "); choose a note boundary");
  }
  Problem p;
  p.model = &model;
  p.clock = gen::make_clock(model.encoding(), m);
  check_length(request.to - request.from, request.constraints.steps_per_quarter, "the region's length");
  encode_melody(model.encoding(), m);
  p.output_before = m;
  p.output_after = gen::melody_from(m, request.to);
  p.context = gen::melody_before(m, request.from);
  p.region_begin = request.from;
  p.length = request.to - request.from;
  p.constraints = request.constraints;
  p.right_full = m;
  p.right.clock = p.clock.get();
  p.right.full = &p.right_full;
  p.right.at = request.to;
  if (p.output_after.notes.empty()) p.right.full = nullptr;
  // A pitch-only model keeps the region's rhythm.
  Rhythm rhythm;
  for (const Note& n : m.notes)
    if (!n.is_rest() && n.onset >= request.from && n.end() <= request.to)
      rhythm.push_back({n.onset - request.from, n.duration});
  if (p.clock->needs_rhythm()) p.remarks.push_back("the model predicts pitches only: the region keeps its rhythm");
  prepare(p, m, request.from, p.clock->needs_rhythm() ? std::optional<Rhythm>(rhythm) : std::nullopt);
  return solve(p, request.options);
}

GenerateResult respond(const SequenceModel& model, const RespondRequest& request) {
  request.options.validate();
  const Melody& call = request.call;
  if (call.notes.empty()) throw ConfigError("respond: the call has no notes");
  if (request.bars < 0 || request.bars > 64)
    throw ConfigError("respond: bars " + std::to_string(request.bars) + " is outside 0..64");
  if (request.context_bars < -1 || request.context_bars > 1000)
    throw ConfigError("respond: context bars " + std::to_string(request.context_bars) + " is outside -1..1000");
  const Rational end = call.length();
  const Meter meter = call.meter_at(end);
  const Rational bar = bar_length(meter);
  const Rational beat = beat_length(meter);
  // The answer starts on the first beat at or after the call's end (beats counted from the first bar line).
  const Rational origin = floor_mod(call.pickup, beat);
  Rational start = origin + Rational(floor_div(end - origin, beat)) * beat;
  if (start < end) start += beat;
  const int bars = request.bars > 0 ? request.bars : static_cast<int>(std::max<int64_t>(1, -floor_div(-end, bar)));
  const Rational length = Rational(bars) * bar;

  Problem p;
  p.model = &model;
  encode_melody(model.encoding(), call);
  // What the model hears: the call's last bars, then the rest up to the answer.
  Melody context = call;
  if (request.context_bars >= 0) {
    const Rational cutoff = end - Rational(request.context_bars) * bar;
    context.notes.clear();
    Rational first = end;
    for (const Note& n : call.notes)
      if (n.onset >= cutoff) {
        first = std::min(first, n.onset);
        context.notes.push_back(n);
      }
    for (Note& n : context.notes) n.onset -= first;
    context.pickup = Rational(0);
  }
  if (start > end) context.append(std::nullopt, start - end);
  p.clock = gen::make_clock(model.encoding(), context);
  p.output_before = call;
  p.context = context;
  p.region_begin = start;
  p.length = length;
  p.constraints = request.constraints;
  check_length(length, p.constraints.steps_per_quarter, "the answer's length");
  const Key key = call.key_at(end);
  if (request.in_key && !p.constraints.pitch_classes) p.constraints.pitch_classes = scale_pitch_classes(key);
  if (request.mode == RespondMode::answer) {
    if (p.constraints.steps.empty()) {
      if (auto steps = rhythm_constraints(call, length, p.constraints.steps_per_quarter)) {
        p.constraints.steps = std::move(*steps);
        p.remarks.push_back("answer: the call's rhythm, repeated");
      } else {
        p.remarks.push_back("answer: the call's rhythm falls between steps; the rhythm is free");
      }
    }
    if (!p.constraints.final_pitch_classes) {
      PitchClassSet tonic{};
      tonic[static_cast<size_t>(key.tonic_pitch_class())] = true;
      p.constraints.final_pitch_classes = tonic;
      p.remarks.push_back("answer: closes on the tonic of " + key.name());
    }
  }
  p.stop_at_end = false;
  prepare(p, context, context.length(), std::nullopt);
  return solve(p, request.options);
}

}  // namespace antiphon
