// The MIDI reader on the real corpora under the data root: POP909 (unquantized pop songs, tracks MELODY,
// BRIDGE, PIANO), Ceol Rince na hEireann (Irish dance tunes) and the Nottingham melodies. Every file must
// give at least one melody, and every melody must survive a write/read round trip. Prints the counts of
// melodies, rejected tracks and warnings by reason.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

#include "antiphon/corpus/corpus.h"
#include "antiphon/formats/format.h"
#include "antiphon/formats/midi.h"

namespace antiphon {
namespace {

namespace fs = std::filesystem;

// $ANTIPHON_DATA, or ../shared/data beside the checkout (found from the working directory or the binary).
fs::path data_root() { return default_data_root(); }

struct CorpusCounts {
  size_t files = 0;
  size_t files_without_melody = 0;
  size_t melodies = 0;
  size_t notes = 0;
  std::map<std::string, size_t> rejected;  // by reason
  std::map<std::string, size_t> warnings;  // by reason
  std::vector<std::string> errors;         // files that threw
  std::vector<std::string> empty_files;    // files that gave no melody
  std::vector<std::pair<std::string, Melody>> all;
};

CorpusCounts load(const fs::path& folder, const MidiReadOptions& options, bool keep_melodies) {
  CorpusCounts c;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder))
    if (format_from_path(entry.path()) == Format::midi) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  ReadOptions read_options;
  read_options.midi = options;
  for (const fs::path& path : files) {
    ++c.files;
    try {
      ReadResult r = read_file(path, read_options);
      if (r.melodies.empty()) {
        ++c.files_without_melody;
        c.empty_files.push_back(path.filename().string());
      }
      c.melodies += r.melodies.size();
      for (const Diagnostic& d : r.rejected) ++c.rejected[d.reason];
      for (const Diagnostic& d : r.warnings) ++c.warnings[d.reason];
      for (Melody& m : r.melodies) {
        c.notes += m.pitched_count();
        EXPECT_EQ(m.check(), "") << path;
        if (keep_melodies) c.all.emplace_back(path.string(), std::move(m));
      }
    } catch (const Error& e) {
      c.errors.push_back(e.what());
    }
  }
  return c;
}

void print(const std::string& name, const CorpusCounts& c) {
  std::cout << name << ": " << c.files << " files, " << c.melodies << " melodies, " << c.notes << " notes, "
            << c.files_without_melody << " files without a melody, " << c.errors.size() << " errors\n";
  for (const auto& [reason, n] : c.rejected) std::cout << "  rejected " << reason << ": " << n << "\n";
  for (const auto& [reason, n] : c.warnings) std::cout << "  warning  " << reason << ": " << n << "\n";
}

// Writes each melody and reads it back at the same grid: notes, meters, keys, tempo and pickup survive.
void expect_round_trips(const CorpusCounts& c, int steps_per_quarter) {
  MidiReadOptions options;
  options.steps_per_quarter = steps_per_quarter;
  size_t failures = 0;
  for (const auto& [file, m] : c.all) {
    ReadResult r = read_midi(write_midi(m), "round_trip.mid", options);
    bool same = r.melodies.size() == 1 && r.melodies[0].notes == m.notes && r.melodies[0].meters == m.meters &&
                r.melodies[0].tempo_qpm == m.tempo_qpm && r.melodies[0].pickup == m.pickup &&
                r.melodies[0].keys.size() == m.keys.size();
    for (size_t i = 0; same && i < m.keys.size(); ++i)
      same = r.melodies[0].keys[i].onset == m.keys[i].onset &&
             r.melodies[0].keys[i].value.fifths == m.keys[i].value.fifths &&
             r.melodies[0].keys[i].value.mode == m.keys[i].value.mode;
    if (!same && ++failures <= 5) ADD_FAILURE() << "round trip changed " << file << " (" << m.title << ")";
  }
  EXPECT_EQ(failures, 0u);
}

void expect_every_file_gives_a_melody(const CorpusCounts& c, size_t expected_files) {
  EXPECT_EQ(c.files, expected_files);
  EXPECT_TRUE(c.errors.empty()) << c.errors.size() << " files failed, first: " << c.errors.front();
  EXPECT_EQ(c.files_without_melody, 0u) << "first: " << c.empty_files.front();
}

TEST(MidiCorpus, loads_every_pop909_song_with_its_melody_track) {
  fs::path folder = data_root() / "pop909";
  ASSERT_TRUE(fs::is_directory(folder)) << folder;
  CorpusCounts c = load(folder, {}, true);
  print("pop909", c);
  expect_every_file_gives_a_melody(c, 909);
  size_t melody_tracks = 0;
  for (const auto& [file, m] : c.all) melody_tracks += m.metadata_value("track") == "MELODY";
  EXPECT_EQ(melody_tracks, 909u);
  EXPECT_GT(c.warnings["overlaps cut"], 0u);    // the README's overlapping melody notes
  EXPECT_GT(c.warnings["chords reduced"], 0u);  // and simultaneous onsets
  expect_round_trips(c, 4);
}

TEST(MidiCorpus, drops_the_polyphonic_pop909_piano_tracks_when_asked) {
  fs::path folder = data_root() / "pop909";
  ASSERT_TRUE(fs::is_directory(folder)) << folder;
  MidiReadOptions options;
  options.drop_polyphonic_tracks = true;
  CorpusCounts c = load(folder, options, true);
  print("pop909, polyphonic tracks dropped", c);
  EXPECT_TRUE(c.errors.empty());
  for (const auto& [file, m] : c.all) EXPECT_NE(m.metadata_value("track"), "PIANO") << file;
  EXPECT_GE(c.rejected["polyphonic track"], 909u);
  EXPECT_EQ(c.warnings.count("chords reduced"), 0u);
}

TEST(MidiCorpus, loads_every_irish_dance_tune) {
  fs::path folder = data_root() / "irish-midi" / "MIDI";
  ASSERT_TRUE(fs::is_directory(folder)) << folder;
  CorpusCounts c = load(folder, {}, true);
  print("irish-midi", c);
  expect_every_file_gives_a_melody(c, 1195);
  expect_round_trips(c, 4);
}

TEST(MidiCorpus, loads_every_nottingham_melody_at_twelve_steps_per_quarter_too) {
  fs::path folder = data_root() / "nottingham" / "midi-melody";
  ASSERT_TRUE(fs::is_directory(folder)) << folder;
  CorpusCounts c = load(folder, {}, true);
  print("nottingham midi-melody", c);
  expect_every_file_gives_a_melody(c, 1034);
  EXPECT_EQ(c.melodies, 1034u);  // one melody track per file
  expect_round_trips(c, 4);

  MidiReadOptions fine;
  fine.steps_per_quarter = 12;
  CorpusCounts triplets = load(folder, fine, true);
  print("nottingham midi-melody at 12 steps per quarter", triplets);
  expect_every_file_gives_a_melody(triplets, 1034);
  // Triplets fall on the finer grid: fewer of their notes collapse onto one sixteenth (read as chords) or
  // round to nothing (lengthened to a step).
  EXPECT_LT(triplets.warnings["chords reduced"], c.warnings["chords reduced"]);
  EXPECT_LT(triplets.warnings["short notes"], c.warnings["short notes"]);
  expect_round_trips(triplets, 12);
}

}  // namespace
}  // namespace antiphon
