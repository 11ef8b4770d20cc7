// modelgate release open: a signed open release of a Hugging Face folder
// (closed and hybrid bundles come later; see docs/release-formats.md).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "release/keys.h"
#include "release/open_release.h"

namespace mg::cli {
namespace {

struct OpenArgs {
  std::string model;
  std::string out;
  std::string license;
  std::string sign;
  std::string model_id;
  std::string base_model;
  std::string passphrase_env;
};

void RunOpen(const OpenArgs& args) {
  const std::string passphrase = ValueOrThrow(release::PassphraseFromEnv(args.passphrase_env));
  const release::SigningKey key = ValueOrThrow(release::SigningKey::Load(args.sign, passphrase));
  release::OpenReleaseOptions options;
  options.model_dir = args.model;
  options.out_dir = args.out;
  options.spdx_license = args.license;
  options.model_id = args.model_id;
  options.base_model = args.base_model;
  options.now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  std::vector<std::string> notes;
  const release::Manifest manifest = ValueOrThrow(release::CreateOpenRelease(options, key, &notes));
  for (const std::string& note : notes) std::fprintf(stderr, "note: %s\n", note.c_str());
  std::printf("released %s (open, %s) to %s: %zu files, manifest signed by key %s\n",
              manifest.model_id.c_str(), manifest.license.c_str(), args.out.c_str(),
              manifest.files.size(), key.key_id().c_str());
}

}  // namespace

void RegisterRelease(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("release", "Release a model (open)");
  cmd->require_subcommand(1);
  auto args = std::make_shared<OpenArgs>();
  CLI::App* open = cmd->add_subcommand(
      "open",
      "Copy a Hugging Face model folder to --out with LICENSE, a README.md model card and a\n"
      "manifest.json of every file's size and SHA-256, signed (manifest.sig) with --sign.");
  open->add_option("--model", args->model, "Model folder (config.json, weights, tokenizer files)")
      ->required();
  open->add_option("--out", args->out, "Release folder to create (must not exist, or be empty)")
      ->required();
  open->add_option("--license", args->license, "SPDX licence id, e.g. Apache-2.0 or MIT")
      ->required();
  open->add_option("--sign", args->sign, "Vendor secret key (from keygen)")->required();
  open->add_option("--model-id", args->model_id, "Model id (default: the model folder's name)");
  open->add_option("--base-model", args->base_model, "Base model named in the model card");
  open->add_option("--passphrase-env", args->passphrase_env,
                   "Environment variable holding the --sign key's passphrase");
  open->callback([args] { RunOpen(*args); });
}

}  // namespace mg::cli
