// ABC 2.1 reader: splits a file into X: tunes, reads each tune's header and body into a written event list,
// expands repeats into the played order and builds one Melody per tune. A problem in one tune rejects that
// tune only (ReadResult::rejected) with its line, column and a countable reason.
#include <algorithm>
#include <array>
#include <cstdint>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "antiphon/core/transform.h"
#include "antiphon/formats/abc.h"
#include "formats/abc/abc_internal.h"

namespace antiphon {
namespace abc {
namespace {

struct Line {
  size_t begin = 0;       // byte offset of the line in the text
  std::string_view text;  // without the line terminator
};

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_note_letter(char c) { return (c >= 'A' && c <= 'G') || (c >= 'a' && c <= 'g'); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f'; }

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return is_space(c); });
}

// "K:G", "w: la la", "+: continued"
bool is_field_line(std::string_view s) { return s.size() >= 2 && s[1] == ':' && (is_alpha(s[0]) || s[0] == '+'); }

// Letters that ABC 2.1 lets a tune redefine as decorations (U:), plus the predefined ones: skipped.
bool is_decoration_letter(char c) { return (c >= 'H' && c <= 'W') || (c >= 'h' && c <= 'w'); }

Letter letter_of(char c) {
  static constexpr int kIndex[7] = {5, 6, 0, 1, 2, 3, 4};  // A..G
  char u = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return static_cast<Letter>(kIndex[u - 'A']);
}

// A short excerpt of the text at s[i] for messages.
std::string token_at(std::string_view s, size_t i, size_t max_len = 12) {
  size_t end = i;
  while (end < s.size() && end - i < max_len && !is_space(s[end]) && (end == i || s[end] != '|')) ++end;
  if (end == i && i < s.size()) end = i + 1;
  while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) ++end;  // whole UTF-8 characters
  return std::string(s.substr(i, end - i));
}

std::string first_word(std::string_view value) {
  std::string v = clean_field_value(value);
  size_t end = 0;
  while (end < v.size() && !is_space(v[end]) && v[end] != ']') ++end;
  return v.substr(0, end);
}

struct FileDefaults {
  std::optional<Meter> meter;
  std::optional<Rational> unit;
  std::optional<KeyField> key;
  std::optional<std::string_view> tempo;
  std::vector<std::pair<std::string, std::string>> metadata;
};

// Reads one tune: lines [first, last) of the file, lines[first] being its X: line.
class TuneReader {
 public:
  TuneReader(const std::vector<Line>& lines, size_t first, size_t last, const FileDefaults& defaults,
             std::vector<Problem>& warnings)
      : lines_(lines), first_(first), last_(last), defaults_(defaults), warnings_(warnings) {}

  // Byte offset of the token being read (for errors raised below the reader, e.g. arithmetic overflow).
  size_t position() const { return pos_; }
  const std::string& title() const { return title_; }

  Melody read() {
    const Line& x_line = lines_[first_];
    x_offset_ = x_line.begin;
    pos_ = x_offset_;
    for (size_t li = first_ + 1; li < last_; ++li) {
      const Line& line = lines_[li];
      std::string_view s = line.text;
      pos_ = line.begin;
      if (!s.empty() && s[0] == '%') {
        // comment or %% directive; a directive ending in '\\' goes on over the next line (Barfly writes these)
        while (s.size() >= 2 && s[1] == '%' && s.back() == '\\' && li + 1 < last_) s = lines_[++li].text;
        continue;
      }
      // "a:|" in the body is a note and a repeat sign, not a field (as abc2midi reads it)
      bool music_line = !in_header_ && is_note_letter(s[0]) && s.size() > 2 && (s[2] == '|' || s[2] == ':');
      if (is_field_line(s) && !music_line) {
        field(s[0], s.substr(2), line.begin + 2, /*inline_field=*/false);
        continue;
      }
      if (in_header_) {
        if (!defaults_.key) {
          bool key_later = false;
          for (size_t k = li + 1; k < last_ && !key_later; ++k)
            key_later = lines_[k].text.size() >= 2 && lines_[k].text[0] == 'K' && lines_[k].text[1] == ':';
          if (key_later)
            throw Problem{line.begin, "bad header line",
                          "line '" + token_at(s, 0, 20) + "' in the tune header is not a field"};
          throw Problem{line.begin, "no K: field",
                        "music '" + token_at(s, 0, 20) + "' before any K: field (a tune header ends with K:)"};
        }
        start_body();
      }
      music(s, line.begin);
    }
    if (in_header_) {
      if (!defaults_.key) throw Problem{x_offset_, "no K: field", "tune has no K: field"};
      start_body();
    }
    return finish();
  }

