// The lookback_rnn and attention_rnn feature codecs (codec_features.cpp): inputs and labels checked by hand on
// a three-bar melody whose third bar repeats the first, the incremental paths against the tokens/ features,
// and the label-to-token probabilities. Torch-free code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/tokens/key_melody.h"
#include "antiphon/tokens/lookback.h"
#include "models/neural/codec.h"

namespace antiphon::neural {
namespace {

using ::testing::HasSubstr;

// Event classes of the basic range (events.h): 0 no event, 1 note off, 2 + pitch - 48.
constexpr int kHold = 0;
constexpr int kOff = 1;
constexpr int cls(int pitch) { return 2 + pitch - 48; }

// Three 4/4 bars of 16ths:  C4 E4 G4 quarters, quarter rest | D4 E4 quarters, D4 half | bar 1 again.
std::vector<int> three_bars() {
  const std::vector<int> bar1 = {cls(60), kHold, kHold, kHold, cls(64), kHold, kHold, kHold,
                                 cls(67), kHold, kHold, kHold, kOff,    kHold, kHold, kHold};
  const std::vector<int> bar2 = {cls(62), kHold, kHold, kHold, cls(64), kHold, kHold, kHold,
                                 cls(62), kHold, kHold, kHold, kHold,   kHold, kHold, kHold};
  std::vector<int> tokens = bar1;
  tokens.insert(tokens.end(), bar2.begin(), bar2.end());
  tokens.insert(tokens.end(), bar1.begin(), bar1.end());
  return tokens;
}

// Random event classes, mostly holds (as real melodies are), over the basic range.
std::vector<int> random_tokens(size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> pitch(0, 37);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<int> tokens(count);
  for (int& t : tokens) t = u(rng) < 0.6 ? kHold : pitch(rng);
  return tokens;
}

std::vector<int> event_values(const EventEncoding& encoding, const std::vector<int>& tokens) {
  std::vector<int> events;
  for (int t : tokens) events.push_back(encoding.event_of(t));
  return events;
}

std::span<const float> row(const CodedSequence& coded, size_t t, int size) {
  return std::span<const float>(coded.features).subspan(t * static_cast<size_t>(size), static_cast<size_t>(size));
}

// Expects `values` to be zero except at the listed indices.
void expect_sparse(std::span<const float> values, const std::map<size_t, float>& nonzero, const std::string& what) {
  for (size_t i = 0; i < values.size(); ++i) {
    auto it = nonzero.find(i);
    EXPECT_EQ(values[i], it == nonzero.end() ? 0.0f : it->second) << what << ", index " << i;
  }
}

// Writes a binary counter (bit 0 first, +1 / -1) of n into `out` from `offset`.
void add_counter(std::map<size_t, float>& out, size_t offset, int bits, unsigned n) {
  for (int i = 0; i < bits; ++i) out[offset + static_cast<size_t>(i)] = ((n >> i) & 1U) ? 1.0f : -1.0f;
}

std::string encoding_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const EncodingError& e) {
    return e.what();
  }
  return "no EncodingError";
}

TEST(LookbackCodec, has_magentas_sizes_for_the_basic_range) {
  LookbackEncoding encoding;
  auto codec = make_codec("lookback", encoding);
  EXPECT_EQ(codec->name(), "lookback");
  EXPECT_EQ(codec->input_size(), 121);
  EXPECT_EQ(codec->num_labels(), 40);
  EXPECT_EQ(codec->input_vocab(), 0);
  AttentionEncoding attention;
  auto key_codec = make_codec("attention", attention);
  EXPECT_EQ(key_codec->name(), "attention");
  EXPECT_EQ(key_codec->input_size(), 74);
  EXPECT_EQ(key_codec->num_labels(), 40);
  EXPECT_THROW(make_codec("attention", encoding), ConfigError);
}

