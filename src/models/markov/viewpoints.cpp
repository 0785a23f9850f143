#include "models/markov/viewpoints.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <set>

#include "antiphon/models/ppm.h"

namespace antiphon::ppm {

std::vector<ViewEvent> view_events(const Melody& melody) {
  std::vector<NoteEvent> notes = note_events(melody);
  std::vector<ViewEvent> out;
  out.reserve(notes.size());
  for (NoteEvent& n : notes) {
    ViewEvent e;
    e.metered = melody.meter_at(n.onset).bar_length() > Rational(0);
    e.note = std::move(n);
    e.duration_known = true;
    e.context_known = true;
    out.push_back(std::move(e));
  }
  return out;
}

BasicAlphabet BasicAlphabet::of(const Encoding& encoding) {
  BasicAlphabet b;
  const std::string spec = encoding.spec();
  b.encoding_name = spec.substr(0, spec.find(':'));
  b.size = static_cast<int>(encoding.vocab().size());
  const auto* target = dynamic_cast<const TargetEncoding*>(&encoding);
  if (!target) return b;
  b.kind = target->config().kind == TargetKind::pitch ? Kind::pitch : Kind::pitch_duration;
  b.pitches = target->config().pitches;
  b.durations = target->config().durations;
  for (int t = 0; t < b.size; ++t) {
    b.token_pitch.push_back(target->token_pitch(t));
    if (b.kind == Kind::pitch_duration) b.token_duration.push_back(*target->token_duration(t));
  }
  return b;
}

ViewEvent BasicAlphabet::event(int token, const ViewEvent* source) const {
  assert(token >= 0 && token < size);
  ViewEvent e;
  if (source) e = *source;
  e.token = token;
  if (kind == Kind::tokens) return e;
  e.note.pitch = token_pitch[static_cast<size_t>(token)];
  if (kind == Kind::pitch_duration) {
    e.note.duration = token_duration[static_cast<size_t>(token)];
    e.duration_known = true;
  }
  return e;
}

// Primitives ------------------------------------------------------------------------------------------------

namespace {

struct PrimitiveInfo {
  Primitive primitive;
  const char* name;
};

// The order of ppm.h's table.
constexpr PrimitiveInfo kPrimitives[] = {
    {Primitive::token, "token"},
    {Primitive::cpitch, "cpitch"},
    {Primitive::cpitch_class, "cpitch-class"},
    {Primitive::cpint, "cpint"},
    {Primitive::cpint_size, "cpint-size"},
    {Primitive::cpcint, "cpcint"},
    {Primitive::contour, "contour"},
    {Primitive::cpintfref, "cpintfref"},
    {Primitive::cpintfip, "cpintfip"},
    {Primitive::cpintfiph, "cpintfiph"},
    {Primitive::cpintfib, "cpintfib"},
    {Primitive::thrfiph, "thrfiph"},
    {Primitive::thrbar, "thrbar"},
    {Primitive::dur, "dur"},
    {Primitive::durratio, "durratio"},
    {Primitive::ioi, "ioi"},
    {Primitive::posinbar, "posinbar"},
    {Primitive::fib, "fib"},
    {Primitive::fiph, "fiph"},
    {Primitive::liph, "liph"},
};

int floor_mod12(int x) { return ((x % 12) + 12) % 12; }

// IDyOM's cpcint: the interval modulo an octave, keeping the sign of the direction.
int signed_mod12(int x) { return x < 0 ? -((-x) % 12) : x % 12; }

int sign(int x) { return (x > 0) - (x < 0); }

bool is_bar_first(const ViewEvent& e) { return e.context_known && e.metered && e.note.bar_position.is_zero(); }
bool is_phrase_first(const ViewEvent& e) { return e.context_known && e.note.phrase_begin; }

// The latest event of the history that passes `test`, scanning back over events whose context is known
// (nullptr when there is none or an unknown event stands in the way).
template <typename Test>
const ViewEvent* latest(std::span<const ViewEvent> history, Test test) {
  for (size_t k = history.size(); k-- > 0;) {
    if (!history[k].context_known) return nullptr;
    if (test(history[k])) return &history[k];
  }
  return nullptr;
}

}  // namespace

std::string primitive_name(Primitive p) {
  for (const auto& info : kPrimitives)
    if (info.primitive == p) return info.name;
  assert(false && "unnamed primitive");
  return "";
}

std::optional<Primitive> parse_primitive(const std::string& name) {
  for (const auto& info : kPrimitives)
    if (name == info.name) return info.primitive;
  return std::nullopt;
}

const std::vector<Primitive>& all_primitives() {
  static const std::vector<Primitive> all = [] {
    std::vector<Primitive> v;
    for (const auto& info : kPrimitives) v.push_back(info.primitive);
    return v;
  }();
  return all;
}

bool is_available(Primitive p, const BasicAlphabet& basic) { return basic.is_target() || p == Primitive::token; }

bool is_predicted(Primitive p, const BasicAlphabet& basic) {
  switch (p) {
    case Primitive::token:
      return true;
    case Primitive::cpitch:
    case Primitive::cpitch_class:
    case Primitive::cpint:
    case Primitive::cpint_size:
    case Primitive::cpcint:
    case Primitive::contour:
    case Primitive::cpintfref:
    case Primitive::cpintfip:
    case Primitive::cpintfiph:
    case Primitive::cpintfib:
    case Primitive::thrfiph:
    case Primitive::thrbar:
      return basic.is_target();
    case Primitive::dur:
    case Primitive::durratio:
      return basic.kind == BasicAlphabet::Kind::pitch_duration;
    case Primitive::ioi:
    case Primitive::posinbar:
    case Primitive::fib:
    case Primitive::fiph:
    case Primitive::liph:
      return false;
  }
  return false;
}

std::vector<Rational> reachable_values(Primitive p, const BasicAlphabet& basic) {
  std::set<Rational> out;
  const auto& pitches = basic.pitches;
  switch (p) {
    case Primitive::token:
      for (int t = 0; t < basic.size; ++t) out.insert(t);
      break;
    case Primitive::cpitch:
      for (int a : pitches) out.insert(a);
      break;
    case Primitive::cpitch_class:
      for (int a : pitches) out.insert(floor_mod12(a));
      break;
    case Primitive::cpintfref:  // the tonic comes from the context: any pitch class can be a degree
      for (int k = 0; k < 12; ++k) out.insert(k);
      break;
    case Primitive::cpint:
    case Primitive::cpintfip:
    case Primitive::cpintfiph:
    case Primitive::cpintfib:
    case Primitive::thrfiph:
    case Primitive::thrbar:
      for (int a : pitches)
        for (int b : pitches) out.insert(a - b);
      break;
    case Primitive::cpint_size:
      for (int a : pitches)
        for (int b : pitches) out.insert(std::abs(a - b));
      break;
    case Primitive::cpcint:
      for (int a : pitches)
        for (int b : pitches) out.insert(signed_mod12(a - b));
      break;
    case Primitive::contour:
      for (int a : pitches)
        for (int b : pitches) out.insert(sign(a - b));
      break;
    case Primitive::dur:
      for (const Duration& d : basic.durations) out.insert(d);
      break;
    case Primitive::durratio:
      for (const Duration& a : basic.durations)
        for (const Duration& b : basic.durations) out.insert(a / b);
      break;
    case Primitive::ioi:
    case Primitive::posinbar:
    case Primitive::fib:
    case Primitive::fiph:
    case Primitive::liph:
      break;
  }
  if (!is_predicted(p, basic)) out.clear();
  return {out.begin(), out.end()};
}

std::optional<Rational> primitive_value(Primitive p, std::span<const ViewEvent> history, const ViewEvent& e) {
  const ViewEvent* previous = history.empty() ? nullptr : &history.back();
  const int pitch = e.note.pitch;
  switch (p) {
    case Primitive::token:
      if (e.token < 0) return std::nullopt;
      return e.token;
    case Primitive::cpitch:
      return pitch;
    case Primitive::cpitch_class:
      return floor_mod12(pitch);
    case Primitive::cpint:
      if (!previous) return std::nullopt;
      return pitch - previous->note.pitch;
    case Primitive::cpint_size:
      if (!previous) return std::nullopt;
      return std::abs(pitch - previous->note.pitch);
    case Primitive::cpcint:
      if (!previous) return std::nullopt;
      return signed_mod12(pitch - previous->note.pitch);
    case Primitive::contour:
      if (!previous) return std::nullopt;
      return sign(pitch - previous->note.pitch);
    case Primitive::cpintfref:
      if (!e.context_known || e.note.tonic < 0) return std::nullopt;
      return floor_mod12(pitch - e.note.tonic);
    case Primitive::cpintfip:
      if (history.empty()) return std::nullopt;
      return pitch - history.front().note.pitch;
    case Primitive::cpintfiph: {
      if (!e.context_known || e.note.phrase_begin) return std::nullopt;
      const ViewEvent* first = latest(history, is_phrase_first);
      if (!first) return std::nullopt;
      return pitch - first->note.pitch;
    }
    case Primitive::cpintfib: {
      if (!e.context_known || !e.metered || is_bar_first(e)) return std::nullopt;
      const ViewEvent* first = latest(history, is_bar_first);
      if (!first) return std::nullopt;
      return pitch - first->note.pitch;
    }
    case Primitive::thrfiph: {
      if (!is_phrase_first(e)) return std::nullopt;
      const ViewEvent* first = latest(history, is_phrase_first);
      if (!first) return std::nullopt;
      return pitch - first->note.pitch;
    }
    case Primitive::thrbar: {
      if (!is_bar_first(e)) return std::nullopt;
      const ViewEvent* first = latest(history, is_bar_first);
      if (!first) return std::nullopt;
      return pitch - first->note.pitch;
    }
    case Primitive::dur:
      if (!e.duration_known) return std::nullopt;
      return e.note.duration;
    case Primitive::durratio:
      if (!previous || !e.duration_known || !previous->duration_known) return std::nullopt;
      return e.note.duration / previous->note.duration;
    case Primitive::ioi:
      if (!previous || !e.context_known) return std::nullopt;
      return e.note.ioi;
    case Primitive::posinbar:
      if (!e.context_known || !e.metered) return std::nullopt;
      return e.note.bar_position;
    case Primitive::fib:
      if (!e.context_known || !e.metered) return std::nullopt;
      return e.note.bar_position.is_zero() ? 1 : 0;
    case Primitive::fiph:
      if (!e.context_known) return std::nullopt;
      return e.note.phrase_begin ? 1 : 0;
    case Primitive::liph:
      if (!e.context_known) return std::nullopt;
      return e.note.phrase_end ? 1 : 0;
  }
  return std::nullopt;
}

// Values ----------------------------------------------------------------------------------------------------

std::string ViewpointValue::to_string() const {
  if (size == 1) return parts[0].to_string();
  std::string s = "(";
  for (size_t i = 0; i < size; ++i) s += (i ? " " : "") + parts[i].to_string();
  return s + ")";
}

size_t ViewpointValueHash::operator()(const ViewpointValue& v) const {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ v.size;
  for (size_t i = 0; i < v.size; ++i) {
    h = (h ^ static_cast<uint64_t>(v.parts[i].num())) * 0x100000001b3ull;
    h = (h ^ static_cast<uint64_t>(v.parts[i].den())) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  return static_cast<size_t>(h);
}

// Viewpoint -------------------------------------------------------------------------------------------------

Viewpoint Viewpoint::parse(const std::string& text) {
  Viewpoint v;
  size_t start = 0;
  while (true) {
    const size_t star = text.find('*', start);
    const std::string part = text.substr(start, star == std::string::npos ? std::string::npos : star - start);
    auto p = parse_primitive(part);
    if (!p) {
      std::string known;
      for (const auto& info : kPrimitives) known += (known.empty() ? "" : ", ") + std::string(info.name);
      throw ConfigError("ppm: unknown viewpoint '" + part + "'" + (part == text ? "" : " in '" + text + "'") +
                        " (known: " + known + ")");
    }
    if (std::find(v.parts_.begin(), v.parts_.end(), *p) != v.parts_.end())
      throw ConfigError("ppm: viewpoint '" + text + "' links '" + part + "' twice");
    v.parts_.push_back(*p);
    if (star == std::string::npos) break;
    start = star + 1;
  }
  if (v.parts_.size() > kMaxLinked)
    throw ConfigError("ppm: viewpoint '" + text + "' links " + std::to_string(v.parts_.size()) +
                      " viewpoints (at most " + std::to_string(kMaxLinked) + ")");
  v.name_ = text;
  return v;
}

std::optional<ViewpointValue> Viewpoint::value(std::span<const ViewEvent> history, const ViewEvent& current) const {
  ViewpointValue out;
  for (Primitive p : parts_) {
    auto x = primitive_value(p, history, current);
    if (!x) return std::nullopt;
    out.parts[out.size++] = *x;
  }
  return out;
}

// Alphabet --------------------------------------------------------------------------------------------------

ViewpointAlphabet::ViewpointAlphabet(std::vector<ViewpointValue> sorted_unique_values)
    : values_(std::move(sorted_unique_values)) {
  index_.reserve(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) {
    assert(i == 0 || values_[i - 1] < values_[i]);
    index_.emplace(values_[i], static_cast<int>(i));
  }
}

ViewpointAlphabet ViewpointAlphabet::build(const Viewpoint& viewpoint,
                                           const std::vector<ViewpointValue>& training_values,
                                           const BasicAlphabet& basic) {
  const auto& parts = viewpoint.parts();
  std::set<ViewpointValue> values(training_values.begin(), training_values.end());
  // The parts fixed by the context, as combinations seen in training (one empty combination when none).
  std::vector<size_t> fixed;
  std::vector<std::vector<Rational>> reach(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    if (is_predicted(parts[i], basic))
      reach[i] = reachable_values(parts[i], basic);
    else
      fixed.push_back(i);
  }
  std::set<ViewpointValue> contexts;
  if (fixed.empty()) {
    contexts.insert(ViewpointValue{});
  } else {
    for (const ViewpointValue& v : training_values) {
      ViewpointValue c;
      c.size = v.size;
      for (size_t i : fixed) c.parts[i] = v.parts[i];
      contexts.insert(c);
    }
  }
  size_t product = 1;
  for (size_t i = 0; i < parts.size(); ++i)
    if (!reach[i].empty()) product *= reach[i].size();
  if (fixed.size() < parts.size() && product * contexts.size() > kMaxAlphabet)
    throw ConfigError("ppm: viewpoint '" + viewpoint.name() + "' would have " +
                      std::to_string(product * contexts.size()) + " values (at most " + std::to_string(kMaxAlphabet) +
                      "); link fewer viewpoints");
  if (fixed.size() < parts.size()) {
    for (ViewpointValue base : contexts) {
      base.size = static_cast<uint8_t>(parts.size());
      // Odometer over the reachable values of the predicted parts.
      std::vector<size_t> at(parts.size(), 0);
      while (true) {
        ViewpointValue v = base;
        for (size_t i = 0; i < parts.size(); ++i)
          if (!reach[i].empty()) v.parts[i] = reach[i][at[i]];
        values.insert(v);
        size_t i = 0;
        for (; i < parts.size(); ++i) {
          if (reach[i].empty()) continue;
          if (++at[i] < reach[i].size()) break;
          at[i] = 0;
        }
        if (i == parts.size()) break;
      }
    }
  }
  if (values.size() > kMaxAlphabet)
    throw ConfigError("ppm: viewpoint '" + viewpoint.name() + "' has " + std::to_string(values.size()) +
                      " values in the training melodies (at most " + std::to_string(kMaxAlphabet) + ")");
  return ViewpointAlphabet(std::vector<ViewpointValue>(values.begin(), values.end()));
}

int ViewpointAlphabet::symbol(const ViewpointValue& value) const {
  auto it = index_.find(value);
  return it == index_.end() ? -1 : it->second;
}

const ViewpointValue& ViewpointAlphabet::value(int symbol) const {
  assert(symbol >= 0 && static_cast<size_t>(symbol) < values_.size());
  return values_[static_cast<size_t>(symbol)];
}

void ViewpointAlphabet::save(ModelWriter& out) const {
  out.u64(values_.size());
  for (const ViewpointValue& v : values_) {
    out.u8(v.size);
    for (size_t i = 0; i < v.size; ++i) {
      out.u64(static_cast<uint64_t>(v.parts[i].num()));
      out.u64(static_cast<uint64_t>(v.parts[i].den()));
    }
  }
}

ViewpointAlphabet ViewpointAlphabet::load(ModelReader& in) {
  const uint64_t count = in.u64("viewpoint alphabet size");
  if (count > kMaxAlphabet) in.fail("viewpoint alphabet size " + std::to_string(count) + " is over the limit");
  std::vector<ViewpointValue> values;
  values.reserve(count);
  for (uint64_t k = 0; k < count; ++k) {
    ViewpointValue v;
    v.size = in.u8("viewpoint value size");
    if (v.size == 0 || v.size > kMaxLinked) in.fail("viewpoint value with " + std::to_string(v.size) + " parts");
    for (size_t i = 0; i < v.size; ++i) {
      const auto num = static_cast<int64_t>(in.u64("viewpoint value numerator"));
      const auto den = static_cast<int64_t>(in.u64("viewpoint value denominator"));
      if (den <= 0 || num == INT64_MIN)
        in.fail("viewpoint value " + std::to_string(num) + "/" + std::to_string(den) + " is malformed");
      Rational r(num, den);
      if (r.num() != num || r.den() != den)
        in.fail("viewpoint value " + std::to_string(num) + "/" + std::to_string(den) + " is not in lowest terms");
      v.parts[i] = r;
    }
    if (!values.empty() && !(values.back() < v))
      in.fail("viewpoint alphabet is not sorted (value " + v.to_string() + ")");
    values.push_back(v);
  }
  return ViewpointAlphabet(std::move(values));
}

}  // namespace antiphon::ppm

namespace antiphon {

const std::vector<std::string>& ppm_viewpoint_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& info : ppm::kPrimitives) v.emplace_back(info.name);
    return v;
  }();
  return names;
}

}  // namespace antiphon