 private:
  // ---- fields -------------------------------------------------------------------------------------------
  void field(char letter, std::string_view value, size_t offset, bool inline_field) {
    pos_ = offset;
    if (in_header_) {
      header_field(letter, value, offset);
      return;
    }
    if (letter == 'V') {
      switch_voice(first_word(value), offset - 2);
      return;
    }
    if (!voice_active_) return;
    switch (letter) {
      case 'K': {
        KeyField k = parse_key(value, offset);
        add_key(k, offset);
        break;
      }
      case 'M': {
        meter_ = parse_meter(value, offset);
        Event e;
        e.kind = EventKind::meter;
        e.offset = offset;
        e.meter = meter_;
        events_.push_back(e);
        void_bar_check();
        break;
      }
      case 'L':
        unit_ = parse_unit_length(value, offset);
        break;
      case 'P': {
        std::string label = first_word(value);
        if (label.size() == 1 && label[0] >= 'A' && label[0] <= 'Z') {
          Event e;
          e.kind = EventKind::part;
          e.offset = offset;
          e.part = label[0];
          events_.push_back(e);
          void_bar_check();
        }
        break;
      }
      case 'W':
        if (!inline_field) add_metadata('W', value);
        break;
      case 'T':  // a section title
      case 'Q':  // tempo changes: the melody keeps one tempo
      case 'w':
      case 's':
      case 'I':
      case 'U':
      case 'm':
      case 'r':
      case '+':
        break;
      default:
        if (metadata_name(letter) != nullptr) {
          if (!inline_field) add_metadata(letter, value);
        } else {
          warnings_.push_back(
              Problem{offset - 2, "unknown header", "unknown field '" + std::string(1, letter) + ":' ignored"});
        }
    }
  }

  void header_field(char letter, std::string_view value, size_t offset) {
    switch (letter) {
      case 'X':
        break;
      case 'K':
        key_ = parse_key(value, offset);
        start_body();
        break;
      case 'M':
        meter_ = parse_meter(value, offset);
        meter_set_ = true;
        break;
      case 'L':
        unit_ = parse_unit_length(value, offset);
        unit_set_ = true;
        break;
      case 'Q':
        tempo_ = value;
        break;
      case 'V':
        if (header_voice_.empty()) header_voice_ = first_word(value);
        break;
      case 'P': {
        add_metadata('P', value);
        auto order = parse_part_order(value);
        if (order) {
          part_order_ = *order;
          part_order_offset_ = offset;
        } else {
          warnings_.push_back(
              Problem{offset, "bad parts",
                      "P: '" + clean_field_value(value) + "' is not a play order of parts; played as written"});
        }
        break;
      }
      case 'T':
        if (!title_set_) {
          title_ = clean_field_value(value);
          title_set_ = true;
        }
        add_metadata('T', value);
        break;
      case '+':
        if (!metadata_.empty()) {
          std::string more = clean_field_value(value);
          if (!more.empty()) metadata_.back().second += " " + more;
        }
        break;
      case 'w':
      case 's':
      case 'U':
      case 'm':
      case 'r':
        break;
      default:
        if (metadata_name(letter) != nullptr) {
          add_metadata(letter, value);
        } else {
          warnings_.push_back(
              Problem{offset - 2, "unknown header", "unknown header field '" + std::string(1, letter) + ":' ignored"});
        }
    }
  }

  void add_metadata(char letter, std::string_view value) {
    const char* name = metadata_name(letter);
    if (name != nullptr) metadata_.emplace_back(name, clean_field_value(value));
  }

  void start_body() {
    in_header_ = false;
    if (!meter_set_) meter_ = defaults_.meter.value_or(Meter{MeterKind::free, 4, 4});
    if (!unit_set_) {
      if (defaults_.unit) {
        unit_ = *defaults_.unit;
      } else {
        // ABC 2.1: 1/16 when the meter is below 3/4, else 1/8 (and 1/8 for free meter)
        bool short_meter =
            meter_.kind == MeterKind::regular && Rational(meter_.numerator, meter_.denominator) < Rational(3, 4);
        unit_ = short_meter ? Rational(1, 16) : Rational(1, 8);
      }
    }
    KeyField key = key_ ? *key_ : *defaults_.key;
    std::optional<std::string_view> tempo = tempo_ ? tempo_ : defaults_.tempo;
    if (tempo) {
      if (auto qpm = parse_tempo(*tempo, unit_)) tempo_qpm_ = *qpm;
    }
    Event m;
    m.kind = EventKind::meter;
    m.offset = x_offset_;
    m.meter = meter_;
    events_.push_back(m);
    Event k;
    k.kind = EventKind::key;
    k.offset = x_offset_;
    k.key = key;
    events_.push_back(k);
    signature_ = key.signature;
    clear_accidentals();
  }

  void add_key(const KeyField& k, size_t offset) {
    Event e;
    e.kind = EventKind::key;
    e.offset = offset;
    e.key = k;
    events_.push_back(e);
    signature_ = k.signature;
    clear_accidentals();
  }

  void switch_voice(const std::string& id, size_t offset) {
    if (!first_voice_known_ || (first_voice_.empty() && !voices_seen_)) {
      // the first voice named in the body (music before it, in no named voice, counts as the same voice)
      first_voice_ = id;
      first_voice_known_ = true;
    }
    voices_seen_ = true;
    voice_active_ = id == first_voice_;
    if (!voice_active_ && !voices_warned_) {
      voices_warned_ = true;
      warnings_.push_back(Problem{offset, "multiple voices",
                                  "tune has several voices; only the first voice '" + first_voice_ + "' is read"});
    }
    bar_checkable_ = false;
  }

