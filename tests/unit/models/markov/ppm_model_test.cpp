// The ppm family (antiphon/models/ppm.h): training from specs, predictions, the short-term model, model
// files and configuration errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "models/families.h"  // private to src/models
#include "models/markov/ppm_trie.h"
#include "antiphon/core/error.h"
#include "antiphon/models/model_file.h"
#include "antiphon/models/ppm.h"
#include "antiphon/models/registry.h"
#include "antiphon/tokens/target.h"

namespace antiphon {
namespace {

Melody melody(const std::vector<int>& pitches, const std::vector<Rational>& durations, int fifths = 0) {
  Melody m;
  m.meters = {{Rational(0), Meter{MeterKind::regular, 4, 4}}};
  m.keys = {{Rational(0), Key{fifths, Mode::major, false}}};
  for (size_t i = 0; i < pitches.size(); ++i) {
    if (pitches[i] < 0)
      m.append(std::nullopt, durations[i % durations.size()]);
    else
      m.append(Pitch::from_midi(pitches[i]), durations[i % durations.size()]);
  }
  // Two phrases: the first note and the fifth begin one.
  m.notes.front().phrase_begin = true;
  if (m.notes.size() > 4) m.notes[4].phrase_begin = true;
  return m;
}

std::vector<Melody> corpus() {
  const Rational q(1), e(1, 2), h(2);
  return {
      melody({60, 62, 64, 65, 67, 65, 64, 62, 60}, {q, q, e, e, h}),
      melody({67, 65, 64, -1, 62, 60, 62, 64, 60}, {e, e, q, e, q, h}, 0),
      melody({62, 64, 66, 67, 69, 67, 66, 64, 62}, {q, e, e, q, h}, 2),
      melody({55, 57, 59, 60, 62, 60, 59, 57, 55}, {q, q, q, q}, 1),
      melody({60, 64, 67, 72, 67, 64, 60}, {e, e, q, h}),
  };
}

ModelPtr train(const std::string& spec, const std::vector<Melody>& melodies,
               std::shared_ptr<const Encoding> encoding = nullptr) {
  add_model_family(ppm_family());
  TrainingData data;
  data.melodies = &melodies;
  data.encoding = std::move(encoding);
  data.corpus = "hand";
  return train_model(ModelSpec::parse(spec), data);
}

// Every prediction along the melody: a distribution (sums to 1, all positive).
void expect_distributions(const SequenceModel& model, const Melody& m, bool with_source) {
  const std::vector<int> tokens = model.encoding().encode(m);
  auto state = model.start(with_source ? &m : nullptr);
  std::vector<double> probs(model.vocab_size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    model.predict(*state, probs);
    EXPECT_NEAR(std::accumulate(probs.begin(), probs.end(), 0.0), 1.0, 1e-9) << "at " << i;
    for (double p : probs) ASSERT_GT(p, 0.0) << "at " << i;
    model.advance(*state, tokens[i]);
  }
}

TEST(PpmModel, predicts_distributions_that_sum_to_one) {
  const auto melodies = corpus();
  const Melody test = melody({60, 62, 64, 62, -1, 60, 67, 64, 62, 60}, {Rational(1), Rational(1, 2)}, 0);
  for (const char* spec :
       {"ppm", "ppm:stm=1", "ppm:ltm=0,stm=1", "ppm:order=2,escape=A,blend=0",
        "ppm:viewpoints=cpitch+cpint*dur+cpintfref*cpint+ioi*contour,stm=1",
        "ppm:viewpoints=cpint+thrfiph+cpintfiph+cpintfref*fib,viewpoint_combination=arithmetic,ltm_stm_combination="
        "arithmetic,stm=1",
        "ppm:escape=X,update_exclusion=1,stm=1,stm_escape=D,stm_order=3,viewpoint_bias=0,ltm_stm_bias=0"}) {
    SCOPED_TRACE(spec);
    ModelPtr model = train(spec, melodies);
    expect_distributions(*model, test, true);
    expect_distributions(*model, test, false);
  }
}

TEST(PpmModel, predicts_pitch_and_duration_jointly_with_the_pitchdur_encoding) {
  const auto melodies = corpus();
  auto encoding = std::make_shared<TargetEncoding>(TargetConfig::from_melodies(TargetKind::pitch_duration, melodies));
  ModelPtr model = train("ppm:viewpoints=cpitch+dur+cpint*durratio,stm=1", melodies, encoding);
  EXPECT_EQ(model->vocab_size(), encoding->vocab().size());
  expect_distributions(*model, melodies[1], true);
  expect_distributions(*model, melodies[1], false);
}

TEST(PpmModel, cpitch_alone_is_the_ltm_trie_on_the_pitch_tokens) {
  const auto melodies = corpus();
  ModelPtr model = train("ppm:order=3", melodies);
  const auto& encoding = static_cast<const TargetEncoding&>(model->encoding());
  ppm::PpmConfig trie_config;
  trie_config.order = 3;
  ppm::PpmTrie trie(static_cast<int>(encoding.vocab().size()), trie_config);
  for (const Melody& m : melodies) trie.add_sequence(encoding.encode(m));
  const std::vector<int> tokens = encoding.encode(melodies[2]);
  auto state = model->start(&melodies[2]);
  auto context = trie.root();
  std::vector<double> got(model->vocab_size()), want(model->vocab_size());
  for (int t : tokens) {
    model->predict(*state, got);
    trie.predict(context, want);
    for (size_t k = 0; k < got.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-12);
    model->advance(*state, t);
    trie.advance(context, t);
  }
}

TEST(PpmModel, is_uniform_where_no_viewpoint_is_defined) {
  const auto melodies = corpus();
  // cpint is undefined on the first note; cpintfref without a source (no key).
  for (const char* spec : {"ppm:viewpoints=cpint", "ppm:viewpoints=cpintfref"}) {
    ModelPtr model = train(spec, melodies);
    auto state = model->start(nullptr);
    std::vector<double> probs(model->vocab_size());
    model->predict(*state, probs);
    for (double p : probs) EXPECT_NEAR(p, 1.0 / static_cast<double>(probs.size()), 1e-12) << spec;
  }
}

TEST(PpmModel, short_term_model_predicts_a_repeated_phrase_strongly_the_second_time) {
  const auto melodies = corpus();
  ModelPtr model = train("ppm:ltm=0,stm=1", melodies);
  const std::vector<int> phrase = {60, 64, 62, 67, 65, 69, 64, 60};
  std::vector<int> twice = phrase;
  twice.insert(twice.end(), phrase.begin(), phrase.end());
  const Melody m = melody(twice, {Rational(1)});
  const std::vector<int> tokens = model->encoding().encode(m);
  auto state = model->start(&m);
  std::vector<double> probs(model->vocab_size());
  double first = 0, second = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    model->predict(*state, probs);
    const double p = probs[static_cast<size_t>(tokens[i])];
    if (i < 8) first += p / 8;
    // From the third note of the repeat on, its context determines the continuation (after the second, 60 was
    // followed by 64 once and by 60 once): the repeat is the favourite.
    if (i > 9) {
      second += p / 6;
      EXPECT_EQ(std::max_element(probs.begin(), probs.end()) - probs.begin(), tokens[i]) << "note " << i;
    }
    model->advance(*state, tokens[i]);
  }
  // One earlier occurrence under escape X gives a deterministic context about 1/3 before blending.
  EXPECT_GT(second, 0.3);
  EXPECT_GT(second, 3 * first) << first << " " << second;
}

TEST(PpmModel, round_trips_through_a_model_file_with_identical_predictions) {
  const auto melodies = corpus();
  ModelPtr model = train("ppm:viewpoints=cpitch+cpint*dur+cpintfref*cpint+thrfiph,stm=1,order=4", melodies);
  const std::string path = (std::filesystem::path(::testing::TempDir()) / "ppm_round_trip.model").string();
  save_model(*model, path);
  ModelPtr loaded = load_model(path);
  std::filesystem::remove(path);
  EXPECT_EQ(loaded->config(), model->config());
  EXPECT_EQ(loaded->info().spec, model->info().spec);
  EXPECT_EQ(loaded->info().training_melodies, 5u);
  const Melody test = melody({60, 62, 64, 62, -1, 60, 67, 64, 62, 60}, {Rational(1), Rational(1, 2)}, 1);
  const std::vector<int> tokens = model->encoding().encode(test);
  EXPECT_EQ(loaded->token_log2_probs(tokens, &test), model->token_log2_probs(tokens, &test));
  EXPECT_EQ(loaded->token_log2_probs(tokens), model->token_log2_probs(tokens));
}

TEST(PpmModel, rejects_a_model_file_whose_viewpoints_disagree_with_its_header) {
  const auto melodies = corpus();
  ModelPtr model = train("ppm:viewpoints=cpitch+cpint", melodies);
  const std::string path = (std::filesystem::path(::testing::TempDir()) / "ppm_bad.model").string();
  save_model(*model, path);
  ModelHeader header = read_model_header(path);
  std::filesystem::remove(path);
  for (auto& [k, v] : header.config)
    if (k == "viewpoints") v = "cpitch+contour";
  ModelWriter payload;
  model->save_payload(payload);
  ModelReader reader(payload.bytes(), "bad.model");
  try {
    ppm_family().load(header, std::shared_ptr<const Encoding>(make_encoding(model->info().encoding)), reader);
    FAIL() << "no error";
  } catch (const ModelFileError& e) {
    EXPECT_NE(std::string(e.what()).find("cpint"), std::string::npos) << e.what();
  }
}

TEST(PpmModel, lists_every_resolved_option_and_rebuilds_from_them) {
  const auto melodies = corpus();
  ModelPtr model = train("ppm:stm=1,viewpoints=cpint*dur+cpitch", melodies);
  const auto config = model->config();
  std::vector<std::string> keys;
  for (const auto& [k, v] : config) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"order", "escape", "blend", "exclusion", "update_exclusion", "ltm", "stm",
                                            "stm_order", "stm_escape", "stm_blend", "stm_exclusion",
                                            "stm_update_exclusion", "viewpoints", "viewpoint_combination",
                                            "viewpoint_bias", "ltm_stm_combination", "ltm_stm_bias"}));
  EXPECT_EQ(model->info().spec,
            "ppm:order=star,escape=C,blend=1,exclusion=1,update_exclusion=0,ltm=1,stm=1,stm_order=star,stm_escape=X,"
            "stm_blend=1,stm_exclusion=1,stm_update_exclusion=1,viewpoints=cpint*dur+cpitch,"
            "viewpoint_combination=geometric,viewpoint_bias=2,ltm_stm_combination=geometric,ltm_stm_bias=7");
  ModelPtr again = train(model->info().spec, melodies);
  const std::vector<int> tokens = model->encoding().encode(melodies[3]);
  EXPECT_EQ(again->token_log2_probs(tokens, &melodies[3]), model->token_log2_probs(tokens, &melodies[3]));
  // The default viewpoint is resolved too.
  ModelPtr plain = train("ppm", melodies);
  EXPECT_EQ(ModelSpec::parse(plain->info().spec).get("viewpoints"), "cpitch");
}

