// Viewpoint derivation, viewpoint alphabets, the mapping of a viewpoint's prediction to the tokens and the
// entropy-weighted combination rules of the ppm family (src/models/markov/viewpoints.h, combine.h).
#include "models/markov/viewpoints.h"

#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "models/markov/combine.h"  // private to src/models
#include "antiphon/core/error.h"
#include "antiphon/tokens/target.h"

namespace antiphon::ppm {
namespace {

// G major, 3/4: G4 (1) | rest (1/2) A4 (1/2) | B4 (1) || D5 (3); phrases G4..B4 and D5.
Melody hand_melody() {
  Melody m;
  m.meters = {{Rational(0), Meter{MeterKind::regular, 3, 4}}};
  m.keys = {{Rational(0), Key{1, Mode::major, false}}};
  m.append(Pitch::from_midi(67), Rational(1));
  m.append(std::nullopt, Rational(1, 2));
  m.append(Pitch::from_midi(69), Rational(1, 2));
  m.append(Pitch::from_midi(71), Rational(1));
  m.append(Pitch::from_midi(74), Rational(3));
  m.notes[0].phrase_begin = true;
  m.notes[3].phrase_end = true;
  m.notes[4].phrase_begin = true;
  m.notes[4].phrase_end = true;
  return m;
}

// The viewpoint's value at every event of the melody, as text ("-" where undefined).
std::vector<std::string> values(const std::string& viewpoint, const std::vector<ViewEvent>& events) {
  Viewpoint v = Viewpoint::parse(viewpoint);
  std::vector<std::string> out;
  for (size_t i = 0; i < events.size(); ++i) {
    auto x = v.value(std::span(events).first(i), events[i]);
    out.push_back(x ? x->to_string() : "-");
  }
  return out;
}

using Strings = std::vector<std::string>;

TEST(Viewpoints, derives_pitch_viewpoints_from_a_hand_built_melody) {
  const auto events = view_events(hand_melody());
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(values("cpitch", events), (Strings{"67", "69", "71", "74"}));
  EXPECT_EQ(values("cpitch-class", events), (Strings{"7", "9", "11", "2"}));
  EXPECT_EQ(values("cpint", events), (Strings{"-", "2", "2", "3"}));
  EXPECT_EQ(values("contour", events), (Strings{"-", "1", "1", "1"}));
  EXPECT_EQ(values("cpintfip", events), (Strings{"-", "2", "4", "7"}));
  // G is the tonic: G A B D are degrees 0 2 4 7.
  EXPECT_EQ(values("cpintfref", events), (Strings{"0", "2", "4", "7"}));
}

TEST(Viewpoints, derives_rhythm_and_structure_viewpoints_with_the_rest_in_the_ioi) {
  const auto events = view_events(hand_melody());
  EXPECT_EQ(values("dur", events), (Strings{"1", "1/2", "1", "3"}));
  // A4 comes 3/2 after G4: the 1/2 rest is part of the inter-onset interval.
  EXPECT_EQ(values("ioi", events), (Strings{"-", "3/2", "1/2", "1"}));
  EXPECT_EQ(values("durratio", events), (Strings{"-", "1/2", "2", "3"}));
  EXPECT_EQ(values("posinbar", events), (Strings{"0", "3/2", "2", "0"}));
  EXPECT_EQ(values("fib", events), (Strings{"1", "0", "0", "1"}));
  EXPECT_EQ(values("fiph", events), (Strings{"1", "0", "0", "1"}));
  EXPECT_EQ(values("liph", events), (Strings{"0", "0", "1", "1"}));
  EXPECT_EQ(values("cpintfiph", events), (Strings{"-", "2", "4", "-"}));
  EXPECT_EQ(values("cpintfib", events), (Strings{"-", "2", "4", "-"}));
  EXPECT_EQ(values("thrfiph", events), (Strings{"-", "-", "-", "7"}));
  EXPECT_EQ(values("thrbar", events), (Strings{"-", "-", "-", "7"}));
}

TEST(Viewpoints, links_viewpoints_into_tuples_undefined_when_a_part_is) {
  const auto events = view_events(hand_melody());
  EXPECT_EQ(values("cpint*dur", events), (Strings{"-", "(2 1/2)", "(2 1)", "(3 3)"}));
  EXPECT_EQ(values("cpintfref*fib", events), (Strings{"(0 1)", "(2 0)", "(4 0)", "(7 1)"}));
}

TEST(Viewpoints, cpcint_keeps_the_direction_of_intervals_over_an_octave) {
  Melody m;
  for (int p : {60, 74, 59, 60}) m.append(Pitch::from_midi(p), Rational(1));
  EXPECT_EQ(values("cpcint", view_events(m)), (Strings{"-", "2", "-3", "1"}));
  EXPECT_EQ(values("cpint-size", view_events(m)), (Strings{"-", "14", "15", "1"}));
}

TEST(Viewpoints, leaves_source_attributes_undefined_without_a_source) {
  TargetEncoding encoding(TargetConfig{TargetKind::pitch, {60, 62, 64}, {}});
  const BasicAlphabet basic = BasicAlphabet::of(encoding);
  std::vector<ViewEvent> events = {basic.event(0, nullptr), basic.event(2, nullptr)};
  EXPECT_EQ(values("cpitch", events), (Strings{"60", "64"}));
  EXPECT_EQ(values("cpint", events), (Strings{"-", "4"}));
  EXPECT_EQ(values("dur", events), (Strings{"-", "-"}));
  EXPECT_EQ(values("ioi", events), (Strings{"-", "-"}));
  EXPECT_EQ(values("cpintfref", events), (Strings{"-", "-"}));
  EXPECT_EQ(values("fib", events), (Strings{"-", "-"}));
}

TEST(Viewpoints, takes_the_predicted_attributes_from_the_token_and_the_rest_from_the_source) {
  TargetEncoding encoding(TargetConfig{TargetKind::pitch_duration, {60, 62}, {Rational(1, 2), Rational(1)}});
  const BasicAlphabet basic = BasicAlphabet::of(encoding);
  const auto source = view_events(hand_melody());  // G4 quarter, in G major
  // Token 2 is 62:1/2; its pitch and duration replace the source's, its key stays.
  ViewEvent e = basic.event(2, &source[0]);
  EXPECT_EQ(e.token, 2);
  EXPECT_EQ(e.note.pitch, 62);
  EXPECT_EQ(e.note.duration, Rational(1, 2));
  EXPECT_EQ(*primitive_value(Primitive::cpintfref, {}, e), Rational(7));
}

TEST(Viewpoints, rejects_an_unknown_or_repeated_viewpoint_naming_it) {
  try {
    Viewpoint::parse("cpint*durr");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'durr'"), std::string::npos) << e.what();
  }
  try {
    Viewpoint::parse("cpint*cpint");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cpint*cpint"), std::string::npos) << e.what();
  }
}

TEST(Viewpoints, only_the_token_viewpoint_is_available_for_other_encodings) {
  BasicAlphabet grid;  // kind tokens
  EXPECT_TRUE(is_available(Primitive::token, grid));
  EXPECT_FALSE(is_available(Primitive::cpitch, grid));
  EXPECT_FALSE(is_available(Primitive::dur, grid));
}

ViewpointValue value_of(std::vector<Rational> parts) {
  ViewpointValue v;
  for (const Rational& r : parts) v.parts[v.size++] = r;
  return v;
}

TEST(ViewpointAlphabet, covers_every_interval_between_alphabet_pitches) {
  TargetEncoding encoding(TargetConfig{TargetKind::pitch, {60, 62, 64}, {}});
  const BasicAlphabet basic = BasicAlphabet::of(encoding);
  auto alphabet = ViewpointAlphabet::build(Viewpoint::parse("cpint"), {value_of({2})}, basic);
  std::vector<std::string> text;
  for (const auto& v : alphabet.values()) text.push_back(v.to_string());
  EXPECT_EQ(text, (Strings{"-4", "-2", "0", "2", "4"}));
  EXPECT_EQ(alphabet.symbol(value_of({-2})), 1);
  EXPECT_EQ(alphabet.symbol(value_of({3})), -1);
}

TEST(ViewpointAlphabet, combines_reachable_intervals_with_the_durations_seen_in_training) {
  TargetEncoding encoding(TargetConfig{TargetKind::pitch, {60, 62}, {}});
  const BasicAlphabet basic = BasicAlphabet::of(encoding);
  // dur is not predicted for `pitch`: only the durations seen in training take part.
  auto alphabet = ViewpointAlphabet::build(Viewpoint::parse("cpint*dur"),
                                           {value_of({2, Rational(1)}), value_of({0, Rational(1, 2)})}, basic);
  std::vector<std::string> text;
  for (const auto& v : alphabet.values()) text.push_back(v.to_string());
  EXPECT_EQ(text, (Strings{"(-2 1/2)", "(-2 1)", "(0 1/2)", "(0 1)", "(2 1/2)", "(2 1)"}));
}

TEST(ViewpointAlphabet, round_trips_through_a_payload) {
  ViewpointAlphabet a({value_of({-1, Rational(3, 2)}), value_of({0, Rational(1)}), value_of({4, Rational(1, 3)})});
  ModelWriter w;
  a.save(w);
  ModelReader r(w.bytes(), "test");
  ViewpointAlphabet b = ViewpointAlphabet::load(r);
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(a.values(), b.values());
  EXPECT_EQ(b.symbol(value_of({4, Rational(1, 3)})), 2);
}

TEST(ViewpointAlphabet, rejects_an_unsorted_payload) {
  ModelWriter w;
  w.u64(2);
  for (int x : {3, 1}) {
    w.u8(1);
    w.u64(static_cast<uint64_t>(x));
    w.u64(1);
  }
  ModelReader r(w.bytes(), "bad.model");
  EXPECT_THROW(ViewpointAlphabet::load(r), ModelFileError);
}

// Mapping to tokens ---------------------------------------------------------------------------------------

TEST(MapToTokens, spreads_a_contour_prediction_over_the_pitches_it_stands_for) {
  // Previous pitch 62, pitches 60 62 64 67: contour -1 -> {60}, 0 -> {62}, +1 -> {64, 67}.
  const std::vector<double> contour = {0.2, 0.3, 0.5};  // symbols -1, 0, +1
  const std::vector<int> symbols = {0, 1, 2, 2};
  std::vector<int> counts(3, 0);
  std::vector<double> out(4);
  map_to_tokens(contour, symbols, counts, out);
  EXPECT_NEAR(out[0], 0.2, 1e-12);
  EXPECT_NEAR(out[1], 0.3, 1e-12);
  EXPECT_NEAR(out[2], 0.25, 1e-12);
  EXPECT_NEAR(out[3], 0.25, 1e-12);
  EXPECT_EQ(counts, (std::vector<int>{0, 0, 0}));
}

TEST(MapToTokens, renormalises_when_some_values_are_not_reachable) {
  // cpint alphabet -4 -2 0 2 4 with P = .1 .2 .3 .1 .3; from pitch 62 the pitches 60 62 64 reach -2 0 2 only.
  const std::vector<double> cpint = {0.1, 0.2, 0.3, 0.1, 0.3};
  const std::vector<int> symbols = {1, 2, 3};
  std::vector<int> counts(5, 0);
  std::vector<double> out(3);
  map_to_tokens(cpint, symbols, counts, out);
  EXPECT_NEAR(out[0], 0.2 / 0.6, 1e-12);
  EXPECT_NEAR(out[1], 0.3 / 0.6, 1e-12);
  EXPECT_NEAR(out[2], 0.1 / 0.6, 1e-12);
}

// Combination ---------------------------------------------------------------------------------------------

std::vector<double> combine(const std::vector<std::vector<double>>& dists, PpmCombination rule, double bias) {
  std::vector<std::span<const double>> spans(dists.begin(), dists.end());
  std::vector<double> out(dists[0].size());
  combine_distributions(spans, rule, bias, out);
  return out;
}

void expect_near(const std::vector<double>& a, const std::vector<double>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-9) << "at " << i;
}

const std::vector<std::vector<double>> kTwo = {{0.9, 0.1}, {0.5, 0.5}};
const std::vector<std::vector<double>> kThree = {{0.5, 0.25, 0.25}, {0.8, 0.1, 0.1}, {1.0 / 3, 1.0 / 3, 1.0 / 3}};

TEST(Combination, computes_the_relative_entropy_weight) {
  // H(.9, .1) = 0.468996 bits of a 1-bit maximum.
  EXPECT_NEAR(relative_entropy(kTwo[0]), 0.4689955935892812, 1e-12);
  EXPECT_NEAR(combination_weight(kTwo[0], 1), 1 / 0.4689955935892812, 1e-9);
  EXPECT_NEAR(combination_weight(kTwo[0], 0), 1, 1e-12);
  EXPECT_NEAR(relative_entropy(kThree[0]), 1.5 / std::log2(3.0), 1e-12);
  EXPECT_NEAR(relative_entropy(std::vector<double>{1.0}), 1, 1e-12);
  EXPECT_TRUE(std::isfinite(combination_weight(std::vector<double>{1.0, 0.0}, 7)));
}

TEST(Combination, arithmetic_with_bias_0_is_the_plain_mean) {
  expect_near(combine(kTwo, PpmCombination::arithmetic, 0), {0.7, 0.3});
  expect_near(combine(kThree, PpmCombination::arithmetic, 0),
              {(0.5 + 0.8 + 1.0 / 3) / 3, (0.25 + 0.1 + 1.0 / 3) / 3, (0.25 + 0.1 + 1.0 / 3) / 3});
}

TEST(Combination, geometric_with_bias_0_is_the_normalised_geometric_mean) {
  // sqrt(.9 * .5) : sqrt(.1 * .5) = 3 : 1.
  expect_near(combine(kTwo, PpmCombination::geometric, 0), {0.75, 0.25});
  // cbrt(.5 * .8 / 3) : cbrt(.25 * .1 / 3) = cbrt(16) : 1.
  const double c = std::cbrt(16.0);
  expect_near(combine(kThree, PpmCombination::geometric, 0), {c / (c + 2), 1 / (c + 2), 1 / (c + 2)});
}

TEST(Combination, bias_1_weights_by_inverse_relative_entropy) {
  // Two symbols: w = (1 / 0.468996, 1) normalised = (0.680737, 0.319263).
  const double w1 = 0.6807372359480, w2 = 1 - w1;
  expect_near(combine(kTwo, PpmCombination::arithmetic, 1), {w1 * 0.9 + w2 * 0.5, w1 * 0.1 + w2 * 0.5});
  const double a = std::pow(0.9, w1) * std::pow(0.5, w2), b = std::pow(0.1, w1) * std::pow(0.5, w2);
  expect_near(combine(kTwo, PpmCombination::geometric, 1), {a / (a + b), b / (a + b)});
  expect_near(combine(kTwo, PpmCombination::geometric, 1), {0.816937143707, 0.183062856293});
  // Three symbols: relative entropies 1.5/log2(3), H(.8,.1,.1)/log2(3), 1.
  expect_near(combine(kThree, PpmCombination::arithmetic, 1), {0.592453471071, 0.203773264465, 0.203773264465});
  expect_near(combine(kThree, PpmCombination::geometric, 1), {0.610073928394, 0.194963035803, 0.194963035803});
}

TEST(Combination, one_distribution_is_returned_as_it_is) {
  expect_near(combine({kThree[1]}, PpmCombination::geometric, 7), kThree[1]);
}

}  // namespace
}  // namespace antiphon::ppm
