#include "privacy/pseudonym.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "privacy/chars.h"
#include "privacy/checksums.h"
#include "privacy/date_parse.h"

namespace mg::privacy {
namespace {

// Deterministic random bytes: ChaCha20 keyed by HMAC(key, type || 0 || value).
class Stream {
 public:
  Stream(EntityType type, std::string_view value, const KeyBytes& key) {
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, key.data(), key.size());
    const std::string_view name = EntityTypeName(type);
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const uint8_t*>(name.data()),
                                  name.size());
    const uint8_t zero = 0;
    crypto_auth_hmacsha256_update(&state, &zero, 1);
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const uint8_t*>(value.data()),
                                  value.size());
    crypto_auth_hmacsha256_final(&state, seed_.data());
  }
  ~Stream() {
    sodium_memzero(seed_.data(), seed_.size());
    sodium_memzero(block_.data(), block_.size());
  }

  uint8_t Byte() {
    if (used_ == block_.size()) Refill();
    return block_[used_++];
  }
  // Uniform in [0, n), n <= 256.
  int Below(int n) {
    const int limit = 256 - 256 % n;
    int value;
    do {
      value = Byte();
    } while (value >= limit);
    return value % n;
  }
  char Digit() { return static_cast<char>('0' + Below(10)); }
  char Hex() { return "0123456789abcdef"[Below(16)]; }
  // A character of the same class as `c`; other characters unchanged.
  char SameClass(char c) {
    if (IsDigit(c)) return Digit();
    if (IsUpper(c)) return static_cast<char>('A' + Below(26));
    if (IsLower(c)) return static_cast<char>('a' + Below(26));
    return c;
  }
  std::string HexString(size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out.push_back(Hex());
    return out;
  }

 private:
  void Refill() {
    std::array<uint8_t, crypto_stream_chacha20_NONCEBYTES> nonce{};
    nonce[0] = static_cast<uint8_t>(counter_++);
    crypto_stream_chacha20(block_.data(), block_.size(), nonce.data(), seed_.data());
    used_ = 0;
  }

  std::array<uint8_t, crypto_auth_hmacsha256_BYTES> seed_;
  std::array<uint8_t, 256> block_{};
  size_t used_ = 256;
  int counter_ = 0;
};

std::string SameClass(std::string_view value, Stream* stream) {
  std::string out(value);
  for (char& c : out) c = stream->SameClass(c);
  return out;
}

// Digits replaced, punctuation kept; a mainland-China mobile keeps "1[3-9]",
// a North-American number keeps valid area and exchange first digits, and
// otherwise the first digit keeps its zero/non-zero class (trunk prefixes).
std::string Phone(std::string_view value, Stream* stream) {
  std::string digits = DigitsOf(value);
  if (digits.empty()) return std::string(value);
  size_t national = 0;  // start of the national number in `digits`
  if (value.starts_with("+") && digits.starts_with("86") && digits.size() == 13) national = 2;
  // "+1 ..." or "1-415-..." (a mobile 1[3-9]X XXXX XXXX has no separator after the 1).
  if (value.starts_with("+1") ||
      (digits.size() == 11 && value.starts_with('1') && !IsDigit(ByteAt(value, 1)))) {
    national = 1;
  }
  const std::string original = digits;
  for (size_t pos = national; pos < digits.size(); ++pos) digits[pos] = stream->Digit();
  const std::string_view rest = std::string_view(original).substr(national);
  if (rest.size() == 11 && rest[0] == '1' && rest[1] >= '3') {
    digits[national] = '1';
    digits[national + 1] = rest[1];
  } else if (rest.size() == 10 && rest[0] >= '2' && rest[3] >= '2') {
    digits[national] = static_cast<char>('2' + stream->Below(8));
    digits[national + 3] = static_cast<char>('2' + stream->Below(8));
  } else if (rest[0] == '0') {
    digits[national] = '0';
  } else if (digits[national] == '0') {
    digits[national] = static_cast<char>('1' + stream->Below(9));
  }
  std::string out(value);
  size_t next = 0;
  for (char& c : out) {
    if (IsDigit(c)) c = digits[next++];
  }
  return out;
}

