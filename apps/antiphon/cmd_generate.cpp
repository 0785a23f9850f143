// antiphon generate / infill / respond: the generation engine (generate/generate.h) from the command line.
// Each command loads a model file, reads its melody (a file, or a note list typed on the command line),
// maps the sampling options onto GenerateOptions, writes one melody file per output and prints either a
// short summary or one JSON object with every figure of every output.
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "antiphon/core/error.h"
#include "antiphon/core/transform.h"
#include "antiphon/formats/format.h"
#include "antiphon/generate/constraints.h"
#include "antiphon/generate/generate.h"
#include "antiphon/models/model_file.h"
#include "cli.h"

namespace antiphon::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The options every generating command shares.
struct SamplingArgs {
  std::string model;
  int index = 0;
  double temperature = 1.0;
  int top_k = 0;
  double top_p = 1.0;
  double target_entropy = -1;
  int beam = 1;
  int branch_factor = 1;
  int steps_per_iteration = 1;
  bool deterministic_beam = false;
  uint64_t seed = 1;
  int count = 1;
  bool no_stop = false;  // generate only
  int rejection_tries = GenerateOptions{}.rejection_tries;
  std::string constraints;
  std::string out;
  bool json = false;
};

struct GenerateArgs {
  SamplingArgs s;
  std::string primer;
  std::optional<int> bars;
  std::optional<int64_t> steps;
  std::optional<std::string> quarters;
};

struct InfillArgs {
  SamplingArgs s;
  std::string melody;
  std::string from;
  std::string to;
};

struct RespondArgs {
  SamplingArgs s;
  std::string call;
  int bars = 0;
  std::string mode = "continuation";
  int context_bars = -1;
  bool any_key = false;
};

// (0, 1]: CLI11's Range would let 0 through.
const CLI::Validator kProbability(
    [](std::string& text) -> std::string {
      try {
        size_t used = 0;
        const double p = std::stod(text, &used);
        if (used == text.size() && p > 0 && p <= 1) return "";
      } catch (const std::exception&) {
      }
      return "top-p " + text + " is outside (0, 1]";
    },
    "(0, 1]");

