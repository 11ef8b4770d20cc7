#include "serve/api_error.h"

#include "base/json_writer.h"

namespace mg::serve {
namespace {

// Refusals whose wait is a quota period or a UTC day, not a minute.
bool IsQuota(std::string_view type) {
  return type == "insufficient_quota" || type == "licence_quota_exceeded";
}

}  // namespace

ApiError FinishFailureReply(const Status& finish_error) {
  if (finish_error.code() == StatusCode::kResourceExhausted) {
    const std::string& text = finish_error.message();
    const size_t colon = text.find(": ");
    if (colon != std::string::npos && colon > 0) {
      return {429, text.substr(0, colon), text.substr(colon + 2)};
    }
    return {429, "rate_limit_exceeded", text};
  }
  return {503, "service_unavailable", "the control plane could not record the request"};
}

std::string_view TeiErrorType(const ApiError& error) {
  const std::string_view type = error.type;
  if (type == "empty") return "Empty";
  if (type == "tokenizer") return "Tokenizer";
  if (type == "overloaded" || error.status == 429) return "Overloaded";
  if (type == "unhealthy" || type == "unavailable" || type == "service_unavailable") {
    return "Unhealthy";
  }
  if (error.status >= 500 || error.status == 424) return "Backend";
  // Every other 4xx is about the request as sent: its body, size, path,
  // method, headers or credentials.
  return "Validation";
}

std::string_view OpenAiErrorType(const ApiError& error) {
  if (error.status == 403) return "permission_error";
  if (error.status == 429) return IsQuota(error.type) ? "insufficient_quota" : "rate_limit_error";
  if (error.status == 401) return "invalid_request_error";
  if (error.status >= 500 || error.status == 424) return "server_error";
  return "invalid_request_error";
}

std::string_view OpenAiErrorCode(const ApiError& error) {
  const std::string_view type = error.type;
  if (type == "validation" || type == "empty") return "invalid_value";
  if (type == "licence_quota_exceeded") return "insufficient_quota";
  if (type == "unavailable" || type == "unhealthy") return "service_unavailable";
  if (type.empty()) return "";
  return type;
}

std::string ErrorBody(ApiStyle style, const ApiError& error) {
  std::string out;
  if (style == ApiStyle::kOpenAi) {
    out.append("{\"error\":{\"message\":");
    AppendJsonString(&out, error.message);
    out.append(",\"type\":");
    AppendJsonString(&out, OpenAiErrorType(error));
    out.append(",\"param\":null,\"code\":");
    const std::string_view code = OpenAiErrorCode(error);
    if (code.empty()) {
      out.append("null");
    } else {
      AppendJsonString(&out, code);
    }
    out.append("}}");
    return out;
  }
  out.append("{\"error\":");
  AppendJsonString(&out, error.message);
  out.append(",\"error_type\":");
  AppendJsonString(&out, TeiErrorType(error));
  out.append(",\"error_code\":");
  AppendJsonString(&out, error.type);
  out.push_back('}');
  return out;
}

std::vector<std::pair<std::string, std::string>> ErrorHeaders(const ApiError& error) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (error.retry_after_s > 0) {
    headers.emplace_back("Retry-After", std::to_string(error.retry_after_s));
  }
  if (error.status == 429) {
    headers.emplace_back("x-should-retry", IsQuota(error.type) ? "false" : "true");
  }
  return headers;
}

}  // namespace mg::serve
