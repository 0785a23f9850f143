#pragma once
// The networks behind the neural families (LibTorch; include only from src/models/neural and src/train).
// A Net maps a padded batch of coded sequences (codec.h) to label logits for training and batched scoring,
// and runs batch-1 incremental steps without autograd for generation. Nets are built from NetParams and a
// NetShape (what the codec reads and predicts); their weights travel in torch archives (neural_model.cpp).
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace antiphon::neural {

// What the codec feeds and the net predicts.
struct NetShape {
  int input_size = 0;   // > 0: feature vectors of this size; 0: ids in [0, input_vocab)
  int input_vocab = 0;  // id inputs
  int num_labels = 0;   // output classes
  int token_vocab = 0;  // the encoding's vocabulary (anticipation constraints are tokens, `free` = token_vocab)
  int pitch_classes = 0;  // note_lstm: the pitch parts of the pair encoding (rest included), P
  int durations = 0;      // note_lstm: the duration alphabet, D (labels are the P * D pairs and the end symbol)
};

// Architecture options of every kind of net (each kind reads its own; the families fill them from a spec).
struct NetParams {
  std::string kind = "lstm";  // window | rnn | lstm | attention_lstm | anticipation | transformer | note_lstm
  int window = 8;             // window: previous inputs seen (the start id fills positions before the start)
  int hidden = 128;           // hidden units per layer (window: 0 = linear softmax over the window)
  int layers = 2;             // recurrent / transformer layers
  int embed = 0;              // input embedding size; 0 = one-hot inputs (Magenta)
  double dropout = 0.0;       // on each layer's output in training (Magenta: 1 - output_keep_prob)
  int attn_length = 40;       // attention_lstm: steps attended on the first layer (Magenta attn_length)
  int heads = 4;              // transformer
  int ff = 512;               // transformer feed-forward width
  int max_len = 4096;         // transformer: longest sequence (learned positions)
  int constraint_hidden = 128;  // anticipation: the constraint LSTM's units per layer
};

// A padded batch. Padding positions have label -100 (ignored by the loss) and mask false.
struct NetBatch {
  torch::Tensor ids;          // [B, T] int64 (id inputs), else undefined
  torch::Tensor features;     // [B, T, F] float (feature inputs), else undefined
  torch::Tensor labels;       // [B, T] int64
  torch::Tensor mask;         // [B, T] bool, true on real steps
  torch::Tensor lengths;      // [B] int64
  torch::Tensor constraints;  // [B, T] int64, anticipation only: a token id or token_vocab (free)
};

// Per-caller inference state of one sequence (hidden vectors, a window, a key/value cache).
class NetState {
 public:
  virtual ~NetState() = default;
  virtual std::unique_ptr<NetState> clone() const = 0;
};

class Net : public torch::nn::Module {
 public:
  // Logits [B, T, num_labels] for a batch (training mode follows is_training(): dropout only then).
  virtual torch::Tensor forward(const NetBatch& batch) = 0;
  // Batch-1 inference, no autograd, thread-safe on a frozen net. `constraints` (anticipation only) holds one
  // entry per step of the sequence to come: a token id or token_vocab for free; other nets ignore it.
  virtual std::unique_ptr<NetState> start(std::span<const int64_t> constraints) const = 0;
  // Feeds step t's input (an id, or input_size floats) and writes step t's label logits (num_labels floats).
  virtual void step(NetState& state, int64_t input_id, std::span<const float> features,
                    std::span<float> logits) const = 0;
  // Called once the weights are final (after training or loading): eval mode, fast inference copies.
  virtual void freeze() { eval(); }
  virtual bool wants_constraints() const { return false; }
  // The longest sequence the net can read (the transformer's positions); the trainer leaves longer ones out.
  virtual size_t max_steps() const { return SIZE_MAX; }
  // Optional shortcut for training: the log-probabilities [B, T] of batch.labels (anything on padding),
  // equal to log_softmax(forward(batch)) at the labels, for nets whose full output is costly to build (the
  // note_lstm's joint over P x D pairs). Undefined when the net has none: the loss then comes from forward.
  virtual torch::Tensor label_log_probs(const NetBatch&) { return {}; }
};

// Builds an untrained net (weights initialised from torch's current seed). Throws ConfigError for an
// unknown kind or options that do not fit the shape.
std::shared_ptr<Net> make_net(const NetParams& params, const NetShape& shape);

// Option checks shared by the kinds: ConfigError "name=value is outside lo..hi" / dropout outside [0, 1).
void check_net_option(const char* name, int value, int lo, int hi);
void check_dropout(double dropout);

// The kinds, one translation unit each (make_net dispatches on params.kind):
std::shared_ptr<Net> make_window_net(const NetParams& params, const NetShape& shape);          // nets_window.cpp
std::shared_ptr<Net> make_recurrent_net(const NetParams& params, const NetShape& shape);       // nets_recurrent.cpp: rnn, lstm
std::shared_ptr<Net> make_attention_lstm_net(const NetParams& params, const NetShape& shape);  // nets_attention.cpp
std::shared_ptr<Net> make_anticipation_net(const NetParams& params, const NetShape& shape);    // nets_anticipation.cpp
std::shared_ptr<Net> make_transformer_net(const NetParams& params, const NetShape& shape);     // nets_transformer.cpp
std::shared_ptr<Net> make_note_lstm_net(const NetParams& params, const NetShape& shape);       // nets_note.cpp

}  // namespace antiphon::neural
