#include "models/neural/nets.h"

#include "antiphon/core/error.h"

namespace antiphon::neural {

void check_net_option(const char* name, int value, int lo, int hi) {
  if (value < lo || value > hi)
    throw ConfigError(std::string(name) + "=" + std::to_string(value) + " is outside " + std::to_string(lo) + ".." +
                      std::to_string(hi));
}

void check_dropout(double dropout) {
  if (!(dropout >= 0 && dropout < 1)) throw ConfigError("dropout=" + std::to_string(dropout) + " is outside [0, 1)");
}

std::shared_ptr<Net> make_net(const NetParams& params, const NetShape& shape) {
  if (shape.num_labels <= 0) throw ConfigError("a network needs at least one output class");
  if (shape.input_size <= 0 && shape.input_vocab <= 0) throw ConfigError("a network needs inputs");
  if (params.kind == "window") return make_window_net(params, shape);
  if (params.kind == "rnn" || params.kind == "lstm") return make_recurrent_net(params, shape);
  if (params.kind == "attention_lstm") return make_attention_lstm_net(params, shape);
  if (params.kind == "anticipation") return make_anticipation_net(params, shape);
  if (params.kind == "transformer") return make_transformer_net(params, shape);
  if (params.kind == "note_lstm") return make_note_lstm_net(params, shape);
  throw ConfigError("unknown network kind '" + params.kind +
                    "' (known: window, rnn, lstm, attention_lstm, anticipation, transformer, note_lstm)");
}

}  // namespace antiphon::neural
