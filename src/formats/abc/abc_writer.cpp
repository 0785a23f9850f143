// ABC 2.1 writer: one tune (X:1) with L:1/8, bar lines from the meter and pickup, notes split at bar lines
// with ties, accidentals relative to the key signature and the bar, triplets as (3 groups and other tuplets
// (5, 7, 9) as (p:q:r groups.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "antiphon/formats/abc.h"
#include "formats/abc/abc_internal.h"

namespace antiphon {
namespace {

using abc::Signature;

constexpr size_t kLineWidth = 72;
constexpr int kBarsPerLine = 4;
constexpr size_t kMaxTupletGroup = 12;  // notes under one (p:q:r
constexpr int64_t kMaxTuplet = 9;       // the largest p written (ABC 2.1 defines tuplets of 2 to 9 notes)

std::string escape_value(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\n' || c == '\r')
      out += ' ';
    else if (c == '%')
      out += "\\%";
    else
      out += c;
  }
  return out;
}

std::string meter_text(const Meter& m) {
  if (m.kind != MeterKind::regular) return "none";
  return std::to_string(m.numerator) + "/" + std::to_string(m.denominator);
}

std::string key_text(const Key& k) {
  if (k.estimated) return "none";  // the reader estimates it again from the notes
  static constexpr char kLetters[7] = {'C', 'D', 'E', 'F', 'G', 'A', 'B'};
  std::string s(1, kLetters[static_cast<int>(k.tonic_letter())]);
  int a = k.tonic_alter();
  for (int i = 0; i < a; ++i) s += '#';
  for (int i = 0; i > a; --i) s += 'b';
  // in the order of enum Mode: major, minor, ionian, dorian, phrygian, lydian, mixolydian, aeolian, locrian
  static constexpr const char* kModeSuffix[9] = {"", "m", "ion", "dor", "phr", "lyd", "mix", "aeo", "loc"};
  return s + kModeSuffix[static_cast<int>(k.mode)];
}

Signature signature_for(const Key& k) { return k.estimated ? Signature{} : abc::signature_of(k); }

std::string length_text(const Rational& w) {
  std::string s;
  if (w.num() != 1) s += std::to_string(w.num());
  if (w.den() == 2)
    s += "/";
  else if (w.den() != 1)
    s += "/" + std::to_string(w.den());
  return s;
}

std::string tempo_text(double qpm) {
  if (!(qpm > 0) || !std::isfinite(qpm)) qpm = 120;
  for (int den : {4, 8, 16, 32}) {
    double bpm = qpm * den / 4.0;
    if (bpm < 1e7 && std::abs(bpm - std::round(bpm)) < 1e-9)
      return "1/" + std::to_string(den) + "=" + std::to_string(static_cast<int64_t>(std::llround(bpm)));
  }
  return "1/4=" + std::to_string(static_cast<int64_t>(std::llround(std::max(1.0, std::min(qpm, 1e7)))));
}

// A piece of a note between two bar lines or field changes.
struct Piece {
  std::optional<Pitch> pitch;
  Rational written;  // length in units of L as written (inside a tuplet: before the q/p)
  int tuplet = 0;    // p of the (p:q:r tuplet the piece is written in (3 for triplets); 0: none
  bool tie = false;  // tied to the next piece of the same note
};

// The q of a (p:q:r tuplet: p notes in the time of q, q the largest power of two below p.
int64_t tuplet_q(int64_t p) {
  int64_t q = 1;
  while (q * 2 < p) q *= 2;
  return q;
}

struct Item {
  enum class Kind { piece, bar, field } kind = Kind::piece;
  Piece piece;
  std::string text;        // field text "[M:3/4]"
  std::optional<Key> key;  // for a key field
};

class Writer {
 public:
  explicit Writer(const Melody& m) : m_(m) {}

  std::string run() {
    if (std::string err = m_.check(); !err.empty()) throw EncodingError("cannot write ABC: " + err);
    std::string out = header();
    if (!m_.notes.empty()) out += body();
    return out;
  }

 private:
  std::string header() const {
    std::string h = "X:1\n";
    if (!m_.title.empty()) h += "T:" + escape_value(m_.title) + "\n";
    bool title_skipped = false;
    for (const auto& [name, value] : m_.metadata) {
      char letter = abc::metadata_letter(name);
      if (letter == 0 || letter == 'P' || letter == 'I') continue;
      if (letter == 'T' && !title_skipped && value == m_.title) {
        title_skipped = true;
        continue;
      }
      // "N: :x" rather than "N::x", which players may take for a repeat sign
      h += std::string(1, letter) + ":" + (value.starts_with(':') ? " " : "") + escape_value(value) + "\n";
    }
    h += "M:" + meter_text(m_.meter_at(0)) + "\n";
    h += "L:1/8\n";
    h += "Q:" + tempo_text(m_.tempo_qpm) + "\n";
    h += "K:" + key_text(m_.key_at(0)) + "\n";
    return h;
  }

