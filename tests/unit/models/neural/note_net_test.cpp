// The note-level codec (features of (pitch part, duration) tokens) and the note_lstm net with its factored
// output P(d | h) P(p | d, h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/models/model_file.h"
#include "antiphon/models/registry.h"
#include "antiphon/tokens/intervals.h"
#include "antiphon/tokens/notes.h"
#include "models/neural/codec.h"
#include "models/neural/nets.h"
#include "models/neural/neural_model.h"

namespace antiphon::neural {
namespace {

using ::testing::HasSubstr;

// Offsets of the feature groups after the pitch [P] and duration [D] one-hots.
struct Layout {
  int p, d;
  int step(int semitones) const { return p + d + semitones + 12; }
  int no_step() const { return p + d + 25; }
  int pitch_class(int pc) const { return p + d + 26 + pc; }
  int no_pitch_class() const { return p + d + 38; }
  int rest() const { return p + d + 39; }
  int start() const { return p + d + 40; }
  int onset(int sixteenth) const { return p + d + 41 + sixteenth; }
  int off_grid() const { return p + d + 57; }
  int above_first(int interval_class) const { return p + d + 58 + interval_class; }
  int no_first() const { return p + d + 70; }
  int share(int pc) const { return p + d + 71 + pc; }
  int size() const { return p + d + 83; }
};

// The indices of the nonzero features of step t (all ones but the pitch-class shares).
std::vector<int> ones(const CodedSequence& c, size_t t, int size) {
  std::vector<int> out;
  for (int i = 0; i < size; ++i)
    if (c.features[t * static_cast<size_t>(size) + static_cast<size_t>(i)] != 0.0f) out.push_back(i);
  return out;
}

float feature(const CodedSequence& c, size_t t, int size, int i) {
  return c.features[t * static_cast<size_t>(size) + static_cast<size_t>(i)];
}

TEST(NoteCodec, features_describe_the_previous_note_and_the_next_onset) {
  const NoteEncoding enc;
  const int P = static_cast<int>(enc.pitch_vocab().size());
  const int D = static_cast<int>(enc.durations().size());
  ASSERT_EQ(P, 129);
  const Layout L{P, D};
  auto note = [&](int midi, Duration d) { return enc.joint_id({enc.pitch_id(midi), enc.duration_id(d)}); };
  auto rest = [&](Duration d) { return enc.joint_id({enc.rest_pitch_id(), enc.duration_id(d)}); };
  const int d1 = enc.duration_id(Rational(1)), d_half = enc.duration_id(Rational(1, 2)),
            d_dotted = enc.duration_id(Rational(3, 2)), d_triplet = enc.duration_id(Rational(1, 3));
  // C4 quarter, eighth rest, D4 dotted quarter, D3 triplet eighth (-12), E4 quarter (+14), end.
  const std::vector<int> tokens = {note(60, Rational(1)), rest(Rational(1, 2)), note(62, Rational(3, 2)),
                                   note(50, Rational(1, 3)), note(64, Rational(1)), enc.end_id()};
  const auto codec = make_codec("notes_basic", enc);
  EXPECT_EQ(codec->name(), "notes_basic");
  ASSERT_EQ(codec->input_size(), L.size());
  EXPECT_EQ(codec->input_vocab(), 0);
  EXPECT_EQ(codec->num_labels(), P * D + 1);
  const CodedSequence c = codec->code(tokens);
  ASSERT_EQ(c.steps, tokens.size());
  EXPECT_EQ(c.labels, std::vector<int64_t>(tokens.begin(), tokens.end()));
  // Step 0: nothing read yet; the first onset is at 0.
  EXPECT_EQ(ones(c, 0, L.size()),
            (std::vector<int>{L.no_step(), L.no_pitch_class(), L.start(), L.onset(0), L.no_first()}));
  // Step 1 reads C4 quarter: no earlier pitch, pitch class 0, next onset 4 16ths; C4 is the first pitch.
  EXPECT_EQ(ones(c, 1, L.size()), (std::vector<int>{60, P + d1, L.no_step(), L.pitch_class(0), L.onset(4),
                                                    L.above_first(0), L.share(0)}));
  // Step 2 reads the eighth rest: the last pitch C4 stays, with the rest token and flag; onset 6.
  EXPECT_EQ(ones(c, 2, L.size()), (std::vector<int>{60, P - 1, P + d_half, L.no_step(), L.pitch_class(0), L.rest(),
                                                    L.onset(6), L.above_first(0), L.share(0)}));
  // Step 3 reads D4 dotted quarter: +2 over the rest, pitch class 2; onset 6 + 6 = 12.
  EXPECT_EQ(ones(c, 3, L.size()), (std::vector<int>{62, P + d_dotted, L.step(2), L.pitch_class(2), L.onset(12),
                                                    L.above_first(2), L.share(0), L.share(2)}));
  // Step 4 reads D3 triplet eighth: -12; the onset leaves the 16th grid; D3 is still a second above C.
  EXPECT_EQ(ones(c, 4, L.size()), (std::vector<int>{50, P + d_triplet, L.step(-12), L.pitch_class(2), L.off_grid(),
                                                    L.above_first(2), L.share(0), L.share(2)}));
  // Step 5 reads E4: +14 is clamped to +12; once off the grid, the onsets stay off it.
  EXPECT_EQ(ones(c, 5, L.size()), (std::vector<int>{64, P + d1, L.step(12), L.pitch_class(4), L.off_grid(),
                                                    L.above_first(4), L.share(0), L.share(2), L.share(4)}));
  // The shares of the pitch classes among the pitched notes so far: C, C, C D, C D D, C D D E.
  EXPECT_EQ(feature(c, 2, L.size(), L.share(0)), 1.0f);
  EXPECT_EQ(feature(c, 3, L.size(), L.share(2)), 0.5f);
  EXPECT_FLOAT_EQ(feature(c, 4, L.size(), L.share(2)), 2.0f / 3.0f);
  EXPECT_EQ(feature(c, 5, L.size(), L.share(0)), 0.25f);
  EXPECT_EQ(feature(c, 5, L.size(), L.share(2)), 0.5f);
  for (size_t t = 0; t < tokens.size(); ++t)
    for (int i = 0; i < L.size(); ++i)
      if (i < L.share(0)) {
        EXPECT_TRUE(feature(c, t, L.size(), i) == 0.0f || feature(c, t, L.size(), i) == 1.0f) << t << " " << i;
      }

  // The incremental inputs are the same rows.
  std::vector<float> f(static_cast<size_t>(L.size()));
  for (size_t t = 0; t < tokens.size(); ++t) {
    codec->input_features(std::span<const int>(tokens).first(t), f);
    EXPECT_TRUE(std::equal(f.begin(), f.end(), c.features.begin() + static_cast<long>(t * f.size()))) << "step " << t;
  }
  // After the end symbol nothing is pitched or timed anew: the last pitch stays, no duration, no step.
  codec->input_features(tokens, f);
  EXPECT_EQ(f[64], 1.0f);
  for (int d = 0; d < D; ++d) EXPECT_EQ(f[static_cast<size_t>(P + d)], 0.0f) << d;
  EXPECT_EQ(f[static_cast<size_t>(L.no_step())], 1.0f);
  EXPECT_EQ(f[static_cast<size_t>(L.pitch_class(4))], 1.0f);
  // Token probabilities are the label probabilities.
  std::vector<double> labels(static_cast<size_t>(P * D + 1));
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<double>(i);
  std::vector<double> probs(labels.size());
  codec->token_probs(tokens, labels, probs);
  EXPECT_EQ(probs, labels);
}

TEST(NoteCodec, reads_interval_tokens_as_steps_from_the_first_absolute_pitch) {
  IntervalConfig config;
  config.durations = {Rational(1, 2), Rational(1)};
  const IntervalEncoding enc(config);
  const int P = static_cast<int>(enc.pitch_vocab().size());
  const Layout L{P, 2};
  Melody m;
  m.append(Pitch::from_midi(67), Rational(1));  // G4
  m.append(std::nullopt, Rational(1, 2));
  m.append(Pitch::from_midi(64), Rational(1, 2));  // -3 over the rest
  const std::vector<int> tokens = enc.encode(m);  // @67:1 r:1/2 -3:1/2 </s>
  const auto codec = make_codec("notes_basic", enc);
  const CodedSequence c = codec->code(tokens);
  const int step_down = enc.interval_id(-3);
  EXPECT_EQ(ones(c, 1, L.size()),
            (std::vector<int>{67, P + 1, L.no_step(), L.pitch_class(7), L.onset(4), L.above_first(0), L.share(7)}));
  EXPECT_EQ(ones(c, 2, L.size()), (std::vector<int>{67, P - 1, P + 0, L.no_step(), L.pitch_class(7), L.rest(),
                                                    L.onset(6), L.above_first(0), L.share(7)}));
  // The step -3 leads to E4, given as its absolute token "@64"; E4 is a major sixth above the first pitch G4.
  EXPECT_EQ(ones(c, 3, L.size()), (std::vector<int>{64, P + 0, L.step(-3), L.pitch_class(4), L.onset(8),
                                                    L.above_first(9), L.share(4), L.share(7)}));
  EXPECT_EQ(c.labels[2], enc.joint_id({step_down, 0}));
}

TEST(NoteCodec, repeat_inputs_give_the_continuations_of_the_longest_earlier_matches) {
  const NoteEncoding enc;
  const int P = static_cast<int>(enc.pitch_vocab().size());
  const int D = static_cast<int>(enc.durations().size());
  const Layout L{P, D};
  const auto plain = make_codec("notes_basic", enc);
  const auto codec = make_codec("notes", enc);
  EXPECT_EQ(codec->name(), "notes");
  // After the plain inputs, three blocks: the tokens' match (pitch part [P + none], duration [D], step [26],
  // length [7]), the pitch parts' match (pitch part, step, length) and the steps' match (step, length).
  const int rp = L.size(), rd = rp + P + 1, rs = rd + D, rm = rs + 26;
  const int pp = rm + 7, ps = pp + P + 1, pm = ps + 26;
  const int ss = pm + 7, sm = ss + 26;
  ASSERT_EQ(codec->input_size(), sm + 7);
  const int q = enc.duration_id(Rational(1)), e = enc.duration_id(Rational(1, 2));
  auto n = [&](int midi, int d) { return enc.joint_id({enc.pitch_id(midi), d}); };
  auto repeat_ones = [&](const CodedSequence& c, const CodedSequence& base, size_t t, int from, int to) {
    // The plain part is the plain codec's row.
    EXPECT_TRUE(std::equal(base.features.begin() + static_cast<long>(t * static_cast<size_t>(rp)),
                           base.features.begin() + static_cast<long>((t + 1) * static_cast<size_t>(rp)),
                           c.features.begin() + static_cast<long>(t * static_cast<size_t>(codec->input_size()))))
        << t;
    std::vector<int> out;
    for (int i : ones(c, t, codec->input_size()))
      if (i >= from && i < to) out.push_back(i);
    return out;
  };
  {
    // A B C A B A B, then C5 eighth, with A = G4 quarter, B = A4 quarter, C = F4 eighth.
    const std::vector<int> tokens = {n(67, q), n(69, q), n(65, e), n(67, q), n(69, q), n(67, q), n(69, q), n(72, e)};
    const CodedSequence c = codec->code(tokens), base = plain->code(tokens);
    auto tokens_block = [&](size_t t) { return repeat_ones(c, base, t, rp, pp); };
    auto pitches_block = [&](size_t t) { return repeat_ones(c, base, t, pp, ss); };
    auto steps_block = [&](size_t t) { return repeat_ones(c, base, t, ss, sm + 7); };
    // Nothing repeats in A B C: no continuation (pitch none, step none, no length).
    for (size_t t = 0; t <= 3; ++t) {
      EXPECT_EQ(tokens_block(t), (std::vector<int>{rp + P, rs + 25})) << t;
      EXPECT_EQ(pitches_block(t), (std::vector<int>{pp + P, ps + 25})) << t;
    }
    // Steps +2 -4: nothing repeats yet.
    for (size_t t = 0; t <= 3; ++t) EXPECT_EQ(steps_block(t), (std::vector<int>{ss + 25})) << t;
    // After A B C A: A (length 1) was followed by B = A4 quarter, +2 from G4; the step +2 by -4.
    EXPECT_EQ(tokens_block(4), (std::vector<int>{rp + 69, rd + q, rs + 14, rm + 0}));
    EXPECT_EQ(pitches_block(4), (std::vector<int>{pp + 69, ps + 14, pm + 0}));
    EXPECT_EQ(steps_block(4), (std::vector<int>{ss + 8, sm + 0}));
    // After A B C A B: A B (length 2) was followed by C = F4 eighth, -4 from A4; the steps +2 +2 occur only
    // now, and the latest earlier +2 was followed by +2.
    EXPECT_EQ(tokens_block(5), (std::vector<int>{rp + 65, rd + e, rs + 8, rm + 1}));
    EXPECT_EQ(pitches_block(5), (std::vector<int>{pp + 65, ps + 8, pm + 1}));
    EXPECT_EQ(steps_block(5), (std::vector<int>{ss + 14, sm + 0}));
    // After A B C A B A: "B A" occurs only at the end; "A" ends at 0 and 3, and the most recent is followed
    // by B. The step -2 is new.
    EXPECT_EQ(tokens_block(6), (std::vector<int>{rp + 69, rd + q, rs + 14, rm + 0}));
    EXPECT_EQ(steps_block(6), (std::vector<int>{ss + 25}));
    // After A B C A B A B: "B A B" occurs only at the end; "A B" ends at 1 and 4, and the most recent is
    // followed by A = G4, -2. Of the steps +2 -4 +2 +2 -2 +2, the latest earlier +2 (before -2) is the most
    // recent of the length-1 matches.
    EXPECT_EQ(tokens_block(7), (std::vector<int>{rp + 67, rd + q, rs + 10, rm + 1}));
    EXPECT_EQ(steps_block(7), (std::vector<int>{ss + 10, sm + 0}));
    // The incremental inputs are the same rows.
    std::vector<float> f(static_cast<size_t>(codec->input_size()));
    for (size_t t = 0; t < tokens.size(); ++t) {
      codec->input_features(std::span<const int>(tokens).first(t), f);
      EXPECT_TRUE(std::equal(f.begin(), f.end(), c.features.begin() + static_cast<long>(t * f.size()))) << "step " << t;
    }
  }
  {
    // G4 quarter, A4 quarter, G4 eighth: the token G4 eighth is new, the pitch G4 was followed by A4.
    const std::vector<int> tokens = {n(67, q), n(69, q), n(67, e), n(69, e)};
    const CodedSequence c = codec->code(tokens), base = plain->code(tokens);
    EXPECT_EQ(repeat_ones(c, base, 3, rp, pp), (std::vector<int>{rp + P, rs + 25}));
    EXPECT_EQ(repeat_ones(c, base, 3, pp, ss), (std::vector<int>{pp + 69, ps + 14, pm + 0}));
  }
}

TEST(NoteCodec, refuses_tokens_outside_the_vocabulary_and_other_encodings) {
  const NoteEncoding enc;
  const auto codec = make_codec("notes", enc);
  const std::vector<int> tokens = {enc.joint_id({60, 0}), 99999};
  try {
    codec->code(tokens);
    FAIL() << "no error";
  } catch (const EncodingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("token 1 has id 99999"));
  }
  const auto grid = make_encoding("grid");
  try {
    make_codec("notes", *grid);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr(grid->spec()));
  }
}

