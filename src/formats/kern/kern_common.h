#pragma once
// Limits and spellings shared by the **kern reader and writer (internal to the formats module).
#include <cstdint>
#include <string_view>

#include "antiphon/core/melody.h"

namespace antiphon::kern {

// Largest reciprocal (and rational-rhythm) number the reader accepts and the writer emits: nine digits.
inline constexpr int64_t kMaxReciprocal = 999'999'999;
// Most repeated pitch letters in one token (c, cc, ccc, ... or C, CC, ...).
inline constexpr int kMaxOctaveLetters = 9;
// Most dots the writer puts on one value (the reader takes any number that fits in 64-bit time).
inline constexpr int kMaxWriterDots = 3;
// Most tied kern values the writer emits for one note; longer notes are an EncodingError.
inline constexpr int kMaxTiedValues = 4096;

// Humdrum suffix of a church mode in a key token ("dor" in *d:dor); empty for major and minor.
inline std::string_view mode_suffix(Mode mode) {
  switch (mode) {
    case Mode::major:
    case Mode::minor:
      return "";
    case Mode::ionian:
      return "ion";
    case Mode::dorian:
      return "dor";
    case Mode::phrygian:
      return "phr";
    case Mode::lydian:
      return "lyd";
    case Mode::mixolydian:
      return "mix";
    case Mode::aeolian:
      return "aeo";
    case Mode::locrian:
      return "loc";
  }
  return "";
}

// Humdrum writes the tonic of minor-like modes in lower case (*a:, *d:dor) and of major-like ones in upper
// case (*G:, *G:mix).
inline bool mode_is_lower_case(Mode mode) {
  return mode == Mode::minor || mode == Mode::dorian || mode == Mode::phrygian || mode == Mode::aeolian ||
         mode == Mode::locrian;
}

}  // namespace antiphon::kern
