// Phone numbers: 7..15 digits in groups separated by runs of at most two of
// " .-/()", optionally after '+' and followed by an extension (x123, ext. 123).
// International (+CC), North-American (NXX NXX XXXX, optionally after 1 or
// 001) and mainland-China mobile (1[3-9]X XXXX XXXX, optionally after +86)
// forms (the latter in any grouping of spaces and dashes) score high on
// their own; other groupings need a context word such as
// "phone", "tel", "fax" or "手机". Numbers shaped like dates, IPv4 addresses
// or SSNs are left to their own detectors. A run of more digits than one
// phone holds is read as consecutive numbers.
#include <string>
#include <utility>
#include <vector>

#include "privacy/chars.h"
#include "privacy/checksums.h"
#include "privacy/detectors.h"

namespace mg::privacy {
namespace {

bool IsSeparator(char c) {
  return c == ' ' || c == '.' || c == '-' || c == '/' || c == '(' || c == ')';
}

struct PhoneShape {
  bool plus = false;
  bool parens = false;
  std::vector<size_t> groups;  // digit group lengths
  std::string separators;      // the separator characters used
  std::string digits;
};

PhoneShape Shape(std::string_view token) {
  PhoneShape shape;
  size_t run = 0;
  for (char c : token) {
    if (IsDigit(c)) {
      shape.digits.push_back(c);
      ++run;
      continue;
    }
    if (run > 0) shape.groups.push_back(run);
    run = 0;
    if (c == '+') shape.plus = true;
    if (c == '(' || c == ')') shape.parens = true;
    if (IsSeparator(c) && shape.separators.find(c) == std::string::npos) shape.separators += c;
  }
  if (run > 0) shape.groups.push_back(run);
  return shape;
}

int Number(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// True when the token starts with a calendar date (y-m-d, d/m/y or m/d/y).
bool LooksLikeDate(const PhoneShape& shape) {
  if (shape.groups.size() < 3 || shape.separators.find_first_of("./-") == std::string::npos) {
    return false;
  }
  const std::string_view d = shape.digits;
  const size_t g0 = shape.groups[0], g1 = shape.groups[1], g2 = shape.groups[2];
  if (g0 == 4 && g1 <= 2 && g2 <= 2) {
    const int year = Number(d.substr(0, 4));
    return year >= 1900 && year <= 2099 &&
           IsValidDate(year, Number(d.substr(4, g1)), Number(d.substr(4 + g1, g2)));
  }
  if (g0 <= 2 && g1 <= 2 && (g2 == 4 || g2 == 2)) {
    const int a = Number(d.substr(0, g0)), b = Number(d.substr(g0, g1));
    const int year = g2 == 4 ? Number(d.substr(g0 + g1, 4)) : 2000;
    if (g2 == 4 && (year < 1900 || year > 2099)) return false;
    return IsValidDate(year, b, a) || IsValidDate(year, a, b);
  }
  return false;
}

bool NanpValid(std::string_view ten) { return ten.size() == 10 && ten[0] >= '2' && ten[3] >= '2'; }

float Score(std::string_view token, const PhoneShape& shape) {
  const size_t n = shape.digits.size();
  const size_t groups = shape.groups.size();
  if (n < 7 || n > 15) return 0;
  if (shape.separators == "." && groups == 4 && n <= 12) {
    bool octets = true;
    for (size_t g : shape.groups) octets = octets && g <= 3;
    if (octets) return 0;  // an IPv4 address
  }
  if (!shape.plus && groups == 3 && shape.groups[0] == 3 && shape.groups[1] == 2 &&
      shape.groups[2] == 4 && !shape.parens) {
    return 0;  // an SSN
  }
  if (!shape.plus && LooksLikeDate(shape)) return 0;
  // A mainland-China mobile in any grouping of spaces and dashes, down to one
  // digit at a time ("138 1234 5678", "1 3 8 1 2 3 4 5 6 7 8"), but not an
  // amount grouped in thousands ("15 000 000 000").
  bool thousands = groups > 1 && shape.groups[0] <= 3;
  for (size_t g = 1; g < groups; ++g) thousands = thousands && shape.groups[g] == 3;
  if (!shape.plus && !shape.parens && n == 11 && shape.digits[0] == '1' && shape.digits[1] >= '3' &&
      shape.separators.find_first_not_of(" -") == std::string::npos && !thousands) {
    return 0.65f;
  }
  size_t singles = 0;
  for (size_t g : shape.groups) singles += g == 1 ? 1 : 0;
  if (singles > 1 && !shape.plus) return 0;
  if (shape.plus) {
    if (shape.digits.starts_with("86") && n == 13 && shape.digits[2] == '1' &&
        shape.digits[3] >= '3') {
      return 0.75f;
    }
    return n >= 8 ? 0.7f : 0;
  }
  std::string_view national = shape.digits;
  size_t lead = 0;  // leading groups that are a trunk or international prefix
  if (groups > 1 && shape.groups[0] == 3 && national.starts_with("001")) lead = 3;
  if (groups > 1 && shape.groups[0] == 1 && national.starts_with("1")) lead = 1;
  if (NanpValid(national.substr(lead))) {
    if (groups == 1) return 0.4f;
    const size_t first = lead > 0 ? 1 : 0;
    if (groups == first + 3 && shape.groups[first] == 3 && shape.groups[first + 1] == 3 &&
        shape.groups[first + 2] == 4) {
      return token.find('(') != std::string_view::npos ? 0.7f : 0.6f;
    }
  }
  if (n == 11 && national[0] == '1' && national[1] >= '3') {
    if (groups == 1) return 0.65f;
    if (groups == 3 && shape.groups[0] == 3 && shape.groups[1] == 4) return 0.65f;
  }
  if (groups == 1) return n <= 12 ? 0.15f : 0;
  return 0.35f;
}

// Length of an extension ("x123", " ext. 123", " #123") at text[pos], or 0.
size_t ExtensionLength(std::string_view text, size_t pos) {
  size_t p = pos;
  while (p < text.size() && p - pos < 2 && text[p] == ' ') ++p;
  const std::string_view rest = text.substr(p, 5);
  size_t marker = 0;
  if (rest.starts_with("ext."))
    marker = 4;
  else if (rest.starts_with("ext"))
    marker = 3;
  else if (rest.starts_with("x") || rest.starts_with("#"))
    marker = 1;
  if (marker == 0) return 0;
  p += marker;
  if (p < text.size() && text[p] == ' ' && marker > 1) ++p;
  size_t digits = 0;
  while (p + digits < text.size() && IsDigit(text[p + digits]) && digits < 7) ++digits;
  if (digits == 0 || digits > 6 || IsAlnum(ByteAt(text, p + digits))) return 0;
  return p + digits - pos;
}

// True when every '(' of `token` is closed by a later ')' and every ')'
// closes one.
bool BalancedParentheses(std::string_view token) {
  int open = 0;
  for (char c : token) {
    if (c == '(') ++open;
    if (c == ')' && --open < 0) return false;
  }
  return open == 0;
}

// A run of more digits than one phone holds is read as consecutive numbers
// ("13812345678 13912345678", a list): from the left, the longest run of
// whole digit groups that scores as a phone, then on after it.
void SplitRun(std::string_view text, size_t begin, size_t stop, std::vector<Candidate>* out) {
  std::vector<std::pair<size_t, size_t>> groups;  // digit groups, as text offsets
  for (size_t pos = begin; pos < stop;) {
    if (!IsDigit(text[pos])) {
      ++pos;
      continue;
    }
    size_t group_end = pos;
    while (group_end < stop && IsDigit(text[group_end])) ++group_end;
    groups.emplace_back(pos, group_end);
    pos = group_end;
  }
  for (size_t first = 0; first < groups.size();) {
    size_t from = groups[first].first;
    if (ByteBefore(text, from) == '(') --from;
    if (ByteBefore(text, from) == '+') --from;
    size_t next = first + 1;
    for (size_t last = groups.size(); last > first; --last) {
      const size_t to = groups[last - 1].second;
      const std::string_view token = text.substr(from, to - from);
      if (!BalancedParentheses(token)) continue;
      const float score = Score(token, Shape(token));
      if (score <= 0) continue;
      out->push_back({EntityType::kPhoneNumber, static_cast<uint32_t>(from),
                      static_cast<uint32_t>(to), score});
      next = last;
      break;
    }
    first = next;
  }
}

class PhoneDetector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kPhoneNumber; }

