// IP addresses. IPv4: exactly four dot-separated decimal octets (0..255, no
// leading zeros) not part of a longer dotted number, so version strings such
// as 1.2.3.4.5 are not addresses. IPv6: RFC 4291 text forms, full or
// compressed with "::", optionally ending in an IPv4 address.
#include <optional>

#include "privacy/chars.h"
#include "privacy/detectors.h"

namespace mg::privacy {
namespace {

const ContextWords kIpContext = {
    {"ip", "ipv4", "ipv6", "client_ip", "ip_address", "addr", "地址"},
    {"version", "ver", "release", "build", "firmware", "版本"},
    0.15f,
    0.6f,
};

// Parses `s` as a dotted-quad IPv4 address.
bool ParseIpv4(std::string_view s) {
  int octets = 0;
  size_t pos = 0;
  while (true) {
    size_t digits = 0;
    int value = 0;
    while (pos < s.size() && IsDigit(s[pos]) && digits < 4) {
      value = value * 10 + (s[pos] - '0');
      ++pos;
      ++digits;
    }
    if (digits == 0 || digits > 3 || value > 255) return false;
    if (digits > 1 && s[pos - digits] == '0') return false;
    ++octets;
    if (pos == s.size()) return octets == 4;
    if (s[pos] != '.' || octets == 4) return false;
    ++pos;
  }
}

class Ipv4Detector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kIpAddress; }
  std::vector<Pattern> patterns() const override {
    return {{"[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}"}};
  }
  ContextWords context() const override { return kIpContext; }

  size_t Examine(std::string_view text, size_t, size_t end,
                 std::vector<Candidate>* out) const override {
    size_t begin = end;
    while (begin > 0 && (IsDigit(text[begin - 1]) || text[begin - 1] == '.')) --begin;
    size_t stop = end;
    while (stop < text.size() &&
           (IsDigit(text[stop]) || (text[stop] == '.' && IsDigit(ByteAt(text, stop + 1))))) {
      ++stop;
    }
    if (begin < end && text[begin] == '.') return stop;  // ".1.2.3.4": part of something longer
    if (IsWordChar(ByteBefore(text, begin)) || IsWordChar(ByteAt(text, stop))) return stop;
    // The IPv4 tail of an IPv6 address ("::ffff:192.0.2.1") is the IPv6 detector's.
    if (ByteBefore(text, begin) == ':' &&
        (IsHexDigit(ByteBefore(text, begin - 1)) || ByteBefore(text, begin - 1) == ':')) {
      return stop;
    }
    if (!ParseIpv4(text.substr(begin, stop - begin))) return stop;
    out->push_back({type(), static_cast<uint32_t>(begin), static_cast<uint32_t>(stop), 0.85f});
    return stop;
  }
};

// Groups of an IPv6 address; nullopt when `s` is not one.
struct Ipv6Shape {
  int groups = 0;
  bool compressed = false;
};

std::optional<Ipv6Shape> ParseIpv6(std::string_view s) {
  Ipv6Shape shape;
  size_t pos = 0;
  if (s.starts_with("::")) {
    shape.compressed = true;
    pos = 2;
    if (pos == s.size()) return std::nullopt;  // "::" alone
  } else if (s.starts_with(":")) {
    return std::nullopt;
  }
  int units = 0;  // 16-bit units written
  while (pos < s.size()) {
    size_t hex = 0;
    size_t start = pos;
    while (pos < s.size() && IsHexDigit(s[pos]) && hex < 5) {
      ++pos;
      ++hex;
    }
    if (pos < s.size() && s[pos] == '.') {  // trailing IPv4: two units
      if (!ParseIpv4(s.substr(start))) return std::nullopt;
      units += 2;
      shape.groups += 2;
      pos = s.size();
      break;
    }
    if (hex == 0 || hex > 4) return std::nullopt;
    ++units;
    ++shape.groups;
    if (pos == s.size()) break;
    if (s[pos] != ':') return std::nullopt;
    ++pos;
    if (pos < s.size() && s[pos] == ':') {
      if (shape.compressed) return std::nullopt;  // a second "::"
      shape.compressed = true;
      ++pos;
      if (pos == s.size()) break;
    } else if (pos == s.size()) {
      return std::nullopt;  // ends in a single ':'
    }
  }
  if (shape.compressed ? units > 7 : units != 8) return std::nullopt;
  return shape;
}

bool IsIpv6Char(char c) { return IsHexDigit(c) || c == ':' || c == '.'; }

class Ipv6Detector final : public Detector {
 public:
  EntityType type() const override { return EntityType::kIpAddress; }
  std::vector<Pattern> patterns() const override {
    // "::", or three groups each followed by ':'.
    return {{"::"}, {"[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:"}};
  }
  ContextWords context() const override { return kIpContext; }

  size_t Examine(std::string_view text, size_t, size_t end,
                 std::vector<Candidate>* out) const override {
    size_t begin = end;
    while (begin > 0 && end - begin < 64 && IsIpv6Char(text[begin - 1])) --begin;
    size_t stop = end;
    while (stop < text.size() && stop - end < 64 && IsIpv6Char(text[stop])) ++stop;
    while (stop > end && text[stop - 1] == '.') --stop;
    while (begin < end && text[begin] == '.') ++begin;
    if (IsWordChar(ByteBefore(text, begin)) || IsWordChar(ByteAt(text, stop))) return stop;
    const std::optional<Ipv6Shape> shape = ParseIpv6(text.substr(begin, stop - begin));
    if (!shape) return stop;
    float score = 0.85f;
    if (shape->compressed) score = shape->groups >= 3 ? 0.7f : 0.4f;
    out->push_back({type(), static_cast<uint32_t>(begin), static_cast<uint32_t>(stop), score});
    return stop;
  }
};

}  // namespace

std::unique_ptr<Detector> MakeIpv4Detector() { return std::make_unique<Ipv4Detector>(); }
std::unique_ptr<Detector> MakeIpv6Detector() { return std::make_unique<Ipv6Detector>(); }

}  // namespace mg::privacy
