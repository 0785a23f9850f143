#pragma once
// Humdrum **kern: reader (first **kern spine) and writer.
#include <string>
#include <string_view>

#include "antiphon/formats/format.h"

namespace antiphon {

// Reads one melody from **kern text (already decoded to UTF-8). Throws ParseError with file, line,
// column and the offending token for a fatal problem (garbled token, a chord, no **kern spine).
ReadResult read_kern(std::string_view text, const std::string& file);
std::string write_kern(const Melody& melody);

}  // namespace antiphon
