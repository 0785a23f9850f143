#pragma once
// Standard MIDI files (SMF 0, 1 and 2): reader with Magenta-style melody extraction, and writer.
//
// Reading (as Magenta's melody extraction, without its splitting of melodies at long gaps):
// - One melody per track, or per channel when a track mixes channels (as format 0 files do). Drums
//   (channel 9, i.e. MIDI channel 10) are rejected as "drum track"; a track with channel events but no notes
//   as "empty track"; a track of meta events only (a conductor track) is no candidate at all.
// - Formats 0 and 1 share one timeline (tempo, time and key signatures from any track). Format 2: each
//   track is a sequence of its own, with its own meta events. SMPTE time division is a ParseError.
// - Note times are rounded to the nearest of options.steps_per_quarter steps per quarter (halves up); a
//   note that rounds to nothing lasts one step ("short notes"). The rounding error is one "quantization"
//   warning per file (mean and max in steps).
// - Simultaneous onsets keep the highest note ("chords reduced"), or drop the track as "polyphonic track"
//   when options.drop_polyphonic_tracks. A note sounding past the next onset is cut there ("overlaps cut").
//   Gaps become rests. Fewer than options.min_notes notes: "too few notes".
// - Leading silence: the melody starts at its first note. Whole empty bars before it are dropped and the
//   partial bar before it becomes the pickup (Melody::pickup = time from the first note to the next bar
//   line), so a leading rest is not kept. Bar lines follow the time signatures (each starts a new bar; 4/4
//   before the first). Silence after the last note is dropped.
// - Meter: the time signature in effect at the first note, later ones in Melody::meters. Key: key signature
//   events (a first one placed after the first note still applies from the start), else estimate_key.
//   Tempo: the first tempo event, as the qpm with the fewest decimals that gives the same microseconds
//   (later changes are ignored with a "tempo changes" warning).
// - Pitches are spelled in the key at their onset: scale notes from the signature, others with sharps in
//   keys with sharps or none, flats in keys with flats.
// - title: the file stem, plus " [track name]" (" [track N]" when unnamed, " ch C" added for a channel of a
//   mixed track) when the file gives several melodies. metadata: "track" (name or "track N"), "program",
//   "channel" (both 0-based, as in the file's bytes). source_index: the track's index (0-based).
//
// Writing: a pickup is written as the end of a first bar that starts with silence, so the file's bar lines
// fall where the melody's do. Irregular and free meters write no time signature (they read back as 4/4);
// modes other than major and minor/aeolian keep their signature but read back as major.
// read_midi(write_midi(m)) gives back m's notes, meters, keys, tempo and pickup for a melody on the
// reader's grid that starts and ends with a note (verified on every melody of the MIDI corpora).
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
