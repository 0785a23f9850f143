// The note-level LSTM with a factored output: a note is its duration, then its pitch given that duration.
//   P(p, d | h) = P(d | h) P(p | d, h),   P(d | h) = softmax(W_dur h + b_dur + S_dur x),
//   P(p | d, h) = softmax_p(W_pitch h + b_pitch + S_pitch x + E[d] + I(h)[p - last])
// over the pairs of a PairEncoding (P pitch parts, rest included, by D durations) and the end symbol, which
// the duration head predicts as its class D. A pitch's probability among the notes of the same duration
// (what a pitch-only evaluation asks) is then exactly the pitch head's softmax, renormalised over the pitched
// parts, and does not depend on how well the durations are predicted.
// Besides the projection of the LSTM's state h, the pitch logits get
// - S x: skip connections from the step's inputs x (the notes codec's features, e.g. the continuation of an
//   earlier repeat) straight to the logits;
// - E[d]: a learned row per duration;
// - I(h)[p - last]: interval logits (-12..+12 semitones, a projection of h) placed around the last pitched
//   note, which the notes codec one-hots in its first P - 1 inputs as an absolute pitch token: one interval
//   preference serves every pitch, as interval viewpoints do in multiple-viewpoint models.
// forward returns the joint log-probabilities [B, T, P * D + 1] (already normalised, in the joint token
// order pitch * D + duration); label_log_probs gives the labels' alone for training (one duration's pitch
// softmax per step instead of D). Batch-1 inference runs the LSTM on FastLstm and the heads in plain C++.
#include <algorithm>
#include <cassert>
#include <cmath>

#include "antiphon/core/error.h"
#include "models/neural/fast_lstm.h"
#include "models/neural/lstm_kernels.h"
#include "models/neural/nets.h"

namespace antiphon::neural {
namespace {

class NoteLstmState : public NetState {
 public:
  std::unique_ptr<NetState> clone() const override { return std::make_unique<NoteLstmState>(*this); }
  FastLstm::State lstm;
  std::vector<float> heads;  // the heads' logits: D + 1 durations (end last), P pitches, 25 intervals
};

constexpr int kMaxInterval = 12;  // the interval head's steps: -12..+12 semitones

std::vector<float> to_vector(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kFloat).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

class NoteLstmNet : public Net {
 public:
  NoteLstmNet(const NetParams& params, const NetShape& shape)
      : params_(params), shape_(shape), pitches_(shape.pitch_classes), durations_(shape.durations) {
    check_net_option("layers", params.layers, 1, 8);
    check_net_option("hidden", params.hidden, 1, 4096);
    check_net_option("embed", params.embed, 0, 4096);
    check_dropout(params.dropout);
    if (pitches_ < 2 || durations_ < 1)
      throw ConfigError("the note_lstm net needs the pitch and duration vocabulary sizes of a note-level encoding (got " +
                        std::to_string(pitches_) + " pitches, " + std::to_string(durations_) + " durations)");
    if (shape.num_labels != pitches_ * durations_ + 1)
      throw ConfigError("the note_lstm net predicts " + std::to_string(pitches_) + " x " + std::to_string(durations_) +
                        " pairs and the end symbol, not " + std::to_string(shape.num_labels) + " labels");
    if (shape.input_size < pitches_)
      throw ConfigError("the note_lstm net reads the notes codec's features (at least " + std::to_string(pitches_) +
                        " floats), not " + (shape.input_size > 0 ? std::to_string(shape.input_size) + " floats" : "token ids"));
    const int h = params.hidden;
    int in = shape.input_size;
    if (params.embed > 0) {
      embedding_ = register_module("embedding", torch::nn::Linear(torch::nn::LinearOptions(in, params.embed).bias(false)));
      in = params.embed;
    }
    // PyTorch's LSTM initialisation: U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias.
    const double k = 1.0 / std::sqrt(static_cast<double>(h));
    for (int l = 0; l < params.layers; ++l) {
      const std::string s = std::to_string(l);
      w_ih_.push_back(register_parameter("weight_ih_l" + s, torch::empty({4 * h, l == 0 ? in : h}).uniform_(-k, k)));
      w_hh_.push_back(register_parameter("weight_hh_l" + s, torch::empty({4 * h, h}).uniform_(-k, k)));
      b_ih_.push_back(register_parameter("bias_ih_l" + s, torch::empty({4 * h}).uniform_(-k, k)));
      b_hh_.push_back(register_parameter("bias_hh_l" + s, torch::empty({4 * h}).uniform_(-k, k)));
    }
    duration_out_ = register_module("duration_out", torch::nn::Linear(h, durations_ + 1));
    pitch_out_ = register_module("pitch_out", torch::nn::Linear(h, pitches_));
    // Skip connections from the inputs straight to both heads' logits, starting at zero: a feature such as
    // the continuation of an earlier repeat can raise its pitch without passing through the recurrence.
    skip_ = register_parameter("skip", torch::zeros({durations_ + 1 + pitches_, shape.input_size}));
    // Interval logits: how far the next pitch lies from the previous note's, shared by all pitches.
    interval_out_ = register_module("interval_out", torch::nn::Linear(h, 2 * kMaxInterval + 1));
    // Starts at zero: the pitch head begins independent of the duration and learns how durations shift it.
    pitch_by_duration_ = register_parameter("pitch_by_duration", torch::zeros({durations_, pitches_}));
  }

