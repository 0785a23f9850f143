#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "antiphon/core/text.h"
#include "antiphon/formats/kern.h"

namespace antiphon {
namespace {

Rational q(int64_t n, int64_t d = 1) { return Rational(n, d); }

Pitch pitch(Letter letter, int alter, int octave) { return Pitch::from_spelling(letter, alter, octave); }

Melody melody_in(const Meter& meter) {
  Melody m;
  m.meters.push_back({q(0), meter});
  return m;
}

const Meter kFree{MeterKind::free, 4, 4};

// The lines of the written kern between the interpretations and the final "==".
std::vector<std::string> body_of(const std::string& kern) {
  std::vector<std::string> out;
  for (std::string_view line : split_lines(kern))
    if (!line.empty() && line[0] != '*' && line[0] != '!' && line != "==") out.emplace_back(line);
  return out;
}

void expect_same_music(const Melody& a, const Melody& b, const std::string& what) {
  EXPECT_EQ(a.notes, b.notes) << what;
  EXPECT_EQ(a.meters, b.meters) << what;
  EXPECT_EQ(a.keys, b.keys) << what;
  EXPECT_EQ(a.pickup, b.pickup) << what;
  EXPECT_EQ(a.title, b.title) << what;
  EXPECT_EQ(a.metadata, b.metadata) << what;
  EXPECT_EQ(a.tempo_qpm, b.tempo_qpm) << what;
}

Melody round_trip(const Melody& m) {
  ReadResult r = read_kern(write_kern(m), "round-trip.krn");
  EXPECT_EQ(r.melodies.size(), 1u);
  return r.melodies.front();
}

TEST(KernWriter, writes_header_barlines_ties_triplets_and_phrases) {
  Melody m = melody_in(Meter{MeterKind::regular, 3, 4});
  m.title = "Song";
  m.metadata = {{"ARE", "Europa"}};
  m.keys.push_back({q(0), Key::from_tonic(Letter::D, 0, Mode::dorian)});
  m.tempo_qpm = 100;
  m.pickup = q(1);
  m.append(pitch(Letter::G, 0, 4), q(1));  // pickup
  m.append(pitch(Letter::C, 0, 5), q(2));
  m.append(pitch(Letter::D, 0, 5), q(2));                                 // crosses the barline at 4
  m.append(pitch(Letter::E, 0, 5), q(5, 4));                              // not one kern value: 4 tied to 16
  m.append(std::nullopt, q(3, 4));                                        // dotted eighth rest
  for (int i = 0; i < 3; ++i) m.append(pitch(Letter::F, 1, 5), q(1, 3));  // eighth triplets
  m.append(pitch(Letter::G, 0, 5), q(2));
  m.notes.front().phrase_begin = true;
  m.notes.back().phrase_end = true;
  EXPECT_EQ(write_kern(m),
            "!!!OTL: Song\n"
            "!!!ARE: Europa\n"
            "**kern\n"
            "*M3/4\n"
            "*k[]\n"
            "*d:dor\n"
            "*MM100\n"
            "{4g\n"
            "=1\n"
            "2cc\n"
            "[4dd\n"
            "=2\n"
            "4dd]\n"
            "[4ee\n"
            "16ee]\n"
            "8.r\n"
            "=3\n"
            "12ff#\n"
            "12ff#\n"
            "12ff#\n"
            "2gg}\n"
            "==\n"
            "*-\n");
}

TEST(KernWriter, splits_durations_into_kern_values) {
  struct Case {
    Rational duration;
    std::vector<std::string> tokens;
  };
  for (const Case& c : std::vector<Case>{{q(5, 4), {"[4c", "16c]"}},
                                         {q(7, 4), {"4..c"}},
                                         {q(15, 8), {"4...c"}},
                                         {q(1, 3), {"12c"}},
                                         {q(1, 6), {"24c"}},
                                         {q(8, 3), {"[3c", "3c]"}},
                                         {q(2), {"2c"}},
                                         {q(3), {"2.c"}},
                                         {q(8), {"0c"}},
                                         {q(12), {"0.c"}},
                                         {q(16), {"00c"}},
                                         {q(32), {"000c"}},
                                         {q(64), {"[000c", "000c]"}},
                                         {q(1, 5), {"20c"}},
                                         {q(3, 10), {"20.c"}},
                                         {q(5, 3), {"[3c", "12c]"}}}) {
    Melody m = melody_in(kFree);
    m.append(pitch(Letter::C, 0, 4), c.duration);
    EXPECT_EQ(body_of(write_kern(m)), c.tokens) << c.duration.to_string();
    EXPECT_EQ(round_trip(m).notes, m.notes) << c.duration.to_string();
  }
}

TEST(KernWriter, writes_no_barlines_in_free_or_irregular_meter) {
  for (MeterKind kind : {MeterKind::free, MeterKind::irregular}) {
    Melody m = melody_in(Meter{kind, 4, 4});
    for (int i = 0; i < 9; ++i) m.append(pitch(Letter::D, 0, 4), q(1));
    std::string kern = write_kern(m);
    EXPECT_EQ(kern.find("\n=1"), std::string::npos);
    EXPECT_NE(kern.find(kind == MeterKind::free ? "*MZ\n" : "*MX\n"), std::string::npos);
    EXPECT_NE(kern.find("\n==\n*-\n"), std::string::npos);
  }
}

TEST(KernWriter, writes_meter_changes_in_place_and_restarts_bars) {
  Melody m = melody_in(Meter{MeterKind::regular, 3, 4});
  m.meters.push_back({q(3), Meter{MeterKind::regular, 2, 4}});
  m.keys.push_back({q(0), Key{0, Mode::major, false}});
  for (int i = 0; i < 5; ++i) m.append(pitch(Letter::C, 0, 4), q(1));
  EXPECT_EQ(write_kern(m), "**kern\n*M3/4\n*k[]\n*C:\n*MM120\n=1\n4c\n4c\n4c\n=2\n*M2/4\n4c\n4c\n==\n*-\n");
  expect_same_music(round_trip(m), m, "meter change");
}

TEST(KernWriter, writes_key_changes_and_church_mode_tokens) {
  Melody m = melody_in(Meter{MeterKind::regular, 4, 4});
  m.keys.push_back({q(0), Key::from_tonic(Letter::G, 0, Mode::mixolydian)});
  m.keys.push_back({q(4), Key::from_tonic(Letter::E, -1, Mode::minor)});
  for (int i = 0; i < 8; ++i) m.append(pitch(Letter::G, 0, 4), q(1));
  std::string kern = write_kern(m);
  EXPECT_NE(kern.find("*k[]\n*G:mix\n"), std::string::npos);
  EXPECT_NE(kern.find("=2\n*k[b-e-a-d-g-c-]\n*e-:\n"), std::string::npos);
  expect_same_music(round_trip(m), m, "key change");
}

TEST(KernWriter, round_trips_every_mode_and_tonic_spelling) {
  const Mode modes[] = {Mode::major,  Mode::minor,      Mode::ionian,  Mode::dorian, Mode::phrygian,
                        Mode::lydian, Mode::mixolydian, Mode::aeolian, Mode::locrian};
  for (Mode mode : modes)
    for (int fifths = -7; fifths <= 7; ++fifths) {
      Melody m = melody_in(Meter{MeterKind::regular, 2, 4});
      m.keys.push_back({q(0), Key{fifths, mode, false}});
      m.append(pitch(Letter::A, 0, 4), q(2));
      Melody back = round_trip(m);
      EXPECT_EQ(back.keys, m.keys) << m.key().name();
    }
}

TEST(KernWriter, round_trips_an_estimated_key_without_writing_a_key_token) {
  Melody m = melody_in(Meter{MeterKind::regular, 4, 4});
  for (Letter l : {Letter::A, Letter::C, Letter::E, Letter::A}) m.append(pitch(l, 0, 4), q(1));
  m.append(pitch(Letter::A, 0, 4), q(4));
  Melody read = read_kern(write_kern(m), "no-key.krn").melodies.front();  // the reader estimates A minor
  ASSERT_EQ(read.keys.size(), 1u);
  EXPECT_TRUE(read.key().estimated);
  std::string kern = write_kern(read);
  EXPECT_NE(kern.find("*k[]\n"), std::string::npos);
  EXPECT_EQ(kern.find("*a:"), std::string::npos);
  expect_same_music(round_trip(read), read, "estimated key");
}

TEST(KernWriter, round_trips_pickup_rests_phrases_and_metadata) {
  Melody m = melody_in(Meter{MeterKind::regular, 6, 8});
  m.title = "Tune";
  m.metadata = {{"ARE", "Europa"}, {"OTL", "second title"}, {"YOR", "source"}};
  m.keys.push_back({q(0), Key{2, Mode::major, false}});
  m.tempo_qpm = 72.5;
  m.pickup = q(1, 2);
  m.append(pitch(Letter::A, 0, 4), q(1, 2));
  m.append(pitch(Letter::D, 0, 5), q(5, 2));  // crosses nothing: 5/2 = 2 + 1/2, tied
  m.append(std::nullopt, q(3));               // rest across the barline at 7/2
  m.append(pitch(Letter::F, 1, 5), q(1, 2));
  m.append(pitch(Letter::E, 0, 5), q(5, 2));
  m.notes[1].phrase_begin = true;
  m.notes[2].phrase_end = true;
  m.notes[3].phrase_begin = true;
  m.notes[4].phrase_end = true;
  expect_same_music(round_trip(m), m, "6/8 tune");
}

TEST(KernWriter, round_trips_every_fixture_that_reads) {
  int round_tripped = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(ANTIPHON_FIXTURES) + "/kern")) {
    Melody m;
    try {
      m = read_kern(read_file_bytes(entry.path()), entry.path().string()).melodies.front();
    } catch (const ParseError&) {
      continue;  // fixtures of rejected input
    }
    expect_same_music(round_trip(m), m, entry.path().filename().string());
    ++round_tripped;
  }
  EXPECT_GE(round_tripped, 20);
}