  // Bar line onsets inside (0, length): from the pickup and each meter's bar length.
  std::vector<Rational> bar_lines() const {
    std::vector<Rational> bars;
    const Rational end = m_.length();
    std::vector<Timed<Meter>> meters = m_.meters;
    if (meters.empty() || meters.front().onset > Rational(0)) meters.insert(meters.begin(), Timed<Meter>{0, Meter{}});
    for (size_t k = 0; k < meters.size(); ++k) {
      const Rational t0 = meters[k].onset;
      const Rational t1 = k + 1 < meters.size() ? meters[k + 1].onset : end;
      const Meter& meter = meters[k].value;
      if (meter.kind != MeterKind::regular || t0 >= end) continue;
      const Rational bar = meter.bar_length();
      // a meter change off the previous meter's bar grid closes the bar there (not before the first bar
      // line, where it would read back as a pickup)
      if (t0 > Rational(0) && !bars.empty() && bars.back() < t0) bars.push_back(t0);
      Rational b = t0 + bar;
      if (k == 0 && m_.pickup > Rational(0) && m_.pickup < bar) b = m_.pickup;
      for (; b < t1 && b < end; b += bar)
        if (b > Rational(0)) bars.push_back(b);
    }
    return bars;
  }

  Piece make_piece(size_t index, const Note& n, const Rational& duration, bool tie) const {
    Piece p;
    p.pitch = n.pitch;
    p.tie = tie;
    Rational u = duration * 2;  // in units of L:1/8
    int64_t odd = u.den();
    while (odd % 2 == 0) odd /= 2;
    if (odd == 1) {
      p.written = u;
    } else if (odd <= kMaxTuplet) {
      // a tuplet value: 3 notes in the time of 2, 5 in the time of 4, ...
      p.written = u * Rational(odd, tuplet_q(odd));
      p.tuplet = static_cast<int>(odd);
    } else {
      throw EncodingError("cannot write note " + std::to_string(index) + " (" +
                          (n.pitch ? n.pitch->name() : std::string("rest")) + " at onset " + n.onset.to_string() +
                          ", duration " + duration.to_string() + " quarters) in ABC: only binary lengths and tuplets " +
                          "of up to " + std::to_string(kMaxTuplet) + " notes can be written");
    }
    if (n.pitch && (n.pitch->alter < -2 || n.pitch->alter > 2))
      throw EncodingError("cannot write note " + std::to_string(index) + " (" + n.pitch->name() +
                          "): alteration beyond a double sharp or flat");
    return p;
  }

  std::vector<Item> items() const {
    std::vector<Rational> bars = bar_lines();
    struct Change {
      Rational onset;
      std::string text;
      std::optional<Key> key;
    };
    std::vector<Change> changes;
    // meter and key changes after onset 0, merged in onset order (meter first at the same onset)
    size_t mi = 0, ki = 0;
    while (mi < m_.meters.size() || ki < m_.keys.size()) {
      bool take_meter = ki >= m_.keys.size() || (mi < m_.meters.size() && m_.meters[mi].onset <= m_.keys[ki].onset);
      if (take_meter) {
        const auto& t = m_.meters[mi++];
        if (t.onset > Rational(0)) changes.push_back(Change{t.onset, "[M:" + meter_text(t.value) + "]", std::nullopt});
      } else {
        const auto& t = m_.keys[ki++];
        if (t.onset > Rational(0)) changes.push_back(Change{t.onset, "[K:" + key_text(t.value) + "]", t.value});
      }
    }
    std::vector<Rational> cuts;
    {
      size_t b = 0, c = 0;
      while (b < bars.size() || c < changes.size()) {
        Rational next =
            (c >= changes.size() || (b < bars.size() && bars[b] <= changes[c].onset)) ? bars[b++] : changes[c++].onset;
        if (cuts.empty() || cuts.back() != next) cuts.push_back(next);
      }
    }
    std::vector<Item> out;
    size_t bi = 0, chi = 0, ci = 0;
    auto boundaries_at = [&](const Rational& t) {
      while (bi < bars.size() && bars[bi] <= t) {
        out.push_back(Item{Item::Kind::bar, {}, "", std::nullopt});
        ++bi;
      }
      while (chi < changes.size() && changes[chi].onset <= t) {
        out.push_back(Item{Item::Kind::field, {}, changes[chi].text, changes[chi].key});
        ++chi;
      }
    };
    for (size_t k = 0; k < m_.notes.size(); ++k) {
      const Note& n = m_.notes[k];
      Rational t = n.onset;
      const Rational e = n.end();
      while (t < e) {
        boundaries_at(t);
        while (ci < cuts.size() && cuts[ci] <= t) ++ci;
        Rational piece_end = (ci < cuts.size() && cuts[ci] < e) ? cuts[ci] : e;
        bool tie = n.pitch.has_value() && piece_end < e;
        out.push_back(Item{Item::Kind::piece, make_piece(k, n, piece_end - t, tie), "", std::nullopt});
        t = piece_end;
      }
    }
    // changes at or after the end
    while (chi < changes.size()) {
      out.push_back(Item{Item::Kind::field, {}, changes[chi].text, changes[chi].key});
      ++chi;
    }
    return out;
  }

