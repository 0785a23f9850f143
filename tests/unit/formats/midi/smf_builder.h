#pragma once
// Builds Standard MIDI File bytes by hand for the tests: every byte is spelled out here, so a test reads
// as the file it feeds to the reader.
#include <cstdint>
#include <initializer_list>
#include <string>

namespace midi_test {

inline std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s += static_cast<char>(v);
  return s;
}

inline std::string vlq(uint32_t v) {
  std::string rev(1, static_cast<char>(v & 0x7F));
  while ((v >>= 7) != 0) rev += static_cast<char>(0x80 | (v & 0x7F));
  return std::string(rev.rbegin(), rev.rend());
}

inline std::string u16(uint32_t v) { return bytes({static_cast<int>((v >> 8) & 0xFF), static_cast<int>(v & 0xFF)}); }
inline std::string u32(uint32_t v) { return u16(v >> 16) + u16(v & 0xFFFF); }

inline std::string header(int format, int tracks, int division) {
  return "MThd" + u32(6) + u16(format) + u16(tracks) + u16(division);
}
inline std::string chunk(const std::string& id, const std::string& data) { return id + u32(data.size()) + data; }
inline std::string track(const std::string& events) { return chunk("MTrk", events); }

// Events, each with its delta time in ticks.
inline std::string on(uint32_t delta, int channel, int pitch, int velocity = 100) {
  return vlq(delta) + bytes({0x90 | channel, pitch, velocity});
}
inline std::string off(uint32_t delta, int channel, int pitch) {
  return vlq(delta) + bytes({0x80 | channel, pitch, 64});
}
inline std::string program(uint32_t delta, int channel, int number) {
  return vlq(delta) + bytes({0xC0 | channel, number});
}
inline std::string meta(uint32_t delta, int type, const std::string& data) {
  return vlq(delta) + bytes({0xFF, type}) + vlq(data.size()) + data;
}
inline std::string end_of_track(uint32_t delta = 0) { return meta(delta, 0x2F, ""); }
inline std::string tempo(uint32_t delta, uint32_t microseconds) {
  return meta(delta, 0x51,
              bytes({static_cast<int>(microseconds >> 16), static_cast<int>((microseconds >> 8) & 0xFF),
                     static_cast<int>(microseconds & 0xFF)}));
}
inline std::string time_signature(uint32_t delta, int numerator, int denominator_power) {
  return meta(delta, 0x58, bytes({numerator, denominator_power, 24, 8}));
}
inline std::string key_signature(uint32_t delta, int fifths, int minor) {
  return meta(delta, 0x59, bytes({fifths & 0xFF, minor}));
}
inline std::string track_name(uint32_t delta, const std::string& name) { return meta(delta, 0x03, name); }

// A note of `length` ticks starting `delta` ticks after the previous event.
inline std::string note(uint32_t delta, int channel, int pitch, uint32_t length) {
  return on(delta, channel, pitch) + off(length, channel, pitch);
}

}  // namespace midi_test

#include <filesystem>

#include "antiphon/core/text.h"

namespace midi_test {

inline std::filesystem::path fixture_path(const std::string& name) {
  return std::filesystem::path(ANTIPHON_FIXTURES) / "midi" / name;
}
inline std::string fixture(const std::string& name) { return antiphon::read_file_bytes(fixture_path(name)); }

}  // namespace midi_test
