#include "apps/modelgate/control_plane_cli.h"

#include <pwd.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "apps/modelgate/cli_error.h"
#include "release/keys.h"
#include "store/audit_anchor.h"
#include "store/limits.h"

namespace mg::cli {

std::unique_ptr<store::ControlPlane> OpenControlPlane(const std::string& db,
                                                      const std::string& audit_key_path,
                                                      const std::string& audit_anchor_path) {
  if (!audit_anchor_path.empty() && audit_key_path.empty()) {
    throw CliError("--audit-anchor needs --audit-key (only signed checkpoints are anchored)", 2);
  }
  store::ControlPlaneOptions options;
  if (!audit_key_path.empty()) {
    auto key = std::make_shared<release::SigningKey>(
        ValueOrThrow(release::SigningKey::Load(audit_key_path)));
    store::AuditSigner signer;
    signer.public_key = std::string(key->public_key().bytes());
    signer.sign = [key](std::string_view message) { return key->Sign(message); };
    if (!audit_anchor_path.empty()) {
      std::shared_ptr<store::AuditAnchorFile> anchor =
          ValueOrThrow(store::AuditAnchorFile::Open(audit_anchor_path));
      // The entries are committed by now: a failed append cannot undo them,
      // so the operator is told and the checkpoint stays in the database.
      signer.anchor = [anchor](const store::AuditCheckpoint& checkpoint) {
        const Status status = anchor->Append(checkpoint);
        if (!status.ok()) {
          std::fprintf(stderr, "modelgate: audit checkpoint %lld not anchored: %s\n",
                       static_cast<long long>(checkpoint.seq), status.message().c_str());
        }
      };
    }
    options.audit_signer = std::move(signer);
  }
  auto opened = store::ControlPlane::Open(db, std::move(options));
  if (!opened.ok()) throw CliError(opened.status().message());
  return std::move(opened).value();
}

std::string CliActor() {
  const passwd* user = getpwuid(geteuid());
  return std::string("cli:") + (user != nullptr ? user->pw_name : std::to_string(geteuid()));
}

int64_t ParseDateOrThrow(const std::string& flag, const std::string& text) {
  int64_t ms = 0;
  if (!store::ParseUtc(text, &ms)) {
    throw CliError(flag + " '" + text + "' is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC)",
                   2);
  }
  return ms;
}

int64_t ParseUsdOrThrow(const std::string& flag, const std::string& text) {
  char* end = nullptr;
  const double usd = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(usd) || usd < 0 ||
      usd > 1e12) {
    throw CliError(flag + " '" + text + "' is not an amount in US dollars", 2);
  }
  return static_cast<int64_t>(std::llround(usd * 1e6));
}

std::string FormatUsd(int64_t micro_usd) {
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%.6f", static_cast<double>(micro_usd) / 1e6);
  return buffer;
}

std::optional<std::string> MissingAuditKeyWarning(store::ControlPlane& cp,
                                                  const std::string& audit_key_path) {
  if (!audit_key_path.empty()) return std::nullopt;
  auto lease = cp.Connection();
  if (!lease.ok()) return std::nullopt;  // the command itself reports it
  const auto count = store::CountAuditCheckpoints(**lease);
  if (!count.ok() || *count == 0) return std::nullopt;
  return "the audit trail of this database has signed checkpoints but no --audit-key was "
         "given: an entry written now that is due a checkpoint will have none, and `audit "
         "verify --audit-pub` will report it as missing";
}

void AddAuditSigningOptions(CLI::App* cmd, std::string& audit_key, std::string& audit_anchor) {
  cmd->add_option("--audit-key", audit_key,
                  "Ed25519 key (modelgate keygen --type sign) that signs audit checkpoints");
  cmd->add_option("--audit-anchor", audit_anchor,
                  "Append every signed audit checkpoint to this file (created if missing; keep\n"
                  "it where database writers cannot change it); needs --audit-key");
}

void AddDbOption(CLI::App* cmd, std::string& db) {
  cmd->add_option("--db", db,
                  "Control-plane database: sqlite:PATH (created if missing) or\n"
                  "postgresql://USER@HOST:PORT/DB (shared by several servers)")
      ->required();
}

}  // namespace mg::cli
