// ABC 2.1 information fields: M: L: K: Q: P: and the informational ones that become metadata.
#include <cctype>
#include <stdexcept>
#include <utility>

#include "formats/abc/abc_internal.h"

namespace antiphon::abc {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Reads an unsigned decimal number of at most `max_digits` digits at s[i]; nullopt when there is none or
// it is too long.
std::optional<int64_t> read_number(std::string_view s, size_t& i, int max_digits = 6) {
  size_t start = i;
  int64_t v = 0;
  while (i < s.size() && is_digit(s[i])) {
    if (static_cast<int>(i - start) >= max_digits) return std::nullopt;
    v = v * 10 + (s[i] - '0');
    ++i;
  }
  if (i == start) return std::nullopt;
  return v;
}

void skip_spaces(std::string_view s, size_t& i) {
  while (i < s.size() && is_space(s[i])) ++i;
}

// "3/8" or "1" as a fraction; nullopt when malformed.
std::optional<Rational> read_fraction(std::string_view s, size_t& i) {
  auto num = read_number(s, i);
  if (!num) return std::nullopt;
  int64_t den = 1;
  if (i < s.size() && s[i] == '/') {
    ++i;
    auto d = read_number(s, i);
    if (!d || *d == 0) return std::nullopt;
    den = *d;
  }
  return Rational(*num, den);
}

constexpr std::pair<char, const char*> kMetadataNames[] = {
    {'A', "area"},    {'B', "book"},        {'C', "composer"}, {'D', "discography"},   {'F', "file"},  {'G', "group"},
    {'H', "history"}, {'I', "instruction"}, {'N', "notes"},    {'O', "origin"},        {'P', "parts"}, {'R', "rhythm"},
    {'S', "source"},  {'T', "title"},       {'W', "words"},    {'Z', "transcription"},
};

// The letter of a note name A-G or a-g.
Letter letter_of(char c) {
  static constexpr int kIndex[7] = {5, 6, 0, 1, 2, 3, 4};  // A..G
  return static_cast<Letter>(kIndex[std::toupper(static_cast<unsigned char>(c)) - 'A']);
}

Problem bad(size_t offset, const char* reason, std::string message) {
  return Problem{offset, reason, std::move(message)};
}

}  // namespace

Signature signature_of(const Key& key) {
  Signature s{};
  for (int l = 0; l < 7; ++l) s[l] = key.signature_alter(static_cast<Letter>(l));
  return s;
}

const char* metadata_name(char letter) {
  for (const auto& [l, name] : kMetadataNames)
    if (l == letter) return name;
  return nullptr;
}

char metadata_letter(std::string_view name) {
  for (const auto& [l, n] : kMetadataNames)
    if (name == n) return l;
  return 0;
}

std::string clean_field_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size() && value[i + 1] == '%') {
      out += '%';
      ++i;
    } else if (value[i] == '%') {
      break;
    } else {
      out += value[i];
    }
  }
  return std::string(trim(out));
}

Meter parse_meter(std::string_view value, size_t offset) {
  std::string v = clean_field_value(value);
  std::string_view s = v;
  Meter m;
  std::string low;
  for (char c : s) low += lower(c);
  if (s.empty() || low == "none") {
    m.kind = MeterKind::free;
    return m;
  }
  if (s == "C") return Meter{MeterKind::regular, 4, 4};
  if (s == "C|") return Meter{MeterKind::regular, 2, 2};
  // numerator: a sum like 2+3+2, optionally in parentheses
  size_t i = 0;
  bool paren = false;
  if (s[i] == '(') {
    paren = true;
    ++i;
  }
  int64_t num = 0;
  for (;;) {
    skip_spaces(s, i);
    auto n = read_number(s, i, 3);
    if (!n) throw bad(offset, "bad meter", "bad meter 'M:" + v + "'");
    num += *n;
    skip_spaces(s, i);
    if (i < s.size() && s[i] == '+') {
      ++i;
      continue;
    }
    break;
  }
  if (paren) {
    if (i >= s.size() || s[i] != ')') throw bad(offset, "bad meter", "bad meter 'M:" + v + "'");
    ++i;
  }
  skip_spaces(s, i);
  if (i >= s.size() || s[i] != '/') throw bad(offset, "bad meter", "bad meter 'M:" + v + "'");
  ++i;
  skip_spaces(s, i);
  auto den = read_number(s, i, 3);
  skip_spaces(s, i);
  if (!den || *den == 0 || num == 0 || num > 999 || i != s.size())
    throw bad(offset, "bad meter", "bad meter 'M:" + v + "'");
  m.kind = MeterKind::regular;
  m.numerator = static_cast<int>(num);
  m.denominator = static_cast<int>(*den);
  return m;
}

