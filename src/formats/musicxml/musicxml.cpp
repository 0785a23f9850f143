// MusicXML 4.0 partwise writer. The document is built with pugixml, which escapes text and attributes.
//
// Layout decisions:
// - One part "Melody", one voice, one staff; treble clef, or bass clef when most pitched notes lie below
//   middle C.
// - <divisions> is the least common multiple of the denominators (in quarters) of every onset, duration
//   and bar boundary, so every duration is an exact integer.
// - Regular meter: a pickup measure numbered 0 with implicit="yes", then bars of the meter's length
//   numbered 1, 2, ... A meter change starts a new measure at its onset (cutting the bar before it short
//   when it falls inside one). The last measure ends where the melody ends (it may be short).
// - Free or irregular meter: no barlines are known, so measures follow the phrases: a measure closes after a
//   note that ends a phrase, and before a note that would take it past kFreeMeasureQuarters (8 quarters;
//   a single longer note gets a measure of its own). The time signature is <senza-misura/>.
// - Key changes take effect at the first note starting at or after their onset (mid-measure keys are
//   written as <attributes> before that note).
// - Notes crossing a barline are split and tied; durations that are no single notated value (at most two
//   dots, breve .. 256th, under one tuplet ratio) are split, longest value first, into tied values.
// - Accidentals follow the usual convention: shown when the spelling differs from the key signature or from
//   an earlier accidental on the same letter and octave in the measure; a tied continuation shows none, and
//   after a note tied over the barline with an alteration outside the key, the next note on that letter
//   and octave shows its accidental (a courtesy natural or a repeated sharp).
// - Phrase marks become slurs from the phrase's first to its last pitched note (one-note phrases get none).
#include "antiphon/formats/musicxml.h"

#include <utf8cpp/utf8.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <pugixml.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "antiphon/core/error.h"

