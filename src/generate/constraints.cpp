#include "antiphon/generate/constraints.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "antiphon/core/error.h"
#include "antiphon/core/text.h"

namespace antiphon {
namespace {

using nlohmann::json;

constexpr int kStepsPerQuarterMax = 960;

// Pitch-class names with the usual spelling of the black keys (as in most key signatures).
constexpr const char* kPitchClassName[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};

std::string trim(const std::string& s) {
  const auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// A JSON value as it appears in the input, shortened for a message.
std::string show(const json& j) {
  std::string s = j.dump();
  return s.size() > 48 ? s.substr(0, 45) + "..." : s;
}

std::string pitch_name(int midi) { return Pitch::from_midi(midi).name(); }

// Letter with optional accidentals: "C", "F#", "Bb", "ebb" -> letter and alteration; false when malformed.
bool parse_spelling(const std::string& text, size_t& pos, Letter& letter, int& alter) {
  static constexpr char kLetters[] = "CDEFGAB";
  if (text.empty()) return false;
  const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  const char* found = std::char_traits<char>::find(kLetters, 7, c);
  if (!found) return false;
  letter = static_cast<Letter>(found - kLetters);
  alter = 0;
  pos = 1;
  while (pos < text.size() && (text[pos] == '#' || text[pos] == 'b')) alter += text[pos++] == '#' ? 1 : -1;
  return alter >= -2 && alter <= 2;
}

int parse_pitch_class_word(const std::string& text) {
  const std::string t = trim(text);
  if (!t.empty() && t.size() <= 2 && std::all_of(t.begin(), t.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    const int v = std::stoi(t);
    if (v > 11) throw ConfigError("pitch class " + t + " is outside 0..11");
    return v;
  }
  size_t pos = 0;
  Letter letter{};
  int alter = 0;
  if (!parse_spelling(t, pos, letter, alter) || pos != t.size())
    throw ConfigError("not a pitch class: '" + text + "' (expected e.g. C, F#, Bb or a number 0..11)");
  return ((letter_pitch_class(letter) + alter) % 12 + 12) % 12;
}

int pitch_class_from(const json& x) {
  if (x.is_number_integer()) {
    const int64_t v = x.get<int64_t>();
    if (v < 0 || v > 11) throw ConfigError("pitch class " + show(x) + " is outside 0..11");
    return static_cast<int>(v);
  }
  if (x.is_string()) return parse_pitch_class_word(x.get<std::string>());
  throw ConfigError("not a pitch class: " + show(x) + " (expected e.g. \"C\", \"F#\", \"Bb\" or 0..11)");
}

PitchClassSet pitch_class_set_from(const json& j) {
  if (!j.is_array())
    throw ConfigError("expected an array of pitch classes (e.g. [\"G\", \"A\", \"B\"] or [7, 9, 11]), got " + show(j));
  PitchClassSet set{};
  for (const json& x : j) set[pitch_class_from(x)] = true;
  return set;
}

int pitch_from(const json& x) {
  if (x.is_number_integer()) {
    const int64_t v = x.get<int64_t>();
    if (v < kMidiMin || v > kMidiMax) throw ConfigError("MIDI pitch " + show(x) + " is outside 0..127");
    return static_cast<int>(v);
  }
  if (x.is_string()) return parse_pitch_word(x.get<std::string>());
  throw ConfigError("not a pitch: " + show(x) + " (expected e.g. \"C4\", \"F#5\" or a MIDI number)");
}

std::pair<int, int> range_from(const json& j) {
  if (!j.is_array() || j.size() != 2)
    throw ConfigError("expected a range of two pitches (e.g. [\"C4\", \"G5\"]), got " + show(j));
  const int low = pitch_from(j[0]), high = pitch_from(j[1]);
  if (low > high)
    throw ConfigError("range " + pitch_name(low) + ".." + pitch_name(high) + " is inverted (its low end is above its high end)");
  return {low, high};
}

// One word of "steps": "C4", "C4|E4|G4", "60", "*", "-", "r", ".".
StepConstraint parse_step_word(const std::string& word) {
  if (word == ".") return {StepKind::free, {}};
  if (word == "*") return {StepKind::onset, {}};
  if (word == "-") return {StepKind::hold, {}};
  if (word == "r" || word == "R") return {StepKind::rest, {}};
  StepConstraint s{StepKind::pitch, {}};
  size_t begin = 0;
  while (true) {
    const size_t bar = word.find('|', begin);
    const std::string part = word.substr(begin, bar == std::string::npos ? std::string::npos : bar - begin);
    if (part.empty())
      throw ConfigError("step '" + word + "' has an empty pitch (expected e.g. C4|E4|G4, *, -, r or .)");
    try {
      s.pitches.push_back(parse_pitch_word(part));
    } catch (const ConfigError& e) {
      throw ConfigError("step '" + word + "': " + e.what() + "; a step is a pitch, pitches joined by '|', *, -, r or .");
    }
    if (bar == std::string::npos) break;
    begin = bar + 1;
  }
  std::sort(s.pitches.begin(), s.pitches.end());
  s.pitches.erase(std::unique(s.pitches.begin(), s.pitches.end()), s.pitches.end());
  return s;
}

std::vector<StepConstraint> steps_from(const json& j) {
  std::vector<std::string> words;
  if (j.is_string()) {
    words = split_words(j.get<std::string>());
  } else if (j.is_array()) {
    for (const json& x : j) {
      if (x.is_string()) {
        words.push_back(trim(x.get<std::string>()));
      } else if (x.is_number_integer()) {
        words.push_back(std::to_string(pitch_from(x)));
      } else {
        throw ConfigError("not a step: " + show(x) + " (expected a word such as \"C4\", \"*\", \"-\", \"r\" or \".\")");
      }
    }
  } else {
    throw ConfigError("expected a string of step words or an array of them, got " + show(j));
  }
  std::vector<StepConstraint> steps;
  for (const std::string& w : words) steps.push_back(parse_step_word(w));
  return steps;
}

// A JSON number of quarters as the fraction text rhythm_steps reads: 2 -> "2", 0.5 -> "1/2", 0.3333333333 ->
// "1/3" (the smallest denominator up to the finest grid that matches to 1e-9).
std::string duration_text(const json& x) {
  if (x.is_number_integer()) return x.dump();
  const double d = x.get<double>();
  for (int den = 1; den <= kStepsPerQuarterMax; ++den) {
    const double num = std::round(d * den);
    if (std::abs(d * den - num) < 1e-9 && std::abs(num) < 1e12)
      return std::to_string(static_cast<int64_t>(num)) + (den == 1 ? "" : "/" + std::to_string(den));
  }
  throw ConfigError("rhythm duration " + show(x) + " is not a fraction of a quarter; write it as a string such as \"1/3\"");
}

std::vector<std::string> rhythm_from(const json& j) {
  if (!j.is_array()) throw ConfigError("expected an array of durations in quarters (e.g. [\"1\", \"1/2\", \"r1/2\"]), got " + show(j));
  std::vector<std::string> durations;
  for (const json& x : j) {
    if (x.is_string())
      durations.push_back(trim(x.get<std::string>()));
    else if (x.is_number())
      durations.push_back(duration_text(x));
    else
      throw ConfigError("not a duration: " + show(x) + " (expected quarters such as \"1\", \"1/2\" or \"r1/2\" for a rest)");
  }
  return durations;
}

std::vector<Contour> contour_from(const json& j) {
  if (!j.is_string()) throw ConfigError("expected a string of U, D, S and * (one per note), got " + show(j));
  std::vector<Contour> out;
  for (char c : j.get<std::string>()) {
    switch (std::toupper(static_cast<unsigned char>(c))) {
      case 'U': out.push_back(Contour::up); break;
      case 'D': out.push_back(Contour::down); break;
      case 'S': out.push_back(Contour::same); break;
      case '*': out.push_back(Contour::any); break;
      default:
        if (std::isspace(static_cast<unsigned char>(c))) break;
        throw ConfigError("contour " + show(j) + " has '" + std::string(1, c) + "' (expected U up, D down, S same or * any)");
    }
  }
  return out;
}

int int_from(const json& x, const std::string& what) {
  if (!x.is_number_integer()) throw ConfigError(what + " must be a whole number, got " + show(x));
  const int64_t v = x.get<int64_t>();
  if (v < -1'000'000'000 || v > 1'000'000'000) throw ConfigError(what + " " + show(x) + " is out of range");
  return static_cast<int>(v);
}

PitchSpan span_from(const json& j, size_t index) {
  const std::string where = "span " + std::to_string(index);
  if (!j.is_object()) throw ConfigError(where + " must be an object like {\"from\": 0, \"to\": 16, \"key\": \"D dorian\"}, got " + show(j));
  for (const auto& [field, value] : j.items())
    if (field != "from" && field != "to" && field != "key" && field != "pitch_classes" && field != "range")
      throw ConfigError(where + ": unknown field '" + field + "' (known: from, to, key, pitch_classes, range)");
  PitchSpan span;
  if (j.contains("from")) span.from = int_from(j.at("from"), where + " \"from\"");
  if (j.contains("to")) span.to = int_from(j.at("to"), where + " \"to\"");
  if (span.from < 0) throw ConfigError(where + ": from " + std::to_string(span.from) + " is negative");
  if (span.to != -1 && span.to <= span.from)
    throw ConfigError(where + ": to " + std::to_string(span.to) + " is not after from " + std::to_string(span.from));
  if (j.contains("key") && j.contains("pitch_classes"))
    throw ConfigError(where + ": give either \"key\" or \"pitch_classes\", not both");
  try {
    if (j.contains("key")) {
      if (!j.at("key").is_string()) throw ConfigError("expected a key name such as \"D dorian\", got " + show(j.at("key")));
      span.pitch_classes = scale_pitch_classes(parse_key_name(j.at("key").get<std::string>()));
    }
    if (j.contains("pitch_classes")) span.pitch_classes = pitch_class_set_from(j.at("pitch_classes"));
    if (j.contains("range")) std::tie(span.low, span.high) = range_from(j.at("range"));
  } catch (const ConfigError& e) {
    throw ConfigError(where + ": " + e.what());
  }
  return span;
}

std::string pitch_class_set_text(const PitchClassSet& set) {
  std::string out;
  for (int pc = 0; pc < 12; ++pc)
    if (set[pc]) out += (out.empty() ? "" : " ") + std::string(kPitchClassName[pc]);
  return out.empty() ? "(empty)" : out;
}

std::string step_word(const StepConstraint& s) {
  switch (s.kind) {
    case StepKind::free: return ".";
    case StepKind::onset: return "*";
    case StepKind::hold: return "-";
    case StepKind::rest: return "r";
    case StepKind::pitch: break;
  }
  std::string out;
  for (int m : s.pitches) out += (out.empty() ? "" : "|") + pitch_name(m);
  return out;
}

bool pitch_rules_allow(const std::optional<PitchClassSet>& set, int low, int high, int midi) {
  if (midi < low || midi > high) return false;
  return !set || (*set)[((midi % 12) + 12) % 12];
}

bool is_empty_set(const PitchClassSet& set) { return std::none_of(set.begin(), set.end(), [](bool b) { return b; }); }

void check_range(int low, int high, const std::string& what) {
  if (low < kMidiMin || high > kMidiMax)
    throw ConfigError("constraints: " + what + " " + std::to_string(low) + ".." + std::to_string(high) +
                      " is outside MIDI 0..127");
  if (low > high)
    throw ConfigError("constraints: " + what + " " + pitch_name(low) + ".." + pitch_name(high) +
                      " is inverted (its low end is above its high end)");
}

// ParseError position from nlohmann's byte count (the characters read up to and including the bad one).
void line_and_column(std::string_view text, size_t byte, int& line, int& column) {
  const size_t pos = std::min(byte == 0 ? 0 : byte - 1, text.size());
  line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < pos; ++i)
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  column = static_cast<int>(pos - line_start) + 1;
}

constexpr std::string_view kFields[] = {"steps_per_quarter", "steps", "rhythm", "key", "pitch_classes",
                                        "range", "spans", "contour", "final"};

}  // namespace

bool Constraints::empty() const {
  return std::all_of(steps.begin(), steps.end(), [](const StepConstraint& s) { return s.kind == StepKind::free; }) &&
         !pitch_classes && low == kMidiMin && high == kMidiMax && spans.empty() &&
         std::all_of(contour.begin(), contour.end(), [](Contour c) { return c == Contour::any; }) && !final_pitch_classes;
}

bool Constraints::pitch_allowed(int step, int midi) const {
  if (!pitch_rules_allow(pitch_classes, low, high, midi)) return false;
  // A pitch step's own set is a pitch rule too: no other pitch may start there.
  if (step >= 0 && static_cast<size_t>(step) < steps.size() && steps[step].kind == StepKind::pitch &&
      !std::binary_search(steps[step].pitches.begin(), steps[step].pitches.end(), midi))
    return false;
  for (const PitchSpan& s : spans)
    if (step >= s.from && (s.to == -1 || step < s.to) && !pitch_rules_allow(s.pitch_classes, s.low, s.high, midi))
      return false;
  return true;
}

void Constraints::validate(int64_t region_steps) const {
  if (steps_per_quarter < 1 || steps_per_quarter > kStepsPerQuarterMax)
    throw ConfigError("constraints: steps_per_quarter " + std::to_string(steps_per_quarter) + " is outside 1..960");
  check_range(low, high, "range");
  if (pitch_classes && is_empty_set(*pitch_classes)) throw ConfigError("constraints: the pitch-class set is empty");
  if (final_pitch_classes && is_empty_set(*final_pitch_classes))
    throw ConfigError("constraints: the final pitch-class set is empty");
  for (size_t i = 0; i < steps.size(); ++i) {
    const StepConstraint& s = steps[i];
    const std::string where = "constraints: step " + std::to_string(i);
    if (s.kind != StepKind::pitch) {
      if (!s.pitches.empty()) throw ConfigError(where + " lists pitches but is not a pitch step");
      continue;
    }
    if (s.pitches.empty()) throw ConfigError(where + " has an empty pitch set");
    if (!std::is_sorted(s.pitches.begin(), s.pitches.end()) ||
        std::adjacent_find(s.pitches.begin(), s.pitches.end()) != s.pitches.end())
      throw ConfigError(where + ": its pitches are not sorted and unique");
    if (s.pitches.front() < kMidiMin || s.pitches.back() > kMidiMax)
      throw ConfigError(where + " has a pitch outside MIDI 0..127");
  }
  if (region_steps >= 0 && static_cast<int64_t>(steps.size()) > region_steps)
    throw ConfigError("constraints: step " + std::to_string(steps.size() - 1) + " is beyond the region of " +
                      std::to_string(region_steps) + " steps");
  for (size_t i = 0; i < spans.size(); ++i) {
    const PitchSpan& s = spans[i];
    const std::string text = "span [" + std::to_string(s.from) + ", " + (s.to == -1 ? "end" : std::to_string(s.to)) + ")";
    if (s.from < 0 || (s.to != -1 && s.to <= s.from))
      throw ConfigError("constraints: " + text + " is empty or reversed");
    if (region_steps >= 0 && (s.to == -1 ? s.from >= region_steps : s.to > region_steps))
      throw ConfigError("constraints: " + text + " is beyond the region of " + std::to_string(region_steps) + " steps");
    check_range(s.low, s.high, text + " range");
    if (s.pitch_classes && is_empty_set(*s.pitch_classes))
      throw ConfigError("constraints: the pitch-class set of " + text + " is empty");
  }
}

std::string Constraints::describe() const {
  std::vector<std::string> parts;
  if (!steps.empty() || !spans.empty() || steps_per_quarter != 4)
    parts.push_back("steps_per_quarter " + std::to_string(steps_per_quarter));
  if (std::any_of(steps.begin(), steps.end(), [](const StepConstraint& s) { return s.kind != StepKind::free; })) {
    std::string words;
    for (const StepConstraint& s : steps) words += (words.empty() ? "" : " ") + step_word(s);
    parts.push_back("steps: " + words);
  }
  if (pitch_classes) parts.push_back("pitch classes: " + pitch_class_set_text(*pitch_classes));
  if (low != kMidiMin || high != kMidiMax) parts.push_back("range: " + pitch_name(low) + ".." + pitch_name(high));
  for (const PitchSpan& s : spans) {
    std::string text = "span [" + std::to_string(s.from) + ", " + (s.to == -1 ? "end" : std::to_string(s.to)) + "):";
    if (s.pitch_classes) text += " pitch classes " + pitch_class_set_text(*s.pitch_classes);
    if (s.low != kMidiMin || s.high != kMidiMax)
      text += std::string(s.pitch_classes ? "," : "") + " range " + pitch_name(s.low) + ".." + pitch_name(s.high);
    if (!s.pitch_classes && s.low == kMidiMin && s.high == kMidiMax) text += " free";
    parts.push_back(text);
  }
  if (std::any_of(contour.begin(), contour.end(), [](Contour c) { return c != Contour::any; })) {
    std::string text;
    for (Contour c : contour) text += c == Contour::up ? 'U' : c == Contour::down ? 'D' : c == Contour::same ? 'S' : '*';
    parts.push_back("contour: " + text);
  }
  if (final_pitch_classes) parts.push_back("final: " + pitch_class_set_text(*final_pitch_classes));
  if (parts.empty()) return "none";
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

PitchClassSet scale_pitch_classes(const Key& key) {
  // Semitones above the tonic of each mode's seven degrees.
  static constexpr int kIonian[7] = {0, 2, 4, 5, 7, 9, 11};
  static constexpr int kDorian[7] = {0, 2, 3, 5, 7, 9, 10};
  static constexpr int kPhrygian[7] = {0, 1, 3, 5, 7, 8, 10};
  static constexpr int kLydian[7] = {0, 2, 4, 6, 7, 9, 11};
  static constexpr int kMixolydian[7] = {0, 2, 4, 5, 7, 9, 10};
  static constexpr int kAeolian[7] = {0, 2, 3, 5, 7, 8, 10};
  static constexpr int kLocrian[7] = {0, 1, 3, 5, 6, 8, 10};
  const int* degrees = kIonian;
  switch (key.mode) {
    case Mode::major:
    case Mode::ionian: degrees = kIonian; break;
    case Mode::dorian: degrees = kDorian; break;
    case Mode::phrygian: degrees = kPhrygian; break;
    case Mode::lydian: degrees = kLydian; break;
    case Mode::mixolydian: degrees = kMixolydian; break;
    case Mode::minor:
    case Mode::aeolian: degrees = kAeolian; break;
    case Mode::locrian: degrees = kLocrian; break;
  }
  PitchClassSet set{};
  const int tonic = key.tonic_pitch_class();
  for (int i = 0; i < 7; ++i) set[(tonic + degrees[i]) % 12] = true;
  return set;
}

Key parse_key_name(const std::string& text) {
  const std::string t = trim(text);
  const auto bad = [&](const std::string& why) {
    return ConfigError("not a key: '" + text + "' (" + why + ")");
  };
  const std::string expected = "expected a tonic and a mode, e.g. G major, E dorian, Bb minor, F# mix";
  size_t pos = 0;
  Letter letter{};
  int alter = 0;
  if (!parse_spelling(t, pos, letter, alter) || alter < -1 || alter > 1) throw bad(expected);
  const std::optional<Mode> mode = parse_mode(trim(t.substr(pos)));
  if (!mode) throw bad(expected);
  try {
    return Key::from_tonic(letter, alter, *mode);
  } catch (const std::invalid_argument&) {
    throw bad("its signature would need more than 7 sharps or flats; spell the tonic the other way");
  }
}

int parse_pitch_word(const std::string& text) {
  const std::string t = trim(text);
  if (!t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (t.size() > 3 || std::stoi(t) > kMidiMax) throw ConfigError("MIDI pitch " + t + " is outside 0..127");
    return std::stoi(t);
  }
  try {
    return Pitch::parse(t).midi;
  } catch (const std::invalid_argument&) {
    throw ConfigError("not a pitch: '" + text + "' (expected e.g. C4, F#5, Bb3 or a MIDI number 0..127)");
  }
}

std::vector<StepConstraint> rhythm_steps(const std::vector<std::string>& durations, int steps_per_quarter) {
  if (steps_per_quarter < 1 || steps_per_quarter > kStepsPerQuarterMax)
    throw ConfigError("steps_per_quarter " + std::to_string(steps_per_quarter) + " is outside 1..960");
  std::vector<StepConstraint> steps;
  for (const std::string& word : durations) {
    const bool rest = !word.empty() && (word[0] == 'r' || word[0] == 'R');
    Rational d;
    try {
      d = Rational::parse(rest ? word.substr(1) : word);
    } catch (const std::exception&) {
      throw ConfigError("not a duration: '" + word + "' (expected quarters such as 1, 1/2, 3/2, or r1/2 for a rest)");
    }
    if (d <= Rational(0)) throw ConfigError("rhythm duration '" + word + "' is not positive");
    Rational n;
    try {
      n = d * Rational(steps_per_quarter);
    } catch (const std::exception&) {
      throw ConfigError("rhythm duration '" + word + "' is too long");
    }
    if (!n.is_integer())
      throw ConfigError("rhythm duration '" + word + "' is not a whole number of steps at " +
                        std::to_string(steps_per_quarter) + " steps per quarter");
    if (n.num() > 1'000'000) throw ConfigError("rhythm duration '" + word + "' is too long");
    // A note starts and then holds; a rest is silence throughout (a later step of it is not a hold, which
    // would let the note before sound on).
    steps.push_back({rest ? StepKind::rest : StepKind::onset, {}});
    for (int64_t i = 1; i < n.num(); ++i) steps.push_back({rest ? StepKind::rest : StepKind::hold, {}});
  }
  return steps;
}

Constraints parse_constraints(std::string_view text, const std::string& name) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    int line = 0, column = 0;
    line_and_column(text, e.byte, line, column);
    // nlohmann's message repeats the position ("... parse error at line 3, column 5: what"): keep the what.
    std::string message = e.what();
    const size_t colon = message.find(": ", message.find("parse error"));
    if (colon != std::string::npos) message = message.substr(colon + 2);
    throw ParseError(name, line, column, "malformed constraints JSON: " + message, "malformed JSON");
  }
  const auto fail = [&](const std::string& message) { return ConfigError(name + ": " + message); };
  if (!j.is_object()) throw fail("constraints must be a JSON object, got " + show(j));
  for (const auto& [field, value] : j.items())
    if (std::find(std::begin(kFields), std::end(kFields), field) == std::end(kFields)) {
      std::string known;
      for (std::string_view f : kFields) known += (known.empty() ? "" : ", ") + std::string(f);
      throw fail("unknown constraints field '" + field + "' (known: " + known + ")");
    }
  if (j.contains("steps") && j.contains("rhythm"))
    throw fail("constraints give both \"steps\" and \"rhythm\"; choose one (a rhythm is expanded into steps)");
  if (j.contains("key") && j.contains("pitch_classes"))
    throw fail("constraints give both \"key\" and \"pitch_classes\"; choose one");