  // ---- music --------------------------------------------------------------------------------------------
  void music(std::string_view s, size_t base) {
    if (!first_voice_known_) {
      first_voice_ = header_voice_;
      first_voice_known_ = true;
    }
    size_t i = 0;
    while (i < s.size()) {
      char c = s[i];
      pos_ = base + i;
      if (!voice_active_) {
        // skip other voices, watching for an inline [V:...] that switches back
        if (c == '[' && i + 2 < s.size() && s[i + 1] == 'V' && s[i + 2] == ':') {
          i = inline_field(s, i, base);
        } else if (c == '%') {
          break;
        } else if (c == '"') {
          size_t close = s.find('"', i + 1);
          i = close == std::string_view::npos ? s.size() : close + 1;
        } else {
          ++i;
        }
        continue;
      }
      if (overlay_skip_) {
        // the rest of a bar after '&' belongs to an overlaid voice
        if (c == '|' || (c == ':' && i + 1 < s.size() && s[i + 1] == '|')) {
          overlay_skip_ = false;
        } else if (c == '%') {
          break;
        } else {
          ++i;
          continue;
        }
      }
      switch (c) {
        case ' ':
        case '\t':
        case '\r':
        case '`':
        case '\\':
        case '$':
        case ')':
        case '.':
        case '~':
          ++i;
          break;
        case '%':
          return;
        case '"': {
          size_t close = s.find('"', i + 1);
          if (close == std::string_view::npos)
            throw Problem{base + i, "unterminated quote",
                          "chord symbol or annotation '" + token_at(s, i, 20) + "' has no closing quote on its line"};
          i = close + 1;
          break;
        }
        case '!': {
          size_t close = s.find('!', i + 1);
          // "!trill!"; a lone '!' (an old line break mark) is skipped
          if (close != std::string_view::npos && s.substr(i + 1, close - i - 1).find(' ') == std::string_view::npos)
            i = close + 1;
          else
            ++i;
          break;
        }
        case '+': {
          size_t close = s.find('+', i + 1);
          bool deco = close != std::string_view::npos && close > i + 1;
          for (size_t j = i + 1; deco && j < close; ++j)
            if (!is_alpha(s[j]) && !is_digit(s[j]) && s[j] != '.' && s[j] != '_') deco = false;
          i = deco ? close + 1 : i + 1;
          break;
        }
        case '{': {
          size_t close = s.find('}', i + 1);
          if (close == std::string_view::npos)
            throw Problem{base + i, "bad grace notes", "grace notes '" + token_at(s, i, 20) + "' have no closing '}'"};
          i = close + 1;
          break;
        }
        case '(':
          if (i + 1 < s.size() && is_digit(s[i + 1]))
            i = tuplet(s, i, base);
          else
            ++i;  // slur
          break;
        case '-':
          if (last_note_ != SIZE_MAX && events_[last_note_].pitch) {
            events_[last_note_].tie = true;
            tie_pending_ = true;
          }
          ++i;
          break;
        case '>':
        case '<':
          i = broken_rhythm(s, i, base);
          break;
        case '[':
          if (i + 1 < s.size() && s[i + 1] == '|') {
            i = bar(s, i, base);
          } else if (i + 1 < s.size() && is_digit(s[i + 1])) {
            i = ending(s, i + 1, base);
          } else if (i + 2 < s.size() && is_alpha(s[i + 1]) && s[i + 2] == ':') {
            i = inline_field(s, i, base);
          } else {
            i = chord(s, i, base);
          }
          break;
        case '|':
        case ':':
          i = bar(s, i, base);
          break;
        case ']':  // stray closing brackets
        case '}':
          ++i;
          break;
        case '#':  // reserved characters (ABC 2.1): ignored
        case '*':
        case ';':
        case '?':
        case '@':
          if (!reserved_warned_) {
            reserved_warned_ = true;
            warnings_.push_back(
                Problem{base + i, "reserved character", "reserved character '" + token_at(s, i, 1) + "' ignored"});
          }
          ++i;
          break;
        case '&':
          if (!overlay_warned_) {
            overlay_warned_ = true;
            warnings_.push_back(Problem{base + i, "voice overlay", "voice overlay '&' skipped up to the bar line"});
          }
          overlay_skip_ = true;
          bar_checkable_ = false;
          ++i;
          break;
        case 'y':  // spacer, possibly with a length
          ++i;
          while (i < s.size() && (is_digit(s[i]) || s[i] == '/')) ++i;
          break;
        case 'z':
        case 'x': {
          size_t start = i;
          ++i;
          Rational mult = length(s, i, base, start);
          add_element(std::nullopt, mult, base + start);
          break;
        }
        case 'Z':
        case 'X':
          i = multi_measure_rest(s, i, base);
          break;
        default:
          if (c == '^' || c == '_' || c == '=' || is_note_letter(c)) {
            i = note(s, i, base);
          } else if (is_digit(c) && !events_.empty() && events_.back().kind == EventKind::bar) {
            i = ending(s, i, base);  // "| 2" or an ending at the start of the next line
          } else if (is_decoration_letter(c)) {
            ++i;
          } else {
            throw Problem{base + i, "bad character",
                          "unexpected '" + token_at(s, i, 1) + "' in the music at '" + token_at(s, i, 12) + "'"};
          }
      }
    }
  }

