// ApiError: a request's failure as the client sees it (HTTP status, error
// code, message), and the reply bodies that carry it in the two API styles
// the server speaks: TEI's {"error": "...", "error_type": T, "error_code": C}
// (T one of TEI's types, C modelgate's finer reason) and OpenAI's
// {"error": {"message", "type", "param", "code"}} (code always a string).
//
// Plain values and pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace mg::serve {

enum class ApiStyle { kTei, kOpenAi };

struct ApiError {
  int status = 500;
  // modelgate's reason: "validation", "empty", "tokenizer", "overloaded",
  // "invalid_api_key", "insufficient_quota", ... (sent as TEI's error_code;
  // TeiErrorType and OpenAiErrorCode derive the clients' fields from it).
  std::string type;
  std::string message;
  int retry_after_s = 0;  // > 0: sent as Retry-After
};

// The reply to a request whose record the gate's Finish refused: 429 with
// the refusal's type and text for a ResourceExhausted error ("<error type>:
// <text>"), else 503 (the request could not be recorded).
ApiError FinishFailureReply(const Status& finish_error);

inline ApiError Validation(std::string message) { return {422, "validation", std::move(message)}; }

// TEI's error_type for `error`: "Validation", "Empty", "Tokenizer",
// "Overloaded", "Backend" or "Unhealthy" (docs/serving.md, "Errors").
std::string_view TeiErrorType(const ApiError& error);
// OpenAI's error.type and error.code for `error`.
std::string_view OpenAiErrorType(const ApiError& error);
std::string_view OpenAiErrorCode(const ApiError& error);

// The JSON error body for `error` in `style`.
std::string ErrorBody(ApiStyle style, const ApiError& error);

// The headers an error reply carries: Retry-After when set, and for a 429
// x-should-retry ("true" for a per-minute rate limit, "false" for a quota
// whose wait is longer than a client should sleep).
std::vector<std::pair<std::string, std::string>> ErrorHeaders(const ApiError& error);

}  // namespace mg::serve