  std::string note_text(const Piece& p) {
    std::string s;
    if (!p.pitch) {
      s = "z";
    } else {
      const Pitch& pitch = *p.pitch;
      int letter = static_cast<int>(pitch.letter);
      int octave = pitch.octave();
      size_t slot = static_cast<size_t>((octave + 2) * 7 + letter);
      int expected =
          slot < accidentals_.size() && accidentals_[slot] != kNone ? accidentals_[slot] : signature_[letter];
      if (pitch.alter != expected) {
        static constexpr const char* kAccidental[5] = {"__", "_", "=", "^", "^^"};  // alter -2..2
        s += kAccidental[pitch.alter + 2];
        if (slot < accidentals_.size()) accidentals_[slot] = static_cast<int8_t>(pitch.alter);
      }
      static constexpr char kLetters[7] = {'C', 'D', 'E', 'F', 'G', 'A', 'B'};
      char c = kLetters[letter];
      if (octave >= 5) {
        s += static_cast<char>(c - 'A' + 'a');
        for (int o = 5; o < octave; ++o) s += '\'';
      } else {
        s += c;
        for (int o = octave; o < 4; ++o) s += ',';
      }
    }
    s += length_text(p.written);
    if (p.tie) s += '-';
    return s;
  }

  // Appends a token, after a space when one is pending, breaking the line when it would grow too long.
  void put(std::string& out, const std::string& token) {
    if (line_length_ > 0 && line_length_ + token.size() + (space_ ? 1 : 0) > kLineWidth) {
      out += '\n';
      line_length_ = 0;
      bars_on_line_ = 0;
    }
    if (space_ && line_length_ > 0) {
      out += ' ';
      ++line_length_;
    }
    space_ = false;
    out += token;
    line_length_ += token.size();
  }

  std::string body() {
    std::vector<Item> list = items();
    signature_ = signature_for(m_.key_at(0));
    accidentals_.fill(kNone);
    std::string out;
    for (size_t i = 0; i < list.size();) {
      const Item& it = list[i];
      if (it.kind == Item::Kind::bar) {
        space_ = true;
        put(out, "|");
        accidentals_.fill(kNone);
        if (++bars_on_line_ >= kBarsPerLine) {
          out += '\n';
          line_length_ = 0;
          bars_on_line_ = 0;
        } else {
          space_ = true;
        }
        ++i;
      } else if (it.kind == Item::Kind::field) {
        put(out, it.text);
        if (it.key) {  // a key change clears the bar's accidentals (as the reader does); a meter change does not
          signature_ = signature_for(*it.key);
          accidentals_.fill(kNone);
        }
        ++i;
      } else if (it.piece.tuplet == 0) {
        put(out, note_text(it.piece));
        ++i;
      } else {
        // consecutive pieces of the same tuplet kind under one (p:q:r
        const int p = it.piece.tuplet;
        size_t j = i;
        while (j < list.size() && j - i < kMaxTupletGroup && list[j].kind == Item::Kind::piece &&
               list[j].piece.tuplet == p)
          ++j;
        size_t r = j - i;
        std::string group = (p == 3 && r == 3)
                                ? "(3"
                                : "(" + std::to_string(p) + ":" + std::to_string(tuplet_q(p)) + ":" + std::to_string(r);
        for (size_t k = i; k < j; ++k) group += note_text(list[k].piece);
        put(out, group);
        i = j;
      }
    }
    space_ = true;
    put(out, "|]");
    out += '\n';
    return out;
  }

  static constexpr int8_t kNone = 99;
  const Melody& m_;
  Signature signature_{};
  std::array<int8_t, 13 * 7> accidentals_{};
  size_t line_length_ = 0;
  int bars_on_line_ = 0;
  bool space_ = false;  // a space goes before the next token
};

}  // namespace

std::string write_abc(const Melody& melody) { return Writer(melody).run(); }

}  // namespace antiphon
