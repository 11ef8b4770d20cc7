// modelgate audit: verify the audit trail's hash chain, signed checkpoints
// and anchor file, or export it as JSON lines. Both exit 0 only when the chain is
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
#include "store/audit_anchor.h"
#include "store/limits.h"

namespace mg::cli {
namespace {

struct AuditArgs {
  std::string db, audit_pub, anchor, output;
};

store::AuditVerdict VerifyOrThrow(store::ControlPlane& cp, const AuditArgs& args) {
  store::AuditVerifyOptions options;
  if (!args.audit_pub.empty()) {
    options.pinned_public_key =
        std::string(ValueOrThrow(release::VerifyKey::Load(args.audit_pub)).bytes());
  } else {
    std::fprintf(stderr,
                 "modelgate: without --audit-pub, a chain rewritten consistently (hashes "
                 "recomputed, checkpoints deleted) is not detected\n");
  }
  if (!args.anchor.empty()) options.anchor = ValueOrThrow(store::ReadAuditAnchor(args.anchor));
  store::AuditVerdict verdict = ValueOrThrow(cp.VerifyAudit(options));
  if (!verdict.intact) throw CliError("audit chain broken: " + verdict.problem);
  return verdict;
}

void RunVerify(const AuditArgs& args) {
  auto cp = OpenControlPlane(args.db);
  const store::AuditVerdict verdict = VerifyOrThrow(*cp, args);
  std::printf("audit chain intact: %lld entries, %lld signed checkpoints%s\n",
              static_cast<long long>(verdict.entries), static_cast<long long>(verdict.checkpoints),
              args.audit_pub.empty() ? "" : " (signed with the pinned key)");
  if (!args.anchor.empty()) {
    std::printf("anchored: %lld checkpoints of %s, the newest at entry %lld\n",
                static_cast<long long>(verdict.anchored), args.anchor.c_str(),
                static_cast<long long>(verdict.last_anchored_seq));
  }
  // What the signatures and the anchor do not cover, said plainly (without
  // either, the warning above already covers the whole chain).
  if (args.audit_pub.empty() && args.anchor.empty()) return;
  const int64_t covered =
      args.anchor.empty() ? verdict.last_checkpoint_seq : verdict.last_anchored_seq;
  if (verdict.entries > covered) {
    std::printf("entries %lld to %lld follow the last %s checkpoint: only hash-chained\n",
                static_cast<long long>(covered + 1), static_cast<long long>(verdict.entries),
                args.anchor.empty() ? "signed" : "anchored");
  }
}

void RunExport(const AuditArgs& args) {
  auto cp = OpenControlPlane(args.db);
  const store::AuditVerdict verdict = VerifyOrThrow(*cp, args);
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
                     "Public key (.pub) of --audit-key: every checkpoint must be signed with it,\n"
                     "and every 1000th entry must have one");
  verify->add_option("--anchor", args->anchor,
                     "Anchor file (serve/keys --audit-anchor): every checkpoint in it must be in\n"
                     "the chain, so a chain rewritten or cut back before it is caught");
  verify->callback([args] { RunVerify(*args); });
  CLI::App* exp = audit->add_subcommand(
      "export", "Write the chain as JSON lines, after checking it (exit 0 only if intact)");
  AddDbOption(exp, args->db);
  exp->add_option("--audit-pub", args->audit_pub, "Public key every checkpoint must carry");
  exp->add_option("--anchor", args->anchor, "Anchor file every checkpoint of which must match");
  exp->add_option("--output", args->output, "Write here (default: standard output)");
  exp->callback([args] { RunExport(*args); });
}

}  // namespace mg::cli
