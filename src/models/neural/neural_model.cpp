#include "models/neural/neural_model.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "antiphon/models/registry.h"

namespace antiphon::neural {
namespace {

constexpr uint32_t kPayloadVersion = 1;

class NeuralState : public ModelState {
 public:
  std::unique_ptr<ModelState> clone() const override {
    auto s = std::make_unique<NeuralState>();
    s->history_ = history_;
    s->net = net->clone();
    s->logits = logits;
    return s;
  }
  std::unique_ptr<NetState> net;
  std::vector<float> logits;  // the next step's label logits
};

nlohmann::json params_json(const NetParams& p) {
  return {{"kind", p.kind},       {"window", p.window},   {"hidden", p.hidden},
          {"layers", p.layers},   {"embed", p.embed},     {"dropout", p.dropout},
          {"attn_length", p.attn_length}, {"heads", p.heads}, {"ff", p.ff},
          {"max_len", p.max_len}, {"constraint_hidden", p.constraint_hidden}};
}

NetParams params_from_json(const nlohmann::json& j) {
  NetParams p;
  p.kind = j.at("kind").get<std::string>();
  p.window = j.at("window").get<int>();
  p.hidden = j.at("hidden").get<int>();
  p.layers = j.at("layers").get<int>();
  p.embed = j.at("embed").get<int>();
  p.dropout = j.at("dropout").get<double>();
  p.attn_length = j.at("attn_length").get<int>();
  p.heads = j.at("heads").get<int>();
  p.ff = j.at("ff").get<int>();
  p.max_len = j.at("max_len").get<int>();
  p.constraint_hidden = j.at("constraint_hidden").get<int>();
  return p;
}

nlohmann::json history_json(const std::vector<EpochRecord>& history) {
  nlohmann::json a = nlohmann::json::array();
  for (const EpochRecord& e : history)
    a.push_back({{"epoch", e.epoch}, {"steps", e.steps}, {"train_bits", e.train_bits}, {"valid_bits", e.valid_bits},
                 {"learning_rate", e.learning_rate}, {"seconds", e.seconds}});
  return a;
}

std::vector<EpochRecord> history_from_json(const nlohmann::json& a) {
  std::vector<EpochRecord> out;
  for (const auto& e : a)
    out.push_back({e.at("epoch").get<int>(), e.at("steps").get<size_t>(), e.at("train_bits").get<double>(),
                   e.at("valid_bits").get<double>(), e.at("learning_rate").get<double>(), e.at("seconds").get<double>()});
  return out;
}

void softmax(std::span<const float> logits, std::vector<double>& probs) {
  probs.resize(logits.size());
  const float mx = *std::max_element(logits.begin(), logits.end());
  double z = 0;
  for (size_t i = 0; i < logits.size(); ++i) z += probs[i] = std::exp(static_cast<double>(logits[i] - mx));
  for (double& p : probs) p /= z;
}

}  // namespace

NeuralModel::NeuralModel(ModelInfo info, std::shared_ptr<const Encoding> encoding, NeuralSetup setup,
                         std::shared_ptr<Net> net, std::unique_ptr<Codec> codec)
    : SequenceModel(std::move(info), std::move(encoding)),
      setup_(std::move(setup)),
      net_(std::move(net)),
      codec_(std::move(codec)) {
  assert(net_ && codec_);
  assert(codec_->num_labels() == setup_.shape.num_labels);
  token_codec_ = dynamic_cast<const TokenCodec*>(codec_.get()) != nullptr;
  net_->freeze();
}

std::vector<int64_t> NeuralModel::free_constraints(size_t steps) const {
  return std::vector<int64_t>(steps, static_cast<int64_t>(vocab_size()));
}

std::unique_ptr<ModelState> NeuralModel::start(const Melody* source) const {
  std::vector<int64_t> constraints;
  if (net_->wants_constraints() && source) {
    // The constraint reader needs the length of the sequence to come: the source's, when it can be encoded.
    try {
      constraints = free_constraints(encoding().encode(*source).size());
    } catch (const EncodingError&) {
    }
  }
  return start_constrained(constraints);
}

std::unique_ptr<ModelState> NeuralModel::start_with_constraints(const Melody*, std::span<const int> tokens) const {
  if (!net_->wants_constraints()) return nullptr;
  std::vector<int64_t> constraints;
  constraints.reserve(tokens.size());
  for (int t : tokens) constraints.push_back(t < 0 ? static_cast<int64_t>(vocab_size()) : t);
  return start_constrained(constraints);
}

std::unique_ptr<ModelState> NeuralModel::start_constrained(std::span<const int64_t> constraints) const {
  for (int64_t c : constraints)
    if (c < 0 || c > static_cast<int64_t>(vocab_size()))
      throw ConfigError("constraint token " + std::to_string(c) + " is outside the vocabulary of " +
                        std::to_string(vocab_size()));
  auto s = std::make_unique<NeuralState>();
  s->net = net_->start(constraints);
  s->logits.resize(static_cast<size_t>(setup_.shape.num_labels));
  std::vector<float> features(static_cast<size_t>(std::max(0, codec_->input_size())));
  if (codec_->input_size() > 0) codec_->input_features({}, features);
  net_->step(*s->net, codec_->input_size() > 0 ? 0 : codec_->input_id({}), features, s->logits);
  return s;
}

void NeuralModel::predict(const ModelState& state, std::span<double> probs) const {
  const auto& s = static_cast<const NeuralState&>(state);
  assert(probs.size() == vocab_size());
  std::vector<double> labels;
  softmax(s.logits, labels);
  codec_->token_probs(s.history(), labels, probs);
}

void NeuralModel::advance_state(ModelState& state, int token) const {
  auto& s = static_cast<NeuralState&>(state);
  std::vector<float> features(static_cast<size_t>(std::max(0, codec_->input_size())));
  int64_t id = 0;
  if (token_codec_) {
    id = token;
  } else {
    std::vector<int> history = s.history();
    history.push_back(token);
    if (codec_->input_size() > 0) codec_->input_features(history, features);
    else id = codec_->input_id(history);
  }
  net_->step(*s.net, id, features, s.logits);
}

torch::Tensor NeuralModel::label_log_probs(std::span<const int> tokens, const Melody*) const {
  torch::NoGradGuard no_grad;
  const CodedSequence coded = codec_->code(tokens);
  NetBatch batch = make_batch({&coded}, *codec_);
  if (net_->wants_constraints()) batch.constraints = torch::full({1, static_cast<int64_t>(tokens.size())},
                                                                 static_cast<int64_t>(vocab_size()), torch::kLong);
  return torch::log_softmax(net_->forward(batch)[0].to(torch::kDouble), -1).contiguous();
}

std::vector<double> NeuralModel::token_log2_probs(std::span<const int> tokens, const Melody* source) const {
  std::vector<double> out(tokens.size());
  if (tokens.empty()) return out;
  const torch::Tensor lp = label_log_probs(tokens, source);
  const double* p = lp.data_ptr<double>();
  const auto labels = static_cast<size_t>(lp.size(1));
  if (token_codec_) {
    for (size_t t = 0; t < tokens.size(); ++t) out[t] = p[t * labels + static_cast<size_t>(tokens[t])] / std::log(2.0);
    return out;
  }
  predict_all(tokens, source, [&](size_t t, std::span<const double> probs) {
    out[t] = std::log2(probs[static_cast<size_t>(tokens[t])]);
  });
  return out;
}

void NeuralModel::predict_all(std::span<const int> tokens, const Melody* source, const DistributionVisitor& visit) const {
  if (tokens.empty()) return;
  const torch::Tensor lp = label_log_probs(tokens, source);
  const double* p = lp.data_ptr<double>();
  const auto labels = static_cast<size_t>(lp.size(1));
  std::vector<double> label_probs(labels), probs(vocab_size());
  for (size_t t = 0; t < tokens.size(); ++t) {
    for (size_t l = 0; l < labels; ++l) label_probs[l] = std::exp(p[t * labels + l]);
    codec_->token_probs(tokens.first(t), label_probs, probs);
    visit(t, probs);
  }
}

std::vector<std::pair<std::string, std::string>> NeuralModel::config() const {
  auto out = setup_.options;
  out.emplace_back("codec", setup_.codec);
  out.emplace_back("parameters", std::to_string([&] {
                     size_t n = 0;
                     for (const auto& t : net_->parameters()) n += static_cast<size_t>(t.numel());
                     return n;
                   }()));
  out.emplace_back("epochs_trained", std::to_string(setup_.history.size()));
  if (!setup_.history.empty()) {
    std::ostringstream s;
    s.precision(4);
    s << std::fixed << setup_.best_valid_bits;
    out.emplace_back("best_epoch", std::to_string(setup_.best_epoch));
    out.emplace_back("best_valid_bits_per_token", s.str());
  }
  out.emplace_back("history", history_json(setup_.history).dump());
  return out;
}

void NeuralModel::save_payload(ModelWriter& out) const {
  out.u32(kPayloadVersion);
  nlohmann::json j = {{"net", params_json(setup_.net)},
                      {"shape",
                       {{"input_size", setup_.shape.input_size},
                        {"input_vocab", setup_.shape.input_vocab},
                        {"num_labels", setup_.shape.num_labels},
                        {"token_vocab", setup_.shape.token_vocab},
                        {"pitch_classes", setup_.shape.pitch_classes},
                        {"durations", setup_.shape.durations}}},
                      {"codec", setup_.codec},
                      {"options", setup_.options},
                      {"history", history_json(setup_.history)},
                      {"best_epoch", setup_.best_epoch},
                      {"best_valid_bits", setup_.best_valid_bits}};
  out.str(j.dump());
  out.str(net_to_bytes(*net_));
}

std::string net_to_bytes(Net& net) {
  torch::serialize::OutputArchive archive;
  net.save(archive);
  std::ostringstream s;
  archive.save_to(s);
  return s.str();
}

void net_from_bytes(Net& net, const std::string& bytes, const std::string& file) {
  try {
    torch::serialize::InputArchive archive;
    std::istringstream s(bytes);
    archive.load_from(s);
    // Loading replaces each tensor with the archive's, whatever its shape: compare against the architecture.
    const auto expected = net.named_parameters();
    std::vector<std::vector<int64_t>> shapes;
    for (const auto& p : expected) shapes.push_back(p.value().sizes().vec());
    net.load(archive);
    const auto loaded = net.named_parameters();
    for (size_t i = 0; i < loaded.size(); ++i)
      if (loaded[i].value().sizes().vec() != shapes[i])
        throw ModelFileError(file + ": the network weights do not fit the architecture in the header: " +
                             loaded[i].key() + " is " + c10::str(loaded[i].value().sizes()) + ", expected " +
                             c10::str(c10::IntArrayRef(shapes[i])));
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw ModelFileError(file + ": the network weights do not fit the architecture in the header: " +
                         what.substr(0, what.find('\n')));
  }
}

ModelPtr load_neural_model(const ModelHeader& header, std::shared_ptr<const Encoding> encoding, ModelReader& in) {
  in.version("neural payload version", kPayloadVersion);
  NeuralSetup setup;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in.str("network description"));
    setup.net = params_from_json(j.at("net"));
    const auto& sh = j.at("shape");
    setup.shape = {sh.at("input_size").get<int>(), sh.at("input_vocab").get<int>(), sh.at("num_labels").get<int>(),
                   sh.at("token_vocab").get<int>(), sh.value("pitch_classes", 0), sh.value("durations", 0)};
    setup.codec = j.at("codec").get<std::string>();
    setup.options = j.at("options").get<std::vector<std::pair<std::string, std::string>>>();
    setup.history = history_from_json(j.at("history"));
    setup.best_epoch = j.at("best_epoch").get<int>();
    setup.best_valid_bits = j.at("best_valid_bits").get<double>();
  } catch (const nlohmann::json::exception& e) {
    in.fail(std::string("the network description is not valid: ") + e.what());
  }
  const std::string weights = in.str("network weights");
  in.expect_end();
  std::unique_ptr<Codec> codec;
  std::shared_ptr<Net> net;
  try {
    codec = make_codec(setup.codec, *encoding);
    if (codec->num_labels() != setup.shape.num_labels || codec->input_size() != setup.shape.input_size ||
        setup.shape.token_vocab != static_cast<int>(encoding->vocab().size()))
      in.fail("the network's inputs and outputs (" + std::to_string(setup.shape.num_labels) +
              " labels) do not fit its encoding " + encoding->spec());
    net = make_net(setup.net, setup.shape);
  } catch (const ConfigError& e) {
    in.fail(std::string("the network cannot be rebuilt: ") + e.what());
  }
  net_from_bytes(*net, weights, in.file());
  return std::make_shared<NeuralModel>(header.info, std::move(encoding), std::move(setup), std::move(net),
                                       std::move(codec));
}