TEST(LookbackCodec, labels_mark_repeats_of_one_and_two_bars_back) {
  LookbackEncoding encoding;
  auto codec = make_lookback_codec(encoding);
  const CodedSequence coded = codec->code(three_bars());
  ASSERT_EQ(coded.steps, 48U);
  ASSERT_EQ(coded.labels.size(), 48U);
  // By hand: 38 = repeat of one bar back, 39 = two bars back (and Magenta's label for a hold in the first
  // two bars); otherwise the event class.
  std::vector<int64_t> expected(48, 39);
  expected[0] = cls(60);
  expected[4] = cls(64);
  expected[8] = cls(67);
  expected[12] = kOff;
  expected[16] = cls(62);  // D4 after C4 one bar back: no repeat
  expected[20] = 38;       // E4 as one bar back (step 4)
  expected[24] = cls(62);  // D4 where G4 was
  // Bar 3 repeats bar 1 (step 36's E4 also repeats bar 2, the more distant lookback wins): all 39.
  EXPECT_EQ(coded.labels, expected);
}

TEST(LookbackCodec, inputs_read_the_event_before_each_step) {
  LookbackEncoding encoding;
  auto codec = make_lookback_codec(encoding);
  const CodedSequence coded = codec->code(three_bars());
  ASSERT_EQ(coded.features.size(), 48U * 121U);
  // Layout: [0, 38) event, [38, 76) event after one bar back, [76, 114) after two bars back, [114, 119)
  // counter of the next step, 119/120 repeat flags.
  expect_sparse(row(coded, 0, 121), {}, "step 0");
  {  // Step 20 reads step 19, a hold; one bar back step 4 (E4) follows step 3, and step 19 repeats step 3.
    std::map<size_t, float> e = {{kHold, 1}, {38 + cls(64), 1}, {76 + kHold, 1}, {119, 1}};
    add_counter(e, 114, 5, 20);
    expect_sparse(row(coded, 20, 121), e, "step 20");
  }
  {  // Step 21 reads step 20: E4, which repeats step 4.
    std::map<size_t, float> e = {{cls(64), 1}, {38 + kHold, 1}, {76 + kHold, 1}, {119, 1}};
    add_counter(e, 114, 5, 21);
    expect_sparse(row(coded, 21, 121), e, "step 21");
  }
  {  // Step 33 reads step 32: C4 as two bars back; one bar back D4 (step 16) is not.
    std::map<size_t, float> e = {{cls(60), 1}, {38 + kHold, 1}, {76 + kHold, 1}, {120, 1}};
    add_counter(e, 114, 5, 33);
    expect_sparse(row(coded, 33, 121), e, "step 33");
  }
  {  // Step 36 reads step 35 (a hold like steps 19 and 3); both lookbacks see E4 next (steps 20 and 4).
    std::map<size_t, float> e = {{kHold, 1}, {38 + cls(64), 1}, {76 + cls(64), 1}, {119, 1}, {120, 1}};
    add_counter(e, 114, 5, 36);
    expect_sparse(row(coded, 36, 121), e, "step 36");
  }
}

