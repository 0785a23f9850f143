#pragma once
// Model specs: "family:key=value,key=value" (e.g. "ppm:order=star,escape=C,stm=1", "markov:order=2",
// "hmm:states=16"); a bare family name takes that family's defaults. Values may not contain ',' or '=';
// list values separate their items with '+' ("viewpoints=cpitch+cpint*dur", '*' linking viewpoints).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "antiphon/core/error.h"

namespace antiphon {

class ModelSpec {
 public:
  // Throws ConfigError naming the part that does not parse (empty family, "key" without '=', a repeated key).
  static ModelSpec parse(std::string_view text);
  ModelSpec() = default;
  ModelSpec(std::string family, std::vector<std::pair<std::string, std::string>> options);

  const std::string& family() const { return family_; }
  const std::vector<std::pair<std::string, std::string>>& options() const { return options_; }
  bool has(std::string_view key) const;
  std::optional<std::string> get(std::string_view key) const;
  void set(std::string key, std::string value);  // replaces or appends
  void erase(std::string_view key);
  std::string to_string() const;  // "family:k=v,..." (just "family" without options)

 private:
  std::string family_;
  std::vector<std::pair<std::string, std::string>> options_;
};

// Reads a family's options from a spec, marking each key it reads; finish() throws ConfigError naming every
// key that no reader asked for ("unknown option 'ordr' for ppm; known: order, escape, ...").
// Typed getters throw ConfigError naming the key and the bad value ("ppm: order=abc is not an integer").
class SpecReader {
 public:
  explicit SpecReader(const ModelSpec& spec) : spec_(spec) {}
  std::string text(std::string_view key, std::string fallback);
  // One of the allowed values (compared case-sensitively); the message lists them.
  std::string choice(std::string_view key, std::string fallback, const std::vector<std::string>& allowed);
  int64_t integer(std::string_view key, int64_t fallback, int64_t min, int64_t max);
  double real(std::string_view key, double fallback, double min, double max);
  bool flag(std::string_view key, bool fallback);  // 1/0, true/false, yes/no, on/off
  // Items separated by '+'; an empty item is an error.
  std::vector<std::string> list(std::string_view key, std::vector<std::string> fallback);
  void finish() const;
  const ModelSpec& spec() const { return spec_; }

 private:
  const ModelSpec& spec_;
  std::vector<std::string> known_;
};

}  // namespace antiphon
