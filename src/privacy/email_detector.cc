// E-mail addresses: local@domain.tld with an ASCII local part and a domain of
// at least two labels whose last is alphabetic (so "a@b" is not one).
#include "privacy/chars.h"
#include "privacy/detectors.h"

namespace mg::privacy {
namespace {

bool IsLocalChar(char c) {
  return IsAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsDomainChar(char c) { return IsAlnum(c) || c == '.' || c == '-'; }

// True when `domain` is label(.label)+ with a 2..24-letter (or xn--) TLD.
bool ValidDomain(std::string_view domain) {
  if (domain.size() > 253) return false;
  size_t labels = 0;
  std::string_view last;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    if (dot == std::string_view::npos) dot = domain.size();
    const std::string_view label = domain.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    ++labels;
    last = label;
    start = dot + 1;
  }
  if (labels < 2) return false;
  if (last.starts_with("xn--")) return last.size() > 4;
  if (last.size() < 2 || last.size() > 24) return false;
  for (char c : last) {
    if (!IsAlpha(c)) return false;
  }
  return true;
}

class EmailDetector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kEmailAddress; }

  std::vector<Pattern> patterns() const override { return {{"[A-Za-z0-9._%+\\-]@[A-Za-z0-9]"}}; }

  ContextWords context() const override {
    return {};  // valid addresses need no context
  }

  size_t Examine(std::string_view text, size_t, size_t end,
                 std::vector<Candidate>* out) const override {
    const size_t at = end - 2;
    size_t begin = at;
    while (begin > 0 && at - begin < 64 && IsLocalChar(text[begin - 1])) --begin;
    while (begin < at && text[begin] == '.') ++begin;
    size_t stop = at + 1;
    while (stop < text.size() && stop - at <= 254 && IsDomainChar(text[stop])) ++stop;
    while (stop > at + 1 && (text[stop - 1] == '.' || text[stop - 1] == '-')) --stop;
    const std::string_view local = text.substr(begin, at - begin);
    if (local.empty() || local.back() == '.' || local.find("..") != std::string_view::npos ||
        IsLocalChar(ByteBefore(text, begin))) {
      return stop;
    }
    if (!ValidDomain(text.substr(at + 1, stop - at - 1))) return stop;
    out->push_back({type(), static_cast<uint32_t>(begin), static_cast<uint32_t>(stop), 0.95f});
    return stop;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeEmailDetector() { return std::make_unique<EmailDetector>(); }

}  // namespace mg::privacy
