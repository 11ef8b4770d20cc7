// URLs: http://, https:// and ftp:// URLs and bare www.host.tld forms, up to
// the first character that cannot be part of a URL; trailing punctuation and
// unbalanced closing brackets are left out.
#include "privacy/chars.h"
#include "privacy/detectors.h"

namespace mg::privacy {
namespace {

bool IsUrlChar(char c) {
  if (IsAlnum(c)) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case ':':
    case '/':
    case '?':
    case '#':
    case '[':
    case ']':
    case '@':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case '%':
      return true;
    default:
      return false;
  }
}

// Leaves out trailing punctuation, and closing brackets without an opener.
size_t TrimUrlEnd(std::string_view text, size_t begin, size_t stop) {
  while (stop > begin) {
    const char last = text[stop - 1];
    if (last == '.' || last == ',' || last == ';' || last == ':' || last == '!' || last == '?' ||
        last == '\'' || last == '*') {
      --stop;
      continue;
    }
    if (last == ')' || last == ']') {
      const char open = last == ')' ? '(' : '[';
      int balance = 0;
      for (size_t pos = begin; pos < stop; ++pos) {
        if (text[pos] == open) ++balance;
        if (text[pos] == last) --balance;
      }
      if (balance < 0) {
        --stop;
        continue;
      }
    }
    break;
  }
  return stop;
}

class UrlDetector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kUrl; }

  // The pattern's fixed prefix length is kPrefix[pattern] (+1 host character).
  std::vector<Pattern> patterns() const override {
    return {{"http://[A-Za-z0-9\\[]", true},
            {"https://[A-Za-z0-9\\[]", true},
            {"ftp://[A-Za-z0-9\\[]", true},
            {"www\\.[A-Za-z0-9]", true}};
  }

  ContextWords context() const override {
    return {{"url", "link", "website", "网址", "链接", "网站"}, {}, 0.2f, 0};
  }

  size_t Examine(std::string_view text, size_t pattern, size_t end,
                 std::vector<Candidate>* out) const override {
    static constexpr size_t kPrefix[] = {8, 9, 7, 5};
    const size_t begin = end - kPrefix[pattern];
    const char before = ByteBefore(text, begin);
    if (IsWordChar(before) || (pattern == 3 && (before == '.' || before == '/' || before == '@'))) {
      return end;
    }
    size_t stop = end;
    while (stop < text.size() && stop - begin < 4096 && IsUrlChar(text[stop])) ++stop;
    stop = TrimUrlEnd(text, begin, stop);
    const std::string_view url = text.substr(begin, stop - begin);
    const size_t host_begin = pattern == 3 ? 0 : url.find("://") + 3;
    const size_t host_end = url.find_first_of("/?#", host_begin);
    const std::string_view host = url.substr(host_begin, host_end - host_begin);
    float score = 0.6f;
    if (pattern == 3) {
      // www.<label>.<tld>
      const size_t dot = host.find('.', 4);
      if (dot == std::string_view::npos || dot + 2 >= host.size()) return stop;
      score = 0.5f;
    } else if (host.find('.') == std::string_view::npos && !host.starts_with('[') &&
               !host.starts_with("localhost")) {
      score = 0.3f;  // a single-label host: rarely a real URL in prose
    }
    out->push_back({type(), static_cast<uint32_t>(begin), static_cast<uint32_t>(stop), score});
    return stop;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeUrlDetector() { return std::make_unique<UrlDetector>(); }

}  // namespace mg::privacy
