// modelgate license issue|show: signed licences (see docs/release-formats.md).
#include <chrono>
#include <memory>
#include <sstream>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "base/env.h"
#include "base/file.h"
#include "release/keys.h"
#include "release/licence.h"

namespace mg::cli {
namespace {

struct IssueArgs {
  std::string sign;
  std::string licensee;
  std::string model;
  std::string expires;
  std::string not_before;
  std::string features = "classify,embed,recommend";
  uint64_t max_requests = 0;
  uint64_t max_tokens_per_day = 0;
  std::string out;
  std::string passphrase_env;
};

struct ShowArgs {
  std::string file;
  std::string pub;
};

std::chrono::sys_seconds Now() { return Env::Default()->NowSeconds(); }

void RunIssue(const IssueArgs& args) {
  const std::string passphrase = ValueOrThrow(release::PassphraseFromEnv(args.passphrase_env));
  const release::SigningKey key = ValueOrThrow(release::SigningKey::Load(args.sign, passphrase));
  release::Licence licence;
  licence.licensee = args.licensee;
  licence.model_id = args.model;
  licence.expires = args.expires;
  licence.not_before = args.not_before;
  std::stringstream features(args.features);
  for (std::string feature; std::getline(features, feature, ',');) {
    if (!feature.empty()) licence.features.push_back(feature);
  }
  if (args.max_requests) licence.max_requests = args.max_requests;
  if (args.max_tokens_per_day) licence.max_tokens_per_day = args.max_tokens_per_day;
  const std::string text = ValueOrThrow(release::IssueLicence(licence, key, Now()));
  ThrowIfError(WriteFileAtomic(args.out, text, 0644));
  std::printf("wrote %s: licence for \"%s\", model %s, until %s, signed by key %s\n",
              args.out.c_str(), args.licensee.c_str(), args.model.c_str(), args.expires.c_str(),
              key.key_id().c_str());
}

void RunShow(const ShowArgs& args) {
  const std::string text = ValueOrThrow(ReadFile(args.file));
  release::Licence licence;
  if (args.pub.empty()) {
    licence = ValueOrThrow(release::ReadLicenceUnchecked(text));
  } else {
    const release::VerifyKey pub = ValueOrThrow(release::VerifyKey::Load(args.pub));
    licence = ValueOrThrow(release::VerifyLicenceSignature(text, pub));
  }
  std::printf("%s\n", release::LicenceToDisplayJson(licence).c_str());
  if (args.pub.empty()) {
    std::fprintf(stderr, "signature: not checked (pass --pub VENDOR.pub to check it)\n");
  } else {
    std::fprintf(stderr, "signature: valid, vendor key id %s\n", licence.vendor_key_id.c_str());
  }
}

}  // namespace

void RegisterLicense(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("license", "Issue and inspect signed licences");
  cmd->require_subcommand(1);

  auto issue = std::make_shared<IssueArgs>();
  CLI::App* issue_cmd = cmd->add_subcommand(
      "issue",
      "Sign a licence for one licensee and one model id, valid from --not-before (default:\n"
      "today) through the end of the --expires day, UTC.");
  issue_cmd->add_option("--sign", issue->sign, "Vendor secret key (from keygen)")->required();
  issue_cmd->add_option("--licensee", issue->licensee, "Who the licence is for")->required();
  issue_cmd->add_option("--model", issue->model, "Model id the licence is for")->required();
  issue_cmd->add_option("--expires", issue->expires, "Last valid day, YYYY-MM-DD (UTC)")
      ->required();
  issue_cmd->add_option("--not-before", issue->not_before, "First valid day, YYYY-MM-DD (UTC)");
  issue_cmd->add_option("--features", issue->features, "Comma-separated features granted")
      ->capture_default_str();
  issue_cmd->add_option("--max-requests", issue->max_requests, "Request limit (0 = none)");
  issue_cmd->add_option("--max-tokens-per-day", issue->max_tokens_per_day,
                        "Daily token limit (0 = none)");
  issue_cmd->add_option("--out", issue->out, "Licence file to write")->required();
  issue_cmd->add_option("--passphrase-env", issue->passphrase_env,
                        "Environment variable holding the --sign key's passphrase");
  issue_cmd->callback([issue] { RunIssue(*issue); });

  auto show = std::make_shared<ShowArgs>();
  CLI::App* show_cmd = cmd->add_subcommand(
      "show", "Print a licence as JSON; with --pub, only after checking its signature");
  show_cmd->add_option("file", show->file, "Licence file")->required();
  show_cmd->add_option("--pub", show->pub, "Vendor public key to check the signature with");
  show_cmd->callback([show] { RunShow(*show); });
}

}  // namespace mg::cli
