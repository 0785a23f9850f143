#pragma once
// Reading and writing files: text decoding with a clear verdict on non-UTF-8 input, atomic writes.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "antiphon/core/error.h"

namespace antiphon {

struct DecodedText {
  std::string utf8;                   // the text as UTF-8 (a leading BOM removed)
  std::vector<Diagnostic> warnings;   // e.g. "not UTF-8: read as Latin-1"
};

// Decodes text bytes: valid UTF-8 passes through; otherwise, when the bytes look like Latin-1 text
// (no control bytes but tab, CR, LF, FF), they are converted with a warning naming the first invalid
// byte's line and column. Binary data (NUL or other control bytes) throws ParseError naming the
// position of the first such byte, reason "binary data".
DecodedText decode_text(std::string_view bytes, const std::string& file);

// Reads a whole file. Throws IoError naming the file and the system's reason.
std::string read_file_bytes(const std::filesystem::path& path);

// Writes bytes to a temporary file in the same folder, flushes it, and renames it over `path`, so a
// reader never sees a half-written file. Throws IoError.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Splits text into lines (LF or CRLF); the last line may lack a newline.
std::vector<std::string_view> split_lines(std::string_view text);

}  // namespace antiphon
