#include "tokens/internal.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <numeric>
#include <stdexcept>

namespace antiphon::tokens_detail {

std::string note_label(const Melody& melody, size_t index) {
  const Note& n = melody.notes[index];
  return "note " + std::to_string(index) + " (" + (n.is_rest() ? std::string("rest") : n.pitch->name()) + ", onset " +
         n.onset.to_string() + ", duration " + n.duration.to_string() + ")";
}

void require_contiguous(const Melody& melody, const std::string& spec) {
  Rational t(0);
  for (size_t i = 0; i < melody.notes.size(); ++i) {
    const Note& n = melody.notes[i];
    if (n.duration <= Rational(0))
      throw EncodingError(spec + " cannot represent " + note_label(melody, i) + ": the duration is not positive");
    if (n.onset != t)
      throw EncodingError(spec + " cannot represent " + note_label(melody, i) + ": it starts at " +
                          n.onset.to_string() + " but the previous note ends at " + t.to_string());
    try {
      t += n.duration;
    } catch (const std::overflow_error&) {
      throw EncodingError(spec + " cannot represent " + note_label(melody, i) + ": its end overflows exact time");
    }
  }
}

std::vector<int64_t> note_steps(const Melody& melody, int steps_per_quarter, const std::string& spec) {
  require_contiguous(melody, spec);
  std::vector<int64_t> steps;
  steps.reserve(melody.notes.size());
  const Rational spq(steps_per_quarter);
  int64_t total = 0;
  for (size_t i = 0; i < melody.notes.size(); ++i) {
    const Note& n = melody.notes[i];
    auto fail = [&](const std::string& what, const Rational& value) {
      throw EncodingError(spec + " cannot represent " + note_label(melody, i) + ": the " + what + " " +
                          value.to_string() + " is " + (value * spq).to_string() +
                          " steps, not a whole number of steps at " + std::to_string(steps_per_quarter) +
                          " steps per quarter");
    };
    Rational on, du;
    try {
      on = n.onset * spq;
      du = n.duration * spq;
    } catch (const std::overflow_error&) {
      throw EncodingError(spec + " cannot represent " + note_label(melody, i) + ": its time overflows the grid");
    }
    if (!on.is_integer()) fail("onset", n.onset);
    if (!du.is_integer()) fail("duration", n.duration);
    if (du.num() > kMaxSteps - total)
      throw EncodingError(spec + " cannot represent " + note_label(melody, i) + ": the melody is longer than " +
                          std::to_string(kMaxSteps) + " steps");
    total += du.num();
    steps.push_back(du.num());
  }
  return steps;
}

SpecParts split_spec(const std::string& spec) {
  SpecParts parts;
  parts.text = spec;
  auto fail = [&](const std::string& why) { throw ConfigError("encoding spec '" + spec + "': " + why); };
  size_t colon = spec.find(':');
  parts.name = spec.substr(0, colon);
  if (parts.name.empty()) fail("no encoding name (expected e.g. grid, events:range=mono)");
  if (colon == std::string::npos) return parts;
  std::string rest = spec.substr(colon + 1);
  if (rest.empty()) return parts;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    std::string item = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos) fail("option '" + item + "' is not key=value");
    std::string key = item.substr(0, eq);
    if (key.empty()) fail("option '" + item + "' has no key");
    for (const auto& [k, v] : parts.options)
      if (k == key) fail("key '" + key + "' given twice");
    parts.options.emplace_back(key, item.substr(eq + 1));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

bool OptionReader::has(const std::string& key) const {
  for (const auto& [k, v] : parts_.options)
    if (k == key) return true;
  return false;
}

const std::string* OptionReader::find(const std::string& key) {
  for (const auto& [k, v] : parts_.options) {
    if (k == key) {
      used_.push_back(key);
      return &v;
    }
  }
  return nullptr;
}

void OptionReader::bad_value(const std::string& key, const std::string& value, const std::string& expected) const {
  throw ConfigError("encoding spec '" + parts_.text + "': bad value '" + value + "' for " + key + ": expected " +
                    expected);
}

namespace {
bool parse_int(const std::string& text, int& out) {
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, out);
  return ec == std::errc() && ptr == last && first != last;
}
}  // namespace

bool OptionReader::take_int(const std::string& key, int& out) {
  const std::string* v = find(key);
  if (!v) return false;
  if (!parse_int(*v, out)) bad_value(key, *v, "an integer");
  return true;
}

bool OptionReader::take_bool(const std::string& key, bool& out) {
  const std::string* v = find(key);
  if (!v) return false;
  if (*v == "1" || *v == "true" || *v == "yes" || *v == "on") {
    out = true;
  } else if (*v == "0" || *v == "false" || *v == "no" || *v == "off") {
    out = false;
  } else {
    bad_value(key, *v, "1 or 0");
  }
  return true;
}

bool OptionReader::take_string(const std::string& key, std::string& out) {
  const std::string* v = find(key);
  if (!v) return false;
  out = *v;
  return true;
}

