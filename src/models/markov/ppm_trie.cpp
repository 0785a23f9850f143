#include "models/markov/ppm_trie.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <limits>
#include <string_view>

#include "antiphon/core/error.h"

namespace antiphon::ppm {

namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kOpenDepth = std::numeric_limits<uint32_t>::max();
constexpr uint32_t kFreed = kNone - 1;  // parent of a node on the free list
constexpr uint32_t kFormat = 1;
constexpr int kMaxOrder = 1000;

uint64_t hash_symbols(std::span<const int> symbols) {
  const std::string_view bytes(reinterpret_cast<const char*>(symbols.data()), symbols.size_bytes());
  return std::hash<std::string_view>{}(bytes);
}

// Per-thread scratch for predict(): the symbols and counts of one context, and a generation stamp per
// symbol recording the last order that saw it (for exclusion).
struct Scratch {
  std::vector<uint32_t> stamp;
  std::vector<int32_t> symbols;
  std::vector<uint32_t> counts;
  uint32_t generation = 0;

  void fit(int alphabet_size) {
    const size_t n = static_cast<size_t>(alphabet_size);
    if (stamp.size() < n) {
      stamp.resize(n, 0);
      symbols.resize(n);
      counts.resize(n);
    }
  }
  uint32_t next_generation() {
    if (++generation == 0) {  // wrapped: forget every stamp
      std::fill(stamp.begin(), stamp.end(), 0);
      generation = 1;
    }
    return generation;
  }
};

}  // namespace

std::string escape_name(Escape e) {
  switch (e) {
    case Escape::a:
      return "A";
    case Escape::b:
      return "B";
    case Escape::c:
      return "C";
    case Escape::d:
      return "D";
    case Escape::x:
      return "X";
  }
  return "?";
}

Escape parse_escape(const std::string& text) {
  if (text == "A" || text == "a") return Escape::a;
  if (text == "B" || text == "b") return Escape::b;
  if (text == "C" || text == "c") return Escape::c;
  if (text == "D" || text == "d") return Escape::d;
  if (text == "X" || text == "x") return Escape::x;
  throw ConfigError("ppm: unknown escape method '" + text + "' (expected A, B, C, D or X)");
}

void PpmConfig::validate() const {
  if (order < -1 || order > kMaxOrder)
    throw ConfigError("ppm: order " + std::to_string(order) + " out of range (-1 for unbounded, or 0.." +
                      std::to_string(kMaxOrder) + ")");
}

PpmTrie::PpmTrie(int alphabet_size, PpmConfig config)
    : alphabet_size_(alphabet_size), config_(config), free_list_(kNone) {
  if (alphabet_size < 1)
    throw ConfigError("ppm: alphabet size " + std::to_string(alphabet_size) + " must be at least 1");
  config_.validate();
  depth_cap_ = config_.order < 0 ? kOpenDepth - 1 : static_cast<uint32_t>(config_.order) + 1;
  nodes_.push_back(Node{kNone, kNone, kNone, 0, 0, 0, -1});
  root_child_.assign(static_cast<size_t>(alphabet_size), kNone);
}

// ---- structure -----------------------------------------------------------------------------------------

uint32_t PpmTrie::depth(uint32_t v) const {
  const Node& n = nodes_[v];
  if (n.depth != kOpenDepth) return n.depth;
  // A leaf of the sequence being learned: it reaches to the end of the store, as far as the bound allows.
  return std::min(static_cast<uint32_t>(store_.size()) - n.start, depth_cap_);
}

uint32_t PpmTrie::find_child(uint32_t v, int symbol) const {
  if (v == 0) return root_child_[static_cast<size_t>(symbol)];
  for (uint32_t c = nodes_[v].first_child; c != kNone; c = nodes_[c].next_sibling)
    if (nodes_[c].symbol == symbol) return c;
  return kNone;
}

