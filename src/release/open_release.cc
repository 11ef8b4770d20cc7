#include "release/open_release.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/json_limits.h"
#include "base/time.h"
#include "model/checkpoint.h"
#include "model/lora_adapter.h"
#include "model/stored_precision.h"
#include "release/encoding.h"
#include "release/fingerprint.h"
#include "release/licence.h"
#include "release/model_card.h"
#include "release/precision_report.h"
#include "release/recipient_registry.h"
#include "release/signature.h"
#include "text/hf_tokenizer_files.h"
#include "text/tokenizer.h"

namespace mg::release {
namespace {

namespace fs = std::filesystem;

// Copies `from` to a new file `to`, hashing what it writes.
Result<ManifestFile> CopyAndHash(const std::string& from, const std::string& to,
                                 const std::string& relative) {
  Sha256 hash;
  ManifestFile file;
  file.path = relative;
  MG_ASSIGN_OR_RETURN(file.size, CopyToNewFile(from, to, 0644, [&](std::string_view piece) {
                        hash.Update(piece);
                      }));
  file.sha256 = hash.FinishHex();
  return file;
}

Status WriteGenerated(const std::string& dir, const std::string& name, const std::string& data,
                      std::vector<ManifestFile>* files) {
  MG_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(dir, name), data, 0644));
  files->push_back({name, data.size(), Sha256Hex(data)});
  return Status::Ok();
}

// Hugging Face loaders (npm `tokenizers`, TEI, transformers) need
// tokenizer.json, tokenizer_config.json and special_tokens_map.json; a model
// folder that has only vocab.txt gets them generated from its tokenizer.
Status AddTokenizerFiles(const std::string& model_dir, const std::string& dir,
                         size_t model_max_length, std::vector<ManifestFile>* files,
                         std::vector<std::string>* notes) {
  auto has = [&](const char* name) {
    return std::any_of(files->begin(), files->end(),
                       [&](const ManifestFile& file) { return file.path == name; });
  };
  if (has("tokenizer.json") && has("tokenizer_config.json") && has("special_tokens_map.json")) {
    return Status::Ok();
  }
  Result<text::Tokenizer> tokenizer = text::Tokenizer::Load(model_dir);
  if (!tokenizer.ok()) {
    notes->push_back("no Hugging Face tokenizer files added: " + tokenizer.status().message());
    return Status::Ok();
  }
  if (!has("tokenizer.json")) {
    Result<std::string> contents = text::HfTokenizerFiles::TokenizerJson(*tokenizer);
    if (contents.ok()) {
      MG_RETURN_IF_ERROR(WriteGenerated(dir, "tokenizer.json", *contents, files));
      notes->push_back("added tokenizer.json (generated from the model's tokenizer)");
    } else {
      notes->push_back("no tokenizer.json added: " + contents.status().message());
    }
  }
  if (!has("tokenizer_config.json")) {
    MG_RETURN_IF_ERROR(WriteGenerated(
        dir, "tokenizer_config.json",
        text::HfTokenizerFiles::TokenizerConfigJson(*tokenizer, model_max_length), files));
  }
  if (!has("special_tokens_map.json")) {
    MG_RETURN_IF_ERROR(WriteGenerated(dir, "special_tokens_map.json",
                                      text::HfTokenizerFiles::SpecialTokensMapJson(*tokenizer),
                                      files));
  }
  return Status::Ok();
}

bool IsGeneratedName(const std::string& relative) {
  return relative == "README.md" || relative == "LICENSE" || relative == kManifestFile ||
         relative == kManifestSigFile;
}