std::string Card(std::string_view value, Stream* stream) {
  std::string out(value);
  std::string digits;
  size_t last = 0;
  for (size_t pos = 0; pos < out.size(); ++pos) {
    if (!IsDigit(out[pos])) continue;
    if (!digits.empty()) out[pos] = stream->Digit();
    digits.push_back(out[pos]);
    last = pos;
  }
  if (digits.size() < 2) return out;
  digits.pop_back();
  out[last] = LuhnCheckDigit(digits);
  return out;
}

std::string Iban(std::string_view value, Stream* stream) {
  std::string out(value);
  std::string compact;
  size_t count = 0;
  for (char& c : out) {
    if (!IsAlnum(c)) continue;
    if (count >= 4) c = stream->SameClass(c);
    if (count != 2 && count != 3) compact.push_back(ToUpper(c));
    ++count;
  }
  if (compact.size() < 3) return out;
  const std::string check = IbanCheckDigits(compact.substr(0, 2), compact.substr(2));
  count = 0;
  for (char& c : out) {
    if (!IsAlnum(c)) continue;
    if (count == 2 || count == 3) c = check[count - 2];
    ++count;
  }
  return out;
}

std::string Ip(std::string_view value, Stream* stream) {
  if (value.find(':') == std::string_view::npos) {
    return "10." + std::to_string(stream->Byte()) + "." + std::to_string(stream->Byte()) + "." +
           std::to_string(1 + stream->Below(254));
  }
  std::string out = "fd";
  out.append(stream->HexString(2));
  for (int group = 0; group < 7; ++group) {
    out.push_back(':');
    out.append(stream->HexString(4));
  }
  return out;
}

std::string Url(std::string_view value, Stream* stream) {
  const size_t scheme = value.find("://");
  const std::string prefix =
      scheme == std::string_view::npos ? "www." : std::string(value.substr(0, scheme + 3));
  return prefix + "example.com/" + stream->HexString(8);
}

std::string Ssn(std::string_view value, Stream* stream) {
  int area;
  do {
    area = stream->Below(9) * 100 + stream->Below(10) * 10 + stream->Below(10);  // 0..899
  } while (area == 0 || area == 666);
  std::string digits = std::string(3 - std::to_string(area).size(), '0') + std::to_string(area);
  digits += static_cast<char>('0' + stream->Below(10));
  digits += static_cast<char>('1' + stream->Below(9));
  digits += static_cast<char>('1' + stream->Below(9));
  for (int i = 0; i < 3; ++i) digits += stream->Digit();
  std::string out(value);
  size_t next = 0;
  for (char& c : out) {
    if (IsDigit(c) && next < digits.size()) c = digits[next++];
  }
  return out;
}

std::string TwoDigits(int value) {
  return {static_cast<char>('0' + value / 10), static_cast<char>('0' + value % 10)};
}

// A random date in 1950..2005.
void RandomDate(Stream* stream, int* year, int* month, int* day) {
  *year = 1950 + stream->Below(56);
  *month = 1 + stream->Below(12);
  *day = 1 + stream->Below(DaysInMonth(*year, *month));
}

std::string CnResidentId(std::string_view value, Stream* stream) {
  std::string id;
  for (char c : value) {
    if (c != ' ') id.push_back(c);
  }
  if (id.size() != 18) return SameClass(value, stream);
  for (size_t pos = 2; pos < 6; ++pos) id[pos] = stream->Digit();
  int year, month, day;
  RandomDate(stream, &year, &month, &day);
  id.replace(6, 8, std::to_string(year) + TwoDigits(month) + TwoDigits(day));
  for (size_t pos = 14; pos < 17; ++pos) id[pos] = stream->Digit();
  char check = Gb11643CheckChar(id.substr(0, 17));
  if (check == 'X' && value.back() == 'x') check = 'x';
  id[17] = check;
  std::string out(value);
  size_t next = 0;
  for (char& c : out) {
    if (c != ' ') c = id[next++];
  }
  return out;
}

