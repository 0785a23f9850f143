// Standard MIDI File writer: type 1, 480 ticks per quarter, a conductor track (name, tempo, time and key
// signatures) and one note track on channel 0.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "antiphon/formats/midi.h"
#include "formats/midi/extract.h"

namespace antiphon {
namespace {

constexpr int64_t kTicksPerQuarter = 480;
constexpr int64_t kMaxDelta = 0x0FFFFFFF;  // the largest 4-byte variable-length quantity
constexpr uint8_t kVelocity = 80;

void put_vlq(std::string& out, uint32_t v) {
  char buf[4];
  int n = 0;
  buf[n++] = static_cast<char>(v & 0x7F);
  while ((v >>= 7) != 0) buf[n++] = static_cast<char>(0x80 | (v & 0x7F));
  while (n > 0) out += buf[--n];
}

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xFF);
}

void put_u16(std::string& out, uint32_t v) {
  out += static_cast<char>((v >> 8) & 0xFF);
  out += static_cast<char>(v & 0xFF);
}

struct Event {
  int64_t tick = 0;
  std::string bytes;  // the event without its delta time
};

std::string meta(uint8_t type, const std::string& data) {
  std::string e{'\xFF', static_cast<char>(type)};
  put_vlq(e, static_cast<uint32_t>(data.size()));
  return e + data;
}

// Ticks of a time in quarters; EncodingError when it is not a whole number of ticks.
int64_t to_ticks(const Rational& quarters, const std::string& what) {
  Rational t;
  try {
    t = quarters * Rational(kTicksPerQuarter);
  } catch (const std::overflow_error&) {
    throw EncodingError("cannot write MIDI: " + what + " is too large");
  }
  if (!t.is_integer())
    throw EncodingError("cannot write MIDI: " + what + " is not a whole number of ticks (" +
                        std::to_string(kTicksPerQuarter) + " per quarter)");
  if (t.num() < 0) throw EncodingError("cannot write MIDI: " + what + " is negative");
  return t.num();
}

std::string track_chunk(std::vector<Event> events, int64_t end_tick) {
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.tick < b.tick; });
  std::string data;
  int64_t now = 0;
  auto put_delta = [&](int64_t tick) {
    int64_t delta = tick - now;
    if (delta > kMaxDelta)
      throw EncodingError("cannot write MIDI: a gap of " + std::to_string(delta) + " ticks exceeds the format's " +
                          std::to_string(kMaxDelta));
    put_vlq(data, static_cast<uint32_t>(delta));
    now = tick;
  };
  for (const Event& e : events) {
    put_delta(e.tick);
    data += e.bytes;
  }
  put_delta(std::max(end_tick, now));
  data += meta(0x2F, "");
  std::string chunk = "MTrk";
  put_u32(chunk, static_cast<uint32_t>(data.size()));
  return chunk + data;
}

std::string time_signature(const Meter& m) {
  int exponent = 0;
  while ((1 << exponent) < m.denominator && exponent < 7) ++exponent;
  if (m.numerator < 1 || m.numerator > 255 || (1 << exponent) != m.denominator || exponent > 6)
    throw EncodingError("cannot write MIDI: meter " + m.name() +
                        " has no MIDI time signature (numerator 1..255, denominator a power of two up to 64)");
  int clocks = 96 / m.denominator * (m.is_compound() ? 3 : 1);  // MIDI clocks per beat
  return meta(0x58, std::string{static_cast<char>(m.numerator), static_cast<char>(exponent),
                                static_cast<char>(std::max(clocks, 1)), 8});
}

std::string key_signature(const Key& k) {
  if (k.fifths < -7 || k.fifths > 7)
    throw EncodingError("cannot write MIDI: key signature of " + std::to_string(k.fifths) + " fifths");
  bool minor = k.mode == Mode::minor || k.mode == Mode::aeolian;
  return meta(0x59, std::string{static_cast<char>(static_cast<int8_t>(k.fifths)), static_cast<char>(minor ? 1 : 0)});
}

}  // namespace

std::string write_midi(const Melody& melody) {
  if (!(melody.tempo_qpm > 0))
    throw EncodingError("cannot write MIDI: tempo " + std::to_string(melody.tempo_qpm) + " qpm is not positive");
  int64_t us = midi::microseconds_from_qpm(melody.tempo_qpm);
  if (us < 1 || us > 0xFFFFFF)
    throw EncodingError("cannot write MIDI: tempo " + std::to_string(melody.tempo_qpm) +
                        " qpm is outside what a MIDI tempo can hold (about 3.58 qpm and up)");

  // A pickup is written as the end of a first bar that starts with silence, so the file's bar lines fall
  // where the melody's do; the reader turns the partial first bar back into the pickup.
  int64_t offset = 0;
  const Meter& first_meter = melody.meter_at(0);
  if (melody.pickup > Rational(0) && first_meter.kind == MeterKind::regular && melody.pickup < first_meter.bar_length())
    offset = to_ticks(first_meter.bar_length() - melody.pickup, "the pickup's complement in the first bar");
  auto place = [&](const Rational& onset, const std::string& what) {
    return onset.is_zero() ? int64_t{0} : to_ticks(onset, what) + offset;
  };

  std::vector<Event> conductor;
  conductor.push_back({0, meta(0x03, melody.title)});
  std::string tempo = meta(0x51, std::string{static_cast<char>((us >> 16) & 0xFF), static_cast<char>((us >> 8) & 0xFF),
                                             static_cast<char>(us & 0xFF)});
  conductor.push_back({0, tempo});
  for (const auto& m : melody.meters) {
    // Irregular and free meters have no MIDI time signature: nothing is written for them.
    if (m.value.kind != MeterKind::regular) continue;
    conductor.push_back({place(m.onset, "meter change at " + m.onset.to_string()), time_signature(m.value)});
  }
  for (const auto& k : melody.keys)
    conductor.push_back({place(k.onset, "key change at " + k.onset.to_string()), key_signature(k.value)});

  std::vector<Event> notes;
  int64_t end = offset;
  for (size_t i = 0; i < melody.notes.size(); ++i) {
    const Note& n = melody.notes[i];
    std::string what = "note " + std::to_string(i) + " at onset " + n.onset.to_string();
    if (n.duration <= Rational(0)) throw EncodingError("cannot write MIDI: " + what + " has no positive duration");
    int64_t start = to_ticks(n.onset, what) + offset;
    int64_t stop = start + to_ticks(n.duration, what + ": duration " + n.duration.to_string());
    end = std::max(end, stop);
    if (n.is_rest()) continue;
    int pitch = n.pitch->midi;
    if (pitch < kMidiMin || pitch > kMidiMax)
      throw EncodingError("cannot write MIDI: " + what + " has pitch " + std::to_string(pitch) + " outside 0..127");
    notes.push_back({start, std::string{'\x90', static_cast<char>(pitch), static_cast<char>(kVelocity)}});
    notes.push_back({stop, std::string{'\x80', static_cast<char>(pitch), 0x40}});
  }

  std::string out = "MThd";
  put_u32(out, 6);
  put_u16(out, 1);  // format 1
  put_u16(out, 2);  // tracks
  put_u16(out, kTicksPerQuarter);
  out += track_chunk(std::move(conductor), end);
  out += track_chunk(std::move(notes), end);
  return out;
}

}  // namespace antiphon
