#include "antiphon/analysis/evaluate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "../models/test_unigram.h"
#include "antiphon/corpus/corpus.h"

namespace antiphon {
namespace {

using ::testing::HasSubstr;
using testing::quarter_melody;

std::vector<Melody> tunes() {
  return {quarter_melody({60, 62, 64, 62}), quarter_melody({60, 60, -1, 67}), quarter_melody({62, 64}),
          quarter_melody({67}), quarter_melody({-1, -1}), quarter_melody({64, 64, 64, 60, 62})};
}

// Expected figures computed directly from the definition: add-one unigram over the dataset's 4 pitches,
// trained on the other folds; bits per melody = mean information content of its notes.
struct Expected {
  double melody_avg = 0, event_avg = 0;
  size_t notes = 0;
};

Expected by_hand(const std::vector<Melody>& with_notes, int folds, uint64_t seed) {
  const std::vector<int> alphabet = {60, 62, 64, 67};
  double sum_means = 0, sum_bits = 0;
  size_t notes = 0;
  for (const Fold& f : kfold_split(with_notes.size(), folds, seed)) {
    std::map<int, double> count;
    double total = 0;
    for (size_t i : f.train)
      for (const Note& n : with_notes[i].notes)
        if (!n.is_rest()) count[n.pitch->midi] += 1, total += 1;
    for (size_t i : f.test) {
      double bits = 0;
      size_t k = 0;
      for (const Note& n : with_notes[i].notes) {
        if (n.is_rest()) continue;
        bits += -std::log2((count[n.pitch->midi] + 1) / (total + alphabet.size()));
        ++k;
      }
      sum_means += bits / k;
      sum_bits += bits;
      notes += k;
    }
  }
  return {sum_means / with_notes.size(), sum_bits / notes, notes};
}

class Evaluate : public ::testing::Test {
 protected:
  void SetUp() override { add_model_family(testing::unigram_family()); }
};

TEST_F(Evaluate, cross_validation_matches_the_definition) {
  std::vector<Melody> all = tunes();
  std::vector<Melody> with_notes;
  for (const Melody& m : all)
    if (m.pitched_count()) with_notes.push_back(m);
  for (int threads : {1, 2}) {
    EvalOptions o;
    o.folds = 3;
    o.seed = 7;
    o.threads = threads;
    EvalResult r = cross_validate(ModelSpec::parse("unigram"), all, o);
    Expected e = by_hand(with_notes, 3, 7);
    EXPECT_EQ(r.melodies, 5u);  // the all-rest melody is not scored
    EXPECT_EQ(r.notes, e.notes);
    EXPECT_EQ(r.notes, 15u);
    EXPECT_NEAR(r.bits_per_note, e.melody_avg, 1e-12);
    EXPECT_NEAR(r.bits_per_note_event_avg, e.event_avg, 1e-12);
    EXPECT_EQ(r.alphabet, 4u);
    EXPECT_EQ(r.encoding, "pitch:pitches=60;62;64;67");
    ASSERT_EQ(r.folds.size(), 3u);
    size_t fold_melodies = 0;
    for (const FoldResult& f : r.folds) fold_melodies += f.melodies;
    EXPECT_EQ(fold_melodies, 5u);
    ASSERT_EQ(r.melody_bits.size(), 5u);
    double mean = 0;
    for (double b : r.melody_bits) mean += b / 5;
    EXPECT_NEAR(mean, r.bits_per_note, 1e-12);
  }
}

TEST_F(Evaluate, note_target_uses_pitch_and_duration_alphabets) {
  std::vector<Melody> all = tunes();
  all[0].notes[1].duration = Rational(1, 2);
  all[0].normalize();
  EvalOptions o;
  o.folds = 2;
  o.target = EvalTarget::note;
  EvalResult r = cross_validate(ModelSpec::parse("unigram"), all, o);
  EXPECT_EQ(r.alphabet, 8u);  // 4 pitches x {1/2, 1}
  EXPECT_EQ(r.encoding, "pitchdur:pitches=60;62;64;67,durations=1/2;1");
}

TEST_F(Evaluate, held_out_evaluation_of_a_trained_model) {
  std::vector<Melody> train = {quarter_melody({60, 60, 62})};
  TrainingData data;
  data.melodies = &train;
  ModelPtr m = train_model(ModelSpec::parse("unigram"), data);
  EvalResult r = evaluate(*m, {quarter_melody({60, 62}), quarter_melody({62})});
  // P(60) = 3/5, P(62) = 2/5: melody 1 mean of -log2(3/5), -log2(2/5); melody 2 -log2(2/5).
  const double a = -std::log2(0.6), b = -std::log2(0.4);
  EXPECT_NEAR(r.bits_per_note, ((a + b) / 2 + b) / 2, 1e-12);
  EXPECT_NEAR(r.bits_per_note_event_avg, (a + 2 * b) / 3, 1e-12);
  EXPECT_EQ(r.notes, 3u);
  // A melody the model cannot represent is reported and left out; the rest is scored.
  std::vector<std::string> warnings;
  LogFn log = [&](LogLevel, std::string_view m) { warnings.emplace_back(m); };
  EvalResult s = evaluate(*m, {quarter_melody({60, 61}, "odd one"), quarter_melody({62})}, std::nullopt, log);
  EXPECT_EQ(s.skipped, 1u);
  EXPECT_EQ(s.melodies, 1u);
  EXPECT_NEAR(s.bits_per_note, b, 1e-12);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("'odd one': pitch cannot encode note 1"));
  EXPECT_THAT(warnings[0], HasSubstr("pitch 61 is not in the alphabet"));
  try {
    evaluate(*m, {quarter_melody({60, 61}, "odd one")});
    FAIL();
  } catch (const EncodingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no melody could be scored with this model; the first: 'odd one'"));
  }
}

TEST_F(Evaluate, bad_requests_are_config_errors) {
  EvalOptions o;
  o.folds = 10;
  try {
    cross_validate(ModelSpec::parse("unigram"), tunes(), o);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("needs at least 10 melodies with notes; the corpus has 5"));
  }
  o.folds = 1;
  EXPECT_THROW(cross_validate(ModelSpec::parse("unigram"), tunes(), o), ConfigError);
  o.folds = 2;
  EXPECT_THROW(cross_validate(ModelSpec::parse("nosuch"), tunes(), o), ConfigError);
  EXPECT_THROW(cross_validate(ModelSpec::parse("unigram:x=1"), tunes(), o), ConfigError);
  EXPECT_THROW(parse_eval_target("rhythm"), ConfigError);
}

}  // namespace
}  // namespace antiphon

