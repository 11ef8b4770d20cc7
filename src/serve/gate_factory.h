// MakeGate: chooses and builds the access gate of `modelgate serve` from the
// server's options, the served model's licence policy and the control plane
// (when there is one). The licence's quotas (release::LicencePolicy) become
// the control plane's limits here (StoreLicenceLimits), the one place the
// licence crosses from release into store:
//
//   --auth on:  StoreGate — API keys, the keys' limits and the licence's
//               quotas, counted in the same transactions of the control plane;
//   --auth off: OpenGate, behind a LicenceGate when the licence sets quotas,
//               counting them in the control plane when there is one, in this
//               process otherwise (with a warning: they restart from zero).
//
// Thread safety: call from one thread; the gate returned is thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/status.h"
#include "release/licence_policy.h"
#include "serve/gate.h"
#include "serve/logger.h"
#include "store/control_plane.h"
#include "store/licence_quota.h"

namespace mg::serve {

struct GateOptions {
  // API keys checked in the control plane (which must then be given).
  bool auth = false;
  // The longest a request may wait for inference (--request-timeout): with
  // --auth on, reservations of requests unfinished well past it (a replica
  // that died) are released.
  double request_timeout_s = 30;
  // The licence clock (the one expiry is checked against); default: the
  // system clock.
  std::function<std::chrono::sys_seconds()> clock;
};

// The licence's quotas as the control plane counts them.
store::LicenceLimits StoreLicenceLimits(const release::LicenceQuotas& quotas);

// `control_plane` (may be null without --auth on) and `logger` must outlive
// the gate. An error when --auth on has no control plane.
Result<std::unique_ptr<Gate>> MakeGate(const GateOptions& options,
                                       const release::LicencePolicy& licence,
                                       store::ControlPlane* control_plane, Logger* logger);

}  // namespace mg::serve
