#pragma once
// The evaluation harness: every model measured the same way, in bits per note (cross-entropy).
// k-fold cross-validation by melody from a model spec, or a plain held-out evaluation of a trained model.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "antiphon/core/melody.h"
#include "antiphon/models/model.h"
#include "antiphon/models/spec.h"
#include "antiphon/tokens/target.h"

namespace antiphon {

// What is scored: `pitch` the chromatic pitch of each note given the previous notes (rests skipped),
// `note` pitch and duration together. The alphabet is built from all melodies of the dataset (as IDyOM).
enum class EvalTarget { pitch, note };
EvalTarget parse_eval_target(const std::string& text);  // throws ConfigError
std::string eval_target_name(EvalTarget target);

struct EvalOptions {
  EvalTarget target = EvalTarget::pitch;
  int folds = 10;
  // Run only the first N folds of the `folds`-fold split (0 = all): --folds 10 --max-folds 1 is a seeded
  // 80/10/10 split by melody (the neural trainer holds out a ninth of the training melodies for validation),
  // the same test melodies for every model.
  int max_folds = 0;
  uint64_t seed = 1;
  int threads = 0;  // folds trained and scored in parallel; 0 = hardware concurrency (at most folds)
  // The encoding the model is trained on: a make_encoding spec ("grid", "notes"), "target" for the target
  // encoding itself (one token per note), or "" for the family's default (ModelFamily::default_encoding; the
  // target encoding for the counting families). Other encodings than the target are scored through
  // score_melody's conversion to notes.
  std::string encoding;
  LogFn log;
  std::function<void(size_t done, size_t total)> progress;  // folds done (may be called from worker threads)
  // Throws ConfigError: folds < 2, threads < 0, max_folds < 0.
  void validate() const;
};

struct FoldResult {
  size_t melodies = 0;
  size_t notes = 0;
  double bits_per_note = 0;            // mean over the fold's melodies of each melody's mean
  double bits_per_note_event_avg = 0;  // mean over the fold's notes
  double seconds = 0;                  // training + scoring
};

struct EvalResult {
  std::string model;     // the spec or the model file
  EvalTarget target = EvalTarget::pitch;
  std::string encoding;  // the target encoding's spec (its alphabet)
  size_t alphabet = 0;
  size_t melodies = 0;   // melodies scored (melodies without pitched notes are left out)
  size_t notes = 0;
  // Pearce's convention: the mean information content of each melody, then the mean over melodies.
  double bits_per_note = 0;
  double bits_per_note_event_avg = 0;  // mean over all notes
  std::vector<FoldResult> folds;       // empty for a held-out evaluation
  std::vector<double> melody_bits;     // per scored melody, in input order (for paired comparisons)
  size_t skipped = 0;                  // held-out only: melodies the model's encoding cannot represent
  double seconds = 0;
};

// The target encoding for a dataset: every pitch (and, for `note`, every duration of a pitched note).
TargetEncoding target_encoding(EvalTarget target, const std::vector<Melody>& melodies);

// k-fold cross-validation (kfold_split(melodies.size(), folds, seed)): for each fold, trains the spec on the
// other folds with the target encoding and scores the fold. Throws ConfigError when there are fewer
// melodies (with pitched notes) than folds, for a bad spec, or when the spec names another encoding.
EvalResult cross_validate(const ModelSpec& spec, const std::vector<Melody>& melodies, const EvalOptions& options);

// One melody's information content under a model, in bits, and its pitched notes.
struct MelodyScore {
  double bits = 0;
  size_t notes = 0;
};

// Scores one melody (tokens = encode_melody(model.encoding(), melody)) on a target:
// - `note`: the information content of the whole token sequence (for a note-level encoding each note's
//   pitch and duration; for grid and event encodings each note's probability is the product of its step
//   probabilities, so rests, holds and the end symbol count too);
// - `pitch`: for each pitched note, the probability of its onset token renormalised over the tokens that
//   would start the same note with another pitch (Encoding::pitch_alternatives): for a pitch-only target
//   encoding the plain token probability, for grid and event encodings the onset step's pitch among the
//   pitches, for note-level encodings the pitch given the note's duration.
// Throws ConfigError when the encoding cannot answer the target (a pitch-only model asked for notes).
MelodyScore score_melody(const SequenceModel& model, const std::vector<int>& tokens, const Melody& melody,
                         EvalTarget target);
// What a model scores when not told: its target encoding's kind, and `note` for every other encoding.
EvalTarget natural_target(const SequenceModel& model);

// Scores every melody with a trained model, encoding them with the model's encoding, on `target`
// (score_melody; nullopt = natural_target). A melody's bits per note are its information content divided
// by its pitched notes. A melody that the model's encoding cannot represent (a pitch outside its
// alphabet) is left out, counted in `skipped` and reported through `log` naming the note; when no melody
// can be scored, EncodingError (with the first reason).
EvalResult evaluate(const SequenceModel& model, const std::vector<Melody>& melodies,
                    std::optional<EvalTarget> target = std::nullopt, const LogFn& log = {});

}  // namespace antiphon
