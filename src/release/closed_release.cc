#include "release/closed_release.h"

#include "model/family.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/json_limits.h"
#include "base/time.h"
#include "model/bert_config.h"
#include "model/checkpoint.h"
#include "model/family.h"
#include "model/lora_adapter.h"
#include "model/safetensors_writer.h"
#include "release/encoding.h"
#include "release/licence.h"
#include "release/open_release.h"
#include "release/precision_report.h"

namespace mg::release {
namespace {

namespace fs = std::filesystem;

std::string FolderName(const std::string& dir) {
  fs::path path(dir);
  if (!path.has_filename()) path = path.parent_path();
  return path.filename().string();
}

bool IsHidden(const std::string& relative) {
  return relative.front() == '.' || relative.find("/.") != std::string::npos;
}

Status CheckNewOutput(const std::string& path) {
  std::error_code ec;
  if (fs::exists(path, ec))
    return InvalidArgumentError(path + " already exists; not overwriting it");
  return Status::Ok();
}

// Labels in id order, from config.json (empty for an encoder).
Result<std::vector<std::string>> LabelsOf(const std::string& config_text, const std::string& name) {
  MG_ASSIGN_OR_RETURN(model::BertConfig config, model::ParseBertConfig(config_text, name));
  if (!config.is_sequence_classifier()) return std::vector<std::string>{};
  return config.labels;
}

// Reads the model folder's files for a bundle, wiping nothing (the vendor's
// own plaintext).
Status ReadModelFiles(const std::string& dir, std::vector<std::pair<std::string, std::string>>* out,
                      std::vector<std::string>* notes) {
  MG_ASSIGN_OR_RETURN(std::vector<std::string> entries, ListReleaseEntries(dir));
  for (const std::string& relative : entries) {
    if (IsHidden(relative) || !IsSafeReleasePath(relative)) {
      notes->push_back("skipped " + relative);
      continue;
    }
    const std::string path = JoinPath(dir, relative);
    if (!fs::is_regular_file(path)) {
      notes->push_back("skipped " + relative + " (not a regular file)");
      continue;
    }
    MG_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
    out->emplace_back(relative, std::move(bytes));
  }
  return Status::Ok();
}

const std::string* FindFile(const std::vector<std::pair<std::string, std::string>>& files,
                            const std::string& name) {
  for (const auto& [path, bytes] : files) {
    if (path == name) return &bytes;
  }
  return nullptr;
}

bool IsBaseWeightsFile(const std::string& relative);

// A folder whose weights are not one model.safetensors (pytorch_model.bin,
// or sharded safetensors or .bin with an index): its tensors, each in its
// own dtype, become one model.safetensors image in place of those files.
Status ConvertWeightsToSafetensors(const std::string& dir,
                                   std::vector<std::pair<std::string, std::string>>* files,
                                   std::vector<std::string>* notes) {
  Result<model::Checkpoint> checkpoint = model::Checkpoint::OpenFolder(dir);
  if (!checkpoint.ok()) {
    return InvalidArgumentError(dir + " has no readable weights: " + checkpoint.status().message());
  }
  std::vector<model::TensorToWrite> tensors;
  for (const model::TensorRecord& record : checkpoint->tensors()) {
    model::TensorToWrite tensor;
    tensor.name = record.name;
    tensor.dtype = record.dtype;
    tensor.shape = record.shape;
    tensor.raw = std::string_view(reinterpret_cast<const char*>(record.data), record.size_bytes);
    tensors.push_back(std::move(tensor));
  }
  MG_ASSIGN_OR_RETURN(std::string image,
                      model::SerializeSafetensors(tensors, checkpoint->metadata()));
  std::string replaced;
  std::erase_if(*files, [&](const auto& file) {
    if (!IsBaseWeightsFile(file.first)) return false;
    if (!replaced.empty()) replaced.append(", ");
    replaced.append(file.first);
    return true;
  });
  files->emplace_back("model.safetensors", std::move(image));
  notes->push_back("converted " + replaced + " to model.safetensors (" +
                   std::to_string(tensors.size()) + " tensors, dtypes kept)");
  return Status::Ok();
}

// The metadata as sealed into a bundle image.
Result<BundleMetadata> SealedMetadata(std::string_view bundle) {
  uint64_t size = 0;
  for (int i = 0; i < 8; ++i) size |= uint64_t{static_cast<uint8_t>(bundle[16 + i])} << (8 * i);
  return ParseBundleMetadata(bundle.substr(kBundleHeaderSize, size));
}

// Writes the bundle atomically (a reader sees all of it or nothing), first
// removing what an earlier, killed attempt left of its temporary file.
Status WriteBundle(const std::string& path, const std::string& bytes) {
  const std::filesystem::path out(path);
  RemoveStaleTempFiles(out.has_parent_path() ? out.parent_path().string() : ".",
                       out.filename().string());
  return WriteFileAtomic(path, bytes, 0644);
}

}  // namespace

bool IsHeadTensor(std::string_view name) { return model::IsAnyHeadTensor(name); }

Result<BundleMetadata> CreateClosedRelease(const ClosedReleaseOptions& options,
                                           const SigningKey& vendor, const DeployPublicKey& deploy,
                                           std::vector<std::string>* notes) {
  MG_RETURN_IF_ERROR(CheckNewOutput(options.out_path));
  std::vector<std::pair<std::string, std::string>> files;
  MG_RETURN_IF_ERROR(ReadModelFiles(options.model_dir, &files, notes));
  const std::string* config = FindFile(files, "config.json");
  if (config == nullptr) return InvalidArgumentError(options.model_dir + " has no config.json");
  if (FindFile(files, "model.safetensors") == nullptr) {
    // Bundles carry the weights as one safetensors file.
    MG_RETURN_IF_ERROR(ConvertWeightsToSafetensors(options.model_dir, &files, notes));
  }
  MG_ASSIGN_OR_RETURN(const std::optional<kernels::Precision> precision,
                      ValidatedPrecisionOf(options.model_dir));
  if (precision) {
    for (auto& [path, bytes] : files) {
      if (path != "model.safetensors") continue;
      MG_ASSIGN_OR_RETURN(
          bytes, StoreWeightsInPrecision(bytes, *FindFile(files, "config.json"),
                                         JoinPath(options.model_dir, path), *precision, notes));
    }
  }
  BundleInput input;
  BundleMetadata& m = input.metadata;
  m.model_id = options.model_id.empty() ? FolderName(options.model_dir) : options.model_id;
  m.release_mode = "closed";
  m.license = options.license;
  m.created_at = FormatUtcDateTime(options.now);
  m.require_licence = options.require_licence;
  MG_ASSIGN_OR_RETURN(m.labels, LabelsOf(*config, options.model_dir + "/config.json"));
  for (const auto& [path, bytes] : files) input.files.emplace_back(path, bytes);
  MG_ASSIGN_OR_RETURN(std::string bundle, SealBundle(std::move(input), vendor, deploy));
  MG_RETURN_IF_ERROR(WriteBundle(options.out_path, bundle));
  return SealedMetadata(bundle);
}

namespace {

// The base's config.json: the model's, as a plain encoder (no labels).
Result<std::string> BaseConfig(const std::string& config_text, const std::string& name) {
  MG_RETURN_IF_ERROR(CheckJsonDepth(config_text).WithContext(name));
  nlohmann::json config = nlohmann::json::parse(config_text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return InvalidArgumentError(name + " is not a JSON object");
  }
  MG_ASSIGN_OR_RETURN(const model::BertConfig parsed, model::ParseBertConfig(config_text, name));
  config["architectures"] =
      nlohmann::json::array({parsed.family().BaseArchitecture(parsed.model_type)});
  for (const char* key : {"id2label", "label2id", "problem_type", "num_labels"}) config.erase(key);
  return config.dump(2) + "\n";
}

// The model's weights in any of the layouts a folder may hold them in.
bool IsBaseWeightsFile(const std::string& relative) {
  return relative == "model.safetensors" || relative.starts_with("model.safetensors.index") ||
         relative.starts_with("pytorch_model") ||
         (relative.starts_with("model-") && relative.ends_with(".safetensors"));
}

// Those, and a LoRA adapter's files.
bool IsWeightsFile(const std::string& relative) {
  return IsBaseWeightsFile(relative) || relative == model::kAdapterWeightsFile ||
         relative == model::kAdapterConfigFile;
}

// Writes the base's source folder (encoder weights, base config, tokenizer
// and other files of the model) into `dir`.
Status WriteBaseSource(const std::string& model_dir, const std::string& dir,
                       const std::string& config, const std::string& weights) {
  MG_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(dir, "config.json"), config, 0644));
  MG_RETURN_IF_ERROR(WriteFileAtomic(JoinPath(dir, "model.safetensors"), weights, 0644));
  MG_ASSIGN_OR_RETURN(std::vector<std::string> entries, ListReleaseEntries(model_dir));
  for (const std::string& relative : entries) {
    if (IsHidden(relative) || relative == "config.json" || IsWeightsFile(relative)) continue;
    const fs::path to = fs::path(dir) / relative;
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    fs::copy_file(JoinPath(model_dir, relative), to, ec);
    if (ec) return IoError("cannot copy " + relative + ": " + ec.message());
  }
  return Status::Ok();
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "modelgate-hybrid-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

Result<BundleMetadata> CreateHybridRelease(const HybridReleaseOptions& options,
                                           const SigningKey& vendor, const DeployPublicKey& deploy,
                                           std::vector<std::string>* notes) {
  MG_RETURN_IF_ERROR(CheckNewOutput(options.head_out));
  const std::string config_path = JoinPath(options.model_dir, "config.json");
  MG_ASSIGN_OR_RETURN(std::string config_text, ReadFile(config_path));
  MG_ASSIGN_OR_RETURN(std::vector<std::string> labels, LabelsOf(config_text, config_path));
  if (labels.empty()) {
    return InvalidArgumentError(options.model_dir +
                                " is not a sequence classifier; a hybrid release keeps the "
                                "classifier head closed");
  }
  const std::string weights_path = JoinPath(options.model_dir, "model.safetensors");
  if (!FileExists(weights_path)) {
    return InvalidArgumentError(options.model_dir + " has no model.safetensors");
  }
  // A validated precision (release --dtype --validate) goes into the head
  // bundle as well as the open base: it describes the whole model.
  std::string precision_report;
  if (FileExists(JoinPath(options.model_dir, kPrecisionFile))) {
    MG_ASSIGN_OR_RETURN(precision_report, ReadFile(JoinPath(options.model_dir, kPrecisionFile)));
  }
  // A LoRA folder: the base's weights stay as they are (open, untouched);
  // the adapter, which carries the trained head, goes into the bundle.
  const bool lora = model::HasLoraAdapter(options.model_dir);
  std::string adapter_config, adapter_weights;
  if (lora) {
    MG_ASSIGN_OR_RETURN(adapter_config,
                        ReadFile(JoinPath(options.model_dir, model::kAdapterConfigFile)));
    MG_ASSIGN_OR_RETURN(adapter_weights,
                        ReadFile(JoinPath(options.model_dir, model::kAdapterWeightsFile)));
    auto bytes = std::make_shared<const std::string>(adapter_weights);
    MG_ASSIGN_OR_RETURN(model::Checkpoint adapter,
                        model::Checkpoint::FromSafetensorsBuffer(
                            bytes, JoinPath(options.model_dir, model::kAdapterWeightsFile)));
    // Checked now, not first when a deployment loads the head.
    MG_ASSIGN_OR_RETURN(model::BertConfig config, model::ParseBertConfig(config_text, config_path));
    MG_ASSIGN_OR_RETURN(
        model::LoraAdapter parsed,
        model::ParseLoraAdapter(adapter_config, adapter, config, options.model_dir));
    if (!parsed.has_classifier()) {
      return InvalidArgumentError(options.model_dir +
                                  ": the LoRA adapter carries no classifier (modules_to_save); a "
                                  "hybrid release keeps the head closed, so it needs one");
    }
  }
  MG_ASSIGN_OR_RETURN(model::Checkpoint checkpoint, model::Checkpoint::OpenFile(weights_path));
  // A validated precision stores the weights in it, except a LoRA folder's
  // base: the adapter is merged into the base as validated, in F32.
  MG_ASSIGN_OR_RETURN(const std::optional<kernels::Precision> precision,
                      ValidatedPrecisionOf(options.model_dir));
  if (precision && !lora) {
    MG_ASSIGN_OR_RETURN(std::string original, ReadFile(weights_path));
    MG_ASSIGN_OR_RETURN(
        std::string stored,
        StoreWeightsInPrecision(original, config_text, weights_path, *precision, notes));
    MG_ASSIGN_OR_RETURN(checkpoint,
                        model::Checkpoint::FromSafetensorsBuffer(
                            std::make_shared<const std::string>(std::move(stored)), weights_path));
  }
  std::vector<model::TensorToWrite> base, head;
  for (const model::TensorRecord& record : checkpoint.tensors()) {
    model::TensorToWrite tensor;
    tensor.name = record.name;
    tensor.dtype = record.dtype;
    tensor.shape = record.shape;
    tensor.raw = std::string_view(reinterpret_cast<const char*>(record.data), record.size_bytes);
    (IsHeadTensor(record.name) ? head : base).push_back(std::move(tensor));
  }
  std::string base_weights, head_weights;
  if (lora) {
    MG_ASSIGN_OR_RETURN(base_weights, ReadFile(weights_path));
  } else {
    MG_ASSIGN_OR_RETURN(base_weights, model::SerializeSafetensors(base, checkpoint.metadata()));
    MG_ASSIGN_OR_RETURN(head_weights, model::SerializeSafetensors(head, {}));
  }
  MG_ASSIGN_OR_RETURN(std::string base_config, BaseConfig(config_text, config_path));

  const std::string model_id =
      options.model_id.empty() ? FolderName(options.model_dir) : options.model_id;
  {
    ScratchDir scratch;
    if (scratch.path().empty()) return IoError("cannot create a scratch folder");
    MG_RETURN_IF_ERROR(
        WriteBaseSource(options.model_dir, scratch.path(), base_config, base_weights));
    OpenReleaseOptions open;
    open.model_dir = scratch.path();
    open.out_dir = options.base_out;
    open.spdx_license = options.license;
    open.model_id = model_id + "-base";
    open.now = options.now;
    open.store_validated_precision = false;  // stored above (or, with LoRA, kept F32)
    MG_RETURN_IF_ERROR(CreateOpenRelease(open, vendor, notes).status());
  }

  BundleInput input;
  BundleMetadata& m = input.metadata;
  m.model_id = model_id;
  m.release_mode = "hybrid";
  m.license = options.license;
  m.created_at = FormatUtcDateTime(options.now);
  m.require_licence = options.require_licence;
  m.labels = labels;
  m.base_model_id = model_id + "-base";
  m.base_weights_sha256 = Sha256Hex(base_weights);
  input.files.emplace_back("config.json", config_text);
  if (lora) {
    input.files.emplace_back(model::kAdapterConfigFile, adapter_config);
    input.files.emplace_back(model::kAdapterWeightsFile, adapter_weights);
  } else {
    input.files.emplace_back("head.safetensors", head_weights);
  }
  if (!precision_report.empty()) input.files.emplace_back(kPrecisionFile, precision_report);
  Result<std::string> bundle = SealBundle(std::move(input), vendor, deploy);
  Status written = bundle.ok() ? WriteBundle(options.head_out, *bundle) : bundle.status();
  if (!written.ok()) {
    std::error_code ec;
    fs::remove_all(options.base_out, ec);  // never leave half a hybrid release
    return written;
  }
  return SealedMetadata(*bundle);
}

}  // namespace mg::release
