// /tokenize and /decode (TEI), answered from the tokenizer alone.
// /tokenize: per input, [{"id", "text", "special", "start", "stop"}, ...]
// with byte offsets into the input, each token's text the slice of the input
// it covers. /decode: the text of token ids.
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
    const std::string& input = call.inputs.texts[i];
    MG_RETURN_IF_ERROR(tokenizer.Encode(input, nullptr, options, &encoding));
    *tokens += static_cast<int64_t>(encoding.ids.size());
    if (i) out.push_back(',');
    out.push_back('[');
    for (size_t t = 0; t < encoding.ids.size(); ++t) {
      if (t) out.push_back(',');
      const bool special = encoding.special_tokens_mask[t] != 0;
      const text::Offset& offset = encoding.offsets[t];
      out.append("{\"id\":");
      AppendJsonInt(&out, encoding.ids[t]);
      out.append(",\"text\":");
      if (special || offset.begin > offset.end || offset.end > input.size()) {
        AppendJsonString(&out, tokenizer.IdToToken(encoding.ids[t]));
      } else {
        // The slice of the input the token covers ("Héllo", not "hello").
        AppendJsonString(&out,
                         std::string_view(input).substr(offset.begin, offset.end - offset.begin));
      }
      out.append(",\"special\":").append(special ? "true" : "false");
      out.append(",\"start\":");
      if (special) {
        out.append("null,\"stop\":null");
      } else {
        AppendJsonInt(&out, static_cast<int64_t>(offset.begin));
        out.append(",\"stop\":");
        AppendJsonInt(&out, static_cast<int64_t>(offset.end));
      }
      out.push_back('}');
    }
    out.push_back(']');
  }
  out.push_back(']');
  return out;
}

std::optional<ApiError> ParseDecodeCall(const SchemaLimits& limits, Call* call) {
  DecodeRequest request;
  if (auto error = ParseDecodeRequest(call->request.body, limits, &request)) return error;
  call->decode_ids = std::move(request.ids);
  call->inputs.batched = request.batched;
  call->skip_special_tokens = request.skip_special_tokens;
  return std::nullopt;
}

Result<std::string> FormatDecoded(const Call& call, const text::Tokenizer& tokenizer,
                                  int64_t* tokens) {
  *tokens = 0;
  const size_t vocab = tokenizer.vocab().size();
  std::string out;
  if (call.inputs.batched) out.push_back('[');
  for (size_t i = 0; i < call.decode_ids.size(); ++i) {
    for (int32_t id : call.decode_ids[i]) {
      if (static_cast<size_t>(id) >= vocab || tokenizer.IdToToken(id).empty()) {
        return InvalidArgumentError("token id " + std::to_string(id) +
                                    " is not in the vocabulary (" + std::to_string(vocab) +
                                    " tokens)");
      }
    }
    *tokens += static_cast<int64_t>(call.decode_ids[i].size());
    if (i) out.push_back(',');
    AppendJsonString(&out, tokenizer.Decode(call.decode_ids[i], call.skip_special_tokens));
  }
  if (call.inputs.batched) out.push_back(']');
  return out;
}

}  // namespace mg::serve
