// NfcNormalize: Unicode NFC with Hugging Face's alignment rules (its NFC
// normalizer, as used by ModernBERT's tokenizer.json). Each output character
// is aligned with the input character at the same position in its run of
// combining characters: a composed character takes the range of the first
// character it absorbed, a reordered mark takes the position it lands on, and
// a character added by a decomposition takes the range of the one before it.
// Invalid UTF-8 bytes read as U+FFFD.
//
// Stateless (a read-only table built on first use); thread-safe.
#pragma once

#include <string_view>

#include "text/normalized_text.h"

namespace mg::text {

// Normalizes input[begin, end) and appends the result to `out`; offsets are
// absolute positions in `input`.
void NfcNormalize(std::string_view input, size_t begin, size_t end, NormalizedText* out);

}  // namespace mg::text
