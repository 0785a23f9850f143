#pragma once
// The families compiled into antiphon_models, one function per family (defined in its folder).
#include "antiphon/models/registry.h"

namespace antiphon {

ModelFamily markov_family();        // markov/markov.cpp
ModelFamily mixed_markov_family();  // markov/mixed.cpp
ModelFamily ppm_family();           // markov/ppm_model.cpp
ModelFamily hmm_family();           // hmm/hmm.cpp

}  // namespace antiphon
