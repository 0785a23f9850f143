#pragma once
// A tiny model family for testing the shared machinery (model files, registry, evaluation harness):
// add-one unigram counts over the encoding's tokens, P(t) = (count(t) + 1) / (total + V).
#include <cmath>
#include <memory>

#include "antiphon/models/model_file.h"
#include "antiphon/models/registry.h"

namespace antiphon::testing {

class UnigramModel : public SequenceModel {
 public:
  UnigramModel(ModelInfo info, std::shared_ptr<const Encoding> encoding, std::vector<uint32_t> counts)
      : SequenceModel(std::move(info), std::move(encoding)), counts_(std::move(counts)) {
    for (uint32_t c : counts_) total_ += c;
  }
  std::unique_ptr<ModelState> start(const Melody*) const override { return std::make_unique<State>(); }
  void predict(const ModelState&, std::span<double> probs) const override {
    const double denom = static_cast<double>(total_ + counts_.size());
    for (size_t i = 0; i < counts_.size(); ++i) probs[i] = (counts_[i] + 1.0) / denom;
  }
  std::vector<std::pair<std::string, std::string>> config() const override { return {{"smoothing", "add-one"}}; }
  void save_payload(ModelWriter& out) const override { out.u32s(counts_); }
  const std::vector<uint32_t>& counts() const { return counts_; }

 protected:
  void advance_state(ModelState&, int) const override {}

 private:
  struct State : ModelState {
    std::unique_ptr<ModelState> clone() const override { return std::make_unique<State>(*this); }
  };
  std::vector<uint32_t> counts_;
  uint64_t total_ = 0;
};

inline ModelFamily unigram_family() {
  ModelFamily f;
  f.name = "unigram";
  f.summary = "add-one unigram (tests only)";
  f.train = [](const ModelSpec& spec, const TrainingData& data) -> ModelPtr {
    SpecReader reader(spec);
    reader.finish();
    auto encoding = training_encoding(data);
    std::vector<uint32_t> counts(encoding->vocab().size(), 0);
    ModelInfo info;
    info.family = "unigram";
    info.spec = spec.to_string();
    info.encoding = encoding->spec();
    info.corpus = data.corpus;
    info.corpus_fingerprint = data.corpus_fingerprint;
    for (const auto& seq : encode_melodies(*encoding, *data.melodies)) {
      if (seq.empty()) continue;
      ++info.training_melodies;
      for (int t : seq) {
        ++counts[static_cast<size_t>(t)];
        ++info.training_tokens;
      }
    }
    return std::make_shared<UnigramModel>(info, encoding, counts);
  };
  f.load = [](const ModelHeader& h, std::shared_ptr<const Encoding> encoding, ModelReader& in) -> ModelPtr {
    auto counts = in.u32s("counts");
    if (counts.size() != encoding->vocab().size()) in.fail("counts for " + std::to_string(counts.size()) + " tokens");
    return std::make_shared<UnigramModel>(h.info, encoding, counts);
  };
  return f;
}

// A melody of quarter notes with these MIDI pitches (-1: a quarter rest).
inline Melody quarter_melody(std::initializer_list<int> pitches, std::string title = "") {
  Melody m;
  m.title = std::move(title);
  for (int p : pitches) {
    if (p < 0)
      m.append(std::nullopt, Rational(1));
    else
      m.append(Pitch::from_midi(p), Rational(1));
  }
  return m;
}

}  // namespace antiphon::testing
