// antiphon train / eval / info: train any model family from a spec, measure models in bits per note,
// and show what a model file holds.
#include <chrono>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "antiphon/analysis/evaluate.h"
#include "antiphon/corpus/corpus.h"
#include "antiphon/models/model_file.h"
#include "antiphon/models/preset.h"
#include "antiphon/models/registry.h"
#include "cli.h"

namespace antiphon::cli {
namespace {

std::string family_list() {
  std::string s;
  for (const auto& f : model_families()) s += "\n  " + f.name + ": " + f.summary;
  try {
    const std::vector<ModelPreset> presets = list_presets();
    if (!presets.empty()) s += "\nPresets (" + preset_dir() + "):";
    for (const ModelPreset& p : presets) s += "\n  " + p.name + ": " + p.spec + (p.encoding.empty() ? "" : " on " + p.encoding);
  } catch (const Error& e) {
    s += "\nPresets: " + std::string(e.what());
  }
  return s;
}

Corpus load_training_corpus(const CorpusArgs& args) {
  Corpus corpus = load_corpus(args.resolved(), args.options());
  for (const Diagnostic& d : corpus.rejected) std::cerr << "skipped: " << d.to_string() << "\n";
  if (corpus.melodies.empty()) throw ConfigError("the corpus has no melodies to learn from");
  return corpus;
}

std::string corpus_description(const CorpusArgs& args) {
  std::string s;
  for (const auto& p : args.paths) s += (s.empty() ? "" : " ") + p;
  return s;
}

// train ------------------------------------------------------------------------------------------------------

struct TrainArgs {
  std::string model;
  CorpusArgs corpus;
  std::string out;
  std::string encoding;
  uint64_t seed = 1;
  int epochs = 0;
  bool resume = false;
  std::string checkpoint;
  size_t checkpoint_every = 100;
  int threads = 0;
};

// A one-line progress bar on a terminal, redrawn at most ten times a second.
class ProgressBar {
 public:
  void operator()(const TrainProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    if (p.fraction < 1 && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const int width = 24;
    const int filled = static_cast<int>(p.fraction * width);
    std::ostringstream s;
    s << "\repoch " << p.epoch << "/" << p.epochs << " [" << std::string(static_cast<size_t>(filled), '#')
      << std::string(static_cast<size_t>(width - filled), '.') << "] " << std::setw(3)
      << static_cast<int>(p.fraction * 100) << "%  loss " << std::fixed << std::setprecision(3) << p.train_loss;
    if (p.valid_loss >= 0) s << "  valid " << p.valid_loss;
    s << " bits/token  " << std::setprecision(1) << p.tokens_per_s / 1000 << "k tokens/s  ";
    std::cerr << s.str() << std::flush;
    drawn_ = true;
  }
  void clear() {
    if (drawn_) std::cerr << "\r" << std::string(100, ' ') << "\r" << std::flush;
    drawn_ = false;
  }
  bool drawn_ = false;

 private:
  std::chrono::steady_clock::time_point last_{};
};

int run_train(const TrainArgs& args) {
  const ModelPreset preset = resolve_model_argument(args.model);
  const ModelSpec spec = ModelSpec::parse(preset.spec);
  require_model_family(spec.family());
  const std::string encoding = args.encoding.empty() ? preset.encoding : args.encoding;
  const auto t0 = std::chrono::steady_clock::now();
  Corpus corpus = load_training_corpus(args.corpus);
  TrainingData data;
  data.melodies = &corpus.melodies;
  if (!encoding.empty()) data.encoding = make_encoding(encoding);
  data.corpus = corpus_description(args.corpus);
  data.corpus_fingerprint = corpus.fingerprint;
  data.seed = args.seed;
  data.epochs = args.epochs;
  data.threads = args.threads;
  data.resume = args.resume;
  data.checkpoint = args.checkpoint.empty() ? args.out + ".ckpt" : args.checkpoint;
  data.checkpoint_every = args.checkpoint_every;
  auto bar = std::make_shared<ProgressBar>();
  data.log = [bar](LogLevel, std::string_view message) {
    bar->clear();
    std::cerr << message << "\n";
  };
  if (isatty(STDERR_FILENO)) data.progress = [bar](const TrainProgress& p) { (*bar)(p); };
  ModelPtr model = train_model(spec, data);
  bar->clear();
  save_model(*model, args.out);
  // The model is safely written: its checkpoint has done its job.
  std::error_code ec;
  std::filesystem::remove(data.checkpoint, ec);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const ModelInfo& info = model->info();
  std::cout << "trained " << info.spec << " on " << info.training_melodies << " melodies (" << info.training_tokens
            << " tokens, encoding " << info.encoding.substr(0, info.encoding.find(':')) << ", " << model->vocab_size()
            << " symbols) in " << std::fixed << std::setprecision(2) << seconds << " s\nwrote " << args.out << " ("
            << std::filesystem::file_size(args.out) << " bytes)\n";
  return kExitOk;
}

// eval -------------------------------------------------------------------------------------------------------

struct EvalArgs {
  std::string model;
  CorpusArgs corpus;
  int folds = 10;
  int max_folds = 0;
  uint64_t seed = 1;
  std::string target = "pitch";
  bool target_given = false;
  std::string encoding;
  int threads = 0;
  bool json = false;
};

nlohmann::json result_json(const EvalResult& r, const EvalArgs& args, const Corpus& corpus, bool cross_validated) {
  nlohmann::json j;
  j["model"] = r.model;
  j["corpus"] = args.corpus.paths;
  j["corpus_fingerprint"] = corpus.fingerprint;
  j["target"] = eval_target_name(r.target);
  j["alphabet"] = r.alphabet;
  j["mode"] = cross_validated ? "cross-validation" : "held-out";
  if (cross_validated) j["seed"] = args.seed;
  if (cross_validated && args.max_folds > 0) j["max_folds"] = args.max_folds;
  j["bits_per_note"] = r.bits_per_note;
  j["bits_per_note_event_avg"] = r.bits_per_note_event_avg;
  j["melodies"] = r.melodies;
  j["notes"] = r.notes;
  j["seconds"] = r.seconds;
  if (!cross_validated) j["skipped"] = r.skipped;
  j["folds"] = nlohmann::json::array();
  for (size_t i = 0; i < r.folds.size(); ++i) {
    const FoldResult& f = r.folds[i];
    j["folds"].push_back({{"fold", i + 1},
                          {"melodies", f.melodies},
                          {"notes", f.notes},
                          {"bits_per_note", f.bits_per_note},
                          {"bits_per_note_event_avg", f.bits_per_note_event_avg},
                          {"seconds", f.seconds}});
  }
  return j;
}

int run_eval(const EvalArgs& args) {
  // A path to an existing file is a trained model (held-out evaluation); anything else is a spec.
  const bool is_file = std::filesystem::is_regular_file(args.model) && !args.model.ends_with(".json");
  ModelPtr model;
  ModelSpec spec;
  EvalOptions options;
  if (is_file) {
    model = load_model(args.model);
  } else {
    const ModelPreset preset = resolve_model_argument(args.model);
    spec = ModelSpec::parse(preset.spec);
    require_model_family(spec.family());
    options.encoding = args.encoding.empty() ? preset.encoding : args.encoding;
  }
  options.target = parse_eval_target(args.target);
  options.folds = args.folds;
  options.max_folds = args.max_folds;
  options.seed = args.seed;
  options.threads = args.threads;
  options.validate();
  Corpus corpus = load_training_corpus(args.corpus);

  EvalResult r;
  if (model) {
    r = evaluate(*model, corpus.melodies, args.target_given ? std::optional(options.target) : std::nullopt,
                 [](LogLevel, std::string_view m) { std::cerr << m << "\n"; });
    r.model = args.model + " (" + model->info().spec + ")";
  } else {
    if (!args.json && isatty(STDERR_FILENO))
      options.progress = [](size_t done, size_t total) { std::cerr << "\rfold " << done << "/" << total << std::flush; };
    r = cross_validate(spec, corpus.melodies, options);
    if (options.progress) std::cerr << "\r" << std::string(20, ' ') << "\r";
  }
  if (args.json) {
    std::cout << result_json(r, args, corpus, !is_file).dump(2) << "\n";
    return kExitOk;
  }
  std::ostream& o = std::cout;
  o << std::fixed;
  o << "model         " << r.model << "\n";
  o << "corpus        " << corpus_description(args.corpus) << " (" << r.melodies << " melodies, " << r.notes
    << " notes, " << r.alphabet << " symbols)\n";
  o << "target        " << eval_target_name(r.target) << "\n";
  if (!is_file) o << "folds         " << r.folds.size() << " (seed " << args.seed << ")\n";
  o << "bits/note     " << std::setprecision(3) << r.bits_per_note << " (mean per melody)   "
    << r.bits_per_note_event_avg << " (mean per note)\n";
  if (!r.folds.empty()) {
    o << "per fold     ";
    for (const FoldResult& f : r.folds) o << " " << std::setprecision(3) << f.bits_per_note;
    o << "\n";
  }
  if (r.skipped) o << "skipped       " << r.skipped << " melodies the model cannot represent (see the messages above)\n";
  o << "time          " << std::setprecision(2) << r.seconds << " s\n";
  return kExitOk;
}

// info -------------------------------------------------------------------------------------------------------

int run_info(const std::string& path, bool json) {
  ModelHeader h = read_model_header(path);
  load_model(path);  // checks the payload too: info on a corrupt file is an error, not a half answer
  if (json) {
    nlohmann::json j;
    j["file"] = path;
    j["format_version"] = h.format_version;
    j["family"] = h.info.family;
    j["spec"] = h.info.spec;
    j["encoding"] = h.info.encoding;
    j["vocab_size"] = h.vocab.size();
    j["corpus"] = h.info.corpus;
    j["corpus_fingerprint"] = h.info.corpus_fingerprint;
    j["training_melodies"] = h.info.training_melodies;
    j["training_tokens"] = h.info.training_tokens;
    nlohmann::json config = nlohmann::json::object();
    for (const auto& [k, v] : h.config) config[k] = v;
    j["config"] = config;
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::ostream& o = std::cout;
  o << "file          " << path << " (format " << h.format_version << ", " << std::filesystem::file_size(path)
    << " bytes)\n";
  o << "family        " << h.info.family << "\n";
  o << "spec          " << h.info.spec << "\n";
  std::string enc = h.info.encoding;
  if (enc.size() > 100) enc = enc.substr(0, 97) + "...";
  o << "encoding      " << enc << " (" << h.vocab.size() << " tokens)\n";
  o << "trained on    " << h.info.corpus << ": " << h.info.training_melodies << " melodies, " << h.info.training_tokens
    << " tokens (corpus fingerprint " << (h.info.corpus_fingerprint.empty() ? "unknown" : h.info.corpus_fingerprint)
    << ")\n";
  o << "config       ";
  for (const auto& [k, v] : h.config) o << " " << k << "=" << v;
  o << "\n";
  return kExitOk;
}

}  // namespace

void add_model_commands(CLI::App& app, int& exit_code) {
  {
    auto args = std::make_shared<TrainArgs>();
    CLI::App* cmd = app.add_subcommand("train", "Train a model from a spec on a corpus and save it to one file");
    cmd->footer("Model families:" + family_list());
    cmd->add_option("--model", args->model,
                    "A preset (configs/NAME.json, e.g. basic_rnn), a preset file, or a spec family:key=value,... "
                    "(e.g. ppm:order=star,escape=C)")
        ->required();
    args->corpus.add_to(*cmd, "essen");
    cmd->add_option("--out", args->out, "Model file to write (atomically)")->required();
    cmd->add_option("--encoding", args->encoding,
                    "Token encoding (default: the pitch of each note, alphabet from the corpus), e.g. grid:steps=4");
    cmd->add_option("--seed", args->seed, "Seed for families with random initialisation")->capture_default_str();
    cmd->add_option("--epochs", args->epochs, "Neural families: epochs (overrides the spec's)")->check(CLI::Range(1, 100000));
    cmd->add_flag("--resume", args->resume, "Neural families: continue from the checkpoint when it exists");
    cmd->add_option("--checkpoint", args->checkpoint, "Neural families: checkpoint file (default OUT.ckpt; removed once OUT is written)");
    cmd->add_option("--checkpoint-every", args->checkpoint_every, "Neural families: optimiser steps between checkpoints (0: each epoch)")
        ->capture_default_str();
    cmd->add_option("--train-threads", args->threads, "Neural families: compute threads (0: one per core)")->check(CLI::NonNegativeNumber);
    cmd->callback([args, &exit_code] { exit_code = run_train(*args); });
  }
  {
    auto args = std::make_shared<EvalArgs>();
    CLI::App* cmd = app.add_subcommand(
        "eval", "Measure a model in bits per note: k-fold cross-validation of a spec, or a saved model on a corpus");
    cmd->footer("Model families:" + family_list());
    cmd->add_option("--model", args->model,
                    "A model file (held-out evaluation), or a preset or spec (cross-validated)")
        ->required();
    cmd->add_option("--encoding", args->encoding,
                    "Cross-validation: the encoding the model trains on, or `target` for one token per note "
                    "(default: the preset's, else the family's)");
    args->corpus.add_to(*cmd, "essen/europa/deutschl/fink");
    cmd->add_option("--folds", args->folds, "Cross-validation folds")->capture_default_str();
    cmd->add_option("--max-folds", args->max_folds,
                    "Run only the first N folds (--folds 10 --max-folds 1: a seeded 80/10/10 split)")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--seed", args->seed, "Seed of the fold assignment")->capture_default_str();
    cmd->add_option("--target", args->target, "What is scored: pitch (rests skipped) or note (pitch and duration)")
        ->capture_default_str()
        ->check(CLI::IsMember({"pitch", "note"}))
        ->each([args](const std::string&) { args->target_given = true; });
    cmd->add_option("--eval-threads", args->threads, "Folds in parallel (0: one per core)")->check(CLI::NonNegativeNumber);
    cmd->add_flag("--json", args->json, "Print the result as JSON");
    cmd->callback([args, &exit_code] { exit_code = run_eval(*args); });
  }
  {
    auto path = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    CLI::App* cmd = app.add_subcommand("info", "Show what a model file holds (family, spec, encoding, corpus, config)");
    cmd->add_option("model", *path, "Model file")->required();
    cmd->add_flag("--json", *json, "Print as JSON");
    cmd->callback([path, json, &exit_code] { exit_code = run_info(*path, *json); });
  }
}

}  // namespace antiphon::cli
