#pragma once
// Shared by the HMM algorithms and the `hmm` family.
#include <string>

namespace antiphon::hmm_detail {

// Text that reads back as the same double: the shortest plain decimal ("0.0001", "-12345.678"), or the
// shortest form with an exponent when the plain one would be long ("1e-300").
std::string number(double v);

}  // namespace antiphon::hmm_detail
