#include "antiphon/core/pitch.h"

#include <cctype>
#include <stdexcept>

namespace antiphon {
namespace {
constexpr int kLetterPc[7] = {0, 2, 4, 5, 7, 9, 11};
constexpr char kLetterName[7] = {'C', 'D', 'E', 'F', 'G', 'A', 'B'};
int mod(int a, int m) { return ((a % m) + m) % m; }
}  // namespace

int letter_pitch_class(Letter letter) { return kLetterPc[static_cast<int>(letter)]; }

Interval Interval::from_semitones(int semitones) {
  static constexpr int kSteps[12] = {0, 1, 1, 2, 2, 3, 3, 4, 5, 5, 6, 6};  // P1 m2 M2 m3 M3 P4 A4 P5 ...
  int octaves = (semitones >= 0) ? semitones / 12 : -((-semitones + 11) / 12);
  int rem = semitones - 12 * octaves;  // 0..11
  return Interval{semitones, kSteps[rem] + 7 * octaves};
}

Pitch Pitch::from_midi(int midi, bool prefer_sharps) {
  static constexpr int kSharpLetter[12] = {0, 0, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6};
  static constexpr int kSharpAlter[12] = {0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0};
  static constexpr int kFlatLetter[12] = {0, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6, 6};
  static constexpr int kFlatAlter[12] = {0, -1, 0, -1, 0, 0, -1, 0, -1, 0, -1, 0};
  int pc = mod(midi, 12);
  Pitch p;
  p.midi = midi;
  p.letter = static_cast<Letter>(prefer_sharps ? kSharpLetter[pc] : kFlatLetter[pc]);
  p.alter = prefer_sharps ? kSharpAlter[pc] : kFlatAlter[pc];
  return p;
}

Pitch Pitch::from_spelling(Letter letter, int alter, int octave) {
  int midi = 12 * (octave + 1) + kLetterPc[static_cast<int>(letter)] + alter;
  if (midi < kMidiMin || midi > kMidiMax)
    throw std::invalid_argument("pitch outside MIDI range 0..127 (MIDI " + std::to_string(midi) + ")");
  if (alter < -2 || alter > 2) throw std::invalid_argument("alteration beyond double sharp/flat");
  return Pitch{midi, letter, alter};
}

Pitch Pitch::parse(const std::string& text) {
  auto bad = [&] { return std::invalid_argument("not a pitch: '" + text + "' (expected e.g. C4, F#3, Bb5)"); };
  if (text.empty()) throw bad();
  char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  int li = -1;
  for (int i = 0; i < 7; ++i)
    if (kLetterName[i] == c) li = i;
  if (li < 0) throw bad();
  size_t i = 1;
  int alter = 0;
  while (i < text.size() && (text[i] == '#' || text[i] == 'b')) {
    alter += text[i] == '#' ? 1 : -1;
    ++i;
  }
  if (i >= text.size()) throw bad();
  size_t used = 0;
  int octave = 0;
  try {
    octave = std::stoi(text.substr(i), &used);
  } catch (const std::logic_error&) {
    throw bad();
  }
  if (i + used != text.size() || alter < -2 || alter > 2) throw bad();
  try {
    return from_spelling(static_cast<Letter>(li), alter, octave);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("pitch '" + text + "': " + e.what());
  }
}

int Pitch::octave() const {
  // midi = 12*(octave+1) + letter_pc + alter
  return (midi - kLetterPc[static_cast<int>(letter)] - alter) / 12 - 1;
}

std::string Pitch::name() const {
  std::string s(1, kLetterName[static_cast<int>(letter)]);
  for (int a = 0; a < alter; ++a) s += '#';
  for (int a = 0; a > alter; --a) s += 'b';
  return s + std::to_string(octave());
}

Pitch Pitch::transposed(const Interval& by) const {
  int step = static_cast<int>(letter) + by.steps;
  Letter new_letter = static_cast<Letter>(mod(step, 7));
  int new_midi = midi + by.semitones;
  // alteration = actual pitch class minus the natural letter's pitch class, wrapped to [-6, 5]
  int diff = mod(new_midi - kLetterPc[static_cast<int>(new_letter)], 12);
  if (diff > 6) diff -= 12;
  Pitch p{new_midi, new_letter, diff};
  if (diff < -2 || diff > 2) p = from_midi(new_midi, by.semitones >= 0);  // spelling would be absurd
  return p;
}

}  // namespace antiphon
