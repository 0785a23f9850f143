// Expansion of a tune's repeats, numbered endings and part order into the played order.
//
// Rules (ABC 2.1 section 4.8-4.10 and common practice):
//  - ":|" jumps back to the last "|:", or when there is none since the previous completed repeat, to the
//    previous double bar ("||", "|]", "[|", a part label), or to the start of the tune.
//  - A repeated section is played max(2, highest ending number) times; an ending "[n" is played only on the
//    passes it names; on other passes the music is skipped up to the next ending, up to and over the next
//    ":|", or up to the next section boundary.
//  - "::" is ":|" followed by "|:".
// Every jump moves forward in the tune or raises the pass number, which is bounded by 63, so the expansion
// terminates; it is capped anyway so that a hostile tune cannot allocate without bound.
#include <algorithm>
#include <bit>
#include <string>

#include "formats/abc/abc_internal.h"

namespace antiphon::abc {
namespace {

constexpr size_t kMaxSteps = 20'000'000;
constexpr size_t kMaxOutput = 4 * kMaxPlayedNotes;

int highest_ending(uint64_t mask) { return mask == 0 ? 0 : 63 - std::countl_zero(mask); }

class Expander {
 public:
  explicit Expander(const std::vector<Event>& events) : ev_(events) {
    // the meter and key events in effect before each position, so that a jump replays them in O(1)
    meter_before_.resize(events.size() + 1, 0);
    key_before_.resize(events.size() + 1, 1);
    for (size_t i = 0; i < events.size(); ++i) {
      meter_before_[i + 1] = events[i].kind == EventKind::meter ? i : meter_before_[i];
      key_before_[i + 1] = events[i].kind == EventKind::key ? i : key_before_[i];
    }
  }

  std::vector<uint32_t> take() { return std::move(out_); }

  void emit(size_t i) {
    out_.push_back(static_cast<uint32_t>(i));
    if (ev_[i].kind == EventKind::note && ++notes_ > kMaxPlayedNotes)
      throw too_long(i, std::to_string(kMaxPlayedNotes) + " notes");
    if (out_.size() > kMaxOutput) throw too_long(i, std::to_string(kMaxOutput) + " elements");
  }

  // Starts a part of the P: play order at written position `begin`.
  void jump_to_part(size_t begin) {
    jumped_ = true;
    emit_state_at(begin);
  }

  // Replays the meter and key in effect just before written position `s`.
  void emit_state_at(size_t s) {
    emit(meter_before_[s]);
    emit(key_before_[s]);
  }

  // Plays events [b, e) with their repeats and endings.
  void play(size_t b, size_t e) {
    size_t start = b;             // where ":|" jumps back to
    bool explicit_start = false;  // `start` was set by "|:"
    int pass = 1;
    size_t suppressed = SIZE_MAX;  // a ":|" reached by skipping an ending: not a jump
    size_t i = b;
    while (i < e) {
      step(i);
      const Event& x = ev_[i];
      switch (x.kind) {
        case EventKind::note:
        case EventKind::meter:
        case EventKind::key:
          emit(i);
          ++i;
          break;
        case EventKind::part:
          if (!explicit_start) {
            start = i + 1;
            pass = 1;
          }
          ++i;
          break;
        case EventKind::ending:
          if (pass < 64 && ((x.endings >> pass) & 1) != 0) {
            ++i;
          } else {
            i = skip_ending(i + 1, e, suppressed);
          }
          break;
        case EventKind::bar: {
          emit(i);
          if (x.repeat_end) {
            if (i == suppressed) {
              suppressed = SIZE_MAX;
              explicit_start = false;  // the last pass of this section is under way
            } else if (pass < passes(start, i, e)) {
              ++pass;
              jumped_ = true;
              emit_state_at(start);
              i = start;
              break;
            } else {
              start = i + 1;
              explicit_start = false;
              // endings right after the last pass (":|2") still see its number
              size_t next = next_structural(i + 1, e);
              if (next >= e || ev_[next].kind != EventKind::ending) pass = 1;
            }
          }
          if (x.section_end && !explicit_start) {
            start = i + 1;
            pass = 1;
          }
          if (x.repeat_start) {
            start = i + 1;
            explicit_start = true;
            pass = 1;
          }
          ++i;
          break;
        }
      }
    }
  }

