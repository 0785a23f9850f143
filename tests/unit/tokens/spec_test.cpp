#include <gtest/gtest.h>

#include "antiphon/tokens/encoding.h"
#include "antiphon/tokens/events.h"
#include "antiphon/tokens/grid.h"
#include "antiphon/tokens/intervals.h"
#include "antiphon/tokens/key_melody.h"
#include "antiphon/tokens/lookback.h"
#include "antiphon/tokens/notes.h"
#include "melodies.h"

namespace antiphon {
namespace {

std::string spec_error(const std::string& spec) {
  try {
    make_encoding(spec);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(MakeEncoding, builds_each_encoding_with_its_defaults) {
  auto grid = make_encoding("grid");
  EXPECT_EQ(grid->spec(), "grid:steps=4");
  EXPECT_EQ(grid->vocab().size(), 131u);
  ASSERT_NE(dynamic_cast<GridEncoding*>(grid.get()), nullptr);

  auto events = make_encoding("events");
  EXPECT_EQ(events->spec(), "events:range=basic");
  EXPECT_EQ(events->vocab().size(), 38u);
  EXPECT_EQ(events->end_id(), -1);

  EXPECT_EQ(make_encoding("events:range=mono")->vocab().size(), 130u);

  auto lookback = make_encoding("lookback");
  auto* lb = dynamic_cast<LookbackEncoding*>(lookback.get());
  ASSERT_NE(lb, nullptr);
  EXPECT_EQ(lb->features().input_size(), 121);
  EXPECT_EQ(lb->features().num_classes(), 40);

  auto attention = make_encoding("attention");
  auto* at = dynamic_cast<AttentionEncoding*>(attention.get());
  ASSERT_NE(at, nullptr);
  EXPECT_EQ(at->features().input_size(), 74);
  EXPECT_EQ(at->features().num_classes(), 40);

  EXPECT_EQ(make_encoding("notes")->vocab().size(), 129u * 42u + 1u);
  EXPECT_EQ(make_encoding("intervals")->vocab().size(), 178u * 42u + 1u);
}

TEST(MakeEncoding, reads_options) {
  auto grid = make_encoding("grid:steps=12,min=48,max=84");
  EXPECT_EQ(grid->spec(), "grid:steps=12,min=48,max=84");
  EXPECT_EQ(grid->vocab().size(), 37u + 3u);

  EXPECT_EQ(make_encoding("events:range=basic,squash=0")->spec(), "events:min=48,max=83,squash=0");
  EXPECT_EQ(make_encoding("events:squash=0,min=0,max=127")->spec(), "events:range=mono");
  EXPECT_EQ(make_encoding("events:range=mono,min=36,steps=12")->spec(), "events:min=36,max=127,squash=0,steps=12");

  auto lookback = make_encoding("lookback:range=mono,lookbacks=12;24,bits=6");
  auto* lb = dynamic_cast<LookbackEncoding*>(lookback.get());
  ASSERT_NE(lb, nullptr);
  EXPECT_EQ(lb->features().lookback_distances(), (std::vector<int>{12, 24}));
  EXPECT_EQ(lb->features().input_size(), 130 * 3 + 6 + 2);
  EXPECT_EQ(lookback->spec(), "lookback:range=mono,lookbacks=12;24,bits=6");

  EXPECT_EQ(make_encoding("attention:bar=12,lookbacks=12;24")->spec(), "attention:range=basic,lookbacks=12;24,bar=12");
  EXPECT_EQ(make_encoding("notes:durations=1;1/2;3/2;1/2")->spec(), "notes:durations=1/2;1;3/2");
  EXPECT_EQ(make_encoding("intervals:min=-12,max=+12")->spec(), "intervals:min=-12,max=12");
}

TEST(MakeEncoding, spec_round_trips_through_make_encoding) {
  for (const char* spec :
       {"grid:steps=4", "grid:steps=12,min=48,max=84", "events:range=basic", "events:range=mono",
        "events:min=40,max=90,squash=1,steps=8", "lookback:range=basic", "lookback:range=basic,lookbacks=12;24,bits=4",
        "attention:range=mono,bits=5,bar=12", "notes", "notes:durations=1/4;1/2;1,min=40,max=90",
        "intervals:min=-24,max=24", "intervals:min=-7,max=7,durations=1/3;1"}) {
    auto enc = make_encoding(spec);
    EXPECT_EQ(enc->spec(), spec);
    EXPECT_EQ(make_encoding(enc->spec())->vocab(), enc->vocab()) << spec;
  }
}

TEST(MakeEncoding, names_the_bad_part_of_a_spec) {
  EXPECT_EQ(spec_error("gird"),
            "encoding spec 'gird': unknown encoding 'gird' (known: grid, events, lookback, attention, notes, "
            "intervals, pitch, pitchdur)");
  EXPECT_EQ(spec_error(""), "encoding spec '': no encoding name (expected e.g. grid, events:range=mono)");
  EXPECT_EQ(spec_error("grid:stps=4"),
            "encoding spec 'grid:stps=4': unknown key 'stps' for grid (known: steps, min, max)");
  EXPECT_EQ(spec_error("grid:steps=four"),
            "encoding spec 'grid:steps=four': bad value 'four' for steps: expected an integer");
  EXPECT_EQ(spec_error("grid:steps=4x"),
            "encoding spec 'grid:steps=4x': bad value '4x' for steps: expected an integer");
  EXPECT_EQ(spec_error("grid:steps=0"), "encoding spec 'grid:steps=0': steps=0: steps per quarter must be 1..960");
  EXPECT_EQ(spec_error("grid:steps"), "encoding spec 'grid:steps': option 'steps' is not key=value");
  EXPECT_EQ(spec_error("grid:steps=4,steps=12"), "encoding spec 'grid:steps=4,steps=12': key 'steps' given twice");
  EXPECT_EQ(spec_error("grid:=4"), "encoding spec 'grid:=4': option '=4' has no key");
  EXPECT_EQ(spec_error("grid:min=60,max=50"), "encoding spec 'grid:min=60,max=50': min=60 is above max=50");
  EXPECT_EQ(spec_error("events:range=huge"),
            "encoding spec 'events:range=huge': bad value 'huge' for range: expected basic or mono");
  EXPECT_EQ(spec_error("events:squash=maybe"),
            "encoding spec 'events:squash=maybe': bad value 'maybe' for squash: expected 1 or 0");
  EXPECT_EQ(spec_error("events:min=60,max=65"),
            "encoding spec 'events:min=60,max=65': min=60,max=65: squash needs a range of at least 12 pitches");
  EXPECT_EQ(spec_error("events:max=128"),
            "encoding spec 'events:max=128': max=128: the highest pitch must be a MIDI number 0..127");
  EXPECT_EQ(spec_error("lookback:lookbacks=16;x"),
            "encoding spec 'lookback:lookbacks=16;x': bad value '16;x' for lookbacks: expected integers separated "
            "by ';' (e.g. 16;32)");
  EXPECT_EQ(spec_error("lookback:lookbacks=16;0"),
            "encoding spec 'lookback:lookbacks=16;0': lookbacks=16;0: distance 0 must be a positive number of steps");
  EXPECT_EQ(spec_error("lookback:bar=16"),
            "encoding spec 'lookback:bar=16': unknown key 'bar' for lookback (known: range, min, max, squash, steps, "
            "lookbacks, bits)");
  EXPECT_EQ(spec_error("attention:lookbacks="),
            "encoding spec 'attention:lookbacks=': lookbacks=: the key-melody inputs need at least one lookback");
  EXPECT_EQ(spec_error("attention:bits=31"), "encoding spec 'attention:bits=31': bits=31: counter bits must be 0..30");
  EXPECT_EQ(spec_error("notes:durations=1/4;x"),
            "encoding spec 'notes:durations=1/4;x': bad value '1/4;x' for durations: expected durations in quarters "
            "separated by ';' (e.g. 1/4;1/2;1;3/2)");
  EXPECT_EQ(spec_error("notes:durations=0;1"),
            "encoding spec 'notes:durations=0;1': durations: 0 is not a positive duration");
  EXPECT_EQ(spec_error("intervals:min=5,max=-5"), "encoding spec 'intervals:min=5,max=-5': min=5 is above max=-5");
}

TEST(MakeEncoding, lookback_allows_no_lookbacks_as_magenta_does) {
  auto enc = make_encoding("lookback:lookbacks=");
  auto* lb = dynamic_cast<LookbackEncoding*>(enc.get());
  ASSERT_NE(lb, nullptr);
  EXPECT_EQ(lb->features().input_size(), 38 + 5);
  // Without lookbacks there are no repeat labels, and no quirk for early no-events.
  EXPECT_EQ(lb->features().num_classes(), 38);
  EXPECT_EQ(lb->features().label({60, kMelodyNoEvent}, 1), 0);
  EXPECT_EQ(lb->features().label({60, kMelodyNoEvent}, 0), 14);
  EXPECT_EQ(enc->spec(), "lookback:range=basic,lookbacks=");
}

TEST(DescribeTokens, renders_tokens_and_marks_unknown_ids) {
  auto grid = make_encoding("grid");
  EXPECT_EQ(describe_tokens(*grid, {60, 128, 129, 130}), "60 _ r </s>");
  EXPECT_EQ(describe_tokens(*grid, {60, 131, -4}), "60 <?131> <?-4>");
  EXPECT_EQ(describe_tokens(*grid, {}), "");
}

TEST(Vocab, looks_tokens_up_both_ways) {
  Vocab v({"a", "b", "c"});
  EXPECT_EQ(v.size(), 3u);
  EXPECT_EQ(v.id("b"), 1);
  EXPECT_EQ(v.id("z"), -1);
  EXPECT_EQ(v.token(2), "c");
}

}  // namespace antiphon