  torch::Tensor forward(const NetBatch& batch) override {
    const auto [duration, pitch] = head_logits(batch);
    return joint_log_probs(duration, pitch);
  }

  // Only the labels' pairs: log P(d | h) + log P(p | d, h) needs one duration's pitch softmax per step
  // ([B, T, P]) instead of all D of them.
  torch::Tensor label_log_probs(const NetBatch& batch) override {
    const auto [duration_logits, pitch_head] = head_logits(batch);
    const int64_t pairs = static_cast<int64_t>(pitches_) * durations_;
    const torch::Tensor labels = batch.labels.clamp(0, pairs);  // padding (-100) reads as pair 0
    const torch::Tensor end = labels == pairs;
    const torch::Tensor duration_id = torch::where(end, torch::full_like(labels, durations_), labels % durations_);
    const torch::Tensor pitch_id = torch::where(end, torch::zeros_like(labels), labels.div(durations_, "floor"));
    const torch::Tensor duration = torch::log_softmax(duration_logits, -1).gather(-1, duration_id.unsqueeze(-1)).squeeze(-1);
    const torch::Tensor pitch_logits = pitch_head + torch::embedding(pitch_by_duration_, duration_id.clamp_max(durations_ - 1));
    const torch::Tensor pitch = torch::log_softmax(pitch_logits, -1).gather(-1, pitch_id.unsqueeze(-1)).squeeze(-1);
    return duration + torch::where(end, torch::zeros_like(pitch), pitch);
  }

  // The top layer's hidden vectors [B, T, H] (dropout on each layer's output in training).
  torch::Tensor hidden(const NetBatch& batch) {
    torch::Tensor x = batch.features;
    if (embedding_) x = embedding_->forward(x);
    for (size_t l = 0; l < w_ih_.size(); ++l) {
      torch::Tensor gx = (torch::matmul(x, w_ih_[l].t()) + b_ih_[l] + b_hh_[l]).transpose(0, 1).contiguous();  // [T, B, 4H]
      x = std::get<0>(lstm_recurrence(gx, w_hh_[l])).transpose(0, 1);  // [B, T, H]
      if (params_.dropout > 0) x = torch::dropout(x, params_.dropout, is_training());
    }
    return x;
  }