// As find_child, moving the child found to the front of the list: frequent continuations are found sooner.
uint32_t PpmTrie::find_child_to_front(uint32_t v, int symbol) {
  if (v == 0) return root_child_[static_cast<size_t>(symbol)];
  uint32_t prev = kNone;
  for (uint32_t c = nodes_[v].first_child; c != kNone; prev = c, c = nodes_[c].next_sibling) {
    if (nodes_[c].symbol != symbol) continue;
    if (prev != kNone) {
      nodes_[prev].next_sibling = nodes_[c].next_sibling;
      nodes_[c].next_sibling = nodes_[v].first_child;
      nodes_[v].first_child = c;
    }
    return c;
  }
  return kNone;
}

uint32_t PpmTrie::new_node() {
  if (free_list_ != kNone) {
    const uint32_t v = free_list_;
    free_list_ = nodes_[v].next_sibling;
    --free_count_;
    return v;
  }
  if (nodes_.size() >= kFreed) throw ConfigError("ppm: more than 2^32 - 2 trie nodes");
  nodes_.push_back(Node{});
  return static_cast<uint32_t>(nodes_.size() - 1);
}

void PpmTrie::free_node(uint32_t v) {
  nodes_[v] = Node{kFreed, kNone, free_list_, 0, 0, 0, -1};
  free_list_ = v;
  ++free_count_;
}

void PpmTrie::add_child(uint32_t parent, uint32_t child) {
  Node& p = nodes_[parent];
  nodes_[child].parent = parent;
  nodes_[child].next_sibling = p.first_child;
  p.first_child = child;
  if (parent == 0) {
    root_child_[static_cast<size_t>(nodes_[child].symbol)] = child;
    ++root_types_;
  }
}

// new_child takes old_child's place among parent's children (same first symbol).
void PpmTrie::replace_child(uint32_t parent, uint32_t old_child, uint32_t new_child) {
  nodes_[new_child].next_sibling = nodes_[old_child].next_sibling;
  if (nodes_[parent].first_child == old_child) {
    nodes_[parent].first_child = new_child;
  } else {
    uint32_t q = nodes_[parent].first_child;
    while (nodes_[q].next_sibling != old_child) q = nodes_[q].next_sibling;
    nodes_[q].next_sibling = new_child;
  }
  nodes_[old_child].next_sibling = kNone;
  nodes_[new_child].parent = parent;
  if (parent == 0) root_child_[static_cast<size_t>(nodes_[new_child].symbol)] = new_child;
}

void PpmTrie::remove_child(uint32_t parent, uint32_t child) {
  if (nodes_[parent].first_child == child) {
    nodes_[parent].first_child = nodes_[child].next_sibling;
  } else {
    uint32_t q = nodes_[parent].first_child;
    while (nodes_[q].next_sibling != child) q = nodes_[q].next_sibling;
    nodes_[q].next_sibling = nodes_[child].next_sibling;
  }
  nodes_[child].next_sibling = kNone;
  if (parent == 0) {
    root_child_[static_cast<size_t>(nodes_[child].symbol)] = kNone;
    --root_types_;
  }
}

// Splits the edge into `child` so that its first `d` symbols end at a new node with the given count.
uint32_t PpmTrie::insert_above(uint32_t child, uint32_t d, uint32_t count) {
  const uint32_t m = new_node();
  const Node c = nodes_[child];
  nodes_[m] = Node{c.parent, child, kNone, c.start, d, count, c.symbol};
  replace_child(c.parent, child, m);
  nodes_[child].parent = m;
  nodes_[child].symbol = store_[c.start + d];
  return m;
}

// v has one child and the same count: the child's edge absorbs v's.
void PpmTrie::merge_into_child(uint32_t v) {
  const uint32_t c = nodes_[v].first_child;
  assert(c != kNone && nodes_[c].next_sibling == kNone && v != 0);
  nodes_[c].symbol = nodes_[v].symbol;
  replace_child(nodes_[v].parent, v, c);
  free_node(v);
}

