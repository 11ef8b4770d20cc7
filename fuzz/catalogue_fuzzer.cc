// Recommendation catalogue folders: catalogue.json, the items file and the
// hnswlib index. The input holds the three parts separated by "\n--\n"; the
// harness writes them to a scratch folder and fills in the sizes and
// checksums catalogue.json must state, so mutations reach the item lines and
// the index checks rather than stopping at a checksum mismatch.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "base/file.h"
#include "base/json_limits.h"
#include "fuzz/fuzz_input.h"
#include "recommend/catalogue.h"
#include "recommend/hnsw_file.h"
#include "recommend/vector_math.h"

namespace {

const std::string& ScratchDir() {
  static const auto* dir = new std::string([] {
    // Memory-backed where available: every run rewrites three files.
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm")
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    const auto path = base / ("mg-catalogue-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(path);
    return path.string();
  }());
  return *dir;
}

// {"file", "bytes", "checksum"} for `bytes`, as the catalogue writes them.
void Describe(nlohmann::json* entry, const char* file, std::string_view bytes) {
  if (!entry->is_object()) return;
  char checksum[17];
  std::snprintf(checksum, sizeof(checksum), "%016llx",
                static_cast<unsigned long long>(mg::recommend::Checksum64(bytes)));
  (*entry)["file"] = file;
  (*entry)["bytes"] = bytes.size();
  (*entry)["checksum"] = checksum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = mg::fuzz::SplitParts(mg::fuzz::AsText(data, size), 3);
  const std::string& dir = ScratchDir();
  std::string manifest(parts[0]);
  // The depth check comes first, as in every parse of untrusted JSON.
  if (mg::CheckJsonDepth(manifest).ok()) {
    nlohmann::json root = nlohmann::json::parse(manifest, nullptr, false);
    if (root.is_object()) {
      if (root.contains("items")) Describe(&root["items"], "items-1.jsonl", parts[1]);
      if (root.contains("index")) Describe(&root["index"], "index-1.bin", parts[2]);
      manifest = root.dump();
    }
  }
  if (!mg::WriteFileAtomic(mg::JoinPath(dir, "catalogue.json"), manifest).ok() ||
      !mg::WriteFileAtomic(mg::JoinPath(dir, "items-1.jsonl"), parts[1]).ok() ||
      !mg::WriteFileAtomic(mg::JoinPath(dir, "index-1.bin"), parts[2]).ok()) {
    mg::fuzz::Fail("cannot write the scratch catalogue");
  }
  (void)mg::recommend::Catalogue::Open(dir);
  std::vector<bool> deleted;
  (void)mg::recommend::CheckHnswFile(parts[2], {4, 3, 16}, &deleted);
  return 0;
}
