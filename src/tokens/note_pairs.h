#pragma once
// The note walk shared by the note-level encodings (private to src/tokens).
#include <string>
#include <vector>

#include "antiphon/tokens/notes.h"
#include "tokens/internal.h"

// Shared by the note-level encoders: walks the notes, merging rests, and calls `pitched` for each pitched
// note (returning its pitch id) with rests split into alphabet values.
namespace antiphon::tokens_detail {
template <typename PitchedFn>
std::vector<NoteToken> encode_note_pairs(const PairEncoding& enc, const Melody& melody, PitchedFn pitched) {
  const std::string name = enc.spec();
  require_contiguous(melody, name);
  std::vector<NoteToken> out;
  out.reserve(melody.notes.size());
  const int rest_id = enc.rest_pitch_id();
  size_t rest_start = 0;
  Duration rest(0);
  auto flush_rest = [&] {
    if (rest <= Rational(0)) return;
    int exact = enc.duration_id(rest);
    if (exact >= 0) {
      out.push_back({rest_id, exact});
    } else {
      std::vector<int> parts = split_rest(enc.durations(), rest);
      if (parts.empty())
        throw EncodingError(name + " cannot represent " + note_label(melody, rest_start) + ": a rest of " +
                            rest.to_string() + " quarters is not a sum of durations in the alphabet");
      for (int d : parts) out.push_back({rest_id, d});
    }
    rest = Rational(0);
  };
  for (size_t i = 0; i < melody.notes.size(); ++i) {
    const Note& n = melody.notes[i];
    if (n.is_rest()) {
      if (rest == Rational(0)) rest_start = i;
      rest += n.duration;
      continue;
    }
    flush_rest();
    int d = enc.duration_id(n.duration);
    if (d < 0)
      throw EncodingError(name + " cannot represent " + note_label(melody, i) + ": the duration " +
                          n.duration.to_string() + " is not in the duration alphabet");
    out.push_back({pitched(i), d});
  }
  flush_rest();
  return out;
}
}  // namespace antiphon::tokens_detail
