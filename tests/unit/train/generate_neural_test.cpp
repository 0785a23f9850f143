// Generation with the neural families: every hard constraint holds in every output whatever the method
// (Anticipation-RNN through its constraint reader, the others by rejection or masking), Melody RNN's
// transposition to C is undone, and the same seed reproduces an output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "../generate/constraint_check.h"
#include "tunes.h"
#include "antiphon/corpus/corpus.h"
#include "antiphon/generate/generate.h"
#include "antiphon/models/registry.h"
#include "antiphon/train/neural.h"

namespace antiphon {
namespace {

using testing_support::violation;

using testing_support::tunes;

ModelPtr train(const std::string& spec, const std::string& encoding) {
  return testing_support::train_on_tunes(spec + ",epochs=2,batch=4,lr=0.01,patience=0,valid=0.2,dropout=0", encoding);
}

struct Case {
  std::string name;
  std::string spec;
  std::string encoding;
  std::string method;  // the method generation must pick
};

class NeuralGeneration : public ::testing::TestWithParam<Case> {};

TEST_P(NeuralGeneration, meets_every_hard_constraint_and_reproduces_from_the_seed) {
  const Case& c = GetParam();
  ModelPtr model = train(c.spec, c.encoding);
  // The primer: the first bar of a G major tune (6/8).
  Melody primer = tunes()[0];
  primer.notes.resize(4);
  const Constraints constraints = parse_constraints(
      R"({"steps_per_quarter": 4, "steps": "B4 - - - * - - - r - - - D5 - - - ",
          "key": "G major", "range": ["D4", "D5"], "final": ["D", "G", "B"]})",
      "test");
  GenerateRequest request;
  request.primer = primer;
  request.length = 6;
  request.constraints = constraints;
  request.options.count = 4;
  request.options.seed = 5;
  request.options.rejection_tries = 4;
  request.options.estimate_samples = 2;
  const GenerateResult result = generate(*model, request);
  ASSERT_TRUE(result.satisfiable) << result.reason;
  ASSERT_EQ(result.generations.size(), 4u);
  for (const Generation& g : result.generations) {
    EXPECT_EQ(violation(g, constraints), "") << c.name << " " << g.method;
    EXPECT_EQ(g.region_end - g.region_begin, Rational(6));
    for (size_t i = 0; i < primer.notes.size(); ++i) EXPECT_EQ(g.melody.notes[i], primer.notes[i]);
    EXPECT_GE(g.satisfaction_probability, 0);
    EXPECT_LE(g.satisfaction_probability, 1);
  }
  if (!c.method.empty()) {
    EXPECT_EQ(result.generations[0].method, c.method);
  } else {
    EXPECT_THAT(result.generations[0].method, ::testing::AnyOf("rejection", "masking"));
  }
  // Output 3 again from its own seed.
  request.options.count = 1;
  request.options.seed = 8;
  const GenerateResult again = generate(*model, request);
  EXPECT_EQ(again.generations[0].tokens, result.generations[3].tokens);
}

INSTANTIATE_TEST_SUITE_P(
    Families, NeuralGeneration,
    ::testing::Values(Case{"lstm", "lstm:layers=1,hidden=16", "grid:steps=4,min=48,max=96", ""},
                      Case{"note_lstm", "note_lstm:layers=1,hidden=16", "notes", ""},
                      Case{"basic", "melody_rnn:config=basic,hidden=16", "events:range=basic", ""},
                      Case{"attention", "melody_rnn:config=attention,hidden=16,attn_length=8", "attention", ""},
                      Case{"anticipation", "anticipation:hidden=16,constraint_hidden=16,embed=8",
                           "grid:steps=4,min=48,max=96", "anticipation"},
                      Case{"transformer", "transformer:layers=1,hidden=16,heads=2,ff=32,max_len=256",
                           "grid:steps=4,min=48,max=96", ""}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

TEST(NeuralRespond, a_melody_rnn_answer_sounds_in_the_calls_key_after_its_transposition_to_c) {
  ModelPtr model = train("melody_rnn:config=basic,hidden=16", "events:range=basic");
  RespondRequest request;
  request.call = tunes()[1];  // D major
  request.bars = 2;
  request.options.count = 3;
  const GenerateResult result = respond(*model, request);
  ASSERT_TRUE(result.satisfiable) << result.reason;
  const PitchClassSet d_major = scale_pitch_classes(request.call.key());
  for (const Generation& g : result.generations) {
    // The answer starts on the first dotted-quarter beat at or after the call's end.
    EXPECT_GE(g.region_begin, request.call.length());
    EXPECT_LT(g.region_begin, request.call.length() + Rational(3, 2));
    EXPECT_TRUE(((g.region_begin - request.call.pickup) / Rational(3, 2)).is_integer());
    EXPECT_EQ(g.region_end - g.region_begin, Rational(6));  // two bars of 6/8
    for (const GeneratedNote& n : g.notes)
      if (!n.note.is_rest()) {
        EXPECT_TRUE(d_major[static_cast<size_t>(n.note.pitch->pitch_class())]) << n.note.pitch->name();
      }
  }
}

TEST(NeuralInfill, anticipation_reads_the_right_hand_context_and_keeps_it) {
  ModelPtr model = train("anticipation:hidden=16,constraint_hidden=16,embed=8", "grid:steps=4,min=48,max=96");
  InfillRequest request;
  request.melody = tunes()[2];
  request.from = 2;
  request.to = 4;
  request.options.count = 2;
  const GenerateResult result = infill(*model, request);
  ASSERT_TRUE(result.satisfiable) << result.reason;
  for (const Generation& g : result.generations) {
    EXPECT_EQ(g.method, "anticipation");
    EXPECT_EQ(g.melody.length(), request.melody.length());
    for (const Note& n : request.melody.notes)
      if (n.end() <= request.from || n.onset >= request.to) {
        const Note* same = testing_support::note_at(g.melody, n.onset);
        ASSERT_NE(same, nullptr);
        EXPECT_EQ(*same, n);
      }
  }
}

}  // namespace
}  // namespace antiphon