// The node at or below the string of length `order` that node v (at or below it before edges above v were
// split) stands for.
uint32_t PpmTrie::normalize(uint32_t v, uint32_t order) const {
  while (v != 0 && order <= nodes_[nodes_[v].parent].depth) v = nodes_[v].parent;
  return v;
}

void PpmTrie::check_symbol(int symbol) const {
  if (symbol < 0 || symbol >= alphabet_size_)
    throw ConfigError("ppm: symbol " + std::to_string(symbol) + " outside the alphabet 0.." +
                      std::to_string(alphabet_size_ - 1));
}

void PpmTrie::check_context(const Context& context) const {
  if (context.length_ > 0 && context.version_ != version_)
    throw ConfigError("ppm: stale context (" + std::to_string(context.length_) +
                      " symbols): the trie changed after it was made; start again from root()");
}

// ---- training ------------------------------------------------------------------------------------------
//
// A node's count is the number of places its string occurs; along an edge the counts cannot change
// except where a training sequence ends, so those strings (the suffixes of each sequence) get explicit
// nodes, and every other explicit node branches or is a leaf. The counts of a string inside an edge are
// its lower node's.
//
// The sequence being added is kept as if it ended at its current symbol, so the counts are exact after
// every symbol (learn() predicts in between): each suffix that occurred before ends at an explicit node
// (a "walk", one per order, kept in walks_); each suffix seen only here is a leaf that grows with the
// sequence (depth kOpenDepth until it closes). A new symbol s extends each walk x to xs, counting xs once
// (under update exclusion only from the order that had seen s); x stays explicit only if it still
// branches or ends another sequence. Each suffix's final node is kept in ends_ for remove_sequence.

void PpmTrie::begin_sequence() {
  if (store_.size() >= kFreed - 1) throw ConfigError("ppm: more than 2^32 - 2 symbols in the trie");
  sequences_.push_back(Sequence{static_cast<uint32_t>(store_.size()), 0, static_cast<uint32_t>(ends_.size()), true});
  open_ = true;
  walks_.assign(1, 0);
}

void PpmTrie::step(int symbol) {
  if (store_.size() >= kFreed - 1) throw ConfigError("ppm: more than 2^32 - 2 symbols in the trie");
  const auto pos = static_cast<uint32_t>(store_.size());
  store_.push_back(symbol);
  ends_.push_back(kNone);
  ++sequences_.back().length;
  ++nodes_[0].count;
  if (config_.update_exclusion)
    step_update_excluded(pos, symbol);
  else
    step_full(pos, symbol);
  ++version_;
}

// xs (x: the walk of this order) occurred nowhere before: it becomes a leaf of the sequence.
uint32_t PpmTrie::new_leaf(uint32_t parent, uint32_t pos, uint32_t order, int symbol) {
  const uint32_t leaf = new_node();
  nodes_[leaf] = Node{parent, kNone, kNone, pos - order, kOpenDepth, 1, symbol};
  add_child(parent, leaf);
  const Sequence& seq = sequences_.back();
  ends_[seq.ends + (pos - order - seq.start)] = leaf;
  return leaf;
}

void PpmTrie::step_full(uint32_t pos, int symbol) {
  std::vector<uint32_t>& w = walks_;
  const size_t m = w.size();
  w.resize(m + 1);  // the walks can gain one order
  const Sequence& seq = sequences_.back();
  size_t kept = 1;
  uint32_t next = w[0];
  // Shortest first: when xs is the next walk's node (a run of one symbol), that walk sees the count it
  // gained here before deciding whether its own node is still needed.
  for (size_t j = 0; j < m; ++j) {
    const uint32_t x = next;
    next = j + 1 < m ? w[j + 1] : kNone;
    const auto order = static_cast<uint32_t>(j);
    const uint32_t c = find_child_to_front(x, symbol);
    if (c == kNone) {
      new_leaf(x, pos, order, symbol);
      continue;  // and so will every longer walk
    }
    uint32_t r;
    if (depth(c) == order + 1) {
      ++nodes_[c].count;
      r = c;
      // x stood out only as the end of this suffix: now that it continues, x is part of c's edge.
      if (x != 0 && nodes_[x].first_child == c && nodes_[c].next_sibling == kNone && nodes_[x].count == nodes_[c].count)
        merge_into_child(x);
    } else if (x != 0 && nodes_[x].first_child == c && nodes_[c].next_sibling == kNone &&
               nodes_[x].count == nodes_[c].count + 1) {
      // xs lies inside c's edge and x is only this suffix's end: slide x one symbol down the edge
      // (a split at xs followed by merging x away, without the churn).
      nodes_[x].depth = order + 1;
      nodes_[x].start = nodes_[c].start;
      nodes_[c].symbol = store_[nodes_[c].start + order + 1];
      r = x;
    } else {
      r = insert_above(c, order + 1, nodes_[c].count + 1);
    }
    if (order + 1 < depth_cap_) {
      w[kept++] = r;
    } else {
      ends_[seq.ends + (pos - order - seq.start)] = r;  // the bound cuts this suffix here
    }
  }
  w.resize(kept);
  w[0] = 0;
}

