#include "serve/store_gate.h"

#include "serve/licence_gate.h"

#include <chrono>
#include <cstdio>

#include "serve/extraction_monitor.h"

namespace mg::serve {
namespace {

// Prometheus label values: backslash, quote and newline escaped.
std::string LabelValue(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

store::AdmitRequest StoreGate::ToStore(const GateRequest& request) const {
  store::AdmitRequest out;
  out.api_key = request.api_key;
  out.route = request.route;
  out.scope = request.scope;
  out.request_id = request.request_id;
  out.tokens = request.tokens;
  out.key = request.key;
  if (options_.licence && CountsTowardsLicence(request)) {
    out.licence = &*options_.licence;
    out.licence_now_ms = options_.licence_now_ms();
  }
  return out;
}

StoreGate::StoreGate(store::ControlPlane* control_plane, Logger* logger, StoreGateOptions options)
    : control_plane_(control_plane), logger_(logger), options_(options) {
  releaser_ = std::jthread([this](std::stop_token stop) { ReleaseLoop(stop); });
}

StoreGate::~StoreGate() {
  releaser_.request_stop();
  wake_.notify_all();
}

void StoreGate::ReleaseLoop(std::stop_token stop) {
  std::mutex mutex;
  std::unique_lock<std::mutex> lock(mutex);
  while (!stop.stop_requested()) {
    wake_.wait_for(lock, stop, std::chrono::milliseconds(options_.release_every_ms),
                   [] { return false; });
    if (stop.stop_requested()) break;
    auto released = control_plane_->ReleaseAbandoned(options_.release_grace_ms, "server");
    if (!released.ok()) {
      logger_->Log(LogLevel::kWarn, "releasing abandoned reservations failed",
                   {{"error", released.status().message()}});
    } else if (*released > 0) {
      logger_->Log(LogLevel::kInfo, "released abandoned reservations", {{"count", *released}});
    }
  }
}

Admission StoreGate::Authenticate(const GateRequest& request) {
  return Observe(request, control_plane_->Authenticate(ToStore(request)));
}

Admission StoreGate::Admit(const GateRequest& request) {
  const store::AdmitRequest store_request = ToStore(request);  // views into `request`
  return Observe(request, control_plane_->Admit(store_request));
}

Admission StoreGate::Observe(const GateRequest& request, Admission admission) {
  if (!admission.cause.empty()) {
    logger_->Log(LogLevel::kWarn, "control plane unavailable",
                 {{"request_id", request.request_id}, {"error", admission.cause}});
  }
  const bool licence_refused = admission.error_type == "licence_quota_exceeded";
  if (admission.licence_day_ms >= 0 || licence_refused) {
    licence_requests_ = admission.licence_counts.requests;
    licence_day_tokens_ = admission.licence_counts.day_tokens;
    if (licence_refused) licence_refused_.fetch_add(1);
  }
  if (admission.status != 200 && !admission.key_name.empty()) {
    std::lock_guard<std::mutex> lock(mutex_);
    ++per_key_[admission.key_name].refused;
  }
  return admission;
}

Status StoreGate::Finish(const Admission& admission, const GateRequest& request,
                         const Outcome& outcome) {
  MG_RETURN_IF_ERROR(control_plane_->Finish(admission, ToStore(request), outcome));
  std::lock_guard<std::mutex> lock(mutex_);
  KeyCounters& counters = per_key_[admission.key_name];
  ++counters.requests;
  if (outcome.status == 200) counters.tokens += outcome.tokens;
  return Status::Ok();
}

Status StoreGate::RecordExtractionAlarm(const ExtractionAlarm& alarm, bool suspend) {
  char numbers[96];
  std::snprintf(numbers, sizeof numbers, " w=%.4f novelty=%.4f queries=%lld", alarm.w,
                alarm.novelty, static_cast<long long>(alarm.queries));
  const std::string detail = "key_id=" + alarm.key_id + " signal=" + alarm.signal + numbers;
  MG_RETURN_IF_ERROR(control_plane_->RecordAuditEvent("extraction-alarm", "extraction.alarm",
                                                      alarm.key_name, detail));
  if (!suspend) return Status::Ok();
  return control_plane_->RevokeKey(alarm.key_name, "extraction-alarm",
                                   "extraction alarm (" + alarm.signal + ")");
}

std::string StoreGate::MetricsText() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  out.append("# HELP modelgate_key_requests_total Requests admitted per API key (by name).\n");
  out.append("# TYPE modelgate_key_requests_total counter\n");
  for (const auto& [name, counters] : per_key_) {
    out.append("modelgate_key_requests_total{key=\"" + LabelValue(name) + "\"} " +
               std::to_string(counters.requests) + "\n");
  }
  out.append("# HELP modelgate_key_tokens_total Tokens of successful requests per API key.\n");
  out.append("# TYPE modelgate_key_tokens_total counter\n");
  for (const auto& [name, counters] : per_key_) {
    out.append("modelgate_key_tokens_total{key=\"" + LabelValue(name) + "\"} " +
               std::to_string(counters.tokens) + "\n");
  }
  out.append("# HELP modelgate_key_refused_total Requests refused per API key (limits, scope).\n");
  out.append("# TYPE modelgate_key_refused_total counter\n");
  for (const auto& [name, counters] : per_key_) {
    out.append("modelgate_key_refused_total{key=\"" + LabelValue(name) + "\"} " +
               std::to_string(counters.refused) + "\n");
  }
  if (options_.licence) {
    AppendLicenceMetrics(*options_.licence, licence_requests_.load(), licence_day_tokens_.load(),
                         licence_refused_.load(), &out);
  }
  return out;
}

}  // namespace mg::serve
