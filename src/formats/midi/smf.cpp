#include "formats/midi/smf.h"

#include <algorithm>
#include <climits>
#include <cstdio>

namespace antiphon::midi {
namespace {

int column_of(size_t offset) { return static_cast<int>(std::min<size_t>(offset, INT_MAX)); }

std::string hex_byte(uint8_t b) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned>(b));
  return buf;
}

// A printable rendering of a 4-byte chunk id for messages: "MTrk", or hex bytes when not ASCII.
std::string chunk_id_text(std::string_view id) {
  bool printable = std::all_of(id.begin(), id.end(), [](char c) { return c >= 0x20 && c < 0x7F; });
  if (printable) return "'" + std::string(id) + "'";
  std::string s;
  for (char c : id) s += (s.empty() ? "" : " ") + hex_byte(static_cast<uint8_t>(c));
  return s;
}

// Reads big-endian integers and variable-length quantities from [pos, end) of the file, throwing
// ParseError naming the byte offset when the bytes run out.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& file, size_t pos, size_t end)
      : bytes_(bytes), file_(file), pos_(pos), end_(end) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return end_ - pos_; }
  bool at_end() const { return pos_ >= end_; }

  [[noreturn]] void fail(size_t offset, const std::string& message, const std::string& reason) const {
    throw ParseError(file_, 0, column_of(offset), message + " (at byte " + std::to_string(offset) + ")", reason);
  }

  void need(size_t n, const std::string& what) const {
    if (remaining() < n)
      fail(pos_, "truncated: expected " + what + " (" + std::to_string(n) + " bytes), " + where_it_ends(), "truncated");
  }

  uint8_t u8(const std::string& what) {
    need(1, what);
    return static_cast<uint8_t>(bytes_[pos_++]);
  }
  uint8_t peek() const { return static_cast<uint8_t>(bytes_[pos_]); }
  uint32_t u16(const std::string& what) {
    need(2, what);
    uint32_t v =
        (static_cast<uint32_t>(static_cast<uint8_t>(bytes_[pos_])) << 8) | static_cast<uint8_t>(bytes_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  uint32_t u32(const std::string& what) {
    need(4, what);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(bytes_[pos_ + i]);
    pos_ += 4;
    return v;
  }
  std::string_view take(size_t n, const std::string& what) {
    need(n, what);
    std::string_view v = bytes_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  // A variable-length quantity: at most 4 bytes, 7 bits each, high bit set on all but the last.
  uint32_t vlq(const std::string& what) {
    size_t start = pos_;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      if (at_end())
        fail(pos_, "truncated: " + what + " (a variable-length quantity) cut off, " + where_it_ends(), "truncated");
      uint8_t b = static_cast<uint8_t>(bytes_[pos_++]);
      v = (v << 7) | (b & 0x7F);
      if ((b & 0x80) == 0) return v;
    }
    fail(start, "bad " + what + ": variable-length quantity longer than 4 bytes", "bad event");
  }

 private:
  std::string where_it_ends() const {
    return end_ == bytes_.size() ? "file ends at byte " + std::to_string(end_)
                                 : "track chunk ends at byte " + std::to_string(end_);
  }

  std::string_view bytes_;
  const std::string& file_;
  size_t pos_;
  size_t end_;
};

// Number of data bytes after a channel status byte.
int data_length(uint8_t status) {
  uint8_t kind = status & 0xF0;
  return kind == 0xC0 || kind == 0xD0 ? 1 : 2;
}

SmfTrack parse_track(std::string_view bytes, const std::string& file, size_t chunk_offset, size_t begin, size_t end,
                     int track_index, std::vector<Diagnostic>& warnings) {
  SmfTrack track;
  track.offset = static_cast<uint32_t>(std::min<size_t>(chunk_offset, UINT32_MAX));
  Reader r(bytes, file, begin, end);
  uint64_t tick = 0;
  uint8_t running = 0;
  bool ended = false;
  while (!r.at_end()) {
    tick += r.vlq("delta time");
    if (tick > kMaxTick) r.fail(r.pos(), "bad event: time beyond " + std::to_string(kMaxTick) + " ticks", "bad event");
    size_t event_offset = r.pos();
    uint8_t status = r.u8("an event after the delta time");
    if (status == 0xFF) {
      uint8_t type = r.u8("a meta event type");
      uint32_t length = r.vlq("meta event length");
      std::string_view data = r.take(length, "meta event data");
      if (type == kMetaEndOfTrack) {
        ended = true;
        break;
      }
      if (type == kMetaTrackName || type == kMetaTempo || type == kMetaTimeSignature || type == kMetaKeySignature)
        track.meta_events.push_back({tick, type, data, static_cast<uint32_t>(event_offset)});
      continue;
    }
    if (status == 0xF0 || status == 0xF7) {
      uint32_t length = r.vlq("sysex length");
      r.take(length, "sysex data");
      continue;
    }
    if (status > 0xF0)
      r.fail(event_offset, "bad event: unexpected status byte " + hex_byte(status) + " in a track", "bad event");
    uint8_t data[2] = {0, 0};
    int first = 0;
    if (status & 0x80) {
      running = status;
    } else {
      if (running == 0)
        r.fail(event_offset, "bad event: data byte " + hex_byte(status) + " without a status byte (no running status)",
               "bad event");
      data[0] = status;
      first = 1;
    }
    int n = data_length(running);
    for (int i = first; i < n; ++i) {
      size_t at = r.pos();
      data[i] = r.u8("a data byte of the channel event");
      if (data[i] & 0x80)
        r.fail(at, "bad event: expected a data byte (< 0x80), found " + hex_byte(data[i]), "bad event");
    }
    track.has_channel_events = true;
    uint8_t kind = running & 0xF0;
    uint8_t channel = running & 0x0F;
    ChannelEvent e{tick, ChannelEventKind::note_on, channel, data[0], data[1], static_cast<uint32_t>(event_offset)};
    if (kind == 0x90 && data[1] > 0) {
      track.channel_events.push_back(e);
    } else if (kind == 0x80 || kind == 0x90) {
      e.kind = ChannelEventKind::note_off;
      e.data2 = 0;
      track.channel_events.push_back(e);
    } else if (kind == 0xC0) {
      e.kind = ChannelEventKind::program_change;
      track.channel_events.push_back(e);
    }
  }
  track.end_tick = tick;
  if (!ended)
    warnings.push_back({file, 0, column_of(chunk_offset), "no end of track",
                        "track " + std::to_string(track_index) + " has no end-of-track event"});
  return track;
}

}  // namespace

