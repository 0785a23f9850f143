#pragma once
// Helpers shared by the encodings (private to src/tokens): spec parsing, grid steps, note descriptions.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/core/melody.h"
#include "antiphon/tokens/encoding.h"
#include "antiphon/tokens/lookback.h"

namespace antiphon::tokens_detail {

// Longest melody (in grid steps) an event or grid encoding accepts, so hostile input cannot make an
// encoding allocate without bound.
constexpr int64_t kMaxSteps = 10'000'000;
// Largest steps-per-quarter a grid accepts.
constexpr int kMaxStepsPerQuarter = 960;

// "note 3 (D4, onset 5/6, duration 1/3)" or "note 2 (rest, onset 1, duration 1/2)".
std::string note_label(const Melody& melody, size_t index);

// Throws EncodingError "<spec> cannot encode the melody: <why>" when the notes are not back to back
// from onset 0 (Melody::check).
void require_contiguous(const Melody& melody, const std::string& spec);

// The melody's notes as whole numbers of steps at `steps_per_quarter`; throws EncodingError naming the
// first note whose onset or duration falls between steps, and when the melody is longer than kMaxSteps.
std::vector<int64_t> note_steps(const Melody& melody, int steps_per_quarter, const std::string& spec);

// A parsed spec "name[:key=value,...]".
struct SpecParts {
  std::string text;  // the whole spec, for messages
  std::string name;
  std::vector<std::pair<std::string, std::string>> options;  // in written order, keys unique
};

// Splits a spec; throws ConfigError on an empty name, an option without '=', an empty key or a repeated key.
SpecParts split_spec(const std::string& spec);

// Reads typed options from a spec, remembering which keys were used; finish() rejects the rest.
class OptionReader {
 public:
  explicit OptionReader(const SpecParts& parts) : parts_(parts) {}
  bool has(const std::string& key) const;
  // Each take_* returns false (leaving `out` alone) when the key is absent; throws ConfigError naming the
  // key and value when the value does not parse.
  bool take_int(const std::string& key, int& out);
  bool take_bool(const std::string& key, bool& out);
  bool take_string(const std::string& key, std::string& out);
  bool take_int_list(const std::string& key, std::vector<int>& out);            // "16;32"
  bool take_duration_list(const std::string& key, std::vector<Duration>& out);  // "1/4;1/2;1;3/2"
  // Throws ConfigError naming the first key not taken, with the known keys.
  void finish(const std::vector<std::string>& known) const;
  [[noreturn]] void bad_value(const std::string& key, const std::string& value, const std::string& expected) const;

 private:
  const std::string* find(const std::string& key);
  const SpecParts& parts_;
  std::vector<std::string> used_;
};

// Runs config.validate() and prefixes its ConfigError with the spec text.
template <typename Config>
void validate_for_spec(const Config& config, const SpecParts& parts) {
  try {
    config.validate();
  } catch (const ConfigError& e) {
    throw ConfigError("encoding spec '" + parts.text + "': " + e.what());
  }
}

// "1/4;1/2;1"
std::string join_durations(const std::vector<Duration>& durations);
std::string join_ints(const std::vector<int>& values);

// Checks the lookback distances and counter width shared by the lookback and key-melody features;
// throws ConfigError naming the spec key (lookbacks=, bits=).
void validate_lookbacks(const std::vector<int>& lookback_distances, int binary_counter_bits);

// Magenta's encode(): the inputs at positions 0..n-2 paired with the labels at 1..n-1, for any features
// class with inputs(events, position) and label(events, position).
template <typename Features>
FeatureSequence feature_sequence(const Features& features, const std::vector<int>& events) {
  FeatureSequence out;
  if (events.size() < 2) return out;
  out.inputs.reserve(events.size() - 1);
  out.labels.reserve(events.size() - 1);
  for (size_t p = 0; p + 1 < events.size(); ++p) {
    out.inputs.push_back(features.inputs(events, p));
    out.labels.push_back(features.label(events, p + 1));
  }
  return out;
}

// The fewest values of a sorted duration alphabet that sum to d, as indices, largest first; empty when no
// such split exists (or the search would need a grid finer than 2^14 units over d).
std::vector<int> split_rest(const std::vector<Duration>& sorted_durations, const Duration& d);

// Sorted ascending without duplicates.
std::vector<Duration> canonical_durations(std::vector<Duration> durations);
// Throws ConfigError "durations=...: why" on an empty list, a non-positive value or more than kMaxDurations.
void validate_durations(const std::vector<Duration>& durations);
constexpr size_t kMaxDurations = 1024;

}  // namespace antiphon::tokens_detail
