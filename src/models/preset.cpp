#include "antiphon/models/preset.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "antiphon/core/error.h"
#include "antiphon/models/registry.h"

namespace antiphon {

std::string preset_dir() {
  if (const char* env = std::getenv("ANTIPHON_CONFIGS"); env && *env) return env;
  return ANTIPHON_CONFIG_DIR;
}

ModelPreset read_preset(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot read the preset");
  std::stringstream text;
  text << in.rdbuf();
  ModelPreset p;
  p.name = std::filesystem::path(path).stem().string();
  p.file = path;
  try {
    const nlohmann::json j = nlohmann::json::parse(text.str());
    if (!j.is_object()) throw ConfigError(path + ": a preset is a JSON object");
    for (const auto& [key, value] : j.items())
      if (key != "description" && key != "spec" && key != "encoding")
        throw ConfigError(path + ": unknown preset field '" + key + "' (known: description, spec, encoding)");
    if (!j.contains("spec") || !j.at("spec").is_string() || j.at("spec").get<std::string>().empty())
      throw ConfigError(path + ": the preset has no \"spec\" string");
    p.spec = j.at("spec").get<std::string>();
    p.description = j.value("description", "");
    p.encoding = j.value("encoding", "");
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path + ": not a valid preset: " + e.what());
  }
  ModelSpec::parse(p.spec);  // a spec that does not parse is the preset's error, found here
  return p;
}

std::vector<ModelPreset> list_presets(const std::string& dir) {
  std::vector<ModelPreset> out;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".json") out.push_back(read_preset(entry.path().string()));
  std::sort(out.begin(), out.end(), [](const ModelPreset& a, const ModelPreset& b) { return a.name < b.name; });
  return out;
}

ModelPreset resolve_model_argument(const std::string& text, const std::string& dir) {
  std::error_code ec;
  if (text.size() > 5 && text.ends_with(".json") && std::filesystem::is_regular_file(text, ec)) return read_preset(text);
  const bool word = text.find_first_of(":=,/") == std::string::npos;
  if (word) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / (text + ".json");
    if (std::filesystem::is_regular_file(candidate, ec)) return read_preset(candidate.string());
    if (!find_model_family(text)) {
      std::string known;
      for (const ModelPreset& p : list_presets(dir)) known += (known.empty() ? "" : ", ") + p.name;
      std::string families;
      for (const ModelFamily& f : model_families()) families += (families.empty() ? "" : ", ") + f.name;
      throw ConfigError("--model " + text + " is neither a preset (" + (known.empty() ? "none in " + dir : known) +
                        ") nor a model family (" + families + ")");
    }
  }
  ModelPreset p;
  p.name = text;
  p.spec = text;
  return p;
}

}  // namespace antiphon
