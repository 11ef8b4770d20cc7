// LineRedactor: anonymises a data set one line at a time, the core of
// `modelgate redact` (and of any streaming job): a text line is rewritten
// whole; a JSON-lines record has one string member rewritten and every other
// byte kept. Counts what it replaced per entity type (counts only; values
// are never kept).
//
// In text mode a private-key PEM block spans lines: after a BEGIN line
// without its END, the following lines up to the END line are SECRET too.
//
// Not thread-safe: it holds a per-thread AnalyzerScratch and the PEM state;
// use one LineRedactor per thread (the Analyzer and Anonymizer are shared).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "privacy/analyzer.h"
#include "privacy/anonymizer.h"

namespace mg::privacy {

struct RedactionCounts {
  std::array<uint64_t, kEntityTypeCount> by_type{};
  uint64_t decrypted = 0;  // <ENC:...> tokens restored
  uint64_t Total() const;
};

class LineRedactor {
 public:
  // `analyzer` and `anonymizer` must outlive the redactor.
  static Result<std::unique_ptr<LineRedactor>> Create(const Analyzer& analyzer,
                                                      const Anonymizer& anonymizer);

  // Anonymises a line of text (without its line break) into `*out`.
  Status RedactText(std::string_view line, std::string* out);

  // Anonymises member `field` of a JSON object line into `*out`. Blank lines
  // are copied. Fails on invalid JSON or a missing string member.
  Status RedactJsonLine(std::string_view line, std::string_view field, std::string* out);

  // The inverse of the encrypt operator, for a text line or a JSON line.
  Status DecryptText(std::string_view line, std::string* out);
  Status DecryptJsonLine(std::string_view line, std::string_view field, std::string* out);

  const RedactionCounts& counts() const { return counts_; }

 private:
  LineRedactor(const Analyzer& analyzer, const Anonymizer& anonymizer,
               std::unique_ptr<AnalyzerScratch> scratch)
      : analyzer_(analyzer), anonymizer_(anonymizer), scratch_(std::move(scratch)) {}
  Result<std::string> Redact(std::string_view text, bool text_mode);

  const Analyzer& analyzer_;
  const Anonymizer& anonymizer_;
  std::unique_ptr<AnalyzerScratch> scratch_;
  RedactionCounts counts_;
  bool in_private_key_ = false;
};

}  // namespace mg::privacy