NetBatch make_batch(const std::vector<const CodedSequence*>& sequences, const Codec& codec) {
  assert(!sequences.empty());
  const auto b = static_cast<int64_t>(sequences.size());
  int64_t t_max = 1;
  for (const CodedSequence* s : sequences) t_max = std::max<int64_t>(t_max, static_cast<int64_t>(s->steps));
  NetBatch batch;
  const int f = codec.input_size();
  batch.labels = torch::full({b, t_max}, -100, torch::kLong);
  batch.mask = torch::zeros({b, t_max}, torch::kBool);
  batch.lengths = torch::zeros({b}, torch::kLong);
  if (f > 0) batch.features = torch::zeros({b, t_max, f});
  else batch.ids = torch::full({b, t_max}, codec.input_vocab() - 1, torch::kLong);
  auto labels = batch.labels.accessor<int64_t, 2>();
  auto mask = batch.mask.accessor<bool, 2>();
  auto lengths = batch.lengths.accessor<int64_t, 1>();
  for (int64_t i = 0; i < b; ++i) {
    const CodedSequence& s = *sequences[static_cast<size_t>(i)];
    lengths[i] = static_cast<int64_t>(s.steps);
    for (size_t t = 0; t < s.steps; ++t) {
      labels[i][static_cast<int64_t>(t)] = s.labels[t];
      mask[i][static_cast<int64_t>(t)] = true;
    }
    if (f > 0) {
      if (s.steps) std::copy(s.features.begin(), s.features.end(), batch.features[i].data_ptr<float>());
    } else {
      auto ids = batch.ids.accessor<int64_t, 2>();
      for (size_t t = 0; t < s.steps; ++t) ids[i][static_cast<int64_t>(t)] = s.input_ids[t];
    }
  }
  return batch;
}

}  // namespace antiphon::neural
