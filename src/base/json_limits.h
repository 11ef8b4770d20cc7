// Limits on JSON read from untrusted bytes (model files, releases, licences,
// records, HTTP bodies).
//
// nlohmann::json parses iteratively, but dump(), copies and comparisons
// recurse once per nesting level, so a few megabytes of "[" would overflow
// the stack far from the parser. Every parse of untrusted JSON calls
// CheckJsonDepth first and refuses deeper documents. Pure functions;
// thread-safe.
#pragma once

#include <string_view>

#include "base/status.h"

namespace mg {

// Deeper than any format the program reads (safetensors headers, tokenizer.json
// and HTTP bodies nest fewer than 10 levels).
inline constexpr int kMaxJsonDepth = 64;

// InvalidArgument when arrays and objects in `text` nest deeper than
// `max_depth`, counting brackets outside strings. Says nothing about whether
// `text` is valid JSON: the parser checks that afterwards.
Status CheckJsonDepth(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace mg
