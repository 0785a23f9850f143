// The neural families: each reads its options from a model spec into a net architecture (nets.h), a codec
// (codec.h), a default encoding and a training configuration (trainer.h), trains through train_net and
// answers as a NeuralModel.
#include <cstdio>

#include "antiphon/models/registry.h"
#include "antiphon/tokens/notes.h"
#include "antiphon/train/neural.h"
#include "models/neural/neural_model.h"
#include "train/trainer.h"

namespace antiphon {
namespace {

using neural::NetParams;
using neural::TrainConfig;

// What a spec resolves to.
struct NeuralSpec {
  NetParams net;
  TrainConfig train;
  std::string codec = "tokens";
  std::string encoding = "grid";  // the default encoding when the caller gives none
  std::vector<std::pair<std::string, std::string>> options;  // every option with its value, in reading order
};

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Reads options and records their resolved values.
class Options {
 public:
  Options(SpecReader& reader, NeuralSpec& out) : r_(reader), out_(out) {}
  int integer(const char* key, int fallback, int min, int max) {
    const int v = static_cast<int>(r_.integer(key, fallback, min, max));
    out_.options.emplace_back(key, std::to_string(v));
    return v;
  }
  double real(const char* key, double fallback, double min, double max) {
    const double v = r_.real(key, fallback, min, max);
    out_.options.emplace_back(key, number(v));
    return v;
  }
  std::string choice(const char* key, std::string fallback, const std::vector<std::string>& allowed) {
    std::string v = r_.choice(key, std::move(fallback), allowed);
    out_.options.emplace_back(key, v);
    return v;
  }

