// The manifest of a release: every file's relative path, size and SHA-256,
// the model id, the release mode, the signer and the creation time. It is
// stored as manifest.json, whose exact bytes are signed by manifest.sig (a
// detached signature file of type "manifest", see signature.h), and checked
// here against a folder on disk. Layout: docs/release-formats.md.
//
// Pure functions over the file system; thread-safe as long as nobody writes
// the folder while it is checked.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "release/keys.h"

namespace mg::release {

inline constexpr char kManifestFormat[] = "modelgate-manifest";
inline constexpr int kManifestVersion = 1;
inline constexpr char kManifestType[] = "manifest";
inline constexpr char kManifestFile[] = "manifest.json";
inline constexpr char kManifestSigFile[] = "manifest.sig";

struct ManifestFile {
  std::string path;  // relative, '/'-separated
  uint64_t size = 0;
  std::string sha256;  // 64 lower-case hex digits
};

struct Manifest {
  int version = kManifestVersion;
  std::string model_id;
  std::string release_mode;  // "open"
  std::string license;       // SPDX id
  std::string created_at;    // "YYYY-MM-DDTHH:MM:SSZ"
  std::string signer_key_id;
  std::vector<ManifestFile> files;  // sorted by path
};

// The manifest.json bytes (pretty JSON, sorted keys, trailing newline).
std::string ManifestToJson(const Manifest& manifest);
// Strict: known version, every field present and well-formed, safe paths.
Result<Manifest> ParseManifest(std::string_view bytes);

// True for a relative path without empty, "." or ".." parts that is not one
// of the manifest's own files.
bool IsSafeReleasePath(std::string_view path);

// Checks an open release folder against the pinned vendor key: the
// signature, the manifest version, every listed file's presence, size and
// hash, and that no file is there that the manifest does not list. The
// error names the first problem found.
Result<Manifest> VerifyOpenRelease(const std::string& dir, const VerifyKey& vendor);

// Every non-directory entry under `dir` (symbolic links not followed), as
// sorted relative paths.
Result<std::vector<std::string>> ListReleaseEntries(const std::string& dir);

}  // namespace mg::release
