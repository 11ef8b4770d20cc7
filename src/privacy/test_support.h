// Helpers shared by the privacy tests: run an Analyzer over a text and get
// what it found as (type, exact substring) pairs.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "privacy/analyzer.h"

namespace mg::privacy::testing {

using Found = std::vector<std::pair<std::string, std::string>>;

inline std::unique_ptr<Analyzer> MakeAnalyzer(std::vector<EntityType> entities = {},
                                              float threshold = 0.5f) {
  AnalyzerOptions options;
  options.entities = std::move(entities);
  options.threshold = threshold;
  Result<std::unique_ptr<Analyzer>> analyzer = Analyzer::Create(options);
  EXPECT_TRUE(analyzer.ok()) << analyzer.status().ToString();
  return std::move(analyzer).value();
}

inline Found Detect(const Analyzer& analyzer, std::string_view text) {
  auto scratch = analyzer.NewScratch();
  EXPECT_TRUE(scratch.ok());
  Result<std::vector<Finding>> findings = analyzer.Analyze(text, scratch->get());
  EXPECT_TRUE(findings.ok()) << findings.status().ToString();
  Found found;
  for (const Finding& finding : *findings) {
    found.emplace_back(std::string(EntityTypeName(finding.type)),
                       std::string(text.substr(finding.begin, finding.size())));
  }
  return found;
}

// With every detector and the default threshold.
inline Found Detect(std::string_view text) {
  static const std::unique_ptr<Analyzer> analyzer = MakeAnalyzer();
  return Detect(*analyzer, text);
}

inline Found One(const std::string& type, const std::string& value) { return {{type, value}}; }

}  // namespace mg::privacy::testing
