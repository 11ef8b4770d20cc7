// modelgate audit: verify the audit trail's hash chain and signed
// checkpoints, or export it as JSON lines. Both exit 0 only when the chain is
// intact; otherwise they name the first edited, deleted or reordered entry.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"
#include "apps/modelgate/control_plane_cli.h"
#include "apps/modelgate/output.h"
#include "release/keys.h"
#include "store/limits.h"

namespace mg::cli {
namespace {

struct AuditArgs {
  std::string db, audit_pub, output;
};

store::AuditVerdict VerifyOrThrow(store::ControlPlane& cp, const std::string& audit_pub) {
  std::string pinned;
  if (!audit_pub.empty()) {
    pinned = std::string(ValueOrThrow(release::VerifyKey::Load(audit_pub)).bytes());
  }
  store::AuditVerdict verdict = ValueOrThrow(cp.VerifyAudit(pinned));
  if (!verdict.intact) throw CliError("audit chain broken: " + verdict.problem);
  return verdict;
}

void RunVerify(const AuditArgs& args) {
  auto cp = OpenControlPlane(args.db);
  const store::AuditVerdict verdict = VerifyOrThrow(*cp, args.audit_pub);
  std::printf("audit chain intact: %lld entries, %lld signed checkpoints%s\n",
              static_cast<long long>(verdict.entries), static_cast<long long>(verdict.checkpoints),
              args.audit_pub.empty() ? "" : " (signed with the pinned key)");
}

void RunExport(const AuditArgs& args) {
  auto cp = OpenControlPlane(args.db);
  const store::AuditVerdict verdict = VerifyOrThrow(*cp, args.audit_pub);
  Output out(args.output);
  int64_t after = 0;
  while (true) {
    const auto entries = ValueOrThrow(cp->ReadAudit(after, 5000));
    if (entries.empty()) break;
    for (const store::AuditEntry& entry : entries) {
      const nlohmann::json line = {{"seq", entry.seq},
                                   {"time", store::FormatUtc(entry.ts_ms)},
                                   {"ts_ms", entry.ts_ms},
                                   {"actor", entry.actor},
                                   {"action", entry.action},
                                   {"target", entry.target},
                                   {"route", entry.route},
                                   {"status", entry.status},
                                   {"tokens", entry.tokens},
                                   {"detail", entry.detail},
                                   {"prev_hash", entry.prev_hash},
                                   {"hash", entry.hash}};
      out.Write(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
      after = entry.seq;
    }
  }
  out.Commit();
  std::fprintf(stderr, "exported %lld audit entries; chain intact\n",
               static_cast<long long>(verdict.entries));
}

}  // namespace

void RegisterAudit(CLI::App& app) {
  auto args = std::make_shared<AuditArgs>();
  CLI::App* audit = app.add_subcommand(
      "audit",
      "The tamper-evident audit trail: every admin action and request (who, when,\n"
      "route, status, tokens; never text) in a hash chain with signed checkpoints.");
  audit->require_subcommand(1);
  CLI::App* verify = audit->add_subcommand(
      "verify", "Check the chain; exit 0 only if intact, else name the first bad entry");
  AddDbOption(verify, args->db);
  verify->add_option("--audit-pub", args->audit_pub,
                     "Public key (.pub) every signed checkpoint must be signed with");
  verify->callback([args] { RunVerify(*args); });
  CLI::App* exp = audit->add_subcommand(
      "export", "Write the chain as JSON lines, after checking it (exit 0 only if intact)");
  AddDbOption(exp, args->db);
  exp->add_option("--audit-pub", args->audit_pub, "Public key every checkpoint must carry");
  exp->add_option("--output", args->output, "Write here (default: standard output)");
  exp->callback([args] { RunExport(*args); });
}

}  // namespace mg::cli
