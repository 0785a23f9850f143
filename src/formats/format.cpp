#include "antiphon/formats/format.h"

#include <algorithm>
#include <cctype>

#include "antiphon/core/text.h"
#include "antiphon/formats/abc.h"
#include "antiphon/formats/kern.h"
#include "antiphon/formats/midi.h"
#include "antiphon/formats/musicxml.h"

namespace antiphon {

std::string format_name(Format format) {
  switch (format) {
    case Format::kern: return "kern";
    case Format::abc: return "abc";
    case Format::midi: return "midi";
    case Format::musicxml: return "musicxml";
  }
  return "?";
}

std::optional<Format> format_from_path(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".krn" || ext == ".kern") return Format::kern;
  if (ext == ".abc") return Format::abc;
  if (ext == ".mid" || ext == ".midi") return Format::midi;
  if (ext == ".musicxml" || ext == ".xml") return Format::musicxml;
  return std::nullopt;
}

bool has_reader(Format format) { return format != Format::musicxml; }

void MidiReadOptions::validate() const {
  if (steps_per_quarter < 1 || steps_per_quarter > 96)
    throw ConfigError("MIDI steps per quarter must be in 1..96, got " + std::to_string(steps_per_quarter));
  if (min_notes < 0) throw ConfigError("MIDI min notes must be >= 0, got " + std::to_string(min_notes));
}

ReadResult read_bytes(std::string_view bytes, Format format, const std::string& name, const ReadOptions& options) {
  if (bytes.empty()) throw ParseError(name, 0, 0, "empty file", "empty file");
  switch (format) {
    case Format::midi: return read_midi(bytes, name, options.midi);
    case Format::kern:
    case Format::abc: {
      DecodedText text = decode_text(bytes, name);
      ReadResult r = format == Format::kern ? read_kern(text.utf8, name) : read_abc(text.utf8, name);
      r.warnings.insert(r.warnings.begin(), text.warnings.begin(), text.warnings.end());
      return r;
    }
    case Format::musicxml: break;
  }
  throw ParseError(name, 0, 0, "no reader for " + format_name(format) + " files", "unsupported format");
}

ReadResult read_file(const std::filesystem::path& path, const ReadOptions& options) {
  auto format = format_from_path(path);
  if (!format || !has_reader(*format))
    throw ParseError(path.string(), 0, 0, "unknown file type '" + path.extension().string() +
                                              "' (readers: .krn .abc .mid)", "unsupported format");
  std::string bytes;
  try {
    bytes = read_file_bytes(path);
  } catch (const IoError& e) {
    throw ParseError(path.string(), 0, 0, e.what(), "unreadable file");
  }
  return read_bytes(bytes, *format, path.string(), options);
}

std::string write_melody(const Melody& melody, Format format) {
  switch (format) {
    case Format::kern: return write_kern(melody);
    case Format::abc: return write_abc(melody);
    case Format::midi: return write_midi(melody);
    case Format::musicxml: return write_musicxml(melody);
  }
  throw ConfigError("unknown format");
}

void write_melody_file(const Melody& melody, const std::filesystem::path& path) {
  auto format = format_from_path(path);
  if (!format)
    throw ConfigError("cannot tell the output format from '" + path.string() +
                      "' (use .krn, .abc, .mid or .musicxml)");
  write_file_atomic(path, write_melody(melody, *format));
}

}  // namespace antiphon
