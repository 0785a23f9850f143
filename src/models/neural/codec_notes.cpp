// The note-level feature codec: what a note_lstm net reads of a (pitch part, duration) token sequence.
// Tokens carry no meter, so instead of the position in the bar the inputs give the next onset's place in a
// whole-note cycle (the durations so far summed, in 16ths modulo 16); the pitch class and the step from the
// previous note are spelled out so the net need not learn them from the one-hot pitch.
#include <algorithm>
#include <array>
#include <cassert>
#include <cstdlib>
#include <optional>

#include "antiphon/core/error.h"
#include "antiphon/tokens/intervals.h"
#include "antiphon/tokens/notes.h"
#include "models/neural/codec.h"

namespace antiphon::neural {
namespace {

constexpr int kMaxStep = 12;                  // steps beyond an octave share the end slots
constexpr int kStepSlots = 2 * kMaxStep + 2;  // -12..+12, then "none"
constexpr int kPitchClassSlots = 13;          // C..B, then "none"
constexpr int kOnsetSlots = 17;               // 16ths 0..15 of a whole note, then "off the grid"
constexpr int kMatchSlots = 7;                // repeat match lengths 1, 2, 3, 4, 5-6, 7-9, 10+

// Earlier occurrences of the latest symbols of a growing sequence: match[e] is the length of the longest
// common suffix of the symbols up to e and of the whole sequence, kept up to date in O(length) per symbol.
struct Matcher {
  std::vector<int> symbols;
  std::vector<int> match;  // per position e < symbols.size() - 1

  void push(int symbol) {
    const size_t n = symbols.size();
    match.resize(n);
    // Downwards, so match[e - 1] is still the previous symbol's.
    for (size_t e = n; e-- > 0;) match[e] = symbols[e] == symbol ? (e > 0 ? match[e - 1] : 0) + 1 : 0;
    symbols.push_back(symbol);
  }
  // The longest earlier occurrence that has a continuation (the most recent among equally long ones):
  // {length, the symbol after it}, or {0, 0} when the latest symbol never occurred before.
  std::pair<int, int> best() const {
    int length = 0;
    size_t from = 0;
    for (size_t e = 0; e + 1 < symbols.size(); ++e)
      if (match[e] > 0 && match[e] >= length) length = match[e], from = e;
    return {length, length > 0 ? symbols[from + 1] : 0};
  }
};

int match_bucket(int length) { return length <= 4 ? length - 1 : length <= 6 ? 4 : length <= 9 ? 5 : 6; }
int step_slot(std::optional<int> step) {
  return step ? std::clamp(*step, -kMaxStep, kMaxStep) + kMaxStep : kStepSlots - 1;
}

// What a pitch part says about the pitch: an absolute MIDI number, a step from the previous pitched note
// (interval encodings), or a rest.
struct PitchPart {
  enum class Kind { absolute, step, rest } kind = Kind::rest;
  int value = 0;
};

class NoteCodec : public Codec {
 public:
  NoteCodec(const PairEncoding& encoding, bool repeats)
      : repeats_(repeats),
        pitches_(static_cast<int>(encoding.pitch_vocab().size())),
        durations_(static_cast<int>(encoding.durations().size())),
        end_id_(encoding.end_id()) {
    const auto* intervals = dynamic_cast<const IntervalEncoding*>(&encoding);
    const auto* notes = dynamic_cast<const NoteEncoding*>(&encoding);
    if (!intervals && !notes)
      throw ConfigError("the notes inputs read the notes and intervals encodings, not " + encoding.spec());
    // Absolute pitch tokens: "0".."127" from pitch_min in the notes encoding, "@0".."@127" in intervals.
    if (notes) {
      absolute_min_ = notes->config().pitch_min;
      absolute_max_ = notes->config().pitch_max;
    }
    for (int p = 0; p < pitches_; ++p) {
      PitchPart part;
      if (p == encoding.rest_pitch_id()) {
        part.kind = PitchPart::Kind::rest;
      } else if (notes) {
        part = {PitchPart::Kind::absolute, notes->config().pitch_min + p};
      } else {
        // Interval tokens: "@60" is absolute, "+2", "-3" and "0" are steps.
        const std::string& token = encoding.pitch_vocab().token(p);
        if (token.starts_with('@')) part = {PitchPart::Kind::absolute, std::atoi(token.c_str() + 1)};
        else part = {PitchPart::Kind::step, std::atoi(token.c_str())};
      }
      parts_.push_back(part);
    }
    // A duration's length in 16ths when it is a whole number of them (else the onset leaves the grid).
    for (const Duration& d : encoding.durations()) {
      const Rational sixteenths = d * Rational(4);
      sixteenths_.push_back(sixteenths.den() == 1 ? static_cast<int>(sixteenths.num() % 16) : -1);
    }
    input_size_ = pitches_ + durations_ + kStepSlots + kPitchClassSlots + 2 + kOnsetSlots + kPitchClassSlots + 12;
    if (repeats_)
      input_size_ += (pitches_ + 1 + durations_ + kStepSlots + kMatchSlots) + (pitches_ + 1 + kStepSlots + kMatchSlots) +
                     (kStepSlots + kMatchSlots);
  }

