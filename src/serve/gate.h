// Gate: the access-control hook of the server. Every inference request is
// authenticated by a Gate before the server reads its body, admitted (or
// refused) after tokenisation, and reported back once its reply is known, so
// that a control plane can check keys and scopes, enforce rate limits and
// quotas, meter usage and write an audit trail.
//
// Thread safety: implementations must be safe to call from several worker
// threads at once. Authenticate() and Admit() may block (database I/O): the
// server never calls them on an I/O thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/admission.h"

namespace mg::serve {

struct ExtractionAlarm;

struct GateRequest {
  std::string_view api_key;  // from "Authorization: Bearer" or "X-Api-Key"; empty if none
  std::string_view route;    // "/embed", "/predict", "/v1/embeddings", ...
  std::string_view scope;    // "classify", "embed", "recommend" or "admin"
  std::string_view request_id;
  int64_t tokens = 0;  // tokens the request will consume (after tokenisation)
  // For Admit: the key row Authenticate returned for this request
  // (Admission::key), so that the gate need not read it again; may be null.
  const store::KeyRow* key = nullptr;
};

// The control plane's types (store/admission.h), used by every gate.
using Admission = store::Admission;
using Outcome = store::Outcome;

class Gate {
 public:
  virtual ~Gate() = default;
  // First, before the body is parsed or any licence, privacy or tokeniser
  // work: whether the key may make the request at all (revoked, expired,
  // scope), so that a client without a valid key learns nothing and costs
  // little. Status 200 with the key's id and name, or the refusal; a refusal
  // with no key name is a key nobody holds (401), which the gate must not
  // store one row each. Counts towards no limit. Default: every key passes.
  virtual Admission Authenticate(const GateRequest& /*request*/) { return Admission{}; }
  // May block (database I/O): never call it on an I/O thread.
  virtual Admission Admit(const GateRequest& request) = 0;
  // Once per admitted request, after the reply is known and before it is
  // sent: records it (ledger, audit). On an error the server answers 503
  // instead, so every reply a client received is recorded; a
  // ResourceExhausted error ("<error type>: <text>") is a limit that refuses
  // the request after all (used up meanwhile by other servers sharing the
  // store), recorded as such, and answered 429 (FinishFailureReply).
  virtual Status Finish(const Admission& admission, const GateRequest& request,
                        const Outcome& outcome) = 0;
  // The extraction alarm (extraction_monitor.h) raised for a key: records it
  // (the audit trail) and, with `suspend`, revokes the key so that no server
  // admits it again. May block (database I/O). Default: nothing to record.
  virtual Status RecordExtractionAlarm(const ExtractionAlarm& /*alarm*/, bool /*suspend*/) {
    return Status::Ok();
  }
  // Extra Prometheus text for /metrics (e.g. per-key usage); may be empty.
  virtual std::string MetricsText() const { return {}; }
};

// Admits every request (`--auth off`). Stateless; thread-safe.
class OpenGate final : public Gate {
 public:
  Admission Admit(const GateRequest& /*request*/) override { return Admission{}; }
  Status Finish(const Admission& /*admission*/, const GateRequest& /*request*/,
                const Outcome& /*outcome*/) override {
    return Status::Ok();
  }
};

}  // namespace mg::serve
