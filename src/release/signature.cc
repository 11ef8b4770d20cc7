#include "release/signature.h"

#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "release/encoding.h"

namespace mg::release {
namespace {

struct SignatureFields {
  std::string type;
  std::string key_id;
  std::string signature;
  std::optional<std::string> payload;
};

Result<SignatureFields> ParseFields(std::string_view text) {
  MG_RETURN_IF_ERROR(CheckJsonDepth(text).WithContext("signature file"));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return CorruptionError("not valid JSON");
  if (!j.contains("format") || !j["format"].is_string() ||
      j["format"].get<std::string>() != kSignatureFormat) {
    return CorruptionError("not a modelgate signature file");
  }
  if (!j.contains("version") || !j["version"].is_number_integer()) {
    return CorruptionError("signature file has no version");
  }
  if (j["version"].get<int64_t>() != kSignatureVersion) {
    return CorruptionError("unsupported signature format version " + j["version"].dump() +
                           " (this build reads version 1)");
  }
  for (const char* field : {"type", "key_id", "signature"}) {
    if (!j.contains(field) || !j[field].is_string()) {
      return CorruptionError(std::string("signature file lacks \"") + field + "\"");
    }
  }
  const bool has_payload = j.contains("payload");
  if (j.size() != (has_payload ? 6u : 5u))
    return CorruptionError("signature file has unknown fields");
  SignatureFields fields;
  fields.type = j["type"].get<std::string>();
  fields.key_id = j["key_id"].get<std::string>();
  Result<std::string> signature = Base64Decode(j["signature"].get<std::string>());
  if (!signature.ok() || signature->size() != 64) return CorruptionError("malformed signature");
  fields.signature = std::move(*signature);
  if (has_payload) {
    if (!j["payload"].is_string()) return CorruptionError("malformed payload");
    Result<std::string> payload = Base64Decode(j["payload"].get<std::string>());
    if (!payload.ok()) return CorruptionError("malformed payload (bad base64)");
    fields.payload = std::move(*payload);
  }
  return fields;
}

}  // namespace

std::string SignedMessage(std::string_view type, std::string_view payload) {
  std::string message = "modelgate-signature-v1\n";
  message.append(type);
  message.push_back('\n');
  message.append(payload);
  return message;
}

std::string MakeSignatureFile(const SigningKey& key, std::string_view type,
                              std::string_view payload, bool embed) {
  nlohmann::json j = {{"format", kSignatureFormat},
                      {"version", kSignatureVersion},
                      {"type", std::string(type)},
                      {"key_id", key.key_id()},
                      {"signature", Base64Encode(key.Sign(SignedMessage(type, payload)))}};
  if (embed) j["payload"] = Base64Encode(payload);
  return j.dump() + "\n";
}

Result<std::string> OpenSignatureFile(std::string_view text, const VerifyKey& key,
                                      std::string_view type,
                                      std::optional<std::string_view> detached) {
  MG_ASSIGN_OR_RETURN(SignatureFields fields, ParseFields(text));
  if (fields.type != type) {
    return InvalidArgumentError("this is a signed " +
                                (fields.type.size() <= 32 ? fields.type : std::string("?")) +
                                ", expected a " + std::string(type));
  }
  if (fields.key_id != key.key_id()) {
    return InvalidArgumentError("signed by another key (key id " +
                                (fields.key_id.size() <= 32 ? fields.key_id : std::string("?")) +
                                ", pinned key id " + key.key_id() + ")");
  }
  std::string payload;
  if (fields.payload) {
    if (detached) return CorruptionError("signature file unexpectedly embeds its payload");
    payload = std::move(*fields.payload);
  } else {
    if (!detached) return CorruptionError("signature file holds no payload");
    payload = std::string(*detached);
  }
  if (!key.Verify(SignedMessage(type, payload), fields.signature)) {
    return CorruptionError("signature does not match (the signed bytes were altered)");
  }
  return payload;
}

Result<std::string> UncheckedPayload(std::string_view text, std::string* key_id) {
  MG_ASSIGN_OR_RETURN(SignatureFields fields, ParseFields(text));
  if (!fields.payload) return CorruptionError("signature file holds no payload");
  *key_id = fields.key_id;
  return std::move(*fields.payload);
}

}  // namespace mg::release