void PpmTrie::step_update_excluded(uint32_t pos, int symbol) {
  std::vector<uint32_t>& w = walks_;
  const size_t m = w.size();
  // The highest order whose context has seen the symbol (walks are normalized between steps), and where
  // each walk that has goes.
  std::vector<uint32_t>& to = scratch_walks_;
  to.resize(m);
  size_t seen = 0;  // orders 0..seen-1 have
  for (; seen < m; ++seen) {
    const uint32_t v = w[seen];
    const auto order = static_cast<uint32_t>(seen);
    if (order < depth(v)) {
      if (store_[nodes_[v].start + order] != symbol) break;
      to[seen] = v;
    } else {
      to[seen] = find_child_to_front(v, symbol);
      if (to[seen] == kNone) break;
    }
  }
  w.resize(m + 1);
  size_t kept = 1;
  uint32_t next = w[0];
  for (size_t j = 0; j < m; ++j) {
    const auto order = static_cast<uint32_t>(j);
    uint32_t v = next;
    next = j + 1 < m ? w[j + 1] : kNone;
    uint32_t r;
    if (j + 1 < seen) {
      r = to[j];  // excluded from the update: only the position moves
    } else {
      v = normalize(v, order);  // a split made earlier in this step may sit above it
      if (order < depth(v)) v = insert_above(v, order, nodes_[v].count);
      if (j >= seen) {
        new_leaf(v, pos, order, symbol);
        continue;
      }
      const uint32_t c = find_child(v, symbol);
      if (depth(c) == order + 1) {
        ++nodes_[c].count;
        r = c;
      } else {
        r = insert_above(c, order + 1, nodes_[c].count + 1);
      }
    }
    if (order + 1 < depth_cap_) w[kept++] = r;
  }
  w.resize(kept);
  w[0] = 0;
  for (size_t j = 1; j < kept; ++j) w[j] = normalize(w[j], static_cast<uint32_t>(j));
}

void PpmTrie::close_sequence() {
  if (!open_) return;
  Sequence& seq = sequences_.back();
  const auto end = static_cast<uint32_t>(store_.size());
  if (!config_.update_exclusion)
    for (size_t j = 1; j < walks_.size(); ++j) ends_[seq.ends + (seq.length - j)] = walks_[j];
  for (uint32_t a = 0; a < seq.length; ++a) {
    const uint32_t e = ends_[seq.ends + a];
    assert(e != kNone || config_.update_exclusion);  // remove_sequence needs every suffix's end
    if (e != kNone && nodes_[e].depth == kOpenDepth) nodes_[e].depth = std::min(end - nodes_[e].start, depth_cap_);
  }
  open_ = false;
  walks_.clear();
  if (seq.length > 0) {
    const std::span<const int> symbols(store_.data() + seq.start, seq.length);
    by_hash_.emplace(hash_symbols(symbols), static_cast<uint32_t>(sequences_.size() - 1));
  } else {
    seq.live = false;
  }
  ++version_;
}

