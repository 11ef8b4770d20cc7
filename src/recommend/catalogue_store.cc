// Catalogue persistence: Create, Open and Save (format in docs/recommend.md).
#include <cstdio>
#include <exception>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "base/file.h"
#include "base/json_limits.h"
#include "recommend/catalogue.h"
#include "recommend/hnsw_file.h"
#include "recommend/hnsw_index.h"
#include "recommend/vector_math.h"

namespace mg::recommend {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kManifest[] = "catalogue.json";
constexpr char kFormat[] = "modelgate-catalogue";
constexpr int kVersion = 1;

std::string Hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

std::string IndexName(uint64_t generation) {
  return "index-" + std::to_string(generation) + ".hnsw";
}
std::string ItemsName(uint64_t generation) {
  return "items-" + std::to_string(generation) + ".jsonl";
}

Status CheckOptions(const CatalogueOptions& options) {
  if (options.dim == 0 || options.dim > 65536) {
    return InvalidArgumentError("embedding size must be 1..65536");
  }
  if (options.m < 2 || options.m > 1000) return InvalidArgumentError("M must be 2..1000");
  if (options.ef_construction == 0 || options.ef_search == 0) {
    return InvalidArgumentError("ef must be positive");
  }
  return Status::Ok();
}

// The index file's bytes. hnswlib writes only to a path and reports no
// write errors, so it writes to memory; the bytes then go to disk through
// WriteFileAtomic, whose errors name the cause (e.g. no space left).
Result<std::string> SerializeIndex(const HnswIndex& index) {
  return CaptureFileWrittenByPath([&](const std::string& path) { return index.Save(path); });
}

// Removes the listed files when destroyed, unless `committed`.
struct RemoveUnlessCommitted {
  std::vector<std::string> paths;
  bool committed = false;
  RemoveUnlessCommitted() = default;
  RemoveUnlessCommitted(const RemoveUnlessCommitted&) = delete;
  RemoveUnlessCommitted& operator=(const RemoveUnlessCommitted&) = delete;
  ~RemoveUnlessCommitted() {
    if (committed) return;
    for (const std::string& path : paths) (void)RemoveFile(path);
  }
};

// Reads `dir/name` and checks it has the size and checksum the manifest says.
Result<std::string> ReadChecked(const std::string& dir, const json& entry) {
  if (!entry.is_object() || !entry.contains("file") || !entry["file"].is_string() ||
      !entry.contains("bytes") || !entry["bytes"].is_number_unsigned() ||
      !entry.contains("checksum") || !entry["checksum"].is_string()) {
    return CorruptionError("catalogue.json: bad file entry");
  }
  const std::string name = entry["file"].get<std::string>();
  if (name.find('/') != std::string::npos || name.empty() || name[0] == '.') {
    return CorruptionError("catalogue.json: bad file name");
  }
  const std::string path = JoinPath(dir, name);
  MG_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  if (bytes.size() != entry["bytes"].get<uint64_t>()) {
    return CorruptionError(path + ": " + std::to_string(bytes.size()) + " bytes, expected " +
                           std::to_string(entry["bytes"].get<uint64_t>()) + " (truncated?)");
  }
  if (Hex(Checksum64(bytes)) != entry["checksum"].get<std::string>()) {
    return CorruptionError(path + ": checksum mismatch (damaged file)");
  }
  return bytes;
}

}  // namespace

Result<std::unique_ptr<Catalogue>> Catalogue::Create(const std::string& dir,
                                                     const CatalogueOptions& options) {
  MG_RETURN_IF_ERROR(CheckOptions(options));
  if (FileExists(JoinPath(dir, kManifest))) {
    return InvalidArgumentError(dir + " already holds a catalogue");
  }
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return IoError("cannot create " + dir + ": " + error.message());
  std::unique_ptr<Catalogue> catalogue(new Catalogue(dir, options));
  MG_RETURN_IF_ERROR(catalogue->InitIndex(1024));
  return catalogue;
}

Result<std::unique_ptr<Catalogue>> Catalogue::OpenOrCreate(const std::string& dir,
                                                           const CatalogueOptions& options) {
  if (FileExists(JoinPath(dir, kManifest))) return Open(dir);
  return Create(dir, options);
}

