// modelgate verify: checks an open release folder (or a licence file)
// against the vendor's pinned public key. Exit 0 only if every byte is as
// signed; otherwise one error line naming the first problem.
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "base/env.h"
#include "base/file.h"
#include "release/bundle.h"
#include "release/keys.h"
#include "release/licence.h"
#include "release/manifest.h"
#include "release/precision_report.h"

namespace mg::cli {
namespace {

struct VerifyArgs {
  std::string path;
  std::string pub;
  std::string key;  // deployment secret key: also opens a bundle to show what it holds
  std::string passphrase_env;
};

void PrintPrecisionReport(std::string_view text, const std::string& where) {
  const release::PrecisionReport report = ValueOrThrow(release::ParsePrecisionReport(text, where));
  std::printf("precision: %s\n", release::DescribePrecisionReport(report).c_str());
}

void VerifyRelease(const std::string& dir, const release::VerifyKey& pub) {
  Result<release::Manifest> manifest = release::VerifyOpenRelease(dir, pub);
  if (!manifest.ok()) throw CliError("release " + dir + ": " + manifest.status().message());
  std::printf("OK: open release of %s, %zu files as signed by key %s\n", manifest->model_id.c_str(),
              manifest->files.size(), pub.key_id().c_str());
  const std::string report_path = JoinPath(dir, release::kPrecisionFile);
  if (FileExists(report_path))
    PrintPrecisionReport(ValueOrThrow(ReadFile(report_path)), report_path);
}

void VerifyLicenceFile(const std::string& path, const release::VerifyKey& pub) {
  const std::string text = ValueOrThrow(ReadFile(path));
  Result<release::Licence> licence = release::VerifyLicenceSignature(text, pub);
  if (!licence.ok()) throw CliError(path + ": " + licence.status().message());
  std::printf("OK: licence for \"%s\", model %s, %s to %s, signed by key %s\n",
              licence->licensee.c_str(), licence->model_id.c_str(), licence->not_before.c_str(),
              licence->expires.c_str(), pub.key_id().c_str());
  const release::LicenceRequirements now{licence->model_id, Env::Default()->NowSeconds(), ""};
  Status terms = release::CheckLicenceTerms(*licence, now);
  if (!terms.ok()) std::fprintf(stderr, "warning: %s\n", terms.message().c_str());
}

void VerifyBundleFile(const VerifyArgs& args, const release::VerifyKey& pub) {
  const std::string& path = args.path;
  std::optional<release::DeploySecretKey> deploy;
  if (!args.key.empty()) {
    const std::string passphrase = ValueOrThrow(release::PassphraseFromEnv(args.passphrase_env));
    deploy = ValueOrThrow(release::DeploySecretKey::Load(args.key, passphrase));
  }
  const release::BundleContents contents =
      ValueOrThrow(release::OpenBundle(path, &pub, deploy ? &*deploy : nullptr));
  const release::BundleMetadata& m = contents.metadata;
  std::printf("OK: %s bundle of %s, %zu files, sealed to deployment key %s, signed by key %s%s\n",
              m.release_mode.c_str(), m.model_id.c_str(), m.files.size(), m.deploy_key_id.c_str(),
              pub.key_id().c_str(), m.require_licence ? "; requires a licence" : "");
  if (!deploy) return;
  auto report = contents.files.find(release::kPrecisionFile);
  if (report != contents.files.end()) {
    PrintPrecisionReport(report->second->view(), path + ":" + release::kPrecisionFile);
  } else {
    std::printf("precision: f32 (no validated precision in the bundle)\n");
  }
}

void RunVerify(const VerifyArgs& args) {
  const release::VerifyKey pub = ValueOrThrow(release::VerifyKey::Load(args.pub));
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(args.path, ec)) return VerifyRelease(args.path, pub);
  const fs::path path(args.path);
  if (path.filename() == release::kManifestFile || path.filename() == release::kManifestSigFile) {
    return VerifyRelease(path.has_parent_path() ? path.parent_path().string() : ".", pub);
  }
  if (!fs::exists(path, ec)) throw CliError(args.path + " not found");
  if (release::IsBundlePath(args.path)) return VerifyBundleFile(args, pub);
  if (!args.key.empty()) throw CliError("--key goes with a bundle (.mgb)");
  VerifyLicenceFile(args.path, pub);
}

}  // namespace

void RegisterVerify(CLI::App& app) {
  auto args = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "verify",
      "Check an open release folder (signature, every file's size and SHA-256, no file added\n"
      "or missing), a bundle (.mgb: structure and signature over every byte; decrypting needs\n"
      "the deployment key and is not done here) or a licence file against the vendor's public key. "
      "Exit 0 only if every\n"
      "byte is as signed.");
  cmd->add_option("path", args->path, "Release folder, bundle (.mgb) or licence file")->required();
  cmd->add_option("--pub", args->pub, "Vendor public key, obtained from the vendor")->required();
  cmd->add_option("--key", args->key,
                  "Deployment secret key: also decrypt a bundle and show what it holds (its "
                  "validated precision)");
  cmd->add_option("--passphrase-env", args->passphrase_env,
                  "Environment variable holding the --key passphrase");
  cmd->callback([args] { RunVerify(*args); });
}

}  // namespace mg::cli