// A small note encoding: MIDI 60..64 and a rest (P = 6), durations 1/2, 1, 2 (D = 3): 19 labels.
const NoteEncoding& small_encoding() {
  static const NoteEncoding enc([] {
    NoteConfig c;
    c.durations = {Rational(1, 2), Rational(1), Rational(2)};
    c.pitch_min = 60;
    c.pitch_max = 64;
    return c;
  }());
  return enc;
}

struct Small {
  std::unique_ptr<Codec> codec;
  NetShape shape;
};

Small small_setup() {
  const NoteEncoding& enc = small_encoding();
  Small s;
  s.codec = make_codec("notes", enc);
  s.shape = NetShape{s.codec->input_size(), 0, s.codec->num_labels(), static_cast<int>(enc.vocab().size()),
                     static_cast<int>(enc.pitch_vocab().size()), static_cast<int>(enc.durations().size())};
  return s;
}

NetParams note_params(int hidden, int layers, int embed, double dropout) {
  NetParams p;
  p.kind = "note_lstm";
  p.hidden = hidden;
  p.layers = layers;
  p.embed = embed;
  p.dropout = dropout;
  return p;
}

std::shared_ptr<Net> make_seeded(const NetParams& params, const NetShape& shape, uint64_t seed = 3) {
  torch::manual_seed(seed);
  torch::set_num_threads(1);
  return make_net(params, shape);
}

