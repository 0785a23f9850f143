// Humdrum **kern writer: one spine, reference records, meter/key/tempo interpretations, barlines numbered
// from the meter and pickup, notes split at barlines and into tied kern values.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "antiphon/formats/kern.h"
#include "formats/kern/kern_common.h"

namespace antiphon {
namespace {

// One kern duration: reciprocal text ("4", "12", "0", "00") and dots.
struct KernValue {
  std::string reciprocal;
  int dots = 0;
};

int count_trailing_zeros(int64_t v) {
  int n = 0;
  while (v % 2 == 0) {
    v /= 2;
    ++n;
  }
  return n;
}

// Splits a positive duration into kern values that add up to it exactly, largest first, merging runs of
// halving values into dotted values. With q = 2^s * o (o odd) the denominator of the duration in quarters,
// the values used are 4/(o * 2^t) quarters (for o = 1 also breve, longa and maxima), so a triplet eighth is
// "12", a dotted quarter "4.", 5/4 quarters "4" tied to "16". Returns false when the values would need a
// reciprocal over kern::kMaxReciprocal or more than `max_values` pieces.
bool kern_values(const Rational& d, int max_values, std::vector<KernValue>& out) {
  out.clear();
  const int64_t p = d.num();
  const int64_t q = d.den();
  const int s = count_trailing_zeros(q);
  const int64_t o = q >> s;
  // Smallest value used has exponent -s: reciprocal 4q.
  if (q > kern::kMaxReciprocal / 4) return false;
  const int e_max = o == 1 ? 5 : 2;  // maxima (32 quarters) for plain values, 4/o otherwise
  // d = (p / 2^s) / o: in units of 1/o quarters it is the dyadic number p / 2^s, written in binary.
  const int shift = s + e_max;  // bit index of a value of exponent e_max
  std::vector<int> exponents;
  int64_t big = shift < 63 ? (p >> shift) : 0;
  if (big > max_values) return false;
  exponents.assign(static_cast<size_t>(big), e_max);
  for (int bit = std::min(shift, 62) - 1; bit >= 0; --bit)
    if ((p >> bit) & 1) exponents.push_back(bit - s);
  if (static_cast<int64_t>(exponents.size()) > max_values) return false;
  auto reciprocal = [&](int e) -> std::string {
    if (e >= 3) return std::string(static_cast<size_t>(e - 2), '0');  // 0 = breve, 00 = longa, 000 = maxima
    return std::to_string(o << (2 - e));
  };
  for (size_t i = 0; i < exponents.size();) {
    size_t j = i + 1;
    while (j < exponents.size() && exponents[j] == exponents[j - 1] - 1 &&
           static_cast<int>(j - i) <= kern::kMaxWriterDots)
      ++j;
    out.push_back(KernValue{reciprocal(exponents[i]), static_cast<int>(j - i - 1)});
    i = j;
  }
  return true;
}

std::string one_line(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c == '\n' || c == '\r') c = ' ';
  return r;
}

std::string signature_text(int fifths) {
  static constexpr std::string_view kSharps = "fcgdaeb";
  static constexpr std::string_view kFlats = "beadgcf";
  std::string s = "*k[";
  for (int i = 0; i < fifths && i < 7; ++i) (s += kSharps[static_cast<size_t>(i)]) += '#';
  for (int i = 0; i < -fifths && i < 7; ++i) (s += kFlats[static_cast<size_t>(i)]) += '-';
  return s + "]";
}

std::string key_text(const Key& key) {
  static constexpr char kLetters[7] = {'C', 'D', 'E', 'F', 'G', 'A', 'B'};
  char letter = kLetters[static_cast<int>(key.tonic_letter())];
  if (kern::mode_is_lower_case(key.mode)) letter = static_cast<char>(letter | 0x20);
  std::string s = "*";
  s += letter;
  int alter = key.tonic_alter();
  s.append(static_cast<size_t>(std::abs(alter)), alter > 0 ? '#' : '-');
  s += ':';
  s += kern::mode_suffix(key.mode);
  return s;
}

std::string meter_text(const Meter& m) {
  switch (m.kind) {
    case MeterKind::irregular:
      return "*MX";
    case MeterKind::free:
      return "*MZ";
    case MeterKind::regular:
      break;
  }
  return "*M" + std::to_string(m.numerator) + "/" + std::to_string(m.denominator);
}

std::string tempo_text(double qpm) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, qpm);
  return "*MM" + std::string(buf, ec == std::errc() ? end : buf);
}

