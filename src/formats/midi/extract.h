#pragma once
// Internal: Magenta-style melody extraction from parsed MIDI tracks (see antiphon/formats/midi.h for the
// rules). Separate from the byte-level parser so each can be tested and reasoned about alone.
#include <string>

#include "antiphon/core/melody.h"
#include "antiphon/formats/format.h"
#include "formats/midi/smf.h"

namespace antiphon::midi {

// One melody per usable (track, channel); drops and fallbacks reported in the result.
ReadResult extract_melodies(const SmfFile& smf, const std::string& file, const MidiReadOptions& options);

// The spelling of a MIDI number in a key: the letter the key signature gives when the pitch class is in
// the scale, otherwise sharps in keys with sharps (and C major / A minor), flats in keys with flats.
Pitch spell_in_key(int midi, const Key& key);

// The tempo in quarter notes per minute for a MIDI tempo (microseconds per quarter): 60e6 / us, given
// with the fewest decimals (0 to 3) that still map back to the same microseconds, so 100 qpm written as
// 600000 us and 70 qpm written as 857143 us both read back exactly.
double qpm_from_microseconds(uint32_t microseconds);
// The microseconds per quarter that write a tempo (rounded to the nearest microsecond).
int64_t microseconds_from_qpm(double qpm);

}  // namespace antiphon::midi