Result<std::unique_ptr<Catalogue>> Catalogue::Open(const std::string& dir) {
  const std::string manifest_path = JoinPath(dir, kManifest);
  if (!FileExists(manifest_path)) return NotFoundError("no catalogue in " + dir);
  MG_ASSIGN_OR_RETURN(std::string text, ReadFile(manifest_path));
  MG_RETURN_IF_ERROR(CheckJsonDepth(text).WithContext(manifest_path));
  json manifest = json::parse(text, nullptr, /*allow_exceptions=*/false);
  // Compared as JSON values: value() would throw on a field of another type.
  if (!manifest.is_object() || !manifest.contains("format") || manifest["format"] != kFormat) {
    return CorruptionError(manifest_path + ": not a modelgate catalogue");
  }
  if (!manifest.contains("version") || manifest["version"] != kVersion) {
    return CorruptionError(manifest_path + ": unsupported version");
  }
  // get<size_t>() of a fractional or negative number is undefined behaviour.
  for (const char* key : {"dim", "M", "ef_construction", "ef_search", "generation", "slots"}) {
    if (!manifest.contains(key) || !manifest[key].is_number_unsigned()) {
      return CorruptionError(manifest_path + ": missing or mistyped field");
    }
  }
  CatalogueOptions options;
  try {
    options.dim = manifest.at("dim").get<size_t>();
    options.model_id = manifest.at("model_id").get<std::string>();
    options.m = manifest.at("M").get<size_t>();
    options.ef_construction = manifest.at("ef_construction").get<size_t>();
    options.ef_search = manifest.at("ef_search").get<size_t>();
    manifest.at("generation").get<uint64_t>();
    manifest.at("slots").get<size_t>();
  } catch (const std::exception&) {
    return CorruptionError(manifest_path + ": missing or mistyped field");
  }
  Status valid = CheckOptions(options);
  if (!valid.ok()) return CorruptionError(manifest_path + ": " + valid.message());
  std::unique_ptr<Catalogue> catalogue(new Catalogue(dir, options));
  catalogue->generation_ = manifest["generation"].get<uint64_t>();
  Status loaded = catalogue->LoadFromDir();
  if (!loaded.ok()) return loaded;
  return catalogue;
}

Status Catalogue::LoadFromDir() {
  const std::string manifest_path = JoinPath(dir_, kManifest);
  MG_ASSIGN_OR_RETURN(std::string text, ReadFile(manifest_path));
  MG_RETURN_IF_ERROR(CheckJsonDepth(text).WithContext(manifest_path));
  const json manifest = json::parse(text, nullptr, false);
  const size_t slot_count = manifest["slots"].get<size_t>();
  if (!manifest.contains("items") || !manifest.contains("index")) {
    return CorruptionError(manifest_path + ": missing file entries");
  }
  MG_ASSIGN_OR_RETURN(std::string items_text, ReadChecked(dir_, manifest["items"]));
  MG_ASSIGN_OR_RETURN(std::string index_bytes, ReadChecked(dir_, manifest["index"]));

  std::vector<bool> deleted;
  Status graph = CheckHnswFile(index_bytes, {options_.dim, slot_count, options_.m}, &deleted);
  if (!graph.ok()) return graph.WithContext(JoinPath(dir_, manifest["index"]["file"]));
  index_bytes.clear();
  index_bytes.shrink_to_fit();

  // items-<G>.jsonl: {"slot":N,"id":"…","tags":[…]} per live slot.
  slots_.assign(slot_count, Slot{});
  size_t line_number = 0;
  size_t begin = 0;
  while (begin < items_text.size()) {
    size_t end = items_text.find('\n', begin);
    if (end == std::string::npos) end = items_text.size();
    ++line_number;
    const std::string where = "items line " + std::to_string(line_number);
    MG_RETURN_IF_ERROR(
        CheckJsonDepth(std::string_view(items_text).substr(begin, end - begin)).WithContext(where));
    const json line =
        json::parse(items_text.begin() + begin, items_text.begin() + end, nullptr, false);
    begin = end + 1;
    if (!line.is_object() || !line.contains("slot") || !line["slot"].is_number_unsigned() ||
        !line.contains("id") || !line["id"].is_string() || !line.contains("tags") ||
        !line["tags"].is_array()) {
      return CorruptionError(where + ": malformed");
    }
    const size_t slot = line["slot"].get<size_t>();
    if (slot >= slot_count || slots_[slot].live || deleted[slot]) {
      return CorruptionError(where + ": slot does not match the index");
    }
    Slot entry{line["id"].get<std::string>(), {}, true};
    for (const json& tag : line["tags"]) {
      if (!tag.is_string()) return CorruptionError(where + ": tag is not a string");
      entry.tags.push_back(tag.get<std::string>());
    }
    if (entry.id.empty() || !slot_of_.emplace(entry.id, slot).second) {
      return CorruptionError(where + ": empty or repeated id");
    }
    AddTags(entry.tags, +1);
    slots_[slot] = std::move(entry);
    ++live_;
  }
  for (size_t slot = 0; slot < slot_count; ++slot) {
    if (slots_[slot].live) continue;
    if (!deleted[slot]) return CorruptionError("slot " + std::to_string(slot) + " has no item");
    free_slots_.push_back(slot);
  }
  const std::string index_path = JoinPath(dir_, manifest["index"]["file"].get<std::string>());
  MG_ASSIGN_OR_RETURN(index_,
                      HnswIndex::Load(index_path, options_.dim, slot_count + slot_count / 4));
  index_->SetEf(options_.ef_search);
  return Status::Ok();
}

