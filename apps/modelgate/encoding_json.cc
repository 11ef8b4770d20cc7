#include "apps/modelgate/encoding_json.h"

#include <array>
#include <cstring>

#include "apps/modelgate/cli_error.h"
#include "base/json_writer.h"

namespace mg::cli {
namespace {

// "-2147483648".
constexpr size_t kMaxInt32Bytes = 11;
// A token's JSON this long or shorter is copied in one fixed-size move.
constexpr size_t kCopyBytes = 16;

// "00" to "99".
constexpr std::array<char, 200> kDigitPairs = [] {
  std::array<char, 200> pairs{};
  for (int n = 0; n < 100; ++n) {
    pairs[2 * n] = static_cast<char>('0' + n / 10);
    pairs[2 * n + 1] = static_cast<char>('0' + n % 10);
  }
  return pairs;
}();

// `value` in decimal, two digits at a time, written in place from its last
// digit back (ids and offsets are most of a line).
inline char* WriteDecimal(char* out, int64_t value) {
  if (value < 0 || value > UINT32_MAX) return WriteJsonInt(out, value);
  auto rest = static_cast<uint32_t>(value);
  size_t digits = 1;
  for (uint32_t bound = 10; digits < 10 && rest >= bound; bound *= 10) ++digits;
  char* const end = out + digits;
  char* at = end;
  while (rest >= 100) {
    at -= 2;
    std::memcpy(at, &kDigitPairs[2 * (rest % 100)], 2);
    rest /= 100;
  }
  if (rest >= 10) {
    at -= 2;
    std::memcpy(at, &kDigitPairs[2 * rest], 2);
  } else {
    *--at = static_cast<char>('0' + rest);
  }
  return end;
}

char* Append(char* out, std::string_view text) {
  std::memcpy(out, text.data(), text.size());
  return out + text.size();
}

// Writes `name` and the comma-separated decimal values of `values`, as
// `"name":[v,v,...]`; a comma first unless `first`.
void WriteIntArray(std::string_view name, const std::vector<int32_t>& values, bool first,
                   Output* output) {
  char* out = output->Reserve(name.size() + 6 + values.size() * (kMaxInt32Bytes + 1));
  if (!first) *out++ = ',';
  *out++ = '"';
  out = Append(out, name);
  out = Append(out, "\":[");
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) *out++ = ',';
    out = WriteDecimal(out, values[i]);
  }
  *out++ = ']';
  output->Advance(out);
}

}  // namespace

EncodingFields ParseEncodingFields(std::string_view list) {
  EncodingFields fields{false, false, false, false};
  bool any = false;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view name = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (name == "ids") {
      fields.ids = true;
    } else if (name == "tokens") {
      fields.tokens = true;
    } else if (name == "type_ids") {
      fields.type_ids = true;
    } else if (name == "offsets") {
      fields.offsets = true;
    } else {
      throw CliError("unknown field \"" + std::string(name) +
                     "\" in --fields (expected ids, tokens, type_ids or offsets)");
    }
    any = true;
  }
  if (!any) throw CliError("--fields needs at least one of ids, tokens, type_ids, offsets");
  return fields;
}

EncodingJsonWriter::EncodingJsonWriter(const text::Tokenizer& tokenizer, EncodingFields fields)
    : tokenizer_(tokenizer), fields_(fields) {
  if (!fields_.tokens) return;
  const std::vector<std::string>& tokens = tokenizer_.vocab().tokens();
  token_json_begin_.reserve(tokens.size() + 1);
  for (const std::string& token : tokens) {
    token_json_begin_.push_back(token_json_.size());
    AppendJsonString(&token_json_, token);
  }
  token_json_begin_.push_back(token_json_.size());
  token_json_.append(kCopyBytes, ' ');  // the last token's fixed-size copy reads this far
}

void EncodingJsonWriter::WriteTokens(const text::Encoding& encoding,
                                     const std::string_view (&texts)[2], Output* output) const {
  char* out = output->Reserve(16);
  out = Append(out, "\"tokens\":[");
  output->Advance(out);
  const std::vector<std::string>& vocab = tokenizer_.vocab().tokens();
  size_t next_text = 0;  // into encoding.token_texts
  for (size_t i = 0; i < encoding.size(); ++i) {
    const int32_t id = encoding.ids[i];
    const int8_t seq = encoding.sequence_ids[i];
    const auto index = static_cast<size_t>(id);
    const std::string_view vocab_token =
        index < vocab.size() ? std::string_view(vocab[index]) : std::string_view();
    std::string_view token =
        seq < 0 ? vocab_token : tokenizer_.TokenText(texts[seq], encoding.offsets[i], id);
    if (next_text < encoding.token_texts.size() && encoding.token_texts[next_text].first == i) {
      token = encoding.token_texts[next_text++].second;
    }
    if (index < vocab.size() && token.data() == vocab_token.data() &&
        token.size() == vocab_token.size()) {
      // The vocabulary's own spelling: escaped once, up front.
      const size_t begin = token_json_begin_[index];
      const size_t size = token_json_begin_[index + 1] - begin;
      out = output->Reserve(size + kCopyBytes + 1);
      if (i) *out++ = ',';
      // Most tokens fit one fixed-size copy (the arena is padded for it).
      if (size <= kCopyBytes) {
        std::memcpy(out, token_json_.data() + begin, kCopyBytes);
      } else {
        std::memcpy(out, token_json_.data() + begin, size);
      }
      output->Advance(out + size);
      continue;
    }
    out = output->Reserve(MaxJsonStringBytes(token.size()) + 1);
    if (i) *out++ = ',';
    output->Advance(WriteJsonString(out, token));
  }
  out = output->Reserve(1);
  *out++ = ']';
  output->Advance(out);
}

void EncodingJsonWriter::WriteLine(const text::Encoding& encoding,
                                   const std::string_view (&texts)[2],
                                   const std::optional<std::string>& id, Output* output) const {
  char* out = output->Reserve(8 + (id ? MaxJsonStringBytes(id->size()) : 0));
  *out++ = '{';
  if (id) {
    out = Append(out, "\"id\":");
    out = WriteJsonString(out, *id);
    *out++ = ',';
  }
  output->Advance(out);
  bool first = true;
  if (fields_.ids) {
    WriteIntArray("ids", encoding.ids, first, output);
    first = false;
  }
  if (fields_.tokens) {
    if (!first) output->Write(",");
    WriteTokens(encoding, texts, output);
    first = false;
  }
  if (fields_.type_ids) {
    WriteIntArray("type_ids", encoding.type_ids, first, output);
    first = false;
  }
  if (fields_.offsets) {
    out = output->Reserve(16 + encoding.size() * (2 * kMaxInt32Bytes + 4));
    if (!first) *out++ = ',';
    out = Append(out, "\"offsets\":[");
    for (size_t i = 0; i < encoding.size(); ++i) {
      if (i) *out++ = ',';
      *out++ = '[';
      out = WriteDecimal(out, encoding.offsets[i].begin);
      *out++ = ',';
      out = WriteDecimal(out, encoding.offsets[i].end);
      *out++ = ']';
    }
    *out++ = ']';
    output->Advance(out);
  }
  out = output->Reserve(2);
  *out++ = '}';
  *out++ = '\n';
  output->Advance(out);
}

}  // namespace mg::cli
