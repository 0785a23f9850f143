// Melody extraction from MIDI tracks: quantization, polyphony, overlaps, drums, leading silence, meta
// events, spelling, titles and metadata. Expected melodies are worked out by hand from the bytes (96 ticks
// per quarter: one step of a quarter's four is 24 ticks).
#include <gtest/gtest.h>

#include "antiphon/formats/midi.h"
#include "smf_builder.h"

namespace antiphon {
namespace {

using namespace midi_test;

ReadResult read_fixture(const std::string& name, const MidiReadOptions& options = {}) {
  ReadResult r = read_midi(fixture(name), name, options);
  for (const Melody& m : r.melodies) EXPECT_EQ(m.check(), "") << m.title;
  return r;
}

ReadResult read(const std::string& data, const MidiReadOptions& options = {}) {
  ReadResult r = read_midi(data, "/some/folder/song.mid", options);
  for (const Melody& m : r.melodies) EXPECT_EQ(m.check(), "") << m.title;
  return r;
}

// "C4:1/2 r:1/2 D4:1": pitch names (r for rests) and durations.
std::string notes_of(const Melody& m) {
  std::string s;
  for (const Note& n : m.notes) {
    if (!s.empty()) s += ' ';
    s += (n.pitch ? n.pitch->name() : std::string("r")) + ":" + n.duration.to_string();
  }
  return s;
}

const Diagnostic* find(const std::vector<Diagnostic>& ds, const std::string& reason) {
  for (const Diagnostic& d : ds)
    if (d.reason == reason) return &d;
  return nullptr;
}

std::string one_track(const std::string& events, int division = 96) {
  return header(0, 1, division) + track(events + end_of_track());
}

TEST(MidiExtract, reads_running_status_notes) {
  ReadResult r = read_fixture("running_status.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  const Melody& m = r.melodies[0];
  EXPECT_EQ(notes_of(m), "C4:1 D4:1 E4:1 G4:1");
  EXPECT_EQ(m.notes[3].onset, Rational(3));
  EXPECT_EQ(m.meter(), (Meter{MeterKind::regular, 4, 4}));
  EXPECT_EQ(m.pickup, Rational(0));
  EXPECT_EQ(m.tempo_qpm, 120.0);
  EXPECT_EQ(m.title, "running_status");
  EXPECT_EQ(m.source_file, "running_status.mid");
  EXPECT_EQ(m.source_index, 0);
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_TRUE(r.rejected.empty());
}

TEST(MidiExtract, treats_note_on_with_velocity_zero_as_note_off) {
  ReadResult r = read_fixture("note_on_velocity0.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(notes_of(r.melodies[0]), "C4:1/2 r:1/2 D4:1");
  EXPECT_EQ(r.melodies[0].notes[2].onset, Rational(1));
}

TEST(MidiExtract, reads_tempo_time_and_key_signatures_with_their_changes) {
  ReadResult r = read_fixture("tempo_time_key.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  const Melody& m = r.melodies[0];
  // Bb major spells 70 and 75 from its signature and the chromatic 66 with a flat; E minor spells 66
  // from its signature and the chromatic 75 with a sharp.
  EXPECT_EQ(notes_of(m), "Bb4:1 Eb5:1 Gb4:1 F#4:1 D#5:1");
  EXPECT_EQ(m.tempo_qpm, 150.0);
  ASSERT_EQ(m.meters.size(), 2u);
  EXPECT_EQ(m.meters[0].onset, Rational(0));
  EXPECT_EQ(m.meters[0].value, (Meter{MeterKind::regular, 3, 4}));
  EXPECT_EQ(m.meters[1].onset, Rational(3));
  EXPECT_EQ(m.meters[1].value, (Meter{MeterKind::regular, 2, 4}));
  ASSERT_EQ(m.keys.size(), 2u);
  EXPECT_EQ(m.keys[0].value, (Key{-2, Mode::major, false}));
  EXPECT_EQ(m.keys[1].onset, Rational(3));
  EXPECT_EQ(m.keys[1].value, (Key{1, Mode::minor, false}));
  EXPECT_EQ(m.metadata_value("track"), "Meta test");
  EXPECT_EQ(m.title, "tempo_time_key");  // one melody: the file stem alone
}

TEST(MidiExtract, splits_a_format0_track_by_channel) {
  ReadResult r = read_fixture("format0_two_channels.mid");
  ASSERT_EQ(r.melodies.size(), 2u);
  EXPECT_EQ(notes_of(r.melodies[0]), "E4:1 F4:1");
  EXPECT_EQ(notes_of(r.melodies[1]), "C3:2");
  EXPECT_EQ(r.melodies[0].title, "format0_two_channels [track 0 ch 0]");
  EXPECT_EQ(r.melodies[1].title, "format0_two_channels [track 0 ch 1]");
  EXPECT_EQ(r.melodies[0].metadata_value("channel"), "0");
  EXPECT_EQ(r.melodies[1].metadata_value("channel"), "1");
  EXPECT_EQ(r.melodies[0].metadata_value("program"), "0");
  EXPECT_EQ(r.melodies[1].metadata_value("program"), "32");
  EXPECT_EQ(r.melodies[0].source_index, 0);
  EXPECT_EQ(r.melodies[1].source_index, 0);
}

TEST(MidiExtract, reads_one_melody_per_format1_track_with_the_conductor_track_meta) {
  ReadResult r = read_fixture("format1_tracks.mid");
  ASSERT_EQ(r.melodies.size(), 2u);
  EXPECT_TRUE(r.rejected.empty());  // the conductor track has no channel events: not a candidate
  const Melody& lead = r.melodies[0];
  const Melody& bass = r.melodies[1];
  EXPECT_EQ(notes_of(lead), "C5:1/2 D5:1/2");
  EXPECT_EQ(notes_of(bass), "C3:3/2");
  EXPECT_EQ(lead.title, "format1_tracks [Lead]");
  EXPECT_EQ(bass.title, "format1_tracks [Bass]");
  EXPECT_EQ(lead.source_index, 1);
  EXPECT_EQ(bass.source_index, 2);
  EXPECT_EQ(bass.metadata_value("channel"), "1");
  EXPECT_EQ(lead.meter(), (Meter{MeterKind::regular, 6, 8}));
  EXPECT_EQ(bass.meter(), (Meter{MeterKind::regular, 6, 8}));
  EXPECT_EQ(lead.tempo_qpm, 120.0);
}

TEST(MidiExtract, rejects_drum_tracks) {
  ReadResult r = read_fixture("drum_channel.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(notes_of(r.melodies[0]), "A4:1 A4:1");
  EXPECT_EQ(r.melodies[0].title, "drum_channel");
  EXPECT_EQ(r.melodies[0].metadata_value("track"), "Tune");
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "drum track");
  EXPECT_EQ(r.rejected[0].column, 14);  // the Drums track's chunk
  EXPECT_NE(r.rejected[0].message.find("track 0 (Drums)"), std::string::npos) << r.rejected[0].message;
}

TEST(MidiExtract, rejects_the_drum_channel_of_a_mixed_track) {
  std::string events = on(0, 9, 36) + on(0, 0, 60) + off(96, 9, 36) + off(0, 0, 60);
  ReadResult r = read(one_track(events));
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(notes_of(r.melodies[0]), "C4:1");
  EXPECT_EQ(r.melodies[0].title, "song");
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "drum track");
}

TEST(MidiExtract, cuts_overlapping_notes_at_the_next_onset) {
  ReadResult r = read_fixture("overlaps.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(notes_of(r.melodies[0]), "C4:1 D4:1 E4:1");
  const Diagnostic* w = find(r.warnings, "overlaps cut");
  ASSERT_NE(w, nullptr);
  EXPECT_NE(w->message.find("cut 2 overlapping notes"), std::string::npos) << w->message;
  EXPECT_EQ(find(r.warnings, "quantization"), nullptr);  // every time is on the grid
}

TEST(MidiExtract, keeps_the_top_note_of_chords) {
  ReadResult r = read_fixture("chords.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(notes_of(r.melodies[0]), "G4:1 F4:1 E4:1");
  const Diagnostic* w = find(r.warnings, "chords reduced");
  ASSERT_NE(w, nullptr);
  EXPECT_NE(w->message.find("reduced 2 chords to their top note"), std::string::npos) << w->message;
}

TEST(MidiExtract, drops_polyphonic_tracks_when_asked) {
  MidiReadOptions options;
  options.drop_polyphonic_tracks = true;
  ReadResult r = read_fixture("chords.mid", options);
  EXPECT_TRUE(r.melodies.empty());
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "polyphonic track");
  EXPECT_NE(r.rejected[0].message.find("2 simultaneous onsets"), std::string::npos) << r.rejected[0].message;
  // A monophonic track is kept under the same option.
  EXPECT_EQ(read_fixture("overlaps.mid", options).melodies.size(), 1u);
}

TEST(MidiExtract, quantizes_to_the_nearest_step_and_reports_the_error) {
  // Times 5 43 50 96 108 150 ticks are steps 0.208 1.792 2.083 4 4.5 6.25: rounded (halves up) to
  // 0 2 2 4 5 6, errors summing to 1.25 over 6 times.
  ReadResult r = read_fixture("unquantized.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(notes_of(r.melodies[0]), "C4:1/2 D4:1/2 r:1/4 E4:1/4");
  EXPECT_EQ(r.melodies[0].pickup, Rational(0));
  const Diagnostic* w = find(r.warnings, "quantization");
  ASSERT_NE(w, nullptr);
  EXPECT_NE(w->message.find("quantization error mean 0.208 max 0.500 steps"), std::string::npos) << w->message;
}

TEST(MidiExtract, quantizes_to_a_finer_grid) {
  // At 12 steps per quarter (8 ticks a step) the times are 0.625 5.375 6.25 12 13.5 18.75 steps:
  // 1 5 6 12 14 19, errors summing to 1.75. The first note is 1 step into a 4/4 bar: a pickup of 47 steps.
  MidiReadOptions options;
  options.steps_per_quarter = 12;
  ReadResult r = read_fixture("unquantized.mid", options);
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(notes_of(r.melodies[0]), "C4:1/3 r:1/12 D4:1/2 r:1/6 E4:5/12");
  EXPECT_EQ(r.melodies[0].pickup, Rational(47, 12));
  const Diagnostic* w = find(r.warnings, "quantization");
  ASSERT_NE(w, nullptr);
  EXPECT_NE(w->message.find("mean 0.292 max 0.500 steps"), std::string::npos) << w->message;
}

TEST(MidiExtract, lengthens_notes_shorter_than_half_a_step) {
  // D4 lasts 10 ticks (0.42 steps) and rounds to nothing: it becomes one step.
  ReadResult r = read(one_track(note(0, 0, 60, 96) + note(0, 0, 62, 10)));
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(notes_of(r.melodies[0]), "C4:1 D4:1/4");
  const Diagnostic* w = find(r.warnings, "short notes");
  ASSERT_NE(w, nullptr);
  EXPECT_NE(w->message.find("lengthened 1 note "), std::string::npos) << w->message;
}

TEST(MidiExtract, drops_empty_bars_and_keeps_the_partial_bar_as_pickup) {
  ReadResult r = read_fixture("pickup.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  const Melody& m = r.melodies[0];
  EXPECT_EQ(notes_of(m), "G4:1 C5:3");
  EXPECT_EQ(m.notes[0].onset, Rational(0));
  EXPECT_EQ(m.pickup, Rational(1));
  EXPECT_EQ(m.meter(), (Meter{MeterKind::regular, 3, 4}));
}

TEST(MidiExtract, shifts_meter_changes_with_the_pickup) {
  // 3/4 from 0; the first note at tick 192 (a one-quarter pickup); 2/4 from tick 576 (bar 3), which is
  // 384 ticks = 4 quarters after the first note.
  std::string events = time_signature(0, 3, 2) + note(192, 0, 67, 96) + note(0, 0, 72, 288) + time_signature(0, 2, 2) +
                       note(0, 0, 74, 192);
  ReadResult r = read(one_track(events));
  ASSERT_EQ(r.melodies.size(), 1u);
  const Melody& m = r.melodies[0];
  EXPECT_EQ(m.pickup, Rational(1));
  ASSERT_EQ(m.meters.size(), 2u);
  EXPECT_EQ(m.meters[1].onset, Rational(4));
  EXPECT_EQ(m.meters[1].value, (Meter{MeterKind::regular, 2, 4}));
}

TEST(MidiExtract, takes_the_meter_in_effect_at_the_first_note) {
  // 4/4 at 0, 3/4 from tick 384; the first note at tick 480 is one quarter into a 3/4 bar.
  std::string events = time_signature(0, 4, 2) + time_signature(384, 3, 2) + note(96, 0, 60, 96);
  ReadResult r = read(one_track(events));
  ASSERT_EQ(r.melodies.size(), 1u);
  const Melody& m = r.melodies[0];
  ASSERT_EQ(m.meters.size(), 1u);
  EXPECT_EQ(m.meters[0].value, (Meter{MeterKind::regular, 3, 4}));
  EXPECT_EQ(m.pickup, Rational(2));
}

TEST(MidiExtract, rejects_tracks_with_too_few_notes) {
  MidiReadOptions options;
  options.min_notes = 4;
  ReadResult r = read_fixture("chords.mid", options);  // 3 notes once the chords are reduced
  EXPECT_TRUE(r.melodies.empty());
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "too few notes");
  EXPECT_NE(r.rejected[0].message.find("3 notes, fewer than the minimum 4"), std::string::npos);
}

TEST(MidiExtract, rejects_instrument_tracks_without_notes) {
  std::string data =
      header(1, 2, 96) + track(program(0, 0, 5) + end_of_track()) + track(note(0, 1, 60, 96) + end_of_track());
  ReadResult r = read(data);
  ASSERT_EQ(r.melodies.size(), 1u);
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "empty track");
}

TEST(MidiExtract, reports_a_file_without_notes) {
  ReadResult r = read(one_track(tempo(0, 500000)));
  EXPECT_TRUE(r.melodies.empty());
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "empty track");
}

TEST(MidiExtract, spells_pitches_from_the_key_signature) {
  auto names = [&](int fifths, int minor, std::initializer_list<int> midis) {
    std::string events = key_signature(0, fifths, minor);
    for (int p : midis) events += note(0, 0, p, 96);
    return notes_of(read(one_track(events)).melodies.at(0));
  };
  EXPECT_EQ(names(7, 0, {60, 65, 61}), "B#3:1 E#4:1 C#4:1");  // C# major
  EXPECT_EQ(names(-6, 0, {71, 66, 64}), "Cb5:1 Gb4:1 E4:1");  // Gb major; E is chromatic there
  EXPECT_EQ(names(0, 0, {61, 70}), "C#4:1 A#4:1");            // C major: chromatic notes as sharps
  EXPECT_EQ(names(-1, 0, {66, 70}), "Gb4:1 Bb4:1");           // F major: flats
  EXPECT_EQ(names(3, 1, {66, 68, 70}), "F#4:1 G#4:1 A#4:1");  // F# minor
}

TEST(MidiExtract, estimates_the_key_when_the_file_has_none) {
  std::string events;
  for (int p : {67, 69, 71, 72, 74, 76, 78, 79, 74, 71, 67}) events += note(0, 0, p, 96);
  ReadResult r = read(one_track(events));
  ASSERT_EQ(r.melodies.size(), 1u);
  const Melody& m = r.melodies[0];
  ASSERT_EQ(m.keys.size(), 1u);
  EXPECT_TRUE(m.key().estimated);
  EXPECT_EQ(m.key().fifths, 1);
  EXPECT_EQ(m.key().mode, Mode::major);
  EXPECT_EQ(m.notes[6].pitch->name(), "F#5");
}

TEST(MidiExtract, applies_a_late_first_key_signature_from_the_start) {
  std::string events = note(0, 0, 70, 96) + key_signature(0, -2, 0) + note(0, 0, 70, 96);
  ReadResult r = read(one_track(events));
  ASSERT_EQ(r.melodies.size(), 1u);
  ASSERT_EQ(r.melodies[0].keys.size(), 1u);
  EXPECT_EQ(r.melodies[0].keys[0].onset, Rational(0));
  EXPECT_FALSE(r.melodies[0].key().estimated);
  EXPECT_EQ(notes_of(r.melodies[0]), "Bb4:1 Bb4:1");
}

TEST(MidiExtract, keeps_the_first_tempo_and_counts_changes) {
  std::string events = tempo(0, 500000) + note(0, 0, 60, 96) + tempo(0, 400000) + note(0, 0, 62, 96) + tempo(0, 400000);
  ReadResult r = read(one_track(events));
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(r.melodies[0].tempo_qpm, 120.0);
  const Diagnostic* w = find(r.warnings, "tempo changes");
  ASSERT_NE(w, nullptr);
  EXPECT_NE(w->message.find("ignored 1 tempo change "), std::string::npos) << w->message;
}

TEST(MidiExtract, gives_the_simplest_tempo_that_matches_the_microseconds) {
  auto qpm = [&](uint32_t us) { return read(one_track(tempo(0, us) + note(0, 0, 60, 96))).melodies.at(0).tempo_qpm; };
  EXPECT_EQ(qpm(857143), 70.0);  // 60e6 / 857143 = 69.99997
  EXPECT_EQ(qpm(600000), 100.0);
  EXPECT_EQ(qpm(452830), 132.5);  // 132.50005
  EXPECT_EQ(qpm(1000000), 60.0);
}

TEST(MidiExtract, ignores_bad_meta_events_with_a_warning) {
  std::string events = meta(0, 0x58, bytes({0, 2, 24, 8})) + key_signature(0, 9, 0) + note(0, 0, 60, 96);
  ReadResult r = read(one_track(events));
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(r.melodies[0].meter(), (Meter{MeterKind::regular, 4, 4}));
  EXPECT_TRUE(r.melodies[0].key().estimated);
  const Diagnostic* w = find(r.warnings, "bad meta event");
  ASSERT_NE(w, nullptr);
  EXPECT_NE(w->message.find("ignored 2 bad meta events"), std::string::npos) << w->message;
}

TEST(MidiExtract, reads_format2_tracks_as_separate_sequences) {
  std::string data = header(2, 2, 96) +
                     track(tempo(0, 500000) + time_signature(0, 3, 2) + note(0, 0, 60, 96) + end_of_track()) +
                     track(tempo(0, 1000000) + time_signature(0, 6, 3) + note(0, 0, 62, 48) + end_of_track());
  ReadResult r = read(data);
  ASSERT_EQ(r.melodies.size(), 2u);
  EXPECT_EQ(r.melodies[0].meter(), (Meter{MeterKind::regular, 3, 4}));
  EXPECT_EQ(r.melodies[0].tempo_qpm, 120.0);
  EXPECT_EQ(r.melodies[1].meter(), (Meter{MeterKind::regular, 6, 8}));
  EXPECT_EQ(r.melodies[1].tempo_qpm, 60.0);
}

TEST(MidiExtract, takes_the_program_set_before_the_first_note) {
  std::string events = program(0, 0, 40) + program(0, 0, 73) + note(0, 0, 72, 96) + program(0, 0, 10);
  ReadResult r = read(one_track(events));
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(r.melodies[0].metadata_value("program"), "73");
}

TEST(MidiExtract, names_unnamed_and_latin1_tracks) {
  std::string data =
      header(1, 2, 96) +
      track(track_name(0, bytes({'C', 0xE9, 'i', 'l', 'e', ' '})) + note(0, 0, 60, 96) + end_of_track()) +
      track(note(0, 1, 48, 96) + end_of_track());
  ReadResult r = read(data);
  ASSERT_EQ(r.melodies.size(), 2u);
  EXPECT_EQ(r.melodies[0].title, "song [C\xC3\xA9ile]");
  EXPECT_EQ(r.melodies[1].title, "song [track 1]");
  EXPECT_EQ(r.melodies[1].metadata_value("track"), "track 1");
}

TEST(MidiExtract, rejects_invalid_options) {
  MidiReadOptions options;
  options.steps_per_quarter = 0;
  EXPECT_THROW(read_midi(fixture("chords.mid"), "chords.mid", options), ConfigError);
}

}  // namespace
}  // namespace antiphon
