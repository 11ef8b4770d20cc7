#include "privacy/pattern_scanner.h"

#include <hs.h>

#include <algorithm>
#include <map>

#include "base/bytes.h"
#include "privacy/chars.h"

namespace mg::privacy {
namespace {

// Pattern ids: shared pattern p -> p; context word w -> kContextBase + w.
constexpr unsigned kContextBase = 1u << 20;

std::string Lowercase(std::string_view word) {
  std::string lower(word);
  for (char& c : lower) c = ToLower(c);
  return lower;
}

// True when a context word found at [begin, end) stands as a whole word:
// an ASCII letter at its edge must not touch another ASCII letter.
bool WholeWord(std::string_view text, size_t begin, size_t end) {
  if (IsAlpha(text[begin]) && IsAlpha(ByteBefore(text, begin))) return false;
  if (IsAlpha(text[end - 1]) && IsAlpha(ByteAt(text, end))) return false;
  return true;
}

}  // namespace

std::string LiteralPattern(std::string_view word) {
  std::string regex;
  for (char c : word) {
    if (IsAlnum(c)) {
      regex.push_back(c);
    } else {
      regex += "\\x" + HexEncode(std::string_view(&c, 1));
    }
  }
  return regex;
}

Result<std::unique_ptr<PatternScanner>> PatternScanner::Create(
    std::vector<std::unique_ptr<Detector>> detectors) {
  if (hs_valid_platform() != HS_SUCCESS) {
    return UnimplementedError("PII scanning needs a CPU with SSSE3 (Hyperscan)");
  }
  if (detectors.size() > 32) return InvalidArgumentError("at most 32 detectors");
  std::unique_ptr<PatternScanner> scanner(new PatternScanner());
  std::vector<std::string> regexes;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  std::map<std::pair<std::string, bool>, size_t> pattern_index;
  std::map<std::string, size_t> word_index;
  for (size_t d = 0; d < detectors.size(); ++d) {
    const std::vector<Pattern> patterns = detectors[d]->patterns();
    for (size_t p = 0; p < patterns.size(); ++p) {
      auto [it, inserted] = pattern_index.emplace(
          std::make_pair(patterns[p].regex, patterns[p].caseless), scanner->targets_.size());
      if (inserted) {
        scanner->targets_.emplace_back();
        regexes.push_back(patterns[p].regex);
        flags.push_back(patterns[p].caseless ? HS_FLAG_CASELESS : 0);
        ids.push_back(static_cast<unsigned>(it->second));
      }
      scanner->targets_[it->second].push_back({static_cast<uint32_t>(d), static_cast<uint32_t>(p)});
    }
    ContextWords context = detectors[d]->context();
    for (int sign = 0; sign < 2; ++sign) {
      for (std::string_view word : sign == 0 ? context.positive : context.negative) {
        const std::string lower = Lowercase(word);
        auto [it, inserted] = word_index.emplace(lower, scanner->words_.size());
        if (inserted) scanner->words_.push_back({lower, 0, 0});
        ContextWord& entry = scanner->words_[it->second];
        (sign == 0 ? entry.positive : entry.negative) |= 1u << d;
      }
    }
    scanner->context_.push_back(std::move(context));
  }
  for (size_t w = 0; w < scanner->words_.size(); ++w) {
    regexes.push_back(LiteralPattern(scanner->words_[w].word));
    flags.push_back(HS_FLAG_CASELESS);
    ids.push_back(static_cast<unsigned>(kContextBase + w));
  }
  std::vector<const char*> expressions;
  for (const std::string& regex : regexes) expressions.push_back(regex.c_str());
  hs_compile_error_t* error = nullptr;
  const hs_error_t status = hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                                             static_cast<unsigned>(expressions.size()),
                                             HS_MODE_BLOCK, nullptr, &scanner->database_, &error);
  if (status != HS_SUCCESS) {
    std::string message = error && error->message ? error->message : "unknown error";
    if (error && error->expression >= 0) {
      message += " in pattern " + regexes[static_cast<size_t>(error->expression)];
    }
    hs_free_compile_error(error);
    return InternalError("cannot compile the PII patterns: " + message);
  }
  scanner->detectors_ = std::move(detectors);
  return scanner;
}