std::string CnUscc(std::string_view value, Stream* stream) {
  if (value.size() != 18) return SameClass(value, stream);
  std::string code(value);
  for (size_t pos = 2; pos < 8; ++pos) code[pos] = stream->Digit();
  for (size_t pos = 8; pos < 17; ++pos) {
    code[pos] = kUsccAlphabet[static_cast<size_t>(stream->Below(31))];
  }
  code[17] = Gb32100CheckChar(code.substr(0, 17));
  return code;
}

std::string Date(std::string_view value, Stream* stream) {
  const std::optional<ParsedDate> parsed = ParseDate(value);
  if (!parsed) return SameClass(value, stream);
  int year, month, day;
  RandomDate(stream, &year, &month, &day);
  std::string out(value);
  // Replace from the last part to the first so earlier offsets stay valid.
  struct Piece {
    DatePart part;
    std::string text;
  };
  std::vector<Piece> pieces;
  const std::string year_text = std::to_string(year);
  pieces.push_back(
      {parsed->year_part, parsed->year_part.size == 2 ? year_text.substr(2) : year_text});
  std::string month_text = TwoDigits(month);
  if (parsed->month_is_name) {
    month_text = std::string(MonthName(month, parsed->month_part.size > 3));
    if (IsLower(value[parsed->month_part.begin])) month_text[0] = ToLower(month_text[0]);
  } else if (parsed->month_part.size == 1 && month < 10) {
    month_text = std::to_string(month);
  }
  pieces.push_back({parsed->month_part, month_text});
  pieces.push_back({parsed->day_part,
                    parsed->day_part.size == 1 && day < 10 ? std::to_string(day) : TwoDigits(day)});
  std::sort(pieces.begin(), pieces.end(),
            [](const Piece& a, const Piece& b) { return a.part.begin > b.part.begin; });
  for (const Piece& piece : pieces) out.replace(piece.part.begin, piece.part.size, piece.text);
  return out;
}

std::string Secret(std::string_view value, Stream* stream) {
  static constexpr std::string_view kPrefixes[] = {
      "github_pat_", "ghp_",  "gho_",  "ghu_",  "ghs_",     "ghr_",     "xoxb-",    "xoxa-",
      "xoxp-",       "xoxo-", "xoxr-", "xoxs-", "sk_live_", "sk_test_", "rk_live_", "rk_test_",
      "AKIA",        "ASIA",  "ABIA",  "ACCA",  "AIza",     "mg_"};
  if (value.starts_with("-----BEGIN ")) {
    // Keep the BEGIN and END lines; replace the body.
    const size_t body = value.find('\n');
    const size_t footer = value.rfind("-----END ");
    if (body == std::string_view::npos) return std::string(value);
    const size_t body_end =
        footer == std::string_view::npos || footer < body ? value.size() : footer;
    return std::string(value.substr(0, body)) +
           SameClass(value.substr(body, body_end - body), stream) +
           std::string(value.substr(body_end));
  }
  for (std::string_view prefix : kPrefixes) {
    if (value.starts_with(prefix)) {
      return std::string(prefix) + SameClass(value.substr(prefix.size()), stream);
    }
  }
  return SameClass(value, stream);
}

}  // namespace

std::string Pseudonym(EntityType type, std::string_view value, const KeyBytes& pseudonym_key) {
  Stream stream(type, value, pseudonym_key);
  switch (type) {
    case EntityType::kEmailAddress:
      return "user-" + stream.HexString(6) + "@example.com";
    case EntityType::kPhoneNumber:
      return Phone(value, &stream);
    case EntityType::kCreditCard:
      return Card(value, &stream);
    case EntityType::kIbanCode:
      return Iban(value, &stream);
    case EntityType::kIpAddress:
      return Ip(value, &stream);
    case EntityType::kUrl:
      return Url(value, &stream);
    case EntityType::kUsSsn:
      return Ssn(value, &stream);
    case EntityType::kCnResidentId:
      return CnResidentId(value, &stream);
    case EntityType::kCnUscc:
      return CnUscc(value, &stream);
    case EntityType::kDateTime:
      return Date(value, &stream);
    case EntityType::kSecret:
      return Secret(value, &stream);
    case EntityType::kPerson:
    case EntityType::kLocation:
    case EntityType::kOrganization:
      break;
  }
  return SameClass(value, &stream);
}

}  // namespace mg::privacy
