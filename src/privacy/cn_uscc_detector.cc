// Unified social credit codes of Chinese organisations (GB 32100-2015): 18
// characters over the 31-character alphabet (digits and upper-case letters
// without I, O, Z, S, V): registration authority, organisation type, six-digit
// division code, nine-character organisation code and a check character.
// Letters are read in either case: an uncased model reads them the same.
#include <string>

#include "privacy/chars.h"
#include "privacy/checksums.h"
#include "privacy/detectors.h"

namespace mg::privacy {
namespace {

class CnUsccDetector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kCnUscc; }

  // The six-digit division code, mostly with the two digits before it,
  // gives a run of seven or more digits.
  std::vector<Pattern> patterns() const override { return {{std::string(kNumberPattern)}}; }

  ContextWords context() const override {
    return {{"统一社会信用代码", "社会信用代码", "信用代码", "纳税人识别号", "税号", "营业执照",
             "uscc", "credit code", "social credit"},
            {},
            0.2f,
            0};
  }

  size_t Examine(std::string_view text, size_t, size_t end,
                 std::vector<Candidate>* out) const override {
    auto in_alphabet = [](char c) { return IsAlnum(c); };
    size_t begin = end;
    while (begin > 0 && end - begin < 19 && in_alphabet(text[begin - 1])) --begin;
    size_t stop = end;
    while (stop < text.size() && stop - end < 19 && in_alphabet(text[stop])) ++stop;
    if (stop - begin != 18) return stop;
    if (IsWordChar(ByteBefore(text, begin)) || IsWordChar(ByteAt(text, stop))) return stop;
    std::string code(text.substr(begin, 18));
    for (char& c : code) c = ToUpper(c);
    for (size_t pos = 2; pos < 8; ++pos) {
      if (!IsDigit(code[pos])) return stop;
    }
    if (Gb32100CheckChar(std::string_view(code).substr(0, 17)) != code[17]) return stop;
    // A code of digits only is more likely another number; it needs context.
    const bool has_letter = code.find_first_not_of("0123456789") != std::string::npos;
    const float score = has_letter ? 0.8f : 0.35f;
    out->push_back({type(), static_cast<uint32_t>(begin), static_cast<uint32_t>(stop), score});
    return stop;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeCnUsccDetector() { return std::make_unique<CnUsccDetector>(); }

}  // namespace mg::privacy
