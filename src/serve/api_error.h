// ApiError: a request's failure as the client sees it (HTTP status, error
// type, message), and the reply bodies that carry it in the two API styles
// the server speaks: TEI's {"error": "...", "error_type": "..."} and
// OpenAI's {"error": {"message", "type", "code"}}.
//
// Plain values and pure functions; thread-safe.
#pragma once

#include <string>

namespace mg::serve {

enum class ApiStyle { kTei, kOpenAi };

struct ApiError {
  int status = 500;
  std::string type;  // "validation", "overloaded", "unauthorized", ...
  std::string message;
  int retry_after_s = 0;  // > 0: sent as Retry-After
};

inline ApiError Validation(std::string message) { return {422, "validation", std::move(message)}; }

// The JSON error body for `error` in `style`.
std::string ErrorBody(ApiStyle style, const ApiError& error);

}  // namespace mg::serve