void add_sampling_options(CLI::App& cmd, SamplingArgs& s, bool generate) {
  cmd.add_option("--model", s.model, "Model file (antiphon train --out)")->required();
  cmd.add_option("--index", s.index, "Which melody of a file with several (ABC tunes, MIDI tracks), from 0")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--temperature", s.temperature, "Sharpen (< 1) or flatten (> 1) the distribution; 0 = greedy")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd.add_option("--top-k", s.top_k, "Sample among the K most probable tokens only (0 = off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--top-p", s.top_p, "Nucleus: the fewest most probable tokens whose mass reaches P (1 = off)")
      ->check(kProbability)
      ->capture_default_str();
  cmd.add_option("--target-entropy", s.target_entropy,
                 "Pick the temperature at each step that gives this entropy in bits (replaces --temperature)")
      ->check(CLI::Range(0.0, 1000.0));
  cmd.add_option("--beam", s.beam, "Beam size (1 = no beam search)")->check(CLI::Range(1, 64))->capture_default_str();
  cmd.add_option("--branch-factor", s.branch_factor, "Beam search: extensions of each kept sequence per iteration")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd.add_option("--steps-per-iteration", s.steps_per_iteration, "Beam search: tokens sampled per extension")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  cmd.add_flag("--deterministic-beam", s.deterministic_beam,
               "Ordinary beam search: try every allowed token instead of sampling the extensions");
  cmd.add_option("--seed", s.seed, "Random seed; output i of --count uses SEED + i - 1")->capture_default_str();
  cmd.add_option("--count", s.count, "Outputs (OUT-1.ext .. OUT-N.ext when N > 1)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  if (generate)
    cmd.add_flag("--no-stop", s.no_stop, "Fill the whole length even when the model predicts the melody's end");
  cmd.add_option("--rejection-tries", s.rejection_tries,
                 "Constraints on a model without an exact lattice: unconstrained tries before masking")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd.add_option("--constraints", s.constraints, "Constraints file (JSON: steps, rhythm, key, range, contour, final)");
  cmd.add_option("--out", s.out, "Melody file to write (.mid .krn .abc .musicxml); required unless --json");
  cmd.add_flag("--json", s.json, "Print every output's notes and figures as JSON");
}

GenerateOptions generate_options(const SamplingArgs& s) {
  GenerateOptions o;
  o.sampler.temperature = s.temperature;
  o.sampler.top_k = s.top_k;
  o.sampler.top_p = s.top_p;
  o.sampler.target_entropy = s.target_entropy;
  o.beam.beam_size = s.beam;
  o.beam.branch_factor = s.branch_factor;
  o.beam.steps_per_iteration = s.steps_per_iteration;
  o.beam.deterministic = s.deterministic_beam;
  o.seed = s.seed;
  o.count = s.count;
  o.stop_at_end = !s.no_stop;
  o.rejection_tries = s.rejection_tries;
  o.validate();
  return o;
}

// The files to write: OUT.ext for one output, OUT-1.ext .. OUT-N.ext for several; none without --out.
std::vector<std::string> output_paths(const SamplingArgs& s) {
  if (s.out.empty()) {
    if (!s.json) throw ConfigError("--out is required (or --json to print the outputs only)");
    return std::vector<std::string>(static_cast<size_t>(s.count));
  }
  if (!format_from_path(s.out))
    throw ConfigError("--out " + s.out + ": unknown extension (use .mid, .krn, .abc or .musicxml)");
  if (s.count == 1) return {s.out};
  const fs::path p(s.out);
  std::vector<std::string> paths;
  for (int i = 1; i <= s.count; ++i)
    paths.push_back((p.parent_path() / (p.stem().string() + "-" + std::to_string(i) + p.extension().string())).string());
  return paths;
}

// Constraints from the file (empty without one). The file is input: its problems are bad input (exit 1),
// not bad usage.
struct ConstraintsRead {
  Constraints constraints;
  bool ok = true;
};
ConstraintsRead read_constraints(const std::string& path) {
  ConstraintsRead r;
  if (path.empty()) return r;
  try {
    r.constraints = read_constraints_file(path);
  } catch (const ConfigError& e) {
    std::cerr << "antiphon: error: " << e.what() << "\n";
    r.ok = false;
  }
  return r;
}

// A melody argument: an existing file (read with --index), otherwise a note list "C4 D4:1/2 r E4:2".
Melody read_melody_argument(const std::string& text, int index, const std::string& option) {
  if (fs::is_regular_file(text)) {
    std::vector<Diagnostic> warnings;
    Melody m = read_one_melody(text, index, &warnings);
    for (const Diagnostic& d : warnings) std::cerr << "warning: " << d.to_string() << "\n";
    return m;
  }
  Melody m;
  try {
    m = parse_note_list(text);
  } catch (const ConfigError& e) {
    throw ConfigError(option + " '" + text + "' is not a file, nor a note list: " + e.what());
  }
  // A note list says nothing of meter and key: 4/4, and the key its notes suggest (an in-key answer to
  // "D4 E4 F#4" stays in D major, not the default C major); both go into the files written.
  m.title = text;  // names it in messages: "'C4 F#4 G4': pitch cannot encode note ..."
  m.meters = {{Rational(0), Meter{}}};
  m.keys = {{Rational(0), estimate_key(m)}};
  return m;
}

// Length of one bar of the meter in force at `at`; 4 quarters where the meter has no fixed bar.
Rational bar_length_at(const Melody& melody, const Rational& at) {
  const Rational bar = melody.meter_at(at).bar_length();
  return bar > Rational(0) ? bar : Rational(4);
}

Rational parse_rational_option(const std::string& text, const std::string& option) {
  try {
    return Rational::parse(text);
  } catch (const std::exception&) {
    throw ConfigError(option + " '" + text + "' is not a number of quarters (e.g. 4, 3/2)");
  }
}

// "3/2" (quarters) or "bar:K": the start of bar K, counted from the first full bar after the pickup.
Rational parse_time(const std::string& text, const Melody& melody, const std::string& option) {
  if (text.rfind("bar:", 0) != 0) return parse_rational_option(text, option);
  const std::string k_text = text.substr(4);
  int k = 0;
  try {
    size_t used = 0;
    k = std::stoi(k_text, &used);
    if (used != k_text.size()) k = 0;
  } catch (const std::exception&) {
    k = 0;
  }
  if (k < 1 || k > 100000) throw ConfigError(option + " '" + text + "': the bar must be a number from 1 (bar:1 is the first full bar)");
  // Bar by bar, so a meter change moves the later bar lines.
  Rational t = melody.pickup;
  for (int i = 1; i < k; ++i) t += bar_length_at(melody, t);
  return t;
}

// JSON for a number that may not be finite.
json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// -x without a negative zero (a note with no tokens has log2 probability 0 and 0 bits).
double negate(double x) { return x == 0 ? 0.0 : -x; }

std::string note_name(const Note& n) { return n.pitch ? n.pitch->name() : std::string("r"); }

json generation_json(const Generation& g, const std::string& file) {
  json j;
  j["seed"] = g.seed;
  j["method"] = g.method;
  j["satisfaction_probability"] = g.satisfaction_probability < 0 ? json(nullptr) : number(g.satisfaction_probability);
  j["satisfaction_exact"] = g.satisfaction_exact;
  j["log2_probability"] = number(g.log2_probability);
  j["bits"] = number(negate(g.log2_probability));
  j["context_log2_probability"] = number(g.context_log2_probability);
  j["region"] = {{"begin", g.region_begin.to_string()}, {"end", g.region_end.to_string()}};
  j["remarks"] = g.remarks;
  json notes = json::array();
  for (const GeneratedNote& n : g.notes) {
    json jn;
    jn["onset"] = n.note.onset.to_string();
    jn["duration"] = n.note.duration.to_string();
    jn["pitch"] = n.note.pitch ? json(n.note.pitch->midi) : json(nullptr);
    jn["name"] = note_name(n.note);
    jn["probability"] = number(std::exp2(n.log2_probability));
    jn["log2_probability"] = number(n.log2_probability);
    jn["information_content"] = number(negate(n.log2_probability));
    jn["tokens"] = n.tokens;
    notes.push_back(std::move(jn));
  }
  j["notes"] = std::move(notes);
  j["file"] = file.empty() ? json(nullptr) : json(file);
  return j;
}

json sampling_json(const SamplingArgs& s, const GenerateOptions& o, const Constraints& c, bool generate) {
  json j;
  j["temperature"] = o.sampler.temperature;
  j["top_k"] = o.sampler.top_k;
  j["top_p"] = o.sampler.top_p;
  j["target_entropy"] = o.sampler.target_entropy < 0 ? json(nullptr) : json(o.sampler.target_entropy);
  j["sampler_chain"] = o.sampler.chain().describe();
  j["beam"] = {{"beam_size", o.beam.beam_size},
               {"branch_factor", o.beam.branch_factor},
               {"steps_per_iteration", o.beam.steps_per_iteration},
               {"deterministic", o.beam.deterministic}};
  j["seed"] = o.seed;
  j["count"] = o.count;
  if (generate) j["stop_at_end"] = o.stop_at_end;
  j["rejection_tries"] = o.rejection_tries;
  j["constraints"] = {{"file", s.constraints.empty() ? json(nullptr) : json(s.constraints)},
                      {"describe", c.describe()}};
  return j;
}

json model_json(const std::string& file, const SequenceModel& model) {
  const ModelInfo& info = model.info();
  return {{"file", file}, {"family", info.family}, {"spec", info.spec}, {"encoding", info.encoding}};
}

// Writes the outputs and prints them (JSON or a summary). Unsatisfiable constraints: nothing is written.
int finish(const std::string& command, const SamplingArgs& s, const SequenceModel& model, GenerateResult result,
           const std::vector<std::string>& paths, json request) {
  if (!result.satisfiable) {
    std::cerr << "antiphon: error: the constraints cannot be met: " << result.reason << "\n";
    return kExitBadInput;
  }
  const std::string model_name = fs::path(s.model).filename().string();
  for (size_t i = 0; i < result.generations.size(); ++i) {
    Generation& g = result.generations[i];
    g.melody.title = "antiphon " + command + " (model " + model_name + ", seed " + std::to_string(g.seed) + ")";
    if (i < paths.size() && !paths[i].empty()) write_melody_file(g.melody, paths[i]);
  }
  auto path_of = [&](size_t i) { return i < paths.size() ? paths[i] : std::string(); };
  if (s.json) {
    json j;
    j["model"] = model_json(s.model, model);
    j["request"] = std::move(request);
    j["generations"] = json::array();
    for (size_t i = 0; i < result.generations.size(); ++i)
      j["generations"].push_back(generation_json(result.generations[i], path_of(i)));
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::ostream& o = std::cout;
  for (size_t i = 0; i < result.generations.size(); ++i) {
    const Generation& g = result.generations[i];
    size_t pitched = 0;
    for (const GeneratedNote& n : g.notes) pitched += n.note.pitch ? 1 : 0;
    const double bits = negate(g.log2_probability);
    o << "wrote " << path_of(i) << " (seed " << g.seed << ", method " << g.method << ")\n";
    o << std::fixed << std::setprecision(2) << "  region " << g.region_begin.to_string() << " to "
      << g.region_end.to_string() << " quarters: " << pitched << " notes, " << bits << " bits";
    if (pitched > 0) o << " (" << bits / static_cast<double>(pitched) << " bits/note)";
    if (g.satisfaction_probability < 1 && g.satisfaction_probability >= 0)
      o << std::defaultfloat << std::setprecision(3) << "; P(a free sample meets the constraints) "
        << g.satisfaction_probability << (g.satisfaction_exact ? "" : " (estimate)");
    o << "\n ";
    for (const GeneratedNote& n : g.notes) o << " " << note_name(n.note) << ":" << n.note.duration.to_string();
    o << "\n";
    for (const std::string& r : g.remarks) o << "  note: " << r << "\n";
  }
  return kExitOk;
}

// generate ---------------------------------------------------------------------------------------------------

int run_generate(const GenerateArgs& a) {
  const GenerateOptions options = generate_options(a.s);
  const int given = (a.bars ? 1 : 0) + (a.steps ? 1 : 0) + (a.quarters ? 1 : 0);
  if (given != 1) throw ConfigError("generate needs exactly one of --bars, --steps, --quarters (got " + std::to_string(given) + ")");
  const std::vector<std::string> paths = output_paths(a.s);
  const ConstraintsRead c = read_constraints(a.s.constraints);
  if (!c.ok) return kExitBadInput;
  Melody primer;
  primer.meters = {{Rational(0), Meter{}}};  // no primer: 4/4
  if (!a.primer.empty()) primer = read_melody_argument(a.primer, a.s.index, "--primer");

  Rational length;
  json length_json;
  if (a.bars) {
    length = Rational(*a.bars) * bar_length_at(primer, primer.length());
    length_json["bars"] = *a.bars;
  } else if (a.steps) {
    length = Rational(*a.steps, c.constraints.steps_per_quarter);
    length_json["steps"] = *a.steps;
    length_json["steps_per_quarter"] = c.constraints.steps_per_quarter;
  } else {
    length = parse_rational_option(*a.quarters, "--quarters");
  }
  length_json["quarters"] = length.to_string();

  const ModelPtr model = load_model(a.s.model);
  GenerateRequest request;
  request.primer = primer;
  request.length = length;
  request.constraints = c.constraints;
  request.options = options;
  GenerateResult result = generate(*model, request);

  json r = sampling_json(a.s, options, c.constraints, true);
  r["command"] = "generate";
  r["primer"] = a.primer.empty() ? json(nullptr) : json(a.primer);
  if (!a.primer.empty() && fs::is_regular_file(a.primer)) r["index"] = a.s.index;
  r["length"] = length_json;
  r["meter"] = primer.meter_at(primer.length()).name();
  r["key"] = primer.key_at(primer.length()).name();
  return finish("generate", a.s, *model, std::move(result), paths, std::move(r));
}

// infill -----------------------------------------------------------------------------------------------------

int run_infill(const InfillArgs& a) {
  const GenerateOptions options = generate_options(a.s);
  const std::vector<std::string> paths = output_paths(a.s);
  const ConstraintsRead c = read_constraints(a.s.constraints);
  if (!c.ok) return kExitBadInput;
  const Melody melody = read_melody_argument(a.melody, a.s.index, "--melody");
  const Rational from = parse_time(a.from, melody, "--from");
  const Rational to = parse_time(a.to, melody, "--to");

  const ModelPtr model = load_model(a.s.model);
  InfillRequest request;
  request.melody = melody;
  request.from = from;
  request.to = to;
  request.constraints = c.constraints;
  request.options = options;
  GenerateResult result = infill(*model, request);

  json r = sampling_json(a.s, options, c.constraints, false);
  r["command"] = "infill";
  r["melody"] = a.melody;
  if (fs::is_regular_file(a.melody)) r["index"] = a.s.index;
  r["from"] = {{"given", a.from}, {"quarters", from.to_string()}};
  r["to"] = {{"given", a.to}, {"quarters", to.to_string()}};
  return finish("infill", a.s, *model, std::move(result), paths, std::move(r));
}

// respond ----------------------------------------------------------------------------------------------------

int run_respond(const RespondArgs& a) {
  const GenerateOptions options = generate_options(a.s);
  const RespondMode mode = parse_respond_mode(a.mode);
  const std::vector<std::string> paths = output_paths(a.s);
  const ConstraintsRead c = read_constraints(a.s.constraints);
  if (!c.ok) return kExitBadInput;
  const Melody call = read_melody_argument(a.call, a.s.index, "--call");

  const ModelPtr model = load_model(a.s.model);
  RespondRequest request;
  request.call = call;
  request.bars = a.bars;
  request.mode = mode;
  request.context_bars = a.context_bars;
  request.in_key = !a.any_key;
  request.constraints = c.constraints;
  request.options = options;
  GenerateResult result = respond(*model, request);

  json r = sampling_json(a.s, options, c.constraints, false);
  r["command"] = "respond";
  r["call"] = a.call;
  if (fs::is_regular_file(a.call)) r["index"] = a.s.index;
  r["bars"] = a.bars;
  r["mode"] = respond_mode_name(mode);
  r["context_bars"] = a.context_bars;
  r["in_key"] = request.in_key;
  r["key"] = call.key_at(call.length()).name();
  return finish("respond", a.s, *model, std::move(result), paths, std::move(r));
}

}  // namespace

void add_generate_commands(CLI::App& app, int& exit_code) {
  {
    auto a = std::make_shared<GenerateArgs>();
    CLI::App* cmd = app.add_subcommand("generate", "Continue a primer (or start from nothing) with a model");
    add_sampling_options(*cmd, a->s, true);
    cmd->add_option("--primer", a->primer,
                    "Melody file to continue, or a note list \"C4 D4:1/2 E4:2 r:1\" (durations in quarters; 4/4, "
                    "key estimated from the notes; default: start from nothing in 4/4)");
    cmd->add_option("--bars", a->bars, "Length in bars of the primer's meter (4 quarters without a fixed meter)")
        ->check(CLI::Range(1, 256));
    cmd->add_option("--steps", a->steps, "Length in steps of the constraints' grid (default 4 per quarter)")
        ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
    cmd->add_option("--quarters", a->quarters, "Length in quarters, e.g. 8 or 15/2");
    cmd->footer("Exactly one of --bars, --steps, --quarters.");
    cmd->callback([a, &exit_code] { exit_code = run_generate(*a); });
  }
  {
    auto a = std::make_shared<InfillArgs>();
    CLI::App* cmd = app.add_subcommand("infill", "Regenerate a span of a melody given what comes before and after it");
    add_sampling_options(*cmd, a->s, false);
    cmd->add_option("--melody", a->melody, "Melody file, or a note list \"C4 D4:1/2 E4:2 r:1\" (4/4, key estimated from the notes)")->required();
    cmd->add_option("--from", a->from,
                    "Start of the span: quarters from the melody's start (e.g. 3/2), or bar:K (bar 1 is the first "
                    "full bar after the pickup)")
        ->required();
    cmd->add_option("--to", a->to, "End of the span (same forms as --from)")->required();
    cmd->callback([a, &exit_code] { exit_code = run_infill(*a); });
  }
  {
    auto a = std::make_shared<RespondArgs>();
    CLI::App* cmd = app.add_subcommand("respond", "Answer a call: bars that start on the beat after it, in its key");
    add_sampling_options(*cmd, a->s, false);
    cmd->add_option("--call", a->call, "Melody file, or a note list \"C4 D4:1/2 E4:2 r:1\" (4/4, key estimated from the notes)")->required();
    cmd->add_option("--bars", a->bars, "Bars of answer (0: as many as the call spans)")
        ->check(CLI::Range(0, 64))
        ->capture_default_str();
    cmd->add_option("--mode", a->mode,
                    "continuation: go on freely; answer: echo the call's rhythm and close on the tonic")
        ->check(CLI::IsMember({"continuation", "answer"}))
        ->capture_default_str();
    cmd->add_option("--context-bars", a->context_bars, "Bars of the call the model hears (-1: all of it)")
        ->check(CLI::Range(-1, 1000))
        ->capture_default_str();
    cmd->add_flag("--any-key", a->any_key, "Allow notes outside the call's key");
    cmd->callback([a, &exit_code] { exit_code = run_respond(*a); });
  }
}

}  // namespace antiphon::cli
