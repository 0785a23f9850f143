// The MIDI writer: exact bytes, round trips through the reader, errors, and an independent reader
// (midi2abc from abcMIDI) parsing what it writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "antiphon/core/text.h"
#include "antiphon/formats/midi.h"
#include "smf_builder.h"

namespace antiphon {
namespace {

using namespace midi_test;

Melody tiny_melody() {
  Melody m;
  m.title = "T";
  m.meters.push_back({0, Meter{MeterKind::regular, 3, 4}});
  m.keys.push_back({0, Key{1, Mode::major, false}});
  m.append(Pitch::from_midi(67), Rational(1));
  m.append(std::nullopt, Rational(1, 2));
  m.append(Pitch::from_midi(69), Rational(1, 2));
  return m;
}

TEST(MidiWriter, writes_the_expected_bytes) {
  std::string expected =
      bytes({0x4D, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 1, 0, 2, 0x01, 0xE0}) +  // format 1, 2 tracks, 480
      bytes({0x4D, 0x54, 0x72, 0x6B, 0, 0, 0, 0x1F}) +                       // conductor, 31 bytes
      bytes({0x00, 0xFF, 0x03, 0x01, 'T'}) +                                 // track name
      bytes({0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20}) +                    // 500000 us
      bytes({0x00, 0xFF, 0x58, 0x04, 0x03, 0x02, 0x18, 0x08}) +              // 3/4
      bytes({0x00, 0xFF, 0x59, 0x02, 0x01, 0x00}) +                          // G major
      bytes({0x87, 0x40, 0xFF, 0x2F, 0x00}) +                                // end at 960
      bytes({0x4D, 0x54, 0x72, 0x6B, 0, 0, 0, 0x17}) +                       // notes, 23 bytes
      bytes({0x00, 0x90, 0x43, 0x50}) +                                      // G4 on, velocity 80
      bytes({0x83, 0x60, 0x80, 0x43, 0x40}) +                                // off at 480
      bytes({0x81, 0x70, 0x90, 0x45, 0x50}) +                                // A4 on at 720
      bytes({0x81, 0x70, 0x80, 0x45, 0x40}) +                                // off at 960
      bytes({0x00, 0xFF, 0x2F, 0x00});
  EXPECT_EQ(write_midi(tiny_melody()), expected);
}

TEST(MidiWriter, writes_a_pickup_at_the_end_of_a_first_bar) {
  Melody m = tiny_melody();
  m.pickup = Rational(1);
  std::string data = write_midi(m);
  // Header 14 bytes, conductor chunk 8 + 31, note chunk header 8: the first note event is at byte 61, a
  // delta of 2 quarters (960 ticks) of silence before G4.
  ASSERT_GT(data.size(), 65u);
  EXPECT_EQ(data.substr(61, 4), bytes({0x87, 0x40, 0x90, 0x43}));
  ReadResult r = read_midi(data, "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(r.melodies[0].pickup, Rational(1));
  EXPECT_EQ(r.melodies[0].notes, m.notes);
}

TEST(MidiWriter, refuses_durations_that_are_not_whole_ticks) {
  Melody m = tiny_melody();
  m.append(Pitch::from_midi(70), Rational(1, 7));
  try {
    write_midi(m);
    FAIL() << "expected an EncodingError";
  } catch (const EncodingError& e) {
    EXPECT_NE(std::string(e.what()).find("note 3 at onset 2: duration 1/7 is not a whole number of ticks"),
              std::string::npos)
        << e.what();
  }
  Melody fine = tiny_melody();
  fine.append(Pitch::from_midi(70), Rational(1, 5));  // 96 ticks
  EXPECT_NO_THROW(write_midi(fine));
}

TEST(MidiWriter, refuses_what_midi_cannot_hold) {
  Melody bad_meter = tiny_melody();
  bad_meter.meters[0].value = Meter{MeterKind::regular, 3, 5};
  EXPECT_THROW(write_midi(bad_meter), EncodingError);
  Melody bad_tempo = tiny_melody();
  bad_tempo.tempo_qpm = 0;
  EXPECT_THROW(write_midi(bad_tempo), EncodingError);
  bad_tempo.tempo_qpm = 1;  // 60 000 000 us per quarter: beyond 3 bytes
  EXPECT_THROW(write_midi(bad_tempo), EncodingError);
}

TEST(MidiWriter, writes_no_time_signature_for_free_meter) {
  Melody m = tiny_melody();
  m.meters[0].value = Meter{MeterKind::free, 0, 0};
  ReadResult r = read_midi(write_midi(m), "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(r.melodies[0].meter(), Meter{});  // MIDI's default, 4/4
  EXPECT_EQ(r.melodies[0].notes, m.notes);
}

// A random melody on the grid of `steps_per_quarter`, starting and ending with a note, with an optional
// pickup, a meter change at a bar line and a key change.
Melody random_melody(std::mt19937& rng, int steps_per_quarter) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  static const Meter kMeters[] = {{MeterKind::regular, 4, 4}, {MeterKind::regular, 3, 4}, {MeterKind::regular, 6, 8},
                                  {MeterKind::regular, 2, 4}, {MeterKind::regular, 2, 2}, {MeterKind::regular, 9, 8},
                                  {MeterKind::regular, 5, 8}, {MeterKind::regular, 7, 16}};
  static const double kTempos[] = {120, 100, 70, 132.5, 96, 180, 63.25};
  Melody m;
  m.title = "random";
  int meter_index = pick(0, 7);
  m.meters.push_back({0, kMeters[meter_index]});
  Rational bar = kMeters[meter_index].bar_length();
  m.keys.push_back({0, Key{pick(-7, 7), pick(0, 1) ? Mode::minor : Mode::major, false}});
  m.tempo_qpm = kTempos[pick(0, 6)];
  int bar_steps = static_cast<int>((bar * Rational(steps_per_quarter)).floor());
  if (pick(0, 1) && bar_steps > 1) m.pickup = Rational(pick(1, bar_steps - 1), steps_per_quarter);
  int count = pick(8, 40);
  for (int i = 0; i < count; ++i) {
    bool rest = i > 0 && i + 1 < count && !m.notes.back().is_rest() && pick(0, 4) == 0;
    Rational duration(pick(1, 2 * steps_per_quarter), steps_per_quarter);
    m.append(rest ? std::nullopt : std::optional<Pitch>(Pitch::from_midi(pick(36, 96))), duration);
  }
  Rational length = m.length();
  if (pick(0, 2) == 0) {
    Rational change = m.pickup + bar * Rational(pick(1, 3));
    int other = (meter_index + pick(1, 7)) % 8;
    if (change < length) m.meters.push_back({change, kMeters[other]});
  }
  if (pick(0, 2) == 0) {
    const Note& at = m.notes[static_cast<size_t>(pick(1, count - 1))];
    Key k = m.keys[0].value;
    k.fifths = k.fifths == 7 ? -7 : k.fifths + 1;
    m.keys.push_back({at.onset, k});
  }
  return m;
}

void expect_round_trip(const Melody& m, int steps_per_quarter) {
  MidiReadOptions options;
  options.steps_per_quarter = steps_per_quarter;
  ReadResult r = read_midi(write_midi(m), "random.mid", options);
  ASSERT_EQ(r.melodies.size(), 1u);
  const Melody& back = r.melodies[0];
  ASSERT_EQ(back.notes.size(), m.notes.size());
  for (size_t i = 0; i < m.notes.size(); ++i) {
    SCOPED_TRACE("note " + std::to_string(i));
    EXPECT_EQ(back.notes[i].onset, m.notes[i].onset);
    EXPECT_EQ(back.notes[i].duration, m.notes[i].duration);
    ASSERT_EQ(back.notes[i].is_rest(), m.notes[i].is_rest());
    if (m.notes[i].pitch) {
      EXPECT_EQ(back.notes[i].pitch->midi, m.notes[i].pitch->midi);
    }
  }
  EXPECT_EQ(back.meters, m.meters);
  EXPECT_EQ(back.keys, m.keys);
  EXPECT_EQ(back.tempo_qpm, m.tempo_qpm);
  EXPECT_EQ(back.pickup, m.pickup);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings[0].to_string();
}

TEST(MidiWriter, round_trips_melodies_on_the_sixteenth_grid) {
  std::mt19937 rng(20240611);
  for (int i = 0; i < 300; ++i) {
    SCOPED_TRACE("melody " + std::to_string(i));
    expect_round_trip(random_melody(rng, 4), 4);
  }
}

TEST(MidiWriter, round_trips_triplets_at_twelve_steps_per_quarter) {
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    SCOPED_TRACE("melody " + std::to_string(i));
    expect_round_trip(random_melody(rng, 12), 12);
  }
}

TEST(MidiWriter, round_trips_spelling_of_notes_in_the_key) {
  Melody m;
  m.meters.push_back({0, Meter{}});
  m.keys.push_back({0, Key{-4, Mode::minor, false}});  // F minor: Bb Eb Ab Db
  for (const char* name : {"F4", "Ab4", "Db5", "C5", "Bb4", "Eb4", "F4", "E4", "F4"})
    m.append(Pitch::parse(name), Rational(1, 2));
  ReadResult r = read_midi(write_midi(m), "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(r.melodies[0].notes, m.notes);
}

// Runs a shell command; returns its exit status (-1 when it could not run or was killed).
int run(const std::string& command) {
  int status = std::system(command.c_str());
  return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string slurp(const std::filesystem::path& path) { return read_file_bytes(path); }

TEST(MidiWriter, writes_files_that_midi2abc_reads) {
  ASSERT_EQ(run("command -v midi2abc > /dev/null"), 0) << "midi2abc (Debian package abcmidi) is not installed";
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("antiphon_midi_writer_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  Melody m = tiny_melody();
  m.pickup = Rational(1);  // G4 at 960 ticks, a rest, A4
  m.append(Pitch::from_midi(71), Rational(3));
  write_file_atomic(dir / "tune.mid", write_midi(m));

  std::string file = (dir / "tune.mid").string();
  ASSERT_EQ(run("midi2abc -f '" + file + "' -midigram > '" + (dir / "gram.txt").string() + "' 2>&1"), 0);
  ASSERT_EQ(run("midi2abc -f '" + file + "' > '" + (dir / "tune.abc").string() + "' 2>&1"), 0);
  std::string gram = slurp(dir / "gram.txt");
  std::string abc = slurp(dir / "tune.abc");
  std::filesystem::remove_all(dir);

  // The midigram lists each note as: start end track channel pitch velocity (ticks; channel from 1).
  std::istringstream lines(gram);
  std::string line;
  std::vector<std::string> notes;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    long start, end, track, channel, pitch, velocity;
    if (fields >> start >> end >> track >> channel >> pitch >> velocity)
      notes.push_back(std::to_string(start) + "-" + std::to_string(end) + ":" + std::to_string(pitch) + "/" +
                      std::to_string(channel) + "/" + std::to_string(velocity));
  }
  EXPECT_EQ(notes, (std::vector<std::string>{"960-1440:67/1/80", "1680-1920:69/1/80", "1920-3360:71/1/80"})) << gram;
  EXPECT_NE(abc.find("M: 3/4"), std::string::npos) << abc;
  EXPECT_NE(abc.find("K:G"), std::string::npos) << abc;
  EXPECT_NE(abc.find("Q:1/4=120"), std::string::npos) << abc;
}

}  // namespace
}  // namespace antiphon
