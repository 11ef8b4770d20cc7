// privacy_eval: precision and recall of the pattern detectors per entity
// type on Presidio's synthetic PII data set (tests/data/pii), compared with
// the published figures of Presidio's own pattern recognisers on that data.
// Exits 1 when a type falls below them.
//
// A predicted span counts as correct when it overlaps a gold span of the same
// type ("overlap"); exact-match figures (same begin and end) are printed too.
// The data set's offsets are Unicode code points; they are converted to
// UTF-8 byte offsets here.
//
// usage: privacy_eval [DATASET.json] [--threshold T] [--misses]
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/file.h"
#include "privacy/analyzer.h"

namespace mg::privacy {
namespace {

struct Span {
  std::string type;
  size_t begin;
  size_t end;
};

struct Counts {
  size_t predicted = 0, gold = 0;
  size_t tp_predicted = 0, tp_gold = 0;  // overlap matches
  size_t exact = 0;                      // exact matches
};

struct Baseline {
  const char* type;
  double precision;
  double recall;
};

// Presidio's pattern recognisers on this data set (as published).
constexpr Baseline kPresidio[] = {
    {"EMAIL_ADDRESS", 1.00, 1.00}, {"US_SSN", 1.00, 1.00},       {"IBAN_CODE", 1.00, 1.00},
    {"CREDIT_CARD", 1.00, 0.77},   {"PHONE_NUMBER", 0.95, 0.58}, {"IP_ADDRESS", 1.00, 0.90},
};

// Our type names as the data set labels them (URL is labelled DOMAIN_NAME).
std::string GoldName(EntityType type) {
  if (type == EntityType::kUrl) return "DOMAIN_NAME";
  return std::string(EntityTypeName(type));
}

// Byte offset of every code point index of UTF-8 `text` (size: code points + 1).
std::vector<size_t> CodePointToByte(const std::string& text) {
  std::vector<size_t> offsets;
  for (size_t pos = 0; pos < text.size(); ++pos) {
    if ((static_cast<unsigned char>(text[pos]) & 0xC0) != 0x80) offsets.push_back(pos);
  }
  offsets.push_back(text.size());
  return offsets;
}

bool Overlaps(const Span& a, const Span& b) {
  return a.type == b.type && a.begin < b.end && b.begin < a.end;
}

int Run(int argc, char** argv) {
  std::string path = "tests/data/pii/synth_dataset_v2.json";
  float threshold = 0.5f;
  bool show_misses = false;
  for (int arg = 1; arg < argc; ++arg) {
    const std::string value = argv[arg];
    if (value == "--threshold" && arg + 1 < argc) {
      threshold = std::strtof(argv[++arg], nullptr);
    } else if (value == "--misses") {
      show_misses = true;
    } else {
      path = value;
    }
  }
  Result<std::string> contents = ReadFile(path);
  if (!contents.ok()) {
    std::fprintf(stderr, "error: %s\n", contents.status().message().c_str());
    return 2;
  }
  const nlohmann::json records = nlohmann::json::parse(*contents);
  AnalyzerOptions options;
  options.threshold = threshold;
  Result<std::unique_ptr<Analyzer>> analyzer = Analyzer::Create(options);
  if (!analyzer.ok()) {
    std::fprintf(stderr, "error: %s\n", analyzer.status().message().c_str());
    return 2;
  }
  auto scratch = (*analyzer)->NewScratch();
  std::map<std::string, Counts> counts;
  for (const nlohmann::json& record : records) {
    const std::string text = record["full_text"].get<std::string>();
    const std::vector<size_t> bytes = CodePointToByte(text);
    std::vector<Span> gold;
    for (const nlohmann::json& span : record["spans"]) {
      gold.push_back({span["entity_type"].get<std::string>(),
                      bytes[span["start_position"].get<size_t>()],
                      bytes[span["end_position"].get<size_t>()]});
      counts[gold.back().type].gold++;
    }
    std::vector<Span> predicted;
    Result<std::vector<Finding>> findings = (*analyzer)->Analyze(text, scratch->get());
    if (!findings.ok()) {
      std::fprintf(stderr, "error: %s\n", findings.status().message().c_str());
      return 2;
    }
    for (const Finding& finding : *findings) {
      predicted.push_back({GoldName(finding.type), finding.begin, finding.end});
      counts[predicted.back().type].predicted++;
    }
    for (const Span& p : predicted) {
      bool hit = false;
      for (const Span& g : gold) hit = hit || Overlaps(p, g);
      if (hit) counts[p.type].tp_predicted++;
      if (!hit && show_misses) {
        std::printf("false positive %s: \"%s\"\n", p.type.c_str(),
                    text.substr(p.begin, p.end - p.begin).c_str());
      }
    }
    for (const Span& g : gold) {
      bool hit = false;
      for (const Span& p : predicted) {
        hit = hit || Overlaps(p, g);
        if (p.type == g.type && p.begin == g.begin && p.end == g.end) counts[g.type].exact++;
      }
      if (hit) counts[g.type].tp_gold++;
      if (!hit && show_misses && counts[g.type].predicted > 0) {
        std::printf("missed %s: \"%s\"\n", g.type.c_str(),
                    text.substr(g.begin, g.end - g.begin).c_str());
      }
    }
  }
  auto ratio = [](size_t a, size_t b) { return b == 0 ? 1.0 : static_cast<double>(a) / b; };
  std::printf("%zu records, threshold %.2f; a prediction is correct when it overlaps a gold span\n",
              records.size(), threshold);
  std::printf("%-14s %6s %6s | %9s %7s | %8s %8s | %9s %7s\n", "type", "gold", "pred", "precision",
              "recall", "exact P", "exact R", "Presidio P", "R");
  bool failed = false;
  for (const auto& [type, c] : counts) {
    if (c.predicted == 0 && type != "EMAIL_ADDRESS") {
      bool evaluated = false;
      for (const Baseline& b : kPresidio) evaluated = evaluated || type == b.type;
      if (!evaluated) continue;  // a type no detector here reports (PERSON, ...)
    }
    const double precision = ratio(c.tp_predicted, c.predicted);
    const double recall = ratio(c.tp_gold, c.gold);
    std::string baseline = "        -       -";
    for (const Baseline& b : kPresidio) {
      if (type != b.type) continue;
      char text[64];
      std::snprintf(text, sizeof text, "%9.2f %7.2f", b.precision, b.recall);
      baseline = text;
      if (precision + 1e-9 < b.precision || recall + 1e-9 < b.recall) {
        baseline += "  BELOW";
        failed = true;
      }
    }
    std::printf("%-14s %6zu %6zu | %9.3f %7.3f | %8.3f %8.3f | %s\n", type.c_str(), c.gold,
                c.predicted, precision, recall, ratio(c.exact, c.predicted), ratio(c.exact, c.gold),
                baseline.c_str());
  }
  std::printf("%s\n",
              failed ? "FAILED: below Presidio's figures" : "OK: at or above Presidio's figures");
  return failed ? 1 : 0;
}

}  // namespace
}  // namespace mg::privacy

int main(int argc, char** argv) { return mg::privacy::Run(argc, argv); }
