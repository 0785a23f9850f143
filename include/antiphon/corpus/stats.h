#pragma once
// Summary statistics of a loaded corpus (what `antiphon stats` prints and the server will serve).
#include <cstdint>
#include <map>
#include <string>

#include "antiphon/corpus/corpus.h"

namespace antiphon {

struct CorpusStats {
  size_t melodies = 0;
  size_t notes = 0;   // pitched notes
  size_t rests = 0;
  int pitch_min = 0;  // over all pitched notes; 0/0 when there are none
  int pitch_max = 0;
  Rational total_length;                        // quarters, summed over melodies
  std::map<std::string, size_t> meters;         // first meter of each melody ("6/8", "free")
  size_t meter_changes = 0;                     // melodies with more than one meter
  std::map<std::string, size_t> keys;           // first key of each melody ("G major")
  size_t keys_estimated = 0;                    // melodies whose key was estimated
  std::map<Rational, size_t> durations;         // note and rest durations in quarters
  size_t with_pickup = 0;
  std::map<std::string, size_t> rejected_by_reason;
  std::map<std::string, size_t> warnings_by_reason;
  std::map<std::string, size_t> filtered_by_reason;
};

CorpusStats summarize(const Corpus& corpus);

}  // namespace antiphon
