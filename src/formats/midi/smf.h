#pragma once
// Internal: the structural layer of the MIDI reader. Splits a Standard MIDI File into its header and
// track chunks and decodes each track's events (delta times, running status, meta and sysex events),
// keeping only what melody extraction needs. Every length is checked against the bytes that remain
// before it is used, and nothing is allocated by a declared length, so hostile files fail fast.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "antiphon/core/error.h"

namespace antiphon::midi {

// Event times beyond this many ticks are refused (about 2 * 10^9 quarters at 480 ticks per quarter),
// which keeps every later product of ticks and steps far inside 64 bits.
constexpr uint64_t kMaxTick = uint64_t{1} << 40;

enum class ChannelEventKind : uint8_t { note_on, note_off, program_change };

// A note-on, note-off or program change. A note-on with velocity 0 is stored as a note-off.
struct ChannelEvent {
  uint64_t tick = 0;
  ChannelEventKind kind = ChannelEventKind::note_on;
  uint8_t channel = 0;  // 0..15
  uint8_t data1 = 0;    // pitch or program
  uint8_t data2 = 0;    // velocity (note-on), 0 otherwise
  uint32_t offset = 0;  // byte offset of the event in the file
};

// Meta events that melody extraction reads (tempo 0x51, time signature 0x58, key signature 0x59, track
// name 0x03); others are skipped while parsing. `data` views the file's bytes.
struct MetaEvent {
  uint64_t tick = 0;
  uint8_t type = 0;
  std::string_view data;
  uint32_t offset = 0;
};

constexpr uint8_t kMetaTrackName = 0x03;
constexpr uint8_t kMetaEndOfTrack = 0x2F;
constexpr uint8_t kMetaTempo = 0x51;
constexpr uint8_t kMetaTimeSignature = 0x58;
constexpr uint8_t kMetaKeySignature = 0x59;

struct SmfTrack {
  uint32_t offset = 0;                       // byte offset of the MTrk chunk
  std::vector<ChannelEvent> channel_events;  // in file order (ticks non-decreasing)
  std::vector<MetaEvent> meta_events;        // in file order
  uint64_t end_tick = 0;                     // tick of the end-of-track event (or of the last event)
  bool has_channel_events = false;           // any channel voice event at all (controllers included)
};

struct SmfFile {
  int format = 0;             // 0, 1 or 2
  int ticks_per_quarter = 0;  // the header's division (metrical time only)
  std::vector<SmfTrack> tracks;
  std::vector<Diagnostic> warnings;
};

// Parses the chunks and events. Throws ParseError with line 0 and the byte offset as column on
// structural damage (reasons "bad header", "truncated", "bad chunk", "bad event", "unsupported").
SmfFile parse_smf(std::string_view bytes, const std::string& file);

}  // namespace antiphon::midi
