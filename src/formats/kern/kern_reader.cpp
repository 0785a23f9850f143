// Humdrum **kern reader: the first **kern spine of a file becomes one Melody.
//
// The text is scanned line by line with string_view (no regex, no copies of lines). Spine manipulators
// (*^ *v *x *+ *-) are followed so that the column of the melody stays right in files with many spines.
//
// Grammar accepted for one note or rest token (the positions the kern spec gives its signifiers):
//   openers    { ( [ &                   phrase, slur, tie, elision
//   duration   N | N%M | 0 | 00 | 000, then any number of dots
//   pitch      a run of one letter (c, cc, C, CC ...) then # ## - -- or n; or r (rr) for a rest
//   closers    } ) ] _ and marks that do not change pitch or time: beams L J K k, stems / \, editorial
//              x X y ?, articulations ' " ` ~ ^ ; , : | v u z o I U, ornaments t T M m W w S $ O R H h,
//              appoggiaturas P p, user marks i j Z N V @ + < >, grace marks q Q (the note is skipped; q Q may
//              also stand between duration and pitch).
// Anything else, e.g. an accidental after an editorial mark ("4ffx#") or a decimal duration ("1.5a"), is a
// garbled token: ParseError naming the line, the token's column and the token.
#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "antiphon/core/transform.h"
#include "antiphon/formats/kern.h"
#include "formats/kern/kern_common.h"

