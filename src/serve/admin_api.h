// AdminApi: the /admin/* routes of `modelgate serve --db` (docs/admin-api.md):
// keys (list, create, revoke), usage reports (JSON or CSV) and the audit
// trail with a verification of the whole chain against the server's own
// audit public key (that of --audit-key) and anchor file, never without one:
// a server without an audit key reports the chain as unsigned. Every route needs a key with
// the `admin` scope, goes through the control plane's admission (so admin
// requests are rate-limited, metered and audited like any other) and every
// key change is audited with the admin key's name as the actor.
//
// Thread safety: Handle may be called from many threads at once; it blocks on
// the database (call it off the I/O threads).
#pragma once

#include <string>

#include "serve/http_types.h"
#include "store/control_plane.h"

namespace mg::serve {

class AdminApi {
 public:
  // `control_plane` must outlive the AdminApi. `audit_anchor_path` (empty:
  // none) is the anchor file the server appends checkpoints to.
  explicit AdminApi(store::ControlPlane* control_plane, std::string audit_anchor_path = {})
      : control_plane_(control_plane), audit_anchor_path_(std::move(audit_anchor_path)) {}

  HttpResponse Handle(const HttpRequest& request);

 private:
  HttpResponse Route(const HttpRequest& request, const std::string& actor);
  HttpResponse ListKeys();
  HttpResponse CreateKey(const HttpRequest& request, const std::string& actor);
  HttpResponse RevokeKey(const HttpRequest& request, const std::string& actor);
  HttpResponse Usage(const HttpRequest& request);
  HttpResponse Audit(const HttpRequest& request);

  Result<store::AuditVerdict> VerifyAudit();

  store::ControlPlane* control_plane_;
  const std::string audit_anchor_path_;
};

}  // namespace mg::serve