Status Catalogue::Save() const {
  std::lock_guard save_lock(save_mutex_);
  auto lock = ReadLock();
  const uint64_t previous = generation_;
  const uint64_t generation = previous + 1;
  const std::string index_path = JoinPath(dir_, IndexName(generation));
  MG_ASSIGN_OR_RETURN(std::string index_bytes, SerializeIndex(*index_));
  Status graph = CheckHnswFile(index_bytes, {options_.dim, slots_.size(), options_.m}, nullptr);
  if (!graph.ok()) return InternalError("the index serialised badly: " + graph.message());
  // Until the manifest names this generation, its files are removed on
  // failure: a full or read-only disk leaves the previous generation alone.
  RemoveUnlessCommitted pending;
  pending.paths.push_back(index_path);
  MG_RETURN_IF_ERROR(WriteFileAtomic(index_path, index_bytes));

  std::string items;
  for (size_t slot = 0; slot < slots_.size(); ++slot) {
    if (!slots_[slot].live) continue;
    items += json{{"slot", slot}, {"id", slots_[slot].id}, {"tags", slots_[slot].tags}}.dump(
        -1, ' ', false, json::error_handler_t::replace);
    items += '\n';
  }
  const std::string items_name = ItemsName(generation);
  pending.paths.push_back(JoinPath(dir_, items_name));
  MG_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(dir_, items_name), items));

  const json manifest = {
      {"format", kFormat},
      {"version", kVersion},
      {"generation", generation},
      {"dim", options_.dim},
      {"model_id", options_.model_id},
      {"metric", "cosine"},
      {"M", options_.m},
      {"ef_construction", options_.ef_construction},
      {"ef_search", options_.ef_search},
      {"slots", slots_.size()},
      {"items_count", live_},
      {"index",
       {{"file", IndexName(generation)},
        {"bytes", index_bytes.size()},
        {"checksum", Hex(Checksum64(index_bytes))}}},
      {"items",
       {{"file", items_name}, {"bytes", items.size()}, {"checksum", Hex(Checksum64(items))}}}};
  MG_RETURN_IF_ERROR(
      WriteFileAtomic(JoinPath(dir_, kManifest),
                      manifest.dump(2, ' ', false, json::error_handler_t::replace) + "\n"));
  pending.committed = true;
  generation_ = generation;
  // The new generation is committed; older ones (and leftovers of saves
  // that were killed: files of a later generation, hidden temporary files)
  // are no longer referenced.
  static const std::regex kOurs(
      R"((index-\d+\.hnsw|items-\d+\.jsonl)(\.tmp.*)?|\.(index-\d+\.hnsw|items-\d+\.jsonl|catalogue\.json)\.tmp-.*)");
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir_, error)) {
    const std::string name = entry.path().filename().string();
    if (name == IndexName(generation) || name == items_name) continue;
    if (std::regex_match(name, kOurs)) fs::remove(entry.path(), error);
  }
  return Status::Ok();
}

}  // namespace mg::recommend