 private:
  SpecReader& r_;
  NeuralSpec& out_;
};

// The training options every neural family takes, with the family's defaults.
void read_training(Options& o, NeuralSpec& s, TrainConfig defaults, double dropout) {
  s.train.epochs = o.integer("epochs", defaults.epochs, 1, 100000);
  s.train.batch = o.integer("batch", defaults.batch, 1, 65536);
  s.train.learning_rate = o.real("lr", defaults.learning_rate, 1e-7, 1);
  s.train.clip = o.real("clip", defaults.clip, 0, 1e6);
  s.train.valid = o.real("valid", defaults.valid, 0.01, 0.5);
  s.train.patience = o.integer("patience", defaults.patience, 0, 1000);
  s.train.schedule = o.choice("schedule", defaults.schedule, {"plateau", "cosine", "constant"});
  s.train.augment = o.integer("augment", defaults.augment, 0, 24);
  s.train.weight_decay = o.real("weight_decay", defaults.weight_decay, 0, 1);
  s.net.dropout = o.real("dropout", dropout, 0, 0.95);
}

// The size options of the recurrent kinds, with the family's defaults.
void read_recurrent(Options& o, NeuralSpec& s, const char* kind, int layers, int hidden, int embed) {
  s.net.kind = kind;
  s.net.layers = o.integer("layers", layers, 1, 8);
  s.net.hidden = o.integer("hidden", hidden, 1, 4096);
  s.net.embed = o.integer("embed", embed, 0, 4096);
}

using Reader = std::function<void(Options&, NeuralSpec&)>;

struct NeuralFamilyDef {
  std::string name;
  std::string summary;
  Reader read;
};

std::vector<NeuralFamilyDef> neural_family_defs() {
  // Folk corpora are small (fink: ~570 melodies): batches of 16 melodies give enough optimiser steps per epoch.
  TrainConfig base;
  base.epochs = 30;
  base.batch = 16;
  base.patience = 4;
  return {
      {"linear", "linear softmax over a window of previous tokens (grid encoding by default)",
       [base](Options& o, NeuralSpec& s) {
         s.net.kind = "window";
         s.net.window = o.integer("window", 16, 1, 512);
         s.net.hidden = 0;
         read_training(o, s, base, 0.0);
       }},
      {"mlp", "one-hidden-layer network over a window of previous tokens",
       [base](Options& o, NeuralSpec& s) {
         s.net.kind = "window";
         s.net.window = o.integer("window", 16, 1, 512);
         s.net.hidden = o.integer("hidden", 256, 1, 8192);
         read_training(o, s, base, 0.2);
       }},
      {"rnn", "vanilla (tanh) recurrent network, Todd 1989 style",
       [base](Options& o, NeuralSpec& s) {
         read_recurrent(o, s, "rnn", 1, 128, 0);
         read_training(o, s, base, 0.0);
       }},
      {"lstm", "LSTM over any encoding (grid by default)",
       [base](Options& o, NeuralSpec& s) {
         read_recurrent(o, s, "lstm", 2, 128, 0);
         read_training(o, s, base, 0.2);
       }},
      {"note_lstm",
       "note-level LSTM on (pitch, duration) tokens, factored: P(duration) P(pitch | duration)",
       [base](Options& o, NeuralSpec& s) {
         read_recurrent(o, s, "note_lstm", 2, 256, 0);
         s.encoding = "notes";
         s.codec = "notes";
         // Tuned on one fink split (fold 1 of 10, seed 1): lr 3e-3 with transpositions of up to 3 semitones
         // 2.277 bits/pitch against 2.403 at lr 1e-3 without (README, "Neural models").
         TrainConfig notes = base;
         notes.learning_rate = 3e-3;
         notes.augment = 3;
         read_training(o, s, notes, 0.3);
       }},
      {"melody_rnn", "Magenta's Melody RNN: config=basic|mono|lookback|attention, 2x128 LSTM on events",
       [base](Options& o, NeuralSpec& s) {
         const std::string config = o.choice("config", "basic", {"basic", "mono", "lookback", "attention"});
         s.net.kind = config == "attention" ? "attention_lstm" : "lstm";
         s.encoding = config == "basic" ? "events:range=basic"
                      : config == "mono" ? "events:range=mono"
                                         : config;
         s.codec = config == "lookback" || config == "attention" ? config : "tokens";
         s.net.layers = o.integer("layers", 2, 1, 8);
         s.net.hidden = o.integer("hidden", 128, 1, 4096);
         if (config == "attention") s.net.attn_length = o.integer("attn_length", 40, 1, 1024);
         // Magenta's hparams: batch 128, dropout keep 0.5, Adam 1e-3, clip norm 5 (attention_rnn 3).
         TrainConfig magenta = base;
         magenta.batch = 128;
         magenta.clip = config == "attention" ? 3 : 5;
         read_training(o, s, magenta, 0.5);
       }},
      {"anticipation", "Anticipation-RNN: a constraint LSTM read right to left feeding a generation LSTM",
       [base](Options& o, NeuralSpec& s) {
         read_recurrent(o, s, "anticipation", 2, 128, 32);
         s.net.constraint_hidden = o.integer("constraint_hidden", 128, 1, 4096);
         read_training(o, s, base, 0.2);
       }},
      {"transformer", "decoder-only causal transformer with learned positions",
       [base](Options& o, NeuralSpec& s) {
         s.net.kind = "transformer";
         s.net.layers = o.integer("layers", 4, 1, 24);
         s.net.hidden = o.integer("hidden", 128, 8, 4096);
         s.net.heads = o.integer("heads", 4, 1, 64);
         s.net.ff = o.integer("ff", 512, 1, 16384);
         s.net.max_len = o.integer("max_len", 4096, 16, 65536);
         TrainConfig t = base;
         t.learning_rate = 5e-4;
         read_training(o, s, t, 0.1);
       }},
  };
}

NeuralSpec read_spec(const NeuralFamilyDef& def, const ModelSpec& spec) {
  NeuralSpec ns;
  SpecReader reader(spec);
  Options options(reader, ns);
  def.read(options, ns);
  reader.finish();
  return ns;
}

ModelPtr train_neural(const NeuralFamilyDef& def, const ModelSpec& spec, const TrainingData& data) {
  NeuralSpec ns = read_spec(def, spec);
  if (data.epochs > 0) {
    ns.train.epochs = data.epochs;
    for (auto& [k, v] : ns.options)
      if (k == "epochs") v = std::to_string(data.epochs);
  }
  std::shared_ptr<const Encoding> encoding = data.encoding ? data.encoding : make_encoding(ns.encoding);
  std::unique_ptr<neural::Codec> codec = neural::make_codec(ns.codec, *encoding);
  neural::NetShape shape{codec->input_size(), codec->input_vocab(), codec->num_labels(),
                         static_cast<int>(encoding->vocab().size())};
  if (const auto* pairs = dynamic_cast<const PairEncoding*>(encoding.get())) {
    shape.pitch_classes = static_cast<int>(pairs->pitch_vocab().size());
    shape.durations = static_cast<int>(pairs->durations().size());
  }
  torch::manual_seed(data.seed);
  std::shared_ptr<neural::Net> net = neural::make_net(ns.net, shape);
  const ModelSpec resolved(def.name, ns.options);
  // A checkpoint continues a run of the same model; more epochs are allowed.
  ModelSpec same_model = resolved;
  same_model.erase("epochs");
  const std::string identity = same_model.to_string() + " on " + encoding->spec();
  neural::TrainRun run = neural::train_net(*net, *codec, *encoding, data, ns.train, identity);

  ModelInfo info;
  info.family = def.name;
  info.spec = resolved.to_string();
  info.encoding = encoding->spec();
  info.corpus = data.corpus;
  info.corpus_fingerprint = data.corpus_fingerprint;
  info.training_melodies = run.train_melodies;
  info.training_tokens = run.tokens;
  neural::NeuralSetup setup;
  setup.net = ns.net;
  setup.shape = shape;
  setup.codec = ns.codec;
  setup.options = ns.options;
  setup.history = run.history;
  setup.best_epoch = run.best_epoch;
  setup.best_valid_bits = run.best_valid_bits;
  return std::make_shared<neural::NeuralModel>(std::move(info), std::move(encoding), std::move(setup), std::move(net),
                                               std::move(codec));
}

}  // namespace

void register_neural_families() {
  for (NeuralFamilyDef& def : neural_family_defs()) {
    ModelFamily family;
    family.name = def.name;
    family.summary = def.summary;
    family.train = [def](const ModelSpec& spec, const TrainingData& data) { return train_neural(def, spec, data); };
    family.load = neural::load_neural_model;
    family.default_encoding = [def](const ModelSpec& spec) { return read_spec(def, spec).encoding; };
    add_model_family(std::move(family));
  }
}

}  // namespace antiphon