namespace antiphon {
namespace {

// A grid model scored note by note: add-one unigram over "60 61 62 _ r </s>" trained on "60 _ _ _ 62 _ _ _ </s>"
// gives P(60) = P(62) = P(</s>) = 2/15, P(61) = P(r) = 1/15, P(_) = 7/15.
TEST(ScoreMelody, converts_grid_steps_to_notes_for_both_targets) {
  add_model_family(testing::unigram_family());
  const std::vector<Melody> melodies = {quarter_melody({60, 62})};
  TrainingData data;
  data.melodies = &melodies;
  data.encoding = make_encoding("grid:steps=4,min=60,max=62");
  ModelPtr m = train_model(ModelSpec::parse("unigram"), data);
  const std::vector<int> tokens = m->encoding().encode(melodies[0]);
  ASSERT_EQ(tokens.size(), 9u);
  // Pitch: each onset's pitch among the three pitch tokens, (2/15) / (5/15) = 0.4.
  MelodyScore pitch = score_melody(*m, tokens, melodies[0], EvalTarget::pitch);
  EXPECT_EQ(pitch.notes, 2u);
  EXPECT_NEAR(pitch.bits, -2 * std::log2(0.4), 1e-12);
  // Note: the product of every step's probability, holds and the end symbol included.
  MelodyScore note = score_melody(*m, tokens, melodies[0], EvalTarget::note);
  EXPECT_NEAR(note.bits, -(3 * std::log2(2.0 / 15) + 6 * std::log2(7.0 / 15)), 1e-12);
  EXPECT_EQ(natural_target(*m), EvalTarget::note);
  EvalResult r = evaluate(*m, melodies, EvalTarget::pitch);
  EXPECT_NEAR(r.bits_per_note, -std::log2(0.4), 1e-12);
}

TEST(ScoreMelody, a_pitch_only_model_cannot_be_scored_on_notes) {
  add_model_family(testing::unigram_family());
  const std::vector<Melody> melodies = {quarter_melody({60, 62})};
  TrainingData data;
  data.melodies = &melodies;
  ModelPtr m = train_model(ModelSpec::parse("unigram"), data);
  EXPECT_EQ(natural_target(*m), EvalTarget::pitch);
  EXPECT_THAT([&] { evaluate(*m, melodies, EvalTarget::note); },
              ::testing::ThrowsMessage<ConfigError>(HasSubstr("predicts pitches only")));
}

TEST(CrossValidate, trains_on_another_encoding_when_asked_and_scores_notes) {
  add_model_family(testing::unigram_family());
  EvalOptions options;
  options.folds = 3;
  options.encoding = "grid:steps=4,min=60,max=67";
  EvalResult pitch = cross_validate(ModelSpec::parse("unigram"), tunes(), options);
  options.target = EvalTarget::note;
  EvalResult note = cross_validate(ModelSpec::parse("unigram"), tunes(), options);
  EXPECT_GT(pitch.bits_per_note, 0.0);
  EXPECT_LT(pitch.bits_per_note, note.bits_per_note);  // pitch alone is part of what a note costs
  EXPECT_EQ(pitch.notes, note.notes);
}

}  // namespace
}  // namespace antiphon

