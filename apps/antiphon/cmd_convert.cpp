// antiphon convert IN OUT and antiphon encode: move melodies between formats and into token sequences.
#include <iostream>
#include <nlohmann/json.hpp>

#include "antiphon/formats/format.h"
#include "antiphon/tokens/encoding.h"
#include "cli.h"

namespace antiphon::cli {
namespace {

struct ConvertArgs {
  std::string in, out;
  int index = 0;
};

struct EncodeArgs {
  std::string encoding = "grid";
  std::string in;
  int index = -1;  // -1: every melody in the file
  bool json = false;
};

int run_convert(const ConvertArgs& a) {
  if (!format_from_path(a.out))
    throw ConfigError("cannot tell the output format from '" + a.out + "' (use .krn, .abc, .mid or .musicxml)");
  std::vector<Diagnostic> warnings;
  Melody m = read_one_melody(a.in, a.index, &warnings);
  for (const auto& w : warnings) std::cerr << "warning: " << w.to_string() << "\n";
  write_melody_file(m, a.out);
  std::cerr << "wrote " << a.out << ": " << m.pitched_count() << " notes, " << m.length().to_string()
            << " quarters\n";
  return kExitOk;
}

int run_encode(const EncodeArgs& a) {
  auto encoding = make_encoding(a.encoding);
  ReadResult r = read_file(a.in);
  for (const auto& w : r.warnings) std::cerr << "warning: " << w.to_string() << "\n";
  for (const auto& d : r.rejected) std::cerr << "rejected: " << d.to_string() << "\n";
  if (r.melodies.empty()) throw ParseError(a.in, 0, 0, "no readable melody", "no melody");
  std::vector<size_t> which;
  if (a.index >= 0) {
    if (static_cast<size_t>(a.index) >= r.melodies.size())
      throw ConfigError("--index " + std::to_string(a.index) + " out of range: " + a.in + " holds " +
                        std::to_string(r.melodies.size()) + " melodies");
    which.push_back(static_cast<size_t>(a.index));
  } else {
    for (size_t i = 0; i < r.melodies.size(); ++i) which.push_back(i);
  }
  const Vocab& vocab = encoding->vocab();
  nlohmann::json out = nlohmann::json::array();
  int status = kExitOk;
  for (size_t i : which) {
    const Melody& m = r.melodies[i];
    std::vector<int> ids;
    try {
      ids = encoding->encode(m);
    } catch (const EncodingError& e) {
      std::cerr << a.in << " melody " << i << (m.title.empty() ? "" : " (" + m.title + ")") << ": " << e.what() << "\n";
      status = kExitBadInput;
      continue;
    }
    if (a.json) {
      nlohmann::json tokens = nlohmann::json::array();
      for (int id : ids) tokens.push_back(vocab.token(id));
      out.push_back({{"index", i}, {"title", m.title}, {"encoding", encoding->spec()}, {"vocab_size", vocab.size()},
                     {"ids", ids}, {"tokens", tokens}});
    } else {
      std::cout << "# " << i << (m.title.empty() ? "" : " " + m.title) << " (" << encoding->spec() << ", "
                << ids.size() << " tokens)\n";
      for (size_t k = 0; k < ids.size(); ++k) std::cout << (k ? " " : "") << vocab.token(ids[k]);
      std::cout << "\n";
    }
  }
  if (a.json) std::cout << out.dump(2) << "\n";
  return status;
}

}  // namespace

void add_convert_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ConvertArgs>();
  CLI::App* cmd = app.add_subcommand("convert", "Convert a melody between formats (.krn .abc .mid .musicxml)");
  cmd->add_option("IN", a->in, "Input file (.krn, .abc, .mid)")->required()->check(CLI::ExistingFile);
  cmd->add_option("OUT", a->out, "Output file; format from the extension (.krn .abc .mid .musicxml)")->required();
  cmd->add_option("--index", a->index, "Which melody of a multi-tune file (ABC tune, MIDI track), from 0")
      ->capture_default_str();
  cmd->callback([a, &exit_code] { exit_code = run_convert(*a); });
}

void add_encode_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<EncodeArgs>();
  CLI::App* cmd = app.add_subcommand("encode", "Print a melody as tokens of an encoding");
  cmd->add_option("--encoding", a->encoding,
                  "grid|events|lookback|attention|notes|intervals, with parameters: grid:steps=12")
      ->capture_default_str();
  cmd->add_option("IN", a->in, "Input file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--index", a->index, "Only this melody of the file (default: all)");
  cmd->add_flag("--json", a->json, "Print JSON with token ids and names");
  cmd->callback([a, &exit_code] { exit_code = run_encode(*a); });
}

}  // namespace antiphon::cli