  size_t inline_field(std::string_view s, size_t i, size_t base) {
    size_t close = s.find(']', i);
    if (close == std::string_view::npos)
      throw Problem{base + i, "bad inline field", "inline field '" + token_at(s, i, 20) + "' has no closing ']'"};
    field(s[i + 1], s.substr(i + 3, close - i - 3), base + i + 3, /*inline_field=*/true);
    return close + 1;
  }

  struct NoteHead {
    Letter letter = Letter::C;
    int octave = 4;
    std::optional<int> accidental;
  };

  NoteHead note_head(std::string_view s, size_t& i, size_t base) {
    size_t start = i;
    NoteHead h;
    if (s[i] == '^' || s[i] == '_') {
      char c = s[i];
      int a = 0;
      while (i < s.size() && s[i] == c && a > -2 && a < 2) {
        a += c == '^' ? 1 : -1;
        ++i;
      }
      h.accidental = a;
    } else if (s[i] == '=') {
      h.accidental = 0;
      ++i;
    }
    if (i >= s.size() || !is_note_letter(s[i]))
      throw Problem{base + start, "bad note", "accidental without a note at '" + token_at(s, start) + "'"};
    char c = s[i++];
    h.letter = letter_of(c);
    h.octave = (c >= 'a') ? 5 : 4;
    while (i < s.size() && (s[i] == '\'' || s[i] == ',')) {
      h.octave += s[i] == '\'' ? 1 : -1;
      ++i;
      if (h.octave < -2 || h.octave > 10)
        throw Problem{base + start, "bad note", "note '" + token_at(s, start) + "' is out of range"};
    }
    return h;
  }

  // A length multiplier after a note or rest: "", "2", "/2", "/", "//", "3/2", "3/". `start` is the
  // element's offset in the line (for messages).
  Rational length(std::string_view s, size_t& i, size_t base, size_t start) {
    auto bad = [&] { return Problem{base + start, "bad duration", "bad note length at '" + token_at(s, start) + "'"}; };
    int64_t num = 1;
    int64_t den = 1;
    if (i < s.size() && is_digit(s[i])) {
      num = 0;
      int digits = 0;
      while (i < s.size() && is_digit(s[i])) {
        if (++digits > 5) throw bad();
        num = num * 10 + (s[i] - '0');
        ++i;
      }
    }
    while (i < s.size() && s[i] == '/') {
      ++i;
      if (i < s.size() && is_digit(s[i])) {
        int64_t d = 0;
        int digits = 0;
        while (i < s.size() && is_digit(s[i])) {
          if (++digits > 4) throw bad();
          d = d * 10 + (s[i] - '0');
          ++i;
        }
        if (d == 0) throw bad();
        den *= d;
      } else {
        den *= 2;
      }
      if (den > 4096) throw bad();
    }
    if (num == 0) throw bad();
    return Rational(num, den);
  }

  std::optional<Pitch> resolve(const NoteHead& h, size_t offset, std::string_view s, size_t i) {
    int alter;
    size_t slot = static_cast<size_t>((h.octave + 2) * 7 + static_cast<int>(h.letter));
    if (h.accidental) {
      alter = *h.accidental;
      accidentals_[slot] = static_cast<int8_t>(alter);
    } else if (tie_pending_ && tied_letter_ == h.letter && tied_octave_ == h.octave) {
      alter = tied_alter_;  // a tied note keeps its accidental across the bar line
    } else if (accidentals_[slot] != kNoAccidental) {
      alter = accidentals_[slot];
    } else {
      alter = signature_[static_cast<int>(h.letter)];
    }
    try {
      return Pitch::from_spelling(h.letter, alter, h.octave);
    } catch (const std::invalid_argument&) {
      throw Problem{offset, "bad note", "note '" + token_at(s, i) + "' is outside MIDI 0..127"};
    }
  }

  size_t note(std::string_view s, size_t i, size_t base) {
    size_t start = i;
    NoteHead h = note_head(s, i, base);
    Rational mult = length(s, i, base, start);
    std::optional<Pitch> p = resolve(h, base + start, s, start);
    add_element(p, mult, base + start);
    return i;
  }

  size_t chord(std::string_view s, size_t i, size_t base) {
    size_t start = i;
    ++i;
    std::optional<Pitch> top;
    std::optional<Rational> first_len;
    bool top_tied = false;
    int count = 0;
    while (i < s.size() && s[i] != ']') {
      char c = s[i];
      if (c == '^' || c == '_' || c == '=' || is_note_letter(c)) {
        size_t ns = i;
        NoteHead h = note_head(s, i, base);
        Rational len = length(s, i, base, ns);
        std::optional<Pitch> p = resolve(h, base + ns, s, ns);
        bool tied = i < s.size() && s[i] == '-';
        if (tied) ++i;
        if (!first_len) first_len = len;
        if (!top || p->midi > top->midi) {
          top = p;
          top_tied = tied;
        }
        ++count;
      } else if (c == '"') {
        size_t close = s.find('"', i + 1);
        if (close == std::string_view::npos) break;
        i = close + 1;
      } else if (c == '!') {
        size_t close = s.find('!', i + 1);
        i = close == std::string_view::npos ? i + 1 : close + 1;
      } else if (c == 'z' || c == 'x') {
        size_t rs = ++i;
        length(s, i, base, rs - 1);  // a rest inside a chord: ignored
      } else if (c == ' ' || c == '\t' || c == '.' || c == '~' || c == '(' || c == ')' || c == '+' ||
                 is_decoration_letter(c)) {
        ++i;
      } else {
        break;
      }
    }
    if (i >= s.size() || s[i] != ']' || count == 0)
      throw Problem{base + start, "bad chord", "bad chord '" + token_at(s, start, 20) + "'"};
    ++i;
    Rational outer = length(s, i, base, start);
    if (count > 1) {
      if (chords_reduced_++ == 0) first_chord_offset_ = base + start;
    }
    add_element(top, *first_len * outer, base + start);
    if (top_tied) {
      events_[last_note_].tie = true;
      tie_pending_ = true;
    }
    return i;
  }

