#include "release/licence.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "base/output_policy.h"
#include "base/time.h"
#include "release/encoding.h"
#include "release/signature.h"

namespace mg::release {
namespace {

using nlohmann::json;

json ToJson(const Licence& licence) {
  json j = {{"version", licence.version},
            {"licence_id", licence.licence_id},
            {"licensee", licence.licensee},
            {"model_id", licence.model_id},
            {"issued_at", licence.issued_at},
            {"not_before", licence.not_before},
            {"expires", licence.expires},
            {"features", licence.features},
            {"vendor_key_id", licence.vendor_key_id}};
  json limits = json::object();
  if (licence.max_requests) limits["max_requests"] = *licence.max_requests;
  if (licence.max_tokens_per_day) limits["max_tokens_per_day"] = *licence.max_tokens_per_day;
  j["limits"] = limits;
  return j;
}

Status ValidateFields(const Licence& licence) {
  if (licence.licensee.empty()) return InvalidArgumentError("licence names no licensee");
  if (licence.model_id.empty()) return InvalidArgumentError("licence names no model id");
  MG_ASSIGN_OR_RETURN(int64_t first, ParseDate(licence.not_before));
  MG_ASSIGN_OR_RETURN(int64_t last, ParseDate(licence.expires));
  if (last < first) return InvalidArgumentError("licence expires before it starts");
  if (licence.features.empty()) return InvalidArgumentError("licence grants no features");
  for (const std::string& feature : licence.features) {
    if (feature.starts_with(kOutputFeaturePrefix)) {
      MG_RETURN_IF_ERROR(ParseOutputPolicy(std::string_view(feature).substr(
                                               std::string_view(kOutputFeaturePrefix).size()))
                             .status()
                             .WithContext("licence feature \"" + feature + "\""));
      continue;
    }
    if (feature.empty() ||
        feature.find_first_not_of("abcdefghijklmnopqrstuvwxyz_-") != std::string::npos) {
      return InvalidArgumentError("invalid feature name in licence");
    }
  }
  return Status::Ok();
}

Result<std::string> GetString(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) {
    return CorruptionError(std::string("licence lacks \"") + field + "\"");
  }
  return j[field].get<std::string>();
}

Result<Licence> ParsePayload(std::string_view payload) {
  MG_RETURN_IF_ERROR(CheckJsonDepth(payload).WithContext("licence"));
  json j = json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return CorruptionError("licence is not a JSON object");
  if (!j.contains("version") || !j["version"].is_number_integer()) {
    return CorruptionError("licence has no format version");
  }
  if (j["version"].get<int64_t>() != kLicenceVersion) {
    return CorruptionError("licence format version " + j["version"].dump() +
                           " is not supported (this build reads version 1)");
  }
  Licence licence;
  MG_ASSIGN_OR_RETURN(licence.licence_id, GetString(j, "licence_id"));
  MG_ASSIGN_OR_RETURN(licence.licensee, GetString(j, "licensee"));
  MG_ASSIGN_OR_RETURN(licence.model_id, GetString(j, "model_id"));
  MG_ASSIGN_OR_RETURN(licence.issued_at, GetString(j, "issued_at"));
  MG_ASSIGN_OR_RETURN(licence.not_before, GetString(j, "not_before"));
  MG_ASSIGN_OR_RETURN(licence.expires, GetString(j, "expires"));
  MG_ASSIGN_OR_RETURN(licence.vendor_key_id, GetString(j, "vendor_key_id"));
  if (!j.contains("features") || !j["features"].is_array()) {
    return CorruptionError("licence lacks \"features\"");
  }
  for (const json& feature : j["features"]) {
    if (!feature.is_string()) return CorruptionError("licence features must be strings");
    licence.features.push_back(feature.get<std::string>());
  }
  if (!j.contains("limits") || !j["limits"].is_object()) {
    return CorruptionError("licence lacks \"limits\"");
  }
  for (const auto& [name, value] : j["limits"].items()) {
    if (!value.is_number_unsigned()) return CorruptionError("licence limit is not a count");
    // An absent limit means none; 0 would be ambiguous, and no issuer writes it.
    if (value.get<uint64_t>() == 0) {
      return CorruptionError("licence limit " + name + " is 0 (an absent limit means none)");
    }
    if (name == "max_requests") {
      licence.max_requests = value.get<uint64_t>();
    } else if (name == "max_tokens_per_day") {
      licence.max_tokens_per_day = value.get<uint64_t>();
    } else {
      return CorruptionError("licence has an unknown limit");
    }
  }
  if (j.size() != 10) return CorruptionError("licence has unknown fields");
  // Server counters and metrics are keyed by it.
  if (licence.licence_id.size() != 32 ||
      licence.licence_id.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return CorruptionError("licence id is not 32 hexadecimal digits");
  }
  Status valid = ValidateFields(licence);
  if (!valid.ok()) return CorruptionError(valid.message());
  return licence;
}

}  // namespace