TEST(KernWriter, throws_encoding_error_naming_a_note_it_cannot_write) {
  Melody m = melody_in(kFree);
  m.append(pitch(Letter::C, 0, 4), q(1));
  m.append(pitch(Letter::D, 0, 4), q(1, 1000000007));  // reciprocal 4000000028 is beyond nine digits
  try {
    write_kern(m);
    ADD_FAILURE() << "no EncodingError";
  } catch (const EncodingError& e) {
    EXPECT_NE(std::string(e.what()).find("note 1 (D4"), std::string::npos) << e.what();
  }
  Melody long_note = melody_in(kFree);
  long_note.append(pitch(Letter::C, 0, 4), q(1000000));  // 31250 maximas
  EXPECT_THROW(write_kern(long_note), EncodingError);
  Melody triple_sharp = melody_in(kFree);
  triple_sharp.append(Pitch{63, Letter::C, 3}, q(1));
  EXPECT_THROW(write_kern(triple_sharp), EncodingError);
  Melody gap = melody_in(kFree);
  gap.append(pitch(Letter::C, 0, 4), q(1));
  gap.notes.push_back(Note{q(2), q(1), pitch(Letter::D, 0, 4)});
  EXPECT_THROW(write_kern(gap), EncodingError);
}

}  // namespace
}  // namespace antiphon
