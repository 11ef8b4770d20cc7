// ServedModel: a model loaded for serving from any model source the CLI
// accepts (SPEC.md, "Model sources"), together with what the server shows
// about it in /info and enforces while it runs (release mode, signer,
// licence).
//
// LoadServedModel() is the one place that turns a source into a ready Model:
// a plain Hugging Face folder, a signed open release, a closed bundle (.mgb)
// opened with the deployment key, or a hybrid pair (head bundle + open base).
// Everything it needs to trust comes from the options (pinned vendor key,
// deployment key, licence file); nothing is taken on trust from the source.
//
// The returned model is immutable and shared read-only by all serving
// threads; the licence terms are checked again by the server at run time
// (expiry, features, quotas).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/model.h"
#include "release/licence.h"
#include "release/precision_report.h"

namespace mg::release {

struct ModelSourceOptions {
  std::string model;        // HF folder, open release folder, or FILE.mgb
  std::string base;         // hybrid: the open base folder the head was made for
  std::string deploy_key;   // closed/hybrid: the deployment's secret key file
  std::string passphrase;   // of the deployment key, when it is protected
  std::string licence;      // licence file, when the release requires one
  std::string vendor_pub;   // pinned vendor public key (signatures, licence)
  model::LoadOptions load;  // how the model is built (precision of its linear layers)
  // False: a release's precision.json (precision_report.h) chooses the
  // precision, and load.precision applies only without one.
  bool precision_given = false;
};

struct ServedModel {
  std::unique_ptr<model::Model> model;
  std::string model_id;       // release model id, or the folder's name
  std::string sha256;         // of the weights file (folder) or of the bundle
  std::string release_mode;   // "local" (plain folder), "open", "closed", "hybrid"
  std::string signer_key_id;  // vendor key id; empty when unsigned
  std::optional<Licence> licence;
  // The release's validated precision (precision.json), when it has one.
  std::optional<PrecisionReport> precision_report;
  // Closed and hybrid: whether the decrypted weights are locked in RAM
  // (never swapped); false when RLIMIT_MEMLOCK forbids it.
  bool memory_locked = false;
  // Things the operator should know (e.g. memory that could not be locked).
  std::vector<std::string> notes;
};

// Loads and checks `options.model`. `now` is the clock used for licence
// checks. Errors name the file and the reason.
Result<ServedModel> LoadServedModel(const ModelSourceOptions& options,
                                    std::chrono::sys_seconds now);

}  // namespace mg::release
