#include "serve/gate_factory.h"

#include <algorithm>

#include "base/env.h"
#include "serve/licence_gate.h"
#include "serve/store_gate.h"

namespace mg::serve {

store::LicenceLimits StoreLicenceLimits(const release::LicenceQuotas& quotas) {
  store::LicenceLimits limits;
  limits.licence_id = quotas.licence_id;
  limits.max_requests = quotas.max_requests;
  limits.max_tokens_per_day = quotas.max_tokens_per_day;
  return limits;
}

Result<std::unique_ptr<Gate>> MakeGate(const GateOptions& options,
                                       const release::LicencePolicy& licence,
                                       store::ControlPlane* control_plane, Logger* logger) {
  std::function<std::chrono::sys_seconds()> clock = options.clock;
  if (!clock) clock = SecondsClock(Env::Default());
  auto licence_now_ms = [clock] {
    return static_cast<int64_t>(clock().time_since_epoch().count()) * 1000;
  };
  std::optional<store::LicenceLimits> quotas;
  if (licence.quotas()) quotas = StoreLicenceLimits(*licence.quotas());
  if (options.auth) {
    if (control_plane == nullptr) {
      return InvalidArgumentError("API keys (--auth on) need the control plane (--db)");
    }
    StoreGateOptions store_options;
    // Well above the longest a request can take, so that only requests of a
    // replica that died are released.
    store_options.release_grace_ms =
        std::max<int64_t>(600'000, static_cast<int64_t>(options.request_timeout_s * 4000));
    store_options.licence = quotas;
    store_options.licence_now_ms = licence_now_ms;
    return std::unique_ptr<Gate>(
        std::make_unique<StoreGate>(control_plane, logger, std::move(store_options)));
  }
  std::unique_ptr<Gate> gate = std::make_unique<OpenGate>();
  if (!quotas) return gate;
  std::unique_ptr<LicenceCounter> counter;
  if (control_plane != nullptr) {
    counter = std::make_unique<StoreLicenceCounter>(control_plane);
  } else {
    counter = std::make_unique<MemoryLicenceCounter>();
    logger->Log(LogLevel::kWarn,
                "the licence's request and token quotas are counted in this process only and "
                "start from zero at each start; give --db to keep them in the control plane",
                {{"licence_id", quotas->licence_id}});
  }
  return std::unique_ptr<Gate>(
      std::make_unique<LicenceGate>(std::move(gate), *quotas, std::move(counter), licence_now_ms));
}

}  // namespace mg::serve
