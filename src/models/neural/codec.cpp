#include "models/neural/codec.h"

#include <algorithm>
#include <cassert>

#include "antiphon/tokens/key_melody.h"
#include "antiphon/tokens/lookback.h"
#include "antiphon/tokens/notes.h"

namespace antiphon::neural {

TokenCodec::TokenCodec(int vocab_size) : vocab_(vocab_size) { assert(vocab_size > 0); }

CodedSequence TokenCodec::code(std::span<const int> tokens) const {
  CodedSequence c;
  c.steps = tokens.size();
  c.input_ids.reserve(tokens.size());
  c.labels.reserve(tokens.size());
  for (size_t t = 0; t < tokens.size(); ++t) {
    if (tokens[t] < 0 || tokens[t] >= vocab_)
      throw EncodingError("token " + std::to_string(t) + " has id " + std::to_string(tokens[t]) +
                          ", outside the vocabulary of " + std::to_string(vocab_));
    c.input_ids.push_back(t == 0 ? start_id() : tokens[t - 1]);
    c.labels.push_back(tokens[t]);
  }
  return c;
}

int64_t TokenCodec::input_id(std::span<const int> history) const {
  return history.empty() ? start_id() : history.back();
}

void TokenCodec::input_features(std::span<const int>, std::span<float>) const {
  assert(!"the token codec has id inputs");
}

void TokenCodec::token_probs(std::span<const int>, std::span<const double> label_probs,
                             std::span<double> token_probs) const {
  assert(label_probs.size() == token_probs.size());
  std::copy(label_probs.begin(), label_probs.end(), token_probs.begin());
}

std::unique_ptr<Codec> make_codec(const std::string& name, const Encoding& encoding) {
  if (name == "tokens") return std::make_unique<TokenCodec>(static_cast<int>(encoding.vocab().size()));
  if (name == "lookback") {
    const auto* e = dynamic_cast<const LookbackEncoding*>(&encoding);
    if (!e) throw ConfigError("the lookback inputs need the lookback encoding, not " + encoding.spec());
    return make_lookback_codec(*e);
  }
  if (name == "attention") {
    const auto* e = dynamic_cast<const AttentionEncoding*>(&encoding);
    if (!e) throw ConfigError("the attention inputs need the attention encoding, not " + encoding.spec());
    return make_attention_codec(*e);
  }
  if (name == "notes" || name == "notes_basic") {
    const auto* e = dynamic_cast<const PairEncoding*>(&encoding);
    if (!e) throw ConfigError("the notes inputs need a note-level encoding (notes, intervals), not " + encoding.spec());
    return make_note_codec(*e, name == "notes");
  }
  throw ConfigError("unknown network input '" + name + "' (known: tokens, lookback, attention, notes, notes_basic)");
}

}  // namespace antiphon::neural
