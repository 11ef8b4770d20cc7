#include "serve/api_error.h"

#include "base/json_writer.h"

namespace mg::serve {

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

std::string ErrorBody(ApiStyle style, const ApiError& error) {
  std::string out;
  if (style == ApiStyle::kOpenAi) {
    out.append("{\"error\":{\"message\":");
    AppendJsonString(&out, error.message);
    out.append(",\"type\":");
    AppendJsonString(&out, error.type);
    out.append(",\"code\":");
    AppendJsonInt(&out, error.status);
    out.append("}}");
    return out;
  }
  out.append("{\"error\":");
  AppendJsonString(&out, error.message);
  out.append(",\"error_type\":");
  AppendJsonString(&out, error.type);
  out.push_back('}');
  return out;
}

}  // namespace mg::serve
