// PLACEHOLDER until the MusicXML writer lands (replaced in the same change).
#include "antiphon/formats/musicxml.h"
#include "antiphon/core/error.h"
namespace antiphon {
std::string write_musicxml(const Melody&) { throw EncodingError("musicxml writer missing"); }
}  // namespace antiphon