void PpmTrie::add_sequence(std::span<const int> symbols) {
  for (int s : symbols) check_symbol(s);
  close_sequence();
  if (symbols.empty()) return;
  begin_sequence();
  for (int s : symbols) step(s);
  close_sequence();
}

void PpmTrie::learn(Context& context, int symbol) {
  check_symbol(symbol);
  if (context.length_ == 0) {
    close_sequence();
    begin_sequence();
  } else if (!open_ || !context.learning_ || context.version_ != version_) {
    throw ConfigError("ppm: learn() continues only the sequence this trie is learning (context of " +
                      std::to_string(context.length_) + " symbols is not it); start again from root()");
  }
  step(symbol);
  context.nodes_ = walks_;
  ++context.length_;
  context.version_ = version_;
  context.learning_ = true;
}

void PpmTrie::remove_sequence(std::span<const int> symbols) {
  if (config_.update_exclusion)
    throw ConfigError(
        "ppm: remove_sequence needs update exclusion off (update-excluded counts depend on "
        "the order the sequences were added in)");
  if (symbols.empty()) return;
  close_sequence();
  const uint64_t h = hash_symbols(symbols);
  auto [first, last] = by_hash_.equal_range(h);
  auto found = last;
  for (auto it = first; it != last; ++it) {
    const Sequence& seq = sequences_[it->second];
    if (seq.live && seq.length == symbols.size() &&
        std::equal(symbols.begin(), symbols.end(), store_.begin() + seq.start)) {
      found = it;
      break;
    }
  }
  if (found == last)
    throw ConfigError("ppm: remove_sequence: the trie holds no sequence equal to the given one (" +
                      std::to_string(symbols.size()) + " symbols)");
  Sequence& seq = sequences_[found->second];
  by_hash_.erase(found);
  seq.live = false;
  const std::span<const uint32_t> ends(ends_.data() + seq.ends, seq.length);

  // Every suffix's occurrence leaves the strings on its path.
  for (uint32_t e : ends)
    for (uint32_t v = e; v != kNone; v = nodes_[v].parent) --nodes_[v].count;
  // Strings that no longer occur go, whole subtrees at a time.
  std::vector<uint32_t> maybe_redundant;
  for (uint32_t e : ends) {
    if (nodes_[e].parent == kFreed || nodes_[e].count != 0) continue;
    uint32_t top = e;
    while (nodes_[top].parent != 0 && nodes_[nodes_[top].parent].count == 0) top = nodes_[top].parent;
    const uint32_t parent = nodes_[top].parent;
    remove_child(parent, top);
    maybe_redundant.push_back(parent);
    std::vector<uint32_t> stack{top};
    while (!stack.empty()) {
      const uint32_t v = stack.back();
      stack.pop_back();
      for (uint32_t c = nodes_[v].first_child; c != kNone; c = nodes_[c].next_sibling) stack.push_back(c);
      free_node(v);
    }
  }
  // Nodes kept only as this sequence's ends, or as branches it made, merge into their one child.
  maybe_redundant.insert(maybe_redundant.end(), ends.begin(), ends.end());
  for (uint32_t v : maybe_redundant) {
    if (v == 0 || nodes_[v].parent == kFreed) continue;
    const uint32_t c = nodes_[v].first_child;
    if (c != kNone && nodes_[c].next_sibling == kNone && nodes_[c].count == nodes_[v].count) merge_into_child(v);
  }
  ++version_;
}

// ---- prediction ----------------------------------------------------------------------------------------

PpmTrie::Context PpmTrie::root() const {
  Context context;
  context.nodes_.assign(1, 0);
  context.version_ = version_;
  return context;
}

std::string PpmTrie::Context::key() const {
  if (nodes_.empty()) return std::string(sizeof(uint32_t), '\0');  // root() before any advance: node 0
  return std::string(reinterpret_cast<const char*>(nodes_.data()), nodes_.size() * sizeof(uint32_t));
}