TEST(AttentionCodec, labels_and_inputs_of_the_key_melody_features) {
  AttentionEncoding encoding;
  auto codec = make_attention_codec(encoding);
  const CodedSequence coded = codec->code(three_bars());
  // Labels: 0..35 pitch - 48, 36 hold, 37 note off, 38 / 39 repeats.
  std::vector<int64_t> expected(48, 39);
  expected[0] = 60 - 48;
  expected[4] = 64 - 48;
  expected[8] = 67 - 48;
  expected[12] = 37;
  expected[16] = 62 - 48;
  expected[20] = 38;
  expected[24] = 62 - 48;
  EXPECT_EQ(coded.labels, expected);

  // Layout: [0, 36) sounding pitch, 36 note, 37 silence, 38 attack, 39 direction, 40/41 repeats, [42, 49)
  // counter, 49 bar start next, [50, 62) best keys so far, [62, 74) best keys of the last three pitches.
  expect_sparse(row(coded, 0, 74), {}, "step 0");
  {  // Step 16 reads step 15: silence after C4 E4 G4 (rising); the next step starts bar 2. Pitch classes
     // C, E, G fit C, F and G major (3 each).
    std::map<size_t, float> e = {{37, 1}, {39, 1}, {49, 1}, {50, 1}, {55, 1}, {57, 1}, {62, 1}, {67, 1}, {69, 1}};
    add_counter(e, 42, 7, 16);
    expect_sparse(row(coded, 16, 74), e, "step 16");
  }
  {  // Step 21 reads step 20: E4 struck, up from D4, repeating step 4. Counts C1 D1 E2 G1: C, F, G major
     // (5); the last three distinct pitches G4 D4 E4 fit C, D, F and G major.
    std::map<size_t, float> e = {{64 - 48, 1}, {36, 1}, {38, 1}, {39, 1}, {40, 1}, {50, 1},
                                 {55, 1},      {57, 1}, {62, 1}, {64, 1}, {67, 1}, {69, 1}};
    add_counter(e, 42, 7, 21);
    expect_sparse(row(coded, 21, 74), e, "step 21");
  }
  {  // Step 26 reads step 25: D4 held after falling from E4; the hold repeats step 9's.
    std::map<size_t, float> e = {{62 - 48, 1}, {36, 1}, {39, -1}, {40, 1}, {50, 1}, {55, 1},
                                 {57, 1},      {62, 1}, {64, 1},  {67, 1}, {69, 1}};
    add_counter(e, 42, 7, 26);
    expect_sparse(row(coded, 26, 74), e, "step 26");
  }
}

// Both codecs: code() row t equals input_features(tokens[0, t)); for the attention codec's one-pass scan
// also the tokens/ features of event t - 1, and the labels equal the tokens/ labels.
template <typename Encoding>
void expect_incremental_agrees(const Encoding& encoding, const Codec& codec, const std::vector<int>& tokens) {
  const CodedSequence coded = codec.code(tokens);
  const std::vector<int> events = event_values(encoding.event_encoding(), tokens);
  const int f = codec.input_size();
  std::vector<float> step(static_cast<size_t>(f));
  for (size_t t = 0; t < tokens.size(); ++t) {
    codec.input_features(std::span<const int>(tokens).first(t), step);
    const auto coded_row = row(coded, t, f);
    ASSERT_TRUE(std::equal(step.begin(), step.end(), coded_row.begin())) << codec.name() << " step " << t;
    if (t > 0) {
      const std::vector<float> reference = encoding.features().inputs(events, t - 1);
      ASSERT_TRUE(std::equal(reference.begin(), reference.end(), coded_row.begin())) << codec.name() << " step " << t;
    }
    ASSERT_EQ(coded.labels[t], encoding.features().label(events, t)) << codec.name() << " step " << t;
  }
}

TEST(FeatureCodecs, code_agrees_with_input_features_step_by_step) {
  LookbackEncoding lookback;
  AttentionEncoding attention;
  auto lookback_codec = make_lookback_codec(lookback);
  auto attention_codec = make_attention_codec(attention);
  for (const auto& tokens : {three_bars(), random_tokens(150, 1), random_tokens(90, 2)}) {
    expect_incremental_agrees(lookback, *lookback_codec, tokens);
    expect_incremental_agrees(attention, *attention_codec, tokens);
  }
}

