#pragma once
// Generation and the dialogue engine: continue a primer, fill a gap, answer a call, for every model family
// through the one SequenceModel interface, under the constraints of constraints.h.
//
// How constraints are enforced (chosen from what the model offers, never from its family name):
//   exact        the model's state is finite (SequenceModel::state_key: Markov chains, PPM without a
//                short-term model) or the constrained region is small enough to enumerate: backward
//                messages over the lattice of (time, constraint progress, model state) give each token
//                P(token | history, the constraints will be met, the right-hand context follows), so
//                the output has exactly the model's conditional distribution (Pachet & Roy's Markov
//                constraints, generalised to any finite-state model and to infilling);
//   anticipation the model reads the constraints itself (Anticipation-RNN's constraint encoder), with
//                masking on top for what its per-step tokens cannot say (pitch sets, contour);
//   rejection    a draw of the raw model (with the sampler chain) met the constraints within the tries: exact
//                too, and cheap when the constraints are loose; tried first for every model but the
//                Anticipation-RNN when there is no right-hand context;
//   masking      tokens that break a constraint, or lead where no completion can satisfy the rest
//                (checked on the model-free constraint lattice), are masked out. Never stuck, but biased
//                towards what the model prefers locally.
// Exact and rejection sampling give the sampler-edited model (temperature, top-k, top-p at every step)
// conditioned on the constraints; under masking the chain edits each step's masked distribution. An unsatisfiable constraint set is an
// outcome (GenerateResult::satisfiable false with the reason), not an exception.
//
// Time: the region is measured on the constraints' step grid. Models whose tokens carry no durations (the
// `pitch` target encoding) take their rhythm from a fixed-rhythm constraint, else from the region being
// replaced (infill), else from the primer's / call's last bars, repeated.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "antiphon/core/melody.h"
#include "antiphon/generate/constraints.h"
#include "antiphon/generate/sampler.h"
#include "antiphon/models/model.h"

namespace antiphon {

struct BeamParams {
  int beam_size = 1;            // 1 = no beam search
  int branch_factor = 1;        // Magenta: each kept sequence is extended this many times per iteration
  int steps_per_iteration = 1;  // tokens sampled per extension
  bool deterministic = false;   // true: every allowed token is tried (ordinary beam search), no sampling
  void validate() const;        // ConfigError
};

struct GenerateOptions {
  SamplerParams sampler;
  BeamParams beam;
  uint64_t seed = 1;           // output i of a count uses seed + i
  int count = 1;               // outputs (1..1000)
  bool stop_at_end = true;     // generate only, without constraints: the model's end symbol ends the melody
  int rejection_tries = 32;    // raw-model tries before the lattice or masking (a broken rule ends a try early)
  // Extra masked draws that sharpen the estimate of P(an unconstrained sample meets the constraints) when no
  // exact lattice gives it (the draws made for the outputs always count).
  int estimate_samples = 0;
  // The most work (lattice nodes expanded plus the tokens tried from them) before exact sampling gives way to
  // masking: about half a second; the lattice of a Markov chain over a 131-token grid and two free bars
  // needs some forty times more.
  size_t lattice_limit = 2'000'000;
  void validate() const;       // ConfigError
};

struct GeneratedNote {
  Note note;                     // onset in the output melody
  double log2_probability = 0;   // the model's (temperature 1, unconstrained) probability of the note's tokens
  int tokens = 0;                // tokens that made it
};

struct Generation {
  Melody melody;                      // context and generated region together (infill: the right side too)
  Rational region_begin;              // onsets in `melody`
  Rational region_end;
  std::vector<GeneratedNote> notes;   // the region's notes and rests
  std::vector<int> tokens;            // the region's tokens
  double log2_probability = 0;        // of the region's tokens under the model (temperature 1)
  double context_log2_probability = 0;  // infill: of the right-hand context after the region
  std::string method;                 // "free", "exact", "anticipation", "rejection", "masking"
  // P(a sample from the (sampler-edited) model meets the constraints): exact when the lattice was built, else
  // estimated from the draws (1 / tries of an accepted rejection, the masked mass along masked draws);
  // -1 when nothing estimates it (raise estimate_samples); 1 without constraints.
  double satisfaction_probability = 1;
  bool satisfaction_exact = true;
  uint64_t seed = 0;
  std::vector<std::string> remarks;   // how the rhythm was chosen, why a method was used
};

struct GenerateResult {
  bool satisfiable = true;
  std::string reason;                 // when not satisfiable: which constraint at which step
  std::vector<Generation> generations;
};

// Continue `primer` (may be empty) by `length` quarters (> 0). The output keeps the primer's meter, key and
// tempo. Throws ConfigError for bad options or a length that is not a whole number of steps, and
// EncodingError naming the note for a primer the model's encoding cannot hold.
struct GenerateRequest {
  Melody primer;
  Rational length;
  Constraints constraints;
  GenerateOptions options;
};
GenerateResult generate(const SequenceModel& model, const GenerateRequest& request);

// Regenerate [from, to) of `melody` given both sides; the notes outside stay as they are. Both ends must
// fall on note boundaries (ConfigError naming the note that crosses otherwise).
struct InfillRequest {
  Melody melody;
  Rational from;
  Rational to;
  Constraints constraints;
  GenerateOptions options;
};
GenerateResult infill(const SequenceModel& model, const InfillRequest& request);

enum class RespondMode {
  continuation,  // go on from the call freely (in its key)
  answer,        // echo the call's rhythm and close on the tonic
};

// Answer a call: `bars` bars (0: as many as the call spans) starting on the beat after the call ends, in the
// call's meter and key; the model hears the call's last `context_bars` bars (-1: all of it, 0: none).
struct RespondRequest {
  Melody call;
  int bars = 0;
  RespondMode mode = RespondMode::continuation;
  int context_bars = -1;
  bool in_key = true;          // notes from the call's key's scale only
  Constraints constraints;     // more constraints on the answer (its steps count from the answer's start)
  GenerateOptions options;
};
GenerateResult respond(const SequenceModel& model, const RespondRequest& request);

std::string respond_mode_name(RespondMode mode);
RespondMode parse_respond_mode(const std::string& text);  // ConfigError

// Reads a primer given as text: note names with optional durations in quarters, "C4 D4:1/2 E4:2 r:1"
// (default a quarter each), or throws ConfigError naming the word.
Melody parse_note_list(const std::string& text);

}  // namespace antiphon