void PpmTrie::advance(Context& context, int symbol) const {
  check_symbol(symbol);
  check_context(context);
  std::vector<uint32_t>& loc = context.nodes_;
  if (loc.empty()) loc.assign(1, 0);
  const size_t m = loc.size();
  loc.resize(m + 1);
  size_t kept = 1;
  uint32_t next = loc[0];
  for (size_t j = 0; j < m; ++j) {
    const uint32_t v = next;
    next = j + 1 < m ? loc[j + 1] : kNone;
    const auto order = static_cast<uint32_t>(j);
    if (order + 1 >= depth_cap_) break;  // the bound: no context of order j+1
    uint32_t r;
    if (order < depth(v)) {
      if (store_[nodes_[v].start + order] != symbol) break;
      r = v;
    } else {
      r = find_child(v, symbol);
      if (r == kNone) break;
    }
    // A context never followed by anything (the end of a sequence) predicts nothing; nor do longer ones.
    if (order + 1 == depth(r) && nodes_[r].first_child == kNone) break;
    loc[kept++] = r;
  }
  loc.resize(kept);
  loc[0] = 0;
  ++context.length_;
  context.version_ = version_;
  context.learning_ = false;
}

void PpmTrie::predict(const Context& context, std::span<double> out) const { predict(context, {}, out); }

