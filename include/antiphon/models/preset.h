#pragma once
// Named model presets (configs/*.json), like Melody RNN's basic_rnn / lookback_rnn / attention_rnn:
//   {"description": "...", "spec": "melody_rnn:config=lookback", "encoding": "lookback"}
// "encoding" is optional (the family's default). `--model` takes a preset name, a preset file, or a spec.
#include <string>
#include <vector>

namespace antiphon {

struct ModelPreset {
  std::string name;         // file stem: "basic_rnn"
  std::string description;
  std::string spec;         // a model spec (spec.h)
  std::string encoding;     // an encoding spec, or "" for the family's default
  std::string file;         // where it was read from ("" for a plain spec)
};

// $ANTIPHON_CONFIGS when set, else the configs/ folder of the source tree the program was built from.
std::string preset_dir();
// Every *.json in the folder, by name. Throws ConfigError naming the file and problem for a malformed one.
std::vector<ModelPreset> list_presets(const std::string& dir = preset_dir());
// Reads one preset file. Throws ConfigError (IoError when it cannot be read).
ModelPreset read_preset(const std::string& path);
// A `--model` value: an existing .json file, a preset name in `dir`, or else a spec (returned with an empty
// encoding and file). A bare word that is neither a preset nor a known family gets an error listing both.
ModelPreset resolve_model_argument(const std::string& text, const std::string& dir = preset_dir());

}  // namespace antiphon
