#pragma once
// PPM's count structure and predictor (Cleary & Witten; Moffat; Cleary & Teahan's PPM*; as IDyOM uses it,
// Pearce 2005 ch. 6): counts of every context up to an order bound (or unbounded) over symbols
// 0..alphabet_size-1, and the predictive distribution of the next symbol given the sequence so far, with
// escape method A, B, C, D or X, blending (interpolated smoothing) or back-off, exclusion, update exclusion,
// and PPM*'s choice of the shortest deterministic context.
//
// Private to src/models. The ppm family (ppm_model.cpp) builds its long-term model (one PpmTrie trained on
// the corpus, then read only) and its short-term model (one PpmTrie per melody, grown as the melody goes,
// owned by the caller's state) from this class, once per viewpoint.
//
// Counts. c(h, s) is how often symbol s followed context h (a string of up to `order` symbols, any length
// when unbounded) within one training sequence. With update exclusion, a symbol is counted only in the
// contexts from the highest order that had already seen it (after that history) up to the longest
// context, plus every context that had never seen it (Moffat 1990); lower orders keep their counts.
//
// The predictive distribution, for history h, with h_j its suffix of length j:
//  - contexts: the orders j = 0..m whose h_j has been followed by something (suffixes of a matching
//    context match too, so these are contiguous). Order bound k: the top order is min(m, k). PPM*
//    (order -1): the shortest h_j with a single continuation (deterministic) if one exists, else h_m.
//  - per order j from the top down, with counts c(s), the escape method's offset q (A 0, B -1, C 0,
//    D -1/2, X 0) and its escape count e (A 1; B, C the number of distinct symbols t; D t/2; X the number
//    of symbols seen exactly once + 1, IDyOM's variant of Witten & Bell's X): n = the sum of c(s) + q over
//    the symbols counted (see exclusion), weight w = n / (n + e), and the escape probability 1 - w passes
//    down to order j-1.
//  - blending: every symbol of h_j gets escape_so_far * w * (c(s) + q) / n added to its probability.
//    Back-off: a symbol gets it only at the highest order that has seen it (IDyOM's non-mixture mode;
//    under B a symbol seen once there gets nothing until order -1).
//  - order -1: every symbol gets escape_so_far * u (back-off: only symbols still at 0), then the whole is
//    normalised to sum to 1.
// Exclusion (on) is IDyOM's, and the reference's "exclusion that shrinks the count total": at order j,
// n sums only the symbols that the order above (j+1) has not seen; e still counts all of h_j's symbols
// (so X's singletons are counted over all of them too); under blending the excluded symbols still get
// their share (c(s)+q)/n, so the orders' shares add to more than one and the final normalisation scales
// them; and u = 1 / (|A| + 1 - t0) with t0 the symbols seen at order 0. This is the same for every
// escape method; for B and D, n sums the reduced counts c(s)-1 or c(s)-1/2 of the symbols not excluded.
// Exclusion off: n sums every symbol of h_j and u = 1/|A|, so blending sums to 1 before normalising.
// Every symbol ends above zero: each order passes on a positive escape probability.
//
// Representation. Strings of symbols as a compressed trie over every suffix of every training sequence
// (a generalised suffix tree without end markers): a node is a string, its count is how often it
// occurred, a chain of strings with one continuation and equal counts is one edge read from the stored
// sequences, and a string seen once hangs on a leaf that points into its sequence. Nodes: O(total
// length) for any order bound, in one flat array with integer ids. A Context holds, per order, the node
// at or below that suffix of the history, so advance() costs O(orders matched).
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "antiphon/models/model_file.h"

namespace antiphon::ppm {

enum class Escape { a, b, c, d, x };
std::string escape_name(Escape e);             // "A".."X"
Escape parse_escape(const std::string& text);  // "A"/"a".. ; throws ConfigError

struct PpmConfig {
  int order = -1;  // order bound k >= 0; -1 = unbounded (PPM*)
  Escape escape = Escape::c;
  bool blend = true;      // true: blending (interpolated), false: back-off
  bool exclusion = true;  // lower orders exclude the symbols predicted by higher ones (see above)
  bool update_exclusion = false;
  void validate() const;  // throws ConfigError (order < -1 or > 1000)
};

class PpmTrie {
 public:
  PpmTrie(int alphabet_size, PpmConfig config);  // throws ConfigError (alphabet_size < 1, bad config)

  int alphabet_size() const { return alphabet_size_; }
  const PpmConfig& config() const { return config_; }

  // Training: counts every context (up to the order bound) of every position of the sequence. Symbols
  // outside 0..alphabet_size-1 throw ConfigError. An empty sequence adds nothing.
  void add_sequence(std::span<const int> symbols);
  // Undoes add_sequence of the same symbols (cross-validation: add all, remove a fold, score it, add it
  // back): afterwards predictions and node_count() equal those of a trie that never had it. Throws
  // ConfigError when no such sequence is held, or under update exclusion (whose counts depend on the order
  // the sequences came in).
  void remove_sequence(std::span<const int> symbols);

