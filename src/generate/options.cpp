// The option checks and small parsers of generate.h (the engine itself lives in engine*.cpp).
#include <cctype>
#include <stdexcept>

#include "antiphon/core/error.h"
#include "antiphon/generate/generate.h"

namespace antiphon {
namespace {

void check_between(int64_t value, int64_t low, int64_t high, const std::string& name) {
  if (value < low || value > high)
    throw ConfigError(name + " " + std::to_string(value) + " is outside " + std::to_string(low) + ".." +
                      std::to_string(high));
}

}  // namespace

void BeamParams::validate() const {
  check_between(beam_size, 1, 64, "beam_size");
  check_between(branch_factor, 1, 64, "branch_factor");
  check_between(steps_per_iteration, 1, 1024, "steps_per_iteration");
}

void GenerateOptions::validate() const {
  sampler.validate();
  beam.validate();
  check_between(count, 1, 1000, "count");
  check_between(rejection_tries, 0, 100000, "rejection_tries");
  check_between(estimate_samples, 0, 10000, "estimate_samples");
  if (lattice_limit < 1) throw ConfigError("lattice_limit 0 must be at least 1");
}

std::string respond_mode_name(RespondMode mode) {
  switch (mode) {
    case RespondMode::continuation: return "continuation";
    case RespondMode::answer: return "answer";
  }
  return "continuation";
}

RespondMode parse_respond_mode(const std::string& text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "continuation") return RespondMode::continuation;
  if (t == "answer") return RespondMode::answer;
  throw ConfigError("respond mode '" + text + "' is not one of continuation, answer");
}

Melody parse_note_list(const std::string& text) {
  Melody melody;  // no meter or key set: meter() and key() give the defaults, 4/4 and C major
  std::string word;
  const auto add = [&](const std::string& w) {
    const size_t colon = w.find(':');
    const std::string name = w.substr(0, colon);
    Duration duration(1);
    if (colon != std::string::npos) {
      const std::string d = w.substr(colon + 1);
      try {
        duration = Rational::parse(d);
      } catch (const std::exception&) {
        throw ConfigError("note '" + w + "': '" + d + "' is not a duration in quarters (e.g. 1, 1/2, 3/2)");
      }
      if (duration <= Rational(0)) throw ConfigError("note '" + w + "': duration " + d + " is not positive");
    }
    if (name == "r" || name == "R") {
      melody.append(std::nullopt, duration);
      return;
    }
    std::optional<Pitch> pitch;
    try {
      if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) {
        size_t used = 0;
        const int midi = std::stoi(name, &used);
        if (used == name.size() && midi >= kMidiMin && midi <= kMidiMax) pitch = Pitch::from_midi(midi);
      } else {
        pitch = Pitch::parse(name);  // keeps the spelling: Bb3 stays Bb3
      }
    } catch (const std::exception&) {
    }
    if (!pitch)
      throw ConfigError("note '" + w + "': '" + name + "' is not a pitch (expected e.g. C4, F#5, Bb3, a MIDI number, or r)");
    melody.append(pitch, duration);
  };
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) add(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) add(word);
  if (melody.notes.empty()) throw ConfigError("note list '" + text + "' has no notes (expected e.g. \"C4 D4:1/2 E4:2 r:1\")");
  return melody;
}

}  // namespace antiphon