  // The duration logits [B, T, D + 1] and the pitch logits before the duration's row [B, T, P].
  std::pair<torch::Tensor, torch::Tensor> head_logits(const NetBatch& batch) {
    const torch::Tensor h = hidden(batch);
    const torch::Tensor skip = torch::matmul(batch.features, skip_.t());
    torch::Tensor pitch = pitch_out_->forward(h) + skip.narrow(-1, durations_ + 1, pitches_);
    // The interval logits shifted to the previous note: the codec's first P - 1 inputs one-hot its pitch
    // (a rest or the start leaves them zero, and then no interval applies).
    const torch::Tensor previous = batch.features.narrow(-1, 0, pitches_ - 1);
    const torch::Tensor from = previous.argmax(-1, true);                    // [B, T, 1]
    const torch::Tensor index = torch::arange(pitches_ - 1, from.options()) - from + kMaxInterval;  // [B, T, P - 1]
    const torch::Tensor valid = (previous.sum(-1, true) > 0) & (index >= 0) & (index <= 2 * kMaxInterval);
    const torch::Tensor interval = interval_out_->forward(h).gather(-1, index.clamp(0, 2 * kMaxInterval)) * valid;
    pitch = pitch + torch::cat({interval, torch::zeros_like(interval.narrow(-1, 0, 1))}, -1);
    return {duration_out_->forward(h) + skip.narrow(-1, 0, durations_ + 1), pitch};
  }

  // The joint log-probabilities [..., P * D + 1] from the heads' logits.
  torch::Tensor joint_log_probs(const torch::Tensor& duration_logits, const torch::Tensor& pitch_logits) {
    const torch::Tensor duration = torch::log_softmax(duration_logits, -1);  // [..., D + 1]
    // Pitch logits per duration in the joint order [..., P, D]: the pitch head plus the duration's row.
    const torch::Tensor pitch = torch::log_softmax(pitch_logits.unsqueeze(-1) + pitch_by_duration_.t(), -2);
    const torch::Tensor pairs = pitch + duration.narrow(-1, 0, durations_).unsqueeze(-2);
    std::vector<int64_t> flat(pitch_logits.sizes().begin(), pitch_logits.sizes().end() - 1);
    flat.push_back(static_cast<int64_t>(pitches_) * durations_);
    return torch::cat({pairs.reshape(flat), duration.narrow(-1, durations_, 1)}, -1);
  }

  std::unique_ptr<NetState> start(std::span<const int64_t>) const override {
    assert(fast_ && "freeze() the net before inference");
    auto s = std::make_unique<NoteLstmState>();
    s->lstm = fast_->start();
    s->heads.resize(static_cast<size_t>(durations_ + 1 + pitches_ + 2 * kMaxInterval + 1));
    return s;
  }

