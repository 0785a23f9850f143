#include "formats/midi/extract.h"

#include <utf8.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <utility>

#include "antiphon/core/transform.h"

namespace antiphon::midi {
namespace {

constexpr int kDrumChannel = 9;  // MIDI channel 10, counted from 0
constexpr int kChannels = 16;

int mod(int a, int m) { return ((a % m) + m) % m; }

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Text from a meta event as UTF-8: kept when valid UTF-8, else read as Latin-1; control characters
// dropped, surrounding spaces trimmed.
std::string meta_text(std::string_view bytes) {
  std::string s;
  if (utf8::is_valid(bytes.begin(), bytes.end())) {
    for (char c : bytes)
      if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) s += c;
  } else {
    for (char c : bytes) {
      auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || (u >= 0x7F && u < 0xA0)) continue;
      if (u < 0x80) {
        s += c;
      } else {
        s += static_cast<char>(0xC0 | (u >> 6));
        s += static_cast<char>(0x80 | (u & 0x3F));
      }
    }
  }
  size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(' ');
  return s.substr(b, e - b + 1);
}

// A note with its times in ticks, after pairing note-on with note-off.
struct TickNote {
  uint64_t start = 0;
  uint64_t end = 0;
  int pitch = 0;
};

// A note on the step grid.
struct StepNote {
  int64_t start = 0;
  int64_t end = 0;
  int pitch = 0;
};

// Pairs note-ons with note-offs first in, first out per (channel, pitch). The queues are reused from
// track to track, so a file with many tracks costs no per-track allocation of the 2048 queues.
class NotePairer {
 public:
  NotePairer() : queues_(kChannels * 128), heads_(kChannels * 128, 0) {}

  struct Counts {
    int unclosed = 0;       // note-ons still sounding at the end of the track
    int unmatched_off = 0;  // note-offs with no sounding note
  };

  Counts pair(const SmfTrack& track, std::array<std::vector<TickNote>, kChannels>& out) {
    Counts counts;
    for (const ChannelEvent& e : track.channel_events) {
      if (e.kind == ChannelEventKind::program_change) continue;
      size_t key = static_cast<size_t>(e.channel) * 128 + e.data1;
      std::vector<size_t>& q = queues_[key];
      if (e.kind == ChannelEventKind::note_on) {
        if (q.empty()) touched_.push_back(key);
        q.push_back(out[e.channel].size());
        out[e.channel].push_back({e.tick, e.tick, e.data1});
      } else if (heads_[key] < q.size()) {
        out[e.channel][q[heads_[key]++]].end = e.tick;
        if (heads_[key] == q.size()) {
          q.clear();
          heads_[key] = 0;
        }
      } else {
        ++counts.unmatched_off;
      }
    }
    for (size_t key : touched_) {
      std::vector<size_t>& q = queues_[key];
      int channel = static_cast<int>(key / 128);
      for (size_t i = heads_[key]; i < q.size(); ++i) {
        out[channel][q[i]].end = track.end_tick;
        ++counts.unclosed;
      }
      q.clear();
      heads_[key] = 0;
    }
    touched_.clear();
    return counts;
  }

 private:
  std::vector<std::vector<size_t>> queues_;  // indices into the channel's note list
  std::vector<size_t> heads_;
  std::vector<size_t> touched_;
};

// Tempo, time and key signatures in effect, from the conductor and other tracks (formats 0 and 1) or
// from one track (format 2), in time order.
struct Timeline {
  std::vector<std::pair<uint64_t, Meter>> meters;
  std::vector<std::pair<uint64_t, Key>> keys;
  std::vector<std::pair<uint64_t, uint32_t>> tempos;  // microseconds per quarter
};