TEST(PpmModel, predicts_plain_tokens_of_other_encodings) {
  const auto melodies = corpus();
  std::shared_ptr<const Encoding> grid = make_encoding("grid:steps=2");
  ModelPtr model = train("ppm:stm=1", melodies, grid);
  EXPECT_EQ(ModelSpec::parse(model->info().spec).get("viewpoints"), "token");
  expect_distributions(*model, melodies[0], true);
}

std::string config_error(const std::string& spec, std::shared_ptr<const Encoding> encoding = nullptr,
                         std::vector<Melody> melodies = corpus()) {
  try {
    train(spec, melodies, std::move(encoding));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(PpmModel, rejects_bad_options_naming_the_value) {
  EXPECT_NE(config_error("ppm:ordr=2").find("'ordr'"), std::string::npos);
  EXPECT_NE(config_error("ppm:order=two").find("order=two"), std::string::npos);
  EXPECT_NE(config_error("ppm:escape=E").find("escape=E"), std::string::npos);
  EXPECT_NE(config_error("ppm:viewpoints=cpitch+cpinterval").find("'cpinterval'"), std::string::npos);
  EXPECT_NE(config_error("ppm:viewpoints=cpitch+cpitch").find("'cpitch' is listed twice"), std::string::npos);
  EXPECT_NE(config_error("ppm:viewpoint_bias=-1").find("viewpoint_bias=-1"), std::string::npos);
  EXPECT_NE(config_error("ppm:ltm_stm_combination=median").find("median"), std::string::npos);
  EXPECT_NE(config_error("ppm:ltm=0").find("ltm=0 and stm=0"), std::string::npos);
}

TEST(PpmModel, rejects_pitch_viewpoints_with_another_encoding_naming_it) {
  const std::string message = config_error("ppm:viewpoints=cpitch", make_encoding("grid:steps=2"));
  EXPECT_NE(message.find("'grid'"), std::string::npos) << message;
  EXPECT_NE(message.find("cpitch"), std::string::npos) << message;
}

TEST(PpmModel, skips_empty_melodies_and_rejects_a_corpus_without_notes) {
  std::vector<Melody> melodies = corpus();
  melodies.push_back(melody({-1}, {Rational(2)}));
  ModelPtr model = train("ppm", melodies);
  EXPECT_EQ(model->info().training_melodies, 5u);
  std::vector<Melody> rests = {melody({-1}, {Rational(2)})};
  auto pitch = std::make_shared<TargetEncoding>(TargetConfig{TargetKind::pitch, {60}, {}});
  EXPECT_NE(config_error("ppm", pitch, rests).find("no training melodies"), std::string::npos);
}

}  // namespace
}  // namespace antiphon
