// antiphon bench respond: the latency of answering a call (generate/generate.h respond()), the dialogue's
// interactive step, for each model family this build has. Each family is trained in-process on a corpus
// subset, then answers held-out calls (the first bars of melodies it did not train on) again and again; the
// p50 and p99 latencies are printed against the family's goal (p50 / goal: below 1 meets it).
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/corpus/corpus.h"
#include "antiphon/generate/generate.h"
#include "antiphon/models/preset.h"
#include "antiphon/models/registry.h"
#include "cli.h"

namespace antiphon::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchRespondArgs {
  CorpusArgs corpus;
  int repeats = 200;
  int bars = 2;
  int calls = 20;
  size_t neural_melodies = 100;
  int epochs = 1;
  double max_seconds = 15;
  uint64_t seed = 1;
  int rejection_tries = GenerateOptions{}.rejection_tries;
  int estimate_samples = GenerateOptions{}.estimate_samples;
  std::vector<std::string> families;  // empty: every family this build has
};

// One family to time: what it trains from and the goal for its p50 latency.
struct FamilyRow {
  std::string name;      // as the table shows it and --family selects it
  std::string preset;    // a preset name or a spec (models/preset.h)
  std::string encoding;  // the encoding when the preset has none ("" = the family's default)
  double goal_ms = 0;
  bool neural = false;
};

std::vector<FamilyRow> family_rows() {
  return {
      // The counting families share the PPM goal: a lookup per token.
      {"ppm", "ppm", "", 0.2, false},
      {"markov", "markov:order=2", "grid:steps=4", 0.2, false},
      // The presets' architectures (configs/lstm.json, configs/transformer.json), trained briefly: latency does
      // not depend on how well a net is trained.
      {"lstm", "lstm", "grid:steps=4", 2.0, true},
      {"transformer", "transformer", "grid:steps=4", 5.0, true},
  };
}

// The first `bars` bars of a melody (counted from the first full bar; the pickup comes along), the last note
// cut at the bar line.
Melody first_bars(const Melody& m, int bars) {
  Rational bar = m.meter().bar_length();
  if (bar <= Rational(0)) bar = Rational(4);
  const Rational cut = m.pickup + Rational(bars) * bar;
  Melody call = m;
  call.notes.clear();
  for (const Note& n : m.notes) {
    if (n.onset >= cut) break;
    Note kept = n;
    if (kept.end() > cut) kept.duration = cut - kept.onset;
    call.notes.push_back(kept);
  }
  while (!call.notes.empty() && call.notes.back().is_rest()) call.notes.pop_back();
  return call;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Timing {
  std::vector<double> ms;
  std::map<std::string, int> methods;  // how many answers each method gave
  int unsatisfiable = 0;
};

Timing time_respond(const SequenceModel& model, const std::vector<Melody>& calls, bool in_key,
                    const BenchRespondArgs& a) {
  Timing t;
  RespondRequest request;
  request.bars = a.bars;
  request.in_key = in_key;
  request.options.seed = a.seed;
  request.options.rejection_tries = a.rejection_tries;
  request.options.estimate_samples = a.estimate_samples;
  request.call = calls.front();
  respond(model, request);  // warm-up: caches, lazy allocations
  const auto start = Clock::now();
  for (int i = 0; i < a.repeats; ++i) {
    request.call = calls[static_cast<size_t>(i) % calls.size()];
    request.options.seed = a.seed + static_cast<uint64_t>(i);
    const auto t0 = Clock::now();
    const GenerateResult r = respond(model, request);
    t.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!r.satisfiable || r.generations.empty())
      ++t.unsatisfiable;
    else
      ++t.methods[r.generations.front().method];
    if (std::chrono::duration<double>(Clock::now() - start).count() > a.max_seconds) break;
  }
  return t;
}

