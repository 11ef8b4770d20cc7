// Finding one string member of a JSON object written on one line, so that a
// JSON-lines record can have that member rewritten while every other byte of
// the line stays as it was.
//
// Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace mg::privacy {

struct JsonStringField {
  size_t begin = 0;   // the opening quote of the value in the line
  size_t end = 0;     // one past its closing quote
  std::string value;  // the decoded string
};

// The top-level member `name` of the JSON object `line` (the last one when
// the name repeats). InvalidArgument when the line is not valid JSON or not
// an object; NotFound when there is no such member or it is not a string.
Result<JsonStringField> FindJsonStringField(std::string_view line, std::string_view name);

}  // namespace mg::privacy
