// Analyzer: finds PII in text. The public entry point of detection:
//
//   auto analyzer = Analyzer::Create({.entities = {...}, .threshold = 0.5});
//   auto scratch = (*analyzer)->NewScratch();           // one per thread
//   auto findings = (*analyzer)->Analyze(text, scratch->get());
//
// Text is normalised (normalizer.h), scanned once by all pattern detectors
// (pattern_scanner.h), optionally passed to model-based recognizers
// (recognizer.h); findings below the threshold or of types not asked for are
// dropped, overlaps are resolved (overlap.h), and spans are byte offsets into
// the original text, widened over the invisible characters that touch them.
//
// Thread safety: an Analyzer is immutable after Create() and may be shared by
// any number of threads (a server creates one). Each thread passes its own
// AnalyzerScratch, which holds the Hyperscan scratch space and buffers and
// must not be used by two threads at once.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "privacy/entity.h"
#include "privacy/recognizer.h"

namespace mg::privacy {

class PatternScanner;

struct AnalyzerOptions {
  std::vector<EntityType> entities;  // empty: every type
  float threshold = 0.5f;            // findings need score >= threshold
};

class AnalyzerScratch {
 public:
  ~AnalyzerScratch();
  AnalyzerScratch(const AnalyzerScratch&) = delete;
  AnalyzerScratch& operator=(const AnalyzerScratch&) = delete;

 private:
  friend class Analyzer;
  struct State;
  explicit AnalyzerScratch(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

class Analyzer {
 public:
  // Fails with InvalidArgument for a threshold outside [0, 1], or when the
  // CPU cannot run Hyperscan.
  static Result<std::unique_ptr<Analyzer>> Create(
      AnalyzerOptions options = {}, std::vector<std::unique_ptr<Recognizer>> recognizers = {});
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  Result<std::unique_ptr<AnalyzerScratch>> NewScratch() const;

  // Findings in `text` (any bytes; invalid UTF-8 is tolerated), ordered by
  // begin and non-overlapping. Fails only for text of 4 GiB or more or when
  // a recognizer fails.
  Result<std::vector<Finding>> Analyze(std::string_view text, AnalyzerScratch* scratch) const;

  const AnalyzerOptions& options() const { return options_; }

 private:
  Analyzer() = default;
  bool Wanted(EntityType type) const { return wanted_[static_cast<size_t>(type)]; }

  AnalyzerOptions options_;
  bool wanted_[kEntityTypeCount] = {};
  std::unique_ptr<PatternScanner> scanner_;
  std::vector<std::unique_ptr<Recognizer>> recognizers_;
};

}  // namespace mg::privacy