SmfFile parse_smf(std::string_view bytes, const std::string& file) {
  SmfFile smf;
  Reader r(bytes, file, 0, bytes.size());
  if (bytes.size() < 4 ? std::string_view("MThd").substr(0, bytes.size()) != bytes : bytes.substr(0, 4) != "MThd") {
    std::string found = chunk_id_text(bytes.substr(0, std::min<size_t>(4, bytes.size())));
    r.fail(0, "bad header: expected 'MThd' (a Standard MIDI File), found " + found, "bad header");
  }
  r.take(4, "the 'MThd' header id");
  uint32_t header_length = r.u32("the header length");
  if (header_length < 6)
    r.fail(4, "bad header: header length " + std::to_string(header_length) + ", expected at least 6", "bad header");
  if (header_length > r.remaining())
    r.fail(4,
           "truncated: header declares " + std::to_string(header_length) + " bytes but only " +
               std::to_string(r.remaining()) + " remain",
           "truncated");
  size_t header_end = r.pos() + header_length;
  smf.format = static_cast<int>(r.u16("the format"));
  uint32_t track_count = r.u16("the track count");
  uint32_t division = r.u16("the time division");
  if (smf.format > 2)
    r.fail(8, "bad header: format " + std::to_string(smf.format) + ", expected 0, 1 or 2", "bad header");
  if (track_count == 0) r.fail(10, "bad header: the header declares no tracks", "bad header");
  if (division & 0x8000) r.fail(12, "SMPTE time division not supported (only ticks per quarter note)", "unsupported");
  if (division == 0) r.fail(12, "bad header: time division of 0 ticks per quarter note", "bad header");
  smf.ticks_per_quarter = static_cast<int>(division);
  r.take(header_end - r.pos(), "the rest of the header");

  // Never reserve by the declared track count: each track costs at least 8 bytes of input.
  while (smf.tracks.size() < track_count) {
    size_t chunk_offset = r.pos();
    if (r.at_end())
      r.fail(chunk_offset,
             "truncated: expected track " + std::to_string(smf.tracks.size() + 1) + " of " +
                 std::to_string(track_count) + " declared in the header, file ends",
             "truncated");
    std::string_view id = r.take(4, "a chunk id");
    uint32_t length = r.u32("a chunk length");
    if (length > r.remaining())
      r.fail(chunk_offset + 4,
             "truncated: " + chunk_id_text(id) + " chunk declares " + std::to_string(length) + " bytes but only " +
                 std::to_string(r.remaining()) + " remain",
             "truncated");
    if (id == "MTrk") {
      smf.tracks.push_back(parse_track(bytes, file, chunk_offset, r.pos(), r.pos() + length,
                                       static_cast<int>(smf.tracks.size()), smf.warnings));
    } else if (!std::all_of(id.begin(), id.end(), [](char c) { return c >= 0x20 && c < 0x7F; })) {
      r.fail(chunk_offset, "bad chunk: expected 'MTrk' or another chunk id, found " + chunk_id_text(id), "bad chunk");
    }
    r.take(length, "chunk data");
  }
  if (!r.at_end())
    smf.warnings.push_back({file, 0, column_of(r.pos()), "trailing bytes",
                            "ignored " + std::to_string(r.remaining()) + " bytes after the last declared track"});
  return smf;
}

}  // namespace antiphon::midi
