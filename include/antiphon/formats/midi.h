#pragma once
// Standard MIDI files (SMF 0 and 1): reader with Magenta-style melody extraction, and writer.
#include <cstdint>
#include <string>
#include <string_view>

#include "antiphon/formats/format.h"

namespace antiphon {

// Reads a MIDI file and extracts one melody per usable track. Structural damage (bad magic, truncated
// chunk, impossible lengths) throws ParseError naming the byte offset (as column, line 0).
ReadResult read_midi(std::string_view bytes, const std::string& file, const MidiReadOptions& options = {});
// SMF type 1: a tempo/meta track and one melody track (channel 0), 480 ticks per quarter; meter and key
// changes as meta events. Throws EncodingError when a duration is not a whole number of ticks.
std::string write_midi(const Melody& melody);

}  // namespace antiphon
