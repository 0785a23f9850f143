#pragma once
// The single-file model format shared by every family:
//   "ANTIPHON-MODEL\n" (15 bytes) | u32 format version | u64 header length | header (JSON: ModelInfo, the
//   family's config as key=value pairs, the vocabulary) | u64 payload length | payload (the family's numbers,
//   written with ModelWriter) | u64 XXH64 checksum of everything before it.
// Integers are little-endian. Files are written atomically (temporary file + rename). A truncated, corrupt or
// bit-flipped file, a newer format version or a vocabulary that disagrees with the encoding throws
// ModelFileError naming the file and the problem.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/models/model.h"

namespace antiphon {

inline constexpr uint32_t kModelFormatVersion = 1;

// Appends typed values to a payload.
class ModelWriter {
 public:
  void u8(uint8_t v);
  void u32(uint32_t v);
  void i32(int32_t v);
  void u64(uint64_t v);
  void f64(double v);
  void str(std::string_view s);               // u64 length + bytes
  void i32s(std::span<const int32_t> v);      // u64 count + values
  void u32s(std::span<const uint32_t> v);
  void f64s(std::span<const double> v);
  void f32s(std::span<const float> v);
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// Reads typed values back; every read checks the remaining length and throws ModelFileError naming the file,
// the byte offset and what was being read ("truncated", "count 4294967295 larger than the file").
class ModelReader {
 public:
  ModelReader(std::string_view bytes, std::string file) : bytes_(bytes), file_(std::move(file)) {}
  uint8_t u8(const char* what);
  uint32_t u32(const char* what);
  int32_t i32(const char* what);
  uint64_t u64(const char* what);
  double f64(const char* what);
  std::string str(const char* what);
  std::vector<int32_t> i32s(const char* what);
  std::vector<uint32_t> u32s(const char* what);
  std::vector<double> f64s(const char* what);
  std::vector<float> f32s(const char* what);
  // A u32 that must lie in [min, max]: fails "what 40 is outside 0..16" otherwise.
  uint32_t u32_in(const char* what, uint32_t min, uint32_t max);
  // A family's payload version, which must equal `expected`: fails "what 7 is not 1" otherwise.
  void version(const char* what, uint32_t expected);
  bool at_end() const { return pos_ == bytes_.size(); }
  size_t offset() const { return pos_; }
  // Throws ModelFileError "file: payload offset N: message".
  [[noreturn]] void fail(const std::string& message) const;
  // Throws unless every byte was read (a payload longer than its family reads is corrupt).
  void expect_end() const;
  const std::string& file() const { return file_; }

 private:
  void need(size_t n, const char* what);
  std::string_view bytes_;
  std::string file_;
  size_t pos_ = 0;
};

// What the header holds besides the payload.
struct ModelHeader {
  uint32_t format_version = kModelFormatVersion;
  ModelInfo info;
  std::vector<std::pair<std::string, std::string>> config;  // the family's resolved options
  std::vector<std::string> vocab;                           // the encoding's tokens, checked on load
};

// Writes the model atomically. Throws IoError when the file cannot be written.
void save_model(const SequenceModel& model, const std::string& path);
// Reads and checks a model file, then calls the family's loader (registry.h). Throws ModelFileError.
ModelPtr load_model(const std::string& path);
// Parses a model file from memory (path is only used in messages): for tests and fuzzing.
ModelPtr load_model_bytes(std::string_view bytes, const std::string& path);
// The header alone (for `antiphon info` and listing models), checked like load_model.
ModelHeader read_model_header(const std::string& path);

}  // namespace antiphon
