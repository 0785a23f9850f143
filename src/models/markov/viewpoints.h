#pragma once
// Viewpoints (Conklin & Witten 1995; Pearce 2005 ch. 5): functions from a melody's events so far to a value
// of the last event (chromatic pitch, interval, duration, ...), undefined where the function does not apply;
// linked viewpoints (a*b) take the tuple of their parts' values. Private to src/models (the ppm family).
//
// The encoding's token fixes the "predicted" attributes of an event (the pitch, and for `pitchdur` the
// duration); the others (onset, inter-onset interval, key, bar position, phrase marks, and the duration for
// `pitch`) come from a source melody when there is one, and a viewpoint that needs an unknown one is undefined.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "antiphon/core/melody.h"
#include "antiphon/models/model_file.h"
#include "antiphon/tokens/encoding.h"
#include "antiphon/tokens/target.h"

namespace antiphon::ppm {

// An event as the viewpoints see it.
struct ViewEvent {
  int token = -1;               // the encoding's token (-1 when not known, e.g. a source melody's event)
  NoteEvent note;               // pitch from the token; the rest from the source (see the *_known flags)
  bool duration_known = false;  // note.duration holds the duration
  bool context_known = false;   // onset, ioi, key, bar position and phrase marks come from a source melody
  bool metered = false;         // a regular meter at the onset (bar positions mean something)
};

// The events of a melody's pitched notes with every attribute known (token -1).
std::vector<ViewEvent> view_events(const Melody& melody);

// What the encoding predicts: its tokens, and for the target encodings each token's pitch (and duration).
struct BasicAlphabet {
  enum class Kind { tokens, pitch, pitch_duration };
  Kind kind = Kind::tokens;
  std::string encoding_name;             // "pitch", "grid", ... (the encoding spec up to ':')
  int size = 0;                          // the encoding's vocabulary size
  std::vector<int> token_pitch;          // per token (target encodings)
  std::vector<Duration> token_duration;  // per token (pitchdur)
  std::vector<int> pitches;              // the distinct pitches (target encodings), sorted
  std::vector<Duration> durations;       // the distinct durations (pitchdur), sorted

  static BasicAlphabet of(const Encoding& encoding);
  bool is_target() const { return kind != Kind::tokens; }
  // The event of `token`: its pitch (and duration) from the token, everything else from `source` when given.
  ViewEvent event(int token, const ViewEvent* source) const;
};

// The basic viewpoint functions that linked viewpoints are made of.
enum class Primitive : uint8_t {
  token,
  cpitch,
  cpitch_class,
  cpint,
  cpint_size,
  cpcint,
  contour,
  cpintfref,
  cpintfip,
  cpintfiph,
  cpintfib,
  thrfiph,
  thrbar,
  dur,
  durratio,
  ioi,
  posinbar,
  fib,
  fiph,
  liph,
};
std::string primitive_name(Primitive p);
std::optional<Primitive> parse_primitive(const std::string& name);
const std::vector<Primitive>& all_primitives();

// Whether a primitive's value depends on what the encoding predicts (the token), so that the candidate
// tokens of one event can take different values; the others are fixed by the context.
bool is_predicted(Primitive p, const BasicAlphabet& basic);
// Whether the encoding can derive the primitive at all (other encodings than pitch/pitchdur: only token).
bool is_available(Primitive p, const BasicAlphabet& basic);
// Every value a predicted primitive can take for events of this alphabet (cpint: every difference of two
// alphabet pitches; cpintfref: 0..11), sorted.
std::vector<Rational> reachable_values(Primitive p, const BasicAlphabet& basic);

inline constexpr size_t kMaxLinked = 4;

// A viewpoint's value: one exact number per linked part.
struct ViewpointValue {
  std::array<Rational, kMaxLinked> parts{};
  uint8_t size = 0;
  friend bool operator==(const ViewpointValue&, const ViewpointValue&) = default;
  friend auto operator<=>(const ViewpointValue&, const ViewpointValue&) = default;
  std::string to_string() const;  // "3", "(2 1/2)"
};
struct ViewpointValueHash {
  size_t operator()(const ViewpointValue& v) const;
};

class Viewpoint {
 public:
  // "cpint", "cpint*dur"; throws ConfigError naming an unknown or repeated part, or too many parts.
  static Viewpoint parse(const std::string& text);
  const std::string& name() const { return name_; }
  const std::vector<Primitive>& parts() const { return parts_; }
  // The value of `current` after `history` (the events before it); nullopt where undefined.
  std::optional<ViewpointValue> value(std::span<const ViewEvent> history, const ViewEvent& current) const;

 private:
  std::string name_;
  std::vector<Primitive> parts_;
};

// The value of one primitive (nullopt where undefined).
std::optional<Rational> primitive_value(Primitive p, std::span<const ViewEvent> history, const ViewEvent& current);

// A viewpoint's values numbered 0..size-1 (sorted), the symbols of its PPM tries.
class ViewpointAlphabet {
 public:
  ViewpointAlphabet() = default;
  explicit ViewpointAlphabet(std::vector<ViewpointValue> sorted_unique_values);
  // The values seen in training, plus every combination of reachable values of the predicted parts with
  // each combination of the other parts seen in training, so that every candidate token of an event whose
  // context was seen has a symbol. Throws ConfigError when the alphabet would exceed kMaxAlphabet.
  static ViewpointAlphabet build(const Viewpoint& viewpoint, const std::vector<ViewpointValue>& training_values,
                                 const BasicAlphabet& basic);
  static constexpr size_t kMaxAlphabet = 65536;

  int symbol(const ViewpointValue& value) const;  // -1 when absent
  const ViewpointValue& value(int symbol) const;
  size_t size() const { return values_.size(); }
  const std::vector<ViewpointValue>& values() const { return values_; }

  void save(ModelWriter& out) const;
  static ViewpointAlphabet load(ModelReader& in);  // fails on unsorted, repeated or malformed values

 private:
  std::vector<ViewpointValue> values_;
  std::unordered_map<ViewpointValue, int, ViewpointValueHash> index_;
};

}  // namespace antiphon::ppm
