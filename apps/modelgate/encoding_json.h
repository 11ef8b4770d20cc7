// EncodingJsonWriter: the JSON line `modelgate tokenize` prints for one
// encoding, {"id"?, "ids", "tokens", "type_ids", "offsets"} with only the
// fields asked for, written straight into an Output's block.
//
// Every vocabulary token is escaped once, when the writer is made, so a line
// costs copies rather than escaping. Holds a reference to the tokenizer,
// which must outlive it. Const methods are thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apps/modelgate/output.h"
#include "text/encoding.h"
#include "text/tokenizer.h"

namespace mg::cli {

// Which fields a line holds; always in this order.
struct EncodingFields {
  bool ids = true;
  bool tokens = true;
  bool type_ids = true;
  bool offsets = true;
};

// A comma-separated list of ids, tokens, type_ids and offsets, in any order;
// throws CliError naming an unknown field, or when none is given.
EncodingFields ParseEncodingFields(std::string_view list);

class EncodingJsonWriter {
 public:
  EncodingJsonWriter(const text::Tokenizer& tokenizer, EncodingFields fields);

  // Writes the line (newline included) for `encoding` of `texts` (the first
  // and second text, for the tokens' spellings), with "id" first when given.
  void WriteLine(const text::Encoding& encoding, const std::string_view (&texts)[2],
                 const std::optional<std::string>& id, Output* output) const;

 private:
  void WriteTokens(const text::Encoding& encoding, const std::string_view (&texts)[2],
                   Output* output) const;

  const text::Tokenizer& tokenizer_;
  const EncodingFields fields_;
  std::string token_json_;                // each vocabulary token as a JSON string, in id order
  std::vector<size_t> token_json_begin_;  // where token `id` starts; one past the last at the end
};

}  // namespace mg::cli
