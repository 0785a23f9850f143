// The generation engine: exact constrained sampling against brute force, hard constraints in every output for
// every counting family, reproducibility, infilling, call and response, and the errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "antiphon/core/error.h"
#include "antiphon/generate/generate.h"
#include "antiphon/models/registry.h"
#include "antiphon/tokens/grid.h"
#include "antiphon/tokens/notes.h"
#include "antiphon/tokens/target.h"
#include "constraint_check.h"

namespace antiphon {
namespace {

using ::testing::HasSubstr;
using testing_support::note_at;
using testing_support::violation;

Melody melody_of(const std::vector<std::pair<int, Rational>>& notes, const Meter& meter = {}) {
  Melody m;
  m.meters = {{Rational(0), meter}};
  m.keys = {{Rational(0), Key{}}};
  for (const auto& [midi, d] : notes) {
    if (midi < 0)
      m.append(std::nullopt, d);
    else
      m.append(Pitch::from_midi(midi), d);
  }
  return m;
}

// Folk-like training melodies in C major over 60..72, in quarters and eighths.
std::vector<Melody> training_melodies() {
  const Rational q(1), e(1, 2), h(2);
  return {
      melody_of({{60, q}, {62, q}, {64, q}, {65, q}, {67, h}, {64, q}, {60, q}, {62, e}, {64, e}, {62, q}, {60, h}}),
      melody_of({{67, q}, {65, q}, {64, q}, {62, q}, {60, h}, {-1, q}, {64, q}, {67, e}, {65, e}, {64, q}, {62, h}}),
      melody_of({{60, e}, {64, e}, {67, q}, {72, q}, {71, q}, {69, q}, {67, q}, {65, q}, {64, q}, {62, q}, {60, h}}),
      melody_of({{64, q}, {64, q}, {65, q}, {67, q}, {67, q}, {65, q}, {64, q}, {62, q}, {60, q}, {60, q}, {62, h}}),
  };
}

ModelPtr train(const std::string& spec, std::shared_ptr<const Encoding> encoding) {
  static const std::vector<Melody> melodies = training_melodies();
  TrainingData data;
  data.melodies = &melodies;
  data.encoding = std::move(encoding);
  data.corpus = "engine_test";
  return train_model(ModelSpec::parse(spec), data);
}

std::shared_ptr<const Encoding> grid(int steps = 2) { return std::make_shared<GridEncoding>(GridConfig{steps, 59, 72}); }

std::shared_ptr<const Encoding> pitch_target() {
  return std::make_shared<TargetEncoding>(TargetConfig::from_melodies(TargetKind::pitch, training_melodies()));
}

std::shared_ptr<const Encoding> notes_encoding() {
  NoteConfig c;
  c.durations = {Rational(1, 2), Rational(1), Rational(3, 2), Rational(2)};
  c.pitch_min = 55;
  c.pitch_max = 76;
  return std::make_shared<NoteEncoding>(c);
}

Constraints parse(const std::string& json) { return parse_constraints(json, "test"); }

// ----- exact sampling against brute force -----

// All token sequences of the region, their model probability after the context, and whether the decoded
// melody meets the constraints: the exact conditional, computed without the engine.
std::map<std::vector<int>, double> brute_force(const SequenceModel& model, const Melody& primer, int region_tokens,
                                               const Constraints& c) {
  const Encoding& enc = model.encoding();
  std::vector<int> context = enc.encode(primer);
  if (enc.end_id() >= 0) context.pop_back();
  const int vocab = static_cast<int>(model.vocab_size());
  std::map<std::vector<int>, double> out;
  double total = 0;
  std::vector<int> seq(static_cast<size_t>(region_tokens), 0);
  while (true) {
    std::vector<int> all = context;
    all.insert(all.end(), seq.begin(), seq.end());
    bool ok = std::find(seq.begin(), seq.end(), enc.end_id()) == seq.end();
    Generation g;
    if (ok) {
      try {
        std::vector<int> with_end = all;
        if (enc.end_id() >= 0) with_end.push_back(enc.end_id());
        g.melody = enc.decode(with_end);
        // The region may not hold the primer's last note.
        ok = g.melody.notes.size() > primer.notes.size() || primer.notes.empty();
        if (ok) ok = !(seq[0] == static_cast<const GridEncoding&>(enc).hold_id() && !primer.notes.back().is_rest());
      } catch (const EncodingError&) {
        ok = false;
      }
    }
    if (ok) {
      g.region_begin = primer.length();
      for (const Note& n : g.melody.notes)
        if (n.onset >= g.region_begin) g.notes.push_back({n, 0, 1});
      ok = violation(g, c).empty();
    }
    if (ok) {
      const double p = std::exp2(model.log2_prob(all) - model.log2_prob(context));
      out[seq] = p;
      total += p;
    }
    size_t i = 0;
    while (i < seq.size() && ++seq[i] == vocab) seq[i++] = 0;
    if (i == seq.size()) break;
  }
  for (auto& [s, p] : out) p /= total;
  return out;
}

TEST(ExactSampling, matches_the_brute_force_conditional_of_a_markov_chain) {
  auto model = train("markov:order=2,smoothing=witten-bell", grid(2));
  const Melody primer = melody_of({{60, 1}, {62, 1}});
  // Four eighth-note steps: 17^4 token sequences to enumerate.
  const Constraints c = parse(R"({"steps_per_quarter": 2, "steps": ". . 64|65 .", "range": ["C4", "G4"],
                                  "contour": "*U"})");
  const auto expected = brute_force(*model, primer, 4, c);
  ASSERT_GT(expected.size(), 20u);

