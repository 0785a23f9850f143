#pragma once
// One reader/writer pair per format; this header dispatches by file extension.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/core/melody.h"

namespace antiphon {

enum class Format { kern, abc, midi, musicxml };

std::string format_name(Format format);
// By extension: .krn .kern -> kern; .abc -> abc; .mid .midi -> midi; .musicxml .xml -> musicxml.
std::optional<Format> format_from_path(const std::filesystem::path& path);
bool has_reader(Format format);  // musicxml has a writer only

// What a reader produced from one file. A file holds one melody (kern), several tunes (ABC), or one
// melody per usable track (MIDI). Problems that lose a whole tune or track are in `rejected`, each with
// a reason; problems read with a fallback are in `warnings`.
struct ReadResult {
  std::vector<Melody> melodies;
  std::vector<Diagnostic> warnings;
  std::vector<Diagnostic> rejected;
};

// How MIDI notes become melodies (as Magenta's melody extraction).
struct MidiReadOptions {
  int steps_per_quarter = 4;         // quantization grid
  bool drop_polyphonic_tracks = false;  // false: keep the highest of simultaneous notes
  int min_notes = 1;                 // tracks with fewer notes are dropped (counted)
  void validate() const;             // throws ConfigError
};

struct ReadOptions {
  MidiReadOptions midi;
};

// Reads a file of any format with a reader. Throws ParseError when the file as a whole is unusable
// (unknown extension, unreadable, binary junk, a fatal syntax error in a one-melody format).
ReadResult read_file(const std::filesystem::path& path, const ReadOptions& options = {});
// Same from bytes already in memory; `name` is used in diagnostics.
ReadResult read_bytes(std::string_view bytes, Format format, const std::string& name, const ReadOptions& options = {});

// Serializes one melody. Throws EncodingError when the format cannot hold it (with the reason).
std::string write_melody(const Melody& melody, Format format);
// Writes atomically to `path`, format chosen by extension. Throws ConfigError for an unknown extension.
void write_melody_file(const Melody& melody, const std::filesystem::path& path);

}  // namespace antiphon
