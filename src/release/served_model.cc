#include "release/served_model.h"

#include <filesystem>

#include "base/file.h"
#include "model/checkpoint.h"
#include "model/lora_adapter.h"
#include "release/bundle.h"
#include "release/encoding.h"
#include "release/keys.h"
#include "release/manifest.h"

namespace mg::release {
namespace {

// The file that holds a folder's weights, in the order Checkpoint prefers.
std::string WeightsFile(const std::string& dir) {
  for (const char* name :
       {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin"}) {
    std::string path = JoinPath(dir, name);
    if (FileExists(path)) return path;
  }
  return {};
}

// Reads a release's precision report (`text` empty: none) and, unless the
// caller chose a precision, loads the model in the report's.
Status ApplyPrecisionReport(std::string_view text, const std::string& where,
                            const ModelSourceOptions& options, model::LoadOptions* load,
                            ServedModel* served) {
  *load = options.load;
  if (text.empty()) return Status::Ok();
  MG_ASSIGN_OR_RETURN(PrecisionReport report, ParsePrecisionReport(text, where));
  if (!options.precision_given) load->precision = report.dtype;
  served->precision_report = std::move(report);
  return Status::Ok();
}

std::string FolderName(const std::string& dir) {
  std::filesystem::path path(dir);
  if (!path.has_filename()) path = path.parent_path();
  return path.filename().string();
}

Result<ServedModel> LoadFolder(const ModelSourceOptions& options) {
  ServedModel served;
  served.model_id = FolderName(options.model);
  served.release_mode = "local";
  if (FileExists(JoinPath(options.model, kManifestFile))) {
    if (options.vendor_pub.empty()) {
      return InvalidArgumentError(options.model +
                                  " is a signed release: pass --vendor-pub to check it");
    }
    MG_ASSIGN_OR_RETURN(VerifyKey vendor, VerifyKey::Load(options.vendor_pub));
    MG_ASSIGN_OR_RETURN(Manifest manifest, VerifyOpenRelease(options.model, vendor));
    served.model_id = manifest.model_id;
    served.release_mode = manifest.release_mode;
    served.signer_key_id = manifest.signer_key_id;
  }
  std::string weights = WeightsFile(options.model);
  if (!weights.empty()) {
    uint64_t size = 0;
    MG_ASSIGN_OR_RETURN(served.sha256, Sha256FileHex(weights, &size));
  }
  model::LoadOptions load;
  const std::string report_path = JoinPath(options.model, kPrecisionFile);
  std::string report;
  if (FileExists(report_path)) {
    MG_ASSIGN_OR_RETURN(report, ReadFile(report_path));
  }
  MG_RETURN_IF_ERROR(ApplyPrecisionReport(report, report_path, options, &load, &served));
  MG_ASSIGN_OR_RETURN(served.model, model::Model::Load(options.model, load));
  return served;
}

std::string_view FileText(const BundleContents& contents, const std::string& name) {
  auto it = contents.files.find(name);
  return it == contents.files.end() ? std::string_view() : it->second->view();
}

// The weights now live in the process's anonymous memory (heap and large
// allocations): keep it out of core dumps and, where the memory-lock limit
// (or CAP_IPC_LOCK) allows, out of swap.
void ProtectModelMemory(ServedModel* served) {
  if (ProtectAnonymousMemory(/*lock=*/true)) return;
  served->memory_locked = false;
  served->notes.push_back(
      "the decrypted weights are not locked in memory (RLIMIT_MEMLOCK is limited; raise it, "
      "e.g. ulimit -l unlimited or LimitMEMLOCK=infinity, to keep them out of swap)");
}

Status CheckLicence(const ModelSourceOptions& options, const BundleMetadata& metadata,
                    const VerifyKey* vendor, std::chrono::sys_seconds now, ServedModel* served) {
  if (!metadata.require_licence && options.licence.empty()) return Status::Ok();
  if (options.licence.empty()) {
    return InvalidArgumentError(options.model + ": model " + metadata.model_id +
                                " requires a licence: pass --license LICENSE.json --vendor-pub "
                                "VENDOR.pub");
  }
  if (vendor == nullptr) {
    return InvalidArgumentError("checking a licence needs the vendor's public key (--vendor-pub)");
  }
  MG_ASSIGN_OR_RETURN(std::string text, ReadFile(options.licence));
  Result<Licence> licence = VerifyLicence(text, *vendor, {metadata.model_id, now, ""});
  if (!licence.ok()) return licence.status().WithContext("licence " + options.licence);
  served->licence = std::move(licence).value();
  return Status::Ok();
}

// A LoRA adapter the bundle carries (adapter_model.safetensors with its
// adapter_config.json), read in place from the decrypted buffer; nullopt
// when the bundle carries none. Half an adapter is an error.
Result<std::optional<model::Checkpoint>> BundledAdapter(const std::string& path,
                                                        const BundleContents& contents) {
  auto weights = contents.files.find(model::kAdapterWeightsFile);
  const bool has_config = contents.files.count(model::kAdapterConfigFile) != 0;
  if (weights == contents.files.end() && !has_config) return std::optional<model::Checkpoint>();
  if (weights == contents.files.end() || !has_config) {
    return CorruptionError(path + ": the bundle holds half a LoRA adapter (" +
                           model::kAdapterConfigFile + " and " + model::kAdapterWeightsFile +
                           " go together)");
  }
  MG_ASSIGN_OR_RETURN(model::Checkpoint checkpoint, model::Checkpoint::FromSafetensorsMemory(
                                                        weights->second, weights->second->view(),
                                                        path + ":" + model::kAdapterWeightsFile));
  return std::optional<model::Checkpoint>(std::move(checkpoint));
}

Result<std::unique_ptr<model::Model>> BuildClosed(const std::string& path,
                                                  const model::LoadOptions& load,
                                                  const BundleContents& contents) {
  auto weights = contents.files.find("model.safetensors");
  if (weights == contents.files.end() || FileText(contents, "config.json").empty()) {
    return CorruptionError(path + ": the bundle lacks model.safetensors or config.json");
  }
  MG_ASSIGN_OR_RETURN(model::Checkpoint checkpoint,
                      model::Checkpoint::FromSafetensorsMemory(
                          weights->second, weights->second->view(), path + ":model.safetensors"));
  MG_ASSIGN_OR_RETURN(text::Tokenizer tokenizer,
                      text::Tokenizer::FromMemory(
                          FileText(contents, "tokenizer.json"), FileText(contents, "vocab.txt"),
                          FileText(contents, "tokenizer_config.json"), path));
  MG_ASSIGN_OR_RETURN(std::optional<model::Checkpoint> adapter, BundledAdapter(path, contents));
  return model::Model::FromParts(FileText(contents, "config.json"), checkpoint,
                                 std::move(tokenizer), FileText(contents, "1_Pooling/config.json"),
                                 path, FileText(contents, model::kAdapterConfigFile),
                                 adapter ? &*adapter : nullptr, path, load);
}

Result<std::unique_ptr<model::Model>> BuildHybrid(const ModelSourceOptions& options,
                                                  const BundleContents& contents,
                                                  const VerifyKey* vendor, ServedModel* served) {
  const BundleMetadata& m = contents.metadata;
  if (options.base.empty()) {
    return InvalidArgumentError(options.model + " is the head of a hybrid release of " +
                                m.model_id + ": pass its open base folder with --base");
  }
  if (!std::filesystem::is_directory(options.base)) {
    return NotFoundError("base " + options.base + " is not a folder");
  }
  if (FileExists(JoinPath(options.base, kManifestFile))) {
    if (vendor != nullptr) {
      Result<Manifest> manifest = VerifyOpenRelease(options.base, *vendor);
      if (!manifest.ok()) return manifest.status().WithContext("base " + options.base);
    } else {
      served->notes.push_back(
          "the base's manifest was not checked (no --vendor-pub); the head's "
          "binding to its weights was");
    }
  }
  const std::string weights = JoinPath(options.base, "model.safetensors");
  if (!FileExists(weights))
    return NotFoundError("base " + options.base + " has no model.safetensors");
  uint64_t size = 0;
  MG_ASSIGN_OR_RETURN(std::string sha256, Sha256FileHex(weights, &size));
  if (sha256 != m.base_weights_sha256) {
    return InvalidArgumentError(options.model + " was made for another base (" + m.base_model_id +
                                ", weights SHA-256 " + m.base_weights_sha256 + "), not for " +
                                options.base + " (weights SHA-256 " + sha256 + ")");
  }
  // The head: head.safetensors (pooler, classifier), or for a LoRA model the
  // adapter, which carries the head and is merged into the base's weights.
  MG_ASSIGN_OR_RETURN(std::optional<model::Checkpoint> adapter,
                      BundledAdapter(options.model, contents));
  auto head = contents.files.find("head.safetensors");
  if ((head == contents.files.end() && !adapter) || FileText(contents, "config.json").empty()) {
    return CorruptionError(options.model + ": the bundle lacks head.safetensors or config.json");
  }
  MG_ASSIGN_OR_RETURN(model::Checkpoint checkpoint, model::Checkpoint::OpenFolder(options.base));
  if (head != contents.files.end()) {
    MG_ASSIGN_OR_RETURN(
        model::Checkpoint head_checkpoint,
        model::Checkpoint::FromSafetensorsMemory(head->second, head->second->view(),
                                                 options.model + ":head.safetensors"));
    MG_RETURN_IF_ERROR(checkpoint.Append(std::move(head_checkpoint)));
  }
  MG_ASSIGN_OR_RETURN(text::Tokenizer tokenizer, text::Tokenizer::Load(options.base));
  std::string pooling;
  const std::string pooling_path = JoinPath(options.base, "1_Pooling/config.json");
  if (FileExists(pooling_path)) {
    MG_ASSIGN_OR_RETURN(pooling, ReadFile(pooling_path));
  }
  return model::Model::FromParts(FileText(contents, "config.json"), checkpoint,
                                 std::move(tokenizer), pooling, options.base,
                                 FileText(contents, model::kAdapterConfigFile),
                                 adapter ? &*adapter : nullptr, options.model, options.load);
}

Result<ServedModel> LoadBundle(const ModelSourceOptions& options, std::chrono::sys_seconds now) {
  if (options.deploy_key.empty()) {
    return InvalidArgumentError(options.model +
                                " is a closed bundle: pass the deployment key with --key");
  }
  MG_ASSIGN_OR_RETURN(DeploySecretKey key,
                      DeploySecretKey::Load(options.deploy_key, options.passphrase));
  std::optional<VerifyKey> vendor;
  if (!options.vendor_pub.empty()) {
    MG_ASSIGN_OR_RETURN(vendor, VerifyKey::Load(options.vendor_pub));
  }
  const VerifyKey* pinned = vendor ? &*vendor : nullptr;
  MG_ASSIGN_OR_RETURN(BundleContents contents, OpenBundle(options.model, pinned, &key));
  const BundleMetadata& m = contents.metadata;
  ServedModel served;
  served.model_id = m.model_id;
  served.release_mode = m.release_mode;
  served.signer_key_id = m.signer_key_id;
  served.sha256 = contents.digest_sha256;
  served.memory_locked = true;
  if (pinned == nullptr) {
    served.notes.push_back("the bundle's signer (key " + m.signer_key_id +
                           ") is not pinned (no --vendor-pub); its integrity was checked");
  }
  MG_RETURN_IF_ERROR(CheckLicence(options, m, pinned, now, &served));
  // The report travels in the bundle; a hybrid head made before it did takes
  // the one in its open base.
  std::string report(FileText(contents, kPrecisionFile));
  std::string report_where = options.model + ":" + kPrecisionFile;
  if (report.empty() && m.release_mode == "hybrid" && !options.base.empty() &&
      FileExists(JoinPath(options.base, kPrecisionFile))) {
    report_where = JoinPath(options.base, kPrecisionFile);
    MG_ASSIGN_OR_RETURN(report, ReadFile(report_where));
  }
  ModelSourceOptions effective = options;
  MG_RETURN_IF_ERROR(ApplyPrecisionReport(report, report_where, options, &effective.load, &served));
  if (m.release_mode == "hybrid") {
    MG_ASSIGN_OR_RETURN(served.model, BuildHybrid(effective, contents, pinned, &served));
  } else {
    if (!options.base.empty()) {
      return InvalidArgumentError(options.model +
                                  " is a closed release, not a hybrid head; "
                                  "drop --base");
    }
    MG_ASSIGN_OR_RETURN(served.model, BuildClosed(options.model, effective.load, contents));
  }
  if (!contents.memory_locked) served.memory_locked = false;
  contents.files.clear();  // wipes the decrypted files
  ProtectModelMemory(&served);
  return served;
}

}  // namespace

Result<ServedModel> LoadServedModel(const ModelSourceOptions& options,
                                    std::chrono::sys_seconds now) {
  if (options.model.empty()) return InvalidArgumentError("no model given");
  if (std::filesystem::is_directory(options.model)) {
    if (!options.base.empty()) {
      return InvalidArgumentError("--base goes with a hybrid head bundle (.mgb), not a folder");
    }
    return LoadFolder(options);
  }
  if (!FileExists(options.model)) return NotFoundError(options.model + ": no such file or folder");
  if (!IsBundlePath(options.model)) {
    return InvalidArgumentError(options.model + " is neither a model folder nor a bundle (.mgb)");
  }
  return LoadBundle(options, now);
}

}  // namespace mg::release