// Token sequences (joint ids of the small encoding, each ending with the end symbol).
const std::vector<std::vector<int>>& melodies() {
  static const std::vector<std::vector<int>> m = [] {
    const NoteEncoding& enc = small_encoding();
    auto n = [&](int p, int d) { return enc.joint_id({p, d}); };
    return std::vector<std::vector<int>>{
        {n(0, 1), n(2, 1), n(4, 0), n(5, 0), n(2, 2), enc.end_id()},
        {n(4, 0), n(3, 0), n(2, 1), n(0, 2), enc.end_id()},
        {n(0, 0), n(1, 0), n(2, 0), n(3, 0), n(4, 1), n(5, 1), n(4, 2), enc.end_id()},
    };
  }();
  return m;
}

NetBatch batch_of(const Codec& codec, std::vector<CodedSequence>& coded) {
  coded.clear();
  for (const auto& s : melodies()) coded.push_back(codec.code(s));
  std::vector<const CodedSequence*> pointers;
  for (const auto& c : coded) pointers.push_back(&c);
  return make_batch(pointers, codec);
}

void set_parameter(Net& net, const std::string& name, const torch::Tensor& value) {
  torch::NoGradGuard no_grad;
  auto params = net.named_parameters();
  ASSERT_TRUE(params.contains(name)) << name;
  params[name].copy_(value);
}