void PpmTrie::predict(const Context& context, std::span<const uint8_t> allowed, std::span<double> out) const {
  if (out.size() != static_cast<size_t>(alphabet_size_))
    throw ConfigError("ppm: predict into " + std::to_string(out.size()) + " values, alphabet has " +
                      std::to_string(alphabet_size_));
  if (!allowed.empty()) {
    if (allowed.size() != out.size())
      throw ConfigError("ppm: allowed set of " + std::to_string(allowed.size()) + " symbols, alphabet has " +
                        std::to_string(alphabet_size_));
    if (std::find_if(allowed.begin(), allowed.end(), [](uint8_t a) { return a != 0; }) == allowed.end())
      throw ConfigError("ppm: predict over an empty set of allowed symbols");
  }
  check_context(context);
  static const uint32_t kRootOnly[1] = {0};
  std::span<const uint32_t> loc(context.nodes_);
  if (loc.empty()) loc = kRootOnly;

  // The matching orders: those whose context was followed by something.
  auto has_continuation = [&](int j) {
    const uint32_t v = loc[static_cast<size_t>(j)];
    return static_cast<uint32_t>(j) < depth(v) || nodes_[v].first_child != kNone;
  };
  auto deterministic = [&](int j) {
    const uint32_t v = loc[static_cast<size_t>(j)];
    if (static_cast<uint32_t>(j) < depth(v)) return true;
    const uint32_t c = nodes_[v].first_child;
    return c != kNone && nodes_[c].next_sibling == kNone;
  };
  int top = static_cast<int>(loc.size()) - 1;
  if (config_.order >= 0) top = std::min(top, config_.order);
  while (top >= 0 && !has_continuation(top)) --top;
  if (config_.order < 0 && top > 0) {
    // PPM*: the shortest deterministic context, when the longest is deterministic (determinism only
    // grows with the order, so these form the top of the range).
    int k = top;
    while (k > 0 && deterministic(k)) --k;
    if (k < top) top = k + 1;
  }

  thread_local Scratch scratch;
  scratch.fit(alphabet_size_);
  uint32_t* stamp = scratch.stamp.data();
  int32_t* symbols = scratch.symbols.data();
  uint32_t* counts = scratch.counts.data();

  double offset = 0.0;  // q: what the escape method adds to every count
  switch (config_.escape) {
    case Escape::b:
      offset = -1.0;
      break;
    case Escape::d:
      offset = -0.5;
      break;
    default:
      break;
  }
  std::fill(out.begin(), out.end(), 0.0);
  double escape = 1.0;
  uint32_t above = scratch.next_generation();  // stamp of the order above: at the top, one nobody has
  for (int j = top; j >= 0; --j) {
    const uint32_t v = loc[static_cast<size_t>(j)];
    size_t types = 0;
    if (static_cast<uint32_t>(j) < depth(v)) {
      symbols[0] = store_[nodes_[v].start + static_cast<uint32_t>(j)];
      counts[0] = nodes_[v].count;
      types = allowed.empty() || allowed[static_cast<size_t>(symbols[0])] ? 1 : 0;
    } else {
      for (uint32_t c = nodes_[v].first_child; c != kNone; c = nodes_[c].next_sibling) {
        if (!allowed.empty() && !allowed[static_cast<size_t>(nodes_[c].symbol)]) continue;
        symbols[types] = nodes_[c].symbol;
        counts[types] = nodes_[c].count;
        ++types;
      }
    }
    double n = 0.0;
    size_t singletons = 0;
    for (size_t i = 0; i < types; ++i) {
      if (counts[i] == 1) ++singletons;
      if (!config_.exclusion || stamp[symbols[i]] != above) n += counts[i] + offset;
    }
    double escape_count = 0.0;
    switch (config_.escape) {
      case Escape::a:
        escape_count = 1.0;
        break;
      case Escape::b:
      case Escape::c:
        escape_count = static_cast<double>(types);
        break;
      case Escape::d:
        escape_count = static_cast<double>(types) / 2.0;
        break;
      case Escape::x:
        escape_count = static_cast<double>(singletons) + 1.0;
        break;
    }
    const double weight = n + escape_count > 0.0 ? n / (n + escape_count) : 0.0;
    const uint32_t generation = scratch.next_generation();
    if (n > 0.0) {
      const double scale = escape * weight / n;
      for (size_t i = 0; i < types; ++i) {
        const auto s = static_cast<size_t>(symbols[i]);
        if (config_.blend)
          out[s] += scale * (counts[i] + offset);
        else if (stamp[s] != above && counts[i] + offset > 0.0)
          out[s] = scale * (counts[i] + offset);
      }
    }
    for (size_t i = 0; i < types; ++i) stamp[symbols[i]] = generation;
    above = generation;
    escape *= 1.0 - weight;
  }
  // Order -1. (The floor only matters past hundreds of orders, where the product could underflow.)
  escape = std::max(escape, 1e-300);
  // Over an allowed subset, order -1 is uniform over that subset (IDyOM's order-minus1-probability over the
  // event's alphabet).
  double size = alphabet_size_, seen = root_types_;
  if (!allowed.empty()) {
    size = 0;
    seen = 0;
    for (size_t s = 0; s < allowed.size(); ++s)
      if (allowed[s]) {
        ++size;
        if (root_child_[s] != kNone) ++seen;
      }
  }
  const double uniform = config_.exclusion ? 1.0 / (size + 1.0 - seen) : 1.0 / size;
  const double rest = escape * uniform;
  double total = 0.0;
  for (size_t s = 0; s < out.size(); ++s) {
    double& p = out[s];
    if (!allowed.empty() && !allowed[s]) continue;
    if (config_.blend || p == 0.0) p += rest;
    total += p;
  }
  for (double& p : out) p /= total;
}

// ---- size, save and load -------------------------------------------------------------------------------

size_t PpmTrie::memory_bytes() const {
  return sizeof(*this) + nodes_.capacity() * sizeof(Node) + root_child_.capacity() * sizeof(uint32_t) +
         store_.capacity() * sizeof(int32_t) + sequences_.capacity() * sizeof(Sequence) +
         ends_.capacity() * sizeof(uint32_t) + walks_.capacity() * sizeof(uint32_t) +
         by_hash_.bucket_count() * sizeof(void*) + by_hash_.size() * (sizeof(void*) + 2 * sizeof(uint64_t));
}

size_t PpmTrie::sequence_count() const {
  return static_cast<size_t>(
      std::count_if(sequences_.begin(), sequences_.end(), [](const Sequence& s) { return s.live; }));
}

uint64_t PpmTrie::symbol_count() const {
  uint64_t n = 0;
  for (const Sequence& s : sequences_)
    if (s.live) n += s.length;
  return n;
}

