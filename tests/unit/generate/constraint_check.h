#pragma once
// An independent check of a generation against its constraints, read off the output melody (not the engine's
// own rules), shared by the engine tests and the neural generation tests.
#include <algorithm>
#include <optional>
#include <string>

#include "antiphon/generate/generate.h"

namespace antiphon::testing_support {

// What sounds at time t of a melody: the note (or rest) covering t.
inline const Note* note_at(const Melody& m, const Rational& t) {
  for (const Note& n : m.notes)
    if (n.onset <= t && t < n.end()) return &n;
  return nullptr;
}

// Checks every rule of `c` on the generation's melody, independently of the engine's own checks; returns the
// first violation or "".
inline std::string violation(const Generation& g, const Constraints& c) {
  const Rational step(1, c.steps_per_quarter);
  for (size_t k = 0; k < c.steps.size(); ++k) {
    const Rational t = g.region_begin + Rational(static_cast<int64_t>(k)) * step;
    const Note* n = note_at(g.melody, t);
    if (!n) return "nothing at step " + std::to_string(k);
    const bool onset = n->onset == t;
    const StepConstraint& sc = c.steps[k];
    const std::string where = "step " + std::to_string(k);
    switch (sc.kind) {
      case StepKind::free:
        break;
      case StepKind::onset:
        if (!onset || n->is_rest()) return where + ": no onset";
        break;
      case StepKind::pitch:
        if (!onset || n->is_rest() ||
            std::find(sc.pitches.begin(), sc.pitches.end(), n->pitch->midi) == sc.pitches.end())
          return where + ": wrong pitch";
        break;
      case StepKind::hold:
        if (onset && !(n->is_rest() && note_at(g.melody, t - step) && note_at(g.melody, t - step)->is_rest()))
          return where + ": an onset";
        break;
      case StepKind::rest:
        if (!n->is_rest()) return where + ": not a rest";
        break;
    }
  }
  std::optional<int> previous;
  for (const Note& n : g.melody.notes) {
    if (n.onset >= g.region_begin) break;
    if (!n.is_rest()) previous = n.pitch->midi;
  }
  size_t index = 0;
  std::optional<int> last;
  for (const GeneratedNote& gn : g.notes) {
    if (gn.note.is_rest()) continue;
    const int p = gn.note.pitch->midi;
    const int step_index = static_cast<int>(floor_div(gn.note.onset - g.region_begin, step));
    if (!c.pitch_allowed(step_index, p)) return "pitch " + std::to_string(p) + " breaks the pitch rules";
    if (index < c.contour.size() && previous) {
      const Contour want = c.contour[index];
      if ((want == Contour::up && p <= *previous) || (want == Contour::down && p >= *previous) ||
          (want == Contour::same && p != *previous))
        return "contour broken at note " + std::to_string(index);
    }
    previous = p;
    last = p;
    ++index;
  }
  if (c.final_pitch_classes && (!last || !(*c.final_pitch_classes)[static_cast<size_t>(*last % 12)]))
    return "final pitch class";
  return "";
}

}  // namespace antiphon::testing_support
