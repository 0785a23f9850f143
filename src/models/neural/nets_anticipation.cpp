// Anticipation-RNN (Hadjeres & Nielsen, "Anticipation-RNN: enforcing unary constraints in sequence
// generation, with application to interactive music generation", 2018), following the paper and the
// authors' code (github.com/Ghadjeres/Anticipation-RNN) where they are specific:
// - Two stacked LSTMs. The constraint LSTM reads the sequence of unary constraints c_0..c_{T-1} from right to
//   left, so its output o_t summarises c_t..c_{T-1} (everything that is still to come); the token LSTM reads,
//   at step t, the previous token s_{t-1} together with o_t and predicts s_t.
// - A constraint is a token or a "no constraint" symbol; both are embedded with one extra row for the
//   symbol (the authors embed constraints with the note embedding plus one row; here constraints have an
//   embedding of their own, token_vocab + 1 rows).
// - Training masks reveal each token with a rate p ~ U(0, 0.5) drawn per sequence (random_constraints).
// Where this net differs from the authors' code: zero initial states (theirs are learned), dropout on every
// LSTM layer's output, the last included (theirs: between layers, plus 0.2 dropout of whole input
// embeddings), and a single Linear output layer (theirs: Linear-ReLU-Linear), like the other nets here.
// Training runs both LSTMs through lstm_recurrence; generation runs the constraint LSTM once per sequence
// in start() and the token LSTM on FastLstm, one step at a time.
#include "models/neural/nets_anticipation.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cassert>
#include <cmath>

#include "antiphon/core/error.h"
#include "models/neural/fast_lstm.h"
#include "models/neural/lstm_kernels.h"
#include "models/neural/nets.h"

namespace antiphon::neural {
namespace {

std::vector<float> to_vector(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kFloat).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// A stack of LSTM layers in PyTorch's layout (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, ...).
class LstmStack : public torch::nn::Module {
 public:
  LstmStack(int input_size, int hidden, int layers) : hidden_(hidden) {
    // PyTorch's initialisation: U(-1/sqrt(H), 1/sqrt(H)) for every weight and bias.
    const double k = 1.0 / std::sqrt(static_cast<double>(hidden));
    for (int l = 0; l < layers; ++l) {
      const std::string s = std::to_string(l);
      w_ih_.push_back(register_parameter("weight_ih_l" + s,
                                         torch::empty({4 * hidden, l == 0 ? input_size : hidden}).uniform_(-k, k)));
      w_hh_.push_back(register_parameter("weight_hh_l" + s, torch::empty({4 * hidden, hidden}).uniform_(-k, k)));
      b_ih_.push_back(register_parameter("bias_ih_l" + s, torch::empty({4 * hidden}).uniform_(-k, k)));
      b_hh_.push_back(register_parameter("bias_hh_l" + s, torch::empty({4 * hidden}).uniform_(-k, k)));
    }
  }

  // x [B, T, input] -> the last layer's hidden states [B, T, H], with dropout on each layer's output when
  // `training` (Magenta's DropoutWrapper; the paper's LSTMs drop between layers).
  torch::Tensor run(torch::Tensor x, double dropout, bool training) const {
    for (size_t l = 0; l < w_ih_.size(); ++l) {
      torch::Tensor gx = (torch::matmul(x, w_ih_[l].t()) + b_ih_[l] + b_hh_[l]).transpose(0, 1).contiguous();
      x = std::get<0>(lstm_recurrence(gx, w_hh_[l])).transpose(0, 1);
      if (dropout > 0) x = torch::dropout(x, dropout, training);
    }
    return x;
  }

  // The layers as FastLstm copies; layer 0 reads a dense input.
  std::vector<FastLstmLayer> fast_layers() const {
    std::vector<FastLstmLayer> layers;
    for (size_t l = 0; l < w_ih_.size(); ++l) {
      FastLstmLayer layer;
      layer.input_size = static_cast<int>(w_ih_[l].size(1));
      layer.hidden = hidden_;
      layer.w_ih = to_vector(w_ih_[l]);
      layer.w_hh = to_vector(w_hh_[l]);
      layer.bias = to_vector(b_ih_[l] + b_hh_[l]);
      layers.push_back(std::move(layer));
    }
    return layers;
  }

