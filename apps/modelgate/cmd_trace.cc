// modelgate trace: names the recipient whose fingerprinted copy of an open
// release a model folder is (release open --fingerprint), or says that no
// fingerprint made with this vendor key matches. Exit 0 when one matches.
#include <memory>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/cmd_trace_watermark.h"
#include "apps/modelgate/commands.h"
#include "base/file.h"
#include "release/fingerprint.h"
#include "release/keys.h"

namespace mg::cli {
namespace {

struct TraceArgs {
  std::string model;
  std::string key;
  std::string passphrase_env;
};

void RunTrace(const TraceArgs& args) {
  if (args.model.empty() || args.key.empty()) {
    throw CliError(
        "trace needs --model DIR --fingerprint-key KEY, or --endpoint URL --watermark KEY", 2);
  }
  const std::string passphrase = ValueOrThrow(release::PassphraseFromEnv(args.passphrase_env));
  const release::SigningKey key = ValueOrThrow(release::SigningKey::Load(args.key, passphrase));
  const std::string weights = JoinPath(args.model, "model.safetensors");
  if (!FileExists(weights)) throw CliError(args.model + " has no model.safetensors");
  const std::string bytes = ValueOrThrow(ReadFile(weights));
  const std::optional<std::string> recipient = ValueOrThrow(release::TraceSafetensors(bytes, key));
  if (!recipient) {
    throw CliError("no fingerprint made with key " + key.key_id() + " matches " + args.model);
  }
  std::printf("fingerprinted for \"%s\" (key %s)\n", recipient->c_str(), key.key_id().c_str());
}

}  // namespace

void RegisterTrace(CLI::App& app) {
  auto args = std::make_shared<TraceArgs>();
  auto watermark = std::make_shared<TraceWatermarkArgs>();
  CLI::App* cmd = app.add_subcommand(
      "trace",
      "Name the recipient whose fingerprinted copy (release open --fingerprint) a model\n"
      "folder is; fails when no fingerprint made with --fingerprint-key matches.\n"
      "With --endpoint URL --watermark KEY: tests a served model for the output watermark\n"
      "of `serve --watermark-key KEY` (one a model distilled from the API inherits).");
  cmd->add_option("--model", args->model, "Model folder (model.safetensors)");
  cmd->add_option("--fingerprint-key", args->key, "Vendor secret key the release was signed with");
  AddTraceWatermarkOptions(cmd, watermark.get());
  cmd->add_option("--passphrase-env", args->passphrase_env,
                  "Environment variable holding the key's passphrase");
  cmd->callback([args, watermark] {
    if (!watermark->endpoint.empty() || !watermark->watermark_key.empty()) {
      return RunTraceWatermark(*watermark);
    }
    RunTrace(*args);
  });
}

}  // namespace mg::cli