TEST(NoteLstmNet, joint_output_is_a_distribution_at_every_step) {
  Small s = small_setup();
  auto net = make_seeded(note_params(16, 2, 0, 0.0), s.shape);
  std::vector<CodedSequence> coded;
  const NetBatch batch = batch_of(*s.codec, coded);
  torch::NoGradGuard no_grad;
  const torch::Tensor out = net->forward(batch);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{3, 8, 19}));
  const torch::Tensor sums = out.to(torch::kDouble).exp().sum(-1);
  EXPECT_TRUE(torch::allclose(sums, torch::ones_like(sums), 1e-5, 1e-5)) << sums;
  // Already normalised: log_softmax (what the trainer's loss applies) leaves it as it is.
  EXPECT_TRUE(torch::allclose(torch::log_softmax(out, -1), out, 1e-5, 1e-5));
}

TEST(NoteLstmNet, renormalising_over_one_duration_gives_the_pitch_head) {
  // With the hidden-state projections and the interval head zeroed, P(d) = softmax(b_dur) and
  // P(p | d) = softmax(b_pitch + E[d]).
  Small s = small_setup();
  auto net = make_seeded(note_params(8, 1, 0, 0.0), s.shape);
  const torch::Tensor b_dur = torch::tensor({0.5, -1.0, 2.0, 0.25}, torch::kFloat);
  const torch::Tensor b_pitch = torch::tensor({1.0, -0.5, 0.0, 2.0, 0.3, -2.0}, torch::kFloat);
  const torch::Tensor e = torch::tensor({0.0, 1.0, -1.0, 0.5, 0.0, 3.0,  //
                                         2.0, 0.0, 0.0, -3.0, 1.0, 0.0,  //
                                         -1.0, -1.0, 4.0, 0.0, 0.0, 0.5},
                                        torch::kFloat)
                             .reshape({3, 6});
  set_parameter(*net, "duration_out.weight", torch::zeros({4, 8}));
  set_parameter(*net, "duration_out.bias", b_dur);
  set_parameter(*net, "pitch_out.weight", torch::zeros({6, 8}));
  set_parameter(*net, "pitch_out.bias", b_pitch);
  set_parameter(*net, "pitch_by_duration", e);
  set_parameter(*net, "interval_out.weight", torch::zeros({25, 8}));
  set_parameter(*net, "interval_out.bias", torch::zeros({25}));
  net->freeze();
  std::vector<CodedSequence> coded;
  const NetBatch batch = batch_of(*s.codec, coded);
  torch::NoGradGuard no_grad;
  const torch::Tensor joint = net->forward(batch).to(torch::kDouble).exp()[0][2];  // any step
  const torch::Tensor p_dur = torch::softmax(b_dur.to(torch::kDouble), 0);
  for (int d = 0; d < 3; ++d) {
    const torch::Tensor column = joint.narrow(0, 0, 18).reshape({6, 3}).select(1, d);
    const torch::Tensor pitch = torch::softmax((b_pitch + e[d]).to(torch::kDouble), 0);
    EXPECT_TRUE(torch::allclose(column / column.sum(), pitch, 0, 1e-6)) << d;
    EXPECT_NEAR(column.sum().item<double>(), p_dur[d].item<double>(), 1e-6) << d;
  }
  EXPECT_NEAR(joint[18].item<double>(), p_dur[3].item<double>(), 1e-6);
  // The step path says the same.
  auto state = net->start({});
  std::vector<float> features(static_cast<size_t>(s.shape.input_size)), out(19);
  s.codec->input_features({}, features);
  net->step(*state, 0, features, out);
  for (int l = 0; l < 19; ++l) EXPECT_NEAR(std::exp(out[static_cast<size_t>(l)]), joint[l].item<double>(), 1e-6) << l;
}