std::string methods_text(const Timing& t) {
  std::string s;
  for (const auto& [method, n] : t.methods)
    s += (s.empty() ? "" : ", ") + method + (t.methods.size() > 1 ? " x" + std::to_string(n) : "");
  if (t.unsatisfiable) s += (s.empty() ? "" : ", ") + std::string("unsatisfiable x") + std::to_string(t.unsatisfiable);
  return s;
}

int run_bench_respond(const BenchRespondArgs& a) {
  CorpusOptions options = a.corpus.options();
  // Every family must hold the calls and the training melodies: the grid families need 16th-note rhythms.
  if (options.filter.grid_steps_per_quarter == 0) options.filter.grid_steps_per_quarter = 4;
  if (options.filter.min_notes == 0) options.filter.min_notes = 8;
  Corpus corpus = load_corpus(a.corpus.resolved(), options);
  const size_t n = corpus.melodies.size();
  if (n < 10) throw ConfigError("bench respond needs at least 10 melodies on the 16th-note grid; the corpus has " + std::to_string(n));

  // A seeded 90/10 split: the models train on 90 %, the calls come from the other 10 %.
  const Fold fold = kfold_split(n, 10, a.seed).front();
  std::vector<Melody> train, neural_train, held_out_calls;
  for (size_t i : fold.train) train.push_back(corpus.melodies[i]);
  neural_train.assign(train.begin(), train.begin() + static_cast<std::ptrdiff_t>(std::min(a.neural_melodies, train.size())));
  for (size_t i : fold.test) {
    if (held_out_calls.size() >= static_cast<size_t>(a.calls)) break;
    Melody call = first_bars(corpus.melodies[i], a.bars);
    if (call.pitched_count() > 0) held_out_calls.push_back(std::move(call));
  }
  if (held_out_calls.empty()) throw ConfigError("bench respond: no held-out melody gives a call with notes");

  std::vector<FamilyRow> rows;
  for (const FamilyRow& row : family_rows()) {
    const bool chosen = a.families.empty() || std::find(a.families.begin(), a.families.end(), row.name) != a.families.end();
    if (!chosen) continue;
    const ModelPreset preset = resolve_model_argument(row.preset);
    if (!find_model_family(ModelSpec::parse(preset.spec).family())) {
      std::cerr << "note: " << row.name << " is not in this build (LibTorch off); skipped\n";
      continue;
    }
    rows.push_back(row);
  }

  std::ostream& o = std::cout;
  o << "respond: " << a.bars << "-bar answers to " << held_out_calls.size() << " held-out calls (the first "
    << a.bars << " bars of melodies not trained on), " << a.repeats << " answers per row (at most " << a.max_seconds
    << " s), rejection tries " << a.rejection_tries << ", estimate samples " << a.estimate_samples << "\n";
  o << "training: " << train.size() << " melodies (counting families), " << neural_train.size() << " melodies x "
    << a.epochs << " epoch(s) (neural families, the preset's architecture)\n\n";
  o << std::left << std::setw(13) << "family" << std::setw(16) << "encoding" << std::setw(15) << "respond" << std::right
    << std::setw(6) << "n" << std::setw(11) << "p50 ms" << std::setw(11) << "p99 ms" << std::setw(9) << "goal ms"
    << std::setw(11) << "p50/goal" << "  method\n";

  std::vector<std::string> model_lines;  // the full specs, printed under the table
  for (const FamilyRow& row : rows) {
    const ModelPreset preset = resolve_model_argument(row.preset);
    const ModelSpec spec = ModelSpec::parse(preset.spec);
    const std::string encoding = preset.encoding.empty() ? row.encoding : preset.encoding;
    TrainingData data;
    data.melodies = row.neural ? &neural_train : &train;
    if (!encoding.empty()) data.encoding = make_encoding(encoding);
    data.corpus = "bench respond";
    data.seed = a.seed;
    data.epochs = row.neural ? a.epochs : 0;
    const auto t0 = Clock::now();
    const ModelPtr model = train_model(spec, data);
    const double train_s = std::chrono::duration<double>(Clock::now() - t0).count();
    const std::string encoding_name = model->info().encoding.substr(0, model->info().encoding.find(':'));
    std::ostringstream line;
    line << "  " << row.name << ": " << model->info().spec << " on " << encoding_name << " (" << model->vocab_size()
         << " symbols), " << data.melodies->size() << " melodies, trained in " << std::fixed << std::setprecision(1)
         << train_s << " s";
    model_lines.push_back(line.str());

    // The calls this model can hold (a pitch the training melodies never had is outside a target alphabet).
    std::vector<Melody> calls;
    for (const Melody& c : held_out_calls) {
      try {
        encode_melody(model->encoding(), c);
        calls.push_back(c);
      } catch (const EncodingError&) {
      }
    }
    if (calls.size() < held_out_calls.size())
      model_lines.back() += "; " + std::to_string(calls.size()) + " of the " + std::to_string(held_out_calls.size()) +
                            " calls fit its alphabet";
    const std::string shown_encoding = encoding_name + " " + std::to_string(model->vocab_size());
    if (calls.empty()) {
      o << std::left << std::setw(13) << row.name << shown_encoding << ": no held-out call fits the model's alphabet\n";
      continue;
    }
    for (const bool in_key : {true, false}) {
      const Timing t = time_respond(*model, calls, in_key, a);
      const double p50 = percentile(t.ms, 0.5), p99 = percentile(t.ms, 0.99);
      o << std::left << std::setw(13) << row.name << std::setw(16) << shown_encoding << std::setw(15)
        << (in_key ? "in key" : "free (any key)") << std::right << std::setw(6) << t.ms.size() << std::fixed
        << std::setprecision(3) << std::setw(11) << p50 << std::setw(11) << p99 << std::setprecision(1)
        << std::setw(9) << row.goal_ms << std::setprecision(2) << std::setw(11) << p50 / row.goal_ms << "  "
        << methods_text(t) << "\n";
    }
  }
  o << "\nmodels:\n";
  for (const std::string& line : model_lines) o << line << "\n";
  o << "in key: the call's scale as a constraint (exact sampling where the model has a finite state, else "
       "rejection then masking);\nfree: in_key off, plain sampling. ppm predicts pitches only (the `pitch` target): "
       "its answers take the call's last bar's rhythm.\n";
  return kExitOk;
}

}  // namespace

