// lstm_recurrence and lstm_layer against torch::nn::LSTM: outputs, last states and every gradient (through
// grad() and backward()), for one and two layers, with and without initial states, with losses on all
// outputs, on y alone and on the unpadded steps only, on features and on one-hot ids, on one thread and with
// the batch split across threads.
#include "models/neural/lstm_kernels.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "antiphon/core/error.h"

namespace antiphon::neural {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kSteps = 7;
constexpr int64_t kBatch = 3;
constexpr int64_t kInput = 5;

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  return (a - b).abs().max().item<double>();
}

enum class Loss {
  everything,  // y, the last h and the last c all carry a gradient
  outputs,     // only y (the last states get no gradient at all)
  padded,      // only y at the steps before each sequence's length (a padded batch)
};

struct Case {
  int64_t layers = 1;
  int64_t hidden = 8;
  bool with_state = false;
  Loss loss = Loss::everything;
  torch::Dtype dtype = torch::kFloat;
  bool whole_layer = false;  // lstm_layer (projection inside) rather than a matmul and lstm_recurrence
  int64_t batch = kBatch;
  int threads = 1;  // torch::set_num_threads while the case runs
  int64_t steps = kSteps;
};

// One network, its inputs and the weights of a random linear loss, all drawn from a fixed seed.
struct Fixture {
  explicit Fixture(const Case& c) : c_(c) {
    torch::manual_seed(11);
    lstm = torch::nn::LSTM(torch::nn::LSTMOptions(kInput, c.hidden).num_layers(c.layers));
    lstm->to(c.dtype);
    const auto opts = torch::TensorOptions().dtype(c.dtype);
    x = torch::randn({c.steps, c.batch, kInput}, opts).requires_grad_();
    if (c.with_state) {
      h0 = torch::randn({c.layers, c.batch, c.hidden}, opts).requires_grad_();
      c0 = torch::randn({c.layers, c.batch, c.hidden}, opts).requires_grad_();
    }
    r_y = torch::randn({c.steps, c.batch, c.hidden}, opts);
    r_h = torch::randn({c.layers, c.batch, c.hidden}, opts);
    r_c = torch::randn({c.layers, c.batch, c.hidden}, opts);
    if (c.loss == Loss::padded) {
      // Lengths 7, 4, 1, 7, 4, 1, ...: mask [T, B, 1].
      const std::vector<int64_t> lengths = {7, 4, 1};
      mask = torch::zeros({c.steps, c.batch, 1}, opts);
      for (int64_t b = 0; b < c.batch; ++b) mask.narrow(0, 0, lengths[b % 3]).select(1, b).fill_(1);
    }
  }

  torch::Tensor loss(const torch::Tensor& y, const torch::Tensor& h, const torch::Tensor& c) const {
    switch (c_.loss) {
      case Loss::everything:
        return (y * r_y).sum() + (h * r_h).sum() + (c * r_c).sum();
      case Loss::outputs:
        return (y * r_y).sum();
      case Loss::padded:
        return (y * r_y * mask).sum();
    }
    return {};
  }

  torch::Tensor reference_loss(std::vector<torch::Tensor>* outputs) {
    auto out = c_.with_state ? lstm->forward(x, std::make_tuple(h0, c0)) : lstm->forward(x);
    const torch::Tensor y = std::get<0>(out);
    const auto [h, c] = std::get<1>(out);
    *outputs = {y, h, c};
    return loss(y, h, c);
  }

  // The same network through lstm_recurrence, on the very same parameter tensors: the input projection of
  // each layer (with both biases) feeds gates_x, so the gradients of w_ih and the biases flow through it.
  // Or through lstm_layer, which does the projection itself.
  torch::Tensor our_loss(std::vector<torch::Tensor>* outputs) {
    torch::Tensor input = x;
    std::vector<torch::Tensor> hs, cs;
    for (int64_t l = 0; l < c_.layers; ++l) {
      const std::string s = std::to_string(l);
      const auto params = lstm->named_parameters();
      const LstmLayerWeights w{params["weight_ih_l" + s], params["weight_hh_l" + s], params["bias_ih_l" + s],
                               params["bias_hh_l" + s]};
      torch::Tensor h_init = c_.with_state ? h0[l] : torch::Tensor();
      torch::Tensor c_init = c_.with_state ? c0[l] : torch::Tensor();
      auto [y, h, c] =
          c_.whole_layer ? lstm_layer(input, w, h_init, c_init)
                         : lstm_recurrence(torch::matmul(input, w.w_ih.t()) + w.b_ih + w.b_hh, w.w_hh, h_init, c_init);
      input = y;
      hs.push_back(h);
      cs.push_back(c);
    }
    torch::Tensor h = torch::stack(hs), c = torch::stack(cs);
    *outputs = {input, h, c};
    return loss(input, h, c);
  }

