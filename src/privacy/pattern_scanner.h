// PatternScanner: every detector's patterns and context words compiled into
// one Hyperscan database, so a text is scanned once for all of them; then
// each detector examines its matches and context words adjust the scores.
//
// A PatternScanner is immutable after Create() and may be shared by any
// number of threads. Each thread scans with its own ScanState (Hyperscan
// scratch space and match buffers), which must not be shared while in use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "privacy/detector.h"

struct hs_database;
struct hs_scratch;

namespace mg::privacy {

class ScanState;

class PatternScanner {
 public:
  // Compiles the database. Fails when the CPU lacks what Hyperscan needs
  // (SSSE3) or a pattern does not compile (a programming error).
  static Result<std::unique_ptr<PatternScanner>> Create(
      std::vector<std::unique_ptr<Detector>> detectors);
  ~PatternScanner();
  PatternScanner(const PatternScanner&) = delete;
  PatternScanner& operator=(const PatternScanner&) = delete;

  // Per-thread state for Scan().
  Result<std::unique_ptr<ScanState>> NewState() const;

  // Scans `text` (normalised, under 4 GiB) and appends the candidates of all
  // detectors with context-adjusted scores in [0, 1], in no particular order.
  Status Scan(std::string_view text, ScanState* state, std::vector<Candidate>* out) const;

 private:
  // A detector's pattern behind a shared database pattern.
  struct Target {
    uint32_t detector;
    uint32_t pattern;
  };
  struct ContextWord {
    std::string word;
    uint32_t positive = 0;  // bit d: a positive word of detector d
    uint32_t negative = 0;
  };

  PatternScanner() = default;
  void ApplyContext(std::string_view text, const ScanState& state, size_t detector,
                    Candidate* candidate) const;

  std::vector<std::unique_ptr<Detector>> detectors_;
  std::vector<std::vector<Target>> targets_;  // per database pattern
  std::vector<ContextWords> context_;         // per detector
  std::vector<ContextWord> words_;
  hs_database* database_ = nullptr;
};

// Matches of one scan; owned by one thread at a time.
class ScanState {
 public:
  ~ScanState();
  ScanState(const ScanState&) = delete;
  ScanState& operator=(const ScanState&) = delete;

 private:
  friend class PatternScanner;
  ScanState() = default;

  struct Hit {
    uint32_t end;
    uint32_t pattern;
  };
  struct ContextHit {
    uint32_t begin;
    uint32_t end;
    uint32_t word;
  };

  hs_scratch* scratch_ = nullptr;
  std::vector<std::vector<Hit>> hits_;  // per detector, by end offset
  std::vector<ContextHit> context_;     // by end offset
};

}  // namespace mg::privacy
