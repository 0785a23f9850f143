#include "antiphon/core/transform.h"

#include <array>
#include <cmath>
#include <stdexcept>

namespace antiphon {
namespace {

// Krumhansl & Kessler (1982) probe-tone profiles.
constexpr std::array<double, 12> kMajorProfile = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09,
                                                  2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
constexpr std::array<double, 12> kMinorProfile = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53,
                                                  2.54, 4.75, 3.98, 2.69, 3.34, 3.17};

double correlation(const std::array<double, 12>& x, const std::array<double, 12>& profile, int shift) {
  double mx = 0, my = 0;
  for (int i = 0; i < 12; ++i) {
    mx += x[i];
    my += profile[i];
  }
  mx /= 12;
  my /= 12;
  double sxy = 0, sxx = 0, syy = 0;
  for (int i = 0; i < 12; ++i) {
    double a = x[(i + shift) % 12] - mx;
    double b = profile[i] - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  if (sxx == 0 || syy == 0) return 0;
  return sxy / std::sqrt(sxx * syy);
}

int mod(int a, int m) { return ((a % m) + m) % m; }

}  // namespace

Melody transpose(const Melody& melody, const Interval& by) {
  Melody out = melody;
  for (size_t i = 0; i < out.notes.size(); ++i) {
    Note& n = out.notes[i];
    if (n.is_rest()) continue;
    int target = n.pitch->midi + by.semitones;
    if (target < kMidiMin || target > kMidiMax)
      throw std::out_of_range("transposing by " + std::to_string(by.semitones) + " semitones moves note " +
                              std::to_string(i) + " (" + n.pitch->name() + ") outside MIDI 0..127");
    n.pitch = n.pitch->transposed(by);
  }
  for (auto& k : out.keys) {
    int fifths = k.value.fifths;
    // Each semitone step moves the signature by 7 fifths (mod 12); choose the spelling the interval asks.
    Pitch tonic{60 + k.value.tonic_pitch_class(), k.value.tonic_letter(), k.value.tonic_alter()};
    Pitch new_tonic = tonic.transposed(by);
    try {
      Key nk = Key::from_tonic(new_tonic.letter, new_tonic.alter, k.value.mode);
      nk.estimated = k.value.estimated;
      k.value = nk;
    } catch (const std::invalid_argument&) {
      // Enharmonic respelling when the signature would exceed 7 accidentals.
      int f = mod(fifths + 7 * by.semitones, 12);
      if (f > 6) f -= 12;
      k.value.fifths = f;
    }
  }
  return out;
}

Melody transpose(const Melody& melody, int semitones) { return transpose(melody, Interval::from_semitones(semitones)); }

int semitones_to_c(const Melody& melody) {
  Key key = melody.keys.empty() ? estimate_key(melody) : melody.keys.front().value;
  // The ionian tonic of the signature is 7*fifths mod 12; move it to C.
  int shift = mod(-7 * key.fifths, 12);
  if (shift > 5) shift -= 12;
  return shift;
}

Melody transpose_to_c(const Melody& melody) {
  int shift = semitones_to_c(melody);
  Melody out = transpose(melody, shift);
  if (out.keys.empty()) {
    Key k = estimate_key(out);
    out.keys.push_back({Rational(0), k});
  }
  return out;
}

std::vector<Melody> all_transpositions(const Melody& melody, int midi_min, int midi_max) {
  std::vector<Melody> out;
  auto range = pitch_range(melody);
  for (int s = -5; s <= 6; ++s) {
    if (range && (range->first + s < midi_min || range->second + s > midi_max)) continue;
    out.push_back(s == 0 ? melody : transpose(melody, s));
  }
  return out;
}

std::vector<double> key_correlations(const Melody& melody) {
  std::array<double, 12> hist{};
  for (const Note& n : melody.notes)
    if (!n.is_rest()) hist[n.pitch->pitch_class()] += n.duration.to_double();
  std::vector<double> r(24);
  for (int t = 0; t < 12; ++t) {
    r[t] = correlation(hist, kMajorProfile, t);
    r[12 + t] = correlation(hist, kMinorProfile, t);
  }
  return r;
}

Key estimate_key(const Melody& melody) {
  std::vector<double> r = key_correlations(melody);
  int best = 0;
  for (int i = 1; i < 24; ++i)
    if (r[i] > r[best]) best = i;
  int tonic = best % 12;
  Mode mode = best < 12 ? Mode::major : Mode::minor;
  // Spell the tonic with the signature of fewer accidentals.
  Key k;
  int best_abs = 99;
  for (int f = -7; f <= 7; ++f) {
    Key c{f, mode, true};
    if (c.tonic_pitch_class() == tonic && std::abs(f) < best_abs) {
      k = c;
      best_abs = std::abs(f);
    }
  }
  return k;
}

}  // namespace antiphon