std::string pitch_text(const Note& n, size_t index) {
  if (n.is_rest()) return "r";
  const Pitch& p = *n.pitch;
  if (p.alter < -2 || p.alter > 2)
    throw EncodingError("kern cannot write note " + std::to_string(index) + " (" + p.name() +
                        "): alteration beyond a double sharp or flat");
  static constexpr char kLetters[7] = {'c', 'd', 'e', 'f', 'g', 'a', 'b'};
  char lower = kLetters[static_cast<int>(p.letter)];
  int octave = p.octave();
  std::string s = octave >= 4 ? std::string(static_cast<size_t>(octave - 3), lower)
                              : std::string(static_cast<size_t>(4 - octave), static_cast<char>(lower - 32));
  s.append(static_cast<size_t>(std::abs(p.alter)), p.alter > 0 ? '#' : '-');
  return s;
}

std::string note_name(const Note& n, size_t index) {
  return "note " + std::to_string(index) + " (" + (n.is_rest() ? std::string("rest") : n.pitch->name()) + " at " +
         n.onset.to_string() + ", duration " + n.duration.to_string() + ")";
}

// Onsets of barlines: from the pickup (or 0) in bars of the meter in force, restarting at each meter change;
// none while the meter is free or irregular.
std::vector<Rational> barline_onsets(const Melody& m, const Rational& end) {
  std::vector<Rational> bars;
  const size_t max_bars = (m.notes.size() + 1) * static_cast<size_t>(kern::kMaxTiedValues);
  const Meter& first = m.meter_at(0);
  Rational pos(0);
  // The barline after a pickup is written even when the meter turns free there: it is what tells the pickup.
  bool pickup_bar = first.kind == MeterKind::regular && m.pickup > Rational(0) && m.pickup < first.bar_length();
  if (pickup_bar) pos = m.pickup;
  size_t next_change = 0;
  while (pos < end) {
    while (next_change < m.meters.size() && m.meters[next_change].onset <= pos) ++next_change;
    std::optional<Rational> change;
    if (next_change < m.meters.size()) change = m.meters[next_change].onset;
    static constexpr Meter kDefault{};
    const Meter& meter = next_change > 0 ? m.meters[next_change - 1].value : kDefault;  // == m.meter_at(pos)
    Rational next;
    if (pickup_bar && meter.kind != MeterKind::regular) bars.push_back(pos);
    pickup_bar = false;
    if (meter.kind == MeterKind::regular) {
      if (bars.size() > max_bars)
        throw EncodingError("kern cannot write this melody: it would need more than " + std::to_string(max_bars) +
                            " barlines");
      bars.push_back(pos);
      next = pos + meter.bar_length();
      if (change && *change < next) next = *change;
    } else if (change) {
      next = *change;
    } else {
      break;
    }
    pos = next;
  }
  return bars;
}

}  // namespace

