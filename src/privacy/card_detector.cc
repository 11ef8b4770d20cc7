// Payment card numbers: 13..19 digits, compact or grouped with single spaces
// or dashes (mixed too: "4111-1111 1111-1111"), passing the Luhn check and not all one digit.
// Numbers with a known issuer prefix (Visa, Mastercard, Amex, Discover, JCB,
// Diners, UnionPay, Maestro, Mir) score high; others need context. 12-digit
// Maestro numbers are accepted with context only.
#include <utility>
#include <vector>

#include "privacy/chars.h"
#include "privacy/checksums.h"
#include "privacy/detectors.h"

namespace mg::privacy {
namespace {

int PrefixValue(std::string_view digits, size_t length) {
  int value = 0;
  for (size_t pos = 0; pos < length && pos < digits.size(); ++pos) {
    value = value * 10 + (digits[pos] - '0');
  }
  return value;
}

bool IsMaestroPrefix(std::string_view digits) {
  const int p2 = PrefixValue(digits, 2);
  return p2 == 50 || (p2 >= 56 && p2 <= 69);
}

// True when the issuer identification number belongs to a card network.
bool KnownIssuer(std::string_view digits) {
  const int p1 = PrefixValue(digits, 1);
  const int p2 = PrefixValue(digits, 2);
  const int p3 = PrefixValue(digits, 3);
  const int p4 = PrefixValue(digits, 4);
  if (p1 == 4) return true;                                             // Visa
  if (p2 >= 51 && p2 <= 55) return true;                                // Mastercard
  if (p4 >= 2221 && p4 <= 2720) return true;                            // Mastercard 2-series
  if (p4 >= 2200 && p4 <= 2204) return true;                            // Mir
  if (p2 == 34 || p2 == 37) return true;                                // American Express
  if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649)) return true;  // Discover
  if (p4 >= 3528 && p4 <= 3589) return true;                            // JCB
  if (p4 == 1800 || p4 == 2131) return true;                            // JCB (15 digits)
  if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) return true;  // Diners
  if (p2 == 62 || p2 == 81) return true;                                          // UnionPay
  return IsMaestroPrefix(digits);
}

class CardDetector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kCreditCard; }

  std::vector<Pattern> patterns() const override { return {{std::string(kNumberPattern)}}; }

  ContextWords context() const override {
    return {{"card", "cards", "credit", "debit", "visa", "mastercard", "amex", "cc", "cvv",
             "expiry", "expires", "payment", "卡号", "银行卡", "信用卡", "借记卡"},
            {},
            0.35f,
            0};
  }

  size_t Examine(std::string_view text, size_t, size_t end,
                 std::vector<Candidate>* out) const override {
    auto is_separator_at = [&](size_t pos) {
      return (text[pos] == ' ' || text[pos] == '-') && IsDigit(ByteBefore(text, pos)) &&
             IsDigit(ByteAt(text, pos + 1));
    };
    size_t begin = end;
    while (begin > 0 && end - begin < 64 &&
           (IsDigit(text[begin - 1]) || is_separator_at(begin - 1))) {
      --begin;
    }
    size_t stop = end;
    while (stop < text.size() && stop - end < 64 &&
           (IsDigit(text[stop]) || is_separator_at(stop))) {
      ++stop;
    }
    const std::string_view token = text.substr(begin, stop - begin);
    // Not part of a word, a decimal number or a longer dotted number.
    const char before = ByteBefore(text, begin);
    const char after = ByteAt(text, stop);
    if (IsWordChar(before) || IsWordChar(after)) return stop;
    if ((before == '.' || before == ',') && IsDigit(ByteBefore(text, begin - 1))) return stop;
    if ((after == '.' || after == ',') && IsDigit(ByteAt(text, stop + 1))) return stop;
    // The whole token, else the longest run of whole groups that is a card
    // ("4111 1111 1111 1111 123" with a security code after it).
    std::vector<std::pair<size_t, size_t>> groups;  // digit groups in `token`
    for (size_t pos = 0; pos < token.size();) {
      size_t end_of_group = pos;
      while (end_of_group < token.size() && IsDigit(token[end_of_group])) ++end_of_group;
      groups.emplace_back(pos, end_of_group);
      pos = end_of_group + 1;
    }
    std::vector<size_t> digits_before(groups.size() + 1, 0);  // prefix sums of group sizes
    for (size_t g = 0; g < groups.size(); ++g) {
      digits_before[g + 1] = digits_before[g] + groups[g].second - groups[g].first;
    }
    for (size_t count = groups.size(); count > 0; --count) {
      for (size_t first = 0; first + count <= groups.size(); ++first) {
        const size_t digits = digits_before[first + count] - digits_before[first];
        if (digits < 12 || digits > 19) continue;
        const size_t from = groups[first].first;
        const size_t to = groups[first + count - 1].second;
        const float score = Score(token.substr(from, to - from));
        if (score > 0) {
          out->push_back({type(), static_cast<uint32_t>(begin + from),
                          static_cast<uint32_t>(begin + to), score});
          return stop;
        }
      }
    }
    return stop;
  }

 private:
  // The score of a whole candidate number, or 0 when it is not a card.
  static float Score(std::string_view number) {
    const std::string digits = DigitsOf(number);
    if (digits.size() < 12 || digits.size() > 19) return 0;
    if (digits.find_first_not_of(digits[0]) == std::string::npos) return 0;
    if (!LuhnValid(digits)) return 0;
    if (digits.size() == 12) return IsMaestroPrefix(digits) ? 0.2f : 0;
    return KnownIssuer(digits) ? 0.8f : 0.35f;
  }
};
}  // namespace

std::unique_ptr<Detector> MakeCardDetector() { return std::make_unique<CardDetector>(); }

}  // namespace mg::privacy
