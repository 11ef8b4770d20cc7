// The PII normaliser, analyzer and anonymizer on arbitrary text, with
// oracles: findings lie inside the input on UTF-8 boundaries, in order and
// without overlap; the normaliser maps every byte back into the input; the
// anonymised text keeps the untouched bytes and no longer holds a detected
// value (unless the same bytes also occur outside every finding).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/fuzz_input.h"
#include "privacy/analyzer.h"
#include "privacy/anonymizer.h"
#include "privacy/normalizer.h"
#include "text/unicode.h"

namespace {

// Per byte offset 0..size: whether a character starts (or the text ends)
// there. A byte that is not well-formed UTF-8 is a unit of its own, as the
// normaliser treats it.
std::vector<bool> CharacterStarts(std::string_view text) {
  std::vector<bool> starts(text.size() + 1, false);
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  size_t at = 0;
  while (at < text.size()) {
    starts[at] = true;
    size_t length = 1;
    mg::text::DecodeUtf8(bytes + at, text.size() - at, &length);
    at += length;
  }
  starts[text.size()] = true;
  return starts;
}

struct Pipeline {
  std::unique_ptr<mg::privacy::Analyzer> analyzer;
  std::unique_ptr<mg::privacy::AnalyzerScratch> scratch;
  std::unique_ptr<mg::privacy::Anonymizer> anonymizer;
};

Pipeline& Shared() {
  static Pipeline* pipeline = [] {
    auto* made = new Pipeline;
    made->analyzer = std::move(mg::privacy::Analyzer::Create().value());
    made->scratch = std::move(made->analyzer->NewScratch().value());
    made->anonymizer = std::move(mg::privacy::Anonymizer::Create({}, std::nullopt).value());
    return made;
  }();
  return *pipeline;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = mg::fuzz::AsText(data, size);
  mg::privacy::NormalizedText normalized;
  normalized.Normalize(text);
  for (size_t at = 0; at < normalized.text().size(); ++at) {
    if (normalized.OriginalBegin(at) >= normalized.OriginalEnd(at + 1) ||
        normalized.OriginalEnd(at + 1) > text.size()) {
      mg::fuzz::Fail("normalised byte maps outside the input");
    }
  }

  Pipeline& pipeline = Shared();
  auto findings = pipeline.analyzer->Analyze(text, pipeline.scratch.get());
  if (!findings.ok()) return 0;
  const std::vector<bool> starts = CharacterStarts(text);
  std::string outside;  // the input with every finding cut out
  size_t previous_end = 0;
  for (const auto& finding : *findings) {
    if (finding.begin >= finding.end || finding.end > text.size()) {
      mg::fuzz::Fail("finding outside the input");
    }
    if (finding.begin < previous_end) mg::fuzz::Fail("findings overlap or are out of order");
    if (!starts[finding.begin] || !starts[finding.end]) {
      mg::fuzz::Fail("finding splits a UTF-8 character");
    }
    outside.append(text.substr(previous_end, finding.begin - previous_end)).push_back('\0');
    previous_end = finding.end;
  }
  outside.append(text.substr(previous_end));

  const std::string anonymised = pipeline.anonymizer->Apply(text, *findings);
  for (const auto& finding : *findings) {
    const std::string_view value = text.substr(finding.begin, finding.size());
    if (anonymised.find(value) != std::string::npos && outside.find(value) == std::string::npos) {
      mg::fuzz::Fail("anonymised text still holds a detected value");
    }
  }
  return 0;
}
