// modelgate keygen: a new key pair, NAME.key (secret, mode 0600) and NAME.pub.
// "sign" pairs (Ed25519) are for vendors who sign releases and licences;
// "deploy" pairs (X25519) are for deployments that receive encrypted bundles.
// The secret is written once and never printed.
#include <memory>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "release/keys.h"

namespace mg::cli {
namespace {

struct KeygenArgs {
  std::string out;
  std::string type = "sign";
  std::string passphrase_env;
};

void RunKeygen(const KeygenArgs& args) {
  const release::KeyKind kind =
      args.type == "deploy" ? release::KeyKind::kDeploy : release::KeyKind::kSign;
  const std::string passphrase = ValueOrThrow(release::PassphraseFromEnv(args.passphrase_env));
  const std::string key_id = ValueOrThrow(release::WriteNewKeyPair(args.out, kind, passphrase));
  std::printf("wrote %s.key (secret, mode 0600) and %s.pub; key id %s\n", args.out.c_str(),
              args.out.c_str(), key_id.c_str());
}

}  // namespace

void RegisterKeygen(CLI::App& app) {
  auto args = std::make_shared<KeygenArgs>();
  CLI::App* cmd = app.add_subcommand(
      "keygen",
      "Generate a key pair: NAME.key (secret, mode 0600; keep it private) and NAME.pub.\n"
      "sign: Ed25519, for vendors signing releases and licences.\n"
      "deploy: X25519, for deployments receiving encrypted bundles.");
  cmd->add_option("--out", args->out, "Path and name of the pair, without extension")->required();
  cmd->add_option("--type", args->type, "sign or deploy")
      ->capture_default_str()
      ->check(CLI::IsMember({"sign", "deploy"}));
  cmd->add_option("--passphrase-env", args->passphrase_env,
                  "Encrypt NAME.key with the passphrase in this environment variable\n"
                  "(Argon2id + XChaCha20-Poly1305)");
  cmd->callback([args] { RunKeygen(*args); });
}

}  // namespace mg::cli
