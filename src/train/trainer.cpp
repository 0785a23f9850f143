#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <thread>

#include "antiphon/core/transform.h"
#include "models/neural/nets_anticipation.h"

namespace antiphon::neural {

void TrainConfig::validate() const {
  auto bad = [](const std::string& what) { throw ConfigError(what); };
  if (epochs < 1 || epochs > 100000) bad("epochs=" + std::to_string(epochs) + " is outside 1..100000");
  if (batch < 1 || batch > 65536) bad("batch=" + std::to_string(batch) + " is outside 1..65536");
  if (!(learning_rate > 0 && learning_rate < 10)) bad("lr=" + std::to_string(learning_rate) + " is outside (0, 10)");
  if (!(clip >= 0)) bad("clip=" + std::to_string(clip) + " is negative");
  if (!(valid > 0 && valid < 1)) bad("valid=" + std::to_string(valid) + " is outside (0, 1)");
  if (patience < 0) bad("patience=" + std::to_string(patience) + " is negative");
  if (schedule != "plateau" && schedule != "cosine" && schedule != "constant")
    bad("schedule=" + schedule + ": expected plateau, cosine or constant");
  if (augment < 0 || augment > 24) bad("augment=" + std::to_string(augment) + " is outside 0..24");
  if (!(weight_decay >= 0)) bad("weight_decay=" + std::to_string(weight_decay) + " is negative");
}

namespace {

using Clock = std::chrono::steady_clock;
const double kLn2 = std::log(2.0);

// Everything a run needs to continue after the process was killed.
struct RunState {
  int epoch = 0;          // the epoch under way (0-based)
  size_t batch = 0;       // batches of that epoch already done
  size_t step = 0;        // optimiser steps so far
  double epoch_loss = 0;  // summed token losses (nats) of the epoch so far
  size_t epoch_tokens = 0;
  double learning_rate = 0;
  int bad_epochs = 0;
  double seconds = 0;     // training time before this process
  std::vector<EpochRecord> history;
  int best_epoch = 0;
  double best_valid_bits = INFINITY;
  std::vector<torch::Tensor> best;  // the best epoch's parameters
};

std::vector<torch::Tensor> copy_parameters(Net& net) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (const auto& p : net.parameters()) out.push_back(p.detach().clone());
  return out;
}

void restore_parameters(Net& net, const std::vector<torch::Tensor>& saved) {
  torch::NoGradGuard no_grad;
  auto params = net.parameters();
  assert(params.size() == saved.size());
  for (size_t i = 0; i < params.size(); ++i) params[i].copy_(saved[i]);
}

nlohmann::json meta_json(const RunState& s, const std::string& identity) {
  nlohmann::json history = nlohmann::json::array();
  for (const EpochRecord& e : s.history)
    history.push_back({e.epoch, e.steps, e.train_bits, e.valid_bits, e.learning_rate, e.seconds});
  return {{"identity", identity},       {"epoch", s.epoch},
          {"batch", s.batch},           {"step", s.step},
          {"epoch_loss", s.epoch_loss}, {"epoch_tokens", s.epoch_tokens},
          {"learning_rate", s.learning_rate}, {"bad_epochs", s.bad_epochs},
          {"seconds", s.seconds},       {"history", history},
          {"best_epoch", s.best_epoch}, {"best_valid_bits", std::isfinite(s.best_valid_bits) ? s.best_valid_bits : -1.0}};
}

void write_checkpoint(const std::string& path, Net& net, torch::optim::Optimizer& optimizer, const RunState& s,
                      const std::string& identity) {
  torch::serialize::OutputArchive root, net_archive, best_archive, optimizer_archive;
  net.save(net_archive);
  for (size_t i = 0; i < s.best.size(); ++i) best_archive.write(std::to_string(i), s.best[i]);
  optimizer.save(optimizer_archive);
  root.write("net", net_archive);
  root.write("best", best_archive);
  root.write("optimizer", optimizer_archive);
  root.write("meta", c10::IValue(meta_json(s, identity).dump()));
  const std::string tmp = path + ".tmp";
  try {
    root.save_to(tmp);
    std::filesystem::rename(tmp, path);
  } catch (const std::exception& e) {
    std::error_code ec;
    std::filesystem::remove(tmp, ec);
    throw IoError(path + ": cannot write the checkpoint: " + e.what());
  }
}

void read_checkpoint(const std::string& path, Net& net, torch::optim::Optimizer& optimizer, RunState& s,
                     const std::string& identity) {
  nlohmann::json meta;
  try {
    torch::serialize::InputArchive root, net_archive, best_archive, optimizer_archive;
    root.load_from(path);
    c10::IValue m;
    root.read("meta", m);
    meta = nlohmann::json::parse(m.toStringRef());
    if (meta.at("identity").get<std::string>() != identity)
      throw ConfigError(path + ": the checkpoint is of another model (" + meta.at("identity").get<std::string>() +
                        "), not " + identity);
    root.read("net", net_archive);
    net.load(net_archive);
    root.read("best", best_archive);
    s.best.clear();
    for (size_t i = 0; i < net.parameters().size(); ++i) {
      torch::Tensor t;
      if (!best_archive.try_read(std::to_string(i), t)) break;
      s.best.push_back(t);
    }
    root.read("optimizer", optimizer_archive);
    optimizer.load(optimizer_archive);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw ModelFileError(path + ": not a readable checkpoint of this model: " + what.substr(0, what.find('\n')));
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError(path + ": the checkpoint's description is corrupt: " + e.what());
  }
  s.epoch = meta.at("epoch").get<int>();
  s.batch = meta.at("batch").get<size_t>();
  s.step = meta.at("step").get<size_t>();
  s.epoch_loss = meta.at("epoch_loss").get<double>();
  s.epoch_tokens = meta.at("epoch_tokens").get<size_t>();
  s.learning_rate = meta.at("learning_rate").get<double>();
  s.bad_epochs = meta.at("bad_epochs").get<int>();
  s.seconds = meta.at("seconds").get<double>();
  s.best_epoch = meta.at("best_epoch").get<int>();
  const double best = meta.at("best_valid_bits").get<double>();
  s.best_valid_bits = best < 0 ? INFINITY : best;
  s.history.clear();
  for (const auto& e : meta.at("history"))
    s.history.push_back({e[0].get<int>(), e[1].get<size_t>(), e[2].get<double>(), e[3].get<double>(),
                         e[4].get<double>(), e[5].get<double>()});
}

void set_learning_rate(torch::optim::Adam& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

// Mean bits per token of the net on these sequences (unconstrained, no dropout).
// The summed negative log-likelihood (nats) of a batch's labels over its real steps: the net's label shortcut
// when it has one (the note_lstm's joint is costly to build), else the cross-entropy of forward's logits.
torch::Tensor label_nats(Net& net, const NetBatch& batch) {
  const torch::Tensor lp = net.label_log_probs(batch);
  if (lp.defined()) return -lp.masked_select(batch.mask).sum();
  const torch::Tensor logits = net.forward(batch);
  return torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), batch.labels.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100).reduction(torch::kSum));
}

