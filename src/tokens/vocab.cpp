#include <cassert>

#include "antiphon/tokens/encoding.h"

namespace antiphon {

Vocab::Vocab(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {
  index_.reserve(tokens_.size());
  for (size_t i = 0; i < tokens_.size(); ++i) {
    bool inserted = index_.emplace(tokens_[i], static_cast<int>(i)).second;
    assert(inserted && "duplicate token in vocabulary");
    (void)inserted;
  }
}

const std::string& Vocab::token(int id) const {
  assert(id >= 0 && static_cast<size_t>(id) < tokens_.size());
  return tokens_[static_cast<size_t>(id)];
}

int Vocab::id(std::string_view token) const {
  auto it = index_.find(std::string(token));
  return it == index_.end() ? -1 : it->second;
}

}  // namespace antiphon
