// /embed (TEI) and /v1/embeddings (OpenAI): their request bodies and replies.
#include <cmath>
#include <cstring>

#include "base/json_writer.h"
#include "serve/call.h"

namespace mg::serve {
namespace {

void Normalize(float* row, int64_t width) {
  double norm = 0;
  for (int64_t c = 0; c < width; ++c) norm += static_cast<double>(row[c]) * row[c];
  if (norm <= 0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(norm));
  for (int64_t c = 0; c < width; ++c) row[c] *= inv;
}

void AppendRow(std::string* out, const float* row, int64_t width) {
  out->push_back('[');
  for (int64_t c = 0; c < width; ++c) {
    if (c) out->push_back(',');
    AppendJsonFloat(out, row[c]);
  }
  out->push_back(']');
}

// Little-endian float32 bytes in standard base64, as OpenAI's
// encoding_format "base64" sends them.
void AppendBase64(std::string* out, const float* row, int64_t width) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const size_t size = static_cast<size_t>(width) * sizeof(float);
  std::string bytes(size, '\0');
  std::memcpy(bytes.data(), row, size);
  out->push_back('"');
  for (size_t i = 0; i < size; i += 3) {
    const uint32_t b0 = static_cast<uint8_t>(bytes[i]);
    const uint32_t b1 = i + 1 < size ? static_cast<uint8_t>(bytes[i + 1]) : 0;
    const uint32_t b2 = i + 2 < size ? static_cast<uint8_t>(bytes[i + 2]) : 0;
    const uint32_t triple = (b0 << 16) | (b1 << 8) | b2;
    out->push_back(kAlphabet[(triple >> 18) & 63]);
    out->push_back(kAlphabet[(triple >> 12) & 63]);
    out->push_back(i + 1 < size ? kAlphabet[(triple >> 6) & 63] : '=');
    out->push_back(i + 2 < size ? kAlphabet[triple & 63] : '=');
  }
  out->push_back('"');
}

}  // namespace

std::optional<ApiError> ParseEmbedCall(const SchemaLimits& limits, Call* call) {
  EmbedRequest request;
  if (auto error = ParseEmbedRequest(call->request.body, limits, &request)) return error;
  call->inputs = std::move(request.inputs);
  call->normalize = request.normalize;
  call->truncate = request.truncate;
  return std::nullopt;
}

std::optional<ApiError> ParseOpenAiEmbedCall(const SchemaLimits& limits, Call* call) {
  OpenAiEmbedRequest request;
  if (auto error = ParseOpenAiEmbedRequest(call->request.body, limits, &request)) return error;
  call->inputs = std::move(request.inputs);
  call->openai_model = std::move(request.model);
  call->base64 = request.base64;
  call->normalize = true;
  call->truncate = true;  // OpenAI clients cannot ask; TEI truncates here too
  return std::nullopt;
}

std::string FormatEmbeddings(const Call& call, const release::ServedModel& /*served*/,
                             BatchResult* result) {
  const int64_t width = result->width;
  const int64_t rows = call.packed.sequences();
  std::string out;
  out.reserve(static_cast<size_t>(rows * width * 12 + 8));
  out.push_back('[');
  for (int64_t s = 0; s < rows; ++s) {
    float* row = result->values.data() + s * width;
    if (call.normalize) Normalize(row, width);
    if (s) out.push_back(',');
    AppendRow(&out, row, width);
  }
  out.push_back(']');
  return out;
}

std::string FormatOpenAiEmbeddings(const Call& call, const release::ServedModel& served,
                                   BatchResult* result) {
  const int64_t width = result->width;
  const int64_t rows = call.packed.sequences();
  std::string out;
  out.reserve(static_cast<size_t>(rows * width * 12 + 128));
  out.append("{\"object\":\"list\",\"data\":[");
  for (int64_t s = 0; s < rows; ++s) {
    float* row = result->values.data() + s * width;
    Normalize(row, width);
    if (s) out.push_back(',');
    out.append("{\"object\":\"embedding\",\"index\":");
    AppendJsonInt(&out, s);
    out.append(",\"embedding\":");
    if (call.base64) {
      AppendBase64(&out, row, width);
    } else {
      AppendRow(&out, row, width);
    }
    out.push_back('}');
  }
  out.append("],\"model\":");
  AppendJsonString(&out, call.openai_model.empty() ? served.model_id : call.openai_model);
  out.append(",\"usage\":{\"prompt_tokens\":");
  AppendJsonInt(&out, call.packed.tokens());
  out.append(",\"total_tokens\":");
  AppendJsonInt(&out, call.packed.tokens());
  out.append("}}");
  return out;
}

}  // namespace mg::serve
