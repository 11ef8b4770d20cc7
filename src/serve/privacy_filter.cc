#include "serve/privacy_filter.h"

namespace mg::serve {

Result<PrivacyMode> ParsePrivacyMode(std::string_view name) {
  for (PrivacyMode mode :
       {PrivacyMode::kOff, PrivacyMode::kLog, PrivacyMode::kRedact, PrivacyMode::kBlock}) {
    if (name == PrivacyModeName(mode)) return mode;
  }
  return InvalidArgumentError("unknown privacy mode \"" + std::string(name) +
                              "\" (expected off, log, redact or block)");
}

std::string_view PrivacyModeName(PrivacyMode mode) {
  switch (mode) {
    case PrivacyMode::kOff:
      return "off";
    case PrivacyMode::kLog:
      return "log";
    case PrivacyMode::kRedact:
      return "redact";
    case PrivacyMode::kBlock:
      return "block";
  }
  return "off";
}

Result<std::unique_ptr<PrivacyFilter>> PrivacyFilter::Create(
    PrivacyMode mode, std::vector<privacy::EntityType> entities) {
  std::unique_ptr<PrivacyFilter> filter(new PrivacyFilter());
  filter->mode_ = mode;
  if (mode == PrivacyMode::kOff) return filter;
  privacy::AnalyzerOptions options;
  options.entities = std::move(entities);
  MG_ASSIGN_OR_RETURN(filter->analyzer_, privacy::Analyzer::Create(options));
  privacy::OperatorOptions replace;
  replace.op = privacy::Operator::kReplace;
  MG_ASSIGN_OR_RETURN(filter->anonymizer_, privacy::Anonymizer::Create(replace, std::nullopt));
  // One scratch up front, so that a CPU Hyperscan cannot run on fails here.
  MG_ASSIGN_OR_RETURN(auto scratch, filter->analyzer_->NewScratch());
  filter->scratches_.push_back(std::move(scratch));
  return filter;
}

PrivacyFilter::~PrivacyFilter() = default;

std::unique_ptr<privacy::AnalyzerScratch> PrivacyFilter::Borrow() const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!scratches_.empty()) {
      auto scratch = std::move(scratches_.back());
      scratches_.pop_back();
      return scratch;
    }
  }
  auto scratch = analyzer_->NewScratch();
  return scratch.ok() ? std::move(scratch).value() : nullptr;
}

void PrivacyFilter::Return(std::unique_ptr<privacy::AnalyzerScratch> scratch) const {
  std::lock_guard<std::mutex> lock(mutex_);
  scratches_.push_back(std::move(scratch));
}

Result<size_t> PrivacyFilter::Scan(std::string* text, PiiCounts* counts) const {
  if (mode_ == PrivacyMode::kOff) return size_t{0};
  auto scratch = Borrow();
  if (!scratch) return InternalError("cannot allocate PII scanner scratch space");
  auto findings = analyzer_->Analyze(*text, scratch.get());
  Return(std::move(scratch));
  if (!findings.ok()) return findings.status();
  for (const privacy::Finding& finding : *findings) ++(*counts)[static_cast<size_t>(finding.type)];
  if (mode_ == PrivacyMode::kRedact && !findings->empty()) {
    *text = anonymizer_->Apply(*text, *findings);
  }
  return findings->size();
}

}  // namespace mg::serve
