// Shared model-source options of `embed` and `classify`: a model folder, an
// open release, a closed bundle (--key, and --license/--vendor-pub where the
// release requires one) or a hybrid head with its open base (--base), all
// loaded through release::LoadServedModel. Decrypted weights stay in memory.
// A licence with request or token quotas is refused here: only the server
// counts them (release::LicencePolicy::CheckOutsideServer).
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/dtype_option.h"
#include "base/env.h"
#include "base/file.h"
#include "model/model.h"
#include "release/keys.h"
#include "release/licence_policy.h"
#include "release/served_model.h"

namespace mg::cli {

struct ModelSourceArgs {
  release::ModelSourceOptions source;
  std::string passphrase_env;
  std::string dtype;  // empty: the release's validated precision, else f32
};

inline void AddModelSourceOptions(CLI::App* cmd, ModelSourceArgs* args) {
  cmd->add_option("--key", args->source.deploy_key,
                  "Deployment secret key that opens a closed bundle (--model FILE.mgb)");
  cmd->add_option("--base", args->source.base,
                  "Open base folder of a hybrid release (--model HEAD.mgb)");
  cmd->add_option("--license", args->source.licence,
                  "Licence file, for releases that require one (needs --vendor-pub)");
  cmd->add_option("--vendor-pub", args->source.vendor_pub,
                  "Vendor public key pinned to check signatures and the licence");
  cmd->add_option("--passphrase-env", args->passphrase_env,
                  "Environment variable holding the --key passphrase");
  AddDtypeOption(cmd, &args->dtype, "--dtype", kSourceDtypeHelp);
}

// Loads the model; with a licence, also checks that it grants `feature` now
// and sets no quotas, which only the server counts (LicencePolicy).
inline std::unique_ptr<model::Model> LoadModelFromSource(const ModelSourceArgs& args,
                                                         release::LicenceFeature feature) {
  release::ModelSourceOptions source = args.source;
  source.load = LoadOptionsFor(args.dtype);
  source.precision_given = !args.dtype.empty();
  std::error_code ec;
  if (std::filesystem::is_directory(source.model, ec) && source.vendor_pub.empty() &&
      source.base.empty()) {
    // A release folder checked by nobody still says which precision it was validated in.
    const std::string report_path = JoinPath(source.model, release::kPrecisionFile);
    if (!source.precision_given && FileExists(report_path)) {
      source.load.precision = ValueOrThrow(release::ParsePrecisionReport(
                                               ValueOrThrow(ReadFile(report_path)), report_path))
                                  .dtype;
    }
    auto model = ValueOrThrow(model::Model::Load(source.model, source.load));  // plain folder
    NoteFallback(*model, source.load);
    return model;
  }
  source.passphrase = ValueOrThrow(release::PassphraseFromEnv(args.passphrase_env));
  const auto now = Env::Default()->NowSeconds();
  release::ServedModel served = ValueOrThrow(release::LoadServedModel(source, now));
  for (const std::string& note : served.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  const Status allowed = release::LicencePolicy::For(served).CheckOutsideServer(feature, now);
  if (!allowed.ok()) throw CliError("licence " + source.licence + ": " + allowed.message());
  if (served.precision_report && !source.precision_given)
    source.load.precision = served.precision_report->dtype;
  NoteFallback(*served.model, source.load);
  return std::move(served.model);
}

}  // namespace mg::cli