namespace antiphon {
namespace {

TEST(CrossValidate, max_folds_scores_only_the_first_folds_test_melodies) {
  add_model_family(testing::unigram_family());
  EvalOptions all;
  all.folds = 3;
  EvalResult full = cross_validate(ModelSpec::parse("unigram"), tunes(), all);
  EvalOptions one = all;
  one.max_folds = 1;
  EvalResult first = cross_validate(ModelSpec::parse("unigram"), tunes(), one);
  ASSERT_EQ(first.folds.size(), 1u);
  EXPECT_EQ(first.melodies, first.folds[0].melodies);
  EXPECT_EQ(first.notes, full.folds[0].notes);
  EXPECT_DOUBLE_EQ(first.bits_per_note, full.folds[0].bits_per_note);
  EXPECT_LT(first.melodies, full.melodies);
  one.max_folds = -1;
  EXPECT_THROW(cross_validate(ModelSpec::parse("unigram"), tunes(), one), ConfigError);
}

}  // namespace
}  // namespace antiphon

namespace antiphon {
namespace {

TEST(CrossValidate, a_family_default_encoding_applies_unless_target_is_asked_for) {
  ModelFamily grid_family = testing::unigram_family();
  grid_family.name = "unigram_grid";
  grid_family.default_encoding = [](const ModelSpec&) { return std::string("grid:steps=4,min=60,max=67"); };
  add_model_family(grid_family);
  add_model_family(testing::unigram_family());
  EvalOptions options;
  options.folds = 3;
  EvalResult by_default = cross_validate(ModelSpec::parse("unigram_grid"), tunes(), options);
  options.encoding = "grid:steps=4,min=60,max=67";
  EvalResult explicit_grid = cross_validate(ModelSpec::parse("unigram"), tunes(), options);
  EXPECT_DOUBLE_EQ(by_default.bits_per_note, explicit_grid.bits_per_note);
  options.encoding = "target";
  EvalResult on_target = cross_validate(ModelSpec::parse("unigram_grid"), tunes(), options);
  options.encoding = "";
  EvalResult plain = cross_validate(ModelSpec::parse("unigram"), tunes(), options);
  EXPECT_DOUBLE_EQ(on_target.bits_per_note, plain.bits_per_note);
  EXPECT_NE(on_target.bits_per_note, by_default.bits_per_note);
}

}  // namespace
}  // namespace antiphon
