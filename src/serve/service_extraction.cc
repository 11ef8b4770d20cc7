// The extraction alarm's part of the request pipeline (service.h,
// extraction_monitor.h): the throttle check after the key is known, and the
// observation of each answered input.
#include <chrono>

#include "serve/api_error.h"
#include "serve/batcher.h"
#include "serve/call.h"
#include "serve/service.h"

namespace mg::serve {
namespace {

// The degrade action's policy: the best label without its score, and no
// embeddings ("label,no-embed").
OutputPolicy LabelsOnly() {
  OutputPolicy policy;
  policy.top_k = 1;
  policy.scores = false;
  policy.embeddings = false;
  return policy;
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

bool Service::ExtractionAllows(Call& call) {
  if (!extraction_ || options_.extraction_action != ExtractionAction::kThrottle) return true;
  const std::string& key_id = call.authentication.key_id;
  if (key_id.empty()) return true;
  int retry_after_s = 0;
  if (!extraction_->Throttled(key_id, NowSeconds(), &retry_after_s)) return true;
  extraction_->CountThrottled();
  Fail(call, {429, "extraction_alarm",
              "this key's queries raised the model-extraction alarm: it is limited to " +
                  std::to_string(extraction_->options().throttle_per_minute) +
                  " requests a minute for now",
              retry_after_s});
  return false;
}

void Service::ObserveExtraction(const Call& call, const BatchResult& result) {
  const std::string& key_id = call.admission.key_id;
  if (key_id.empty() || !result.status.ok()) return;
  const model::PackedBatch& packed = call.packed;
  const bool classify = call.route->task == Task::kClassify && result.width > 0;
  std::vector<int32_t> tokens;
  for (int64_t s = 0; s < packed.sequences(); ++s) {
    tokens.clear();
    for (int64_t t = packed.offsets[s]; t < packed.offsets[s + 1]; ++t) {
      const int32_t id = packed.ids[t];
      if (id >= 0 && static_cast<size_t>(id) < special_ids_.size() && special_ids_[id]) continue;
      tokens.push_back(id);
    }
    // PRADA's classes: the predicted label (the largest score, before any
    // activation, which keeps the order).
    int32_t group = 0;
    if (classify && static_cast<int64_t>(result.values.size()) >= (s + 1) * result.width) {
      const float* row = result.values.data() + s * result.width;
      for (int64_t label = 1; label < result.width; ++label) {
        if (row[label] > row[group]) group = static_cast<int32_t>(label);
      }
    }
    std::optional<ExtractionTest> test;
    std::optional<ExtractionAlarm> alarm =
        extraction_->Observe(key_id, call.admission.key_name, tokens, group, NowSeconds(), &test);
    if (!alarm) continue;
    const ExtractionAction action = options_.extraction_action;
    const bool suspend = action == ExtractionAction::kSuspend;
    if (action == ExtractionAction::kDegrade) TightenOutputPolicy(alarm->key_id, LabelsOnly());
    logger_->Log(LogLevel::kWarn, "extraction alarm",
                 {{"key_id", alarm->key_id},
                  {"key", alarm->key_name},
                  {"signal", alarm->signal},
                  {"w", alarm->w},
                  {"novelty", alarm->novelty},
                  {"queries", alarm->queries},
                  {"action", ExtractionActionName(action)}});
    const Status recorded = gate_->RecordExtractionAlarm(*alarm, suspend);
    if (!recorded.ok()) {
      logger_->Log(LogLevel::kError, "recording the extraction alarm failed",
                   {{"key_id", alarm->key_id}, {"error", recorded.message()}});
    }
  }
}

}  // namespace mg::serve