uint64_t PpmTrie::count_sum() const {
  uint64_t sum = 0;
  for (const Node& n : nodes_)
    if (n.parent != kFreed) sum += n.count;
  return sum;
}

void PpmTrie::save(ModelWriter& out) const {
  out.u32(kFormat);
  out.i32(alphabet_size_);
  out.i32(config_.order);
  out.u8(static_cast<uint8_t>(config_.escape));
  out.u8(config_.blend ? 1 : 0);
  out.u8(config_.exclusion ? 1 : 0);
  out.u8(config_.update_exclusion ? 1 : 0);
  std::vector<uint32_t> lengths;
  std::vector<int32_t> symbols;
  for (const Sequence& s : sequences_) {
    if (!s.live) continue;
    lengths.push_back(s.length);
    symbols.insert(symbols.end(), store_.begin() + s.start, store_.begin() + s.start + s.length);
  }
  out.u32s(lengths);
  out.i32s(symbols);
  out.u64(node_count());
  out.u64(count_sum());
}

PpmTrie PpmTrie::load(ModelReader& in) {
  const uint32_t format = in.u32("ppm trie format");
  if (format != kFormat) in.fail("ppm trie: format " + std::to_string(format) + " is not one this build reads");
  const int32_t alphabet_size = in.i32("ppm alphabet size");
  PpmConfig config;
  config.order = in.i32("ppm order");
  const uint8_t escape = in.u8("ppm escape");
  const uint8_t flags[3] = {in.u8("ppm blend"), in.u8("ppm exclusion"), in.u8("ppm update exclusion")};
  if (alphabet_size < 1) in.fail("ppm trie: alphabet size " + std::to_string(alphabet_size) + " must be at least 1");
  if (escape > static_cast<uint8_t>(Escape::x))
    in.fail("ppm trie: escape method " + std::to_string(escape) + " unknown");
  for (uint8_t f : flags)
    if (f > 1) in.fail("ppm trie: flag value " + std::to_string(f) + " is neither 0 nor 1");
  config.escape = static_cast<Escape>(escape);
  config.blend = flags[0] == 1;
  config.exclusion = flags[1] == 1;
  config.update_exclusion = flags[2] == 1;
  try {
    config.validate();
  } catch (const ConfigError& e) {
    in.fail(std::string("ppm trie: ") + e.what());
  }
  const std::vector<uint32_t> lengths = in.u32s("ppm sequence lengths");
  const std::vector<int32_t> symbols = in.i32s("ppm symbols");
  const uint64_t nodes = in.u64("ppm node count");
  const uint64_t sum = in.u64("ppm count total");
  uint64_t total = 0;
  for (uint32_t n : lengths) {
    if (n == 0) in.fail("ppm trie: a sequence of length 0");
    total += n;
  }
  if (total != symbols.size())
    in.fail("ppm trie: sequence lengths add up to " + std::to_string(total) + " but " + std::to_string(symbols.size()) +
            " symbols follow");
  for (size_t i = 0; i < symbols.size(); ++i)
    if (symbols[i] < 0 || symbols[i] >= alphabet_size)
      in.fail("ppm trie: symbol " + std::to_string(symbols[i]) + " at " + std::to_string(i) +
              " outside the alphabet 0.." + std::to_string(alphabet_size - 1));
  PpmTrie trie(alphabet_size, config);
  trie.store_.reserve(symbols.size());
  trie.ends_.reserve(symbols.size());
  size_t at = 0;
  for (uint32_t n : lengths) {
    trie.add_sequence(std::span<const int>(symbols.data() + at, n));
    at += n;
  }
  if (trie.node_count() != nodes || trie.count_sum() != sum)
    in.fail("ppm trie: the sequences give " + std::to_string(trie.node_count()) + " nodes with counts adding up to " +
            std::to_string(trie.count_sum()) + ", the file says " + std::to_string(nodes) + " and " +
            std::to_string(sum));
  return trie;
}

}  // namespace antiphon::ppm