  void add_element(const std::optional<Pitch>& pitch, const Rational& mult, size_t offset) {
    Rational d = mult * unit_ * 4;
    if (tuplet_left_ > 0) {
      d *= tuplet_factor_;
      --tuplet_left_;
    }
    if (pending_broken_) {
      d *= *pending_broken_;
      pending_broken_.reset();
    }
    Event e;
    e.kind = EventKind::note;
    e.offset = offset;
    e.pitch = pitch;
    e.duration = d;
    events_.push_back(e);
    last_note_ = events_.size() - 1;
    if (bar_length_ == Rational(0)) bar_start_offset_ = offset;
    bar_length_ += d;
    tie_pending_ = false;
    if (pitch) {
      tied_letter_ = pitch->letter;
      tied_octave_ = pitch->octave();
      tied_alter_ = pitch->alter;
    }
  }

  size_t multi_measure_rest(std::string_view s, size_t i, size_t base) {
    size_t start = i;
    ++i;
    int64_t bars = 1;
    if (i < s.size() && is_digit(s[i])) {
      bars = 0;
      int digits = 0;
      while (i < s.size() && is_digit(s[i])) {
        if (++digits > 4)
          throw Problem{base + start, "bad rest", "bad multi-measure rest '" + token_at(s, start) + "'"};
        bars = bars * 10 + (s[i] - '0');
        ++i;
      }
    }
    if (meter_.kind != MeterKind::regular)
      throw Problem{base + start, "bad rest",
                    "multi-measure rest '" + token_at(s, start) + "' without a meter to give the bar length"};
    if (bars > 0) {
      Event e;
      e.kind = EventKind::note;
      e.offset = base + start;
      e.duration = meter_.bar_length() * bars;
      events_.push_back(e);
      last_note_ = SIZE_MAX;
      tie_pending_ = false;
    }
    bar_checkable_ = false;
    return i;
  }

  size_t tuplet(std::string_view s, size_t i, size_t base) {
    size_t start = i;
    ++i;
    auto number = [&]() -> int {
      int v = 0, digits = 0;
      while (i < s.size() && is_digit(s[i])) {
        if (++digits > 2) throw Problem{base + start, "bad tuplet", "bad tuplet '" + token_at(s, start) + "'"};
        v = v * 10 + (s[i] - '0');
        ++i;
      }
      return digits == 0 ? -1 : v;
    };
    int p = number();
    int q = -1, r = -1;
    if (i < s.size() && s[i] == ':') {
      ++i;
      q = number();
      if (i < s.size() && s[i] == ':') {
        ++i;
        r = number();
      }
    }
    if (p < 2 || q == 0 || r == 0) throw Problem{base + start, "bad tuplet", "bad tuplet '" + token_at(s, start) + "'"};
    if (q < 0) {
      if (p == 2 || p == 4 || p == 8)
        q = 3;
      else if (p == 3 || p == 6)
        q = 2;
      else
        q = meter_.is_compound() ? 3 : 2;
    }
    if (r < 0) r = p;
    tuplet_factor_ = Rational(q, p);
    tuplet_left_ = r;
    return i;
  }

  size_t broken_rhythm(std::string_view s, size_t i, size_t base) {
    size_t start = i;
    char c = s[i];
    int n = 0;
    while (i < s.size() && s[i] == c) {
      ++n;
      ++i;
    }
    if (n > 3 || last_note_ == SIZE_MAX || pending_broken_)
      throw Problem{base + start, "bad broken rhythm",
                    "broken rhythm '" + token_at(s, start) + "' not between two notes"};
    Rational small(1, int64_t{1} << n);
    Rational big = Rational(2) - small;
    Event& prev = events_[last_note_];
    Rational old = prev.duration;
    prev.duration *= c == '>' ? big : small;
    bar_length_ += prev.duration - old;
    pending_broken_ = c == '>' ? small : big;
    return i;
  }

