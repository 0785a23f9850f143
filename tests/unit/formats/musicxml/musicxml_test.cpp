// MusicXML writer: the output is parsed back with pugixml and checked against hand-computed values.
#include "antiphon/formats/musicxml.h"

#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <pugixml.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/formats/format.h"

namespace antiphon {
namespace {

Pitch p(const char* name) { return Pitch::parse(name); }

Melody melody_in(int numerator, int denominator, Rational pickup = 0) {
  Melody m;
  m.meters = {{0, Meter{MeterKind::regular, numerator, denominator}}};
  m.keys = {{0, Key{0, Mode::major}}};
  m.pickup = pickup;
  return m;
}

struct Parsed {
  std::string text;
  pugi::xml_document doc;

  explicit Parsed(const Melody& melody) : text(write_musicxml(melody)) {
    pugi::xml_parse_result result = doc.load_string(text.c_str(), pugi::parse_full);
    EXPECT_TRUE(result) << result.description() << "\n" << text;
  }
  pugi::xml_node part() const { return doc.child("score-partwise").child("part"); }
  std::vector<pugi::xml_node> measures() const {
    std::vector<pugi::xml_node> out;
    for (pugi::xml_node m : part().children("measure")) out.push_back(m);
    return out;
  }
  std::vector<pugi::xml_node> notes() const {
    std::vector<pugi::xml_node> out;
    for (pugi::xml_node m : part().children("measure"))
      for (pugi::xml_node n : m.children("note")) out.push_back(n);
    return out;
  }
  int divisions() const { return part().child("measure").child("attributes").child("divisions").text().as_int(); }
};

std::vector<std::string> types(const std::vector<pugi::xml_node>& notes) {
  std::vector<std::string> out;
  for (pugi::xml_node n : notes) {
    std::string t = n.child("type").text().as_string();
    for (pugi::xml_node d = n.child("dot"); d; d = d.next_sibling("dot")) t += ".";
    out.push_back(t);
  }
  return out;
}

std::vector<int> durations(const std::vector<pugi::xml_node>& notes) {
  std::vector<int> out;
  for (pugi::xml_node n : notes) out.push_back(n.child("duration").text().as_int());
  return out;
}

std::vector<std::string> accidentals(const std::vector<pugi::xml_node>& notes) {
  std::vector<std::string> out;
  for (pugi::xml_node n : notes) out.push_back(n.child("accidental").text().as_string());
  return out;
}

std::string tie_types(pugi::xml_node note, const char* element) {
  std::string out;
  pugi::xml_node parent = std::string(element) == "tie" ? note : note.child("notations");
  for (pugi::xml_node t : parent.children(element))
    out += std::string(out.empty() ? "" : ",") + t.attribute("type").value();
  return out;
}

TEST(MusicXml, writes_partwise_4_0_header_with_doctype_software_and_one_melody_part) {
  Melody m = melody_in(4, 4);
  m.title = "Der Mai";
  m.metadata = {{"composer", "Trad."}, {"region", "Baden"}};
  m.append(p("C4"), 4);
  Parsed x(m);
  EXPECT_NE(x.text.find("<!DOCTYPE score-partwise PUBLIC \"-//Recordare//DTD MusicXML 4.0 Partwise//EN\" "
                        "\"http://www.musicxml.org/dtds/partwise.dtd\">"),
            std::string::npos);
  pugi::xml_node score = x.doc.child("score-partwise");
  EXPECT_STREQ(score.attribute("version").value(), "4.0");
  EXPECT_STREQ(score.child("work").child("work-title").text().as_string(), "Der Mai");
  EXPECT_STREQ(score.child("movement-title").text().as_string(), "Der Mai");
  pugi::xml_node id = score.child("identification");
  EXPECT_STREQ(id.child("encoding").child("software").text().as_string(), "Antiphon");
  EXPECT_STREQ(id.child("creator").attribute("type").value(), "composer");
  EXPECT_STREQ(id.child("creator").text().as_string(), "Trad.");
  pugi::xml_node region = id.child("miscellaneous").find_child_by_attribute("miscellaneous-field", "name", "region");
  EXPECT_STREQ(region.text().as_string(), "Baden");
  EXPECT_EQ(std::distance(score.child("part-list").children("score-part").begin(),
                          score.child("part-list").children("score-part").end()),
            1);
  EXPECT_STREQ(score.child("part-list").child("score-part").child("part-name").text().as_string(), "Melody");
  EXPECT_STREQ(x.part().attribute("id").value(), "P1");
}

TEST(MusicXml, escapes_title_with_ampersand_angle_brackets_quotes_and_keeps_non_ascii) {
  Melody m = melody_in(4, 4);
  m.title = "Tom & Jerry <\"jig\">";
  m.metadata = {{"place \"Ø\" & <co>", "Ålesund & Tromsø"}};
  m.append(p("C4"), 4);
  Parsed x(m);
  EXPECT_NE(x.text.find("<work-title>Tom &amp; Jerry &lt;\"jig\"&gt;</work-title>"), std::string::npos);
  pugi::xml_node score = x.doc.child("score-partwise");
  EXPECT_EQ(std::string(score.child("work").child("work-title").text().as_string()), "Tom & Jerry <\"jig\">");
  EXPECT_EQ(std::string(score.child("movement-title").text().as_string()), "Tom & Jerry <\"jig\">");
  pugi::xml_node field = score.child("identification").child("miscellaneous").child("miscellaneous-field");
  EXPECT_EQ(std::string(field.attribute("name").value()), "place \"Ø\" & <co>");
  EXPECT_EQ(std::string(field.text().as_string()), "Ålesund & Tromsø");
}

TEST(MusicXml, drops_control_characters_and_replaces_invalid_utf8_in_text) {
  Melody m = melody_in(4, 4);
  m.title = std::string("a\x01") + "b\xff" + "c";
  m.append(p("C4"), 4);
  Parsed x(m);
  EXPECT_EQ(std::string(x.doc.child("score-partwise").child("movement-title").text().as_string()),
            "ab\xEF\xBF\xBD"
            "c");
}

TEST(MusicXml, divisions_is_lcm_of_onset_and_duration_denominators) {
  Melody m = melody_in(4, 4);
  m.append(p("C4"), 1);               // quarter
  m.append(p("D4"), Rational(1, 2));  // eighth
  m.append(p("E4"), Rational(1, 3));  // triplet eighths
  m.append(p("F4"), Rational(1, 3));
  m.append(p("G4"), Rational(1, 3));
  m.append(p("A4"), Rational(3, 4));  // dotted eighth
  m.append(p("B4"), Rational(1, 4));  // sixteenth
  Parsed x(m);
  EXPECT_EQ(x.divisions(), 12);  // lcm(1, 2, 3, 4)
  EXPECT_EQ(durations(x.notes()), (std::vector<int>{12, 6, 4, 4, 4, 9, 3}));
}

TEST(MusicXml, divisions_include_bar_boundaries_that_split_notes) {
  // 3/8: bars of 3/2 quarters; a dotted half (3 quarters) fills two bars as tied dotted quarters.
  Melody m = melody_in(3, 8);
  m.append(p("C4"), 3);
  Parsed x(m);
  EXPECT_EQ(x.divisions(), 2);
  EXPECT_EQ(durations(x.notes()), (std::vector<int>{3, 3}));
  EXPECT_EQ(types(x.notes()), (std::vector<std::string>{"quarter.", "quarter."}));
}

TEST(MusicXml, numbers_pickup_measure_zero_implicit_then_one_two_three) {
  Melody m = melody_in(4, 4, 1);
  m.append(p("G4"), 1);                              // pickup
  for (int i = 0; i < 8; ++i) m.append(p("C5"), 1);  // two full bars
  m.append(p("B4"), 3);                              // short last bar
  Parsed x(m);
  auto ms = x.measures();
  ASSERT_EQ(ms.size(), 4u);
  EXPECT_STREQ(ms[0].attribute("number").value(), "0");
  EXPECT_STREQ(ms[0].attribute("implicit").value(), "yes");
  for (int i = 1; i < 4; ++i) {
    EXPECT_EQ(ms[static_cast<size_t>(i)].attribute("number").as_int(), i);
    EXPECT_FALSE(ms[static_cast<size_t>(i)].attribute("implicit"));
  }
  EXPECT_EQ(std::distance(ms[0].children("note").begin(), ms[0].children("note").end()), 1);
  EXPECT_EQ(std::distance(ms[1].children("note").begin(), ms[1].children("note").end()), 4);
  EXPECT_EQ(durations(std::vector<pugi::xml_node>(ms[3].children("note").begin(), ms[3].children("note").end())),
            (std::vector<int>{3}));
}

TEST(MusicXml, starts_numbering_at_one_without_pickup) {
  Melody m = melody_in(2, 4);
  for (int i = 0; i < 6; ++i) m.append(p("A4"), 1);
  Parsed x(m);
  auto ms = x.measures();
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_STREQ(ms[0].attribute("number").value(), "1");
  EXPECT_STREQ(ms[2].attribute("number").value(), "3");
}

TEST(MusicXml, ties_note_crossing_barline_with_tie_and_tied) {
  Melody m = melody_in(3, 4);
  m.append(p("G4"), 2);
  m.append(p("A4"), 2);  // 2..4 crosses the barline at 3
  m.append(p("B4"), 2);
  Parsed x(m);
  auto ms = x.measures();
  ASSERT_EQ(ms.size(), 2u);
  auto notes = x.notes();
  ASSERT_EQ(notes.size(), 4u);
  EXPECT_EQ(types(notes), (std::vector<std::string>{"half", "quarter", "quarter", "half"}));
  EXPECT_EQ(tie_types(notes[0], "tie"), "");
  EXPECT_EQ(tie_types(notes[1], "tie"), "start");
  EXPECT_EQ(tie_types(notes[1], "tied"), "start");
  EXPECT_EQ(tie_types(notes[2], "tie"), "stop");
  EXPECT_EQ(tie_types(notes[2], "tied"), "stop");
  EXPECT_EQ(tie_types(notes[3], "tie"), "");
  EXPECT_EQ(notes[1].parent(), ms[0]);
  EXPECT_EQ(notes[2].parent(), ms[1]);
  EXPECT_STREQ(notes[2].child("pitch").child("step").text().as_string(), "A");
}

TEST(MusicXml, does_not_tie_rests_across_barlines) {
  Melody m = melody_in(2, 4);
  m.append(p("C4"), 1);
  m.append(std::nullopt, 2);
  m.append(p("C4"), 1);
  Parsed x(m);
  auto notes = x.notes();
  ASSERT_EQ(notes.size(), 4u);
  EXPECT_TRUE(notes[1].child("rest"));
  EXPECT_TRUE(notes[2].child("rest"));
  EXPECT_FALSE(notes[1].child("tie"));
  EXPECT_FALSE(notes[2].child("tie"));
}

TEST(MusicXml, writes_dotted_values_and_triplets_with_time_modification_and_bracket) {
  Melody m = melody_in(2, 4);
  m.append(p("C4"), Rational(3, 2));  // dotted quarter
  m.append(p("D4"), Rational(1, 2));
  m.append(p("E4"), Rational(1, 3));  // triplet eighths
  m.append(p("F4"), Rational(1, 3));
  m.append(p("G4"), Rational(1, 3));
  m.append(p("A4"), 1);
  Parsed x(m);
  auto notes = x.notes();
  ASSERT_EQ(notes.size(), 6u);
  EXPECT_EQ(types(notes), (std::vector<std::string>{"quarter.", "eighth", "eighth", "eighth", "eighth", "quarter"}));
  for (size_t i = 0; i < 6; ++i) {
    bool triplet = i >= 2 && i <= 4;
    EXPECT_EQ(static_cast<bool>(notes[i].child("time-modification")), triplet) << i;
    if (triplet) {
      EXPECT_EQ(notes[i].child("time-modification").child("actual-notes").text().as_int(), 3);
      EXPECT_EQ(notes[i].child("time-modification").child("normal-notes").text().as_int(), 2);
    }
  }
  EXPECT_STREQ(notes[2].child("notations").child("tuplet").attribute("type").value(), "start");
  EXPECT_FALSE(notes[3].child("notations").child("tuplet"));
  EXPECT_STREQ(notes[4].child("notations").child("tuplet").attribute("type").value(), "stop");
}

TEST(MusicXml, groups_mixed_triplet_values_and_quintuplets) {
  Melody m = melody_in(2, 4);
  m.append(p("C4"), Rational(2, 3));  // triplet quarter + triplet eighth = one beat
  m.append(p("D4"), Rational(1, 3));
  for (int i = 0; i < 5; ++i) m.append(p("E4"), Rational(1, 5));  // quintuplet sixteenths
  Parsed x(m);
  auto notes = x.notes();
  ASSERT_EQ(notes.size(), 7u);
  EXPECT_EQ(types(notes), (std::vector<std::string>{"quarter", "eighth", "16th", "16th", "16th", "16th", "16th"}));
  EXPECT_EQ(x.divisions(), 15);
  EXPECT_STREQ(notes[0].child("notations").child("tuplet").attribute("type").value(), "start");
  EXPECT_STREQ(notes[1].child("notations").child("tuplet").attribute("type").value(), "stop");
  EXPECT_EQ(notes[2].child("time-modification").child("actual-notes").text().as_int(), 5);
  EXPECT_EQ(notes[2].child("time-modification").child("normal-notes").text().as_int(), 4);
  EXPECT_STREQ(notes[2].child("notations").child("tuplet").attribute("type").value(), "start");
  EXPECT_STREQ(notes[6].child("notations").child("tuplet").attribute("type").value(), "stop");
}

TEST(MusicXml, splits_durations_that_are_no_single_value_into_tied_values) {
  Melody m = melody_in(4, 4);
  m.append(p("C4"), Rational(5, 2));   // half + eighth
  m.append(p("D4"), Rational(3, 2));   // dotted quarter
  m.append(p("E4"), Rational(15, 4));  // double-dotted half + sixteenth
  m.append(p("F4"), Rational(1, 4));
  Parsed x(m);
  auto notes = x.notes();
  EXPECT_EQ(types(notes), (std::vector<std::string>{"half", "eighth", "quarter.", "half..", "16th", "16th"}));
  EXPECT_EQ(tie_types(notes[0], "tie"), "start");
  EXPECT_EQ(tie_types(notes[1], "tie"), "stop");
  EXPECT_EQ(tie_types(notes[2], "tie"), "");
  EXPECT_EQ(tie_types(notes[3], "tie"), "start");
  EXPECT_EQ(tie_types(notes[4], "tie"), "stop");
  EXPECT_EQ(tie_types(notes[5], "tie"), "");
}

TEST(MusicXml, writes_breve_and_256th_and_rejects_shorter_values) {
  Melody m = melody_in(2, 1);  // 2/1: bars of 8 quarters
  m.append(p("C4"), 8);
  m.append(p("C4"), Rational(1, 64));
  m.append(p("C4"), Rational(8 * 64 - 1, 64));
  Parsed x(m);
  auto notes = x.notes();
  ASSERT_GE(notes.size(), 2u);
  EXPECT_EQ(types(notes)[0], "breve");
  EXPECT_EQ(types(notes)[1], "256th");

  Melody too_short = melody_in(4, 4);
  too_short.append(p("C4"), Rational(1, 128));
  EXPECT_THROW(write_musicxml(too_short), EncodingError);
}

TEST(MusicXml, writes_whole_measure_rest_with_measure_attribute_and_no_type) {
  Melody m = melody_in(3, 4);
  m.append(std::nullopt, 3);
  m.append(p("C4"), 3);
  Parsed x(m);
  auto notes = x.notes();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_STREQ(notes[0].child("rest").attribute("measure").value(), "yes");
  EXPECT_FALSE(notes[0].child("type"));
  EXPECT_EQ(notes[0].child("duration").text().as_int(), 3);
  EXPECT_STREQ(types(notes)[1].c_str(), "half.");
}

TEST(MusicXml, writes_rests_in_a_pickup_as_ordinary_rests) {
  Melody m = melody_in(3, 4, 1);
  m.append(std::nullopt, 1);
  m.append(p("C4"), 3);
  Parsed x(m);
  auto notes = x.notes();
  EXPECT_FALSE(notes[0].child("rest").attribute("measure"));
  EXPECT_STREQ(notes[0].child("type").text().as_string(), "quarter");
}

TEST(MusicXml, writes_accidentals_against_key_and_earlier_notes_in_measure) {
  Melody m = melody_in(4, 4);
  m.keys = {{0, Key{1, Mode::major}}};  // G major: F#
  m.append(p("F#4"), 1);                // in the key: none
  m.append(p("F4"), 1);                 // natural
  m.append(p("F4"), 1);                 // natural in force: none
  m.append(p("F5"), 1);                 // other octave, key says F#: natural
  m.append(p("F4"), 1);                 // new measure: natural again
  m.append(p("C#5"), 1);                // sharp
  m.append(p("C#5"), 1);                // none
  m.append(p("Bb4"), 1);                // flat
  m.append(p("Bbb4"), 1);               // new measure: double flat
  m.append(p("B4"), 1);                 // natural
  m.append(p("E##4"), 2);               // double sharp
  Parsed x(m);
  ASSERT_EQ(x.notes().size(), 11u);
  EXPECT_EQ(accidentals(x.notes()), (std::vector<std::string>{"", "natural", "", "natural", "natural", "sharp", "",
                                                              "flat", "flat-flat", "natural", "double-sharp"}));
  auto notes = x.notes();
  EXPECT_EQ(notes[0].child("pitch").child("alter").text().as_int(), 1);
  EXPECT_FALSE(notes[1].child("pitch").child("alter"));
  EXPECT_EQ(notes[8].child("pitch").child("alter").text().as_int(), -2);
  EXPECT_EQ(notes[8].child("pitch").child("octave").text().as_int(), 4);
}

TEST(MusicXml, takes_octave_from_spelling) {
  Melody m = melody_in(4, 4);
  m.append(Pitch::from_spelling(Letter::B, 1, 3), 2);   // B#3 sounds as C4
  m.append(Pitch::from_spelling(Letter::C, -1, 4), 2);  // Cb4 sounds as B3
  Parsed x(m);
  auto notes = x.notes();
  EXPECT_STREQ(notes[0].child("pitch").child("step").text().as_string(), "B");
  EXPECT_EQ(notes[0].child("pitch").child("octave").text().as_int(), 3);
  EXPECT_STREQ(notes[1].child("pitch").child("step").text().as_string(), "C");
  EXPECT_EQ(notes[1].child("pitch").child("octave").text().as_int(), 4);
  EXPECT_EQ(accidentals(notes), (std::vector<std::string>{"sharp", "flat"}));
}

TEST(MusicXml, shows_courtesy_accidental_after_altered_note_tied_over_barline) {
  Melody m = melody_in(4, 4);
  m.append(p("C#5"), 5);  // whole + tied quarter
  m.append(p("C5"), 1);   // natural after the tied C#
  m.append(p("C5"), 1);   // natural in force
  m.append(p("C#5"), 1);  // sharp again
  Parsed x(m);
  EXPECT_EQ(accidentals(x.notes()), (std::vector<std::string>{"sharp", "", "natural", "", "sharp"}));
}

TEST(MusicXml, writes_key_and_time_in_measures_where_they_change) {
  Melody m = melody_in(3, 4);
  m.keys = {{0, Key{2, Mode::major}}, {5, Key::from_tonic(Letter::E, 0, Mode::dorian)}};
  m.meters.push_back({3, Meter{MeterKind::regular, 2, 4}});
  for (int i = 0; i < 9; ++i) m.append(p("D4"), 1);  // bars 0-3 (3/4), 3-5, 5-7, 7-9 (2/4)
  Parsed x(m);
  auto ms = x.measures();
  ASSERT_EQ(ms.size(), 4u);
  pugi::xml_node a1 = ms[0].child("attributes");
  EXPECT_EQ(a1.child("key").child("fifths").text().as_int(), 2);
  EXPECT_STREQ(a1.child("key").child("mode").text().as_string(), "major");
  EXPECT_EQ(a1.child("time").child("beats").text().as_int(), 3);
  EXPECT_EQ(a1.child("time").child("beat-type").text().as_int(), 4);
  EXPECT_STREQ(a1.child("clef").child("sign").text().as_string(), "G");
  EXPECT_EQ(a1.child("clef").child("line").text().as_int(), 2);
  EXPECT_EQ(ms[1].child("attributes").child("time").child("beats").text().as_int(), 2);
  EXPECT_FALSE(ms[1].child("attributes").child("key"));
  EXPECT_EQ(ms[2].child("attributes").child("key").child("fifths").text().as_int(), 2);
  EXPECT_STREQ(ms[2].child("attributes").child("key").child("mode").text().as_string(), "dorian");
  EXPECT_FALSE(ms[2].child("attributes").child("time"));
  EXPECT_FALSE(ms[3].child("attributes"));
}

TEST(MusicXml, writes_flat_minor_key_and_omits_mode_when_melody_has_no_key) {
  Melody m = melody_in(4, 4);
  m.keys = {{0, Key{-3, Mode::minor}}};
  m.append(p("C4"), 4);
  Parsed x(m);
  pugi::xml_node key = x.measures()[0].child("attributes").child("key");
  EXPECT_EQ(key.child("fifths").text().as_int(), -3);
  EXPECT_STREQ(key.child("mode").text().as_string(), "minor");

  m.keys.clear();
  Parsed y(m);
  key = y.measures()[0].child("attributes").child("key");
  EXPECT_EQ(key.child("fifths").text().as_int(), 0);
  EXPECT_FALSE(key.child("mode"));
}

TEST(MusicXml, starts_new_measure_at_meter_change_inside_a_bar) {
  Melody m = melody_in(4, 4);
  m.meters.push_back({6, Meter{MeterKind::regular, 3, 4}});
  for (int i = 0; i < 9; ++i) m.append(p("E4"), 1);  // bars 0-4, 4-6 (cut short), 6-9
  Parsed x(m);
  auto ms = x.measures();
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_EQ(std::distance(ms[1].children("note").begin(), ms[1].children("note").end()), 2);
  EXPECT_EQ(ms[2].child("attributes").child("time").child("beats").text().as_int(), 3);
  EXPECT_EQ(ms[2].attribute("number").as_int(), 3);
}

TEST(MusicXml, writes_key_change_inside_a_measure_before_its_first_note) {
  Melody m = melody_in(4, 4);
  m.keys.push_back({2, Key{-1, Mode::major}});
  m.append(p("B4"), 1);
  m.append(p("B4"), 1);
  m.append(p("Bb4"), 1);  // in the new key: no accidental
  m.append(p("B4"), 1);   // natural
  Parsed x(m);
  pugi::xml_node measure = x.measures()[0];
  std::vector<std::string> children;
  for (pugi::xml_node c : measure.children()) children.push_back(c.name());
  EXPECT_EQ(children, (std::vector<std::string>{"attributes", "direction", "note", "note", "attributes", "note", "note",
                                                "barline"}));
  auto attributes = measure.children("attributes").begin();
  ++attributes;
  EXPECT_EQ(attributes->child("key").child("fifths").text().as_int(), -1);
  EXPECT_EQ(accidentals(x.notes()), (std::vector<std::string>{"", "", "", "natural"}));
}

TEST(MusicXml, writes_free_meter_as_senza_misura_with_one_measure_per_phrase_at_most_8_quarters) {
  Melody m;
  m.meters = {{0, Meter{MeterKind::free, 0, 0}}};
  for (int i = 0; i < 13; ++i) m.append(p("G4"), 1);
  m.notes[2].phrase_end = true;  // phrase 0..3: one measure
  // then no phrase end: measures of 8 quarters (3..11), then the rest (11..13)
  Parsed x(m);
  auto ms = x.measures();
  ASSERT_EQ(ms.size(), 3u);
  pugi::xml_node time = ms[0].child("attributes").child("time");
  EXPECT_TRUE(time.child("senza-misura"));
  EXPECT_FALSE(time.child("beats"));
  auto count = [](pugi::xml_node measure) {
    return std::distance(measure.children("note").begin(), measure.children("note").end());
  };
  EXPECT_EQ(count(ms[0]), 3);
  EXPECT_EQ(count(ms[1]), 8);
  EXPECT_EQ(count(ms[2]), 2);
}

TEST(MusicXml, closes_free_meter_measure_before_note_that_would_pass_8_quarters) {
  Melody m;
  m.meters = {{0, Meter{MeterKind::irregular, 0, 0}}};
  m.append(p("G4"), 6);
  m.append(p("A4"), 4);   // 6 + 4 > 8: starts the next measure
  m.append(p("B4"), 12);  // alone, longer than 8: its own measure, not cut
  Parsed x(m);
  auto ms = x.measures();
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_EQ(durations(std::vector<pugi::xml_node>(ms[2].children("note").begin(), ms[2].children("note").end())),
            (std::vector<int>{12}));  // a dotted breve
  EXPECT_STREQ(ms[2].child("note").child("type").text().as_string(), "breve");
  EXPECT_TRUE(ms[2].child("note").child("dot"));
}

TEST(MusicXml, switches_between_regular_and_free_meter) {
  Melody m = melody_in(2, 4);
  m.meters.push_back({4, Meter{MeterKind::free, 0, 0}});
  for (int i = 0; i < 6; ++i) m.append(p("G4"), 1);
  Parsed x(m);
  auto ms = x.measures();
  ASSERT_EQ(ms.size(), 3u);
  EXPECT_TRUE(ms[2].child("attributes").child("time").child("senza-misura"));
}

TEST(MusicXml, uses_bass_clef_when_most_notes_are_below_middle_c) {
  Melody m = melody_in(4, 4);
  m.append(p("G3"), 1);
  m.append(p("A3"), 1);
  m.append(p("D4"), 1);
  m.append(p("B2"), 1);
  Parsed x(m);
  pugi::xml_node clef = x.measures()[0].child("attributes").child("clef");
  EXPECT_STREQ(clef.child("sign").text().as_string(), "F");
  EXPECT_EQ(clef.child("line").text().as_int(), 4);

  Melody high = melody_in(4, 4);
  high.append(p("G3"), 1);
  high.append(p("C4"), 1);  // middle C itself is not below
  Parsed y(high);
  EXPECT_STREQ(y.measures()[0].child("attributes").child("clef").child("sign").text().as_string(), "G");
}

TEST(MusicXml, writes_tempo_as_sound_and_metronome_in_dotted_quarters_for_compound_meter) {
  Melody m = melody_in(6, 8);
  m.tempo_qpm = 180;
  m.append(p("C5"), 3);
  Parsed x(m);
  pugi::xml_node direction = x.measures()[0].child("direction");
  EXPECT_DOUBLE_EQ(direction.child("sound").attribute("tempo").as_double(), 180.0);
  pugi::xml_node metronome = direction.child("direction-type").child("metronome");
  EXPECT_STREQ(metronome.child("beat-unit").text().as_string(), "quarter");
  EXPECT_TRUE(metronome.child("beat-unit-dot"));
  EXPECT_EQ(metronome.child("per-minute").text().as_int(), 120);

  Melody simple = melody_in(3, 4);
  simple.tempo_qpm = 96.5;
  simple.append(p("C5"), 3);
  Parsed y(simple);
  direction = y.measures()[0].child("direction");
  EXPECT_STREQ(direction.child("sound").attribute("tempo").value(), "96.5");
  EXPECT_FALSE(direction.child("direction-type").child("metronome").child("beat-unit-dot"));
  EXPECT_STREQ(direction.child("direction-type").child("metronome").child("per-minute").text().as_string(), "96.5");
}

TEST(MusicXml, writes_phrase_marks_as_slurs_from_first_to_last_pitched_note) {
  Melody m = melody_in(4, 4);
  m.append(std::nullopt, 1);
  m.append(p("C4"), 1);
  m.append(p("D4"), 1);
  m.append(std::nullopt, 1);
  m.append(p("E4"), 2);
  m.append(p("F4"), 2);
  m.notes[0].phrase_begin = true;  // on a rest: moves to C4
  m.notes[3].phrase_end = true;    // on a rest: moves back to D4
  m.notes[4].phrase_begin = true;  // E4..F4
  m.notes[5].phrase_end = true;
  Parsed x(m);
  auto notes = x.notes();
  ASSERT_EQ(notes.size(), 6u);
  auto slur = [&](size_t i) {
    std::string out;
    for (pugi::xml_node s : notes[i].child("notations").children("slur"))
      out += std::string(s.attribute("type").value()) + s.attribute("number").value() + " ";
    return out;
  };
  EXPECT_EQ(slur(0), "");
  EXPECT_EQ(slur(1), "start1 ");
  EXPECT_EQ(slur(2), "stop1 ");
  EXPECT_EQ(slur(3), "");
  EXPECT_EQ(slur(4), "start1 ");
  EXPECT_EQ(slur(5), "stop1 ");
}

TEST(MusicXml, writes_no_slur_for_one_note_phrase_and_closes_then_opens_on_elision) {
  Melody m = melody_in(4, 4);
  m.append(p("C4"), 1);  // one-note phrase
  m.append(p("D4"), 1);  // phrase D4..E4
  m.append(p("E4"), 1);  // ends it and begins E4..F4
  m.append(p("F4"), 1);
  m.notes[0].phrase_begin = m.notes[0].phrase_end = true;
  m.notes[1].phrase_begin = true;
  m.notes[2].phrase_end = m.notes[2].phrase_begin = true;
  m.notes[3].phrase_end = true;
  Parsed x(m);
  auto notes = x.notes();
  EXPECT_FALSE(notes[0].child("notations"));
  EXPECT_STREQ(notes[1].child("notations").child("slur").attribute("type").value(), "start");
  std::vector<std::string> third;
  for (pugi::xml_node s : notes[2].child("notations").children("slur")) third.push_back(s.attribute("type").value());
  EXPECT_EQ(third, (std::vector<std::string>{"stop", "start"}));
  EXPECT_STREQ(notes[3].child("notations").child("slur").attribute("type").value(), "stop");
}

TEST(MusicXml, ends_with_light_heavy_barline_on_last_measure_only) {
  Melody m = melody_in(2, 4);
  for (int i = 0; i < 4; ++i) m.append(p("C4"), 1);
  Parsed x(m);
  auto ms = x.measures();
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_FALSE(ms[0].child("barline"));
  EXPECT_STREQ(ms[1].child("barline").attribute("location").value(), "right");
  EXPECT_STREQ(ms[1].child("barline").child("bar-style").text().as_string(), "light-heavy");
  EXPECT_EQ(ms[1].last_child(), ms[1].child("barline"));
}

TEST(MusicXml, writes_empty_melody_as_one_measure_rest) {
  Melody m = melody_in(3, 4);
  Parsed x(m);
  auto notes = x.notes();
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_STREQ(notes[0].child("rest").attribute("measure").value(), "yes");
  EXPECT_EQ(notes[0].child("duration").text().as_int() / x.divisions(), 3);
}

TEST(MusicXml, rejects_melody_with_gap_between_notes) {
  Melody m = melody_in(4, 4);
  m.append(p("C4"), 1);
  m.append(p("D4"), 1);
  m.notes[1].onset = 2;
  EXPECT_THROW(write_musicxml(m), EncodingError);
}

TEST(MusicXml, rejects_divisions_beyond_32_bits_and_absurdly_long_notes) {
  Melody m = melody_in(4, 4);
  m.append(p("C4"), Rational(524288, 1000003));  // a quarter under a 1000003:524288 tuplet
  m.append(p("C4"), Rational(524288, 1000033));  // lcm of the denominators is about 1e12
  EXPECT_THROW(write_musicxml(m), EncodingError);

  Melody long_note = melody_in(4, 4);
  long_note.append(p("C4"), 4'000'000);  // a million tied whole notes
  EXPECT_THROW(write_musicxml(long_note), EncodingError);
}

TEST(MusicXml, matches_hand_checked_golden_file) {
  // pickup | G4 half, F4 (natural in G major) tied over | F4, triplet E4 F#4 (courtesy sharp) G4, rest | G4 half
  Melody m = melody_in(3, 4, 1);
  m.title = "Tom & Jerry <\"jig\">";
  m.metadata = {{"region", "Éire"}};
  m.keys = {{0, Key{1, Mode::major}}};
  m.tempo_qpm = 100;
  m.append(p("D4"), 1);
  m.append(p("G4"), 2);
  m.append(p("F4"), 2);
  m.append(p("E4"), Rational(1, 3));
  m.append(p("F#4"), Rational(1, 3));
  m.append(p("G4"), Rational(1, 3));
  m.append(std::nullopt, 1);
  m.append(p("G4"), 2);
  m.notes[1].phrase_begin = true;
  m.notes[5].phrase_end = true;
  std::ifstream in(std::string(ANTIPHON_FIXTURES) + "/musicxml/pickup_tie_triplet.musicxml", std::ios::binary);
  ASSERT_TRUE(in);
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(write_musicxml(m), expected.str());
}

TEST(MusicXml, is_reached_through_write_melody) {
  Melody m = melody_in(4, 4);
  m.append(p("C4"), 4);
  EXPECT_EQ(write_melody(m, Format::musicxml), write_musicxml(m));
}

}  // namespace
}  // namespace antiphon
