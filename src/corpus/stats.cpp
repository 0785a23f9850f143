#include "antiphon/corpus/stats.h"

#include <algorithm>

namespace antiphon {

CorpusStats summarize(const Corpus& corpus) {
  CorpusStats s;
  s.melodies = corpus.melodies.size();
  bool any_pitch = false;
  for (const Melody& m : corpus.melodies) {
    for (const Note& n : m.notes) {
      ++s.durations[n.duration];
      if (n.is_rest()) {
        ++s.rests;
        continue;
      }
      ++s.notes;
      int p = n.pitch->midi;
      s.pitch_min = any_pitch ? std::min(s.pitch_min, p) : p;
      s.pitch_max = any_pitch ? std::max(s.pitch_max, p) : p;
      any_pitch = true;
    }
    s.total_length += m.length();
    ++s.meters[m.meter().name()];
    if (m.meters.size() > 1) ++s.meter_changes;
    ++s.keys[m.key().name()];
    if (m.key().estimated) ++s.keys_estimated;
    if (m.pickup > Rational(0)) ++s.with_pickup;
  }
  for (const auto& d : corpus.rejected) ++s.rejected_by_reason[d.reason];
  for (const auto& d : corpus.warnings) ++s.warnings_by_reason[d.reason];
  for (const auto& d : corpus.filtered) ++s.filtered_by_reason[d.reason];
  return s;
}

}  // namespace antiphon
