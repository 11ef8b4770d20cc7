// /tokenize and /decode (TEI), answered from the tokenizer alone.
// /tokenize: per input, [{"id", "text", "special", "start", "stop"}, ...]
// with byte offsets into the input, each token's text the slice of the input
// it covers. /decode: the text of token ids.
#include <algorithm>

#include "base/json_writer.h"
#include "serve/call.h"

namespace mg::serve {
namespace {

// Appends code point `cp` as UTF-8.
void AppendUtf8(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Reads one UTF-8 sequence of `text` at `*pos` (advancing it); U+FFFD for
// a malformed one.
char32_t ReadUtf8(std::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(*pos);
  size_t length = lead < 0x80           ? 1
                  : (lead >> 5) == 0x6  ? 2
                  : (lead >> 4) == 0xE  ? 3
                  : (lead >> 3) == 0x1E ? 4
                                        : 0;
  if (length == 0 || *pos + length > text.size()) {
    ++*pos;
    return 0xFFFD;
  }
  char32_t cp = length == 1 ? lead : lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(*pos + i) & 0xC0) != 0x80) {
      ++*pos;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(*pos + i) & 0x3F);
  }
  *pos += length;
  return cp;
}

// GPT-2's byte-level alphabet backwards: the byte each of its 256 code
// points stands for (-1 for other code points).
int ByteOf(char32_t cp) {
  static const std::vector<int> table = [] {
    std::vector<int> bytes(512, -1);
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
      bytes[static_cast<size_t>(printable ? b : next++)] = b;
    }
    return bytes;
  }();
  return cp < table.size() ? table[cp] : -1;
}

// Whether `id` is one of the tokenizer's special tokens: those its template
// adds, padding and the unknown token, and added tokens in brackets
// ("[MASK]", "<mask>") that the tokenizer reads back as themselves.
bool IsSpecial(const text::Tokenizer& tokenizer, int32_t id,
               const std::vector<int32_t>& template_ids) {
  if (id == tokenizer.pad_id() || id == tokenizer.unk_id()) return true;
  if (std::find(template_ids.begin(), template_ids.end(), id) != template_ids.end()) return true;
  const std::string_view token = tokenizer.IdToToken(id);
  if (token.size() < 3) return false;
  const bool bracketed = (token.front() == '[' && token.back() == ']') ||
                         (token.front() == '<' && token.back() == '>');
  if (!bracketed) return false;
  text::EncodeOptions options;
  options.add_special_tokens = false;
  text::Encoding encoding;
  return tokenizer.Encode(token, nullptr, options, &encoding).ok() && encoding.size() == 1 &&
         encoding.ids[0] == id;
}

// Hugging Face's decoder clean-up: no space before punctuation and
// English contractions.
void CleanUp(std::string* text) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    for (size_t at = text->find(from); at != std::string::npos; at = text->find(from, at)) {
      text->replace(at, from.size(), to);
      at += to.size();
    }
  }
}

}  // namespace

std::string DecodeIds(const text::Tokenizer& tokenizer, const std::vector<int32_t>& ids,
                      bool skip_special_tokens) {
  std::vector<int32_t> template_ids;
  {
    text::Encoding encoding;
    if (tokenizer.Encode("", nullptr, {}, &encoding).ok()) template_ids = encoding.ids;
  }
  const bool byte_level = tokenizer.TokenToId("\xC4\xA0") >= 0;  // "Ġ", GPT-2's space
  std::string out;
  for (int32_t id : ids) {
    if (skip_special_tokens && IsSpecial(tokenizer, id, template_ids)) continue;
    const std::string_view token = tokenizer.IdToToken(id);
    if (byte_level) {
      // Each code point stands for one byte of the text.
      for (size_t pos = 0; pos < token.size();) {
        const size_t start = pos;
        const int byte = ByteOf(ReadUtf8(token, &pos));
        if (byte >= 0) {
          out.push_back(static_cast<char>(byte));
        } else {
          out.append(token.substr(start, pos - start));
        }
      }
    } else if (token.starts_with("##")) {
      out.append(token.substr(2));
    } else {
      if (!out.empty()) out.push_back(' ');
      out.append(token);
    }
  }
  if (byte_level) {
    // Restored bytes may not be whole UTF-8 sequences: replace what is not.
    std::string valid;
    for (size_t pos = 0; pos < out.size();) AppendUtf8(&valid, ReadUtf8(out, &pos));
    return valid;
  }
  CleanUp(&out);
  return out;
}

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
    AppendJsonString(&out, DecodeIds(tokenizer, call.decode_ids[i], call.skip_special_tokens));
  }
  if (call.inputs.batched) out.push_back(']');
  return out;
}

}  // namespace mg::serve
