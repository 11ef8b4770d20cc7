// ApiError: a request's failure as the client sees it (HTTP status, error
// type, message), and the reply bodies that carry it in the two API styles
// the server speaks: TEI's {"error": "...", "error_type": "..."} and
// OpenAI's {"error": {"message", "type", "code"}}.
//
// Plain values and pure functions; thread-safe.
#pragma once

#include <string>

#include "base/status.h"

namespace mg::serve {

enum class ApiStyle { kTei, kOpenAi };

struct ApiError {
  int status = 500;
  std::string type;  // "validation", "overloaded", "unauthorized", ...
  std::string message;
  int retry_after_s = 0;  // > 0: sent as Retry-After
};

// The reply to a request whose record the gate's Finish refused: 429 with
// the refusal's type and text for a ResourceExhausted error ("<error type>:
// <text>"), else 503 (the request could not be recorded).
ApiError FinishFailureReply(const Status& finish_error);

inline ApiError Validation(std::string message) { return {422, "validation", std::move(message)}; }

// The JSON error body for `error` in `style`.
std::string ErrorBody(ApiStyle style, const ApiError& error);

}  // namespace mg::serve
