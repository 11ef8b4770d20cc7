#include "serve/licence_gate.h"

#include <string_view>

#include "serve/routes.h"

namespace mg::serve {

bool CountsTowardsLicence(const GateRequest& request) {
  const RouteSpec* route = FindRouteByName(request.route);
  return route != nullptr && route->licence_quota;
}

void AppendLicenceMetrics(const store::LicenceLimits& limits, int64_t requests_used,
                          int64_t tokens_used_today, int64_t refused, std::string* out) {
  const std::string label = "{licence_id=\"" + limits.licence_id + "\"}";
  auto gauge = [&](const char* name, const char* help, int64_t value) {
    out->append("# HELP ").append(name).append(" ").append(help).append("\n");
    out->append("# TYPE ").append(name).append(" gauge\n");
    out->append(name).append(label).append(" ").append(std::to_string(value)).append("\n");
  };
  if (limits.max_requests > 0) {
    gauge("modelgate_licence_max_requests", "Requests the licence allows over its life",
          limits.max_requests);
  }
  if (limits.max_tokens_per_day > 0) {
    gauge("modelgate_licence_max_tokens_per_day", "Tokens the licence allows per UTC day",
          limits.max_tokens_per_day);
  }
  gauge("modelgate_licence_requests_used",
        "Requests counted on the licence, as last seen by this server", requests_used);
  gauge("modelgate_licence_tokens_used_today",
        "Tokens counted on the licence today (UTC), as last seen by this server",
        tokens_used_today);
  gauge("modelgate_licence_refused", "Requests this server refused over the licence's quotas",
        refused);
}

Result<store::LicenceVerdict> MemoryLicenceCounter::Reserve(const store::LicenceLimits& limits,
                                                            int64_t tokens, int64_t now_ms) {
  std::lock_guard lock(mutex_);
  store::LicenceVerdict verdict = store::CheckLicenceQuota(limits, counts_, tokens, now_ms);
  if (verdict.status == 200) counts_ = verdict.counts;
  return verdict;
}

Status MemoryLicenceCounter::Settle(const store::LicenceLimits& /*limits*/, int64_t day_ms,
                                    int64_t reserved_tokens, int64_t tokens, bool succeeded) {
  std::lock_guard lock(mutex_);
  if (!succeeded) {
    counts_.requests -= 1;
    tokens = 0;
  }
  if (counts_.day_ms == day_ms) counts_.day_tokens += tokens - reserved_tokens;
  return Status::Ok();
}

LicenceGate::LicenceGate(std::unique_ptr<Gate> inner, store::LicenceLimits limits,
                         std::unique_ptr<LicenceCounter> counter, std::function<int64_t()> now_ms)
    : inner_(std::move(inner)),
      limits_(std::move(limits)),
      counter_(std::move(counter)),
      now_ms_(std::move(now_ms)) {}

Admission LicenceGate::Admit(const GateRequest& request) {
  Admission admission = inner_->Admit(request);
  if (admission.status != 200 || !CountsTowardsLicence(request)) return admission;
  auto verdict = counter_->Reserve(limits_, request.tokens, now_ms_());
  Outcome refused;
  refused.tokens = 0;
  if (!verdict.ok()) {
    refused.status = 503;
    // The inner gate's error (if any) only adds to the 503 already given.
    (void)inner_->Finish(admission, request, refused);
    Admission unavailable;
    unavailable.status = 503;
    unavailable.error_type = "service_unavailable";
    unavailable.message =
        "the licence's usage counters are unavailable; the request was not "
        "processed";
    unavailable.retry_after_s = 1;
    unavailable.key_id = admission.key_id;
    unavailable.key_name = admission.key_name;
    return unavailable;
  }
  seen_requests_ = verdict->counts.requests;
  seen_day_tokens_ = verdict->counts.day_tokens;
  if (verdict->status != 200) {
    refused_.fetch_add(1);
    refused.status = verdict->status;
    (void)inner_->Finish(admission, request, refused);
    Admission over;
    over.status = verdict->status;
    over.error_type = verdict->error_type;
    over.message = verdict->message;
    over.retry_after_s = verdict->retry_after_s;
    over.key_id = admission.key_id;
    over.key_name = admission.key_name;
    return over;
  }
  admission.licence_day_ms = verdict->day_ms;
  return admission;
}

Status LicenceGate::Finish(const Admission& admission, const GateRequest& request,
                           const Outcome& outcome) {
  Status settled = Status::Ok();
  if (admission.licence_day_ms >= 0) {
    const bool succeeded = outcome.status > 0 && outcome.status < 400;
    settled = counter_->Settle(limits_, admission.licence_day_ms, request.tokens, outcome.tokens,
                               succeeded);
  }
  Status finished = inner_->Finish(admission, request, outcome);
  return finished.ok() ? settled : finished;
}

std::string LicenceGate::MetricsText() const {
  std::string text = inner_->MetricsText();
  AppendLicenceMetrics(limits_, seen_requests_.load(), seen_day_tokens_.load(), refused_.load(),
                       &text);
  return text;
}

}  // namespace mg::serve