 private:
  int hidden_;
  std::vector<torch::Tensor> w_ih_, w_hh_, b_ih_, b_hh_;
};

class AnticipationState : public NetState {
 public:
  std::unique_ptr<NetState> clone() const override { return std::make_unique<AnticipationState>(*this); }
  FastLstm::State lstm;
  // The constraint LSTM's outputs, `steps` rows of constraint_hidden floats (shared: clones never change them).
  std::shared_ptr<const std::vector<float>> constraint_out;
  size_t steps = 0;
  size_t t = 0;              // the next step
  std::vector<float> input;  // the token LSTM's input of a step: [embedded id or features | constraint output]
};

class AnticipationNet : public Net {
 public:
  AnticipationNet(const NetParams& params, const NetShape& shape) : params_(params), shape_(shape) {
    check_net_option("layers", params.layers, 1, 8);
    check_net_option("hidden", params.hidden, 1, 4096);
    check_net_option("constraint_hidden", params.constraint_hidden, 1, 4096);
    check_net_option("embed", params.embed, 0, 4096);
    check_dropout(params.dropout);
    if (shape.token_vocab <= 0)
      throw ConfigError("an anticipation net needs the token vocabulary for its constraints (token_vocab=" +
                        std::to_string(shape.token_vocab) + ")");
    embed_ = params.embed > 0 ? params.embed : 32;
    // Constraints: a token id, or token_vocab for "no constraint" (one extra row, as in the paper).
    constraint_embedding_ =
        register_module("constraint_embedding", torch::nn::Embedding(shape.token_vocab + 1, embed_));
    constraint_lstm_ = register_module("constraint_lstm",
                                       std::make_shared<LstmStack>(embed_, params.constraint_hidden, params.layers));
    input_width_ = shape.input_size;
    if (input_width_ == 0) {
      input_width_ = embed_;
      input_embedding_ = register_module("input_embedding", torch::nn::Embedding(shape.input_vocab, embed_));
    }
    token_lstm_ = register_module("token_lstm", std::make_shared<LstmStack>(input_width_ + params.constraint_hidden,
                                                                            params.hidden, params.layers));
    out_ = register_module("out", torch::nn::Linear(params.hidden, shape.num_labels));
  }

  torch::Tensor forward(const NetBatch& batch) override {
    if (!batch.constraints.defined()) throw ConfigError("an anticipation net needs the batch's constraints");
    const int64_t b = batch.constraints.size(0), t = batch.constraints.size(1);
    torch::Tensor lengths = batch.lengths.defined() ? batch.lengths
                            : batch.mask.defined()  ? batch.mask.sum(1)
                                                    : torch::full({b}, t, torch::kLong);
    const torch::Tensor c = constraint_outputs(batch.constraints, lengths, is_training());
    const torch::Tensor x = shape_.input_size > 0 ? batch.features : input_embedding_->forward(batch.ids);
    return out_->forward(token_lstm_->run(torch::cat({x, c}, 2), params_.dropout, is_training()));
  }

  // Runs the constraint LSTM over the whole constraint sequence now. With no constraints the sequence is
  // kAnticipationHorizon free steps (the outputs freeze() computed once). Past the end of the sequence every
  // step reads the output at the first step of that all-free horizon: "at least 64 free steps to come".
  std::unique_ptr<NetState> start(std::span<const int64_t> constraints) const override {
    assert(fast_ && "freeze() the net before inference");
    auto s = std::make_unique<AnticipationState>();
    s->lstm = fast_->start();
    s->input.resize(static_cast<size_t>(input_width_ + params_.constraint_hidden));
    if (constraints.empty()) {
      s->constraint_out = horizon_out_;
      s->steps = kAnticipationHorizon;
      return s;
    }
    for (size_t i = 0; i < constraints.size(); ++i)
      if (constraints[i] < 0 || constraints[i] > shape_.token_vocab)
        throw ConfigError("constraint " + std::to_string(constraints[i]) + " at step " + std::to_string(i) +
                          " is outside 0.." + std::to_string(shape_.token_vocab) + " (" +
                          std::to_string(shape_.token_vocab) + " = free)");
    torch::NoGradGuard no_grad;
    const auto n = static_cast<int64_t>(constraints.size());
    torch::Tensor ids = torch::from_blob(const_cast<int64_t*>(constraints.data()), {1, n}, torch::kLong).clone();
    s->constraint_out = std::make_shared<const std::vector<float>>(
        to_vector(constraint_outputs(ids, torch::full({1}, n, torch::kLong), false)));
    s->steps = constraints.size();
    return s;
  }

  void step(NetState& state, int64_t input_id, std::span<const float> features,
            std::span<float> logits) const override {
    auto& s = static_cast<AnticipationState&>(state);
    assert(logits.size() == static_cast<size_t>(shape_.num_labels));
    const auto width = static_cast<size_t>(input_width_);
    if (shape_.input_size > 0) {
      assert(features.size() == width);
      std::copy(features.begin(), features.end(), s.input.begin());
    } else {
      assert(input_id >= 0 && input_id < shape_.input_vocab);
      const float* row = input_rows_.data() + static_cast<size_t>(input_id) * width;
      std::copy(row, row + width, s.input.begin());
    }
    const auto hc = static_cast<size_t>(params_.constraint_hidden);
    const float* c = s.t < s.steps ? s.constraint_out->data() + s.t * hc : horizon_out_->data();
    std::copy(c, c + hc, s.input.begin() + static_cast<std::ptrdiff_t>(width));
    fast_->step_dense(s.lstm, s.input, logits);
    ++s.t;
  }