Result<int64_t> ParseDate(std::string_view text) {
  MG_ASSIGN_OR_RETURN(std::chrono::sys_days day, ParseUtcDate(text));
  return static_cast<int64_t>(day.time_since_epoch().count());
}

Result<std::string> IssueLicence(Licence licence, const SigningKey& key,
                                 std::chrono::sys_seconds now) {
  EnsureSodium();
  licence.version = kLicenceVersion;
  unsigned char id[16];
  randombytes_buf(id, sizeof(id));
  licence.licence_id = HexEncode(std::string_view(reinterpret_cast<char*>(id), sizeof(id)));
  licence.issued_at = FormatUtcDateTime(now);
  if (licence.not_before.empty()) licence.not_before = licence.issued_at.substr(0, 10);
  licence.vendor_key_id = key.key_id();
  MG_RETURN_IF_ERROR(ValidateFields(licence));
  return MakeSignatureFile(key, kLicenceType, ToJson(licence).dump(), /*embed=*/true);
}

Result<Licence> VerifyLicenceSignature(std::string_view text, const VerifyKey& vendor) {
  EnsureSodium();
  Result<std::string> payload = OpenSignatureFile(text, vendor, kLicenceType, std::nullopt);
  if (!payload.ok()) return payload.status().WithContext("licence rejected");
  Result<Licence> licence = ParsePayload(*payload);
  if (!licence.ok()) return licence.status().WithContext("licence rejected");
  if (licence->vendor_key_id != vendor.key_id()) {
    return CorruptionError("licence rejected: it names another vendor key");
  }
  return licence;
}

Status CheckLicenceTerms(const Licence& licence, const LicenceRequirements& need) {
  if (licence.model_id != need.model_id) {
    return InvalidArgumentError("licence is for model \"" + licence.model_id + "\", not \"" +
                                need.model_id + "\"");
  }
  MG_ASSIGN_OR_RETURN(int64_t first_day, ParseDate(licence.not_before));
  MG_ASSIGN_OR_RETURN(int64_t last_day, ParseDate(licence.expires));
  const int64_t today = std::chrono::floor<std::chrono::days>(need.now).time_since_epoch().count();
  if (today < first_day) {
    return InvalidArgumentError("licence is not valid before " + licence.not_before);
  }
  if (today > last_day) return InvalidArgumentError("licence expired on " + licence.expires);
  if (!need.feature.empty()) {
    bool granted = false;
    for (const std::string& feature : licence.features) granted |= feature == need.feature;
    if (!granted) {
      return InvalidArgumentError("licence does not grant the \"" + need.feature + "\" feature");
    }
  }
  return Status::Ok();
}

Result<Licence> VerifyLicence(std::string_view text, const VerifyKey& vendor,
                              const LicenceRequirements& need) {
  MG_ASSIGN_OR_RETURN(Licence licence, VerifyLicenceSignature(text, vendor));
  Status terms = CheckLicenceTerms(licence, need);
  if (!terms.ok()) return terms.WithContext("licence rejected");
  return licence;
}

Result<Licence> ReadLicenceUnchecked(std::string_view text) {
  std::string key_id;
  Result<std::string> payload = UncheckedPayload(text, &key_id);
  if (!payload.ok()) return payload.status().WithContext("not a licence");
  return ParsePayload(*payload);
}

std::string LicenceToDisplayJson(const Licence& licence) { return ToJson(licence).dump(2); }

}  // namespace mg::release