PatternScanner::~PatternScanner() { hs_free_database(database_); }

ScanState::~ScanState() { hs_free_scratch(scratch_); }

Result<std::unique_ptr<ScanState>> PatternScanner::NewState() const {
  std::unique_ptr<ScanState> state(new ScanState());
  if (hs_alloc_scratch(database_, &state->scratch_) != HS_SUCCESS) {
    return InternalError("cannot allocate Hyperscan scratch space");
  }
  state->hits_.resize(detectors_.size());
  return state;
}

void PatternScanner::ApplyContext(std::string_view text, const ScanState& state, size_t detector,
                                  Candidate* candidate) const {
  const uint32_t bit = 1u << detector;
  const uint32_t window_begin =
      candidate->begin > kContextBefore ? candidate->begin - kContextBefore : 0;
  const uint64_t window_end = static_cast<uint64_t>(candidate->end) + kContextAfter;
  auto it = std::lower_bound(
      state.context_.begin(), state.context_.end(), window_begin,
      [](const ScanState::ContextHit& hit, uint32_t value) { return hit.end <= value; });
  bool positive = false;
  bool negative = false;
  // Hits are ordered by end; a word is shorter than 64 bytes.
  for (; it != state.context_.end() && it->end < window_end + 64; ++it) {
    if (it->begin >= window_end) continue;
    const ContextWord& word = words_[it->word];
    if (((word.positive | word.negative) & bit) == 0) continue;
    if (!WholeWord(text, it->begin, it->end)) continue;
    positive = positive || (word.positive & bit) != 0;
    // A negative word counts only before the candidate ("version 1.2.3.4").
    negative = negative || ((word.negative & bit) != 0 && it->end <= candidate->begin);
  }
  const ContextWords& context = context_[detector];
  float score = candidate->score;
  if (positive) score += context.boost;
  if (negative) score -= context.penalty;
  candidate->score = std::clamp(score, 0.0f, 1.0f);
}

Status PatternScanner::Scan(std::string_view text, ScanState* state,
                            std::vector<Candidate>* out) const {
  if (text.size() >= (1ull << 32)) return InvalidArgumentError("text of 4 GiB or more");
  for (auto& hits : state->hits_) hits.clear();
  state->context_.clear();
  struct Sink {
    ScanState* state;
    const PatternScanner* scanner;
  } sink{state, this};
  auto on_match = [](unsigned int id, unsigned long long, unsigned long long to, unsigned int,
                     void* context) -> int {
    auto* receiver = static_cast<Sink*>(context);
    const auto end = static_cast<uint32_t>(to);
    if (id >= kContextBase) {
      const uint32_t word = id - kContextBase;
      const auto length = static_cast<uint32_t>(receiver->scanner->words_[word].word.size());
      receiver->state->context_.push_back({end - length, end, word});
    } else {
      for (const Target& target : receiver->scanner->targets_[id]) {
        receiver->state->hits_[target.detector].push_back({end, target.pattern});
      }
    }
    return 0;
  };
  if (!text.empty()) {
    const hs_error_t status = hs_scan(database_, text.data(), static_cast<unsigned>(text.size()), 0,
                                      state->scratch_, on_match, &sink);
    if (status != HS_SUCCESS) return InternalError("Hyperscan scan failed");
  }
  auto by_end = [](const auto& a, const auto& b) { return a.end < b.end; };
  if (!std::is_sorted(state->context_.begin(), state->context_.end(), by_end)) {
    std::stable_sort(state->context_.begin(), state->context_.end(), by_end);
  }
  for (size_t d = 0; d < detectors_.size(); ++d) {
    std::vector<ScanState::Hit>& hits = state->hits_[d];
    if (!std::is_sorted(hits.begin(), hits.end(), by_end)) {
      std::stable_sort(hits.begin(), hits.end(), by_end);
    }
    size_t covered = 0;
    const size_t first = out->size();
    for (const ScanState::Hit& hit : hits) {
      if (hit.end <= covered) continue;
      covered = std::max(covered, detectors_[d]->Examine(text, hit.pattern, hit.end, out));
    }
    for (size_t c = first; c < out->size(); ++c) ApplyContext(text, *state, d, &(*out)[c]);
  }
  return Status::Ok();
}

}  // namespace mg::privacy
