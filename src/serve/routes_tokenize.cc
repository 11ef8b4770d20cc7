// Replies of /tokenize (TEI): per input, [{"id", "text", "special", "start",
// "stop"}, ...] with byte offsets into the input.
#include "base/json_writer.h"
#include "serve/call.h"

namespace mg::serve {

std::optional<ApiError> ParseTokenizeCall(const SchemaLimits& limits, Call* call) {
  TokenizeRequest request;
  if (auto error = ParseTokenizeRequest(call->request.body, limits, &request)) return error;
  call->inputs = std::move(request.inputs);
  call->add_special_tokens = request.add_special_tokens;
  return std::nullopt;
}

Result<std::string> FormatTokens(const Call& call, const text::Tokenizer& tokenizer,
                                 int64_t* tokens) {
  *tokens = 0;
  text::EncodeOptions options;
  options.add_special_tokens = call.add_special_tokens;
  text::Encoding encoding;
  std::string out = "[";
  for (size_t i = 0; i < call.inputs.texts.size(); ++i) {
    MG_RETURN_IF_ERROR(tokenizer.Encode(call.inputs.texts[i], nullptr, options, &encoding));
    *tokens += static_cast<int64_t>(encoding.ids.size());
    if (i) out.push_back(',');
    out.push_back('[');
    for (size_t t = 0; t < encoding.ids.size(); ++t) {
      if (t) out.push_back(',');
      const bool special = encoding.special_tokens_mask[t] != 0;
      out.append("{\"id\":");
      AppendJsonInt(&out, encoding.ids[t]);
      out.append(",\"text\":");
      AppendJsonString(&out, tokenizer.IdToToken(encoding.ids[t]));
      out.append(",\"special\":").append(special ? "true" : "false");
      out.append(",\"start\":");
      if (special) {
        out.append("null,\"stop\":null");
      } else {
        AppendJsonInt(&out, static_cast<int64_t>(encoding.offsets[t].begin));
        out.append(",\"stop\":");
        AppendJsonInt(&out, static_cast<int64_t>(encoding.offsets[t].end));
      }
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.push_back(']');
  return out;
}

}  // namespace mg::serve
