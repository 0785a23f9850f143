// Every neural family end to end on a tiny corpus: training lowers the loss, the incremental path agrees
// with the batched forward pass, a model file round-trips exactly, the evaluation harness scores it, and
// sampling from it stays within its vocabulary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>

#include "antiphon/analysis/evaluate.h"
#include "antiphon/corpus/corpus.h"
#include "antiphon/models/model_file.h"
#include "antiphon/models/registry.h"
#include "antiphon/train/neural.h"
#include "models/neural/neural_model.h"
#include "tunes.h"

namespace antiphon {
namespace {

using ::testing::HasSubstr;

using testing_support::tunes;

ModelPtr train(const std::string& spec, const std::string& encoding, uint64_t seed = 1) {
  return testing_support::train_on_tunes(spec, encoding, seed);
}

const neural::NeuralModel& as_neural(const ModelPtr& m) { return dynamic_cast<const neural::NeuralModel&>(*m); }

struct FamilyCase {
  std::string name;
  std::string spec;
  std::string encoding;
};

void PrintTo(const FamilyCase& c, std::ostream* os) { *os << c.spec; }

class NeuralFamily : public ::testing::TestWithParam<FamilyCase> {};

const std::string kTiny = "epochs=6,batch=4,lr=0.01,patience=0,valid=0.2,dropout=0";

TEST_P(NeuralFamily, trains_saves_loads_scores_and_samples) {
  const FamilyCase& c = GetParam();
  ModelPtr model = train(c.spec + "," + kTiny, c.encoding);
  const auto& history = as_neural(model).setup().history;
  ASSERT_EQ(history.size(), 6u);
  // The loss falls: the last epoch's training loss is well below the first's.
  EXPECT_LT(history.back().train_bits, 0.85 * history.front().train_bits) << c.spec;
  EXPECT_LT(history.back().valid_bits, history.front().valid_bits) << c.spec;

  // A model file round-trips exactly.
  const auto dir = std::filesystem::temp_directory_path() / ("antiphon-neural-" + c.name);
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "model.antiphon").string();
  save_model(*model, path);
  ModelPtr loaded = load_model(path);
  EXPECT_EQ(loaded->info().spec, model->info().spec);
  EXPECT_EQ(loaded->config(), model->config());
  const Melody& melody = tunes()[1];
  const std::vector<int> tokens = model->encoding().encode(melody);
  EXPECT_EQ(loaded->token_log2_probs(tokens, &melody), model->token_log2_probs(tokens, &melody));

  // The incremental path (start / advance / predict) agrees with the batched forward pass.
  const std::vector<double> batched = model->token_log2_probs(tokens, &melody);
  auto state = loaded->start(&melody);
  std::vector<double> probs(model->vocab_size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    loaded->predict(*state, probs);
    EXPECT_NEAR(std::accumulate(probs.begin(), probs.end(), 0.0), 1.0, 1e-9);
    ASSERT_NEAR(std::log2(probs[static_cast<size_t>(tokens[i])]), batched[i], 1e-4) << c.spec << " at token " << i;
    loaded->advance(*state, tokens[i]);
  }

  // The harness scores it on pitch (renormalised onset probabilities) and on notes.
  for (EvalTarget target : {EvalTarget::pitch, EvalTarget::note}) {
    EvalResult r = evaluate(*loaded, tunes(), target);
    EXPECT_GT(r.melodies, 0u);
    EXPECT_TRUE(std::isfinite(r.bits_per_note)) << eval_target_name(target);
    EXPECT_GT(r.bits_per_note, 0.0);
  }
  EXPECT_LT(evaluate(*loaded, tunes(), EvalTarget::pitch).bits_per_note,
            evaluate(*loaded, tunes(), EvalTarget::note).bits_per_note);

