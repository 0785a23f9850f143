#pragma once
// The tiny corpus the neural tests train on (tests/fixtures/models/tunes.abc), and training on it with one
// thread, as every test of this binary does.
#include <filesystem>
#include <string>
#include <vector>

#include "antiphon/corpus/corpus.h"
#include "antiphon/models/registry.h"
#include "antiphon/train/neural.h"

namespace antiphon::testing_support {

inline const std::vector<Melody>& tunes() {
  static const std::vector<Melody> melodies = [] {
    Corpus c = load_corpus({std::filesystem::path(ANTIPHON_FIXTURES) / "models" / "tunes.abc"});
    return c.melodies;
  }();
  return melodies;
}

inline ModelPtr train_on_tunes(const std::string& spec, const std::string& encoding, uint64_t seed = 1) {
  register_neural_families();
  torch::set_num_threads(1);
  TrainingData data;
  data.melodies = &tunes();
  data.encoding = make_encoding(encoding);
  data.corpus = "tunes.abc";
  data.seed = seed;
  data.threads = 1;
  return train_model(ModelSpec::parse(spec), data);
}

}  // namespace antiphon::testing_support