void add_bench_respond_command(CLI::App& bench, int& exit_code) {
  auto a = std::make_shared<BenchRespondArgs>();
  CLI::App* cmd = bench.add_subcommand(
      "respond", "Latency of answering a call, per model family, against each family's goal (p50 / goal)");
  a->corpus.add_to(*cmd, "essen/europa/deutschl/fink");
  cmd->add_option("--repeats", a->repeats, "Answers timed per row (after a warm-up)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--bars", a->bars, "Bars of call and of answer")->check(CLI::Range(1, 16))->capture_default_str();
  cmd->add_option("--calls", a->calls, "Held-out calls, answered in turn")->check(CLI::Range(1, 10000))->capture_default_str();
  cmd->add_option("--neural-melodies", a->neural_melodies, "Training melodies for the neural families")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--epochs", a->epochs, "Training epochs for the neural families")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--max-seconds", a->max_seconds, "Stop a row's timing after this long")
      ->check(CLI::Range(0.001, 1e6))
      ->capture_default_str();
  cmd->add_option("--seed", a->seed, "Seed of the split, the training and the answers")->capture_default_str();
  cmd->add_option("--rejection-tries", a->rejection_tries, "Respond option: unconstrained tries before masking")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_option("--estimate-samples", a->estimate_samples,
                  "Respond option: masked draws that estimate P(constraints met) where it is not exact")
      ->check(CLI::Range(0, 10000))
      ->capture_default_str();
  cmd->add_option("--family", a->families, "Time only these families (ppm, markov, lstm, transformer)")
      ->check(CLI::IsMember({"ppm", "markov", "lstm", "transformer"}));
  cmd->callback([a, &exit_code] { exit_code = run_bench_respond(*a); });
}

}  // namespace antiphon::cli
