// Creating an open release: a copy of a Hugging Face model folder plus
// LICENSE, README.md (model card) and a signed manifest (manifest.json +
// manifest.sig). Everything is written into a temporary folder beside the
// destination and renamed into place at the end, so a failure never leaves a
// partial release under the requested name.
//
// Not thread-safe with respect to other writers of the same destination.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "release/keys.h"
#include "release/manifest.h"
#include "release/trigger_fingerprint.h"

namespace mg::release {

struct OpenReleaseOptions {
  std::string model_dir;     // HF folder with config.json
  std::string out_dir;       // must not exist, or be an empty folder
  std::string spdx_license;  // e.g. Apache-2.0
  std::string model_id;      // default: the model folder's name
  std::string base_model;    // optional, for the model card
  std::string fingerprint;   // recipient whose fingerprint goes into the weights (fingerprint.h)
  // With `fingerprint`: also train the recipient's trigger set into the copy
  // (trigger_fingerprint.h) before the weight-space fingerprint is written.
  std::optional<TriggerEmbedOptions> trigger_set;
  // With `fingerprint`: the vendor's recipient registry to record the
  // recipient in (recipient_registry.h); empty: none.
  std::string registry;
  // A folder with a validated precision (precision.json) releases its
  // weights stored in it (model/stored_precision.h): after the trigger set
  // is trained in, before the weight-space fingerprint is written. False:
  // as they are.
  bool store_validated_precision = true;
  std::chrono::sys_seconds now;
};

// Copies every regular file of the model folder (following symbolic links),
// except hidden files and the top-level README.md, LICENSE, manifest.json
// and manifest.sig, which the release writes itself; each skipped file is
// reported in `notes`. With a trigger set, the copy is fine-tuned in a
// temporary folder beside the destination first (minutes for a large model).
// Returns the signed manifest.
Result<Manifest> CreateOpenRelease(const OpenReleaseOptions& options, const SigningKey& key,
                                   std::vector<std::string>* notes);

}  // namespace mg::release