  std::string name() const override { return repeats_ ? "notes" : "notes_basic"; }
  int input_size() const override { return input_size_; }
  int input_vocab() const override { return 0; }
  int num_labels() const override { return end_id_ + 1; }

  CodedSequence code(std::span<const int> tokens) const override {
    CodedSequence c;
    c.steps = tokens.size();
    c.features.assign(tokens.size() * static_cast<size_t>(input_size_), 0.0f);
    c.labels.reserve(tokens.size());
    Context context;
    for (size_t t = 0; t < tokens.size(); ++t) {
      check(tokens[t], t);
      write(context, std::span<float>(c.features).subspan(t * static_cast<size_t>(input_size_), static_cast<size_t>(input_size_)));
      c.labels.push_back(tokens[t]);
      advance(context, tokens[t]);
    }
    return c;
  }

  int64_t input_id(std::span<const int>) const override {
    assert(!"the notes codec has feature inputs");
    return 0;
  }

  void input_features(std::span<const int> history, std::span<float> features) const override {
    assert(features.size() == static_cast<size_t>(input_size_));
    std::fill(features.begin(), features.end(), 0.0f);
    Context context;
    for (size_t t = 0; t < history.size(); ++t) {
      check(history[t], t);
      advance(context, history[t]);
    }
    write(context, features);
  }

  void token_probs(std::span<const int>, std::span<const double> label_probs, std::span<double> token_probs) const override {
    assert(label_probs.size() == token_probs.size());
    std::copy(label_probs.begin(), label_probs.end(), token_probs.begin());
  }

 private:
  // What the inputs of the next step need of the tokens so far.
  struct Context {
    bool started = false;     // a token has been read
    int token = -1;           // the last token
    std::optional<int> step;  // its step from the pitched note before it (pitched tokens only)
    std::optional<int> midi;  // the last pitched note's MIDI number, when known
    std::optional<int> first_midi;  // the first pitched note's, when known
    std::array<int, 12> pitch_classes{};  // pitched notes so far per pitch class (where known)
    int pitch_class_count = 0;
    bool pitched_before = false;  // a pitched note has been read
    int onset = 0;            // the next onset in 16ths modulo 16, or -1 once off the grid
    // Repeats of the tokens, of their pitch parts alone, and of the steps between pitched notes.
    Matcher tokens, pitches, steps;
  };

  void check(int token, size_t position) const {
    if (token < 0 || token > end_id_)
      throw EncodingError("token " + std::to_string(position) + " has id " + std::to_string(token) +
                          ", outside the vocabulary of " + std::to_string(end_id_ + 1));
  }

  void advance(Context& c, int token) const {
    c.started = true;
    c.token = token;
    c.step.reset();
    if (token == end_id_) return;
    const int p = token / durations_;
    if (repeats_) {
      c.tokens.push(token);
      c.pitches.push(p);
    }
    const int d = token % durations_;
    const PitchPart& part = parts_[static_cast<size_t>(p)];
    if (part.kind == PitchPart::Kind::absolute) {
      if (c.midi) c.step = part.value - *c.midi;
      c.midi = part.value;
    } else if (part.kind == PitchPart::Kind::step) {
      if (c.pitched_before) c.step = part.value;
      if (c.midi) c.midi = *c.midi + part.value;
    }
    if (part.kind != PitchPart::Kind::rest) c.pitched_before = true;
    if (part.kind != PitchPart::Kind::rest && c.midi) {
      if (!c.first_midi) c.first_midi = c.midi;
      ++c.pitch_classes[static_cast<size_t>((*c.midi % 12 + 12) % 12)];
      ++c.pitch_class_count;
    }
    if (repeats_ && c.step) c.steps.push(*c.step);
    const int length = sixteenths_[static_cast<size_t>(d)];
    c.onset = c.onset < 0 || length < 0 ? -1 : (c.onset + length) % 16;
  }

