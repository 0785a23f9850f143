#include "antiphon/models/spec.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace antiphon {

namespace {

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) --b;
  return std::string(s.substr(a, b - a));
}

}  // namespace

ModelSpec::ModelSpec(std::string family, std::vector<std::pair<std::string, std::string>> options)
    : family_(std::move(family)), options_(std::move(options)) {}

ModelSpec ModelSpec::parse(std::string_view text) {
  ModelSpec spec;
  const size_t colon = text.find(':');
  spec.family_ = trim(text.substr(0, colon));
  if (spec.family_.empty()) throw ConfigError("model spec '" + std::string(text) + "': the family name is missing");
  for (char c : spec.family_)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      throw ConfigError("model spec '" + std::string(text) + "': '" + spec.family_ + "' is not a family name");
  if (colon == std::string_view::npos) return spec;
  const std::string_view rest = text.substr(colon + 1);
  if (trim(rest).empty()) return spec;  // "family:" is the bare family
  size_t start = 0;
  while (true) {
    const size_t comma = rest.find(',', start);
    const std::string part = trim(rest.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (part.empty()) throw ConfigError("model spec '" + std::string(text) + "': an empty option between commas");
    const size_t eq = part.find('=');
    if (eq == std::string::npos)
      throw ConfigError("model spec '" + std::string(text) + "': option '" + part + "' has no '=value'");
    std::string key = trim(std::string_view(part).substr(0, eq));
    std::string value = trim(std::string_view(part).substr(eq + 1));
    if (key.empty()) throw ConfigError("model spec '" + std::string(text) + "': option '" + part + "' has no key");
    if (value.find('=') != std::string::npos)
      throw ConfigError("model spec '" + std::string(text) + "': option '" + part + "' has more than one '='");
    if (spec.has(key)) throw ConfigError("model spec '" + std::string(text) + "': option '" + key + "' is given twice");
    spec.options_.emplace_back(std::move(key), std::move(value));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return spec;
}

bool ModelSpec::has(std::string_view key) const { return get(key).has_value(); }

std::optional<std::string> ModelSpec::get(std::string_view key) const {
  for (const auto& [k, v] : options_)
    if (k == key) return v;
  return std::nullopt;
}

void ModelSpec::set(std::string key, std::string value) {
  for (auto& [k, v] : options_)
    if (k == key) {
      v = std::move(value);
      return;
    }
  options_.emplace_back(std::move(key), std::move(value));
}

void ModelSpec::erase(std::string_view key) {
  std::erase_if(options_, [&](const auto& kv) { return kv.first == key; });
}

std::string ModelSpec::to_string() const {
  std::string s = family_;
  for (size_t i = 0; i < options_.size(); ++i) s += (i ? "," : ":") + options_[i].first + "=" + options_[i].second;
  return s;
}

// SpecReader ------------------------------------------------------------------------------------------------

std::string SpecReader::text(std::string_view key, std::string fallback) {
  known_.emplace_back(key);
  auto v = spec_.get(key);
  return v ? *v : fallback;
}

std::string SpecReader::choice(std::string_view key, std::string fallback, const std::vector<std::string>& allowed) {
  std::string v = text(key, fallback);
  if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  throw ConfigError(spec_.family() + ": " + std::string(key) + "=" + v + " is not one of " + list);
}

int64_t SpecReader::integer(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  known_.emplace_back(key);
  auto v = spec_.get(key);
  if (!v) return fallback;
  int64_t x = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc() || p != v->data() + v->size())
    throw ConfigError(spec_.family() + ": " + std::string(key) + "=" + *v + " is not an integer");
  if (x < min || x > max)
    throw ConfigError(spec_.family() + ": " + std::string(key) + "=" + *v + " is outside " + std::to_string(min) +
                      ".." + std::to_string(max));
  return x;
}

double SpecReader::real(std::string_view key, double fallback, double min, double max) {
  known_.emplace_back(key);
  auto v = spec_.get(key);
  if (!v) return fallback;
  double x = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc() || p != v->data() + v->size() || !std::isfinite(x))
    throw ConfigError(spec_.family() + ": " + std::string(key) + "=" + *v + " is not a number");
  if (x < min || x > max)
    throw ConfigError(spec_.family() + ": " + std::string(key) + "=" + *v + " is outside " + std::to_string(min) +
                      ".." + std::to_string(max));
  return x;
}

bool SpecReader::flag(std::string_view key, bool fallback) {
  known_.emplace_back(key);
  auto v = spec_.get(key);
  if (!v) return fallback;
  if (*v == "1" || *v == "true" || *v == "yes" || *v == "on") return true;
  if (*v == "0" || *v == "false" || *v == "no" || *v == "off") return false;
  throw ConfigError(spec_.family() + ": " + std::string(key) + "=" + *v + " is not a flag (1/0, true/false, yes/no, on/off)");
}

std::vector<std::string> SpecReader::list(std::string_view key, std::vector<std::string> fallback) {
  known_.emplace_back(key);
  auto v = spec_.get(key);
  if (!v) return fallback;
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t plus = v->find('+', start);
    std::string item = v->substr(start, plus == std::string::npos ? std::string::npos : plus - start);
    if (item.empty())
      throw ConfigError(spec_.family() + ": " + std::string(key) + "=" + *v + " has an empty item (items are separated by '+')");
    out.push_back(item);
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  return out;
}

void SpecReader::finish() const {
  std::string unknown;
  for (const auto& [k, v] : spec_.options())
    if (std::find(known_.begin(), known_.end(), k) == known_.end()) unknown += (unknown.empty() ? "'" : ", '") + k + "'";
  if (unknown.empty()) return;
  std::vector<std::string> seen;
  std::string known;
  for (const auto& k : known_)
    if (std::find(seen.begin(), seen.end(), k) == seen.end()) {
      seen.push_back(k);
      known += (known.empty() ? "" : ", ") + k;
    }
  throw ConfigError(spec_.family() + ": unknown option " + unknown + " (known: " + (known.empty() ? "none" : known) + ")");
}

}  // namespace antiphon