TEST(NoteLstmNet, step_by_step_equals_forward) {
  Small s = small_setup();
  for (int embed : {0, 5}) {
    auto net = make_seeded(note_params(12, 2, embed, 0.3), s.shape);
    // Give the duration embedding and the skip connections weight (both start at zero).
    set_parameter(*net, "pitch_by_duration", torch::randn({3, 6}));
    set_parameter(*net, "skip", torch::randn({4 + 6, s.shape.input_size}));
    net->freeze();
    std::vector<CodedSequence> coded;
    const NetBatch batch = batch_of(*s.codec, coded);
    torch::NoGradGuard no_grad;
    const torch::Tensor out = net->forward(batch);
    for (size_t m = 0; m < melodies().size(); ++m) {
      const std::vector<int>& tokens = melodies()[m];
      auto state = net->start({});
      std::vector<float> features(static_cast<size_t>(s.shape.input_size)), step(19);
      for (size_t t = 0; t < tokens.size(); ++t) {
        s.codec->input_features(std::span<const int>(tokens).first(t), features);
        net->step(*state, 0, features, step);
        for (int l = 0; l < 19; ++l)
          ASSERT_NEAR(step[static_cast<size_t>(l)], out[static_cast<int64_t>(m)][static_cast<int64_t>(t)][l].item<float>(), 1e-5)
              << "embed " << embed << " melody " << m << " step " << t << " label " << l;
      }
    }
  }
}