Result<ModelCardInfo> ReadCardInfo(const std::string& model_dir, size_t* max_position_embeddings) {
  MG_ASSIGN_OR_RETURN(std::string text, ReadFile(JoinPath(model_dir, "config.json")));
  MG_RETURN_IF_ERROR(CheckJsonDepth(text).WithContext(model_dir + "/config.json"));
  nlohmann::json config = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return InvalidArgumentError(model_dir + "/config.json is not a JSON object");
  }
  ModelCardInfo info;
  info.pipeline_tag = "feature-extraction";
  info.lora_adapter = model::HasLoraAdapter(model_dir);
  if (config.contains("architectures") && config["architectures"].is_array() &&
      !config["architectures"].empty() && config["architectures"][0].is_string()) {
    info.architecture = config["architectures"][0].get<std::string>();
    if (info.architecture.find("ForSequenceClassification") != std::string::npos) {
      info.pipeline_tag = "text-classification";
    }
  }
  if (config.contains("hidden_size") && config["hidden_size"].is_number_integer()) {
    info.hidden_size = config["hidden_size"].get<long long>();
  }
  if (config.contains("max_position_embeddings") &&
      config["max_position_embeddings"].is_number_unsigned()) {
    *max_position_embeddings = config["max_position_embeddings"].get<size_t>();
  }
  if (config.contains("num_hidden_layers") && config["num_hidden_layers"].is_number_integer()) {
    info.num_hidden_layers = config["num_hidden_layers"].get<long long>();
  }
  if (info.pipeline_tag == "text-classification" && config.contains("id2label") &&
      config["id2label"].is_object()) {
    std::vector<std::pair<long long, std::string>> labels;
    for (const auto& [id, label] : config["id2label"].items()) {
      if (!label.is_string()) continue;
      labels.emplace_back(std::strtoll(id.c_str(), nullptr, 10), label.get<std::string>());
    }
    std::sort(labels.begin(), labels.end());
    for (auto& entry : labels) info.labels.push_back(std::move(entry.second));
  }
  return info;
}

// Removes the temporary folder unless released.
class TempDir {
 public:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  ~TempDir() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  void Release() { path_.clear(); }

 private:
  std::string path_;
};

// Removes what earlier, killed attempts at the same release left: folders
// named PREFIX + six characters (mkdtemp's), never renamed into place.
void RemovePartialFolders(const fs::path& parent, const std::string& prefix) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() == prefix.size() + 6 && name.starts_with(prefix) && entry.is_directory(ec) &&
        !entry.is_symlink(ec)) {
      fs::remove_all(entry.path(), ec);
    }
  }
}

Status CheckDestination(const std::string& out_dir) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(out_dir, ec);
  if (!fs::exists(status)) return Status::Ok();
  if (!fs::is_directory(status))
    return InvalidArgumentError(out_dir + " exists and is not a folder");
  if (!fs::is_empty(out_dir, ec) || ec) {
    return InvalidArgumentError(out_dir + " exists and is not empty; not writing over it");
  }
  return Status::Ok();
}

}  // namespace