 private:
  Problem too_long(size_t i, const std::string& limit) const {
    if (!jumped_)
      return Problem{ev_[i].offset, "tune too long", "the tune has more than " + limit + " without any repeat"};
    return Problem{ev_[i].offset, "repeat expansion too long",
                   "repeats and endings expand to more than " + limit + "; the repeat structure does not end"};
  }

  // From j, skips the music of an ending not played on this pass: stops at the next ending marker, at a
  // section boundary, or at the next ":|" (returned and marked so that it does not jump).
  size_t skip_ending(size_t j, size_t e, size_t& suppressed) {
    for (; j < e; ++j) {
      step(j);
      const Event& x = ev_[j];
      if (x.kind == EventKind::ending || x.kind == EventKind::part) return j;
      if (x.kind == EventKind::meter || x.kind == EventKind::key) {
        emit(j);  // keep meter and key changes written inside a skipped ending
        continue;
      }
      if (x.kind != EventKind::bar) continue;
      if (x.repeat_end) {
        suppressed = j;
        return j;
      }
      if (x.section_end || x.repeat_start) return j;
    }
    return e;
  }

  size_t next_structural(size_t j, size_t e) const {
    while (j < e && (ev_[j].kind == EventKind::meter || ev_[j].kind == EventKind::key)) ++j;
    return j;
  }

  // How many times the section from `start` to the ":|" at `i` is played: the highest ending number in the
  // section and in the chain of endings that follows the ":|" directly, at least 2.
  int passes(size_t start, size_t i, size_t e) const {
    int most = 1;
    for (size_t j = start; j < i; ++j) {
      step(j);
      if (ev_[j].kind == EventKind::ending) most = std::max(most, highest_ending(ev_[j].endings));
    }
    size_t j = i + 1;
    for (;;) {
      j = next_structural(j, e);
      if (j >= e || ev_[j].kind != EventKind::ending) break;
      for (; j < e; ++j) {
        step(j);
        const Event& x = ev_[j];
        if (x.kind == EventKind::ending) most = std::max(most, highest_ending(x.endings));
        if (x.kind == EventKind::part) return std::max(2, most);
        if (x.kind == EventKind::bar && (x.repeat_end || x.repeat_start || x.section_end)) break;
      }
      if (j >= e || !ev_[j].repeat_end || ev_[j].repeat_start) break;
      ++j;
    }
    return std::max(2, most);
  }

  void step(size_t i) const {
    if (++steps_ > kMaxSteps) throw too_long(i, std::to_string(kMaxSteps) + " steps");
  }

  const std::vector<Event>& ev_;
  std::vector<size_t> meter_before_;
  std::vector<size_t> key_before_;
  std::vector<uint32_t> out_;
  size_t notes_ = 0;
  bool jumped_ = false;       // a repeat has jumped back
  mutable size_t steps_ = 0;  // work done, bounded so that no tune can make the expansion hang
};

}  // namespace

std::vector<uint32_t> expand(const std::vector<Event>& events, const std::vector<char>& part_order,
                             size_t part_order_offset, std::vector<Problem>* warnings) {
  Expander x(events);
  const size_t n = events.size();
  // Segments of the body by part label: the first label of each letter wins.
  std::vector<size_t> labels;
  for (size_t i = 0; i < n; ++i)
    if (events[i].kind == EventKind::part) labels.push_back(i);
  if (part_order.empty() || labels.empty()) {
    if (!part_order.empty() && warnings != nullptr)
      warnings->push_back(Problem{part_order_offset, "unknown part",
                                  "the P: play order names parts but the tune body labels none; played as written"});
    x.play(0, n);
    return x.take();
  }
  // the prelude before the first label (with the initial meter and key at 0 and 1)
  x.play(0, labels.front());
  std::string missing;
  for (char p : part_order) {
    auto it = std::find_if(labels.begin(), labels.end(), [&](size_t i) { return events[i].part == p; });
    if (it == labels.end()) {
      if (missing.find(p) == std::string::npos) missing += p;
      continue;
    }
    size_t begin = *it + 1;
    size_t end = (it + 1 == labels.end()) ? n : *(it + 1);
    x.jump_to_part(begin);
    x.play(begin, end);
  }
  if (!missing.empty() && warnings != nullptr)
    warnings->push_back(Problem{part_order_offset, "unknown part",
                                "the P: play order names part(s) " + missing + " that the tune body does not label"});
  return x.take();
}

}  // namespace antiphon::abc