TEST(NoteLstmNet, label_shortcut_equals_the_joint_at_the_labels_with_the_same_gradients) {
  Small s = small_setup();
  auto net = make_seeded(note_params(12, 2, 6, 0.0), s.shape);
  set_parameter(*net, "pitch_by_duration", torch::randn({3, 6}));
  set_parameter(*net, "skip", torch::randn({4 + 6, s.shape.input_size}));
  std::vector<CodedSequence> coded;
  const NetBatch batch = batch_of(*s.codec, coded);
  const torch::Tensor lp = net->label_log_probs(batch);
  ASSERT_EQ(lp.sizes(), batch.labels.sizes());
  const torch::Tensor joint = net->forward(batch);
  const torch::Tensor at_labels = joint.gather(-1, batch.labels.clamp_min(0).unsqueeze(-1)).squeeze(-1);
  EXPECT_TRUE(torch::allclose(lp.masked_select(batch.mask), at_labels.masked_select(batch.mask), 1e-5, 1e-5));
  // The end symbol is among the labels, and so is every duration.
  EXPECT_EQ(batch.labels.eq(18).sum().item<int64_t>(), 3);
  auto gradients = [&](const torch::Tensor& loss) {
    net->zero_grad();
    loss.backward();
    std::vector<torch::Tensor> g;
    for (const auto& p : net->parameters()) g.push_back(p.grad().clone());
    return g;
  };
  const auto short_cut = gradients(-lp.masked_select(batch.mask).mean());
  const auto full = gradients(torch::nn::functional::cross_entropy(
      net->forward(batch).reshape({-1, 19}), batch.labels.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100)));
  ASSERT_EQ(short_cut.size(), full.size());
  for (size_t i = 0; i < full.size(); ++i) EXPECT_TRUE(torch::allclose(short_cut[i], full[i], 1e-4, 1e-6)) << i;
}

