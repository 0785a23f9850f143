#include "antiphon/core/melody.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <stdexcept>

namespace antiphon {
namespace {
int mod(int a, int m) { return ((a % m) + m) % m; }
constexpr Meter kDefaultMeter{};
constexpr Key kDefaultKey{};
}  // namespace

Duration Meter::bar_length() const {
  if (kind != MeterKind::regular) return Duration(0);
  return Duration(numerator * 4, denominator);
}

std::string Meter::name() const {
  switch (kind) {
    case MeterKind::irregular: return "irregular";
    case MeterKind::free: return "free";
    case MeterKind::regular: break;
  }
  return std::to_string(numerator) + "/" + std::to_string(denominator);
}

std::string mode_name(Mode mode) {
  switch (mode) {
    case Mode::major: return "major";
    case Mode::minor: return "minor";
    case Mode::ionian: return "ionian";
    case Mode::dorian: return "dorian";
    case Mode::phrygian: return "phrygian";
    case Mode::lydian: return "lydian";
    case Mode::mixolydian: return "mixolydian";
    case Mode::aeolian: return "aeolian";
    case Mode::locrian: return "locrian";
  }
  return "major";
}

std::optional<Mode> parse_mode(const std::string& text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t.empty() || t == "maj" || t == "major") return Mode::major;
  if (t == "m" || t == "min" || t == "minor") return Mode::minor;
  if (t.size() >= 3) {
    std::string stem = t.substr(0, 3);
    if (stem == "ion") return Mode::ionian;
    if (stem == "dor") return Mode::dorian;
    if (stem == "phr") return Mode::phrygian;
    if (stem == "lyd") return Mode::lydian;
    if (stem == "mix") return Mode::mixolydian;
    if (stem == "aeo") return Mode::aeolian;
    if (stem == "loc") return Mode::locrian;
    if (stem == "maj") return Mode::major;
    if (stem == "min") return Mode::minor;
  }
  return std::nullopt;
}

int mode_offset(Mode mode) {
  switch (mode) {
    case Mode::major:
    case Mode::ionian: return 0;
    case Mode::dorian: return 2;
    case Mode::phrygian: return 4;
    case Mode::lydian: return 5;
    case Mode::mixolydian: return 7;
    case Mode::minor:
    case Mode::aeolian: return 9;
    case Mode::locrian: return 11;
  }
  return 0;
}

int mode_letter_offset(Mode mode) {
  switch (mode) {
    case Mode::major:
    case Mode::ionian: return 0;
    case Mode::dorian: return 1;
    case Mode::phrygian: return 2;
    case Mode::lydian: return 3;
    case Mode::mixolydian: return 4;
    case Mode::minor:
    case Mode::aeolian: return 5;
    case Mode::locrian: return 6;
  }
  return 0;
}

int Key::tonic_pitch_class() const { return mod(7 * fifths + mode_offset(mode), 12); }
Letter Key::tonic_letter() const { return static_cast<Letter>(mod(4 * fifths + mode_letter_offset(mode), 7)); }
int Key::tonic_alter() const {
  int diff = mod(tonic_pitch_class() - letter_pitch_class(tonic_letter()), 12);
  return diff > 6 ? diff - 12 : diff;
}

std::string Key::name() const {
  static constexpr char kNames[7] = {'C', 'D', 'E', 'F', 'G', 'A', 'B'};
  std::string s(1, kNames[static_cast<int>(tonic_letter())]);
  int a = tonic_alter();
  for (int i = 0; i < a; ++i) s += '#';
  for (int i = 0; i > a; --i) s += 'b';
  return s + " " + mode_name(mode);
}

Key Key::from_tonic(Letter letter, int alter, Mode mode) {
  for (int f = -7; f <= 7; ++f) {
    Key k{f, mode, false};
    if (k.tonic_letter() == letter && k.tonic_alter() == alter) return k;
  }
  throw std::invalid_argument("key needs more than 7 sharps or flats");
}

int Key::signature_alter(Letter letter) const {
  // Order of sharps: F C G D A E B; flats the reverse.
  static constexpr Letter kSharps[7] = {Letter::F, Letter::C, Letter::G, Letter::D,
                                        Letter::A, Letter::E, Letter::B};
  for (int i = 0; i < fifths && i < 7; ++i)
    if (kSharps[i] == letter) return 1;
  for (int i = 0; i < -fifths && i < 7; ++i)
    if (kSharps[6 - i] == letter) return -1;
  return 0;
}

size_t Melody::pitched_count() const {
  return static_cast<size_t>(std::count_if(notes.begin(), notes.end(), [](const Note& n) { return !n.is_rest(); }));
}

const Meter& Melody::meter_at(const Rational& onset) const {
  const Meter* m = &kDefaultMeter;
  for (const auto& t : meters) {
    if (t.onset > onset) break;
    m = &t.value;
  }
  return *m;
}

const Key& Melody::key_at(const Rational& onset) const {
  const Key* k = &kDefaultKey;
  for (const auto& t : keys) {
    if (t.onset > onset) break;
    k = &t.value;
  }
  return *k;
}

std::optional<std::string> Melody::metadata_value(const std::string& name) const {
  for (const auto& [k, v] : metadata)
    if (k == name) return v;
  return std::nullopt;
}

void Melody::append(std::optional<Pitch> pitch, Duration duration) {
  assert(duration > Rational(0));
  Note n;
  n.onset = length();
  n.duration = duration;
  n.pitch = pitch;
  notes.push_back(n);
}

void Melody::normalize() {
  std::vector<Note> out;
  out.reserve(notes.size());
  Rational t(0);
  for (const Note& n : notes) {
    if (n.duration <= Rational(0)) throw std::logic_error("note with non-positive duration");
    if (n.is_rest() && !out.empty() && out.back().is_rest()) {
      out.back().duration += n.duration;
      out.back().phrase_end = out.back().phrase_end || n.phrase_end;
    } else {
      out.push_back(n);
      out.back().onset = t;
    }
    t += n.duration;
  }
  notes = std::move(out);
}

std::string Melody::check() const {
  Rational t(0);
  for (size_t i = 0; i < notes.size(); ++i) {
    if (notes[i].duration <= Rational(0)) return "note " + std::to_string(i) + " has non-positive duration";
    if (notes[i].onset != t)
      return "note " + std::to_string(i) + " starts at " + notes[i].onset.to_string() + " but the previous ends at " +
             t.to_string();
    t += notes[i].duration;
  }
  for (size_t i = 1; i < meters.size(); ++i)
    if (meters[i].onset < meters[i - 1].onset) return "meters not sorted by onset";
  for (size_t i = 1; i < keys.size(); ++i)
    if (keys[i].onset < keys[i - 1].onset) return "keys not sorted by onset";
  return "";
}

std::optional<std::pair<int, int>> pitch_range(const Melody& melody) {
  std::optional<std::pair<int, int>> r;
  for (const Note& n : melody.notes) {
    if (n.is_rest()) continue;
    int p = n.pitch->midi;
    if (!r) r = std::make_pair(p, p);
    r->first = std::min(r->first, p);
    r->second = std::max(r->second, p);
  }
  return r;
}

}  // namespace antiphon
