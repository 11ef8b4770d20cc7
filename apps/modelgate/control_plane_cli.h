// What the keys, usage and audit commands share: opening the control plane
// from --db (with --audit-key to sign checkpoints and --audit-anchor to keep
// them outside the database), naming the person at the
// terminal in audit entries, and reading dates and money.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "store/control_plane.h"

namespace mg::cli {

// Opens `db` ("sqlite:PATH" or "postgresql://…") and applies migrations.
// With a non-empty `audit_key_path` (an Ed25519 key from `modelgate keygen
// --type sign`), audit checkpoints written through it are signed; with a
// non-empty `audit_anchor_path` as well, each is then appended to that
// anchor file (store/audit_anchor.h); a failed append is reported on
// standard error. Throws CliError.
std::unique_ptr<store::ControlPlane> OpenControlPlane(const std::string& db,
                                                      const std::string& audit_key_path = {},
                                                      const std::string& audit_anchor_path = {});

// For commands that append to the audit trail: a warning when the chain is
// signed but `audit_key_path` is empty (an entry due a checkpoint would then
// have none, which verification with the key reports as tampering), else
// nothing.
std::optional<std::string> MissingAuditKeyWarning(store::ControlPlane& cp,
                                                  const std::string& audit_key_path);

// Adds --audit-key and --audit-anchor, for commands that append to the audit
// trail.
void AddAuditSigningOptions(CLI::App* cmd, std::string& audit_key, std::string& audit_anchor);

// "cli:USER", the actor recorded for admin actions from the command line.
std::string CliActor();

// "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ" (UTC) to Unix ms; throws CliError.
int64_t ParseDateOrThrow(const std::string& flag, const std::string& text);

// "12.50" US dollars to micro-dollars; throws CliError on a negative or
// malformed amount.
int64_t ParseUsdOrThrow(const std::string& flag, const std::string& text);
std::string FormatUsd(int64_t micro_usd);

// Adds --db, required, with the help every command shares.
void AddDbOption(CLI::App* cmd, std::string& db);

}  // namespace mg::cli