  GenerateRequest request;
  request.primer = primer;
  request.length = 2;
  request.constraints = c;
  request.options.count = 1000;
  // Two rejection tries, then the lattice: the mixture must still be the exact conditional.
  request.options.rejection_tries = 2;
  std::map<std::vector<int>, int> seen;
  std::map<std::string, int> methods;
  GenerateResult result;
  for (uint64_t batch = 0; batch < 40; ++batch) {
    request.options.seed = 7 + 1000 * batch;
    result = generate(*model, request);
    ASSERT_TRUE(result.satisfiable) << result.reason;
    for (const Generation& g : result.generations) {
      ++methods[g.method];
      ++seen[g.tokens];
    }
  }
  EXPECT_GT(methods["exact"], 1000);
  EXPECT_GT(methods["rejection"], 1000);
  EXPECT_EQ(methods["exact"] + methods["rejection"], 40000);
  const double n = 40000;
  for (const auto& [seq, count] : seen) EXPECT_TRUE(expected.count(seq)) << "a sequence the constraints forbid";
  for (const auto& [seq, p] : expected) {
    const double f = seen.count(seq) ? seen.at(seq) / n : 0.0;
    const double se = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(f, p, 4.5 * se + 1e-4) << ::testing::PrintToString(seq);
  }
  // Once the lattice was built, the probability of meeting the constraints is exact.
  EXPECT_GT(result.generations[0].satisfaction_probability, 0);
  EXPECT_LT(result.generations[0].satisfaction_probability, 1);
  EXPECT_TRUE(result.generations[0].satisfaction_exact);
}

TEST(ExactSampling, reports_the_probability_of_meeting_the_constraints) {
  auto model = train("markov:order=1,smoothing=witten-bell", grid(2));
  const Melody primer = melody_of({{60, 1}});
  // Only the first step is constrained: P = P(first token is 64 | context).
  const Constraints c = parse(R"({"steps_per_quarter": 2, "steps": "64"})");
  GenerateRequest request;
  request.primer = primer;
  request.length = 1;
  request.constraints = c;
  request.options.stop_at_end = false;
  request.options.rejection_tries = 0;  // straight to the lattice
  const auto result = generate(*model, request);
  ASSERT_TRUE(result.satisfiable);
  // Against the same structure without constraints: the region must not hold the primer's note nor end.
  std::vector<int> context = model->encoding().encode(primer);
  context.pop_back();
  auto state = model->start();
  for (int t : context) model->advance(*state, t);
  std::vector<double> probs(model->vocab_size());
  model->predict(*state, probs);
  const auto& g = static_cast<const GridEncoding&>(model->encoding());
  // Structural first tokens: any pitch or the rest (not the hold of C4, not the end); each then completes.
  double structural = 0;
  for (int t = 0; t < static_cast<int>(probs.size()); ++t)
    if (t != g.hold_id() && t != g.end_id()) {
      auto s2 = state->clone();
      model->advance(*s2, t);
      std::vector<double> p2(model->vocab_size());
      model->predict(*s2, p2);
      structural += probs[static_cast<size_t>(t)] * (1 - p2[static_cast<size_t>(g.end_id())]);
    }
  auto s64 = state->clone();
  model->advance(*s64, g.pitch_id(64));
  std::vector<double> p64(model->vocab_size());
  model->predict(*s64, p64);
  const double wanted = probs[static_cast<size_t>(g.pitch_id(64))] * (1 - p64[static_cast<size_t>(g.end_id())]);
  EXPECT_NEAR(result.generations[0].satisfaction_probability, wanted / structural, 1e-9);
}

// ----- hard constraints for every counting family -----

struct FamilyCase {
  std::string spec;
  std::shared_ptr<const Encoding> (*encoding)();
};

std::shared_ptr<const Encoding> grid2() { return grid(2); }

class EveryFamily : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(EveryFamily, meets_every_hard_constraint_in_every_output) {
  auto model = train(GetParam().spec, GetParam().encoding());
  const Melody primer = melody_of({{60, 1}, {64, 1}, {67, 1}, {64, 1}});
  const Constraints c = parse(R"({"steps_per_quarter": 2,
      "steps": "62 - . . * - . . . . . . r - 60 -",
      "key": "C major", "range": ["C4", "C5"], "contour": "*D", "final": ["C"]})");
  GenerateRequest request;
  request.primer = primer;
  request.length = 8;
  request.constraints = c;
  request.options.count = 25;
  request.options.seed = 3;
  request.options.sampler.temperature = 1.5;
  const auto result = generate(*model, request);
  ASSERT_TRUE(result.satisfiable) << result.reason;
  ASSERT_EQ(result.generations.size(), 25u);
  for (const Generation& g : result.generations) {
    EXPECT_EQ(violation(g, c), "") << g.method;
    EXPECT_EQ(g.region_end - g.region_begin, Rational(8));
    // The primer is kept as it was.
    ASSERT_GE(g.melody.notes.size(), primer.notes.size());
    for (size_t i = 0; i < primer.notes.size(); ++i) EXPECT_EQ(g.melody.notes[i], primer.notes[i]);
    EXPECT_EQ(g.melody.check(), "");
  }
}

