#pragma once
// MusicXML 4.0 partwise writer, so a melody opens in MuseScore and other notation programs.
#include <string>

#include "antiphon/core/melody.h"

namespace antiphon {

std::string write_musicxml(const Melody& melody);

}  // namespace antiphon