double validation_bits(Net& net, const std::vector<CodedSequence>& sequences, const Codec& codec, int token_vocab) {
  torch::NoGradGuard no_grad;
  net.eval();
  double nats = 0;
  size_t tokens = 0;
  constexpr size_t kBatch = 64;
  for (size_t i = 0; i < sequences.size(); i += kBatch) {
    std::vector<const CodedSequence*> part;
    for (size_t j = i; j < std::min(sequences.size(), i + kBatch); ++j) part.push_back(&sequences[j]);
    NetBatch batch = make_batch(part, codec);
    if (net.wants_constraints()) batch.constraints = torch::full_like(batch.labels, token_vocab);
    nats += label_nats(net, batch).item<double>();
    tokens += static_cast<size_t>(batch.mask.sum().item<int64_t>());
  }
  return tokens ? nats / static_cast<double>(tokens) / kLn2 : 0;
}

}  // namespace

TrainRun train_net(Net& net, const Codec& codec, const Encoding& encoding, const TrainingData& data,
                   const TrainConfig& config, const std::string& identity) {
  config.validate();
  assert(data.melodies);
  const auto t0 = Clock::now();
  const int threads = data.threads > 0 ? data.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  auto log = [&](LogLevel level, const std::string& message) {
    if (data.log) data.log(level, message);
  };

  // Melodies the encoding can represent; the rest are reported and left out.
  TrainRun run;
  std::vector<const Melody*> usable;
  for (const Melody& m : *data.melodies) {
    try {
      const size_t steps = encoding.encode(m).size();
      if (steps > net.max_steps())
        throw EncodingError(std::to_string(steps) + " steps, longer than the network reads (" +
                            std::to_string(net.max_steps()) + ")");
      if (steps > 0) usable.push_back(&m);
    } catch (const EncodingError& e) {
      ++run.skipped;
      log(LogLevel::warning, "not trained on " + melody_label(m) + ": " + e.what());
    }
  }
  if (usable.size() < 2)
    throw ConfigError("training needs at least 2 melodies that the encoding " + encoding.spec() +
                      " can represent (one for validation); there are " + std::to_string(usable.size()));

  // The split by melody, seeded.
  std::mt19937_64 split_rng(data.seed);
  std::shuffle(usable.begin(), usable.end(), split_rng);
  const size_t n_valid = std::clamp<size_t>(static_cast<size_t>(std::lround(config.valid * static_cast<double>(usable.size()))),
                                            1, usable.size() - 1);
  const std::vector<const Melody*> valid_melodies(usable.begin(), usable.begin() + static_cast<long>(n_valid));
  const std::vector<const Melody*> train_melodies(usable.begin() + static_cast<long>(n_valid), usable.end());
  run.train_melodies = train_melodies.size();
  run.valid_melodies = valid_melodies.size();
  if (train_melodies.size() < static_cast<size_t>(config.batch))
    throw ConfigError("there are " + std::to_string(train_melodies.size()) + " training melodies, fewer than one batch of " +
                      std::to_string(config.batch) + "; lower batch= or give more melodies");

  auto code = [&](const Melody& m) { return codec.code(encoding.encode(m)); };
  std::vector<CodedSequence> valid;
  for (const Melody* m : valid_melodies) valid.push_back(code(*m));
  std::vector<CodedSequence> train_plain;
  for (const Melody* m : train_melodies) {
    train_plain.push_back(code(*m));
    run.tokens += train_plain.back().steps;
  }
  const size_t steps_per_epoch = (train_melodies.size() + static_cast<size_t>(config.batch) - 1) / static_cast<size_t>(config.batch);
  const size_t total_steps = steps_per_epoch * static_cast<size_t>(config.epochs);
  const int token_vocab = static_cast<int>(encoding.vocab().size());

  torch::optim::Adam optimizer(net.parameters(),
                               torch::optim::AdamOptions(config.learning_rate).weight_decay(config.weight_decay));
  RunState s;
  s.learning_rate = config.learning_rate;
  if (data.resume && !data.checkpoint.empty() && std::filesystem::exists(data.checkpoint)) {
    read_checkpoint(data.checkpoint, net, optimizer, s, identity);
    run.resumed = true;
    log(LogLevel::info, "resuming " + data.checkpoint + " at epoch " + std::to_string(s.epoch + 1) + ", step " +
                            std::to_string(s.step));
  } else if (data.resume) {
    log(LogLevel::info, "no checkpoint at " + (data.checkpoint.empty() ? std::string("(none given)") : data.checkpoint) +
                            "; starting from the beginning");
  }
  const double seconds_before = s.seconds;
  auto elapsed = [&] { return seconds_before + std::chrono::duration<double>(Clock::now() - t0).count(); };
  auto checkpoint = [&] {
    if (data.checkpoint.empty()) return;
    s.seconds = elapsed();
    write_checkpoint(data.checkpoint, net, optimizer, s, identity);
  };

  size_t tokens_this_process = 0;
  // A run that stopped early stays stopped when resumed.
  bool stop = run.resumed && config.patience > 0 && s.bad_epochs >= config.patience;
  for (; s.epoch < config.epochs && !stop; ++s.epoch) {
    // The epoch's order and augmentation come from (seed, epoch) alone, so a resumed run repeats them.
    std::mt19937_64 rng(data.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(s.epoch) + 1);
    std::vector<size_t> order(train_melodies.size());
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<CodedSequence> augmented;
    if (config.augment > 0) {
      std::uniform_int_distribution<int> shift(-config.augment, config.augment);
      for (size_t i = 0; i < train_melodies.size(); ++i) {
        const int k = shift(rng);
        try {
          augmented.push_back(k == 0 ? train_plain[i] : code(transpose(*train_melodies[i], k)));
        } catch (const EncodingError&) {
          augmented.push_back(train_plain[i]);  // out of the encoding's range when moved: keep it in place
        }
      }
    }
    const std::vector<CodedSequence>& train = config.augment > 0 ? augmented : train_plain;
    net.train();
    for (; s.batch < steps_per_epoch; ++s.batch) {
      if (data.cancel && data.cancel->load()) throw Cancelled("training cancelled at step " + std::to_string(s.step));
      std::vector<const CodedSequence*> part;
      for (size_t j = s.batch * static_cast<size_t>(config.batch);
           j < std::min(order.size(), (s.batch + 1) * static_cast<size_t>(config.batch)); ++j)
        part.push_back(&train[order[j]]);
      NetBatch batch = make_batch(part, codec);
      // Dropout draws from (seed, step) alone, so a resumed run repeats them.
      torch::manual_seed(data.seed * 1000003ULL + s.step);
      if (net.wants_constraints())
        batch.constraints = random_constraints(batch.labels, token_vocab, data.seed + s.step * 31 + 17);
      torch::Tensor loss = label_nats(net, batch) / batch.mask.sum();
      const double nats = loss.item<double>();
      if (!std::isfinite(nats))
        throw TrainingError("training diverged at epoch " + std::to_string(s.epoch + 1) + ", step " +
                            std::to_string(s.step + 1) + " (the loss is " + std::to_string(nats) + "); " +
                            (data.checkpoint.empty() || !std::filesystem::exists(data.checkpoint)
                                 ? std::string("no checkpoint was written")
                                 : "the last good checkpoint is " + data.checkpoint));
      optimizer.zero_grad();
      loss.backward();
      if (config.clip > 0) torch::nn::utils::clip_grad_norm_(net.parameters(), config.clip);
      if (config.schedule == "cosine") {
        s.learning_rate = config.learning_rate * 0.5 *
                          (1 + std::cos(M_PI * static_cast<double>(s.step) / static_cast<double>(total_steps)));
        set_learning_rate(optimizer, s.learning_rate);
      }
      optimizer.step();
      ++s.step;
      const auto n = static_cast<size_t>(batch.mask.sum().item<int64_t>());
      s.epoch_loss += nats * static_cast<double>(n);
      s.epoch_tokens += n;
      tokens_this_process += n;
      bool wrote = false;
      if (data.checkpoint_every > 0 && s.step % data.checkpoint_every == 0 && s.batch + 1 < steps_per_epoch) {
        ++s.batch;  // the checkpoint records this batch as done
        checkpoint();
        --s.batch;
        wrote = !data.checkpoint.empty();
      }
      if (data.progress) {
        TrainProgress p;
        p.epoch = s.epoch + 1;
        p.epochs = config.epochs;
        p.step = s.step;
        p.steps_per_epoch = steps_per_epoch;
        p.train_loss = s.epoch_tokens ? s.epoch_loss / static_cast<double>(s.epoch_tokens) / kLn2 : 0;
        p.valid_loss = s.history.empty() ? -1 : s.history.back().valid_bits;
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        p.tokens_per_s = secs > 0 ? static_cast<double>(tokens_this_process) / secs : 0;
        p.fraction = static_cast<double>(s.step) / static_cast<double>(total_steps);
        p.checkpoint_written = wrote;
        data.progress(p);
      }
    }
    const double valid_bits = validation_bits(net, valid, codec, token_vocab);
    EpochRecord record{s.epoch + 1,
                       s.step,
                       s.epoch_tokens ? s.epoch_loss / static_cast<double>(s.epoch_tokens) / kLn2 : 0,
                       valid_bits,
                       s.learning_rate,
                       elapsed()};
    s.history.push_back(record);
    if (!std::isfinite(valid_bits))
      throw TrainingError("training diverged at epoch " + std::to_string(s.epoch + 1) +
                          " (the validation loss is not finite)");
    if (valid_bits < s.best_valid_bits - 1e-6) {
      s.best_valid_bits = valid_bits;
      s.best_epoch = s.epoch + 1;
      s.best = copy_parameters(net);
      s.bad_epochs = 0;
    } else {
      ++s.bad_epochs;
      if (config.schedule == "plateau") {
        s.learning_rate /= 2;
        set_learning_rate(optimizer, s.learning_rate);
      }
      if (config.patience > 0 && s.bad_epochs >= config.patience) {
        stop = true;
        run.stopped_early = s.epoch + 1 < config.epochs;
      }
    }
    log(LogLevel::info, "epoch " + std::to_string(s.epoch + 1) + ": train " + std::to_string(record.train_bits) +
                            " bits/token, validation " + std::to_string(valid_bits) + " bits/token");
    s.batch = 0;
    s.epoch_loss = 0;
    s.epoch_tokens = 0;
    if (!data.checkpoint.empty()) {
      ++s.epoch;  // the checkpoint records this epoch as done
      checkpoint();
      --s.epoch;
    }
  }
  if (!s.best.empty()) restore_parameters(net, s.best);
  net.eval();
  run.history = s.history;
  run.best_epoch = s.best_epoch;
  run.best_valid_bits = s.best_valid_bits;
  return run;
}

}  // namespace antiphon::neural
