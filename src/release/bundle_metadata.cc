// The clear metadata of a bundle: JSON writer and strict parser, and the
// encrypted sizes its layout implies.
#include <nlohmann/json.hpp>

#include "base/json_limits.h"
#include "release/bundle.h"
#include "release/manifest.h"

namespace mg::release {
namespace {

using nlohmann::json;

constexpr uint64_t kStreamHeaderBytes = 24;  // crypto_secretstream_xchacha20poly1305_HEADERBYTES
constexpr uint64_t kChunkTagBytes = 17;      // crypto_secretstream_xchacha20poly1305_ABYTES

Status Missing(const char* field) {
  return CorruptionError(std::string("bundle metadata lacks \"") + field + "\"");
}

Result<std::string> GetString(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) return Missing(field);
  return j[field].get<std::string>();
}

Result<uint64_t> GetUnsigned(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_number_unsigned()) return Missing(field);
  return j[field].get<uint64_t>();
}

bool IsHex(const std::string& s, size_t size) {
  return s.size() == size && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

std::string BundleMetadataToJson(const BundleMetadata& m) {
  json files = json::array();
  for (const BundleFile& file : m.files)
    files.push_back({{"path", file.path}, {"size", file.size}});
  json j = {{"format", kBundleFormat},
            {"version", m.version},
            {"model_id", m.model_id},
            {"release_mode", m.release_mode},
            {"labels", m.labels},
            {"license", m.license},
            {"created_at", m.created_at},
            {"signer_key_id", m.signer_key_id},
            {"signer_public_key", m.signer_public_key},
            {"deploy_key_id", m.deploy_key_id},
            {"require_licence", m.require_licence},
            {"chunk_size", m.chunk_size},
            {"stream_chunks", m.stream_chunks},
            {"files", files}};
  if (m.release_mode == "hybrid") {
    j["base"] = {{"model_id", m.base_model_id}, {"weights_sha256", m.base_weights_sha256}};
  }
  return j.dump();
}

Result<BundleMetadata> ParseBundleMetadata(std::string_view text) {
  MG_RETURN_IF_ERROR(CheckJsonDepth(text).WithContext("bundle metadata"));
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return CorruptionError("bundle metadata is not a JSON object");
  }
  MG_ASSIGN_OR_RETURN(std::string format, GetString(j, "format"));
  if (format != kBundleFormat) return CorruptionError("not a modelgate bundle");
  BundleMetadata m;
  MG_ASSIGN_OR_RETURN(uint64_t version, GetUnsigned(j, "version"));
  if (version != kBundleVersion) {
    return CorruptionError("bundle metadata version " + std::to_string(version) +
                           " is not supported (this build reads version 1)");
  }
  m.version = static_cast<uint32_t>(version);
  MG_ASSIGN_OR_RETURN(m.model_id, GetString(j, "model_id"));
  MG_ASSIGN_OR_RETURN(m.release_mode, GetString(j, "release_mode"));
  MG_ASSIGN_OR_RETURN(m.license, GetString(j, "license"));
  MG_ASSIGN_OR_RETURN(m.created_at, GetString(j, "created_at"));
  MG_ASSIGN_OR_RETURN(m.signer_key_id, GetString(j, "signer_key_id"));
  MG_ASSIGN_OR_RETURN(m.signer_public_key, GetString(j, "signer_public_key"));
  MG_ASSIGN_OR_RETURN(m.deploy_key_id, GetString(j, "deploy_key_id"));
  MG_ASSIGN_OR_RETURN(m.chunk_size, GetUnsigned(j, "chunk_size"));
  MG_ASSIGN_OR_RETURN(m.stream_chunks, GetUnsigned(j, "stream_chunks"));
  if (!j.contains("require_licence") || !j["require_licence"].is_boolean()) {
    return Missing("require_licence");
  }
  m.require_licence = j["require_licence"].get<bool>();
  if (m.model_id.empty()) return CorruptionError("bundle metadata has an empty model id");
  if (m.release_mode != "closed" && m.release_mode != "hybrid") {
    return CorruptionError("bundle release mode must be closed or hybrid");
  }
  if (!IsHex(m.signer_key_id, 16) || !IsHex(m.deploy_key_id, 16)) {
    return CorruptionError("bundle metadata has a malformed key id");
  }
  if (m.chunk_size < 4096 || m.chunk_size > (uint64_t{64} << 20) || m.stream_chunks == 0 ||
      m.stream_chunks > 4096) {
    return CorruptionError("bundle chunk layout out of range");
  }
  if (!j.contains("labels") || !j["labels"].is_array()) return Missing("labels");
  for (const json& label : j["labels"]) {
    if (!label.is_string()) return CorruptionError("bundle labels must be strings");
    m.labels.push_back(label.get<std::string>());
  }
  size_t expected_fields = 14;
  if (m.release_mode == "hybrid") {
    if (!j.contains("base") || !j["base"].is_object() || j["base"].size() != 2) {
      return Missing("base");
    }
    MG_ASSIGN_OR_RETURN(m.base_model_id, GetString(j["base"], "model_id"));
    MG_ASSIGN_OR_RETURN(m.base_weights_sha256, GetString(j["base"], "weights_sha256"));
    if (!IsHex(m.base_weights_sha256, 64)) {
      return CorruptionError("bundle metadata has a malformed base weights SHA-256");
    }
    ++expected_fields;
  }
  if (j.size() != expected_fields) return CorruptionError("bundle metadata has unknown fields");
  if (!j.contains("files") || !j["files"].is_array() || j["files"].empty()) {
    return Missing("files");
  }
  if (j["files"].size() > kBundleMaxFiles) {
    return CorruptionError("bundle lists " + std::to_string(j["files"].size()) +
                           " files, more than the " + std::to_string(kBundleMaxFiles) + " allowed");
  }
  for (const json& entry : j["files"]) {
    if (!entry.is_object() || entry.size() != 2) {
      return CorruptionError("bundle metadata has a malformed file entry");
    }
    BundleFile file;
    MG_ASSIGN_OR_RETURN(file.path, GetString(entry, "path"));
    MG_ASSIGN_OR_RETURN(file.size, GetUnsigned(entry, "size"));
    if (!IsSafeReleasePath(file.path)) return CorruptionError("bundle lists an unsafe path");
    if (file.size > (uint64_t{1} << 40)) return CorruptionError("bundle file size out of range");
    if (!m.files.empty() && m.files.back().path >= file.path) {
      return CorruptionError("bundle files are not sorted and unique");
    }
    m.files.push_back(std::move(file));
  }
  return m;
}

uint64_t EncryptedFileSize(uint64_t size, const BundleMetadata& metadata) {
  const uint64_t stream_bytes = metadata.chunk_size * metadata.stream_chunks;
  const uint64_t streams = size == 0 ? 1 : (size + stream_bytes - 1) / stream_bytes;
  const uint64_t chunks = size == 0 ? 1 : (size + metadata.chunk_size - 1) / metadata.chunk_size;
  return streams * kStreamHeaderBytes + size + chunks * kChunkTagBytes;
}

}  // namespace mg::release
