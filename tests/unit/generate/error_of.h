#pragma once
// The message of the ConfigError a call throws, or "(no ConfigError)": for checking what errors name.
#include <string>

#include "antiphon/core/error.h"

namespace antiphon::testing_support {

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

}  // namespace antiphon::testing_support