Timeline build_timeline(const SmfFile& smf, const std::vector<size_t>& track_indices, const std::string& file,
                        std::vector<Diagnostic>& warnings) {
  std::vector<const MetaEvent*> events;
  for (size_t t : track_indices)
    for (const MetaEvent& e : smf.tracks[t].meta_events) events.push_back(&e);
  std::stable_sort(events.begin(), events.end(),
                   [](const MetaEvent* a, const MetaEvent* b) { return a->tick < b->tick; });

  Timeline tl;
  int bad = 0;
  std::optional<Diagnostic> first_bad;
  auto reject = [&](const MetaEvent& e, const std::string& what) {
    if (bad++ == 0) first_bad = Diagnostic{file, 0, static_cast<int>(e.offset), "bad meta event", what};
  };
  for (const MetaEvent* e : events) {
    const std::string_view d = e->data;
    auto byte = [&](size_t i) { return static_cast<uint8_t>(d[i]); };
    switch (e->type) {
      case kMetaTempo: {
        if (d.size() < 3) {
          reject(*e, "tempo event with " + std::to_string(d.size()) + " data bytes, expected 3");
          break;
        }
        uint32_t us = (uint32_t{byte(0)} << 16) | (uint32_t{byte(1)} << 8) | byte(2);
        if (us == 0) {
          reject(*e, "tempo of 0 microseconds per quarter");
          break;
        }
        tl.tempos.emplace_back(e->tick, us);
        break;
      }
      case kMetaTimeSignature: {
        if (d.size() < 2) {
          reject(*e, "time signature with " + std::to_string(d.size()) + " data bytes, expected 4");
          break;
        }
        if (byte(0) == 0 || byte(1) > 6) {
          reject(*e, "time signature " + std::to_string(byte(0)) + "/2^" + std::to_string(byte(1)));
          break;
        }
        tl.meters.emplace_back(e->tick, Meter{MeterKind::regular, byte(0), 1 << byte(1)});
        break;
      }
      case kMetaKeySignature: {
        if (d.size() < 2) {
          reject(*e, "key signature with " + std::to_string(d.size()) + " data bytes, expected 2");
          break;
        }
        int sf = static_cast<int8_t>(byte(0));
        if (sf < -7 || sf > 7 || byte(1) > 1) {
          reject(*e, "key signature sf=" + std::to_string(sf) + " mi=" + std::to_string(byte(1)));
          break;
        }
        tl.keys.emplace_back(e->tick, Key{sf, byte(1) == 1 ? Mode::minor : Mode::major, false});
        break;
      }
      default:
        break;
    }
  }
  if (first_bad) {
    first_bad->message = "ignored " + std::to_string(bad) + " bad meta event" + (bad == 1 ? "" : "s") +
                         " (first: " + first_bad->message + ")";
    warnings.push_back(*first_bad);
  }
  int changes = 0;
  for (size_t i = 1; i < tl.tempos.size(); ++i)
    if (tl.tempos[i].second != tl.tempos[i - 1].second) ++changes;
  if (changes > 0)
    warnings.push_back({file, 0, static_cast<int>(events.empty() ? 0 : events.front()->offset), "tempo changes",
                        "ignored " + std::to_string(changes) + " tempo change" + (changes == 1 ? "" : "s") +
                            " (kept the first tempo, " + fixed(qpm_from_microseconds(tl.tempos[0].second), 2) +
                            " qpm)"});
  return tl;
}

// Rounds ticks to the nearest step (halves up), as Magenta's quantization with cutoff 0.5.
class Quantizer {
 public:
  Quantizer(int ticks_per_quarter, int steps_per_quarter)
      : tpq_(static_cast<uint64_t>(ticks_per_quarter)), spq_(static_cast<uint64_t>(steps_per_quarter)) {}
  int64_t step(uint64_t tick) const { return static_cast<int64_t>((2 * tick * spq_ + tpq_) / (2 * tpq_)); }
  // Step of a note time, recording how far it moved (in steps).
  int64_t note_step(uint64_t tick) {
    int64_t s = step(tick);
    double err = std::fabs(static_cast<double>(tick * spq_) / static_cast<double>(tpq_) - static_cast<double>(s));
    error_sum_ += err;
    error_max_ = std::max(error_max_, err);
    ++times_;
    return s;
  }
  double error_mean() const { return times_ == 0 ? 0.0 : error_sum_ / static_cast<double>(times_); }
  double error_max() const { return error_max_; }
  size_t times() const { return times_; }

 private:
  uint64_t tpq_;
  uint64_t spq_;
  double error_sum_ = 0;
  double error_max_ = 0;
  size_t times_ = 0;
};

struct Candidate {
  size_t track = 0;
  int channel = 0;
  bool split = false;  // the track mixes channels; this is one of them
  std::string track_label;
  std::vector<TickNote> notes;
  int program = 0;
};

