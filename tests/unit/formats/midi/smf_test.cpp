// The structural layer of the MIDI reader: chunks, variable-length quantities, running status, meta and
// sysex events, and the errors for damaged or hostile files.
#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "antiphon/formats/midi.h"
#include "smf_builder.h"

namespace antiphon {
namespace {

using namespace midi_test;

// The ParseError that reading these bytes throws (a failed expectation when there is none).
ParseError parse_error(const std::string& data) {
  try {
    read_midi(data, "t.mid");
  } catch (const ParseError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ParseError";
  return ParseError("", 0, 0, "none");
}

std::vector<int> pitches(const Melody& m) {
  std::vector<int> out;
  for (const Note& n : m.notes)
    if (n.pitch) out.push_back(n.pitch->midi);
  return out;
}

bool has_warning(const ReadResult& r, const std::string& reason) {
  for (const Diagnostic& d : r.warnings)
    if (d.reason == reason) return true;
  return false;
}

// Header (14 bytes) and MTrk id and length (8 bytes): the first event of the first track is at byte 22.
constexpr int kFirstEvent = 22;

TEST(MidiStructure, rejects_bad_magic_at_byte_zero) {
  ParseError e = parse_error(fixture("bad_magic.mid"));
  EXPECT_EQ(e.reason(), "bad header");
  EXPECT_EQ(e.line(), 0);
  EXPECT_EQ(e.column(), 0);
  EXPECT_NE(e.message().find("expected 'MThd'"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("'RIFF'"), std::string::npos) << e.message();
}

TEST(MidiStructure, rejects_a_chunk_length_beyond_the_file_without_allocating_it) {
  ParseError e = parse_error(fixture("huge_chunk_length.mid"));
  EXPECT_EQ(e.reason(), "truncated");
  EXPECT_EQ(e.column(), 18);  // the MTrk length field
  EXPECT_NE(e.message().find("declares 4294967280 bytes but only 4 remain"), std::string::npos) << e.message();
}

TEST(MidiStructure, rejects_smpte_time_division) {
  ParseError e = parse_error(fixture("smpte_division.mid"));
  EXPECT_EQ(e.reason(), "unsupported");
  EXPECT_EQ(e.column(), 12);
  EXPECT_NE(e.message().find("SMPTE time division not supported"), std::string::npos) << e.message();
}

TEST(MidiStructure, gives_parse_error_for_every_truncation_of_a_valid_file) {
  for (std::string name : {"running_status.mid", "format1_tracks.mid", "tempo_time_key.mid"}) {
    std::string whole = fixture(name);
    ASSERT_EQ(read_midi(whole, name).melodies.size(), name == std::string("format1_tracks.mid") ? 2u : 1u);
    for (size_t n = 0; n < whole.size(); ++n) {
      SCOPED_TRACE(name + " cut to " + std::to_string(n) + " bytes");
      ParseError e = parse_error(whole.substr(0, n));
      EXPECT_EQ(e.reason(), "truncated") << e.what();
      EXPECT_LE(e.column(), static_cast<int>(n));
    }
  }
}

TEST(MidiStructure, skips_unknown_chunks) {
  ReadResult r = read_midi(fixture("unknown_chunk.mid"), "unknown_chunk.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(pitches(r.melodies[0]), std::vector<int>{60});
  EXPECT_EQ(r.melodies[0].notes[0].duration, Rational(1));
}

TEST(MidiStructure, rejects_a_chunk_id_that_is_not_text) {
  std::string data = header(0, 1, 96) + chunk(bytes({0, 1, 2, 3}), "") + track(note(0, 0, 60, 96) + end_of_track());
  ParseError e = parse_error(data);
  EXPECT_EQ(e.reason(), "bad chunk");
  EXPECT_EQ(e.column(), 14);
  EXPECT_NE(e.message().find("0x00 0x01 0x02 0x03"), std::string::npos) << e.message();
}

TEST(MidiStructure, rejects_a_variable_length_quantity_longer_than_four_bytes) {
  std::string data = header(0, 1, 96) + track(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x00}) + bytes({0x90, 60, 100}));
  ParseError e = parse_error(data);
  EXPECT_EQ(e.reason(), "bad event");
  EXPECT_EQ(e.column(), kFirstEvent);
  EXPECT_NE(e.message().find("longer than 4 bytes"), std::string::npos) << e.message();
}

TEST(MidiStructure, reads_the_largest_four_byte_delta) {
  // 0x0FFFFFFF ticks of silence, then a quarter note.
  std::string data =
      header(0, 1, 96) + track(bytes({0xFF, 0xFF, 0xFF, 0x7F, 0x90, 60, 100}) + off(96, 0, 60) + end_of_track());
  ReadResult r = read_midi(data, "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(r.melodies[0].notes.size(), 1u);  // the empty bars before the note are dropped
}

TEST(MidiStructure, rejects_a_data_byte_without_running_status) {
  std::string data = header(0, 1, 96) + track(bytes({0x00, 0x3C, 0x40}) + end_of_track());
  ParseError e = parse_error(data);
  EXPECT_EQ(e.reason(), "bad event");
  EXPECT_EQ(e.column(), kFirstEvent + 1);
  EXPECT_NE(e.message().find("data byte 0x3C without a status byte"), std::string::npos) << e.message();
}

TEST(MidiStructure, rejects_a_status_byte_where_a_data_byte_belongs) {
  std::string data = header(0, 1, 96) + track(bytes({0x00, 0x90, 0x3C, 0x90}) + end_of_track());
  ParseError e = parse_error(data);
  EXPECT_EQ(e.reason(), "bad event");
  EXPECT_EQ(e.column(), kFirstEvent + 3);
  EXPECT_NE(e.message().find("expected a data byte"), std::string::npos) << e.message();
}

TEST(MidiStructure, rejects_system_common_messages_inside_a_track) {
  std::string data = header(0, 1, 96) + track(bytes({0x00, 0xF2, 0x00, 0x00}) + end_of_track());
  ParseError e = parse_error(data);
  EXPECT_EQ(e.reason(), "bad event");
  EXPECT_EQ(e.column(), kFirstEvent + 1);
  EXPECT_NE(e.message().find("0xF2"), std::string::npos) << e.message();
}

TEST(MidiStructure, rejects_a_meta_event_longer_than_its_track) {
  std::string data = header(1, 2, 96) + track(bytes({0x00, 0xFF, 0x03, 0x10, 'A'})) + track(end_of_track());
  ParseError e = parse_error(data);
  EXPECT_EQ(e.reason(), "truncated");
  EXPECT_NE(e.message().find("meta event data (16 bytes), track chunk ends at byte 27"), std::string::npos)
      << e.message();
  EXPECT_EQ(e.column(), kFirstEvent + 4);
}

TEST(MidiStructure, rejects_bad_header_fields) {
  EXPECT_EQ(parse_error("MThd" + u32(4) + u16(0) + u16(1)).reason(), "bad header");         // length below 6
  EXPECT_EQ(parse_error(header(3, 1, 96) + track(end_of_track())).reason(), "bad header");  // format 3
  EXPECT_EQ(parse_error(header(1, 0, 96)).reason(), "bad header");                          // no tracks
  ParseError zero = parse_error(header(0, 1, 0) + track(end_of_track()));
  EXPECT_EQ(zero.reason(), "bad header");
  EXPECT_EQ(zero.column(), 12);
}

TEST(MidiStructure, skips_extra_header_bytes) {
  std::string data =
      "MThd" + u32(8) + u16(0) + u16(1) + u16(96) + bytes({0xAA, 0xBB}) + track(note(0, 0, 62, 96) + end_of_track());
  ReadResult r = read_midi(data, "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(pitches(r.melodies[0]), std::vector<int>{62});
}

TEST(MidiStructure, names_the_missing_track_when_the_header_declares_more) {
  std::string data = header(1, 3, 96) + track(note(0, 0, 60, 96) + end_of_track());
  ParseError e = parse_error(data);
  EXPECT_EQ(e.reason(), "truncated");
  EXPECT_EQ(e.column(), static_cast<int>(data.size()));
  EXPECT_NE(e.message().find("expected track 2 of 3"), std::string::npos) << e.message();
}

TEST(MidiStructure, fails_fast_on_hostile_track_counts) {
  // 65535 tracks declared, none present.
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(parse_error(header(1, 65535, 96)).reason(), "truncated");
  // 100000 empty tracks present (more than a header can declare): read in one pass.
  std::string many = header(1, 65535, 96);
  std::string empty_track = track(end_of_track());
  many.reserve(many.size() + 100000 * empty_track.size());
  for (int i = 0; i < 100000; ++i) many += empty_track;
  ReadResult r = read_midi(many, "many.mid");
  EXPECT_TRUE(r.melodies.empty());
  ASSERT_EQ(r.rejected.size(), 1u);
  EXPECT_EQ(r.rejected[0].reason, "empty track");
  EXPECT_TRUE(has_warning(r, "trailing bytes"));  // the 34465 tracks beyond the declared count
  // Every track declaring 2^32-1 bytes.
  std::string huge = header(1, 65535, 96);
  for (int i = 0; i < 1000; ++i) huge += "MTrk" + u32(0xFFFFFFFF);
  EXPECT_EQ(parse_error(huge).reason(), "truncated");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 5.0);
}

TEST(MidiStructure, skips_sysex_text_controllers_and_other_channel_messages) {
  std::string events = bytes({0x00, 0xF0, 0x03, 0x7E, 0x7F, 0xF7}) +      // sysex
                       bytes({0x00, 0xF7, 0x02, 0x01, 0x02}) +            // escaped sysex
                       meta(0, 0x01, "text") + meta(0, 0x06, "marker") +  // text, marker
                       meta(0, 0x7F, bytes({0x00, 0x00, 0x41})) +         // sequencer specific
                       bytes({0x00, 0xB0, 0x07, 0x64}) +                  // controller
                       bytes({0x00, 0xE0, 0x00, 0x40}) +                  // pitch bend
                       bytes({0x00, 0xD0, 0x40}) +                        // channel pressure (1 byte)
                       bytes({0x00, 0xA0, 0x3C, 0x20}) +                  // key pressure
                       note(0, 0, 64, 96) + end_of_track();
  ReadResult r = read_midi(header(0, 1, 96) + track(events), "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(pitches(r.melodies[0]), std::vector<int>{64});
  EXPECT_EQ(r.melodies[0].notes[0].duration, Rational(1));
  EXPECT_TRUE(r.warnings.empty()) << r.warnings[0].to_string();
}

TEST(MidiStructure, ignores_bytes_after_the_end_of_track_event) {
  std::string events = note(0, 0, 60, 96) + end_of_track() + bytes({0x00, 0x3C});
  ReadResult r = read_midi(header(0, 1, 96) + track(events), "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(pitches(r.melodies[0]), std::vector<int>{60});
}

TEST(MidiStructure, warns_when_a_track_lacks_its_end_of_track_event) {
  ReadResult r = read_midi(header(0, 1, 96) + track(note(0, 0, 60, 96)), "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  ASSERT_TRUE(has_warning(r, "no end of track"));
  EXPECT_EQ(r.warnings[0].column, 14);
}

TEST(MidiStructure, ends_notes_left_sounding_at_the_end_of_track) {
  // C4 from 0 with no note-off; the track ends at tick 192.
  ReadResult r = read_midi(header(0, 1, 96) + track(on(0, 0, 60) + end_of_track(192)), "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(r.melodies[0].notes[0].duration, Rational(2));
  ASSERT_TRUE(has_warning(r, "unclosed notes"));
}

TEST(MidiStructure, ignores_note_offs_without_a_sounding_note) {
  ReadResult r = read_midi(header(0, 1, 96) + track(off(0, 0, 62) + note(0, 0, 60, 96) + end_of_track()), "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  EXPECT_EQ(pitches(r.melodies[0]), std::vector<int>{60});
  EXPECT_TRUE(has_warning(r, "unmatched note-offs"));
}

TEST(MidiStructure, warns_about_bytes_after_the_declared_tracks) {
  ReadResult r = read_midi(header(0, 1, 96) + track(note(0, 0, 60, 96) + end_of_track()) + bytes({0, 0, 0}), "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  ASSERT_TRUE(has_warning(r, "trailing bytes"));
  EXPECT_NE(r.warnings[0].message.find("ignored 3 bytes"), std::string::npos);
}

TEST(MidiStructure, pairs_repeated_note_ons_first_in_first_out) {
  // C4 on at 0, again at 96; offs at 192 and 288: the first off ends the first note.
  std::string events = on(0, 0, 60) + on(96, 0, 60) + off(96, 0, 60) + off(96, 0, 60) + end_of_track();
  ReadResult r = read_midi(header(0, 1, 96) + track(events), "t.mid");
  ASSERT_EQ(r.melodies.size(), 1u);
  const Melody& m = r.melodies[0];
  ASSERT_EQ(m.notes.size(), 2u);
  EXPECT_EQ(m.notes[0].duration, Rational(1));  // 0-192, cut at the second onset
  EXPECT_EQ(m.notes[1].duration, Rational(2));  // 96-288
}

TEST(MidiStructure, survives_random_damage_to_valid_files) {
  // Each damaged file either reads or throws ParseError; nothing else escapes (and, under the sanitizers,
  // nothing reads out of bounds).
  std::mt19937 rng(1234);
  for (std::string name : {"running_status.mid", "format1_tracks.mid", "tempo_time_key.mid", "chords.mid",
                           "unquantized.mid", "pickup.mid"}) {
    std::string whole = fixture(name);
    for (int round = 0; round < 3000; ++round) {
      std::string damaged = whole;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < edits; ++i) damaged[rng() % damaged.size()] = static_cast<char>(rng() % 256);
      try {
        ReadResult r = read_midi(damaged, name);
        for (const Melody& m : r.melodies) EXPECT_EQ(m.check(), "");
      } catch (const ParseError&) {
      }
    }
  }
}

}  // namespace
}  // namespace antiphon
