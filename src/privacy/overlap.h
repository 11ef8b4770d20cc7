// Overlap resolution: when findings overlap, the one with the higher score
// wins; on equal scores the longer span; then the earlier span; then the
// lower entity type. Losers are dropped, not trimmed.
//
// Pure function; thread-safe.
#pragma once

#include <vector>

#include "privacy/entity.h"

namespace mg::privacy {

// Returns the winners, non-overlapping and ordered by begin.
std::vector<Finding> ResolveOverlaps(std::vector<Finding> findings);

}  // namespace mg::privacy