  // Where a sequence stands in the trie: the nodes of the suffixes of the history that occur as contexts.
  // Cheap to copy; valid for this trie only. A context stays valid while the trie grows through learn()
  // on that same context; any other change to the trie (add_sequence, remove_sequence, learn on another
  // context) makes older contexts stale, and using one throws ConfigError (root() contexts never go stale).
  class Context {
   public:
    Context() = default;                       // the same as root()
    size_t length() const { return length_; }  // symbols of history seen
    // Equal for two contexts of the same trie that predict and advance alike (the nodes of every order).
    std::string key() const;
   private:
    friend class PpmTrie;
    std::vector<uint32_t> nodes_;  // [j]: the node at or below the history's suffix of length j
    uint32_t length_ = 0;
    uint64_t version_ = 0;   // the trie's version when made
    bool learning_ = false;  // the context of the sequence the trie is learning
  };
  Context root() const;
  // The history grew by one symbol (read only: the trie's counts do not change).
  void advance(Context& context, int symbol) const;
  // For a short-term model: counts `symbol` after the history (as add_sequence would have, honouring
  // update exclusion), then advances the context. The caller predicts before it learns. A context of
  // length 0 (root()) starts a new sequence, closing the one learned so far (which stays counted, as if
  // add_sequence had been called with it); otherwise `context` must be the one the previous learn()
  // returned (ConfigError if not). Until closed, the sequence counts as a finished one, so the trie after
  // learning a whole sequence equals one that add_sequence'd it.
  void learn(Context& context, int symbol);
  // P(next symbol | history) for every symbol; out.size() == alphabet_size(); sums to 1, every value > 0.
  // Thread-safe on a trie nobody is changing.
  void predict(const Context& context, std::span<double> out) const;
  // The same over a subset of the alphabet (IDyOM's per-event alphabet, e.g. the intervals the candidate
  // pitches can reach): only the counts of allowed symbols take part and order -1 is uniform over them; out is
  // 0 elsewhere. allowed[s] != 0 marks symbol s; allowed.size() == alphabet_size(), at least one allowed.
  void predict(const Context& context, std::span<const uint8_t> allowed, std::span<double> out) const;

  size_t node_count() const { return nodes_.size() - free_count_; }
  size_t memory_bytes() const;
  size_t sequence_count() const;  // sequences held (added or being learned, not removed)
  uint64_t symbol_count() const;  // their total length

  // The payload holds the config and the sequences (in the order they came, so update-excluded counts
  // come back the same); load rebuilds the trie and checks it against the node count and count total
  // saved with it. A sequence being learned is saved as a finished one.
  void save(ModelWriter& out) const;
  static PpmTrie load(ModelReader& in);  // throws ModelFileError via in.fail on inconsistent data

 private:
  struct Node {
    uint32_t parent;
    uint32_t first_child;
    uint32_t next_sibling;
    uint32_t start;  // index in store_ where an occurrence of this node's string begins
    uint32_t depth;  // length of the string; kOpenDepth: a leaf of the sequence being learned
    uint32_t count;  // occurrences of the string (update-excluded counts under update exclusion)
    int32_t symbol;  // first symbol of the edge from the parent: store_[start + parent's depth]
  };
  struct Sequence {
    uint32_t start;  // in store_
    uint32_t length;
    uint32_t ends;  // in ends_: per suffix, the node where it ends (for remove_sequence)
    bool live;
  };

  uint32_t depth(uint32_t v) const;
  uint32_t find_child(uint32_t v, int symbol) const;
  uint32_t find_child_to_front(uint32_t v, int symbol);
  uint32_t new_node();
  void free_node(uint32_t v);
  void add_child(uint32_t parent, uint32_t child);
  void replace_child(uint32_t parent, uint32_t old_child, uint32_t new_child);
  void remove_child(uint32_t parent, uint32_t child);
  uint32_t insert_above(uint32_t child, uint32_t depth, uint32_t count);
  void merge_into_child(uint32_t v);
  uint32_t normalize(uint32_t v, uint32_t order) const;
  void check_symbol(int symbol) const;
  void check_context(const Context& context) const;

  void begin_sequence();
  void step(int symbol);
  void step_full(uint32_t pos, int symbol);
  void step_update_excluded(uint32_t pos, int symbol);
  uint32_t new_leaf(uint32_t parent, uint32_t pos, uint32_t order, int symbol);
  void close_sequence();
  uint64_t count_sum() const;

  int alphabet_size_;
  PpmConfig config_;
  uint32_t depth_cap_;       // order + 1, or unbounded
  std::vector<Node> nodes_;  // node 0: the empty string (order-0 context)
  uint32_t free_list_;
  size_t free_count_ = 0;
  std::vector<uint32_t> root_child_;  // per symbol, the root's child (the root has many)
  uint32_t root_types_ = 0;           // symbols seen at order 0
  std::vector<int32_t> store_;        // every sequence ever added, back to back
  std::vector<Sequence> sequences_;
  std::vector<uint32_t> ends_;
  std::unordered_multimap<uint64_t, uint32_t> by_hash_;  // finished live sequences by content
  bool open_ = false;                                    // the last sequence is still being learned
  std::vector<uint32_t> walks_;                          // its suffixes that occurred before, per order (as Context)
  std::vector<uint32_t> scratch_walks_;
  uint64_t version_ = 0;  // changes with every change to the counts
};

}  // namespace antiphon::ppm