  // Everything the loss can be differentiated with respect to.
  std::vector<torch::Tensor> inputs() const {
    std::vector<torch::Tensor> v = lstm->parameters();
    v.push_back(x);
    if (c_.with_state) {
      v.push_back(h0);
      v.push_back(c0);
    }
    return v;
  }

  Case c_;
  torch::nn::LSTM lstm{nullptr};
  torch::Tensor x, h0, c0, r_y, r_h, r_c, mask;
};

std::string describe(const Case& c) {
  return "layers=" + std::to_string(c.layers) + " hidden=" + std::to_string(c.hidden) +
         " state=" + std::to_string(c.with_state) + " loss=" + std::to_string(static_cast<int>(c.loss)) +
         " dtype=" + std::string(c10::toString(c.dtype)) + " whole_layer=" + std::to_string(c.whole_layer) +
         " batch=" + std::to_string(c.batch) + " threads=" + std::to_string(c.threads);
}

void expect_same_as_nn_lstm(const Case& c, double tolerance) {
  SCOPED_TRACE(describe(c));
  torch::set_num_threads(c.threads);
  Fixture f(c);
  const std::vector<torch::Tensor> wrt = f.inputs();
  const auto names = f.lstm->named_parameters().keys();

  std::vector<torch::Tensor> ref_out, our_out;
  const torch::Tensor ref_loss = f.reference_loss(&ref_out);
  const torch::Tensor our_loss = f.our_loss(&our_out);
  for (size_t k = 0; k < ref_out.size(); ++k) {
    EXPECT_LE(max_abs_diff(ref_out[k], our_out[k]), tolerance) << "output " << k << " (y, last h, last c)";
  }

  const auto ref_grads = torch::autograd::grad({ref_loss}, wrt, {}, /*retain_graph=*/false, false, true);
  const auto our_grads = torch::autograd::grad({our_loss}, wrt, {}, /*retain_graph=*/true, false, true);
  ASSERT_EQ(ref_grads.size(), our_grads.size());
  for (size_t k = 0; k < wrt.size(); ++k) {
    const std::string what = k < names.size()        ? names[k]
                             : k == names.size()     ? "x"
                             : k == names.size() + 1 ? "h0"
                                                     : "c0";
    ASSERT_TRUE(ref_grads[k].defined()) << what;
    ASSERT_TRUE(our_grads[k].defined()) << what;
    EXPECT_GT(ref_grads[k].abs().max().item<double>(), 0) << what;
    EXPECT_LE(max_abs_diff(ref_grads[k], our_grads[k]), tolerance) << "gradient of " << what;
  }

  // The same gradients once more through backward() into .grad (the graph was retained: backward must leave
  // what it saved untouched).
  for (const torch::Tensor& t : wrt) t.mutable_grad() = torch::Tensor();
  our_loss.backward();
  for (size_t k = 0; k < wrt.size(); ++k) {
    ASSERT_TRUE(wrt[k].grad().defined()) << k;
    EXPECT_LE(max_abs_diff(wrt[k].grad(), our_grads[k]), 0.0) << "backward() disagrees with grad() on input " << k;
  }
  torch::set_num_threads(1);
}

TEST(LstmRecurrence, matches_nn_lstm_for_one_layer) {
  for (int64_t hidden : {8, 32}) {
    for (bool state : {false, true}) expect_same_as_nn_lstm({1, hidden, state, Loss::everything}, 1e-5);
  }
}

TEST(LstmRecurrence, matches_nn_lstm_for_two_layers) {
  for (int64_t hidden : {8, 32}) {
    for (bool state : {false, true}) expect_same_as_nn_lstm({2, hidden, state, Loss::everything}, 1e-5);
  }
}

TEST(LstmRecurrence, matches_nn_lstm_when_only_the_outputs_carry_a_gradient) {
  for (bool state : {false, true}) expect_same_as_nn_lstm({2, 32, state, Loss::outputs}, 1e-5);
}

TEST(LstmRecurrence, matches_nn_lstm_when_the_loss_skips_padded_steps) {
  for (bool state : {false, true}) expect_same_as_nn_lstm({2, 32, state, Loss::padded}, 1e-5);
}

// The size a training batch has (2x128, 16 melodies of 200 steps, two threads): long enough for the vector
// and threaded paths and for an error that only grows over many steps.
TEST(LstmRecurrence, matches_nn_lstm_at_training_size) {
  Case c{2, 128, false, Loss::outputs};
  c.batch = 16;
  c.threads = 2;
  c.steps = 200;
  expect_same_as_nn_lstm(c, 1e-4);
  c.whole_layer = true;
  expect_same_as_nn_lstm(c, 1e-4);
}

