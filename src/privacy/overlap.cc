#include "privacy/overlap.h"

#include <algorithm>
#include <map>

namespace mg::privacy {

std::vector<Finding> ResolveOverlaps(std::vector<Finding> findings) {
  // Usually nothing overlaps: then ordering by begin is all there is to do.
  std::sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  bool overlap = false;
  for (size_t index = 1; index < findings.size() && !overlap; ++index) {
    overlap = findings[index].begin < findings[index - 1].end;
  }
  bool empty = false;
  for (const Finding& finding : findings) empty = empty || finding.end <= finding.begin;
  if (!overlap && !empty) return findings;
  std::sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.size() != b.size()) return a.size() > b.size();
    if (a.begin != b.begin) return a.begin < b.begin;
    return a.type < b.type;
  });
  std::map<size_t, const Finding*> chosen;  // by begin
  for (const Finding& finding : findings) {
    if (finding.end <= finding.begin) continue;
    auto next = chosen.lower_bound(finding.begin);
    if (next != chosen.end() && next->second->begin < finding.end) continue;
    if (next != chosen.begin() && std::prev(next)->second->end > finding.begin) continue;
    chosen.emplace(finding.begin, &finding);
  }
  std::vector<Finding> result;
  result.reserve(chosen.size());
  for (const auto& [begin, finding] : chosen) result.push_back(*finding);
  return result;
}

}  // namespace mg::privacy