Rational parse_unit_length(std::string_view value, size_t offset) {
  std::string v = clean_field_value(value);
  size_t i = 0;
  auto f = read_fraction(v, i);
  if (!f || i != v.size() || *f <= Rational(0) || *f > Rational(16) || f->den() > 1024)
    throw bad(offset, "bad unit length", "bad unit note length 'L:" + v + "'");
  return *f;
}

KeyField parse_key(std::string_view value, size_t offset) {
  std::string v = clean_field_value(value);
  std::string_view s = v;
  KeyField k;
  auto fail = [&](const std::string& why) { return bad(offset, "bad key", "bad key 'K:" + v + "': " + why); };
  size_t i = 0;
  bool have_tonic = false;
  // the tonic: "none", "HP"/"Hp" (highland pipes: A mixolydian, f and c sharp) or a letter with # / b
  if (s.empty()) {
    k.none = true;
  } else if (s.substr(0, 4) == "none" || s.substr(0, 4) == "None") {
    k.none = true;
    i = 4;
  } else if (s.substr(0, 2) == "HP" || s.substr(0, 2) == "Hp") {
    if (s.size() == 2 || !is_alpha(s[2])) {
      k.key = Key{2, Mode::mixolydian, false};
      k.signature = signature_of(k.key);
      i = 2;
      have_tonic = true;
    }
  }
  if (!k.none && !have_tonic && i < s.size() &&
      std::string_view("ABCDEFGabcdefg").find(s[i]) != std::string_view::npos) {
    Letter letter = letter_of(s[i]);
    ++i;
    int alter = 0;
    if (i < s.size() && (s[i] == '#' || s[i] == 'b')) {  // "F#", "Bb"
      alter = s[i] == '#' ? 1 : -1;
      ++i;
    }
    // the mode: letters right after the tonic or after spaces ("Am", "A minor", "ADor")
    size_t j = i;
    skip_spaces(s, j);
    size_t word_start = j;
    while (j < s.size() && is_alpha(s[j])) ++j;
    std::string word(s.substr(word_start, j - word_start));
    Mode mode = Mode::major;
    bool word_is_mode = false;
    if (!word.empty()) {
      std::string low;
      for (char c : word) low += lower(c);
      bool is_param = j < s.size() && s[j] == '=';  // clef=..., middle=...
      if (!is_param && low != "exp" && low != "treble" && low != "bass" && low != "alto" && low != "tenor" &&
          low != "perc" && low != "none") {
        auto m = parse_mode(word);
        if (!m) throw fail("unknown mode '" + word + "'");
        mode = *m;
        word_is_mode = true;
      }
    }
    if (word_is_mode) i = j;
    try {
      k.key = Key::from_tonic(letter, alter, mode);
    } catch (const std::invalid_argument&) {
      throw fail("the key signature would need more than 7 sharps or flats");
    }
    k.signature = signature_of(k.key);
    have_tonic = true;
  } else if (!k.none && !have_tonic) {
    // no tonic: only parameters (e.g. "K:clef=bass" keeps C major)
    k.key = Key{};
    k.signature = signature_of(k.key);
  }
  // the rest: explicit accidentals (^f _b =c), "exp", clef names and name=value parameters
  bool explicit_only = false;
  std::vector<std::pair<Letter, int>> accidentals;
  while (i < s.size()) {
    skip_spaces(s, i);
    if (i >= s.size()) break;
    size_t start = i;
    if (s[i] == '^' || s[i] == '_' || s[i] == '=') {
      int alter = 0;
      if (s[i] == '=') {
        ++i;
      } else {
        char c = s[i];
        while (i < s.size() && s[i] == c && (i - start) < 2) {
          alter += c == '^' ? 1 : -1;
          ++i;
        }
      }
      if (i >= s.size() || std::string_view("ABCDEFGabcdefg").find(s[i]) == std::string_view::npos)
        throw fail("accidental without a note letter");
      accidentals.emplace_back(letter_of(s[i]), alter);
      ++i;
      continue;
    }
    // a word or name=value token
    while (i < s.size() && !is_space(s[i])) {
      if (s[i] == '"') {  // quoted parameter value, e.g. name="..."
        size_t close = s.find('"', i + 1);
        i = close == std::string_view::npos ? s.size() : close + 1;
      } else {
        ++i;
      }
    }
    std::string token(s.substr(start, i - start));
    std::string low;
    for (char c : token) low += lower(c);
    if (low == "exp") explicit_only = true;  // other words and name=value parameters (clef=...) are ignored
  }
  if (explicit_only || k.none) k.signature = Signature{};
  for (const auto& [letter, alter] : accidentals) k.signature[static_cast<int>(letter)] = alter;
  return k;
}