  // Layout: the last pitched note's pitch as an absolute pitch token, and the rest token when the last token
  // was a rest [P] (the note_lstm net's interval head reads the first P - 1), duration [D], step [25 + none], pitch class [12 + none], rest, start, onset [16 + off],
  // the last pitch's interval class above the first pitch [12 + none] (the first note is often the tonic or
  // the fifth: a hint of the key, which tokens do not carry), the share of each pitch class so far [12].
  void write(const Context& c, std::span<float> f) const {
    size_t at = 0;
    const bool note = c.started && c.token != end_id_;
    const bool rest = note && parts_[static_cast<size_t>(c.token / durations_)].kind == PitchPart::Kind::rest;
    if (c.midi) {
      const int id = absolute_id(*c.midi);
      if (id >= 0) f[at + static_cast<size_t>(id)] = 1;
    }
    if (rest) f[at + static_cast<size_t>(pitches_ - 1)] = 1;
    if (note) f[at + static_cast<size_t>(pitches_ + c.token % durations_)] = 1;
    at += static_cast<size_t>(pitches_ + durations_);
    f[at + static_cast<size_t>(step_slot(c.step))] = 1;
    at += kStepSlots;
    f[at + static_cast<size_t>(c.midi ? ((*c.midi % 12) + 12) % 12 : kPitchClassSlots - 1)] = 1;
    at += kPitchClassSlots;
    if (rest) f[at] = 1;
    if (!c.started) f[at + 1] = 1;
    at += 2;
    f[at + static_cast<size_t>(c.onset < 0 ? kOnsetSlots - 1 : c.onset)] = 1;
    at += kOnsetSlots;
    f[at + static_cast<size_t>(c.midi && c.first_midi ? ((*c.midi - *c.first_midi) % 12 + 12) % 12 : kPitchClassSlots - 1)] = 1;
    at += kPitchClassSlots;
    for (size_t pc = 0; pc < 12; ++pc)
      if (c.pitch_class_count > 0)
        f[at + pc] = static_cast<float>(c.pitch_classes[pc]) / static_cast<float>(c.pitch_class_count);
    at += 12;
    if (repeats_) write_repeat(c, f.subspan(at));
    else assert(at == f.size());
  }

  // What the latest notes continued with where they occurred before, as a short-term model's guesses: the
  // continuation of the longest earlier occurrence (the most recent among equally long ones) of
  // - the latest tokens: its pitch part [P + none], duration [D], step from the last pitched note [25 + none]
  //   and the length of the match [1, 2, 3, 4, 5-6, 7-9, 10+];
  // - the latest pitch parts (rhythm aside): its pitch part [P + none], step [25 + none], length [7];
  // - the latest steps between pitched notes (a motif again at another pitch): its step [25 + none], length [7].
  void write_repeat(const Context& c, std::span<float> f) const {
    const size_t p_count = static_cast<size_t>(pitches_), d_count = static_cast<size_t>(durations_);
    size_t at = 0;
    auto pitch_block = [&](int p, bool found) {
      f[at + (found ? static_cast<size_t>(p) : p_count)] = 1;
      at += p_count + 1;
    };
    auto step_of = [&](int p) -> std::optional<int> {
      const PitchPart& part = parts_[static_cast<size_t>(p)];
      if (part.kind == PitchPart::Kind::absolute && c.midi) return part.value - *c.midi;
      if (part.kind == PitchPart::Kind::step) return part.value;
      return std::nullopt;
    };
    auto step_block = [&](std::optional<int> step) {
      f[at + static_cast<size_t>(step_slot(step))] = 1;
      at += kStepSlots;
    };
    auto length_block = [&](int length) {
      if (length > 0) f[at + static_cast<size_t>(match_bucket(length))] = 1;
      at += kMatchSlots;
    };
    const auto [token_length, token] = c.tokens.best();
    pitch_block(token / durations_, token_length > 0);
    if (token_length > 0) f[at + static_cast<size_t>(token % durations_)] = 1;
    at += d_count;
    step_block(token_length > 0 ? step_of(token / durations_) : std::nullopt);
    length_block(token_length);
    const auto [pitch_length, pitch] = c.pitches.best();
    pitch_block(pitch, pitch_length > 0);
    step_block(pitch_length > 0 ? step_of(pitch) : std::nullopt);
    length_block(pitch_length);
    const auto [step_length, step] = c.steps.best();
    step_block(step_length > 0 ? std::optional<int>(step) : std::nullopt);
    length_block(step_length);
    assert(at == f.size());
  }

  // The pitch token of an absolute MIDI pitch, or -1 when the encoding has none for it.
  int absolute_id(int midi) const { return midi >= absolute_min_ && midi <= absolute_max_ ? midi - absolute_min_ : -1; }

  bool repeats_;
  int absolute_min_ = 0;
  int absolute_max_ = 127;
  int pitches_;
  int durations_;
  int end_id_;
  int input_size_ = 0;
  std::vector<PitchPart> parts_;  // per pitch id
  std::vector<int> sixteenths_;   // per duration id: its length in 16ths modulo 16, or -1 off the grid
};

}  // namespace

std::unique_ptr<Codec> make_note_codec(const PairEncoding& encoding, bool repeats) {
  return std::make_unique<NoteCodec>(encoding, repeats);
}

}  // namespace antiphon::neural
