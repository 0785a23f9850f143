#pragma once
// Internals of the ABC 2.1 reader and writer: field parsers, the written event list of one tune and the
// expansion of repeats, endings and parts into the played order.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "antiphon/core/melody.h"

namespace antiphon::abc {

// A problem in one tune: where (byte offset in the file's text), a short countable reason and a message
// naming the offending token. Thrown to reject a tune; also collected as warnings.
struct Problem {
  size_t offset = 0;
  std::string reason;
  std::string message;
};

// Alteration per letter (C..B) that a key signature gives to notes without an accidental.
using Signature = std::array<int, 7>;

Signature signature_of(const Key& key);

struct KeyField {
  Key key;                // the key as written (tonic and mode); ignored when `none`
  Signature signature{};  // the alterations notes without accidentals take
  bool none = false;      // K:none (or empty): no signature, the key is estimated after reading
};

// Field value parsers. `offset` is the byte offset of `value` in the file, used in the Problem they throw.
// M: "6/8", "C", "C|", "none", "2+3/8". Throws Problem "bad meter".
Meter parse_meter(std::string_view value, size_t offset);
// L: "1/8" as a fraction of a whole note. Throws Problem "bad unit length".
Rational parse_unit_length(std::string_view value, size_t offset);
// K: tonic, mode, explicit accidentals, "exp", "none", "HP"/"Hp"; clef= and other parameters ignored.
// Throws Problem "bad key" (an unknown mode, more than 7 sharps or flats).
KeyField parse_key(std::string_view value, size_t offset);
// Q: "1/4=120", "120" (units of L per minute), "\"Allegro\" 1/4=120". Quarter notes per minute, or nullopt
// when the field names no speed.
std::optional<double> parse_tempo(std::string_view value, const Rational& unit_length);
// Header P: play order, e.g. "ABA", "A2B", "(AB)2C". nullopt when it is not a play order.
std::optional<std::vector<char>> parse_part_order(std::string_view value);

// Metadata name of an informational field letter ('C' -> "composer"); nullptr when the letter is not one.
const char* metadata_name(char letter);
// The field letter of a metadata name ("composer" -> 'C'); 0 when none.
char metadata_letter(std::string_view name);

// Removes a trailing % comment (an escaped \% stays, unescaped) and surrounding white space.
std::string clean_field_value(std::string_view value);

// One element of a tune as written, before repeats are expanded.
enum class EventKind : uint8_t { note, bar, ending, meter, key, part };

struct Event {
  EventKind kind = EventKind::note;
  size_t offset = 0;  // byte offset in the file's text
  // note or rest
  std::optional<Pitch> pitch;  // nullopt: rest
  Rational duration;           // quarters
  bool tie = false;            // tied to the next note
  // bar line
  bool repeat_end = false;    // :|
  bool repeat_start = false;  // |:
  bool section_end = false;   // || |] [|
  // ending ([1 |2 [1,3)
  uint64_t endings = 0;  // bit n: ending number n (1..63)
  // meter or key change
  Meter meter;
  KeyField key;
  // part label (body P:)
  char part = 0;
};

// The most notes a tune may expand to before it is rejected ("repeat expansion too long").
constexpr size_t kMaxPlayedNotes = 100000;

// Expands repeats, first/second (and later) endings and, when `part_order` is not empty, the header P: play
// order into the played order: indices into `events`, with the meter and key events in effect replayed
// where the music jumps. events[0] must be the initial meter and events[1] the initial key. Throws Problem
// "repeat expansion too long" past kMaxPlayedNotes notes ("tune too long" when nothing repeats); parts named
// in the order but absent from the body are reported in `warnings`.
std::vector<uint32_t> expand(const std::vector<Event>& events, const std::vector<char>& part_order,
                             size_t part_order_offset, std::vector<Problem>* warnings);

}  // namespace antiphon::abc