  // Bar lines: | || |] [| |: :| :: :|: and endings written right after them (|1 :|2 |1,3).
  size_t bar(std::string_view s, size_t i, size_t base) {
    size_t start = i;
    int colons_before = 0, colons_after = 0, pipes = 0;
    bool thick = false;
    while (i < s.size() && s[i] == ':') {
      ++colons_before;
      ++i;
    }
    for (;;) {
      if (i < s.size() && s[i] == '|') {
        ++pipes;
        ++i;
      } else if (i + 1 < s.size() && s[i] == '[' && s[i + 1] == '|') {
        thick = true;
        ++i;
      } else if (i < s.size() && s[i] == ']' && pipes > 0) {
        thick = true;
        ++i;
      } else {
        break;
      }
    }
    while (i < s.size() && s[i] == ':') {
      ++colons_after;
      ++i;
    }
    Event e;
    e.kind = EventKind::bar;
    e.offset = base + start;
    if (pipes == 0 && colons_before >= 2) {
      e.repeat_end = e.repeat_start = true;  // "::"
    } else if (pipes == 0) {
      // a lone ':' (sloppy "|:" or ":|"): a repeat end when it closes music, else a repeat start
      size_t next = i;
      while (next < s.size() && is_space(s[next])) ++next;
      bool closes = next >= s.size() || s[next] == ']' || s[next] == '|' ||
                    (start > 0 && !is_space(s[start - 1]) && s[start - 1] != '|' && s[start - 1] != ']');
      if (closes)
        e.repeat_end = true;
      else
        e.repeat_start = true;
      if (!lone_colon_warned_) {  // once per tune
        lone_colon_warned_ = true;
        warnings_.push_back(
            Problem{base + start, "bad bar line", std::string("lone ':' read as ") + (closes ? "':|'" : "'|:'")});
      }
    } else {
      e.repeat_end = colons_before > 0;
      e.repeat_start = colons_after > 0;
      e.section_end = pipes > 1 || thick;
    }
    check_bar(e);
    events_.push_back(e);
    last_note_ = SIZE_MAX;
    clear_accidentals();
    if (i < s.size() && is_digit(s[i])) i = ending(s, i, base);
    return i;
  }

  // An ending list at s[i] (digits; the '[' already passed): 1  2  1,3  1-3
  size_t ending(std::string_view s, size_t i, size_t base) {
    size_t start = i;
    uint64_t mask = 0;
    auto bad = [&] { return Problem{base + start, "bad ending", "bad ending number at '" + token_at(s, start) + "'"}; };
    auto number = [&]() {
      int v = 0, digits = 0;
      while (i < s.size() && is_digit(s[i])) {
        if (++digits > 2) throw bad();
        v = v * 10 + (s[i] - '0');
        ++i;
      }
      if (digits == 0 || v < 1 || v > 63) throw bad();
      return v;
    };
    int from = number();
    mask |= uint64_t{1} << from;
    while (i + 1 < s.size() && (s[i] == ',' || s[i] == '-') && is_digit(s[i + 1])) {
      char sep = s[i++];
      int to = number();
      if (sep == '-') {
        if (to < from) throw bad();
        for (int k = from; k <= to; ++k) mask |= uint64_t{1} << k;
      } else {
        mask |= uint64_t{1} << to;
      }
      from = to;
    }
    Event e;
    e.kind = EventKind::ending;
    e.offset = base + start;
    e.endings = mask;
    events_.push_back(e);
    bar_checkable_ = false;
    return i;
  }

  // Checks the bar that this bar line closes against the meter (a reader self-check reported as a warning):
  // only bars between two plain bar lines with nothing irregular in them, not the first bar (a pickup) and
  // not the last bar before a part label or meter change (often shortened by the next part's pickup) or of
  // the tune, and not the first bar after a part label. The
  // verdict on a bar waits until the next bar line, which commits it.
  void check_bar(const Event& e) {
    commit_bar_check();
    bool plain = !e.repeat_end && !e.repeat_start && !e.section_end;
    if (bar_checkable_ && plain && meter_.kind == MeterKind::regular && bar_length_ > Rational(0)) {
      pending_check_ = true;
      pending_bad_ = bar_length_ != meter_.bar_length();
      pending_offset_ = bar_start_offset_;
      pending_length_ = bar_length_;
    }
    if (bar_length_ > Rational(0)) content_bar_seen_ = true;
    bar_checkable_ = plain && content_bar_seen_;
    bar_length_ = Rational(0);
    bar_start_offset_ = e.offset;
  }

  void commit_bar_check() {
    if (!pending_check_) return;
    pending_check_ = false;
    ++bars_checked_;
    if (pending_bad_ && bars_bad_++ == 0) {
      first_bad_offset_ = pending_offset_;
      first_bad_length_ = pending_length_;
      first_bad_expected_ = meter_.bar_length();
    }
  }

  void void_bar_check() {
    pending_check_ = false;
    bar_checkable_ = false;
    content_bar_seen_ = false;
  }

  void clear_accidentals() { accidentals_.fill(kNoAccidental); }