bool OptionReader::take_int_list(const std::string& key, std::vector<int>& out) {
  const std::string* v = find(key);
  if (!v) return false;
  std::vector<int> values;
  if (!v->empty()) {
    size_t start = 0;
    while (true) {
      size_t semi = v->find(';', start);
      std::string item = v->substr(start, semi == std::string::npos ? std::string::npos : semi - start);
      int x = 0;
      if (!parse_int(item, x)) bad_value(key, *v, "integers separated by ';' (e.g. 16;32)");
      values.push_back(x);
      if (semi == std::string::npos) break;
      start = semi + 1;
    }
  }
  out = std::move(values);
  return true;
}

bool OptionReader::take_duration_list(const std::string& key, std::vector<Duration>& out) {
  const std::string* v = find(key);
  if (!v) return false;
  std::vector<Duration> values;
  size_t start = 0;
  while (true) {
    size_t semi = v->find(';', start);
    std::string item = v->substr(start, semi == std::string::npos ? std::string::npos : semi - start);
    try {
      values.push_back(Rational::parse(item));
    } catch (const std::exception&) {
      bad_value(key, *v, "durations in quarters separated by ';' (e.g. 1/4;1/2;1;3/2)");
    }
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  out = std::move(values);
  return true;
}

void OptionReader::finish(const std::vector<std::string>& known) const {
  for (const auto& [k, v] : parts_.options) {
    if (std::find(used_.begin(), used_.end(), k) != used_.end()) continue;
    std::string list;
    for (const auto& name : known) list += (list.empty() ? "" : ", ") + name;
    throw ConfigError("encoding spec '" + parts_.text + "': unknown key '" + k + "' for " + parts_.name +
                      " (known: " + list + ")");
  }
}

std::string join_durations(const std::vector<Duration>& durations) {
  std::string s;
  for (const Duration& d : durations) s += (s.empty() ? "" : ";") + d.to_string();
  return s;
}

std::string join_ints(const std::vector<int>& values) {
  std::string s;
  for (int v : values) s += (s.empty() ? "" : ";") + std::to_string(v);
  return s;
}

std::vector<Duration> canonical_durations(std::vector<Duration> durations) {
  std::sort(durations.begin(), durations.end());
  durations.erase(std::unique(durations.begin(), durations.end()), durations.end());
  return durations;
}

void validate_durations(const std::vector<Duration>& durations) {
  if (durations.empty()) throw ConfigError("durations=: the duration alphabet is empty");
  if (durations.size() > kMaxDurations)
    throw ConfigError("durations: " + std::to_string(durations.size()) + " values, more than the limit of " +
                      std::to_string(kMaxDurations));
  for (const Duration& d : durations)
    if (d <= Rational(0)) throw ConfigError("durations: " + d.to_string() + " is not a positive duration");
}

std::vector<int> split_rest(const std::vector<Duration>& durations_, const Duration& d) {
  auto exact = std::lower_bound(durations_.begin(), durations_.end(), d);
  if (exact != durations_.end() && *exact == d) return {static_cast<int>(exact - durations_.begin())};
  // Fewest alphabet values summing to d (coin change over a common unit), largest first. Bounded: the
  // unit grid is capped, and beyond it no split is offered.
  constexpr int64_t kMaxUnits = 1 << 14;
  int64_t unit = d.den();
  for (const Duration& v : durations_) {
    int64_t g = std::gcd(unit, v.den());
    if (unit / g > kMaxUnits / v.den()) return {};
    unit = unit / g * v.den();
    if (unit > kMaxUnits) return {};
  }
  Rational total_units = d * Rational(unit);
  if (!total_units.is_integer() || total_units.num() > kMaxUnits) return {};
  const auto target = static_cast<size_t>(total_units.num());
  std::vector<int64_t> value(durations_.size());
  for (size_t i = 0; i < durations_.size(); ++i) value[i] = (durations_[i] * Rational(unit)).num();
  constexpr int kNone = -1;
  std::vector<int> count(target + 1, kNone), last(target + 1, kNone);
  count[0] = 0;
  for (size_t t = 1; t <= target; ++t) {
    for (size_t i = durations_.size(); i-- > 0;) {  // larger values first: ties keep the larger part
      if (value[i] > static_cast<int64_t>(t)) continue;
      size_t prev = t - static_cast<size_t>(value[i]);
      if (count[prev] == kNone) continue;
      if (count[t] == kNone || count[prev] + 1 < count[t]) {
        count[t] = count[prev] + 1;
        last[t] = static_cast<int>(i);
      }
    }
  }
  if (count[target] == kNone) return {};
  std::vector<int> parts;
  for (size_t t = target; t > 0; t -= static_cast<size_t>(value[static_cast<size_t>(last[t])]))
    parts.push_back(last[t]);
  std::sort(parts.begin(), parts.end(), std::greater<int>());
  return parts;
}

void validate_lookbacks(const std::vector<int>& lookback_distances, int binary_counter_bits) {
  if (lookback_distances.size() > 16)
    throw ConfigError("lookbacks=" + join_ints(lookback_distances) + ": at most 16 lookbacks");
  for (int d : lookback_distances)
    if (d < 1 || d > kMaxSteps)
      throw ConfigError("lookbacks=" + join_ints(lookback_distances) + ": distance " + std::to_string(d) +
                        " must be a positive number of steps");
  if (binary_counter_bits < 0 || binary_counter_bits > 30)
    throw ConfigError("bits=" + std::to_string(binary_counter_bits) + ": counter bits must be 0..30");
}

}  // namespace antiphon::tokens_detail