  void freeze() override {
    eval();
    torch::NoGradGuard no_grad;
    fast_ =
        std::make_shared<const FastLstm>(token_lstm_->fast_layers(), to_vector(out_->weight), to_vector(out_->bias));
    if (input_embedding_) input_rows_ = to_vector(input_embedding_->weight);
    const torch::Tensor free =
        torch::full({1, kAnticipationHorizon}, static_cast<int64_t>(shape_.token_vocab), torch::kLong);
    horizon_out_ = std::make_shared<const std::vector<float>>(
        to_vector(constraint_outputs(free, torch::full({1}, int64_t{kAnticipationHorizon}, torch::kLong), false)));
  }

  bool wants_constraints() const override { return true; }

 private:
  // The constraint LSTM's output o_t for every step [B, T, constraint_hidden]: each row is read backwards
  // from its own last real step (lengths[b] - 1) down to 0, so padding never enters a real step's summary.
  torch::Tensor constraint_outputs(const torch::Tensor& constraints, const torch::Tensor& lengths,
                                   bool training) const {
    const int64_t b = constraints.size(0), t = constraints.size(1);
    if (t == 0) return torch::zeros({b, 0, params_.constraint_hidden});
    const int64_t lo = constraints.min().item<int64_t>(), hi = constraints.max().item<int64_t>();
    if (lo < 0 || hi > shape_.token_vocab)
      throw ConfigError("constraint " + std::to_string(lo < 0 ? lo : hi) + " is outside 0.." +
                        std::to_string(shape_.token_vocab) + " (" + std::to_string(shape_.token_vocab) + " = free)");
    // order[b][i] = lengths[b] - 1 - i on real steps, i on padding: a per-row reversal that is its own
    // inverse, so the same gather puts the outputs back in time order.
    const torch::Tensor steps = torch::arange(t, torch::kLong).unsqueeze(0);
    const torch::Tensor len = lengths.to(torch::kLong).unsqueeze(1);
    const torch::Tensor order = torch::where(steps < len, len - 1 - steps, steps.expand({b, t}));
    const torch::Tensor reversed = constraints.to(torch::kLong).gather(1, order);
    const torch::Tensor y =
        constraint_lstm_->run(torch::embedding(constraint_embedding_->weight, reversed), params_.dropout, training);
    return y.gather(1, order.unsqueeze(2).expand({b, t, params_.constraint_hidden}));
  }

  NetParams params_;
  NetShape shape_;
  int embed_ = 32;
  int input_width_ = 0;  // the token LSTM's input besides the constraint output: embedding or features
  torch::nn::Embedding constraint_embedding_{nullptr};
  torch::nn::Embedding input_embedding_{nullptr};
  std::shared_ptr<LstmStack> constraint_lstm_;
  std::shared_ptr<LstmStack> token_lstm_;
  torch::nn::Linear out_{nullptr};
  // Inference copies made by freeze().
  std::shared_ptr<const FastLstm> fast_;
  std::vector<float> input_rows_;                          // input embedding [input_vocab, embed]
  std::shared_ptr<const std::vector<float>> horizon_out_;  // constraint outputs of kAnticipationHorizon free steps
};

}  // namespace

std::shared_ptr<Net> make_anticipation_net(const NetParams& params, const NetShape& shape) {
  return std::make_shared<AnticipationNet>(params, shape);
}

torch::Tensor random_constraints(const torch::Tensor& tokens, int free_id, torch::Generator& generator) {
  if (tokens.dim() != 2)
    throw ConfigError("random_constraints wants tokens [B, T], not " + std::to_string(tokens.dim()) + " dimensions");
  if (free_id <= 0) throw ConfigError("random_constraints: free id " + std::to_string(free_id) + " leaves no tokens");
  const torch::Tensor t = tokens.to(torch::kLong);
  const torch::Tensor real = t != -100;
  const torch::Tensor bad = real & ((t < 0) | (t >= free_id));
  if (bad.any().item<bool>())
    throw ConfigError("random_constraints: token " + std::to_string(t.masked_select(bad)[0].item<int64_t>()) +
                      " is outside 0.." + std::to_string(free_id - 1));
  const torch::Tensor p = torch::rand({t.size(0), 1}, generator, torch::kDouble) * 0.5;
  const torch::Tensor reveal = (torch::rand({t.size(0), t.size(1)}, generator, torch::kDouble) < p) & real;
  return torch::where(reveal, t, torch::full_like(t, free_id));
}

torch::Tensor random_constraints(const torch::Tensor& tokens, int free_id, uint64_t seed) {
  torch::Generator generator = at::detail::createCPUGenerator(seed);
  return random_constraints(tokens, free_id, generator);
}

}  // namespace antiphon::neural
