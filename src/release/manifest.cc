#include "release/manifest.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "base/file.h"
#include "base/json_limits.h"
#include "release/encoding.h"
#include "release/signature.h"

namespace mg::release {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool IsHex(const std::string& s, size_t size) {
  return s.size() == size && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Result<std::string> GetString(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) {
    return CorruptionError(std::string("manifest lacks \"") + field + "\"");
  }
  return j[field].get<std::string>();
}

}  // namespace

std::string ManifestToJson(const Manifest& manifest) {
  json files = json::array();
  for (const ManifestFile& file : manifest.files) {
    files.push_back({{"path", file.path}, {"size", file.size}, {"sha256", file.sha256}});
  }
  json j = {{"format", kManifestFormat},
            {"version", manifest.version},
            {"model_id", manifest.model_id},
            {"release_mode", manifest.release_mode},
            {"license", manifest.license},
            {"created_at", manifest.created_at},
            {"signer_key_id", manifest.signer_key_id},
            {"files", files}};
  return j.dump(2) + "\n";
}

bool IsSafeReleasePath(std::string_view path) {
  if (path.empty() || path.front() == '/' || path == kManifestFile || path == kManifestSigFile) {
    return false;
  }
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

Result<Manifest> ParseManifest(std::string_view bytes) {
  MG_RETURN_IF_ERROR(CheckJsonDepth(bytes).WithContext("manifest"));
  json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return CorruptionError("manifest is not a JSON object");
  MG_ASSIGN_OR_RETURN(std::string format, GetString(j, "format"));
  if (format != kManifestFormat) return CorruptionError("not a modelgate manifest");
  if (!j.contains("version") || !j["version"].is_number_integer()) {
    return CorruptionError("manifest has no format version");
  }
  if (j["version"].get<int64_t>() != kManifestVersion) {
    return CorruptionError("manifest format version " + j["version"].dump() +
                           " is not supported (this build reads version 1)");
  }
  Manifest manifest;
  MG_ASSIGN_OR_RETURN(manifest.model_id, GetString(j, "model_id"));
  MG_ASSIGN_OR_RETURN(manifest.release_mode, GetString(j, "release_mode"));
  MG_ASSIGN_OR_RETURN(manifest.license, GetString(j, "license"));
  MG_ASSIGN_OR_RETURN(manifest.created_at, GetString(j, "created_at"));
  MG_ASSIGN_OR_RETURN(manifest.signer_key_id, GetString(j, "signer_key_id"));
  if (!j.contains("files") || !j["files"].is_array()) {
    return CorruptionError("manifest lacks \"files\"");
  }
  if (j.size() != 8) return CorruptionError("manifest has unknown fields");
  for (const json& entry : j["files"]) {
    if (!entry.is_object() || entry.size() != 3 || !entry.contains("size") ||
        !entry["size"].is_number_unsigned()) {
      return CorruptionError("manifest has a malformed file entry");
    }
    ManifestFile file;
    MG_ASSIGN_OR_RETURN(file.path, GetString(entry, "path"));
    MG_ASSIGN_OR_RETURN(file.sha256, GetString(entry, "sha256"));
    file.size = entry["size"].get<uint64_t>();
    if (!IsSafeReleasePath(file.path)) return CorruptionError("manifest lists an unsafe path");
    if (!IsHex(file.sha256, 64)) return CorruptionError("manifest has a malformed SHA-256");
    if (!manifest.files.empty() && manifest.files.back().path >= file.path) {
      return CorruptionError("manifest files are not sorted and unique");
    }
    manifest.files.push_back(std::move(file));
  }
  return manifest;
}

Result<std::vector<std::string>> ListReleaseEntries(const std::string& dir) {
  std::vector<std::string> entries;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return IoError("cannot list " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return IoError("cannot list " + dir + ": " + ec.message());
    const fs::file_status status = it->symlink_status(ec);
    if (ec) return IoError("cannot stat " + it->path().string() + ": " + ec.message());
    if (fs::is_directory(status)) continue;
    entries.push_back(it->path().lexically_relative(dir).generic_string());
  }
  std::sort(entries.begin(), entries.end());
  return entries;
}

Result<Manifest> VerifyOpenRelease(const std::string& dir, const VerifyKey& vendor) {
  EnsureSodium();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFoundError(dir + " is not a release folder");
  Result<std::string> sig_text = ReadFile(JoinPath(dir, kManifestSigFile));
  if (!sig_text.ok()) return NotFoundError(std::string(kManifestSigFile) + " is missing");
  Result<std::string> manifest_bytes = ReadFile(JoinPath(dir, kManifestFile));
  if (!manifest_bytes.ok()) return NotFoundError(std::string(kManifestFile) + " is missing");
  Result<std::string> signed_bytes =
      OpenSignatureFile(*sig_text, vendor, kManifestType, std::string_view(*manifest_bytes));
  if (!signed_bytes.ok()) return signed_bytes.status().WithContext("manifest");
  Result<Manifest> manifest = ParseManifest(*manifest_bytes);
  if (!manifest.ok()) return manifest.status().WithContext(kManifestFile);
  if (manifest->release_mode != "open") {
    return UnimplementedError("release mode \"" + manifest->release_mode +
                              "\" is not an open release folder");
  }
  if (manifest->signer_key_id != vendor.key_id()) {
    return CorruptionError("manifest names another signer key");
  }
  for (const ManifestFile& file : manifest->files) {
    const std::string path = JoinPath(dir, file.path);
    const fs::file_status status = fs::symlink_status(path, ec);
    if (ec || !fs::exists(status)) return NotFoundError(file.path + ": missing");
    if (!fs::is_regular_file(status)) return CorruptionError(file.path + ": not a regular file");
    uint64_t size = 0;
    MG_ASSIGN_OR_RETURN(std::string sha256, Sha256FileHex(path, &size));
    if (size != file.size) {
      return CorruptionError(file.path + ": size " + std::to_string(size) +
                             " bytes, manifest says " + std::to_string(file.size) +
                             " (truncated or extended)");
    }
    if (sha256 != file.sha256) {
      return CorruptionError(file.path + ": SHA-256 does not match the manifest (content changed)");
    }
  }
  MG_ASSIGN_OR_RETURN(std::vector<std::string> entries, ListReleaseEntries(dir));
  std::set<std::string> listed_paths;
  for (const ManifestFile& file : manifest->files) listed_paths.insert(file.path);
  for (const std::string& entry : entries) {
    if (entry == kManifestFile || entry == kManifestSigFile) continue;
    const bool listed = listed_paths.count(entry) != 0;
    if (!listed) return CorruptionError(entry + ": not in the manifest (file added)");
  }
  return manifest;
}

}  // namespace mg::release
