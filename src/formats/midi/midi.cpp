// Standard MIDI File reading: the byte-level parser (smf.cpp) followed by melody extraction
// (extract.cpp). The writer is in writer.cpp.
#include "antiphon/formats/midi.h"

#include "formats/midi/extract.h"
#include "formats/midi/smf.h"

namespace antiphon {

ReadResult read_midi(std::string_view bytes, const std::string& file, const MidiReadOptions& options) {
  options.validate();
  midi::SmfFile smf = midi::parse_smf(bytes, file);
  return midi::extract_melodies(smf, file, options);
}

}  // namespace antiphon
