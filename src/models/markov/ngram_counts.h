#pragma once
// The counts behind the Markov families (markov.cpp, mixed.cpp): how often each token follows each context of
// up to `order` tokens in the training sequences, stored as a suffix trie of context nodes with integer ids.
//
// Node 0 is the empty context; the child of node h by symbol s is the context "s h" (s is the older symbol),
// so a node's parent is its context without its oldest symbol, the next lower order. Symbols are the tokens
// 0..V-1 and begin() = V, the start of a melody: at position i < order the context is the actual shorter
// history with the begin symbol in front, so the first token of a melody has its own distribution and no
// context reaches across melodies. Every position counts under every order 0..min(order, i + 1), so for a
// node h of depth < order that does not start with the begin symbol, c(h, w) = sum over its children v of
// c(v h, w) (load() checks this).
//
// Private to src/models.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "antiphon/models/model.h"
#include "antiphon/models/model_file.h"
#include "antiphon/models/registry.h"

namespace antiphon::markov_detail {

// Open-addressing hash map from (node, symbol) to a node id, for walking down the trie.
class ChildMap {
 public:
  void reserve(size_t n);
  // -1 when absent.
  int32_t find(int32_t node, int32_t symbol) const;
  // Inserts when absent; returns the existing value otherwise.
  int32_t insert(int32_t node, int32_t symbol, int32_t child);
  size_t size() const { return size_; }

 private:
  static uint64_t key(int32_t node, int32_t symbol) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(node)) << 32) | static_cast<uint32_t>(symbol);
  }
  void grow();
  std::vector<uint64_t> keys_;
  std::vector<int32_t> values_;
  size_t size_ = 0;
};

class NgramCounts {
 public:
  // Counts every position of every sequence (tokens 0..vocab_size-1). Asserts 0 <= order and tokens in range.
  static NgramCounts count(int vocab_size, int order, const std::vector<std::vector<int>>& sequences);
  // Reads what save() wrote, checking it (ids in range, no duplicate nodes, sorted positive counts, the
  // sums above); a problem fails through reader.fail (ModelFileError).
  static NgramCounts load(ModelReader& reader, int vocab_size, int order);
  void save(ModelWriter& out) const;

  int vocab_size() const { return vocab_size_; }
  int order() const { return order_; }
  int begin() const { return vocab_size_; }  // the begin-of-melody symbol
  size_t node_count() const { return parent_.size(); }
  size_t entry_count() const { return entry_token_.size(); }

  int32_t parent(int32_t node) const { return parent_[static_cast<size_t>(node)]; }
  int32_t symbol(int32_t node) const { return symbol_[static_cast<size_t>(node)]; }  // oldest symbol; -1 for root
  int depth(int32_t node) const { return depth_[static_cast<size_t>(node)]; }
  // Whether the context starts at the beginning of a melody (nothing can precede it).
  bool starts_melody(int32_t node) const { return symbol(node) == begin(); }
  int32_t child(int32_t node, int32_t symbol) const { return children_.find(node, symbol); }

  // The tokens seen after a node (ascending) and their counts; entry ids are entry_begin(node) + i.
  uint32_t entry_begin(int32_t node) const { return entry_begin_[static_cast<size_t>(node)]; }
  uint32_t entry_end(int32_t node) const { return entry_begin_[static_cast<size_t>(node) + 1]; }
  int32_t entry_token(uint32_t e) const { return entry_token_[e]; }
  uint32_t entry_count(uint32_t e) const { return entry_count_[e]; }
  // The entry of (node, token), or -1 when the token never followed the context.
  int64_t find_entry(int32_t node, int token) const;
  uint64_t count(int32_t node, int token) const;
  uint64_t total(int32_t node) const { return total_[static_cast<size_t>(node)]; }    // c(h)
  uint32_t types(int32_t node) const { return entry_end(node) - entry_begin(node); }  // distinct followers

  // The nodes of the context's suffixes that occur: chain[j] is the node of its last j symbols, j = 0 .. m
  // for the longest m found (context oldest first, at most `order` symbols). Writes into chain (cleared).
  void walk(std::span<const int32_t> context, std::vector<int32_t>& chain) const;
  // The node of exactly this context (oldest first), or -1.
  int32_t find(std::span<const int32_t> context) const;

 private:
  void index();  // builds children_ and total_ from the node table and entries
  int vocab_size_ = 0;
  int order_ = 0;
  std::vector<int32_t> parent_;
  std::vector<int32_t> symbol_;
  std::vector<uint8_t> depth_;
  std::vector<uint32_t> entry_begin_;  // node_count() + 1 offsets
  std::vector<int32_t> entry_token_;
  std::vector<uint32_t> entry_count_;
  std::vector<uint64_t> total_;
  ChildMap children_;
};

// A caller's place in a melody: the last `order` symbols (the begin symbol first while the melody is shorter)
// and the chain of their suffixes' nodes.
class NgramState : public ModelState {
 public:
  explicit NgramState(const NgramCounts& counts);
  std::unique_ptr<ModelState> clone() const override { return std::make_unique<NgramState>(*this); }
  void push(const NgramCounts& counts, int token);
  const std::vector<int32_t>& context() const { return context_; }
  // The context as bytes: equal keys predict alike (SequenceModel::state_key).
  std::string key() const {
    return std::string(reinterpret_cast<const char*>(context_.data()), context_.size() * sizeof(int32_t));
  }
  // key() of the state after push(token) for a model of this order.
  std::string key_after(int order, int token) const {
    std::string k = key();
    if (order <= 0) return k;
    k.append(reinterpret_cast<const char*>(&token), sizeof(int32_t));
    if (k.size() > static_cast<size_t>(order) * sizeof(int32_t)) k.erase(0, sizeof(int32_t));
    return k;
  }
  // A shorter key for the interpolated smoothings: the node of the longest suffix seen in training (and its
  // length). Two histories with the same one predict alike, and so do they after any token, since a seen
  // context ending in the token extends a seen suffix of the history.
  std::string seen_key() const { return seen_key_of(chain_); }
  std::string seen_key_after(const NgramCounts& counts, int token) const;
  static std::string seen_key_of(const std::vector<int32_t>& chain) {
    const int32_t v[2] = {static_cast<int32_t>(chain.size()), chain.empty() ? -1 : chain.back()};
    return std::string(reinterpret_cast<const char*>(v), sizeof v);
  }
  // chain()[j]: node of the last j symbols of the context, for j up to the longest that occurred in training.
  const std::vector<int32_t>& chain() const { return chain_; }

 private:
  std::vector<int32_t> context_;
  std::vector<int32_t> chain_;
};

// What both families do before counting: checks there is something to learn from and encodes the melodies.
// Throws ConfigError ("markov: no training melodies", "... have no tokens") and EncodingError.
struct EncodedTraining {
  std::shared_ptr<const Encoding> encoding;
  std::vector<std::vector<int>> sequences;
  size_t tokens = 0;
};
EncodedTraining encode_training(const std::string& family, const TrainingData& data);

// The ModelInfo of a model trained from this spec ("family:k=v,..."): the melodies counted are those with tokens.
ModelInfo make_info(const std::string& spec, const TrainingData& data, const EncodedTraining& training);

// Doubles as spec text: the shortest decimal that reads back as the same double.
std::string format_real(double x);

}  // namespace antiphon::markov_detail
