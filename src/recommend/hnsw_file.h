// Checks an hnswlib index file (HierarchicalNSW::saveIndex, hnswlib 0.6)
// before hnswlib's loader sees it. That loader trusts its input: a wrong
// count or neighbour id in the file becomes an out-of-bounds read later. So
// every header field, every link list and every neighbour id is checked here
// against what the catalogue expects.
//
// Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace mg::recommend {

struct HnswFileExpectation {
  size_t dim = 0;       // floats per vector
  size_t elements = 0;  // slots (internal ids 0..elements-1, label == id)
  size_t m = 0;         // the M the index was built with
};

// Returns Corruption naming what is wrong, or OK. On success `deleted` (when
// not null) holds, per element, whether it is marked deleted.
Status CheckHnswFile(std::string_view bytes, const HnswFileExpectation& expect,
                     std::vector<bool>* deleted);

}  // namespace mg::recommend