  // Sampling: 40 tokens from a seeded generator, each drawn from a proper distribution.
  std::mt19937_64 rng(7);
  auto gen = loaded->start();
  for (int i = 0; i < 40; ++i) {
    loaded->predict(*gen, probs);
    std::discrete_distribution<int> pick(probs.begin(), probs.end());
    const int t = pick(rng);
    ASSERT_GE(t, 0);
    ASSERT_LT(static_cast<size_t>(t), loaded->vocab_size());
    loaded->advance(*gen, t);
  }
  EXPECT_EQ(gen->history().size(), 40u);
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    AllFamilies, NeuralFamily,
    ::testing::Values(FamilyCase{"linear", "linear:window=4", "grid:steps=4,min=48,max=96"},
                      FamilyCase{"mlp", "mlp:window=4,hidden=16", "grid:steps=4,min=48,max=96"},
                      FamilyCase{"rnn", "rnn:hidden=16", "grid:steps=4,min=48,max=96"},
                      FamilyCase{"lstm", "lstm:layers=2,hidden=16", "grid:steps=4,min=48,max=96"},
                      FamilyCase{"lstm_embed_notes", "lstm:layers=1,hidden=16,embed=8", "notes"},
                      FamilyCase{"note_lstm", "note_lstm:layers=1,hidden=16", "notes"},
                      FamilyCase{"basic", "melody_rnn:config=basic,hidden=16", "events:range=basic"},
                      FamilyCase{"mono", "melody_rnn:config=mono,hidden=16", "events:range=mono"},
                      FamilyCase{"lookback", "melody_rnn:config=lookback,hidden=16", "lookback"},
                      FamilyCase{"attention", "melody_rnn:config=attention,hidden=16,attn_length=8", "attention"},
                      FamilyCase{"anticipation", "anticipation:hidden=16,constraint_hidden=16,embed=8",
                                 "grid:steps=4,min=48,max=96"},
                      FamilyCase{"transformer", "transformer:layers=2,hidden=16,heads=2,ff=32,max_len=1024",
                                 "grid:steps=4,min=48,max=96"}),
    [](const ::testing::TestParamInfo<FamilyCase>& info) { return info.param.name; });

TEST(NeuralTraining, is_deterministic_for_a_seed_and_differs_across_seeds) {
  const std::string spec = "lstm:layers=1,hidden=8,epochs=2,batch=4,patience=0,valid=0.2";
  const Melody& m = tunes()[0];
  ModelPtr a = train(spec, "notes", 3), b = train(spec, "notes", 3), c = train(spec, "notes", 4);
  const std::vector<int> tokens = a->encoding().encode(m);
  EXPECT_EQ(a->token_log2_probs(tokens), b->token_log2_probs(tokens));
  EXPECT_NE(a->token_log2_probs(tokens), c->token_log2_probs(tokens));
}

TEST(NeuralTraining, resuming_a_checkpoint_continues_the_same_run) {
  register_neural_families();
  torch::set_num_threads(1);
  const auto dir = std::filesystem::temp_directory_path() / "antiphon-resume-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string spec = "lstm:layers=1,hidden=8,batch=2,patience=0,valid=0.2,dropout=0.3";
  auto run = [&](int epochs, bool resume, const std::string& checkpoint, size_t every) {
    TrainingData data;
    data.melodies = &tunes();
    data.encoding = make_encoding("notes");
    data.seed = 5;
    data.threads = 1;
    data.epochs = epochs;
    data.resume = resume;
    data.checkpoint = checkpoint;
    data.checkpoint_every = every;
    return train_model(ModelSpec::parse(spec), data);
  };
  ModelPtr straight = run(4, false, "", 0);
  // Two epochs with a checkpoint every 3 steps (mid-epoch too), then resumed to four.
  const std::string ckpt = (dir / "run.ckpt").string();
  run(2, false, ckpt, 3);
  ASSERT_TRUE(std::filesystem::exists(ckpt));
  ModelPtr resumed = run(4, true, ckpt, 3);
  const auto& h = as_neural(resumed).setup().history;
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[3].steps, as_neural(straight).setup().history[3].steps);
  const std::vector<int> tokens = straight->encoding().encode(tunes()[2]);
  const auto a = straight->token_log2_probs(tokens), b = resumed->token_log2_probs(tokens);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << i;
  // A checkpoint of another model is refused, naming both.
  try {
    TrainingData data;
    data.melodies = &tunes();
    data.encoding = make_encoding("notes");
    data.resume = true;
    data.checkpoint = ckpt;
    data.threads = 1;
    train_model(ModelSpec::parse("lstm:layers=1,hidden=12,batch=2,valid=0.2"), data);
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("checkpoint is of another model"));
    EXPECT_THAT(e.what(), HasSubstr("hidden=8"));
  }
  std::filesystem::remove_all(dir);
}

TEST(NeuralTraining, too_few_melodies_for_a_batch_is_a_clear_error) {
  try {
    train("lstm:hidden=8,batch=64", "notes");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("fewer than one batch of 64"));
  }
  try {
    train("lstm:hidden=8,bogus=1", "notes");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("bogus"));
  }
  // The lookback inputs need the lookback encoding.
  EXPECT_THROW(train("melody_rnn:config=lookback,batch=4", "notes"), ConfigError);
}

TEST(NeuralModelFile, weights_of_another_architecture_are_refused) {
  ModelPtr model = train("lstm:layers=1,hidden=8,epochs=1,batch=4,valid=0.2", "notes");
  ModelWriter payload;
  model->save_payload(payload);
  // Rewrite the architecture in the payload's description (hidden 8 -> 9), keeping the 8-unit weights.
  ModelReader reader(payload.bytes(), "m.antiphon");
  reader.u32("version");
  std::string description = reader.str("description");
  const std::string weights = reader.str("weights");
  const auto at = description.find("\"hidden\":8");
  ASSERT_NE(at, std::string::npos);
  description.replace(at, 10, "\"hidden\":9");
  ModelWriter forged;
  forged.u32(1);
  forged.str(description);
  forged.str(weights);
  ModelHeader header;
  header.info = model->info();
  ModelReader in(forged.bytes(), "m.antiphon");
  try {
    neural::load_neural_model(header, make_encoding("notes"), in);
    FAIL() << "expected ModelFileError";
  } catch (const ModelFileError& e) {
    EXPECT_THAT(e.what(), HasSubstr("m.antiphon"));
    EXPECT_THAT(e.what(), HasSubstr("do not fit the architecture"));
  }
}

}  // namespace
}  // namespace antiphon