  // ---- the melody ---------------------------------------------------------------------------------------
  Melody finish() {
    // the last bar of a tune is not checked: it often complements the pickup
    if (chords_reduced_ > 0)
      warnings_.push_back(Problem{first_chord_offset_, "chord reduced",
                                  std::to_string(chords_reduced_) + " chord(s) reduced to their highest note"});
    if (bars_bad_ > 0)
      warnings_.push_back(Problem{first_bad_offset_, "bar length",
                                  std::to_string(bars_bad_) + " of " + std::to_string(bars_checked_) +
                                      " bars do not match the meter (the first has " + first_bad_length_.to_string() +
                                      " quarters, the meter " + first_bad_expected_.to_string() + ")"});
    std::vector<Problem> expand_warnings;
    std::vector<uint32_t> played = expand(events_, part_order_, part_order_offset_, &expand_warnings);
    warnings_.insert(warnings_.end(), expand_warnings.begin(), expand_warnings.end());

    Melody m;
    m.title = title_;
    m.metadata = defaults_.metadata;
    m.metadata.insert(m.metadata.end(), metadata_.begin(), metadata_.end());
    m.tempo_qpm = tempo_qpm_;
    std::vector<bool> key_none;
    Rational t(0);
    bool tie_open = false;
    std::optional<Rational> first_bar;
    bool meter_change_before_bar = false;
    for (uint32_t idx : played) {
      const Event& e = events_[idx];
      pos_ = e.offset;
      switch (e.kind) {
        case EventKind::note:
          if (tie_open && e.pitch && !m.notes.empty() && m.notes.back().pitch &&
              m.notes.back().pitch->midi == e.pitch->midi) {
            m.notes.back().duration += e.duration;
          } else {
            Note n;
            n.onset = t;
            n.duration = e.duration;
            n.pitch = e.pitch;
            m.notes.push_back(n);
          }
          t += e.duration;
          tie_open = e.tie && e.pitch.has_value();
          break;
        case EventKind::bar:
          if (!first_bar && t > Rational(0)) first_bar = t;
          break;
        case EventKind::meter:
          if (set_timed(m.meters, t, e.meter) && !first_bar && t > Rational(0)) meter_change_before_bar = true;
          break;
        case EventKind::key: {
          Key k = e.key.none ? Key{} : e.key.key;
          if (!m.keys.empty() && m.keys.back().onset == t) {
            m.keys.pop_back();
            key_none.pop_back();
          }
          if (m.keys.empty() || !(m.keys.back().value == k) || key_none.back() != e.key.none) {
            m.keys.push_back(Timed<Key>{t, k});
            key_none.push_back(e.key.none);
          }
          break;
        }
        case EventKind::ending:
        case EventKind::part:
          break;
      }
    }
    m.normalize();
    if (m.pitched_count() == 0) throw Problem{x_offset_, "no notes", "tune has no notes"};
    if (std::find(key_none.begin(), key_none.end(), true) != key_none.end()) {
      Key estimated = estimate_key(m);
      for (size_t k = 0; k < m.keys.size(); ++k)
        if (key_none[k]) m.keys[k].value = estimated;
    }
    const Meter& first_meter = m.meters.front().value;
    if (first_bar && *first_bar < m.length() && !meter_change_before_bar && first_meter.kind == MeterKind::regular &&
        *first_bar < first_meter.bar_length())
      m.pickup = *first_bar;
    return m;
  }

  // Sets the meter from onset t; returns whether it changed.
  static bool set_timed(std::vector<Timed<Meter>>& v, const Rational& t, const Meter& x) {
    if (!v.empty() && v.back().onset == t) {
      v.pop_back();
      if (!v.empty() && v.back().value == x) return false;
      v.push_back(Timed<Meter>{t, x});
      return true;
    }
    if (!v.empty() && v.back().value == x) return false;
    v.push_back(Timed<Meter>{t, x});
    return true;
  }

  static constexpr int8_t kNoAccidental = 99;
  static constexpr size_t kSlots = 13 * 7;  // octaves -2..10

  const std::vector<Line>& lines_;
  size_t first_;
  size_t last_;
  const FileDefaults& defaults_;
  std::vector<Problem>& warnings_;

  size_t x_offset_ = 0;
  size_t pos_ = 0;
  bool in_header_ = true;
  std::string title_;
  bool title_set_ = false;
  std::vector<std::pair<std::string, std::string>> metadata_;
  Meter meter_{MeterKind::free, 4, 4};
  bool meter_set_ = false;
  Rational unit_{1, 8};
  bool unit_set_ = false;
  std::optional<KeyField> key_;
  std::optional<std::string_view> tempo_;
  double tempo_qpm_ = 120.0;
  std::vector<char> part_order_;
  size_t part_order_offset_ = 0;

  std::string header_voice_;
  std::string first_voice_;
  bool first_voice_known_ = false;
  bool voice_active_ = true;
  bool voices_warned_ = false;
  bool voices_seen_ = false;
  bool overlay_skip_ = false;
  bool overlay_warned_ = false;
  bool reserved_warned_ = false;
  bool lone_colon_warned_ = false;

  std::vector<Event> events_;
  Signature signature_{};
  std::array<int8_t, kSlots> accidentals_{};
  size_t last_note_ = SIZE_MAX;  // the previous note, rest or chord in this bar (for ties and broken rhythm)
  bool tie_pending_ = false;
  Letter tied_letter_ = Letter::C;
  int tied_octave_ = 4;
  int tied_alter_ = 0;
  Rational tuplet_factor_{1};
  int tuplet_left_ = 0;
  std::optional<Rational> pending_broken_;
  int chords_reduced_ = 0;
  size_t first_chord_offset_ = 0;

