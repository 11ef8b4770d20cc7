#include "privacy/analyzer.h"

#include <algorithm>

#include "privacy/detectors.h"
#include "privacy/normalizer.h"
#include "privacy/overlap.h"
#include "privacy/pattern_scanner.h"

namespace mg::privacy {

struct AnalyzerScratch::State {
  NormalizedText normalized;
  std::unique_ptr<ScanState> scan;
  std::vector<Candidate> candidates;
};

AnalyzerScratch::AnalyzerScratch(std::unique_ptr<State> state) : state_(std::move(state)) {}
AnalyzerScratch::~AnalyzerScratch() = default;

Analyzer::~Analyzer() = default;

Result<std::unique_ptr<Analyzer>> Analyzer::Create(
    AnalyzerOptions options, std::vector<std::unique_ptr<Recognizer>> recognizers) {
  if (!(options.threshold >= 0 && options.threshold <= 1)) {
    return InvalidArgumentError("threshold must be between 0 and 1");
  }
  std::unique_ptr<Analyzer> analyzer(new Analyzer());
  for (EntityType type : options.entities.empty() ? AllEntityTypes() : options.entities) {
    analyzer->wanted_[static_cast<size_t>(type)] = true;
  }
  std::vector<std::unique_ptr<Detector>> detectors;
  for (std::unique_ptr<Detector>& detector : BuiltInDetectors()) {
    if (analyzer->Wanted(detector->type())) detectors.push_back(std::move(detector));
  }
  MG_ASSIGN_OR_RETURN(analyzer->scanner_, PatternScanner::Create(std::move(detectors)));
  analyzer->options_ = std::move(options);
  analyzer->recognizers_ = std::move(recognizers);
  return analyzer;
}

Result<std::unique_ptr<AnalyzerScratch>> Analyzer::NewScratch() const {
  auto state = std::make_unique<AnalyzerScratch::State>();
  MG_ASSIGN_OR_RETURN(state->scan, scanner_->NewState());
  return std::unique_ptr<AnalyzerScratch>(new AnalyzerScratch(std::move(state)));
}

Result<std::vector<Finding>> Analyzer::Analyze(std::string_view text,
                                               AnalyzerScratch* scratch) const {
  if (text.size() >= (1ull << 32) - 1) return InvalidArgumentError("text of 4 GiB or more");
  AnalyzerScratch::State& state = *scratch->state_;
  state.normalized.Normalize(text);
  state.candidates.clear();
  MG_RETURN_IF_ERROR(scanner_->Scan(state.normalized.text(), state.scan.get(), &state.candidates));
  std::vector<Finding> findings;
  for (const Candidate& candidate : state.candidates) {
    if (candidate.score < options_.threshold || !Wanted(candidate.type)) continue;
    findings.push_back({candidate.type, state.normalized.OriginalBegin(candidate.begin),
                        state.normalized.OriginalEnd(candidate.end), candidate.score});
  }
  for (const std::unique_ptr<Recognizer>& recognizer : recognizers_) {
    std::vector<Finding> found;
    MG_RETURN_IF_ERROR(recognizer->Recognize(text, &found));
    for (const Finding& finding : found) {
      if (finding.score < options_.threshold || !Wanted(finding.type)) continue;
      if (finding.begin >= finding.end || finding.end > text.size()) continue;
      findings.push_back(finding);
    }
  }
  findings = ResolveOverlaps(std::move(findings));
  // Invisible characters touching a value go with it, so that replacing the
  // value leaves none of it behind; a run between two values goes to the
  // first.
  for (size_t index = 0; index < findings.size(); ++index) {
    Finding& finding = findings[index];
    const size_t floor = index > 0 ? findings[index - 1].end : 0;
    const size_t ceiling = index + 1 < findings.size() ? findings[index + 1].begin : text.size();
    finding.begin = std::max(floor, RemovedRunBegin(text, finding.begin));
    finding.end = std::min(ceiling, RemovedRunEnd(text, finding.end));
  }
  return findings;
}

}  // namespace mg::privacy
