#include "antiphon/models/registry.h"

#include "models/families.h"

namespace antiphon {

namespace {

std::vector<ModelFamily>& families() {
  static std::vector<ModelFamily> list = [] {
    std::vector<ModelFamily> v;
    v.push_back(markov_family());
    v.push_back(mixed_markov_family());
    v.push_back(ppm_family());
    v.push_back(hmm_family());
    return v;
  }();
  return list;
}

}  // namespace

const std::vector<ModelFamily>& model_families() { return families(); }

const ModelFamily* find_model_family(const std::string& name) {
  for (const auto& f : families())
    if (f.name == name) return &f;
  return nullptr;
}

void add_model_family(ModelFamily family) {
  for (auto& f : families())
    if (f.name == family.name) {
      f = std::move(family);
      return;
    }
  families().push_back(std::move(family));
}

const ModelFamily& require_model_family(const std::string& name) {
  if (const ModelFamily* family = find_model_family(name)) return *family;
  std::string known;
  for (const auto& f : families()) known += (known.empty() ? "" : ", ") + f.name;
  throw ConfigError("unknown model family '" + name + "' (known: " + known + ")");
}

ModelPtr train_model(const ModelSpec& spec, const TrainingData& data) {
  const ModelFamily& family = require_model_family(spec.family());
  if (!data.melodies) throw ConfigError(spec.family() + ": no training melodies");
  return family.train(spec, data);
}

std::shared_ptr<const Encoding> training_encoding(const TrainingData& data) {
  if (data.encoding) return data.encoding;
  if (!data.melodies) throw ConfigError("no training melodies");
  return std::make_shared<TargetEncoding>(TargetConfig::from_melodies(TargetKind::pitch, *data.melodies));
}

std::string melody_label(const Melody& m) {
  std::string where = m.source_file.empty() ? (m.title.empty() ? "a melody" : "'" + m.title + "'") : m.source_file;
  if (!m.source_file.empty() && m.source_line > 1) where += ":" + std::to_string(m.source_line);
  return where;
}

std::vector<int> encode_melody(const Encoding& encoding, const Melody& m) {
  try {
    return encoding.encode(m);
  } catch (const EncodingError& e) {
    throw EncodingError(melody_label(m) + ": " + e.what());
  }
}

std::vector<std::vector<int>> encode_melodies(const Encoding& encoding, const std::vector<Melody>& melodies) {
  std::vector<std::vector<int>> out;
  out.reserve(melodies.size());
  for (const Melody& m : melodies) out.push_back(encode_melody(encoding, m));
  return out;
}

}  // namespace antiphon