TEST(FeatureCodecs, token_probs_move_repeat_mass_to_the_copied_event) {
  LookbackEncoding lookback;
  auto codec = make_lookback_codec(lookback);
  const std::vector<int> tokens = three_bars();
  std::vector<double> labels(40, 0.0), probs(38);
  // Before step 36: one bar back (step 20) and two bars back (step 4) are both E4.
  const auto history = std::span<const int>(tokens).first(36);
  labels[38] = 0.25;
  labels[39] = 0.5;
  labels[cls(64)] = 0.125;
  labels[kOff] = 0.125;
  codec->token_probs(history, labels, probs);
  EXPECT_DOUBLE_EQ(probs[cls(64)], 0.875);
  EXPECT_DOUBLE_EQ(probs[kOff], 0.125);
  // Before step 17: one bar back (step 1) is a hold; two bars back lies before the start, a hold too.
  codec->token_probs(std::span<const int>(tokens).first(17), labels, probs);
  EXPECT_DOUBLE_EQ(probs[kHold], 0.75);
  EXPECT_DOUBLE_EQ(probs[cls(64)], 0.125);
  // Before step 32: one bar back is D4 (step 16), two bars back C4 (step 0).
  codec->token_probs(std::span<const int>(tokens).first(32), labels, probs);
  EXPECT_DOUBLE_EQ(probs[cls(62)], 0.25);
  EXPECT_DOUBLE_EQ(probs[cls(60)], 0.5);

  AttentionEncoding attention;
  auto key_codec = make_attention_codec(attention);
  std::vector<double> key_labels(40, 0.0);
  key_labels[36] = 0.5;  // hold
  key_labels[38] = 0.5;  // one bar back: D4
  key_codec->token_probs(std::span<const int>(tokens).first(32), key_labels, probs);
  EXPECT_DOUBLE_EQ(probs[kHold], 0.5);
  EXPECT_DOUBLE_EQ(probs[cls(62)], 0.5);
}

TEST(FeatureCodecs, token_probs_sum_to_one_and_match_class_from_label) {
  LookbackEncoding lookback;
  AttentionEncoding attention;
  auto lookback_codec = make_lookback_codec(lookback);
  auto attention_codec = make_attention_codec(attention);
  const std::vector<int> tokens = random_tokens(80, 3);
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> u(0.01, 1);
  auto check = [&](const Codec& codec, const auto& features, const EventEncoding& events_encoding) {
    const std::vector<int> events = event_values(events_encoding, tokens);
    for (size_t t = 0; t <= tokens.size(); ++t) {
      std::vector<double> labels(40);
      for (double& p : labels) p = u(rng);
      const double total = std::accumulate(labels.begin(), labels.end(), 0.0);
      for (double& p : labels) p /= total;
      std::vector<double> probs(38, -1.0), expected(38, 0.0);
      codec.token_probs(std::span<const int>(tokens).first(t), labels, probs);
      const std::vector<int> history(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(t));
      for (int l = 0; l < 40; ++l)
        expected[static_cast<size_t>(features.class_from_label(history, t, l))] += labels[static_cast<size_t>(l)];
      EXPECT_NEAR(std::accumulate(probs.begin(), probs.end(), 0.0), 1.0, 1e-12) << codec.name() << " step " << t;
      for (size_t k = 0; k < probs.size(); ++k)
        ASSERT_NEAR(probs[k], expected[k], 1e-12) << codec.name() << " step " << t << " token " << k;
    }
  };
  check(*lookback_codec, lookback.features(), lookback.event_encoding());
  check(*attention_codec, attention.features(), attention.event_encoding());
}

TEST(FeatureCodecs, tokens_outside_the_event_classes_are_rejected_by_position) {
  LookbackEncoding lookback;
  AttentionEncoding attention;
  std::vector<std::unique_ptr<Codec>> codecs;
  codecs.push_back(make_lookback_codec(lookback));
  codecs.push_back(make_attention_codec(attention));
  for (const auto& codec : codecs) {
    std::vector<int> tokens = three_bars();
    tokens[3] = 38;
    EXPECT_THAT(encoding_error_of([&] { codec->code(tokens); }), HasSubstr("token 3 has id 38")) << codec->name();
    tokens[3] = -1;
    EXPECT_THAT(encoding_error_of([&] { codec->code(tokens); }), HasSubstr("token 3 has id -1")) << codec->name();
    std::vector<float> features(static_cast<size_t>(codec->input_size()));
    EXPECT_THAT(encoding_error_of([&] { codec->input_features(std::span<const int>(tokens).first(5), features); }),
                HasSubstr("token 3 has id -1"))
        << codec->name();
    // A repeat label copies token 3 before step 19 (one bar back).
    std::vector<double> labels(40, 0.025), probs(38);
    EXPECT_THAT(encoding_error_of([&] { codec->token_probs(std::span<const int>(tokens).first(19), labels, probs); }),
                HasSubstr("token 3 has id -1"))
        << codec->name();
  }
}

}  // namespace
}  // namespace antiphon::neural
