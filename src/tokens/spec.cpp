// make_encoding: "name[:key=value,...]" -> an encoding; describe_tokens.
#include "antiphon/tokens/encoding.h"
#include "antiphon/tokens/events.h"
#include "antiphon/tokens/grid.h"
#include "antiphon/tokens/intervals.h"
#include "antiphon/tokens/key_melody.h"
#include "antiphon/tokens/lookback.h"
#include "antiphon/tokens/notes.h"
#include "antiphon/tokens/target.h"
#include "tokens/internal.h"

namespace antiphon {

using tokens_detail::OptionReader;
using tokens_detail::SpecParts;

namespace {

const std::vector<std::string> kEventKeys = {"range", "min", "max", "squash", "steps"};

std::vector<std::string> with(std::vector<std::string> keys, const std::vector<std::string>& more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

// The range preset first, then the keys that override it.
EventConfig read_event_options(OptionReader& r) {
  EventConfig c;
  std::string range;
  if (r.take_string("range", range)) {
    if (range == "basic")
      c = EventConfig::basic();
    else if (range == "mono")
      c = EventConfig::mono();
    else
      r.bad_value("range", range, "basic or mono");
  }
  r.take_int("min", c.pitch_min);
  r.take_int("max", c.pitch_max);
  r.take_bool("squash", c.squash);
  r.take_int("steps", c.steps_per_quarter);
  return c;
}

std::unique_ptr<Encoding> make_grid(const SpecParts& parts) {
  OptionReader r(parts);
  GridConfig c;
  r.take_int("steps", c.steps_per_quarter);
  r.take_int("min", c.pitch_min);
  r.take_int("max", c.pitch_max);
  r.finish({"steps", "min", "max"});
  tokens_detail::validate_for_spec(c, parts);
  return std::make_unique<GridEncoding>(c);
}

std::unique_ptr<Encoding> make_events(const SpecParts& parts) {
  OptionReader r(parts);
  EventConfig c = read_event_options(r);
  r.finish(kEventKeys);
  tokens_detail::validate_for_spec(c, parts);
  return std::make_unique<EventEncoding>(c);
}

std::unique_ptr<Encoding> make_lookback(const SpecParts& parts) {
  OptionReader r(parts);
  LookbackConfig c;
  c.events = read_event_options(r);
  r.take_int_list("lookbacks", c.lookback_distances);
  r.take_int("bits", c.binary_counter_bits);
  r.finish(with(kEventKeys, {"lookbacks", "bits"}));
  tokens_detail::validate_for_spec(c, parts);
  return std::make_unique<LookbackEncoding>(c);
}

std::unique_ptr<Encoding> make_attention(const SpecParts& parts) {
  OptionReader r(parts);
  KeyMelodyConfig c;
  c.events = read_event_options(r);
  r.take_int_list("lookbacks", c.lookback_distances);
  r.take_int("bits", c.binary_counter_bits);
  r.take_int("bar", c.steps_per_bar);
  r.finish(with(kEventKeys, {"lookbacks", "bits", "bar"}));
  tokens_detail::validate_for_spec(c, parts);
  return std::make_unique<AttentionEncoding>(c);
}

std::unique_ptr<Encoding> make_notes(const SpecParts& parts) {
  OptionReader r(parts);
  NoteConfig c;
  r.take_duration_list("durations", c.durations);
  r.take_int("min", c.pitch_min);
  r.take_int("max", c.pitch_max);
  r.finish({"durations", "min", "max"});
  tokens_detail::validate_for_spec(c, parts);
  return std::make_unique<NoteEncoding>(c);
}

std::unique_ptr<Encoding> make_intervals(const SpecParts& parts) {
  OptionReader r(parts);
  IntervalConfig c;
  r.take_duration_list("durations", c.durations);
  r.take_int("min", c.interval_min);
  r.take_int("max", c.interval_max);
  r.finish({"durations", "min", "max"});
  tokens_detail::validate_for_spec(c, parts);
  return std::make_unique<IntervalEncoding>(c);
}

std::unique_ptr<Encoding> make_target(const SpecParts& parts, TargetKind kind) {
  OptionReader r(parts);
  TargetConfig c;
  c.kind = kind;
  r.take_int_list("pitches", c.pitches);
  if (kind == TargetKind::pitch_duration) {
    r.take_duration_list("durations", c.durations);
    r.finish({"pitches", "durations"});
  } else {
    r.finish({"pitches"});
  }
  tokens_detail::validate_for_spec(c, parts);
  return std::make_unique<TargetEncoding>(c);
}

}  // namespace

std::unique_ptr<Encoding> make_encoding(const std::string& spec) {
  SpecParts parts = tokens_detail::split_spec(spec);
  if (parts.name == "grid") return make_grid(parts);
  if (parts.name == "events") return make_events(parts);
  if (parts.name == "lookback") return make_lookback(parts);
  if (parts.name == "attention") return make_attention(parts);
  if (parts.name == "notes") return make_notes(parts);
  if (parts.name == "intervals") return make_intervals(parts);
  if (parts.name == "pitch") return make_target(parts, TargetKind::pitch);
  if (parts.name == "pitchdur") return make_target(parts, TargetKind::pitch_duration);
  throw ConfigError("encoding spec '" + spec + "': unknown encoding '" + parts.name +
                    "' (known: grid, events, lookback, attention, notes, intervals, pitch, pitchdur)");
}

std::string describe_tokens(const Encoding& encoding, const std::vector<int>& tokens) {
  const Vocab& vocab = encoding.vocab();
  std::string out;
  for (size_t k = 0; k < tokens.size(); ++k) {
    if (k) out += ' ';
    int id = tokens[k];
    if (id >= 0 && static_cast<size_t>(id) < vocab.size())
      out += vocab.token(id);
    else
      out += "<?" + std::to_string(id) + ">";
  }
  return out;
}

}  // namespace antiphon
