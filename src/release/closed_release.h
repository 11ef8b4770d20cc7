// Creating closed and hybrid releases.
//
// Closed: every file of a Hugging Face model folder (weights as
// model.safetensors, config.json, tokenizer files, 1_Pooling/config.json)
// in one bundle (bundle.h) that only the deployment key opens.
//
// Hybrid: the model's encoder as an open release (signed manifest, model
// card, licence) and its head (pooler and classifier tensors, with the full
// config.json) as a bundle bound to that base by the SHA-256 of the base's
// model.safetensors. The base folder is a plain BertModel any Hugging Face
// loader reads. For a folder with a LoRA adapter (model/lora_adapter.h) the
// base's model.safetensors is released as it is (the untouched base) and the
// bundle carries adapter_config.json and adapter_model.safetensors (adapter
// and trained head) instead of head.safetensors.
//
// Outputs appear atomically under their final names. Not thread-safe with
// respect to other writers of the same outputs.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"
#include "release/bundle.h"
#include "release/keys.h"
#include "release/manifest.h"

namespace mg::release {

struct ClosedReleaseOptions {
  std::string model_dir;
  std::string out_path;  // FILE.mgb; must not exist
  std::string model_id;  // default: the model folder's name
  std::string license;   // optional SPDX id, recorded in the metadata
  bool require_licence = false;
  std::chrono::sys_seconds now;
};

// Returns the bundle's metadata. Hidden files are skipped and named in `notes`.
Result<BundleMetadata> CreateClosedRelease(const ClosedReleaseOptions& options,
                                           const SigningKey& vendor, const DeployPublicKey& deploy,
                                           std::vector<std::string>* notes);

struct HybridReleaseOptions {
  std::string model_dir;  // a *ForSequenceClassification model
  std::string base_out;   // open base folder to create
  std::string head_out;   // head bundle to create
  std::string license;    // SPDX id of the open base
  std::string model_id;   // default: the model folder's name; the base is ID-base
  bool require_licence = false;
  std::chrono::sys_seconds now;
};

Result<BundleMetadata> CreateHybridRelease(const HybridReleaseOptions& options,
                                           const SigningKey& vendor, const DeployPublicKey& deploy,
                                           std::vector<std::string>* notes);

// True for the tensors a hybrid release keeps in its closed head.
bool IsHeadTensor(std::string_view name);

}  // namespace mg::release
