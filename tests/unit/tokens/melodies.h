#pragma once
// Test melodies built in code, and the (pitch, onset, duration) view that round trips compare.
#include <initializer_list>
#include <tuple>
#include <utility>
#include <vector>

#include "antiphon/core/melody.h"

namespace antiphon::test {

constexpr int kRest = -1;

// Notes as (MIDI pitch or kRest, duration in quarters), back to back from 0.
inline Melody make_melody(std::initializer_list<std::pair<int, Rational>> notes) {
  Melody m;
  for (const auto& [midi, duration] : notes) {
    std::optional<Pitch> p;
    if (midi != kRest) p = Pitch::from_midi(midi);
    m.append(p, duration);
  }
  return m;
}

inline Melody in_key(Melody m, int fifths, Mode mode = Mode::major) {
  m.keys = {{Rational(0), Key{fifths, mode, false}}};
  return m;
}

using NoteView = std::tuple<int, Rational, Rational>;  // (MIDI or kRest, onset, duration)

// The notes with adjacent rests merged.
inline std::vector<NoteView> note_view(const Melody& melody) {
  Melody m = melody;
  m.normalize();
  std::vector<NoteView> out;
  for (const Note& n : m.notes) out.emplace_back(n.is_rest() ? kRest : n.pitch->midi, n.onset, n.duration);
  return out;
}

inline Rational q(int64_t num, int64_t den = 1) { return Rational(num, den); }

}  // namespace antiphon::test