  Constraints c;
  std::string field;
  try {
    if (j.contains(field = "steps_per_quarter")) {
      c.steps_per_quarter = int_from(j.at(field), "steps_per_quarter");
      if (c.steps_per_quarter < 1 || c.steps_per_quarter > kStepsPerQuarterMax)
        throw ConfigError("steps_per_quarter " + std::to_string(c.steps_per_quarter) + " is outside 1..960");
    }
    if (j.contains(field = "steps")) c.steps = steps_from(j.at(field));
    if (j.contains(field = "rhythm")) c.steps = rhythm_steps(rhythm_from(j.at(field)), c.steps_per_quarter);
    if (j.contains(field = "key")) {
      if (!j.at(field).is_string()) throw ConfigError("expected a key name such as \"G major\", got " + show(j.at(field)));
      c.pitch_classes = scale_pitch_classes(parse_key_name(j.at(field).get<std::string>()));
    }
    if (j.contains(field = "pitch_classes")) c.pitch_classes = pitch_class_set_from(j.at(field));
    if (j.contains(field = "range")) std::tie(c.low, c.high) = range_from(j.at(field));
    if (j.contains(field = "spans")) {
      const json& spans = j.at(field);
      if (!spans.is_array()) throw ConfigError("expected an array of spans, got " + show(spans));
      for (size_t i = 0; i < spans.size(); ++i) c.spans.push_back(span_from(spans[i], i));
    }
    if (j.contains(field = "contour")) c.contour = contour_from(j.at(field));
    if (j.contains(field = "final")) c.final_pitch_classes = pitch_class_set_from(j.at(field));
  } catch (const ConfigError& e) {
    throw fail("\"" + field + "\": " + e.what());
  } catch (const json::exception& e) {
    throw fail("\"" + field + "\": " + e.what());
  }
  try {
    c.validate();
  } catch (const ConfigError& e) {
    throw fail(e.what());
  }
  return c;
}

Constraints read_constraints_file(const std::string& path) { return parse_constraints(read_file_bytes(path), path); }

}  // namespace antiphon