TEST(LstmRecurrence, matches_nn_lstm_to_double_rounding_in_double) {
  expect_same_as_nn_lstm({2, 8, true, Loss::everything, torch::kDouble}, 1e-12);
  expect_same_as_nn_lstm({1, 32, false, Loss::padded, torch::kDouble}, 1e-12);
}

TEST(LstmLayer, matches_nn_lstm_on_features) {
  for (int64_t layers : {1, 2}) {
    for (int64_t hidden : {8, 32}) {
      for (bool state : {false, true}) {
        expect_same_as_nn_lstm({layers, hidden, state, Loss::everything, torch::kFloat, true}, 1e-5);
      }
    }
  }
  expect_same_as_nn_lstm({2, 32, true, Loss::padded, torch::kFloat, true}, 1e-5);
  expect_same_as_nn_lstm({2, 32, false, Loss::outputs, torch::kFloat, true}, 1e-5);
  expect_same_as_nn_lstm({2, 8, true, Loss::everything, torch::kDouble, true}, 1e-12);
}

// A batch of 11 rows on 3 threads: the rows split into blocks of whole 8-row tiles (8 and 3 rows) that run
// on their own threads, and the product's tiles take both their full and their partial shape.
TEST(LstmLayer, matches_nn_lstm_when_the_batch_splits_across_threads) {
  for (bool whole_layer : {false, true}) {
    for (Loss loss : {Loss::everything, Loss::padded}) {
      expect_same_as_nn_lstm({2, 32, true, loss, torch::kFloat, whole_layer, 11, 3}, 1e-5);
      expect_same_as_nn_lstm({1, 64, false, loss, torch::kFloat, whole_layer, 20, 2}, 1e-5);
    }
  }
}

// One-hot inputs as ids: layer 0 looks its projections up in W_ih's columns; on 2 threads each row block
// sums its own share of W_ih's gradient.
TEST(LstmLayer, matches_nn_lstm_on_one_hot_ids) {
  struct Run {
    int64_t batch;
    int threads;
    bool state;
  };
  for (const Run run : {Run{3, 1, false}, Run{3, 1, true}, Run{10, 2, true}}) {
    SCOPED_TRACE("batch=" + std::to_string(run.batch) + " threads=" + std::to_string(run.threads) +
                 " state=" + std::to_string(run.state));
    torch::set_num_threads(run.threads);
    torch::manual_seed(8);
    const int64_t vocab = 6, hidden = 32;
    torch::nn::LSTM lstm(torch::nn::LSTMOptions(vocab, hidden).num_layers(2));
    // Every class but 5 occurs; class 5's column must get a zero gradient.
    const torch::Tensor ids = torch::randint(vocab - 1, {kSteps, run.batch}, torch::kLong);
    const torch::Tensor r = torch::randn({kSteps, run.batch, hidden});
    const torch::Tensor h0 = run.state ? torch::randn({2, run.batch, hidden}) : torch::Tensor();
    const torch::Tensor c0 = run.state ? torch::randn({2, run.batch, hidden}) : torch::Tensor();
    auto p = lstm->named_parameters();

    const torch::Tensor one_hot = torch::one_hot(ids, vocab).to(torch::kFloat);
    const torch::Tensor ref_y =
        std::get<0>(run.state ? lstm->forward(one_hot, std::make_tuple(h0, c0)) : lstm->forward(one_hot));
    const auto ref = torch::autograd::grad({(ref_y * r).sum()}, lstm->parameters());

    torch::Tensor y = ids;
    for (int64_t l = 0; l < 2; ++l) {
      const std::string s = std::to_string(l);
      y = std::get<0>(lstm_layer(y,
                                 {p["weight_ih_l" + s], p["weight_hh_l" + s], p["bias_ih_l" + s], p["bias_hh_l" + s]},
                                 run.state ? h0[l] : torch::Tensor(), run.state ? c0[l] : torch::Tensor()));
    }
    const auto ours = torch::autograd::grad({(y * r).sum()}, lstm->parameters());

    EXPECT_LE(max_abs_diff(ref_y, y), 1e-5);
    for (size_t k = 0; k < ref.size(); ++k) EXPECT_LE(max_abs_diff(ref[k], ours[k]), 1e-5) << p.keys()[k];
    EXPECT_EQ(ours[0].select(1, vocab - 1).abs().max().item<float>(), 0.0f);
    EXPECT_GT(ours[0].select(1, 0).abs().max().item<float>(), 0.0f);
  }
  torch::set_num_threads(1);
}

