#include "release/served_model.h"

#include <filesystem>

#include "base/file.h"
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
  MG_ASSIGN_OR_RETURN(served.model, model::Model::Load(options.model));
  return served;
}

}  // namespace

Result<ServedModel> LoadServedModel(const ModelSourceOptions& options,
                                    std::chrono::sys_seconds /*now*/) {
  if (options.model.empty()) return InvalidArgumentError("no model given");
  if (!options.base.empty()) {
    return UnimplementedError("hybrid model sources (--base) are not supported yet");
  }
  if (std::filesystem::is_directory(options.model)) return LoadFolder(options);
  return UnimplementedError(options.model +
                            " is not a model folder; closed bundles are not supported yet");
}

}  // namespace mg::release