std::optional<double> parse_tempo(std::string_view value, const Rational& unit_length) {
  std::string v = clean_field_value(value);
  // drop quoted text ("Allegro")
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '"') {
      size_t close = v.find('"', i + 1);
      if (close == std::string::npos) break;
      i = close;
      continue;
    }
    s += v[i];
  }
  std::string_view t = trim(s);
  if (t.empty()) return std::nullopt;
  size_t eq = t.find('=');
  Rational beat = unit_length;
  std::string_view speed = t;
  if (eq != std::string_view::npos) {
    std::string_view beats = trim(t.substr(0, eq));
    speed = trim(t.substr(eq + 1));
    Rational sum(0);
    size_t i = 0;
    bool any = false;
    while (i < beats.size()) {
      skip_spaces(beats, i);
      if (i >= beats.size()) break;
      auto f = read_fraction(beats, i);
      if (!f) {
        sum = unit_length;  // "C=120" and other old forms: the unit note length
        any = true;
        break;
      }
      sum += *f;
      any = true;
    }
    if (any && sum > Rational(0)) beat = sum;
  }
  // the speed: a number, possibly with a fraction part
  size_t i = 0;
  auto whole = read_number(speed, i, 5);
  if (!whole) return std::nullopt;
  double bpm = static_cast<double>(*whole);
  if (i < speed.size() && speed[i] == '.') {
    ++i;
    double scale = 0.1;
    while (i < speed.size() && is_digit(speed[i]) && scale > 1e-6) {
      bpm += (speed[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
  }
  if (bpm <= 0) return std::nullopt;
  return bpm * beat.to_double() * 4.0;
}

std::optional<std::vector<char>> parse_part_order(std::string_view value) {
  std::string v = clean_field_value(value);
  // Recursive descent over: sequence := item*; item := (letter | '(' sequence ')') digits?
  constexpr size_t kMaxParts = 1000;
  size_t i = 0;
  bool ok = true;
  auto parse_seq = [&](auto&& self, int depth) -> std::vector<char> {
    std::vector<char> out;
    while (ok && i < v.size()) {
      char c = v[i];
      std::vector<char> item;
      if (c == ' ' || c == '.' || c == '\t') {
        ++i;
        continue;
      }
      if (c >= 'A' && c <= 'Z') {
        item.push_back(c);
        ++i;
      } else if (c == '(' && depth < 8) {
        ++i;
        item = self(self, depth + 1);
        if (i >= v.size() || v[i] != ')') {
          ok = false;
          break;
        }
        ++i;
      } else if (c == ')') {
        break;
      } else {
        ok = false;
        break;
      }
      int64_t times = 1;
      if (i < v.size() && is_digit(v[i])) {
        auto n = read_number(v, i, 2);
        if (!n) {
          ok = false;
          break;
        }
        times = *n;
      }
      for (int64_t t = 0; t < times && out.size() + item.size() <= kMaxParts; ++t)
        out.insert(out.end(), item.begin(), item.end());
      if (out.size() + item.size() > kMaxParts) {
        ok = false;
        break;
      }
    }
    return out;
  };
  std::vector<char> order = parse_seq(parse_seq, 0);
  if (!ok || i != v.size() || order.empty()) return std::nullopt;
  return order;
}

}  // namespace antiphon::abc
