#include "models/markov/ngram_counts.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <limits>

namespace antiphon::markov_detail {

namespace {

constexpr uint64_t kEmpty = std::numeric_limits<uint64_t>::max();

uint64_t mix(uint64_t x) {  // splitmix64 finaliser: spreads (node, symbol) keys over the table
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

}  // namespace

// ChildMap --------------------------------------------------------------------------------------------------

void ChildMap::reserve(size_t n) {
  size_t capacity = 16;
  while (capacity < 2 * n) capacity *= 2;
  if (capacity <= keys_.size()) return;
  std::vector<uint64_t> old_keys = std::move(keys_);
  std::vector<int32_t> old_values = std::move(values_);
  keys_.assign(capacity, kEmpty);
  values_.assign(capacity, -1);
  const size_t mask = capacity - 1;
  for (size_t i = 0; i < old_keys.size(); ++i) {
    if (old_keys[i] == kEmpty) continue;
    size_t slot = mix(old_keys[i]) & mask;
    while (keys_[slot] != kEmpty) slot = (slot + 1) & mask;
    keys_[slot] = old_keys[i];
    values_[slot] = old_values[i];
  }
}

void ChildMap::grow() { reserve(keys_.empty() ? 8 : keys_.size()); }

int32_t ChildMap::find(int32_t node, int32_t symbol) const {
  if (keys_.empty()) return -1;
  const uint64_t k = key(node, symbol);
  const size_t mask = keys_.size() - 1;
  for (size_t slot = mix(k) & mask;; slot = (slot + 1) & mask) {
    if (keys_[slot] == k) return values_[slot];
    if (keys_[slot] == kEmpty) return -1;
  }
}

int32_t ChildMap::insert(int32_t node, int32_t symbol, int32_t child) {
  if (2 * (size_ + 1) > keys_.size()) grow();
  const uint64_t k = key(node, symbol);
  const size_t mask = keys_.size() - 1;
  size_t slot = mix(k) & mask;
  while (keys_[slot] != kEmpty) {
    if (keys_[slot] == k) return values_[slot];
    slot = (slot + 1) & mask;
  }
  keys_[slot] = k;
  values_[slot] = child;
  ++size_;
  return child;
}

// NgramCounts -----------------------------------------------------------------------------------------------

NgramCounts NgramCounts::count(int vocab_size, int order, const std::vector<std::vector<int>>& sequences) {
  assert(vocab_size > 0 && order >= 0 && order <= 255);
  NgramCounts c;
  c.vocab_size_ = vocab_size;
  c.order_ = order;
  c.parent_ = {-1};
  c.symbol_ = {-1};
  c.depth_ = {0};
  size_t positions = 0;
  for (const auto& s : sequences) positions += s.size();
  // One (node, token) key per position and order; sorting them gives every node's entries with their counts.
  std::vector<uint64_t> keys;
  keys.reserve(positions * static_cast<size_t>(order + 1));
  c.children_.reserve(positions);
  for (const auto& seq : sequences) {
    for (size_t i = 0; i < seq.size(); ++i) {
      const int token = seq[i];
      assert(token >= 0 && token < vocab_size);
      int32_t node = 0;
      keys.push_back(static_cast<uint64_t>(token));
      const size_t longest = std::min(static_cast<size_t>(order), i + 1);
      for (size_t j = 1; j <= longest; ++j) {
        const int32_t symbol = j <= i ? seq[i - j] : vocab_size;  // j == i + 1: the begin symbol
        int32_t next = c.children_.find(node, symbol);
        if (next < 0) {
          assert(c.parent_.size() < static_cast<size_t>(std::numeric_limits<int32_t>::max()));
          next = static_cast<int32_t>(c.parent_.size());
          c.children_.insert(node, symbol, next);
          c.parent_.push_back(node);
          c.symbol_.push_back(symbol);
          c.depth_.push_back(static_cast<uint8_t>(j));
        }
        node = next;
        keys.push_back((static_cast<uint64_t>(node) << 32) | static_cast<uint32_t>(token));
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  c.entry_begin_.assign(c.parent_.size() + 1, 0);
  for (size_t i = 0; i < keys.size();) {
    size_t j = i;
    while (j < keys.size() && keys[j] == keys[i]) ++j;
    const auto node = static_cast<size_t>(keys[i] >> 32);
    c.entry_token_.push_back(static_cast<int32_t>(keys[i] & 0xffffffffu));
    assert(j - i <= std::numeric_limits<uint32_t>::max());
    c.entry_count_.push_back(static_cast<uint32_t>(j - i));
    ++c.entry_begin_[node + 1];
    i = j;
  }
  for (size_t n = 0; n < c.parent_.size(); ++n) c.entry_begin_[n + 1] += c.entry_begin_[n];
  c.total_.assign(c.parent_.size(), 0);
  for (size_t n = 0; n < c.parent_.size(); ++n)
    for (uint32_t e = c.entry_begin_[n]; e < c.entry_begin_[n + 1]; ++e) c.total_[n] += c.entry_count_[e];
  return c;
}

void NgramCounts::save(ModelWriter& out) const {
  out.u64(node_count());
  // Nodes 1.. (the root has neither parent nor symbol).
  out.i32s(std::span<const int32_t>(parent_).subspan(1));
  out.i32s(std::span<const int32_t>(symbol_).subspan(1));
  std::vector<uint32_t> sizes(node_count());
  for (size_t n = 0; n < node_count(); ++n) sizes[n] = entry_begin_[n + 1] - entry_begin_[n];
  out.u32s(sizes);
  out.i32s(entry_token_);
  out.u32s(entry_count_);
}

NgramCounts NgramCounts::load(ModelReader& reader, int vocab_size, int order) {
  assert(vocab_size > 0 && order >= 0 && order <= 255);
  NgramCounts c;
  c.vocab_size_ = vocab_size;
  c.order_ = order;
  const uint64_t nodes = reader.u64("context node count");
  std::vector<int32_t> parents = reader.i32s("context parents");
  std::vector<int32_t> symbols = reader.i32s("context symbols");
  std::vector<uint32_t> sizes = reader.u32s("entries per context");
  c.entry_token_ = reader.i32s("entry tokens");
  c.entry_count_ = reader.u32s("entry counts");
  if (nodes == 0 || nodes > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()))
    reader.fail("context node count " + std::to_string(nodes) + " is out of range");
  if (parents.size() != nodes - 1 || symbols.size() != nodes - 1 || sizes.size() != nodes)
    reader.fail("context tables disagree with the node count " + std::to_string(nodes) + " (" +
                std::to_string(parents.size()) + " parents, " + std::to_string(symbols.size()) + " symbols, " +
                std::to_string(sizes.size()) + " entry sizes)");
  if (c.entry_token_.size() != c.entry_count_.size())
    reader.fail(std::to_string(c.entry_token_.size()) + " entry tokens but " + std::to_string(c.entry_count_.size()) +
                " entry counts");

  c.parent_.reserve(nodes);
  c.parent_.push_back(-1);
  c.symbol_.push_back(-1);
  c.depth_.push_back(0);
  c.children_.reserve(nodes);
  for (size_t id = 1; id < nodes; ++id) {
    const int32_t p = parents[id - 1];
    const int32_t s = symbols[id - 1];
    const std::string where = "context node " + std::to_string(id) + ": ";
    if (p < 0 || static_cast<size_t>(p) >= id) reader.fail(where + "parent " + std::to_string(p) + " is out of range");
    if (s < 0 || s > vocab_size)
      reader.fail(where + "symbol " + std::to_string(s) + " is out of range 0.." + std::to_string(vocab_size));
    if (c.symbol_[static_cast<size_t>(p)] == vocab_size) reader.fail(where + "extends a context that starts a melody");
    if (c.depth_[static_cast<size_t>(p)] + 1 > order)
      reader.fail(where + "is longer than the order " + std::to_string(order));
    if (c.children_.insert(p, s, static_cast<int32_t>(id)) != static_cast<int32_t>(id))
      reader.fail(where + "repeats the context of node " + std::to_string(c.children_.find(p, s)));
    c.parent_.push_back(p);
    c.symbol_.push_back(s);
    c.depth_.push_back(static_cast<uint8_t>(c.depth_[static_cast<size_t>(p)] + 1));
  }

  c.entry_begin_.assign(nodes + 1, 0);
  for (size_t n = 0; n < nodes; ++n) {
    if (sizes[n] == 0) reader.fail("context node " + std::to_string(n) + " has no counts");
    const uint64_t end = static_cast<uint64_t>(c.entry_begin_[n]) + sizes[n];
    if (end > c.entry_token_.size())
      reader.fail("entries per context add up to more than the " + std::to_string(c.entry_token_.size()) + " entries");
    c.entry_begin_[n + 1] = static_cast<uint32_t>(end);
  }
  if (c.entry_begin_[nodes] != c.entry_token_.size())
    reader.fail("entries per context add up to " + std::to_string(c.entry_begin_[nodes]) + ", not " +
                std::to_string(c.entry_token_.size()));
  c.total_.assign(nodes, 0);
  for (size_t n = 0; n < nodes; ++n)
    for (uint32_t e = c.entry_begin_[n]; e < c.entry_begin_[n + 1]; ++e) {
      const int32_t t = c.entry_token_[e];
      if (t < 0 || t >= vocab_size)
        reader.fail("context node " + std::to_string(n) + ": token " + std::to_string(t) + " is out of range 0.." +
                    std::to_string(vocab_size - 1));
      if (e > c.entry_begin_[n] && t <= c.entry_token_[e - 1])
        reader.fail("context node " + std::to_string(n) + ": tokens are not in ascending order");
      if (c.entry_count_[e] == 0) reader.fail("context node " + std::to_string(n) + ": a count of zero");
      c.total_[n] += c.entry_count_[e];
    }

  // Every occurrence of (h, w) below the order has one older symbol (a token or the begin symbol) unless h
  // starts a melody, so the counts of h's children add up to h's counts.
  std::vector<uint64_t> from_children(c.entry_token_.size(), 0);
  for (size_t n = 1; n < nodes; ++n) {
    const int32_t p = c.parent_[n];
    for (uint32_t e = c.entry_begin_[n]; e < c.entry_begin_[n + 1]; ++e) {
      const int64_t pe = c.find_entry(p, c.entry_token_[e]);
      if (pe < 0)
        reader.fail("context node " + std::to_string(n) + ": token " + std::to_string(c.entry_token_[e]) +
                    " never follows the shorter context (node " + std::to_string(p) + ")");
      from_children[static_cast<size_t>(pe)] += c.entry_count_[e];
    }
  }
  for (size_t n = 0; n < nodes; ++n) {
    if (c.depth_[n] >= order || c.symbol_[n] == vocab_size) continue;
    for (uint32_t e = c.entry_begin_[n]; e < c.entry_begin_[n + 1]; ++e)
      if (from_children[e] != c.entry_count_[e])
        reader.fail("context node " + std::to_string(n) + ": count " + std::to_string(c.entry_count_[e]) +
                    " of token " + std::to_string(c.entry_token_[e]) + " differs from the " +
                    std::to_string(from_children[e]) + " of its longer contexts");
  }
  return c;
}

int64_t NgramCounts::find_entry(int32_t node, int token) const {
  const auto first = entry_token_.begin() + entry_begin(node);
  const auto last = entry_token_.begin() + entry_end(node);
  const auto it = std::lower_bound(first, last, token);
  if (it == last || *it != token) return -1;
  return it - entry_token_.begin();
}

uint64_t NgramCounts::count(int32_t node, int token) const {
  const int64_t e = find_entry(node, token);
  return e < 0 ? 0 : entry_count_[static_cast<size_t>(e)];
}

void NgramCounts::walk(std::span<const int32_t> context, std::vector<int32_t>& chain) const {
  chain.clear();
  chain.push_back(0);
  int32_t node = 0;
  for (size_t i = context.size(); i-- > 0;) {
    node = child(node, context[i]);
    if (node < 0) break;
    chain.push_back(node);
  }
}

int32_t NgramCounts::find(std::span<const int32_t> context) const {
  int32_t node = 0;
  for (size_t i = context.size(); i-- > 0 && node >= 0;) node = child(node, context[i]);
  return node;
}

// NgramState ------------------------------------------------------------------------------------------------

NgramState::NgramState(const NgramCounts& counts) {
  if (counts.order() > 0) context_.push_back(counts.begin());
  counts.walk(context_, chain_);
}

std::string NgramState::seen_key_after(const NgramCounts& counts, int token) const {
  thread_local std::vector<int32_t> context, chain;
  context = context_;
  context.push_back(token);
  if (context.size() > static_cast<size_t>(counts.order())) context.erase(context.begin());
  counts.walk(context, chain);
  return seen_key_of(chain);
}

void NgramState::push(const NgramCounts& counts, int token) {
  context_.push_back(token);
  if (context_.size() > static_cast<size_t>(counts.order())) context_.erase(context_.begin());
  counts.walk(context_, chain_);
}

// Training helpers ------------------------------------------------------------------------------------------

EncodedTraining encode_training(const std::string& family, const TrainingData& data) {
  if (!data.melodies || data.melodies->empty()) throw ConfigError(family + ": no training melodies");
  const size_t melodies = data.melodies->size();
  if (!data.encoding) {
    bool pitched = false;
    for (const Melody& m : *data.melodies) pitched = pitched || m.pitched_count() > 0;
    if (!pitched)
      throw ConfigError(family + ": none of the " + std::to_string(melodies) +
                        " training melodies has a pitched note (nothing to learn)");
  }
  EncodedTraining out;
  out.encoding = training_encoding(data);
  out.sequences = encode_melodies(*out.encoding, *data.melodies);
  for (const auto& s : out.sequences) out.tokens += s.size();
  if (out.tokens == 0)
    throw ConfigError(family + ": the " + std::to_string(melodies) + " training melodies give no tokens in encoding '" +
                      out.encoding->spec() + "' (nothing to learn)");
  if (out.tokens >= std::numeric_limits<uint32_t>::max())
    throw ConfigError(family + ": " + std::to_string(out.tokens) + " training tokens are more than the counts hold (" +
                      std::to_string(std::numeric_limits<uint32_t>::max() - 1) + ")");
  return out;
}

ModelInfo make_info(const std::string& spec, const TrainingData& data, const EncodedTraining& training) {
  ModelInfo info;
  info.family = spec.substr(0, spec.find(':'));
  info.spec = spec;
  info.encoding = training.encoding->spec();
  info.corpus = data.corpus;
  info.corpus_fingerprint = data.corpus_fingerprint;
  for (const auto& s : training.sequences) info.training_melodies += s.empty() ? 0 : 1;
  info.training_tokens = training.tokens;
  return info;
}

std::string format_real(double x) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
  assert(ec == std::errc());
  return std::string(buf, end);
}

}  // namespace antiphon::markov_detail
