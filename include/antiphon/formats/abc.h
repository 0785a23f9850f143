#pragma once
// ABC 2.1: reader (every X: tune of a file, repeats expanded) and writer.
#include <string>
#include <string_view>

#include "antiphon/formats/format.h"

namespace antiphon {

// Reads every tune in ABC text (already decoded to UTF-8). A tune that cannot be read goes to
// `rejected` with its line and reason and the others still load.
ReadResult read_abc(std::string_view text, const std::string& file);
std::string write_abc(const Melody& melody);

}  // namespace antiphon
