// PrivacyFilter: what the server does with personal data in request text
// (`--privacy`, SPEC.md):
//   off     nothing is analysed
//   log     (default) text is analysed only to count PII by type; request
//           text is never logged, logs carry only counts
//   redact  PII is replaced by its type ("<EMAIL_ADDRESS>") before
//           tokenisation, so the model never sees it
//   block   a request containing PII of the configured types is refused (422)
//
// Thread safety: Scan() may be called from any number of threads; each call
// borrows its own Hyperscan scratch from a pool.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "privacy/analyzer.h"
#include "privacy/anonymizer.h"
#include "privacy/entity.h"

namespace mg::serve {

enum class PrivacyMode { kOff, kLog, kRedact, kBlock };

// "off", "log", "redact" or "block".
Result<PrivacyMode> ParsePrivacyMode(std::string_view name);
std::string_view PrivacyModeName(PrivacyMode mode);

using PiiCounts = std::array<uint32_t, privacy::kEntityTypeCount>;

class PrivacyFilter {
 public:
  // `entities`: the types looked for (empty: every type).
  static Result<std::unique_ptr<PrivacyFilter>> Create(PrivacyMode mode,
                                                       std::vector<privacy::EntityType> entities);
  ~PrivacyFilter();

  PrivacyMode mode() const { return mode_; }

  // Counts the PII in `*text` into `*counts` and, in redact mode, replaces
  // it. Returns the number of findings.
  Result<size_t> Scan(std::string* text, PiiCounts* counts) const;

 private:
  PrivacyFilter() = default;
  std::unique_ptr<privacy::AnalyzerScratch> Borrow() const;
  void Return(std::unique_ptr<privacy::AnalyzerScratch> scratch) const;

  PrivacyMode mode_ = PrivacyMode::kLog;
  std::unique_ptr<privacy::Analyzer> analyzer_;
  std::unique_ptr<privacy::Anonymizer> anonymizer_;
  mutable std::mutex mutex_;
  mutable std::vector<std::unique_ptr<privacy::AnalyzerScratch>> scratches_;  // guarded by mutex_
};

}  // namespace mg::serve
