// PLACEHOLDER until the MIDI reader lands (replaced in the same change).
#include "antiphon/formats/midi.h"
namespace antiphon {
ReadResult read_midi(std::string_view, const std::string& file, const MidiReadOptions&) { throw ParseError(file, 0, 0, "midi reader missing"); }
std::string write_midi(const Melody&) { throw EncodingError("midi writer missing"); }
}  // namespace antiphon