std::string describe(const Candidate& c) {
  std::string s = "track " + std::to_string(c.track);
  if (c.track_label != s) s += " (" + c.track_label + ")";
  if (c.split) s += " channel " + std::to_string(c.channel);
  return s;
}

// The pickup in steps for a melody whose first note is at step x: the distance to the next bar line when
// x lies inside a bar, 0 when x is on a bar line. Each time signature starts a new bar.
Rational pickup_steps(const std::vector<std::pair<int64_t, Meter>>& segments, int64_t x, int spq) {
  size_t i = 0;
  while (i + 1 < segments.size() && segments[i + 1].first <= x) ++i;
  Rational bar = segments[i].second.bar_length() * Rational(spq);
  Rational into = Rational(x - segments[i].first);
  Rational bar_start = Rational(segments[i].first) + bar * Rational(floor_div(into, bar));
  if (bar_start == Rational(x)) return Rational(0);
  Rational next = bar_start + bar;
  if (i + 1 < segments.size() && next > Rational(segments[i + 1].first)) next = Rational(segments[i + 1].first);
  return next - Rational(x);
}

// Places timed values (meters or keys) on the melody's time: quantized, shifted so the first note is at 0,
// values before the first note collapsed onto 0, values at or after the end dropped, repeats merged.
template <typename T>
std::vector<Timed<T>> place_on_melody(const std::vector<std::pair<int64_t, T>>& by_step, int64_t first_step,
                                      const Rational& length, int spq) {
  std::vector<Timed<T>> out;
  for (const auto& [step, value] : by_step) {
    Rational onset = step <= first_step ? Rational(0) : Rational(step - first_step, spq);
    if (onset > Rational(0) && onset >= length) break;
    if (!out.empty() && out.back().onset == onset) {
      out.back().value = value;
    } else {
      out.push_back({onset, value});
    }
  }
  std::vector<Timed<T>> merged;
  for (const auto& t : out)
    if (merged.empty() || !(merged.back().value == t.value)) merged.push_back(t);
  return merged;
}

struct FileCounts {
  int lengthened = 0;
};

// Extracts the melody of one candidate, or says why it is dropped.
void extract_one(const Candidate& c, const Timeline& tl, const SmfFile& smf, const std::string& file,
                 const MidiReadOptions& options, Quantizer& quantizer, FileCounts& counts, ReadResult& result) {
  const int spq = options.steps_per_quarter;
  const int column = static_cast<int>(smf.tracks[c.track].offset);
  auto reject = [&](const std::string& reason, const std::string& detail) {
    result.rejected.push_back({file, 0, column, reason, describe(c) + ": " + detail});
  };

  std::vector<StepNote> notes;
  notes.reserve(c.notes.size());
  for (const TickNote& n : c.notes) {
    StepNote s{quantizer.note_step(n.start), quantizer.note_step(n.end), n.pitch};
    if (s.end <= s.start) {
      s.end = s.start + 1;
      ++counts.lengthened;
    }
    notes.push_back(s);
  }
  std::stable_sort(notes.begin(), notes.end(), [](const StepNote& a, const StepNote& b) {
    return a.start != b.start ? a.start < b.start : a.pitch > b.pitch;
  });

  // Simultaneous onsets: the first of each onset is the highest.
  std::vector<StepNote> kept;
  int chords = 0;  // onsets with more than one note
  bool counted = false;
  for (const StepNote& n : notes) {
    if (!kept.empty() && kept.back().start == n.start) {
      if (!counted) ++chords;
      counted = true;
      continue;
    }
    kept.push_back(n);
    counted = false;
  }
  if (chords > 0 && options.drop_polyphonic_tracks) {
    reject("polyphonic track", std::to_string(chords) + " simultaneous onset" + (chords == 1 ? "" : "s"));
    return;
  }
  int cut = 0;
  for (size_t i = 0; i + 1 < kept.size(); ++i) {
    if (kept[i].end > kept[i + 1].start) {
      kept[i].end = kept[i + 1].start;
      ++cut;
    }
  }
  if (kept.size() < static_cast<size_t>(options.min_notes)) {
    reject("too few notes", std::to_string(kept.size()) + " note" + (kept.size() == 1 ? "" : "s") +
                                ", fewer than the minimum " + std::to_string(options.min_notes));
    return;
  }

  Melody m;
  const int64_t first = kept.front().start;
  int64_t now = first;
  for (const StepNote& n : kept) {
    if (n.start > now) m.append(std::nullopt, Rational(n.start - now, spq));
    m.append(Pitch::from_midi(n.pitch), Rational(n.end - n.start, spq));
    now = n.end;
  }

  Quantizer grid(smf.ticks_per_quarter, spq);
  std::vector<std::pair<int64_t, Meter>> segments{{0, Meter{}}};
  for (const auto& [tick, meter] : tl.meters) {
    int64_t s = grid.step(tick);
    if (segments.back().first == s) {
      segments.back().second = meter;
    } else {
      segments.emplace_back(s, meter);
    }
  }
  m.pickup = pickup_steps(segments, first, spq) / Rational(spq);
  m.meters = place_on_melody(segments, first, m.length(), spq);

  std::vector<std::pair<int64_t, Key>> keys;
  for (const auto& [tick, key] : tl.keys) keys.emplace_back(grid.step(tick), key);
  m.keys = place_on_melody(keys, first, m.length(), spq);
  if (!m.keys.empty()) {
    m.keys.front().onset = Rational(0);  // a key signature that comes late still names the key
  } else {
    m.keys.push_back({Rational(0), estimate_key(m)});
  }
  for (Note& n : m.notes)
    if (n.pitch) n.pitch = spell_in_key(n.pitch->midi, m.key_at(n.onset));
  if (!tl.tempos.empty()) m.tempo_qpm = qpm_from_microseconds(tl.tempos.front().second);

  m.source_file = file;
  m.source_index = static_cast<int>(c.track);
  m.metadata = {
      {"track", c.track_label}, {"program", std::to_string(c.program)}, {"channel", std::to_string(c.channel)}};
  // The title is set once the number of melodies in the file is known.
  m.title = c.track_label + (c.split ? " ch " + std::to_string(c.channel) : "");

  if (chords > 0)
    result.warnings.push_back({file, 0, column, "chords reduced",
                               describe(c) + ": reduced " + std::to_string(chords) + " chord" +
                                   (chords == 1 ? " to its top note" : "s to their top note")});
  if (cut > 0)
    result.warnings.push_back({file, 0, column, "overlaps cut",
                               describe(c) + ": cut " + std::to_string(cut) + " overlapping note" +
                                   (cut == 1 ? "" : "s") + " at the next onset"});
  result.melodies.push_back(std::move(m));
}

}  // namespace