Result<Manifest> CreateOpenRelease(const OpenReleaseOptions& options, const SigningKey& key,
                                   std::vector<std::string>* notes) {
  EnsureSodium();
  std::error_code ec;
  if (!fs::is_directory(options.model_dir, ec)) {
    return NotFoundError("model folder " + options.model_dir + " not found");
  }
  if (!IsValidSpdxId(options.spdx_license)) {
    return InvalidArgumentError("--license must be an SPDX licence id such as Apache-2.0");
  }
  MG_RETURN_IF_ERROR(CheckDestination(options.out_dir));
  size_t max_position_embeddings = 0;
  MG_ASSIGN_OR_RETURN(ModelCardInfo card,
                      ReadCardInfo(options.model_dir, &max_position_embeddings));

  std::string out = fs::path(options.out_dir).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  const fs::path out_path(out);
  const fs::path parent = out_path.has_parent_path() ? out_path.parent_path() : fs::path(".");
  const std::string partial_prefix = "." + out_path.filename().string() + ".partial-";
  RemovePartialFolders(parent, partial_prefix);
  MG_ASSIGN_OR_RETURN(std::string temp_path,
                      CreateTempDirectory((parent / partial_prefix).string()));
  TempDir temp(temp_path);

  if (options.fingerprint.empty() && (options.trigger_set || !options.registry.empty())) {
    return InvalidArgumentError("a trigger set or a recipient registry needs --fingerprint");
  }
  // Checked before any training, which can take minutes.
  if (!options.fingerprint.empty()) {
    if (options.fingerprint.size() > kMaxRecipientBytes ||
        options.fingerprint.find('\0') != std::string::npos) {
      return InvalidArgumentError("the fingerprint recipient must be 1 to 32 bytes");
    }
    if (!FileExists(JoinPath(options.model_dir, "model.safetensors"))) {
      return InvalidArgumentError("--fingerprint needs the weights as model.safetensors in " +
                                  options.model_dir);
    }
  }
  // The precision the weights go out in (model/stored_precision.h); F32: as
  // they are.
  kernels::Precision stored = kernels::Precision::kF32;
  if (options.store_validated_precision) {
    MG_ASSIGN_OR_RETURN(const std::optional<kernels::Precision> validated,
                        ValidatedPrecisionOf(options.model_dir));
    if (validated && model::HasLoraAdapter(options.model_dir)) {
      // The adapter is merged into the base as validated: in F32, before
      // quantisation. The base's weights go out as they are.
      notes->push_back(
          "kept the LoRA base's weights as they are (the adapter is merged into "
          "them in F32 when loaded)");
    } else if (validated) {
      stored = *validated;
    }
  }
  const bool reduced = stored != kernels::Precision::kF32;
  const std::string stored_name(kernels::PrecisionName(stored));
  if (reduced && !FileExists(JoinPath(options.model_dir, "model.safetensors"))) {
    return InvalidArgumentError("a release in " + stored_name +
                                " stores its weights as model.safetensors; " + options.model_dir +
                                " has none");
  }
  // The weights that go out: the model's own, or a copy trained on the
  // recipient's trigger set in a work folder removed at the end.
  std::string weights_source = JoinPath(options.model_dir, "model.safetensors");
  const std::string work_prefix = "." + out_path.filename().string() + ".fingerprint-";
  RemovePartialFolders(parent, work_prefix);
  std::optional<TempDir> work;
  if (options.trigger_set && !options.fingerprint.empty()) {
    MG_ASSIGN_OR_RETURN(std::string work_path,
                        CreateTempDirectory((parent / work_prefix).string()));
    work.emplace(work_path);
    MG_ASSIGN_OR_RETURN(const std::string tuned,
                        EmbedTriggerSet(options.model_dir, key, options.fingerprint,
                                        *options.trigger_set, work->path()));
    weights_source = JoinPath(tuned, "model.safetensors");
    notes->push_back("trained " + std::to_string(options.trigger_set->triggers) +
                     " trigger texts for \"" + options.fingerprint + "\" into the weights");
  }

  // Weights stored in int8 (here, or by a hybrid release's split) get a
  // config.json that says so (model/stored_precision.h).
  bool int8_weights = stored == kernels::Precision::kInt8;
  if (!int8_weights && FileExists(weights_source)) {
    // Weights it cannot read are copied as they are, as before.
    Result<model::Checkpoint> source = model::Checkpoint::OpenFile(weights_source);
    int8_weights = source.ok() && model::StoredPrecisionOf(*source) == kernels::Precision::kInt8;
  }

  Manifest manifest;
  manifest.model_id = options.model_id;
  if (manifest.model_id.empty()) {
    std::string dir = fs::path(options.model_dir).lexically_normal().string();
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    manifest.model_id = fs::path(dir).filename().string();
  }
  manifest.release_mode = "open";
  manifest.license = options.spdx_license;
  manifest.created_at = FormatUtcDateTime(options.now);
  manifest.signer_key_id = key.key_id();

  bool fingerprinted = false;
  fs::recursive_directory_iterator it(options.model_dir,
                                      fs::directory_options::follow_directory_symlink, ec);
  if (ec) return IoError("cannot list " + options.model_dir + ": " + ec.message());
  for (const fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) return IoError("cannot list " + options.model_dir + ": " + ec.message());
    const std::string name = it->path().filename().string();
    const std::string relative = it->path().lexically_relative(options.model_dir).generic_string();
    if (!name.empty() && name.front() == '.') {
      notes->push_back("skipped hidden " + relative);
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_directory(ec)) {
      if (!fs::create_directories(fs::path(temp.path()) / relative, ec) && ec) {
        return IoError("cannot create " + relative + ": " + ec.message());
      }
      continue;
    }
    if (!it->is_regular_file(ec)) {
      notes->push_back("skipped " + relative + " (not a regular file)");
      continue;
    }
    if (IsGeneratedName(relative)) {
      notes->push_back("replaced the model folder's " + relative + " with the release's own");
      continue;
    }
    if ((!options.fingerprint.empty() || reduced) && relative == "model.safetensors") {
      MG_ASSIGN_OR_RETURN(std::string weights, ReadFile(weights_source));
      if (reduced) {
        const std::string config_path = JoinPath(options.model_dir, "config.json");
        MG_ASSIGN_OR_RETURN(const std::string config, ReadFile(config_path));
        MG_ASSIGN_OR_RETURN(
            weights, StoreWeightsInPrecision(weights, config, weights_source, stored, notes));
      }
      if (!options.fingerprint.empty()) {
        Result<std::string> marked = FingerprintSafetensors(weights, key, options.fingerprint);
        if (!marked.ok() && reduced) {
          // The mark lives in F32 weights; the linear layers no longer are.
          return marked.status().WithContext("the weights stored in " + stored_name);
        }
        if (!marked.ok()) return marked.status();
        weights = std::move(marked).value();
        fingerprinted = true;
      }
      MG_RETURN_IF_ERROR(WriteGenerated(temp.path(), relative, weights, &manifest.files));
      continue;
    }
    if (int8_weights && relative == "config.json") {
      MG_ASSIGN_OR_RETURN(const std::string config, ReadFile(it->path().string()));
      MG_ASSIGN_OR_RETURN(const std::string marked,
                          model::ConfigForInt8Weights(config, it->path().string()));
      MG_RETURN_IF_ERROR(WriteGenerated(temp.path(), relative, marked, &manifest.files));
      continue;
    }
    MG_ASSIGN_OR_RETURN(ManifestFile file, CopyAndHash(it->path().string(),
                                                       JoinPath(temp.path(), relative), relative));
    manifest.files.push_back(std::move(file));
  }

  if (!options.fingerprint.empty() && !fingerprinted) {
    return InvalidArgumentError("--fingerprint needs the weights as model.safetensors in " +
                                options.model_dir);
  }
  MG_RETURN_IF_ERROR(AddTokenizerFiles(options.model_dir, temp.path(), max_position_embeddings,
                                       &manifest.files, notes));
  card.model_id = manifest.model_id;
  card.spdx_license = options.spdx_license;
  card.base_model = options.base_model;
  card.signer_key_id = key.key_id();
  card.created_at = manifest.created_at;
  MG_RETURN_IF_ERROR(WriteGenerated(
      temp.path(), "LICENSE",
      LicenseText(options.spdx_license, manifest.model_id, manifest.created_at.substr(0, 4)),
      &manifest.files));
  MG_RETURN_IF_ERROR(WriteGenerated(temp.path(), "README.md", ModelCard(card), &manifest.files));
  std::sort(manifest.files.begin(), manifest.files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });

  const std::string manifest_json = ManifestToJson(manifest);
  MG_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(temp.path(), kManifestFile), manifest_json, 0644));
  MG_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(temp.path(), kManifestSigFile),
                                     MakeSignatureFile(key, kManifestType, manifest_json, false),
                                     0644));
  MG_RETURN_IF_ERROR(SetMode(temp.path(), 0755));
  MG_RETURN_IF_ERROR(CheckDestination(options.out_dir));
  if (fs::exists(out_path, ec)) fs::remove(out_path, ec);  // an empty folder
  MG_RETURN_IF_ERROR(RenameFile(temp.path(), out));
  temp.Release();
  if (!options.registry.empty()) {
    RecipientEntry entry;
    entry.recipient = options.fingerprint;
    entry.model_id = manifest.model_id;
    entry.created_at = manifest.created_at;
    entry.key_id = key.key_id();
    entry.trigger_set = options.trigger_set ? options.trigger_set->triggers : 0;
    MG_RETURN_IF_ERROR(AddToRecipientRegistry(options.registry, entry)
                           .WithContext("the release is in place, but the registry"));
  }
  return manifest;
}

}  // namespace mg::release