TEST(NoteLstmNet, adam_steps_lower_the_loss) {
  Small s = small_setup();
  auto net = make_seeded(note_params(16, 1, 8, 0.0), s.shape);
  std::vector<CodedSequence> coded;
  const NetBatch batch = batch_of(*s.codec, coded);
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(0.02));
  auto loss_of = [&] {
    const torch::Tensor out = net->forward(batch);
    return torch::nn::functional::cross_entropy(out.reshape({-1, 19}), batch.labels.reshape({-1}),
                                                torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
  };
  net->train();
  const double first = loss_of().item<double>();
  for (int i = 0; i < 40; ++i) {
    adam.zero_grad();
    torch::Tensor loss = loss_of();
    loss.backward();
    adam.step();
  }
  const double last = loss_of().item<double>();
  EXPECT_LT(last, 0.5 * first) << first << " -> " << last;
  // The duration embedding of the pitch head is trained too.
  EXPECT_GT(net->named_parameters()["pitch_by_duration"].abs().sum().item<double>(), 0.0);
}

TEST(NoteLstmNet, refuses_shapes_that_are_not_note_pairs) {
  Small s = small_setup();
  NetShape no_sizes = s.shape;
  no_sizes.pitch_classes = 0;
  try {
    make_net(note_params(8, 1, 0, 0.0), no_sizes);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("got 0 pitches, 3 durations"));
  }
  NetShape wrong_labels = s.shape;
  wrong_labels.num_labels = 20;
  try {
    make_net(note_params(8, 1, 0, 0.0), wrong_labels);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not 20 labels"));
  }
  NetShape ids = s.shape;
  ids.input_size = 0;
  ids.input_vocab = 20;
  try {
    make_net(note_params(8, 1, 0, 0.0), ids);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not token ids"));
  }
}

TEST(NoteLstmNet, model_file_round_trip_keeps_the_shape_and_the_predictions) {
  // A family name of this test's own, so the real note_lstm family (if registered) is left alone.
  ModelFamily family;
  family.name = "note_lstm_file_test";
  family.summary = "test";
  family.train = [](const ModelSpec&, const TrainingData&) -> ModelPtr { throw ConfigError("not trainable"); };
  family.load = load_neural_model;
  add_model_family(family);
  Small s = small_setup();
  auto encoding = std::make_shared<const NoteEncoding>(small_encoding());
  NeuralSetup setup;
  setup.net = note_params(10, 2, 4, 0.1);
  setup.shape = s.shape;
  setup.codec = "notes";
  auto net = make_seeded(setup.net, setup.shape);
  set_parameter(*net, "pitch_by_duration", torch::randn({3, 6}));
  ModelInfo info;
  info.family = family.name;
  info.spec = family.name;
  info.encoding = encoding->spec();
  NeuralModel model(info, encoding, setup, net, make_codec("notes", *encoding));
  const auto dir = std::filesystem::temp_directory_path() / "antiphon-note-lstm-test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "model.antiphon").string();
  save_model(model, path);
  ModelPtr loaded = load_model(path);
  const auto& neural = dynamic_cast<const NeuralModel&>(*loaded);
  EXPECT_EQ(neural.setup().shape.pitch_classes, 6);
  EXPECT_EQ(neural.setup().shape.durations, 3);
  for (const auto& tokens : melodies()) {
    const std::vector<double> a = model.token_log2_probs(tokens), b = loaded->token_log2_probs(tokens);
    EXPECT_EQ(a, b);
    // The incremental path agrees with the batched one.
    auto state = loaded->start();
    std::vector<double> probs(loaded->vocab_size());
    for (size_t t = 0; t < tokens.size(); ++t) {
      loaded->predict(*state, probs);
      EXPECT_NEAR(std::log2(probs[static_cast<size_t>(tokens[t])]), b[t], 1e-4) << t;
      loaded->advance(*state, tokens[t]);
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace antiphon::neural