Pitch spell_in_key(int midi, const Key& key) {
  int pc = mod(midi, 12);
  for (int l = 0; l < 7; ++l) {
    auto letter = static_cast<Letter>(l);
    int alter = key.signature_alter(letter);
    if (mod(letter_pitch_class(letter) + alter, 12) == pc) return Pitch{midi, letter, alter};
  }
  return Pitch::from_midi(midi, key.fifths >= 0);
}

int64_t microseconds_from_qpm(double qpm) { return std::llround(60e6 / qpm); }

double qpm_from_microseconds(uint32_t microseconds) {
  double exact = 60e6 / static_cast<double>(microseconds);
  for (double scale : {1.0, 10.0, 100.0, 1000.0}) {
    double candidate = std::round(exact * scale) / scale;
    if (candidate > 0 && microseconds_from_qpm(candidate) == static_cast<int64_t>(microseconds)) return candidate;
  }
  return exact;
}

ReadResult extract_melodies(const SmfFile& smf, const std::string& file, const MidiReadOptions& options) {
  options.validate();
  ReadResult result;
  result.warnings = smf.warnings;

  std::vector<size_t> all_tracks(smf.tracks.size());
  for (size_t i = 0; i < all_tracks.size(); ++i) all_tracks[i] = i;
  // Formats 0 and 1 share one timeline; in format 2 each track is a sequence of its own.
  std::optional<Timeline> shared;
  if (smf.format != 2) shared = build_timeline(smf, all_tracks, file, result.warnings);

  NotePairer pairer;
  NotePairer::Counts pairing;
  std::array<std::vector<TickNote>, kChannels> by_channel;
  std::vector<Candidate> candidates;
  // Programs per channel from any track, for tracks that set no program of their own.
  std::array<int, kChannels> any_program;
  any_program.fill(-1);
  for (const SmfTrack& t : smf.tracks)
    for (const ChannelEvent& e : t.channel_events)
      if (e.kind == ChannelEventKind::program_change && any_program[e.channel] < 0) any_program[e.channel] = e.data1;

  for (size_t ti = 0; ti < smf.tracks.size(); ++ti) {
    const SmfTrack& track = smf.tracks[ti];
    for (auto& v : by_channel) v.clear();
    NotePairer::Counts counts = pairer.pair(track, by_channel);
    pairing.unclosed += counts.unclosed;
    pairing.unmatched_off += counts.unmatched_off;

    std::string name;
    for (const MetaEvent& e : track.meta_events)
      if (e.type == kMetaTrackName) {
        name = meta_text(e.data);
        break;
      }
    std::string label = name.empty() ? "track " + std::to_string(ti) : name;
    int channels =
        static_cast<int>(std::count_if(by_channel.begin(), by_channel.end(), [](const auto& v) { return !v.empty(); }));
    if (channels == 0) {
      // A track of meta events only (a conductor track) is no melody candidate; one with channel events
      // but no notes is an empty instrument track.
      if (track.has_channel_events) {
        Candidate c{ti, 0, false, label, {}, 0};
        result.rejected.push_back({file, 0, static_cast<int>(track.offset), "empty track", describe(c) + ": no notes"});
      }
      continue;
    }
    for (int ch = 0; ch < kChannels; ++ch) {
      if (by_channel[ch].empty()) continue;
      Candidate c{ti, ch, channels > 1, label, std::move(by_channel[ch]), 0};
      by_channel[ch] = {};
      if (ch == kDrumChannel) {
        result.rejected.push_back(
            {file, 0, static_cast<int>(track.offset), "drum track",
             describe(c) + ": drums (channel 9, MIDI channel 10), " + std::to_string(c.notes.size()) + " notes"});
        continue;
      }
      int program = -1;
      uint64_t first_note = c.notes.front().start;
      for (const ChannelEvent& e : track.channel_events) {
        if (e.kind != ChannelEventKind::program_change || e.channel != ch) continue;
        if (program < 0 || e.tick <= first_note) program = e.data1;
        if (e.tick > first_note) break;
      }
      c.program = program >= 0 ? program : std::max(any_program[ch], 0);
      candidates.push_back(std::move(c));
    }
  }

  Quantizer quantizer(smf.ticks_per_quarter, options.steps_per_quarter);
  FileCounts counts;
  for (const Candidate& c : candidates) {
    if (shared) {
      extract_one(c, *shared, smf, file, options, quantizer, counts, result);
    } else {
      Timeline own = build_timeline(smf, {c.track}, file, result.warnings);
      extract_one(c, own, smf, file, options, quantizer, counts, result);
    }
  }

  if (result.melodies.size() > 1) {
    std::string stem = std::filesystem::path(file).stem().string();
    for (Melody& m : result.melodies) m.title = stem + " [" + m.title + "]";
  } else {
    for (Melody& m : result.melodies) m.title = std::filesystem::path(file).stem().string();
  }
  if (result.melodies.empty() && result.rejected.empty())
    result.rejected.push_back({file, 0, 0, "empty track", "no track has notes"});

  if (quantizer.error_max() > 0)
    result.warnings.push_back({file, 0, 0, "quantization",
                               "quantization error mean " + fixed(quantizer.error_mean(), 3) + " max " +
                                   fixed(quantizer.error_max(), 3) + " steps (" + std::to_string(quantizer.times()) +
                                   " note times at " + std::to_string(options.steps_per_quarter) +
                                   " steps per quarter)"});
  if (counts.lengthened > 0)
    result.warnings.push_back({file, 0, 0, "short notes",
                               "lengthened " + std::to_string(counts.lengthened) + " note" +
                                   (counts.lengthened == 1 ? "" : "s") + " shorter than half a step to one step"});
  if (pairing.unclosed > 0)
    result.warnings.push_back({file, 0, 0, "unclosed notes",
                               "ended " + std::to_string(pairing.unclosed) + " note" +
                                   (pairing.unclosed == 1 ? "" : "s") + " left sounding at the end of the track"});
  if (pairing.unmatched_off > 0)
    result.warnings.push_back({file, 0, 0, "unmatched note-offs",
                               "ignored " + std::to_string(pairing.unmatched_off) + " note-off" +
                                   (pairing.unmatched_off == 1 ? "" : "s") + " with no sounding note"});
  return result;
}

}  // namespace antiphon::midi
