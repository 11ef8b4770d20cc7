// A fast reader for the common shape of a JSON-lines record: one flat object
// whose values are strings, numbers, true, false or null. It takes the values
// of a few named keys and declines everything else, leaving that line to the
// full parser (nlohmann::json), so what it accepts reads exactly as the full
// parser reads it.
//
// Declined (returns false): anything that is not valid JSON; nested arrays or
// objects; a key written with escapes; a wanted key given twice or with a
// value other than a string or null; \u escapes of UTF-16 surrogates; a byte
// order mark.
//
// Stateless; thread-safe.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace mg::data {

struct FlatJsonField {
  std::string_view key;  // in: the key to take (distinct from the others asked for)
  bool present = false;  // out: the object has the key
  bool is_null = false;  // out: its value is null (else `value` holds the string)
  std::string value;     // out: the string's value, unescaped
};

// Reads `line` (one JSON text, no newline inside). True when it is a flat
// object as above; then each field says whether and how its key was given.
// False leaves the fields in an unspecified state.
bool ReadFlatJsonObject(std::string_view line, std::span<FlatJsonField> fields);

}  // namespace mg::data
