// PLACEHOLDER until the corpus module lands (replaced in the same change).
#include "antiphon/corpus/corpus.h"
