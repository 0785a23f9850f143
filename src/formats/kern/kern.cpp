// PLACEHOLDER until the kern reader lands (replaced in the same change).
#include "antiphon/formats/kern.h"
namespace antiphon {
ReadResult read_kern(std::string_view, const std::string& file) { throw ParseError(file, 0, 0, "kern reader missing"); }
std::string write_kern(const Melody&) { throw EncodingError("kern writer missing"); }
}  // namespace antiphon