TEST(LstmLayer, rejects_ids_outside_the_classes_naming_them) {
  const LstmLayerWeights w{torch::zeros({16, 6}), torch::zeros({16, 4}), torch::zeros({16}), torch::zeros({16})};
  torch::Tensor ids = torch::zeros({3, 2}, torch::kLong);
  ids[2][1] = 6;
  try {
    lstm_layer(ids, w);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("id 6 is outside 0..5"));
  }
  EXPECT_THROW(lstm_layer(torch::zeros({3, 2, 5}), w), ConfigError);  // 5 features, w_ih has 6 columns
}

// One-hot inputs: layer 0's projection is a lookup of W_ih's columns (plus the biases), as the trainer and
// the training benchmark do it.
TEST(LstmRecurrence, matches_nn_lstm_on_one_hot_inputs_through_a_column_lookup) {
  torch::set_num_threads(1);
  torch::manual_seed(5);
  const int64_t vocab = 6, hidden = 16;
  torch::nn::LSTM lstm(torch::nn::LSTMOptions(vocab, hidden));
  const torch::Tensor ids = torch::randint(vocab, {kSteps, kBatch}, torch::kLong);
  const torch::Tensor r = torch::randn({kSteps, kBatch, hidden});
  auto params = lstm->named_parameters();

  const torch::Tensor ref_y = std::get<0>(lstm->forward(torch::one_hot(ids, vocab).to(torch::kFloat)));
  const auto ref = torch::autograd::grad({(ref_y * r).sum()}, lstm->parameters());

  const torch::Tensor table = params["weight_ih_l0"].t() + params["bias_ih_l0"] + params["bias_hh_l0"];
  const torch::Tensor y = std::get<0>(lstm_recurrence(torch::embedding(table, ids), params["weight_hh_l0"]));
  const auto ours = torch::autograd::grad({(y * r).sum()}, lstm->parameters());

  EXPECT_LE(max_abs_diff(ref_y, y), 1e-5);
  for (size_t k = 0; k < ref.size(); ++k) EXPECT_LE(max_abs_diff(ref[k], ours[k]), 1e-5) << params.keys()[k];
}

TEST(LstmRecurrence, handles_a_single_step) {
  torch::set_num_threads(1);
  torch::manual_seed(3);
  const int64_t hidden = 4;
  const torch::Tensor gx = torch::randn({1, 2, 4 * hidden});
  const torch::Tensor w = torch::randn({4 * hidden, hidden});
  const torch::Tensor h0 = torch::randn({2, hidden});
  const torch::Tensor c0 = torch::randn({2, hidden});
  auto [y, h, c] = lstm_recurrence(gx, w, h0, c0);
  // By hand: gates = gx + h0 w^T, c = sig(f) c0 + sig(i) tanh(g), h = sig(o) tanh(c).
  const auto g = (gx[0] + torch::matmul(h0, w.t())).chunk(4, 1);
  const torch::Tensor want_c = torch::sigmoid(g[1]) * c0 + torch::sigmoid(g[0]) * torch::tanh(g[2]);
  const torch::Tensor want_h = torch::sigmoid(g[3]) * torch::tanh(want_c);
  EXPECT_LE(max_abs_diff(c, want_c), 1e-6);
  EXPECT_LE(max_abs_diff(h, want_h), 1e-6);
  EXPECT_LE(max_abs_diff(y[0], want_h), 1e-6);
}

TEST(LstmRecurrence, keeps_nan_inputs_nan) {
  torch::set_num_threads(1);
  torch::Tensor gx = torch::zeros({2, 1, 16});
  gx[0][0][0] = std::numeric_limits<float>::quiet_NaN();  // unit 0's input gate at step 0
  auto [y, h, c] = lstm_recurrence(gx, torch::zeros({16, 4}));
  EXPECT_TRUE(std::isnan(y[0][0][0].item<float>()));
  EXPECT_TRUE(std::isnan(c[0][0].item<float>()));
  EXPECT_FALSE(std::isnan(y[0][0][1].item<float>()));
}

TEST(LstmRecurrence, rejects_mismatched_shapes_naming_them) {
  const torch::Tensor w = torch::zeros({32, 8});
  try {
    lstm_recurrence(torch::zeros({7, 3, 30}), w);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("gates_x [7, 3, 30]"));
  }
  try {
    lstm_recurrence(torch::zeros({7, 3, 32}), w, torch::zeros({2, 8}));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("h0 [2, 8]"));
  }
  EXPECT_THROW(lstm_recurrence(torch::zeros({7, 3, 32}), torch::zeros({30, 8})), ConfigError);
  EXPECT_THROW(lstm_recurrence(torch::zeros({7, 3, 32}, torch::kDouble), w), ConfigError);
}

}  // namespace
}  // namespace antiphon::neural
