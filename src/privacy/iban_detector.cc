// IBANs (ISO 13616): a registered country code, two check digits and a BBAN,
// compact or in groups separated by single spaces, with exactly the length
// registered for the country and ISO 7064 MOD 97-10 remainder 1. Letters in
// either case.
#include <string>

#include "privacy/chars.h"
#include "privacy/checksums.h"
#include "privacy/detectors.h"

namespace mg::privacy {
namespace {

// The end of a valid IBAN starting at text[begin], or 0.
size_t IbanAt(std::string_view text, size_t begin) {
  const std::string country{ToUpper(text[begin]), ToUpper(text[begin + 1])};
  const size_t length = IbanLength(country);
  if (length == 0) return 0;
  std::string compact;
  size_t pos = begin;
  while (pos < text.size() && compact.size() < length) {
    const char c = text[pos];
    if (IsAlnum(c)) {
      compact.push_back(c);
      ++pos;
    } else if (c == ' ' && compact.size() >= 4 && IsAlnum(ByteAt(text, pos + 1))) {
      ++pos;
    } else {
      break;
    }
  }
  if (compact.size() != length || IsAlnum(ByteAt(text, pos))) return 0;
  return IbanRemainder(compact) == 1 ? pos : 0;
}

class IbanDetector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kIbanCode; }

  // Every IBAN format has a run of at least seven digits (or digit groups)
  // in its BBAN; the start ("CC00") is found looking back from there.
  std::vector<Pattern> patterns() const override { return {{std::string(kNumberPattern)}}; }

  ContextWords context() const override {
    return {};  // length and check digits are specific enough
  }

  size_t Examine(std::string_view text, size_t, size_t end,
                 std::vector<Candidate>* out) const override {
    size_t run_end = end;
    while (run_end < text.size() && IsDigit(text[run_end])) ++run_end;
    // Possible starts: up to 42 bytes back over letters, digits and single spaces.
    size_t begin = end;
    while (begin > 0 && end - begin < 42 &&
           (IsAlnum(text[begin - 1]) ||
            (text[begin - 1] == ' ' && IsAlnum(ByteBefore(text, begin - 1))))) {
      --begin;
    }
    for (size_t start = begin; start + 4 <= end; ++start) {
      if (!IsAlpha(text[start]) || !IsAlpha(text[start + 1]) || !IsDigit(text[start + 2]) ||
          !IsDigit(text[start + 3]) || IsAlnum(ByteBefore(text, start))) {
        continue;
      }
      const size_t stop = IbanAt(text, start);
      if (stop < end) continue;  // none, or one that ends before this match
      out->push_back({type(), static_cast<uint32_t>(start), static_cast<uint32_t>(stop), 0.95f});
      return stop;
    }
    return run_end;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeIbanDetector() { return std::make_unique<IbanDetector>(); }

}  // namespace mg::privacy
