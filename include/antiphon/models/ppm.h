#pragma once
// The `ppm` model family: prediction by partial match over multiple viewpoints, as IDyOM does it (Pearce 2005,
// chapters 5-8; Conklin & Witten 1995; Pearce, Conklin & Wiggins 2005).
//
// Spec: "ppm:key=value,..." (a bare "ppm" takes the defaults, IDyOM's long-term model on chromatic pitch).
//   order=K|star            long-term model (LTM) order bound; star = unbounded (PPM*)        [star]
//   escape=A|B|C|D|X        LTM escape method                                                   [C]
//   blend=1|0               LTM blending (interpolated smoothing); 0 = back-off                 [1]
//   exclusion=1|0           LTM exclusion                                                       [1]
//   update_exclusion=1|0    LTM update exclusion                                                [0]
//   ltm=1|0, stm=1|0        use the long-term model (trained on the corpus) / the short-term model
//                           (trained on the melody so far, from empty at the first note)     [1, 0]
//   stm_order, stm_escape, stm_blend, stm_exclusion, stm_update_exclusion
//                           the same for the STM; IDyOM's STM defaults: star, X, 1, 1, 1
//   viewpoints=a+b*c+...    the viewpoints, '+' between them, '*' linking (the tuple of their values)
//                           [cpitch for the pitch / pitchdur target encodings, token for the others]
//   viewpoint_combination=arithmetic|geometric, viewpoint_bias=b       combining the viewpoints' predictions
//                           within the LTM and within the STM                          [geometric, 2]
//   ltm_stm_combination=arithmetic|geometric, ltm_stm_bias=b           then combining LTM with STM
//                           (IDyOM's order)                                            [geometric, 7]
//
// Viewpoints (tokens/target.h NoteEvent; "predicted" attributes come from the token, the others from the
// melody given to SequenceModel::start, and a viewpoint that needs an unknown attribute is undefined):
//   token        the encoding's token (the only viewpoint for encodings other than pitch / pitchdur)
//   cpitch       chromatic pitch (MIDI)               cpitch-class  pitch mod 12
//   cpint        interval from the previous note      cpint-size    its absolute value
//   cpcint       cpint mod 12, sign kept (IDyOM)      contour       -1 / 0 / +1
//   cpintfref    (pitch - tonic) mod 12 (needs a key)  cpintfip     interval from the first note
//   cpintfiph    interval from the first note of the phrase (undefined on it)
//   cpintfib     interval from the first note of the bar (undefined on it)
//   thrfiph      interval between successive phrase-first notes (defined on phrase-first notes only)
//   thrbar       interval between successive bar-first notes (defined on bar-first notes only)
//   dur          duration                             durratio      duration / previous duration
//   ioi          inter-onset interval (rests included; undefined on the first note)
//   posinbar     onset within the bar (regular meters)  fib         first in bar (0/1)
//   fiph, liph   first / last note of a phrase (0/1)
// A derived viewpoint's prediction is mapped to the encoding's tokens as IDyOM does: each token gets
// P(value of the viewpoint for that token) / (number of tokens with that value), renormalised over the values
// the tokens reach. The attributes a token does not fix are the current event's (a linked cpint*dur predicts
// pitch given the note's duration, as in Pearce 2005; IDyOM's later default sums over every duration
// instead). A viewpoint undefined at an event sits out that prediction (none left: uniform), and its
// sequence skips the event; a value never seen in training restarts its models' contexts. Combination
// weights are (H(p) / H_max(p))^-bias (relative entropy; Pearce, Conklin & Wiggins 2005); arithmetic is the
// weighted mean, geometric the normalised weighted geometric mean.
//
// Default encoding (TrainingData::encoding null): the `pitch` target over the training melodies' pitches.
#include <string>
#include <utility>
#include <vector>

#include "antiphon/models/spec.h"

namespace antiphon {

enum class PpmEscape { a, b, c, d, x };
enum class PpmCombination { arithmetic, geometric };

// One memory (the long-term or the short-term model): the PPM options of its tries (one per viewpoint).
struct PpmMemoryConfig {
  int order = -1;  // order bound k >= 0; -1 = unbounded (PPM*)
  PpmEscape escape = PpmEscape::c;
  bool blend = true;
  bool exclusion = true;
  bool update_exclusion = false;
};

struct PpmModelConfig {
  bool ltm = true;
  bool stm = false;
  PpmMemoryConfig ltm_memory;                                      // IDyOM's LTM: star, C, blend, no update excl.
  PpmMemoryConfig stm_memory{-1, PpmEscape::x, true, true, true};  // IDyOM's STM: star, X, update exclusion
  // Each item a viewpoint name or names linked with '*'; empty = the encoding's default (cpitch or token).
  std::vector<std::string> viewpoints;
  PpmCombination viewpoint_combination = PpmCombination::geometric;
  double viewpoint_bias = 2;
  PpmCombination ltm_stm_combination = PpmCombination::geometric;
  double ltm_stm_bias = 7;

  // Throws ConfigError naming the offending value (neither memory used, a bias < 0, an order out of range).
  void validate() const;
  // Reads a "ppm:..." spec; throws ConfigError for an unknown option or a bad value (naming it).
  static PpmModelConfig from_spec(const ModelSpec& spec);
  // Every option, defaults included, in the spec's spelling (ModelSpec("ppm", options()) rebuilds it).
  std::vector<std::pair<std::string, std::string>> options() const;
};

// The viewpoint names the family knows (for help texts), in the order of the table above.
const std::vector<std::string>& ppm_viewpoint_names();

}  // namespace antiphon
