#pragma once
// Transposition and key estimation.
#include <vector>

#include "antiphon/core/melody.h"

namespace antiphon {

// Transposes every pitch and key by the interval. Throws std::out_of_range when a pitch would leave
// MIDI 0..127 (naming the note).
Melody transpose(const Melody& melody, const Interval& by);
// Transposes by semitones, spelling the interval as usual (see Interval::from_semitones).
Melody transpose(const Melody& melody, int semitones);

// The semitone shift (in [-6, +5]) that moves the first key's signature to no sharps or flats: C major,
// A minor, D dorian, G mixolydian, ... Uses the estimated key when none is set.
int semitones_to_c(const Melody& melody);
// Transposes to C major / A minor (or the white-note mode of the key) by semitones_to_c.
Melody transpose_to_c(const Melody& melody);

// The transpositions by -5..+6 semitones (12 in all, the original included as shift 0) that stay inside
// [midi_min, midi_max]; for augmentation.
std::vector<Melody> all_transpositions(const Melody& melody, int midi_min = 0, int midi_max = 127);

// Krumhansl-Schmuckler key finding with the Krumhansl-Kessler profiles, durations as weights: the major
// or minor key whose profile correlates best with the melody's pitch-class durations. estimated = true.
// A melody with no pitched notes gives C major.
Key estimate_key(const Melody& melody);
// Correlation of the melody's duration-weighted pitch-class histogram with each of the 24 keys
// (index tonic_pc for major, 12 + tonic_pc for minor).
std::vector<double> key_correlations(const Melody& melody);

}  // namespace antiphon