std::string write_kern(const Melody& melody) {
  if (std::string problem = melody.check(); !problem.empty())
    throw EncodingError("kern cannot write this melody: " + problem);
  const Rational end = melody.length();
  std::string out;
  out.reserve(64 + melody.notes.size() * 8);

  if (!melody.title.empty()) out += "!!!OTL: " + one_line(melody.title) + "\n";
  for (const auto& [key, value] : melody.metadata) {
    std::string k = one_line(key);
    for (char& c : k)
      if (c == ':' || c == ' ' || c == '\t' || c == '!') c = '_';
    if (k.empty()) continue;
    out += "!!!" + k + ": " + one_line(value) + "\n";
  }
  out += "**kern\n";
  if (!melody.meters.empty()) out += meter_text(melody.meter_at(0)) + "\n";
  if (!melody.keys.empty()) {
    const Key& k = melody.key_at(0);
    out += signature_text(k.fifths) + "\n";
    if (!k.estimated) out += key_text(k) + "\n";
  }
  out += tempo_text(melody.tempo_qpm) + "\n";

  // Every onset where something is written between notes: barlines, meter and key changes.
  std::vector<Rational> bars = barline_onsets(melody, end);
  std::vector<Rational> cuts = bars;
  for (const auto& t : melody.meters)
    if (t.onset > Rational(0)) cuts.push_back(t.onset);
  for (const auto& t : melody.keys)
    if (t.onset > Rational(0)) cuts.push_back(t.onset);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

  size_t bar_i = 0, meter_i = 0, key_i = 0, cut_i = 0;
  int bar_number = 0;
  while (meter_i < melody.meters.size() && melody.meters[meter_i].onset <= Rational(0)) ++meter_i;
  while (key_i < melody.keys.size() && melody.keys[key_i].onset <= Rational(0)) ++key_i;
  auto emit_events = [&](const Rational& t) {
    if (bar_i < bars.size() && bars[bar_i] == t) {
      out += "=" + std::to_string(++bar_number) + "\n";
      ++bar_i;
    }
    while (meter_i < melody.meters.size() && melody.meters[meter_i].onset == t) {
      if (meter_i + 1 == melody.meters.size() || melody.meters[meter_i + 1].onset != t)
        out += meter_text(melody.meters[meter_i].value) + "\n";
      ++meter_i;
    }
    while (key_i < melody.keys.size() && melody.keys[key_i].onset == t) {
      if (key_i + 1 == melody.keys.size() || melody.keys[key_i + 1].onset != t) {
        const Key& k = melody.keys[key_i].value;
        out += signature_text(k.fifths) + "\n";
        if (!k.estimated) out += key_text(k) + "\n";
      }
      ++key_i;
    }
  };

  std::vector<Rational> pieces;
  std::vector<KernValue> values;
  std::vector<std::pair<Rational, KernValue>> tokens;  // (start, value) of every tied token of one note
  for (size_t index = 0; index < melody.notes.size(); ++index) {
    const Note& n = melody.notes[index];
    const std::string pitch = pitch_text(n, index);
    // Pieces between the cuts inside the note.
    while (cut_i < cuts.size() && cuts[cut_i] < n.onset) ++cut_i;
    tokens.clear();
    Rational start = n.onset;
    size_t c = cut_i;
    if (c < cuts.size() && cuts[c] == start) ++c;
    while (start < n.end()) {
      Rational stop = (c < cuts.size() && cuts[c] < n.end()) ? cuts[c] : n.end();
      if (c < cuts.size() && cuts[c] < n.end()) ++c;
      int room = kern::kMaxTiedValues - static_cast<int>(tokens.size());
      if (room <= 0 || !kern_values(stop - start, room, values))
        throw EncodingError("kern cannot write " + note_name(n, index) + ": it needs a reciprocal duration over " +
                            std::to_string(kern::kMaxReciprocal) + " or more than " +
                            std::to_string(kern::kMaxTiedValues) + " tied values");
      Rational at = start;
      for (const KernValue& v : values) {
        tokens.emplace_back(at, v);
        Rational len = v.reciprocal[0] == '0' ? Rational(int64_t{4} << v.reciprocal.size())
                                              : Rational(4, std::stoll(v.reciprocal));
        Rational add = len;
        for (int k = 0; k < v.dots; ++k) {
          add = add / Rational(2);
          len += add;
        }
        at += len;
      }
      start = stop;
    }
    for (size_t k = 0; k < tokens.size(); ++k) {
      emit_events(tokens[k].first);
      std::string tok;
      if (k == 0 && n.phrase_begin) tok += '{';
      if (tokens.size() > 1 && k == 0) tok += '[';
      tok += tokens[k].second.reciprocal;
      tok.append(static_cast<size_t>(tokens[k].second.dots), '.');
      tok += pitch;
      if (tokens.size() > 1 && k > 0) tok += k + 1 == tokens.size() ? ']' : '_';
      if (k + 1 == tokens.size() && n.phrase_end) tok += '}';
      out += tok;
      out += '\n';
    }
  }
  // Changes of meter or key at the very end (after the last note).
  bar_i = bars.size();
  emit_events(end);
  out += "==\n*-\n";
  return out;
}

}  // namespace antiphon