  std::vector<Pattern> patterns() const override { return {{std::string(kNumberPattern)}}; }

  ContextWords context() const override {
    return {{"phone", "phones",    "telephone", "tel",     "tel.",  "mobile",  "mob",
             "cell",  "cellphone", "fax",       "call",    "calls", "contact", "whatsapp",
             "sms",   "desk",      "office",    "hotline", "电话",  "手机",    "手机号",
             "联系",  "致电",      "传真",      "座机"},
            {"isbn", "order", "invoice", "serial", "version", "tracking", "订单"},
            0.4f,
            0.3f};
  }

  size_t Examine(std::string_view text, size_t, size_t end,
                 std::vector<Candidate>* out) const override {
    size_t begin = end;
    size_t run = 0;
    while (begin > 0 && end - begin < 40) {
      const char c = text[begin - 1];
      if (IsDigit(c)) {
        run = 0;
      } else if (IsSeparator(c) && run < 2) {
        ++run;
      } else {
        break;
      }
      --begin;
    }
    while (begin < end && !IsDigit(text[begin])) ++begin;
    if (ByteBefore(text, begin) == '(') --begin;
    if (ByteBefore(text, begin) == '+') --begin;
    size_t stop = end;
    run = 0;
    while (stop < text.size() && stop - end < 40) {
      const char c = text[stop];
      if (IsDigit(c)) {
        run = 0;
      } else if (IsSeparator(c) && run < 2) {
        ++run;
      } else {
        break;
      }
      ++stop;
    }
    while (stop > end && !IsDigit(text[stop - 1])) --stop;
    if (IsWordChar(ByteBefore(text, begin))) return stop;
    const size_t extension = ExtensionLength(text, stop);
    if (extension == 0 && IsWordChar(ByteAt(text, stop))) return stop;
    const std::string_view token = text.substr(begin, stop - begin);
    const PhoneShape shape = Shape(token);
    const float score = Score(token, shape);
    if (score <= 0 && shape.digits.size() > 15) {
      SplitRun(text, begin, stop, out);
      return stop;
    }
    stop += extension;
    if (score <= 0) return stop;
    out->push_back({type(), static_cast<uint32_t>(begin), static_cast<uint32_t>(stop), score});
    return stop;
  }
};

}  // namespace

std::unique_ptr<Detector> MakePhoneDetector() { return std::make_unique<PhoneDetector>(); }

}  // namespace mg::privacy
