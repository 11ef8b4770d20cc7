#include "serve/api_error.h"

#include "base/json_writer.h"

namespace mg::serve {

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
