// antiphon stats: load a corpus and print what is in it, and every file or tune that was rejected.
#include <algorithm>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "antiphon/corpus/stats.h"
#include "cli.h"

namespace antiphon::cli {
namespace {

struct StatsArgs {
  CorpusArgs corpus;
  bool json = false;
  bool all_warnings = false;
};

nlohmann::json diag_json(const Diagnostic& d) {
  return {{"file", d.file}, {"line", d.line}, {"column", d.column}, {"reason", d.reason}, {"message", d.message}};
}

template <typename Map>
std::vector<std::pair<typename Map::key_type, size_t>> by_count(const Map& m) {
  std::vector<std::pair<typename Map::key_type, size_t>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return v;
}

int run_stats(const StatsArgs& args) {
  CorpusOptions options = args.corpus.options();
  Corpus corpus = load_corpus(args.corpus.resolved(), options);
  CorpusStats s = summarize(corpus);

  if (args.json) {
    nlohmann::json j;
    j["corpus"] = args.corpus.paths;
    j["fingerprint"] = corpus.fingerprint;
    j["files"] = corpus.files;
    j["files_loaded"] = corpus.files_loaded;
    j["bytes"] = corpus.bytes;
    j["melodies"] = s.melodies;
    j["notes"] = s.notes;
    j["rests"] = s.rests;
    j["pitch_range"] = {s.pitch_min, s.pitch_max};
    j["total_quarters"] = s.total_length.to_double();
    j["meters"] = s.meters;
    j["meter_changes"] = s.meter_changes;
    j["keys"] = s.keys;
    j["keys_estimated"] = s.keys_estimated;
    j["with_pickup"] = s.with_pickup;
    nlohmann::json durations = nlohmann::json::object();
    for (const auto& [d, n] : s.durations) durations[d.to_string()] = n;
    j["durations"] = durations;
    j["rejected"] = nlohmann::json::array();
    for (const auto& d : corpus.rejected) j["rejected"].push_back(diag_json(d));
    j["rejected_by_reason"] = s.rejected_by_reason;
    j["warnings"] = corpus.warnings.size();
    j["warnings_by_reason"] = s.warnings_by_reason;
    j["filtered"] = nlohmann::json::array();
    for (const auto& d : corpus.filtered) j["filtered"].push_back(diag_json(d));
    if (args.all_warnings) {
      j["warning_list"] = nlohmann::json::array();
      for (const auto& d : corpus.warnings) j["warning_list"].push_back(diag_json(d));
    }
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }

  std::ostream& o = std::cout;
  o << "corpus       ";
  for (const auto& p : args.corpus.paths) o << p << " ";
  o << "\nfingerprint  " << corpus.fingerprint << "\n";
  o << "files        " << corpus.files << " (" << corpus.files_loaded << " loaded, " << corpus.bytes << " bytes)\n";
  o << "melodies     " << s.melodies << "\n";
  o << "notes        " << s.notes << " (+" << s.rests << " rests)";
  if (s.melodies) o << ", " << std::fixed << std::setprecision(1) << double(s.notes) / double(s.melodies) << " per melody";
  o << "\n";
  if (s.notes) {
    Pitch lo = Pitch::from_midi(s.pitch_min), hi = Pitch::from_midi(s.pitch_max);
    o << "pitch range  " << lo.name() << " .. " << hi.name() << " (MIDI " << s.pitch_min << ".." << s.pitch_max << ")\n";
  }
  o << "pickups      " << s.with_pickup << " melodies start with an anacrusis\n";
  o << "meters       ";
  size_t shown = 0;
  for (const auto& [name, n] : by_count(s.meters)) {
    if (shown++ == 10) {
      o << "...";
      break;
    }
    o << name << " " << n << "  ";
  }
  o << "\n             " << s.meter_changes << " melodies change meter\n";
  o << "keys         ";
  shown = 0;
  for (const auto& [name, n] : by_count(s.keys)) {
    if (shown++ == 8) {
      o << "...";
      break;
    }
    o << name << " " << n << "  ";
  }
  o << "\n             " << s.keys_estimated << " keys estimated (none written in the file)\n";
  o << "durations    (quarters) ";
  shown = 0;
  for (const auto& [d, n] : by_count(s.durations)) {
    if (shown++ == 10) {
      o << "...";
      break;
    }
    o << d.to_string() << ":" << n << "  ";
  }
  o << "\n";
  if (!s.warnings_by_reason.empty()) {
    o << "warnings     " << corpus.warnings.size() << ":";
    for (const auto& [r, n] : by_count(s.warnings_by_reason)) o << "  " << r << " " << n;
    o << "\n";
  }
  if (!corpus.filtered.empty()) {
    o << "filtered     " << corpus.filtered.size() << ":";
    for (const auto& [r, n] : by_count(s.filtered_by_reason)) o << "  " << r << " " << n;
    o << "\n";
  }
  o << "rejected     " << corpus.rejected.size();
  if (!corpus.rejected.empty()) {
    o << ":";
    for (const auto& [r, n] : by_count(s.rejected_by_reason)) o << "  " << r << " " << n;
  }
  o << "\n";
  for (const auto& d : corpus.rejected) o << "  " << d.to_string() << "\n";
  if (args.all_warnings)
    for (const auto& d : corpus.warnings) o << "  warning: " << d.to_string() << "\n";
  return kExitOk;
}

}  // namespace

void add_stats_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<StatsArgs>();
  CLI::App* cmd = app.add_subcommand("stats", "Load a corpus and print its statistics and every rejected file");
  args->corpus.add_to(*cmd, "essen");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->add_flag("--warnings", args->all_warnings, "List every warning too");
  cmd->callback([args, &exit_code] { exit_code = run_stats(*args); });
}

}  // namespace antiphon::cli
