// Secrets: API keys and tokens in well-known formats, and private-key PEM
// blocks. Each pattern is a fixed-length prefix; Examine() reads the rest of
// the token and checks its length and boundaries.
//
//   AWS access key id     (AKIA|ASIA|ABIA|ACCA) + 16 upper-case alphanumerics
//   GitHub token          gh[pousr]_ + 36 alphanumerics; github_pat_ + 22+ [A-Za-z0-9_]
//   Slack token           xox[abposr]- + 10+ [A-Za-z0-9-]
//   Stripe secret key     (sk|rk)_(live|test)_ + 16+ alphanumerics
//   Google API key        AIza + 35 [A-Za-z0-9_-]
//   Private key           -----BEGIN ... PRIVATE KEY----- through its END line
//   JSON Web Token        eyJ... . eyJ... . signature (header decodes to JSON)
//   modelgate API key     mg_ + 43 base64url characters (256 random bits, as
//                         src/store/api_key.cc issues them), or mg_ + 40+
//                         base62 characters (docs/privacy.md)
#include <string>

#include "privacy/chars.h"
#include "privacy/detectors.h"

namespace mg::privacy {
namespace {

enum SecretPattern : size_t {
  kAws,
  kGithub,
  kGithubPat,
  kSlack,
  kStripe,
  kGoogle,
  kPrivateKey,
  kJwt,
  kModelgate,
};

struct TokenRule {
  size_t prefix;  // length of the pattern's match
  bool (*is_char)(char);
  size_t min_length;
  size_t max_length;
  float score;
};

bool Base62(char c) { return IsAlnum(c); }
bool UpperAlnum(char c) { return IsUpper(c) || IsDigit(c); }
bool WordChar(char c) { return IsWordChar(c); }
bool SlackChar(char c) { return IsAlnum(c) || c == '-'; }

constexpr TokenRule kRules[] = {
    {20, UpperAlnum, 20, 20, 0.9f},        // kAws
    {40, Base62, 40, 40, 0.95f},           // kGithub
    {33, WordChar, 40, 255, 0.95f},        // kGithubPat
    {15, SlackChar, 15, 255, 0.9f},        // kSlack
    {24, Base62, 24, 255, 0.9f},           // kStripe
    {39, IsBase64UrlChar, 39, 39, 0.85f},  // kGoogle
    {0, nullptr, 0, 0, 1.0f},              // kPrivateKey: its own rule
    {0, nullptr, 0, 0, 0.9f},              // kJwt: its own rule
    {0, nullptr, 0, 0, 0.95f},             // kModelgate: its own rule
};

// Decodes base64url without padding; false on a bad length.
bool DecodeBase64Url(std::string_view in, std::string* out) {
  if (in.size() % 4 == 1) return false;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : in) {
    int value;
    if (IsUpper(c))
      value = c - 'A';
    else if (IsLower(c))
      value = c - 'a' + 26;
    else if (IsDigit(c))
      value = c - '0' + 52;
    else if (c == '-')
      value = 62;
    else if (c == '_')
      value = 63;
    else
      return false;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return true;
}

// End of a JWT starting at `begin` ("eyJ..."), or 0 when it is not one.
size_t JwtEnd(std::string_view text, size_t begin) {
  size_t pos = begin;
  size_t dots[2] = {0, 0};
  int segment = 0;
  while (pos < text.size() && pos - begin < 16384) {
    const char c = text[pos];
    if (c == '.' && segment < 2) {
      dots[segment++] = pos;
    } else if (!IsBase64UrlChar(c)) {
      break;
    }
    ++pos;
  }
  if (segment < 2 || dots[0] - begin < 10) return 0;
  if (text.substr(dots[0] + 1, 3) != "eyJ" || dots[1] - dots[0] < 11) return 0;
  std::string header;
  if (!DecodeBase64Url(text.substr(begin, dots[0] - begin), &header)) return 0;
  if (header.find("\"alg\"") == std::string::npos && header.find("\"typ\"") == std::string::npos) {
    return 0;
  }
  return pos;
}

// End of a PEM private-key block whose header ends at `header_end`: the end
// of its END line, or, without one, of the base64 body that follows.
size_t PemEnd(std::string_view text, size_t header_end) {
  const size_t footer = text.find("-----END ", header_end);
  if (footer != std::string_view::npos && footer - header_end < 65536) {
    const size_t close = text.find("-----", footer + 9);
    if (close != std::string_view::npos && close - footer < 80) return close + 5;
  }
  size_t pos = header_end;
  while (pos < text.size() && pos - header_end < 65536) {
    const char c = text[pos];
    if (!(IsAlnum(c) || c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r')) break;
    ++pos;
  }
  while (pos > header_end && (text[pos - 1] == '\n' || text[pos - 1] == '\r')) --pos;
  return pos;
}

// Characters of a modelgate key after "mg_": issued keys have exactly this
// many base64url characters (32 random bytes, unpadded).
constexpr size_t kModelgateKeyBody = 43;
constexpr size_t kModelgatePrefix = 3 + 40;  // the pattern's match

// True when `body` mixes at least two of upper case, lower case and digits:
// 43 random base64url characters do (all but 1 in 10^15), a snake_case
// identifier that happens to start with "mg_" does not.
bool LooksRandom(std::string_view body) {
  bool upper = false, lower = false, digit = false;
  for (char c : body) {
    upper = upper || IsUpper(c);
    lower = lower || IsLower(c);
    digit = digit || IsDigit(c);
  }
  return static_cast<int>(upper) + static_cast<int>(lower) + static_cast<int>(digit) >= 2;
}

// A modelgate API key whose first 43 characters end at `end`.
size_t ExamineModelgateKey(std::string_view text, size_t end, std::vector<Candidate>* out) {
  const size_t begin = end - kModelgatePrefix;
  if (IsBase64UrlChar(ByteBefore(text, begin))) return end;  // inside a longer token
  size_t stop = begin + 3;
  bool base62 = true;
  while (stop < text.size() && stop - begin < 3 + 255 && IsBase64UrlChar(text[stop])) {
    base62 = base62 && IsAlnum(text[stop]);
    ++stop;
  }
  if (IsBase64UrlChar(ByteAt(text, stop))) return stop;
  const std::string_view body = text.substr(begin + 3, stop - begin - 3);
  const bool issued = body.size() == kModelgateKeyBody && LooksRandom(body);
  if (!issued && !(base62 && body.size() >= 40)) return stop;
  out->push_back(
      {EntityType::kSecret, static_cast<uint32_t>(begin), static_cast<uint32_t>(stop), 0.95f});
  return stop;
}

class SecretDetector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kSecret; }

  // In SecretPattern order.
  std::vector<Pattern> patterns() const override {
    return {{"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}"},
            {"gh[pousr]_[A-Za-z0-9]{36}"},
            {"github_pat_[A-Za-z0-9_]{22}"},
            {"xox[abposr]-[A-Za-z0-9\\-]{10}"},
            {"[sr]k_(?:live|test)_[A-Za-z0-9]{16}"},
            {"AIza[0-9A-Za-z_\\-]{35}"},
            {"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----"},
            {"eyJ[A-Za-z0-9_\\-]{10}"},
            {"mg_[A-Za-z0-9_\\-]{40}"}};
  }

  ContextWords context() const override {
    return {};  // the formats are specific enough
  }

  size_t Examine(std::string_view text, size_t pattern, size_t end,
                 std::vector<Candidate>* out) const override {
    if (pattern == kPrivateKey) {
      const size_t begin = text.rfind("-----BEGIN ", end - 1);
      const size_t stop = PemEnd(text, end);
      out->push_back({type(), static_cast<uint32_t>(begin), static_cast<uint32_t>(stop), 1.0f});
      return stop;
    }
    if (pattern == kJwt) {
      const size_t begin = end - 13;
      if (IsBase64UrlChar(ByteBefore(text, begin))) return end;
      const size_t stop = JwtEnd(text, begin);
      if (stop == 0) return end;
      out->push_back({type(), static_cast<uint32_t>(begin), static_cast<uint32_t>(stop), 0.9f});
      return stop;
    }
    if (pattern == kModelgate) return ExamineModelgateKey(text, end, out);
    const TokenRule& rule = kRules[pattern];
    const size_t begin = end - rule.prefix;
    if (IsWordChar(ByteBefore(text, begin)) || ByteBefore(text, begin) == '-') return end;
    size_t stop = end;
    while (stop < text.size() && stop - begin < rule.max_length && rule.is_char(text[stop])) ++stop;
    const size_t length = stop - begin;
    if (length < rule.min_length || IsWordChar(ByteAt(text, stop))) return stop;
    out->push_back({type(), static_cast<uint32_t>(begin), static_cast<uint32_t>(stop), rule.score});
    return stop;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeSecretDetector() { return std::make_unique<SecretDetector>(); }

}  // namespace mg::privacy