  void step(NetState& state, int64_t, std::span<const float> features, std::span<float> logits) const override {
    auto& s = static_cast<NoteLstmState&>(state);
    assert(logits.size() == static_cast<size_t>(shape_.num_labels));
    assert(features.size() == static_cast<size_t>(shape_.input_size));
    fast_->step_dense(s.lstm, features, s.heads);
    // The skip connections: the inputs are mostly one-hot, so add the columns of the nonzero ones.
    const size_t heads = static_cast<size_t>(durations_ + 1 + pitches_);
    for (size_t j = 0; j < features.size(); ++j) {
      if (features[j] == 0.0f) continue;
      const float* column = skip_columns_.data() + j * heads;
      for (size_t i = 0; i < heads; ++i) s.heads[i] += features[j] * column[i];
    }
    const auto d_count = static_cast<size_t>(durations_);
    const auto p_count = static_cast<size_t>(pitches_);
    const std::span<const float> duration(s.heads.data(), d_count + 1);
    // The interval logits shifted to the previous note's pitch, when it had one.
    float* pitch = s.heads.data() + d_count + 1;
    const float* interval = pitch + p_count;
    for (size_t q = 0; q + 1 < p_count; ++q) {
      if (features[q] == 0.0f) continue;
      for (size_t p = 0; p + 1 < p_count; ++p) {
        const auto k = static_cast<ptrdiff_t>(p) - static_cast<ptrdiff_t>(q) + kMaxInterval;
        if (k >= 0 && k <= 2 * kMaxInterval) pitch[p] += interval[k];
      }
      break;
    }
    const double duration_norm = log_sum_exp(duration);
    for (size_t d = 0; d < d_count; ++d) {
      const float* row = pitch_by_duration_rows_.data() + d * p_count;
      double m = -INFINITY;
      for (size_t p = 0; p < p_count; ++p) m = std::max(m, static_cast<double>(pitch[p] + row[p]));
      double z = 0;
      for (size_t p = 0; p < p_count; ++p) z += std::exp(static_cast<double>(pitch[p] + row[p]) - m);
      const double offset = static_cast<double>(duration[d]) - duration_norm - m - std::log(z);
      for (size_t p = 0; p < p_count; ++p)
        logits[p * d_count + d] = static_cast<float>(static_cast<double>(pitch[p] + row[p]) + offset);
    }
    logits[p_count * d_count] = static_cast<float>(static_cast<double>(duration[d_count]) - duration_norm);
  }

  void freeze() override {
    eval();
    torch::NoGradGuard no_grad;
    std::vector<FastLstmLayer> layers;
    for (size_t l = 0; l < w_ih_.size(); ++l) {
      FastLstmLayer layer;
      torch::Tensor w_ih = w_ih_[l];
      // The (linear, bias-free) input projection folds into layer 0's input matrix.
      if (l == 0 && embedding_) w_ih = torch::matmul(w_ih, embedding_->weight);
      layer.input_size = static_cast<int>(w_ih.size(1));
      layer.hidden = params_.hidden;
      layer.w_ih = to_vector(w_ih);
      layer.w_hh = to_vector(w_hh_[l]);
      layer.bias = to_vector(b_ih_[l] + b_hh_[l]);
      layers.push_back(std::move(layer));
    }
    // One output matrix for both heads: the duration logits (end last), then the pitch logits before E[d].
    fast_ = std::make_shared<const FastLstm>(std::move(layers),
                                             to_vector(torch::cat({duration_out_->weight, pitch_out_->weight, interval_out_->weight}, 0)),
                                             to_vector(torch::cat({duration_out_->bias, pitch_out_->bias, interval_out_->bias}, 0)));
    pitch_by_duration_rows_ = to_vector(pitch_by_duration_);
    skip_columns_ = to_vector(skip_.t());
  }

 private:
  static double log_sum_exp(std::span<const float> v) {
    double m = -INFINITY;
    for (float x : v) m = std::max(m, static_cast<double>(x));
    double z = 0;
    for (float x : v) z += std::exp(static_cast<double>(x) - m);
    return m + std::log(z);
  }

  NetParams params_;
  NetShape shape_;
  int pitches_;
  int durations_;
  torch::nn::Linear embedding_{nullptr};
  std::vector<torch::Tensor> w_ih_, w_hh_, b_ih_, b_hh_;
  torch::nn::Linear duration_out_{nullptr};
  torch::nn::Linear pitch_out_{nullptr};
  torch::nn::Linear interval_out_{nullptr};
  torch::Tensor pitch_by_duration_;  // E [D, P]
  torch::Tensor skip_;               // [D + 1 + P, input_size]: inputs to the heads' logits
  std::shared_ptr<const FastLstm> fast_;
  std::vector<float> pitch_by_duration_rows_;  // E as frozen, row-major
  std::vector<float> skip_columns_;            // skip as frozen, one column per input
};

}  // namespace

std::shared_ptr<Net> make_note_lstm_net(const NetParams& params, const NetShape& shape) {
  return std::make_shared<NoteLstmNet>(params, shape);
}

}  // namespace antiphon::neural
