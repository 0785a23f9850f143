#include <algorithm>

#include "antiphon/formats/format.h"
#include "cli.h"

namespace antiphon::cli {

void CorpusArgs::add_to(CLI::App& cmd, const std::string& default_corpus) {
  paths = {default_corpus};
  cmd.add_option("--corpus", paths,
                 "Corpus folder(s) or file(s); a relative path not found here is looked up in the data root "
                 "($ANTIPHON_DATA or ../shared/data)")
      ->capture_default_str();
  cmd.add_option("--min-notes", min_notes, "Keep melodies with at least this many notes");
  cmd.add_option("--meter", meters, "Keep only melodies in these meters (e.g. 6/8, free, irregular)");
  cmd.add_option("--grid", grid_steps, "Keep only melodies exactly representable on a grid of N steps per quarter")
      ->check(CLI::Range(0, 96));
  cmd.add_option("--midi-steps", midi_steps, "MIDI quantization: steps per quarter")
      ->check(CLI::Range(1, 96))
      ->capture_default_str();
  cmd.add_flag("--drop-polyphonic", drop_polyphonic,
               "Drop MIDI tracks with simultaneous notes instead of keeping the highest note");
  cmd.add_option("--threads", threads, "Parsing threads (0: one per core)")->check(CLI::NonNegativeNumber);
}

CorpusOptions CorpusArgs::options() const {
  CorpusOptions o;
  o.filter.min_notes = min_notes;
  o.filter.meters = meters;
  o.filter.grid_steps_per_quarter = grid_steps;
  o.read.midi.steps_per_quarter = midi_steps;
  o.read.midi.drop_polyphonic_tracks = drop_polyphonic;
  o.threads = threads;
  return o;
}

std::vector<std::filesystem::path> CorpusArgs::resolved() const {
  std::vector<std::filesystem::path> out;
  for (const std::string& p : paths) out.push_back(resolve_corpus_path(p));
  return out;
}

Melody read_one_melody(const std::string& path, int index, std::vector<Diagnostic>* warnings) {
  ReadResult r = read_file(path);
  if (warnings) *warnings = r.warnings;
  if (r.melodies.empty()) {
    std::string why = r.rejected.empty() ? std::string("no melody found") : r.rejected.front().to_string();
    throw ParseError(path, 0, 0, "no readable melody: " + why, "no melody");
  }
  if (index < 0 || static_cast<size_t>(index) >= r.melodies.size())
    throw ConfigError("--index " + std::to_string(index) + " out of range: " + path + " holds " +
                      std::to_string(r.melodies.size()) + " melodies (0.." + std::to_string(r.melodies.size() - 1) +
                      ")");
  return std::move(r.melodies[static_cast<size_t>(index)]);
}

}  // namespace antiphon::cli