  bool bar_checkable_ = false;
  bool content_bar_seen_ = false;
  bool pending_check_ = false;
  bool pending_bad_ = false;
  size_t pending_offset_ = 0;
  Rational pending_length_;
  Rational bar_length_;
  size_t bar_start_offset_ = 0;
  int bars_checked_ = 0;
  int bars_bad_ = 0;
  size_t first_bad_offset_ = 0;
  Rational first_bad_length_;
  Rational first_bad_expected_;
};

// Line and column (1-based, columns in characters) of a byte offset.
class Locator {
 public:
  Locator(std::string_view text, const std::vector<Line>& lines) : text_(text), lines_(lines) {}
  std::pair<int, int> at(size_t offset) const {
    auto it =
        std::upper_bound(lines_.begin(), lines_.end(), offset, [](size_t off, const Line& l) { return off < l.begin; });
    if (it == lines_.begin()) return {1, 1};
    --it;
    int column = 1;
    for (size_t k = it->begin; k < offset && k < text_.size(); ++k)
      if ((static_cast<unsigned char>(text_[k]) & 0xC0) != 0x80) ++column;
    return {static_cast<int>(it - lines_.begin()) + 1, column};
  }

 private:
  std::string_view text_;
  const std::vector<Line>& lines_;
};

std::vector<Line> split(std::string_view text) {
  std::vector<Line> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    size_t e = end;
    if (e > start && text[e - 1] == '\r') --e;
    lines.push_back(Line{start, text.substr(start, e - start)});
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

FileDefaults file_defaults(const std::vector<Line>& lines, size_t end, std::vector<Problem>& warnings) {
  FileDefaults d;
  for (size_t li = 0; li < end; ++li) {
    std::string_view s = lines[li].text;
    if (!is_field_line(s)) continue;
    char letter = s[0];
    std::string_view value = s.substr(2);
    size_t offset = lines[li].begin + 2;
    try {
      switch (letter) {
        case 'M':
          d.meter = parse_meter(value, offset);
          break;
        case 'L':
          d.unit = parse_unit_length(value, offset);
          break;
        case 'K':
          d.key = parse_key(value, offset);
          break;
        case 'Q':
          d.tempo = value;
          break;
        default:
          if (const char* name = metadata_name(letter); name != nullptr && letter != 'T' && letter != 'P')
            d.metadata.emplace_back(name, clean_field_value(value));
      }
    } catch (const Problem& p) {
      warnings.push_back(Problem{p.offset, p.reason, p.message + " in the file header; ignored"});
    }
  }
  return d;
}

}  // namespace
}  // namespace abc

ReadResult read_abc(std::string_view text, const std::string& file) {
  using namespace abc;
  ReadResult result;
  std::vector<Line> lines = split(text);
  Locator locate(text, lines);
  auto diagnostic = [&](const Problem& p, const std::string& prefix) {
    auto [line, column] = locate.at(p.offset);
    return Diagnostic{file, line, column, p.reason, prefix + p.message};
  };

  std::vector<size_t> starts;
  for (size_t li = 0; li < lines.size(); ++li)
    if (lines[li].text.size() >= 2 && lines[li].text[0] == 'X' && lines[li].text[1] == ':') starts.push_back(li);
  std::vector<Problem> warnings;
  FileDefaults defaults = file_defaults(lines, starts.empty() ? lines.size() : starts.front(), warnings);
  for (const Problem& p : warnings) result.warnings.push_back(diagnostic(p, ""));
  if (starts.empty()) {
    result.rejected.push_back(Diagnostic{file, 0, 0, "no tunes", "no tune: no line starts with X:"});
    return result;
  }

  for (size_t t = 0; t < starts.size(); ++t) {
    size_t first = starts[t];
    size_t last = t + 1 < starts.size() ? starts[t + 1] : lines.size();
    for (size_t li = first + 1; li < last; ++li) {
      if (is_blank(lines[li].text)) {
        last = li;  // an empty line ends the tune; what follows up to the next X: is free text
        break;
      }
    }
    std::string number = clean_field_value(lines[first].text.substr(2));
    std::vector<Problem> tune_warnings;
    TuneReader reader(lines, first, last, defaults, tune_warnings);
    auto prefix = [&] {
      std::string s = "tune X:" + number;
      if (!reader.title().empty()) s += " '" + reader.title() + "'";
      return s + ": ";
    };
    try {
      Melody m = reader.read();
      m.source_file = file;
      m.source_line = static_cast<int>(first) + 1;
      m.source_index = static_cast<int>(t);
      result.melodies.push_back(std::move(m));
      for (const Problem& p : tune_warnings) result.warnings.push_back(diagnostic(p, prefix()));
    } catch (const Problem& p) {
      for (const Problem& w : tune_warnings) result.warnings.push_back(diagnostic(w, prefix()));
      result.rejected.push_back(diagnostic(p, prefix()));
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::overflow_error& e) {
      result.rejected.push_back(diagnostic(
          Problem{reader.position(), "number too large", std::string("arithmetic overflow: ") + e.what()}, prefix()));
    } catch (const std::exception& e) {
      result.rejected.push_back(
          diagnostic(Problem{reader.position(), "bad tune", std::string("cannot read: ") + e.what()}, prefix()));
    }
  }
  return result;
}

}  // namespace antiphon