namespace antiphon {
namespace {

constexpr int kMaxDots = 2;
constexpr int kLog2Shortest = -6;  // 256th note = 1/64 quarter
constexpr int kLog2Longest = 3;    // breve = 8 quarters
constexpr int64_t kFreeMeasureQuarters = 8;
constexpr int64_t kMaxDivisionValue = std::numeric_limits<int32_t>::max();
constexpr size_t kMaxPieces = 200'000;  // notes and measures; bounds the output for absurdly long notes
constexpr int kMaxSlurNumber = 16;
constexpr int kAlterUnsettled = 100;  // no alteration in force: the next note shows its accidental

const char* type_name(int log2_base) {
  static constexpr std::array<const char*, 10> kNames = {"256th",  "128th",   "64th", "32nd",  "16th",
                                                         "eighth", "quarter", "half", "whole", "breve"};
  return kNames[static_cast<size_t>(log2_base - kLog2Shortest)];
}

Rational pow2(int k) { return k >= 0 ? Rational(int64_t{1} << k) : Rational(1, int64_t{1} << -k); }

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

// One notated value: base type, dots and tuplet ratio (actual notes in the time of normal notes).
struct NoteValue {
  int log2_base = 0;
  int dots = 0;
  int64_t actual = 1;
  int64_t normal = 1;
};

// What one <note> element shows: a piece of a melody note inside one measure.
struct Piece {
  Rational start;
  Duration duration;
  size_t note_index = 0;
  NoteValue value;
  bool measure_rest = false;
  bool tie_start = false;
  bool tie_stop = false;
  bool tuplet_start = false;
  bool tuplet_stop = false;
  bool show_accidental = false;
  std::optional<Key> key_change;  // a key that takes effect on this piece
  std::vector<int> slur_stops;
  std::vector<int> slur_starts;
};

struct Measure {
  Rational start;
  Rational end;
  Meter meter;  // in force at the start
  bool pickup = false;
  size_t first_piece = 0;
  size_t end_piece = 0;
};

[[noreturn]] void fail(const std::string& what) { throw EncodingError("cannot write MusicXML: " + what); }

// Splits a duration into notated values, longest first. Throws EncodingError when a part is shorter than
// a 256th (of its tuplet ratio).
std::vector<std::pair<NoteValue, Duration>> notated_values(const Duration& duration) {
  int64_t odd = duration.den();
  while (odd % 2 == 0) odd /= 2;
  int64_t normal = 1;
  while (normal < odd - normal) normal *= 2;  // the largest power of two below odd (no overflow)
  Rational scale(odd, normal);                // notated value = real duration * actual / normal
  Rational rest = duration * scale;
  if (rest > pow2(kLog2Longest) * Rational(static_cast<int64_t>(kMaxPieces)))
    fail("duration " + duration.to_string() + " quarters would need too many tied values");
  std::vector<std::pair<NoteValue, Duration>> out;
  while (rest > Rational(0)) {
    int k = kLog2Longest;
    while (k >= kLog2Shortest && pow2(k) > rest) --k;
    if (k < kLog2Shortest)
      fail("duration " + duration.to_string() + " quarters needs a value shorter than a 256th note");
    NoteValue v;
    v.log2_base = k;
    v.actual = odd;
    v.normal = normal;
    Rational value = pow2(k);
    Rational dot = pow2(k - 1);
    while (v.dots < kMaxDots && value + dot <= rest) {
      value += dot;
      dot = dot * Rational(1, 2);
      ++v.dots;
    }
    out.emplace_back(v, value / scale);
    rest -= value;
  }
  return out;
}

// Text safe for XML 1.0: invalid UTF-8 becomes U+FFFD; control characters (but tab, LF, CR) and the
// non-characters U+FFFE/U+FFFF are dropped.
std::string xml_text(std::string_view text) {
  std::string valid;
  valid.reserve(text.size());
  utf8::replace_invalid(text.begin(), text.end(), std::back_inserter(valid));
  std::string out;
  out.reserve(valid.size());
  auto it = valid.begin();
  while (it != valid.end()) {
    auto start = it;
    uint32_t cp = utf8::next(it, valid.end());
    if ((cp < 0x20 && cp != 0x09 && cp != 0x0A && cp != 0x0D) || cp == 0xFFFE || cp == 0xFFFF) continue;
    out.append(start, it);
  }
  return out;
}

pugi::xml_node add(pugi::xml_node parent, const char* name) { return parent.append_child(name); }

pugi::xml_node add(pugi::xml_node parent, const char* name, const std::string& text) {
  pugi::xml_node node = parent.append_child(name);
  node.text().set(xml_text(text).c_str());
  return node;
}

pugi::xml_node add(pugi::xml_node parent, const char* name, int64_t value) {
  return add(parent, name, std::to_string(value));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// "120", "66.67": at most two decimals, no trailing zeros, independent of the locale.
std::string format_number(double value) {
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed, 2);
  if (ec != std::errc()) return "0";
  std::string s(buf.data(), end);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

bool same_meter(const Meter& a, const Meter& b) {
  if (a.kind != MeterKind::regular || b.kind != MeterKind::regular)
    return a.kind != MeterKind::regular && b.kind != MeterKind::regular;
  return a == b;
}

bool same_key(const Key& a, const Key& b) { return a.fifths == b.fifths && a.mode == b.mode; }

int64_t checked_lcm(int64_t a, int64_t b) {
  int64_t g = std::gcd(a, b);
  int64_t out = 0;
  if (__builtin_mul_overflow(a / g, b, &out) || out > kMaxDivisionValue)
    fail("the durations need more than " + std::to_string(kMaxDivisionValue) + " divisions per quarter");
  return out;
}

class Writer {
 public:
  explicit Writer(const Melody& melody) : melody_(melody) {}

  std::string write() {
    validate();
    if (melody_.notes.empty()) {
      // An empty melody is one measure of rest.
      const Meter& meter = melody_.meter();
      melody_.append(std::nullopt, meter.kind == MeterKind::regular ? meter.bar_length() : Duration(4));
      melody_.pickup = 0;
    }
    build_measures();
    build_pieces();
    mark_slurs();
    mark_tuplets();
    mark_keys_and_accidentals();
    compute_divisions();
    return emit();
  }

 private:
  void validate() const {
    std::string problem = melody_.check();
    if (!problem.empty()) fail(problem);
    for (const auto& m : melody_.meters)
      if (m.value.kind == MeterKind::regular && (m.value.numerator <= 0 || m.value.denominator <= 0))
        fail("meter " + m.value.name() + " at " + m.onset.to_string() + " has no positive bar length");
    if (melody_.pickup < Rational(0)) fail("negative pickup " + melody_.pickup.to_string());
  }

  // The meter in force at t and the onset of the next meter change after t. Calls come with t rising, so
  // the scan resumes where it stopped (linear in the number of meters overall).
  std::pair<Meter, std::optional<Rational>> meter_span(const Rational& t) {
    static const Meter kDefault{};
    while (meter_index_ < melody_.meters.size() && melody_.meters[meter_index_].onset <= t) ++meter_index_;
    Meter meter = meter_index_ > 0 ? melody_.meters[meter_index_ - 1].value : kDefault;
    std::optional<Rational> next;
    if (meter_index_ < melody_.meters.size()) next = melody_.meters[meter_index_].onset;
    return {meter, next};
  }

  void add_measure(const Rational& start, const Rational& end, const Meter& meter, bool pickup) {
    if (measures_.size() >= kMaxPieces) fail("too many measures");
    Measure m;
    m.start = start;
    m.end = end;
    m.meter = meter;
    m.pickup = pickup;
    measures_.push_back(m);
  }

  void build_measures() {
    const Rational total = melody_.length();
    Rational t(0);
    if (melody_.pickup > Rational(0)) {
      auto [meter, change] = meter_span(0);
      Rational end = std::min(melody_.pickup, total);
      if (change) end = std::min(end, *change);
      add_measure(0, end, meter, true);
      t = end;
    }
    size_t note = 0;
    while (t < total) {
      auto [meter, change] = meter_span(t);
      Rational limit = change ? std::min(total, *change) : total;
      Rational end = limit;
      if (meter.kind == MeterKind::regular) {
        end = std::min(t + meter.bar_length(), limit);
      } else {
        while (melody_.notes[note].end() <= t) ++note;
        for (size_t j = note; j < melody_.notes.size(); ++j) {
          const Note& n = melody_.notes[j];
          if (n.end() - t > Rational(kFreeMeasureQuarters) && n.onset > t) {
            end = std::min(n.onset, limit);
            break;
          }
          if (n.end() >= limit) break;
          if (n.phrase_end || n.end() - t >= Rational(kFreeMeasureQuarters)) {
            end = n.end();
            break;
          }
        }
      }
      add_measure(t, end, meter, false);
      t = end;
    }
  }

  static bool is_full_bar(const Measure& m) {
    return !m.pickup && m.meter.kind == MeterKind::regular && m.end - m.start == m.meter.bar_length();
  }

  void build_pieces() {
    size_t mi = 0;
    for (size_t i = 0; i < melody_.notes.size(); ++i) {
      const Note& n = melody_.notes[i];
      size_t first = pieces_.size();
      Rational on = n.onset;
      while (on < n.end()) {
        while (measures_[mi].end <= on) ++mi;
        const Measure& m = measures_[mi];
        Rational seg_end = std::min(n.end(), m.end);
        if (n.is_rest() && on == m.start && seg_end == m.end && is_full_bar(m)) {
          Piece p;
          p.start = on;
          p.duration = seg_end - on;
          p.note_index = i;
          p.measure_rest = true;
          pieces_.push_back(p);
        } else {
          Rational at = on;
          for (const auto& [value, duration] : notated_values(seg_end - on)) {
            Piece p;
            p.start = at;
            p.duration = duration;
            p.note_index = i;
            p.value = value;
            pieces_.push_back(p);
            at += duration;
          }
        }
        if (pieces_.size() > kMaxPieces) fail("too many notes after splitting long values");
        on = seg_end;
      }
      if (!n.is_rest()) {
        for (size_t k = first; k + 1 < pieces_.size(); ++k) pieces_[k].tie_start = true;
        for (size_t k = first + 1; k < pieces_.size(); ++k) pieces_[k].tie_stop = true;
      }
      note_first_piece_.push_back(first);
    }
    note_first_piece_.push_back(pieces_.size());
    // Measure -> piece ranges (every measure holds at least one piece: notes cover the melody).
    size_t k = 0;
    for (Measure& m : measures_) {
      m.first_piece = k;
      while (k < pieces_.size() && pieces_[k].start < m.end) ++k;
      m.end_piece = k;
    }
  }

  // Phrase marks -> slur numbers on the first piece of the phrase's first pitched note and the last piece
  // of its last pitched note. Phrase marks on rests move to the nearest pitched note inside the phrase.
  void mark_slurs() {
    struct Open {
      int number;
      size_t note;
    };
    std::vector<Open> open;
    std::vector<std::vector<int>> starts(melody_.notes.size()), stops(melody_.notes.size());
    int pending_begins = 0;
    std::optional<size_t> last_pitched;
    auto free_number = [&]() -> int {
      for (int num = 1; num <= kMaxSlurNumber; ++num)
        if (std::none_of(open.begin(), open.end(), [&](const Open& o) { return o.number == num; })) return num;
      return 0;
    };
    auto close = [&]() {
      if (pending_begins > 0) {  // the phrase never reached a pitched note
        --pending_begins;
        return;
      }
      if (open.empty()) return;
      Open o = open.back();
      open.pop_back();
      if (!last_pitched || *last_pitched == o.note) {
        auto& s = starts[o.note];
        s.erase(std::find(s.begin(), s.end(), o.number));
      } else {
        stops[*last_pitched].push_back(o.number);
      }
    };
    auto open_pending = [&](size_t i) {
      for (; pending_begins > 0; --pending_begins) {
        int num = free_number();
        if (num == 0) continue;  // more than 16 nested phrases: the mark is dropped
        open.push_back({num, i});
        starts[i].push_back(num);
      }
    };
    for (size_t i = 0; i < melody_.notes.size(); ++i) {
      const Note& n = melody_.notes[i];
      bool pitched = !n.is_rest();
      if (pitched) {
        open_pending(i);
        last_pitched = i;
      }
      // A note that ends one phrase and begins the next (an elision) closes the open one first;
      // otherwise a note with both marks is a phrase of its own.
      bool elision = n.phrase_end && n.phrase_begin && pending_begins == 0 && !open.empty() && open.back().note < i;
      if (elision) close();
      if (n.phrase_begin) {
        ++pending_begins;
        if (pitched) open_pending(i);
      }
      if (n.phrase_end && !elision) close();
    }
    pending_begins = 0;
    while (!open.empty()) close();
    for (size_t i = 0; i < melody_.notes.size(); ++i) {
      size_t first = note_first_piece_[i];
      size_t last = note_first_piece_[i + 1] - 1;
      pieces_[first].slur_starts = starts[i];
      pieces_[last].slur_stops = stops[i];
    }
  }

  // Tuplet brackets: a group of pieces with the same ratio, closed when its total duration is a plain
  // (power-of-two) value again, or at a barline or a change of ratio. One-piece groups get no bracket.
  void mark_tuplets() {
    constexpr size_t kNone = std::numeric_limits<size_t>::max();
    for (const Measure& m : measures_) {
      size_t group_first = kNone;
      size_t group_last = kNone;
      Rational sum;
      auto close = [&]() {
        if (group_first != kNone && group_first != group_last) {
          pieces_[group_first].tuplet_start = true;
          pieces_[group_last].tuplet_stop = true;
        }
        group_first = kNone;
      };
      for (size_t k = m.first_piece; k < m.end_piece; ++k) {
        const Piece& p = pieces_[k];
        if (p.measure_rest || p.value.actual == 1) {
          close();
          continue;
        }
        if (group_first != kNone && (pieces_[group_first].value.actual != p.value.actual ||
                                     pieces_[group_first].value.normal != p.value.normal))
          close();
        if (group_first == kNone) {
          group_first = k;
          sum = 0;
        }
        group_last = k;
        sum += p.duration;
        if (is_power_of_two(sum.den())) close();
      }
      close();
    }
  }

  void mark_keys_and_accidentals() {
    std::vector<Timed<Key>> changes;
    for (const auto& k : melody_.keys)
      if (k.onset > Rational(0)) changes.push_back(k);
    size_t next_change = 0;
    Key key = melody_.key_at(0);
    std::map<std::pair<int, int>, int> alters;  // (letter, octave) -> alteration in force in this measure
    for (const Measure& m : measures_) {
      alters.clear();
      for (size_t k = m.first_piece; k < m.end_piece; ++k) {
        Piece& p = pieces_[k];
        std::optional<Key> new_key;
        while (next_change < changes.size() && changes[next_change].onset <= p.start)
          new_key = changes[next_change++].value;
        if (new_key && !same_key(*new_key, key)) {
          key = *new_key;
          p.key_change = key;
          alters.clear();
        }
        const Note& n = melody_.notes[p.note_index];
        if (n.is_rest()) continue;
        const Pitch& pitch = *n.pitch;
        std::pair<int, int> slot{static_cast<int>(pitch.letter), pitch.octave()};
        auto it = alters.find(slot);
        int in_force = it != alters.end() ? it->second : key.signature_alter(pitch.letter);
        if (p.tie_stop) {
          // A note tied over the barline shows no accidental, but the next note on its line shows one
          // whatever it is (a courtesy accidental), so the tied alteration cannot be misread as in force.
          if (k == m.first_piece && pitch.alter != in_force) alters[slot] = kAlterUnsettled;
          continue;
        }
        if (pitch.alter != in_force) {
          p.show_accidental = true;
          alters[slot] = pitch.alter;
        }
      }
    }
  }

  void compute_divisions() {
    int64_t d = 1;
    for (const Measure& m : measures_) d = checked_lcm(d, m.start.den());
    for (const Note& n : melody_.notes) d = checked_lcm(checked_lcm(d, n.onset.den()), n.duration.den());
    for (const Piece& p : pieces_) d = checked_lcm(d, p.duration.den());  // divides the above; kept as a guard
    divisions_ = d;
  }

  int64_t to_divisions(const Duration& duration) const {
    Rational v = duration * Rational(divisions_);
    if (!v.is_integer() || v.num() > kMaxDivisionValue)
      fail("duration " + duration.to_string() + " does not fit " + std::to_string(divisions_) + " divisions");
    return v.num();
  }

  static void add_key(pugi::xml_node attributes, const Key& key, bool with_mode) {
    pugi::xml_node k = add(attributes, "key");
    add(k, "fifths", key.fifths);
    if (with_mode) add(k, "mode", mode_name(key.mode));
  }

  static void add_time(pugi::xml_node attributes, const Meter& meter) {
    pugi::xml_node t = add(attributes, "time");
    if (meter.kind == MeterKind::regular) {
      add(t, "beats", meter.numerator);
      add(t, "beat-type", meter.denominator);
    } else {
      add(t, "senza-misura");
    }
  }

  bool bass_clef() const {
    size_t below = 0, pitched = 0;
    for (const Note& n : melody_.notes) {
      if (n.is_rest()) continue;
      ++pitched;
      if (n.pitch->midi < 60) ++below;
    }
    return below * 2 > pitched;
  }

  void add_identification(pugi::xml_node score) const {
    pugi::xml_node id = add(score, "identification");
    static constexpr std::array<std::pair<const char*, const char*>, 6> kCreators = {{{"composer", "composer"},
                                                                                      {"com", "composer"},
                                                                                      {"lyricist", "lyricist"},
                                                                                      {"lyr", "lyricist"},
                                                                                      {"arranger", "arranger"},
                                                                                      {"arr", "arranger"}}};
    for (const auto& [name, value] : melody_.metadata) {
      std::string n = lower(name);
      for (const auto& [alias, type] : kCreators)
        if (n == alias) add(id, "creator", value).append_attribute("type").set_value(type);
    }
    for (const auto& [name, value] : melody_.metadata) {
      std::string n = lower(name);
      if (n == "rights" || n == "copyright") add(id, "rights", value);
    }
    pugi::xml_node encoding = add(id, "encoding");
    add(encoding, "software", std::string("Antiphon"));
    pugi::xml_node supports = add(encoding, "supports");
    supports.append_attribute("element").set_value("accidental");
    supports.append_attribute("type").set_value("yes");
    supports = add(encoding, "supports");
    supports.append_attribute("element").set_value("beam");
    supports.append_attribute("type").set_value("no");
    if (!melody_.metadata.empty()) {
      pugi::xml_node misc = add(id, "miscellaneous");
      for (const auto& [name, value] : melody_.metadata)
        add(misc, "miscellaneous-field", value).append_attribute("name").set_value(xml_text(name).c_str());
    }
  }

  void add_tempo(pugi::xml_node measure) const {
    double qpm = melody_.tempo_qpm;
    if (!std::isfinite(qpm) || qpm <= 0 || qpm > 1e6) return;  // no usable tempo: none written
    pugi::xml_node direction = add(measure, "direction");
    direction.append_attribute("placement").set_value("above");
    pugi::xml_node metronome = add(add(direction, "direction-type"), "metronome");
    bool dotted = melody_.meter().is_compound();
    add(metronome, "beat-unit", std::string("quarter"));
    if (dotted) add(metronome, "beat-unit-dot");
    add(metronome, "per-minute", format_number(dotted ? qpm / 1.5 : qpm));
    add(direction, "sound").append_attribute("tempo").set_value(format_number(qpm).c_str());
  }

  void add_note(pugi::xml_node measure, const Piece& p) const {
    const Note& n = melody_.notes[p.note_index];
    pugi::xml_node note = add(measure, "note");
    if (n.is_rest()) {
      pugi::xml_node rest = add(note, "rest");
      if (p.measure_rest) rest.append_attribute("measure").set_value("yes");
    } else {
      static constexpr std::array<const char*, 7> kSteps = {"C", "D", "E", "F", "G", "A", "B"};
      pugi::xml_node pitch = add(note, "pitch");
      add(pitch, "step", std::string(kSteps[static_cast<size_t>(n.pitch->letter)]));
      if (n.pitch->alter != 0) add(pitch, "alter", n.pitch->alter);
      add(pitch, "octave", n.pitch->octave());
    }
    add(note, "duration", to_divisions(p.duration));
    if (p.tie_stop) add(note, "tie").append_attribute("type").set_value("stop");
    if (p.tie_start) add(note, "tie").append_attribute("type").set_value("start");
    add(note, "voice", 1);
    if (!p.measure_rest) {
      add(note, "type", std::string(type_name(p.value.log2_base)));
      for (int d = 0; d < p.value.dots; ++d) add(note, "dot");
    }
    if (p.show_accidental) {
      static constexpr std::array<const char*, 5> kAccidentals = {"flat-flat", "flat", "natural", "sharp",
                                                                  "double-sharp"};
      int alter = n.pitch->alter;
      if (alter >= -2 && alter <= 2) add(note, "accidental", std::string(kAccidentals[static_cast<size_t>(alter + 2)]));
    }
    if (p.value.actual != 1) {
      pugi::xml_node tm = add(note, "time-modification");
      add(tm, "actual-notes", p.value.actual);
      add(tm, "normal-notes", p.value.normal);
    }
    bool any =
        p.tie_stop || p.tie_start || p.tuplet_start || p.tuplet_stop || !p.slur_starts.empty() || !p.slur_stops.empty();
    if (!any) return;
    pugi::xml_node notations = add(note, "notations");
    if (p.tie_stop) add(notations, "tied").append_attribute("type").set_value("stop");
    if (p.tie_start) add(notations, "tied").append_attribute("type").set_value("start");
    for (int num : p.slur_stops) {
      pugi::xml_node slur = add(notations, "slur");
      slur.append_attribute("type").set_value("stop");
      slur.append_attribute("number").set_value(num);
    }
    for (int num : p.slur_starts) {
      pugi::xml_node slur = add(notations, "slur");
      slur.append_attribute("type").set_value("start");
      slur.append_attribute("number").set_value(num);
    }
    if (p.tuplet_stop) add(notations, "tuplet").append_attribute("type").set_value("stop");
    if (p.tuplet_start) {
      pugi::xml_node tuplet = add(notations, "tuplet");
      tuplet.append_attribute("type").set_value("start");
      tuplet.append_attribute("bracket").set_value("yes");
    }
  }

  std::string emit() const {
    pugi::xml_document doc;
    pugi::xml_node decl = doc.append_child(pugi::node_declaration);
    decl.append_attribute("version").set_value("1.0");
    decl.append_attribute("encoding").set_value("UTF-8");
    doc.append_child(pugi::node_doctype)
        .set_value(
            "score-partwise PUBLIC \"-//Recordare//DTD MusicXML 4.0 Partwise//EN\" "
            "\"http://www.musicxml.org/dtds/partwise.dtd\"");
    pugi::xml_node score = doc.append_child("score-partwise");
    score.append_attribute("version").set_value("4.0");
    if (!melody_.title.empty()) {
      add(add(score, "work"), "work-title", melody_.title);
      add(score, "movement-title", melody_.title);
    }
    add_identification(score);
    pugi::xml_node score_part = add(add(score, "part-list"), "score-part");
    score_part.append_attribute("id").set_value("P1");
    add(score_part, "part-name", std::string("Melody"));
    pugi::xml_node instrument = add(score_part, "score-instrument");
    instrument.append_attribute("id").set_value("P1-I1");
    add(instrument, "instrument-name", std::string("Melody"));

    pugi::xml_node part = add(score, "part");
    part.append_attribute("id").set_value("P1");
    bool keys_given = !melody_.keys.empty() && melody_.keys.front().onset <= Rational(0);
    int number = 1;
    const Meter* previous_meter = nullptr;
    for (size_t mi = 0; mi < measures_.size(); ++mi) {
      const Measure& m = measures_[mi];
      pugi::xml_node measure = add(part, "measure");
      if (m.pickup) {
        measure.append_attribute("number").set_value("0");
        measure.append_attribute("implicit").set_value("yes");
      } else {
        measure.append_attribute("number").set_value(number++);
      }
      const Meter& meter = m.meter;
      bool time_change = previous_meter == nullptr || !same_meter(*previous_meter, meter);
      previous_meter = &meter;
      const Piece& first = pieces_[m.first_piece];
      if (mi == 0) {
        pugi::xml_node attributes = add(measure, "attributes");
        add(attributes, "divisions", divisions_);
        add_key(attributes, melody_.key_at(0), keys_given);
        add_time(attributes, meter);
        pugi::xml_node clef = add(attributes, "clef");
        bool bass = bass_clef();
        add(clef, "sign", std::string(bass ? "F" : "G"));
        add(clef, "line", bass ? 4 : 2);
        add_tempo(measure);
      } else if (time_change || first.key_change) {
        pugi::xml_node attributes = add(measure, "attributes");
        if (first.key_change) add_key(attributes, *first.key_change, true);
        if (time_change) add_time(attributes, meter);
      }
      for (size_t k = m.first_piece; k < m.end_piece; ++k) {
        const Piece& p = pieces_[k];
        if (p.key_change && k != m.first_piece) add_key(add(measure, "attributes"), *p.key_change, true);
        add_note(measure, p);
      }
      if (mi + 1 == measures_.size()) {
        pugi::xml_node barline = add(measure, "barline");
        barline.append_attribute("location").set_value("right");
        add(barline, "bar-style", std::string("light-heavy"));
      }
    }
    std::ostringstream out;
    doc.save(out, "  ", pugi::format_indent, pugi::encoding_utf8);
    return out.str();
  }

  Melody melody_;
  std::vector<Measure> measures_;
  std::vector<Piece> pieces_;
  std::vector<size_t> note_first_piece_;  // per note, plus one past the end
  int64_t divisions_ = 1;
  size_t meter_index_ = 0;  // meters before it start at or before the last meter_span() time
};

}  // namespace

std::string write_musicxml(const Melody& melody) {
  try {
    return Writer(melody).write();
  } catch (const std::overflow_error& e) {
    fail(std::string("time values overflow (") + e.what() + ")");
  }
}

}  // namespace antiphon