namespace antiphon {
namespace {

using std::string_view;

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// UTF-8 code points in s (continuation bytes are not counted): the width of a line prefix in characters.
int code_points(string_view s) {
  int n = 0;
  for (char c : s)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// The token in quotes for a message, cut (on a character boundary) when it is very long.
std::string quote_token(string_view token) {
  constexpr size_t kMax = 80;
  if (token.size() <= kMax) return "'" + std::string(token) + "'";
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(token[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(token.substr(0, cut)) + "...'";
}

// Parses a run of 1..9 digits starting at s[i] (advancing i); nullopt when there is none or it is too long.
std::optional<int64_t> parse_number(string_view s, size_t& i) {
  size_t start = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  if (i == start || i - start > 9) return std::nullopt;
  int64_t v = 0;
  for (size_t k = start; k < i; ++k) v = v * 10 + (s[k] - '0');
  return v;
}

std::optional<Letter> letter_of(char c) {
  // a b c d e f g (either case) -> A B C D E F G
  static constexpr Letter kLetters[7] = {Letter::A, Letter::B, Letter::C, Letter::D, Letter::E, Letter::F, Letter::G};
  unsigned index = static_cast<unsigned>((c | 0x20) - 'a');
  if (index >= 7) return std::nullopt;
  return kLetters[index];
}

bool is_pitch_letter(char c) { return (c >= 'a' && c <= 'g') || (c >= 'A' && c <= 'G'); }

// Signifiers allowed after the pitch that change neither pitch nor time.
bool is_ignored_mark(char c) {
  static constexpr string_view kMarks = "LJKk/\\xXy?'\"`~^;,:|vuzoIUtTMmWwS$ORHhPpijZNV@+<>&)";
  return kMarks.find(c) != string_view::npos;
}

bool is_manipulator(string_view f) { return f == "*^" || f == "*v" || f == "*x" || f == "*+" || f == "*-"; }

struct NoteToken {
  std::optional<Pitch> pitch;  // nullopt: a rest
  Rational duration;
  bool has_duration = false;
  bool grace = false;
  bool tie_start = false;   // [
  bool tie_middle = false;  // _
  bool tie_end = false;     // ]
  bool phrase_begin = false;
  bool phrase_end = false;
};

// A key signature and/or key token met at one onset.
struct KeyEvent {
  Rational onset;
  int line = 0;
  std::optional<int> fifths;  // from *k[...]
  std::string signature_token;
  bool has_tonic = false;  // from *G:, *e-:, *d:dor ...
  Letter letter = Letter::C;
  int alter = 0;
  Mode mode = Mode::major;
  std::string tonic_token;
};

class KernReader {
 public:
  KernReader(string_view text, const std::string& file) : text_(text), file_(file) {}

  ReadResult read() {
    if (text_.size() >= 3 && text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
    size_t pos = 0;
    while (pos < text_.size()) {
      size_t nl = text_.find('\n', pos);
      size_t end = nl == string_view::npos ? text_.size() : nl;
      line_ = text_.substr(pos, end - pos);
      if (!line_.empty() && line_.back() == '\r') line_.remove_suffix(1);
      ++line_no_;
      process_line();
      if (nl == string_view::npos) break;
      pos = nl + 1;
    }
    finish();
    result_.melodies.push_back(std::move(melody_));
    return std::move(result_);
  }

 private:
  [[noreturn]] void fail(int column, std::string message, std::string reason) const {
    throw ParseError(file_, line_no_, column, std::move(message), std::move(reason));
  }
  void warn(int line, int column, std::string reason, std::string message) {
    result_.warnings.push_back(Diagnostic{file_, line, column, std::move(reason), std::move(message)});
  }
  int column_of(string_view token) const {
    return 1 + code_points(string_view(line_.data(), static_cast<size_t>(token.data() - line_.data())));
  }

  void process_line() {
    if (line_.size() >= 3 && line_.substr(0, 3) == "!!!") {
      reference_record();
      return;
    }
    if (!started_) {
      if (line_.size() >= 2 && line_.substr(0, 2) == "**") exclusive_interpretation();
      return;  // anything before the **kern exclusive interpretation is tolerated
    }
    if (ended_ || line_.empty() || line_[0] == '!') return;
    if (line_[0] == '*') {
      interpretation_record();
    } else if (line_[0] == '=') {
      barline(melody_field());
    } else {
      data_token(melody_field());
    }
  }

  // !!!KEY: value
  void reference_record() {
    string_view rest = line_.substr(3);
    size_t colon = rest.find(':');
    if (colon == string_view::npos || colon == 0) return;
    string_view key = rest.substr(0, colon);
    for (char c : key)
      if (is_space(c) || c == '!') return;  // a comment that happens to contain a colon
    string_view value = rest.substr(colon + 1);
    while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
    if (key == "OTL" && !have_title_) {
      melody_.title.assign(value);
      have_title_ = true;
    } else {
      melody_.metadata.emplace_back(std::string(key), std::string(value));
    }
  }

  void split_fields(string_view line) {
    fields_.clear();
    size_t start = 0;
    while (true) {
      size_t tab = line.find('\t', start);
      if (tab == string_view::npos) {
        fields_.push_back(line.substr(start));
        return;
      }
      fields_.push_back(line.substr(start, tab - start));
      start = tab + 1;
    }
  }

  void exclusive_interpretation() {
    split_fields(line_);
    size_t kern = fields_.size();
    for (size_t i = 0; i < fields_.size(); ++i)
      if (fields_[i] == "**kern") {
        kern = i;
        break;
      }
    if (kern == fields_.size()) {
      if (first_exclusive_line_ == 0) {
        first_exclusive_line_ = line_no_;
        first_exclusive_.assign(line_.substr(0, std::min<size_t>(line_.size(), 80)));
      }
      return;
    }
    started_ = true;
    kern_line_ = line_no_;
    spines_.assign(fields_.size(), 0);
    spines_[kern] = 1;
    primary_ = kern;
    if (fields_.size() > 1)
      warn(line_no_, column_of(fields_[kern]), "several spines",
           std::to_string(fields_.size()) + " spines; read the first **kern spine (spine " + std::to_string(kern + 1) +
               ") and ignored the others");
  }

  // The melody's token in a data or barline record; checks the record has one field per spine.
  string_view melody_field() {
    if (spines_.size() == 1) {
      if (line_.find('\t') != string_view::npos) spine_count_error(line_);
      return line_;
    }
    split_fields(line_);
    if (fields_.size() != spines_.size()) spine_count_error(line_);
    return fields_[primary_];
  }

  [[noreturn]] void spine_count_error(string_view line) {
    size_t n = static_cast<size_t>(std::count(line.begin(), line.end(), '\t')) + 1;
    fail(1,
         "record has " + std::to_string(n) + " fields but " + std::to_string(spines_.size()) +
             " spines are active: " + quote_token(line),
         "spine count");
  }

  void interpretation_record() {
    split_fields(line_);
    if (fields_.size() != spines_.size()) spine_count_error(line_);
    interpretation(fields_[primary_]);
    bool manipulated = false;
    for (string_view f : fields_)
      if (is_manipulator(f)) {
        manipulated = true;
        break;
      }
    if (manipulated) manipulate_spines();
  }

  // Applies *^ *v *x *+ *- to the spine layout in one pass (linear in the number of spines).
  void manipulate_spines() {
    next_spines_.clear();
    const size_t n = fields_.size();
    for (size_t i = 0; i < n;) {
      string_view f = fields_[i];
      uint8_t s = spines_[i];
      if (f == "*^") {
        if (s && !split_warned_) {
          split_warned_ = true;
          warn(line_no_, column_of(f), "split spine",
               "the melody spine splits here (*^) into chords or voices; read its first sub-spine only");
        }
        next_spines_.push_back(s);
        next_spines_.push_back(s);
        ++i;
      } else if (f == "*v") {
        uint8_t any = 0;
        size_t j = i;
        while (j < n && fields_[j] == "*v") any |= spines_[j++];
        next_spines_.push_back(any);
        i = j;
      } else if (f == "*x" && i + 1 < n && fields_[i + 1] == "*x") {
        next_spines_.push_back(spines_[i + 1]);
        next_spines_.push_back(s);
        i += 2;
      } else if (f == "*+") {
        next_spines_.push_back(s);
        next_spines_.push_back(0);
        ++i;
      } else if (f == "*-") {
        ++i;
      } else {
        next_spines_.push_back(s);
        ++i;
      }
    }
    spines_.swap(next_spines_);
    auto it = std::find(spines_.begin(), spines_.end(), uint8_t{1});
    if (it == spines_.end()) {
      ended_ = true;
    } else {
      primary_ = static_cast<size_t>(it - spines_.begin());
    }
  }

  void interpretation(string_view tok) {
    if (tok.size() < 2 || tok[0] != '*' || tok[1] == '*') return;
    if (tok.size() >= 3 && tok.substr(0, 3) == "*MM") {
      tempo(tok);
    } else if (tok[1] == 'M') {
      meter(tok);
    } else if (tok.size() >= 3 && tok.substr(0, 3) == "*k[") {
      key_signature(tok);
    } else if (is_pitch_letter(tok[1])) {
      key_token(tok);
    }
    // Everything else (*ICvox, *clefG2, *met(c), *>A, *, ...) does not change the melody.
  }

  void tempo(string_view tok) {
    string_view s = tok.substr(3);
    double qpm = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), qpm);
    if (ec != std::errc() || ptr != s.data() + s.size() || !(qpm > 0) || !(qpm < 100000)) {
      warn(line_no_, column_of(tok), "bad tempo", "unrecognized tempo " + quote_token(tok) + "; ignored");
      return;
    }
    tempo_ = qpm;
  }

  void meter(string_view tok) {
    string_view s = tok.substr(2);
    Meter m;
    if (s == "X") {
      m.kind = MeterKind::irregular;
    } else if (s == "Z" || s == "?") {
      m.kind = MeterKind::free;
    } else if (s.substr(0, 4) == "FREI") {  // Essen: "frei" (free), e.g. *MFREI4/4
      m.kind = MeterKind::free;
    } else {
      size_t i = 0;
      int64_t num = 0;
      bool ok = true;
      do {
        if (i > 0) ++i;  // the '+' of an additive numerator (*M2+3/8)
        auto part = parse_number(s, i);
        if (!part) {
          ok = false;
          break;
        }
        num += *part;
      } while (i < s.size() && s[i] == '+' && num <= 10000);
      std::optional<int64_t> den;
      if (ok && i < s.size() && s[i] == '/') {
        ++i;
        den = parse_number(s, i);
      }
      if (!ok || !den || num < 1 || num > 10000 || *den < 1 || *den > 10000) {
        warn(line_no_, column_of(tok), "bad meter", "unrecognized meter " + quote_token(tok) + "; ignored");
        return;
      }
      if (i < s.size())
        warn(line_no_, column_of(tok), "bad meter",
             "meter " + quote_token(tok) + " read as " + std::to_string(num) + "/" + std::to_string(*den) +
                 "; the rest ignored");
      m.numerator = static_cast<int>(num);
      m.denominator = static_cast<int>(*den);
    }
    auto& meters = melody_.meters;
    if (!meters.empty() && meters.back().onset == now_) {
      meters.back().value = m;
      if (meters.size() >= 2 && meters[meters.size() - 2].value == m) meters.pop_back();
    } else if (meters.empty() || !(meters.back().value == m)) {
      meters.push_back({now_, m});
    }
  }

  KeyEvent& key_event() {
    if (key_events_.empty() || key_events_.back().onset != now_) {
      key_events_.emplace_back();
      key_events_.back().onset = now_;
      key_events_.back().line = line_no_;
    }
    return key_events_.back();
  }

  // *k[f#c#]: counts sharps and flats; warns when the signature is not a standard one.
  void key_signature(string_view tok) {
    if (tok.back() != ']') {
      warn(line_no_, column_of(tok), "bad key signature",
           "unrecognized key signature " + quote_token(tok) + "; ignored");
      return;
    }
    string_view body = tok.substr(3, tok.size() - 4);
    static constexpr string_view kSharpOrder = "fcgdaeb";
    static constexpr string_view kFlatOrder = "beadgcf";
    int sharps = 0, flats = 0;
    bool standard = true;
    for (size_t i = 0; i < body.size();) {
      char c = body[i];
      if (!is_pitch_letter(c)) {
        warn(line_no_, column_of(tok), "bad key signature",
             "unrecognized key signature " + quote_token(tok) + "; ignored");
        return;
      }
      size_t j = i + 1;
      while (j < body.size() && (body[j] == '#' || body[j] == '-' || body[j] == 'n')) ++j;
      string_view acc = body.substr(i + 1, j - i - 1);
      char lower = static_cast<char>(c | 0x20);
      if (acc == "#") {
        if (flats > 0 || sharps >= 7 || kSharpOrder[sharps] != lower) standard = false;
        ++sharps;
      } else if (acc == "-") {
        if (sharps > 0 || flats >= 7 || kFlatOrder[flats] != lower) standard = false;
        ++flats;
      } else if (!acc.empty() && (acc[0] == '#' || acc[0] == '-')) {
        standard = false;  // a double accidental in a signature
        if (acc[0] == '#')
          ++sharps;
        else
          ++flats;
      } else {
        warn(line_no_, column_of(tok), "bad key signature",
             "unrecognized key signature " + quote_token(tok) + "; ignored");
        return;
      }
      i = j;
    }
    int fifths = std::clamp(sharps - flats, -7, 7);
    if (!standard)
      warn(line_no_, column_of(tok), "bad key signature",
           "nonstandard key signature " + quote_token(tok) + "; read as " + std::to_string(std::abs(fifths)) +
               (fifths < 0 ? " flats" : " sharps"));
    KeyEvent& e = key_event();
    e.fifths = fifths;
    e.signature_token.assign(tok);
  }

  // *G: *e-: *d:dor *G:mix; other tokens that start with a letter (*clefG2) are not keys.
  void key_token(string_view tok) {
    size_t i = 1;
    char c = tok[i++];
    int alter = 0;
    while (i < tok.size() && (tok[i] == '#' || tok[i] == '-')) alter += tok[i++] == '#' ? 1 : -1;
    if (i >= tok.size() || tok[i] != ':') return;
    string_view mode_text = tok.substr(i + 1);
    Mode mode = (c >= 'a') ? Mode::minor : Mode::major;
    if (!mode_text.empty()) {
      auto parsed = parse_mode(std::string(mode_text));
      if (!parsed) {
        warn(line_no_, column_of(tok), "bad key",
             "unrecognized mode in key " + quote_token(tok) + "; read as " + mode_name(mode));
      } else {
        mode = *parsed;
      }
    }
    if (alter < -2 || alter > 2) {
      warn(line_no_, column_of(tok), "bad key", "unrecognized key " + quote_token(tok) + "; ignored");
      return;
    }
    KeyEvent& e = key_event();
    e.has_tonic = true;
    e.letter = *letter_of(c);
    e.alter = alter;
    e.mode = mode;
    e.tonic_token.assign(tok);
  }

  void barline(string_view) {
    if (!first_bar_) first_bar_ = now_;
  }

  void data_token(string_view field) {
    if (field == ".") return;  // null token: the previous note goes on
    // A field holds one subtoken per note; several separated by spaces make a chord.
    size_t a = 0;
    while (a < field.size() && field[a] == ' ') ++a;
    size_t b = a;
    while (b < field.size() && field[b] != ' ') ++b;
    size_t c = b;
    while (c < field.size() && field[c] == ' ') ++c;
    if (a == field.size()) fail(column_of(field), "empty data token in the melody spine", "garbled token");
    if (c < field.size())
      fail(column_of(field), "chord " + quote_token(field) + " in the melody spine (the kern reader takes one voice)",
           "chord");
    string_view token = field.substr(a, b - a);
    int column = column_of(token);
    try {
      note(parse_note(token, column), token, column);
    } catch (const std::overflow_error&) {
      fail(column, "time value in kern token " + quote_token(token) + " overflows 64-bit rational time",
           "duration overflow");
    }
  }

  [[noreturn]] void garbled(string_view token, int column) const {
    fail(column, "unrecognized kern token " + quote_token(token), "garbled token");
  }

  // The duration starting at tok[i] (digits, an optional %M, dots); advances i. Recently seen duration texts
  // are remembered, since a melody uses only a handful of them.
  Rational duration(string_view tok, size_t& i, int column) const {
    const size_t n = tok.size();
    size_t end = i;
    while (end < n && is_digit(tok[end])) ++end;
    if (end < n && tok[end] == '%')
      for (++end; end < n && is_digit(tok[end]);) ++end;
    while (end < n && tok[end] == '.') ++end;
    string_view text = tok.substr(i, end - i);
    for (const auto& [cached_text, value] : duration_cache_)
      if (cached_text == text) {
        i = end;
        return value;
      }
    Rational base;
    if (tok[i] == '0') {
      size_t z = i;
      while (i < n && tok[i] == '0') ++i;
      size_t zeros = i - z;
      if (zeros > 3 || (i < n && (is_digit(tok[i]) || tok[i] == '%'))) garbled(tok, column);
      base = Rational(int64_t{8} << (zeros - 1));  // breve, longa, maxima
    } else {
      auto recip = parse_number(tok, i);
      if (!recip || (i < n && is_digit(tok[i]))) garbled(tok, column);
      if (i < n && tok[i] == '%') {
        ++i;
        if (i >= n || tok[i] == '0') garbled(tok, column);
        auto mult = parse_number(tok, i);
        if (!mult || (i < n && is_digit(tok[i]))) garbled(tok, column);
        base = Rational(4 * *mult, *recip);
      } else {
        base = Rational(4, *recip);
      }
    }
    Rational d = base, add = base;
    for (; i < n && tok[i] == '.'; ++i) {
      add = add / Rational(2);
      d += add;
    }
    duration_cache_[duration_cache_next_] = {text, d};
    duration_cache_next_ = (duration_cache_next_ + 1) % duration_cache_.size();
    return d;
  }

  NoteToken parse_note(string_view tok, int column) const {
    NoteToken t;
    const size_t n = tok.size();
    size_t i = 0;
    for (; i < n; ++i) {
      char c = tok[i];
      if (c == '{') {
        t.phrase_begin = true;
      } else if (c == '[') {
        t.tie_start = true;
      } else if (c != '(' && c != '&') {
        break;
      }
    }
    if (i < n && is_digit(tok[i])) {
      t.duration = duration(tok, i, column);
      t.has_duration = true;
    }
    // The grace-note mark may also stand before the pitch ("8qc", "qc").
    for (; i < n && (tok[i] == 'q' || tok[i] == 'Q'); ++i) t.grace = true;
    if (i >= n) garbled(tok, column);
    char c = tok[i];
    if (c == 'r') {
      while (i < n && tok[i] == 'r') ++i;
    } else if (is_pitch_letter(c)) {
      size_t p0 = i;
      while (i < n && tok[i] == c) ++i;
      int count = static_cast<int>(i - p0);
      if (count > kern::kMaxOctaveLetters) garbled(tok, column);
      int octave = c >= 'a' ? 3 + count : 4 - count;
      int alter = 0;
      if (i < n && tok[i] == '#') {
        while (i < n && tok[i] == '#') ++alter, ++i;
      } else if (i < n && tok[i] == '-') {
        while (i < n && tok[i] == '-') --alter, ++i;
      } else if (i < n && tok[i] == 'n') {
        ++i;
      }
      if (alter > 2 || alter < -2) garbled(tok, column);
      Letter letter = *letter_of(c);
      int midi = 12 * (octave + 1) + letter_pitch_class(letter) + alter;
      if (midi < kMidiMin || midi > kMidiMax)
        fail(column, "pitch of kern token " + quote_token(tok) + " is outside MIDI 0..127", "pitch out of range");
      t.pitch = Pitch{midi, letter, alter};
    } else {
      garbled(tok, column);
    }
    for (; i < n; ++i) {
      switch (tok[i]) {
        case '}':
          t.phrase_end = true;
          break;
        case ']':
          t.tie_end = true;
          break;
        case '_':
          t.tie_middle = true;
          break;
        case 'q':
        case 'Q':
          t.grace = true;
          break;
        default:
          if (!is_ignored_mark(tok[i])) garbled(tok, column);
      }
    }
    return t;
  }

  void note(const NoteToken& t, string_view token, int column) {
    if (t.grace) {
      if (grace_count_++ == 0) first_grace_line_ = line_no_;
      pending_phrase_begin_ = pending_phrase_begin_ || t.phrase_begin;
      if (t.phrase_end && !melody_.notes.empty()) melody_.notes.back().phrase_end = true;
      return;
    }
    if (!t.has_duration)
      fail(column, "kern token " + quote_token(token) + " has no duration (and is not a grace note)",
           "missing duration");
    bool continues = t.tie_middle || t.tie_end;
    if (tie_open_) {
      Note& open = melody_.notes[tie_note_];
      bool same = open.pitch.has_value() == t.pitch.has_value() && (!t.pitch || open.pitch->midi == t.pitch->midi);
      if (continues && same) {
        open.duration += t.duration;
        open.phrase_begin = open.phrase_begin || t.phrase_begin;
        open.phrase_end = open.phrase_end || t.phrase_end;
        tie_open_ = t.tie_start || t.tie_middle;
        now_ += t.duration;
        return;
      }
      tie_problem(continues ? "tie to a different pitch" : "tie not continued");
      tie_open_ = false;
    } else if (continues && !t.tie_start) {
      tie_problem("tie end without a tie start");
    }
    Note n;
    n.onset = now_;
    n.duration = t.duration;
    n.pitch = t.pitch;
    n.phrase_begin = t.phrase_begin || pending_phrase_begin_;
    n.phrase_end = t.phrase_end;
    pending_phrase_begin_ = false;
    melody_.notes.push_back(std::move(n));
    now_ += t.duration;
    // "[" opens a tie even when the same token also carries "]" (Essen writes "[2a]" "8a]" for one note).
    if (t.tie_start || t.tie_middle) {
      tie_open_ = true;
      tie_note_ = melody_.notes.size() - 1;
    }
  }

  void tie_problem(const char* what) {
    if (tie_problems_++ == 0) {
      first_tie_problem_line_ = line_no_;
      first_tie_problem_ = what;
    }
  }

  void finish() {
    if (!started_) {
      std::string seen = first_exclusive_line_
                             ? " (first exclusive interpretation: " + quote_token(first_exclusive_) + ")"
                             : std::string();
      throw ParseError(file_, first_exclusive_line_, first_exclusive_line_ ? 1 : 0, "no **kern spine" + seen,
                       "no kern spine");
    }
    if (melody_.pitched_count() == 0)
      throw ParseError(file_, kern_line_, 1, "the **kern spine has no notes", "no notes");
    if (grace_count_ > 0)
      warn(first_grace_line_, 0, "grace notes",
           "skipped " + std::to_string(grace_count_) + " grace note" + (grace_count_ > 1 ? "s" : "") +
               " (first at line " + std::to_string(first_grace_line_) + ")");
    if (tie_problems_ > 0)
      warn(first_tie_problem_line_, 0, "unmatched tie",
           std::to_string(tie_problems_) + " tie mark" + (tie_problems_ > 1 ? "s" : "") +
               " could not be matched and were read as separate notes (first: " + first_tie_problem_ + " at line " +
               std::to_string(first_tie_problem_line_) + ")");

    melody_.source_file = file_;
    melody_.source_line = 1;
    melody_.source_index = 0;
    melody_.tempo_qpm = tempo_;
    if (!melody_.meters.empty()) melody_.meters.front().onset = Rational(0);

    // Pickup: music before the first barline shorter than a bar of the opening meter.
    Rational bar = melody_.meter_at(0).bar_length();
    if (first_bar_ && *first_bar_ > Rational(0) && *first_bar_ < bar && melody_.length() > *first_bar_)
      melody_.pickup = *first_bar_;

    resolve_keys();
  }

  // The restricted estimate: the major key of this signature or its relative minor, whichever correlates
  // better with the notes in [from, to).
  Key signature_mode(int fifths, const Rational& from, const std::optional<Rational>& to) const {
    auto before = [](const Note& n, const Rational& t) { return n.onset < t; };
    const auto& notes = melody_.notes;
    auto first = std::lower_bound(notes.begin(), notes.end(), from, before);
    auto last = to ? std::lower_bound(first, notes.end(), *to, before) : notes.end();
    Melody segment;
    segment.notes.assign(first, last);
    std::vector<double> r = key_correlations(segment);
    Key major{fifths, Mode::major, true};
    Key minor{fifths, Mode::minor, true};
    return r[12 + minor.tonic_pitch_class()] > r[major.tonic_pitch_class()] ? minor : major;
  }

  void resolve_keys() {
    if (key_events_.empty()) {
      melody_.keys.push_back({Rational(0), estimate_key(melody_)});
      return;
    }
    key_events_.front().onset = Rational(0);
    for (size_t i = 0; i < key_events_.size(); ++i) {
      const KeyEvent& e = key_events_[i];
      std::optional<Rational> next;
      if (i + 1 < key_events_.size()) next = key_events_[i + 1].onset;
      Key key;
      if (e.has_tonic) {
        bool respelled = false;
        try {
          key = Key::from_tonic(e.letter, e.alter, e.mode);
        } catch (const std::invalid_argument&) {
          respelled = true;
          // Needs more than 7 sharps or flats (e.g. *d-: = D-flat minor): spell the tonic enharmonically.
          Key probe = Key{0, e.mode, false};
          int pc = (letter_pitch_class(e.letter) + e.alter + 12) % 12;
          int best = 99;
          for (int f = -7; f <= 7; ++f) {
            probe.fifths = f;
            if (probe.tonic_pitch_class() == pc && std::abs(f) < best) {
              best = std::abs(f);
              key = probe;
            }
          }
          warn(e.line, 0, "bad key",
               "key " + quote_token(e.tonic_token) + " needs more than 7 accidentals; read as " + key.name());
        }
        if (e.fifths && *e.fifths != key.fifths && !respelled)
          warn(e.line, 0, "key mismatch",
               "key signature " + quote_token(e.signature_token) + " does not match key " + quote_token(e.tonic_token) +
                   "; read as " + key.name());
      } else {
        key = signature_mode(*e.fifths, e.onset, next);
      }
      melody_.keys.push_back({e.onset, key});
    }
  }

  string_view text_;
  const std::string& file_;
  string_view line_;
  int line_no_ = 0;
  ReadResult result_;
  Melody melody_;

  // Spines: one entry per active column, 1 where the column belongs to the melody's (first **kern) spine.
  bool started_ = false;
  bool ended_ = false;
  int kern_line_ = 0;
  int first_exclusive_line_ = 0;
  std::string first_exclusive_;
  std::vector<uint8_t> spines_;
  std::vector<uint8_t> next_spines_;
  std::vector<string_view> fields_;
  size_t primary_ = 0;  // column of the melody's first sub-spine
  bool split_warned_ = false;

  // Music state.
  Rational now_;
  bool have_title_ = false;
  double tempo_ = 120.0;
  std::optional<Rational> first_bar_;
  std::vector<KeyEvent> key_events_;
  bool tie_open_ = false;
  size_t tie_note_ = 0;
  bool pending_phrase_begin_ = false;
  int grace_count_ = 0;
  int first_grace_line_ = 0;
  int tie_problems_ = 0;
  int first_tie_problem_line_ = 0;
  const char* first_tie_problem_ = "";
  mutable std::array<std::pair<string_view, Rational>, 8> duration_cache_{};
  mutable size_t duration_cache_next_ = 0;
};

}  // namespace

ReadResult read_kern(std::string_view text, const std::string& file) { return KernReader(text, file).read(); }

}  // namespace antiphon