TEST_P(EveryFamily, reproduces_an_output_from_its_seed) {
  auto model = train(GetParam().spec, GetParam().encoding());
  GenerateRequest request;
  request.primer = melody_of({{62, 1}, {64, 1}});
  request.length = 4;
  request.constraints = parse(R"({"steps_per_quarter": 2, "key": "G major"})");
  request.options.count = 3;
  request.options.seed = 11;
  const auto a = generate(*model, request);
  request.options.count = 1;
  request.options.seed = 13;  // the third output of the first call
  const auto b = generate(*model, request);
  ASSERT_EQ(a.generations.size(), 3u);
  EXPECT_EQ(a.generations[2].tokens, b.generations[0].tokens);
  EXPECT_EQ(a.generations[2].melody, b.generations[0].melody);
  EXPECT_EQ(a.generations[2].seed, 13u);
}

INSTANTIATE_TEST_SUITE_P(Generate, EveryFamily,
                         ::testing::Values(FamilyCase{"markov:order=2", grid2}, FamilyCase{"mixed:order=3", grid2},
                                           FamilyCase{"ppm", grid2}, FamilyCase{"ppm:stm=1", grid2},
                                           FamilyCase{"hmm:states=4", grid2}, FamilyCase{"ppm", pitch_target},
                                           FamilyCase{"markov:order=2", notes_encoding}),
                         [](const auto& info) {
                           std::string name = info.param.spec + "_" + std::to_string(info.index);
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

TEST(Generate, spells_the_region_in_the_primers_key) {
  auto model = train("markov:order=2", grid(2));
  Melody primer = melody_of({{65, 1}, {69, 1}});
  primer.keys = {{Rational(0), Key{-1, Mode::major}}};  // F major
  GenerateRequest request;
  request.primer = primer;
  request.length = 2;
  request.constraints = parse(R"({"steps_per_quarter": 2, "steps": "70 - 66 -"})");
  const auto result = generate(*model, request);
  ASSERT_TRUE(result.satisfiable) << result.reason;
  ASSERT_EQ(result.generations[0].notes.size(), 2u);
  EXPECT_EQ(result.generations[0].notes[0].note.pitch->name(), "Bb4");
  EXPECT_EQ(result.generations[0].notes[1].note.pitch->name(), "Gb4");
  EXPECT_EQ(result.generations[0].melody.notes[2].pitch->name(), "Bb4");
}

// ----- infilling -----

TEST(Infill, keeps_the_context_and_fills_the_region_exactly) {
  auto model = train("markov:order=2", grid(2));
  const Melody m = training_melodies()[0];
  InfillRequest request;
  request.melody = m;
  request.from = 2;
  request.to = 6;
  request.constraints = parse(R"({"steps_per_quarter": 2, "steps": ". . 62"})");
  request.options.count = 20;
  const auto result = infill(*model, request);
  ASSERT_TRUE(result.satisfiable) << result.reason;
  for (const Generation& g : result.generations) {
    EXPECT_EQ(g.method, "exact");  // the right-hand context needs the lattice
    EXPECT_EQ(g.region_begin, Rational(2));
    EXPECT_EQ(g.region_end, Rational(6));
    EXPECT_EQ(g.melody.length(), m.length());
    for (const Note& n : m.notes) {
      if (n.end() <= request.from || n.onset >= request.to) {
        const Note* same = note_at(g.melody, n.onset);
        ASSERT_NE(same, nullptr);
        EXPECT_EQ(*same, n);
      }
    }
    EXPECT_EQ(violation(g, request.constraints), "");
    EXPECT_LT(g.context_log2_probability, 0);  // the right side was scored after the region
  }
}

TEST(Infill, a_pitch_only_model_keeps_the_regions_rhythm) {
  auto model = train("ppm", pitch_target());
  const Melody m = training_melodies()[1];
  InfillRequest request;
  request.melody = m;
  request.from = 2;
  request.to = 6;
  const auto result = infill(*model, request);
  ASSERT_TRUE(result.satisfiable) << result.reason;
  const Generation& g = result.generations[0];
  ASSERT_EQ(g.melody.notes.size(), m.notes.size());
  for (size_t i = 0; i < m.notes.size(); ++i) {
    EXPECT_EQ(g.melody.notes[i].onset, m.notes[i].onset);
    EXPECT_EQ(g.melody.notes[i].duration, m.notes[i].duration);
    EXPECT_EQ(g.melody.notes[i].is_rest(), m.notes[i].is_rest());
    if (m.notes[i].onset < request.from || m.notes[i].onset >= request.to) {
      EXPECT_EQ(g.melody.notes[i], m.notes[i]);
    }
  }
}

TEST(Infill, refuses_an_edge_inside_a_note) {
  auto model = train("markov:order=1", grid(2));
  InfillRequest request;
  request.melody = training_melodies()[0];
  request.from = Rational(9, 2);  // inside the half note at 4..6
  request.to = 7;
  EXPECT_THAT([&] { infill(*model, request); },
              ::testing::ThrowsMessage<ConfigError>(HasSubstr("falls inside note 5")));
}

// ----- call and response -----

TEST(Respond, answers_on_the_next_beat_in_the_calls_meter_and_key) {
  auto model = train("ppm", grid(2));
  // A 3/4 call in G major ending half a beat after a bar line.
  Melody call = melody_of({{67, 1}, {71, 1}, {69, 1}, {72, Rational(1, 2)}}, Meter{MeterKind::regular, 3, 4});
  call.keys = {{Rational(0), Key{1, Mode::major}}};
  RespondRequest request;
  request.call = call;
  request.bars = 2;
  request.mode = RespondMode::answer;
  request.options.count = 10;
  const auto result = respond(*model, request);
  ASSERT_TRUE(result.satisfiable) << result.reason;
  for (const Generation& g : result.generations) {
    EXPECT_EQ(g.region_begin, Rational(4));  // the beat after 7/2
    EXPECT_EQ(g.region_end - g.region_begin, Rational(6));
    EXPECT_EQ(g.melody.meter(), call.meter());
    EXPECT_EQ(g.melody.key(), call.key());
    const PitchClassSet g_major = scale_pitch_classes(Key{1, Mode::major});
    const Note* last = nullptr;
    for (const GeneratedNote& n : g.notes)
      if (!n.note.is_rest()) {
        EXPECT_TRUE(g_major[static_cast<size_t>(n.note.pitch->pitch_class())]) << n.note.pitch->name();
        last = &n.note;
      }
    ASSERT_NE(last, nullptr);
    EXPECT_EQ(last->pitch->pitch_class(), 7);  // closes on the tonic G
    // The answer echoes the call's rhythm from its first bar line: quarter notes.
    EXPECT_EQ(g.notes.front().note.duration, Rational(1));
  }
}

TEST(Respond, continuation_defaults_to_the_calls_length) {
  auto model = train("markov:order=2", notes_encoding());
  RespondRequest request;
  request.call = training_melodies()[2];  // 12 quarters in 4/4: three bars
  const auto result = respond(*model, request);
  ASSERT_TRUE(result.satisfiable) << result.reason;
  EXPECT_EQ(result.generations[0].region_end - result.generations[0].region_begin, Rational(12));
}

// ----- unsatisfiable sets and bad input -----

TEST(Constraints, an_unsatisfiable_set_is_reported_with_its_step) {
  auto model = train("markov:order=2", grid(2));
  GenerateRequest request;
  request.primer = melody_of({{60, 1}});
  request.length = 2;
  request.constraints = parse(R"({"steps_per_quarter": 2, "steps": ". 80"})");  // outside the grid's 59..72
  const auto result = generate(*model, request);
  EXPECT_FALSE(result.satisfiable);
  EXPECT_THAT(result.reason, HasSubstr("step 1"));
  EXPECT_THAT(result.reason, HasSubstr("G#5"));

  request.constraints =
      parse(R"({"steps_per_quarter": 2, "steps": "* * * * * *", "contour": "UUUUUU", "range": ["C4", "D4"]})");
  request.length = 3;
  const auto contour = generate(*model, request);
  EXPECT_FALSE(contour.satisfiable);
  EXPECT_THAT(contour.reason, HasSubstr("contour"));
}

TEST(Errors, name_the_primer_note_outside_the_vocabulary_and_an_impossible_length) {
  auto model = train("markov:order=2", grid(2));
  GenerateRequest request;
  request.primer = melody_of({{60, 1}, {90, 1}});
  request.length = 2;
  EXPECT_THAT([&] { generate(*model, request); }, ::testing::ThrowsMessage<EncodingError>(HasSubstr("F#6")));
  request.primer = melody_of({{60, 1}});
  request.length = Rational(1, 3);
  EXPECT_THAT([&] { generate(*model, request); },
              ::testing::ThrowsMessage<ConfigError>(HasSubstr("not a whole number of steps")));
  request.length = 0;
  EXPECT_THAT([&] { generate(*model, request); }, ::testing::ThrowsMessage<ConfigError>(HasSubstr("not positive")));
  request.length = 4;
  request.constraints = parse(R"({"steps_per_quarter": 2, "steps": ". . . . . . . . . ."})");
  EXPECT_THAT([&] { generate(*model, request); }, ::testing::ThrowsMessage<ConfigError>(HasSubstr("beyond")));
}

// ----- beam search -----

TEST(Beam, deterministic_beam_finds_a_sequence_at_least_as_probable_as_greedy) {
  auto model = train("markov:order=2", grid(2));
  GenerateRequest request;
  request.primer = melody_of({{60, 1}, {62, 1}});
  request.length = 4;
  request.options.stop_at_end = false;
  request.options.sampler.temperature = 0;
  const auto greedy = generate(*model, request);
  request.options.sampler.temperature = 1;
  request.options.beam.beam_size = 8;
  request.options.beam.deterministic = true;
  const auto beam = generate(*model, request);
  ASSERT_TRUE(beam.satisfiable);
  EXPECT_GE(beam.generations[0].log2_probability, greedy.generations[0].log2_probability - 1e-12);
  // Deterministic: another seed gives the same sequence.
  request.options.seed = 99;
  EXPECT_EQ(generate(*model, request).generations[0].tokens, beam.generations[0].tokens);
}

TEST(Beam, stochastic_beam_keeps_the_constraints) {
  auto model = train("ppm:stm=1", grid(2));
  GenerateRequest request;
  request.primer = melody_of({{60, 1}});
  request.length = 4;
  request.constraints = parse(R"({"steps_per_quarter": 2, "steps": "* - * - 64 - * -", "key": "C major"})");
  request.options.beam = BeamParams{4, 2, 2, false};
  request.options.count = 5;
  const auto result = generate(*model, request);
  ASSERT_TRUE(result.satisfiable) << result.reason;
  for (const Generation& g : result.generations) EXPECT_EQ(violation(g, request.constraints), "");
}

}  // namespace
}  // namespace antiphon
