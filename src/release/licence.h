// Licences: what a vendor grants one licensee for one model, signed with the
// vendor's Ed25519 key. A licence file is a signature file (signature.h) of
// type "licence" whose embedded payload is the compact JSON of the licence
// object; the signature covers exactly those bytes, so nothing is ever
// re-serialised before checking. Layout: docs/release-formats.md.
//
// Dates are UTC calendar days: a licence is valid from 00:00:00 UTC on
// `not_before` through 23:59:59 UTC on `expires`. The current time is always
// passed in, so expiry is testable with any clock. Pure functions;
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "release/keys.h"

namespace mg::release {

inline constexpr int kLicenceVersion = 1;
inline constexpr char kLicenceType[] = "licence";
// A feature "output:<policy>" limits what the server's replies show
// (base/output_policy.h's compact form, e.g. "output:label",
// "output:scores:2"); several such features all apply.
inline constexpr char kOutputFeaturePrefix[] = "output:";

struct Licence {
  int version = kLicenceVersion;
  std::string licence_id;             // 32 hex digits, random
  std::string licensee;               // who it is for
  std::string model_id;               // the release's model id
  std::string issued_at;              // "YYYY-MM-DDTHH:MM:SSZ"
  std::string not_before;             // "YYYY-MM-DD"
  std::string expires;                // "YYYY-MM-DD", last valid day
  std::vector<std::string> features;  // e.g. classify, embed, recommend
  std::optional<uint64_t> max_requests;
  std::optional<uint64_t> max_tokens_per_day;
  std::string vendor_key_id;  // key id of the signing key
};

// What the deployment needs from a licence.
struct LicenceRequirements {
  std::string model_id;
  std::chrono::sys_seconds now;
  std::string feature;  // empty: no feature check
};

// Days since 1970-01-01 of a strict "YYYY-MM-DD" (a real calendar date;
// base/time.h's ParseUtcDate).
Result<int64_t> ParseDate(std::string_view text);

// Fills licence_id, issued_at and vendor_key_id, validates the rest and
// returns the licence file's text.
Result<std::string> IssueLicence(Licence licence, const SigningKey& key,
                                 std::chrono::sys_seconds now);

// Signature by the pinned key, known version, well-formed fields.
Result<Licence> VerifyLicenceSignature(std::string_view text, const VerifyKey& vendor);

// All of the above plus model id, validity window at `need.now` and feature.
Result<Licence> VerifyLicence(std::string_view text, const VerifyKey& vendor,
                              const LicenceRequirements& need);
Status CheckLicenceTerms(const Licence& licence, const LicenceRequirements& need);

// The licence without checking its signature: for display only.
Result<Licence> ReadLicenceUnchecked(std::string_view text);

// The licence object as pretty JSON, for display.
std::string LicenceToDisplayJson(const Licence& licence);

}  // namespace mg::release
