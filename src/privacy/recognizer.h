// Recognizer: the extension point for PII that patterns cannot find —
// names, addresses and organisations need a model. A token-classification
// model (BERT NER: B-PER/I-PER, B-LOC, B-ORG ... tags over WordPiece tokens,
// mapped back to byte offsets with the tokenizer's offsets) implements this
// interface and is handed to Analyzer::Create(); its findings are filtered by
// entity type and threshold and merged with the pattern detectors' before
// overlaps are resolved.
//
// Thread safety: Recognize() is called concurrently from many threads on the
// same object; implementations keep per-call state on the stack or in their
// own per-thread pools.
#pragma once

#include <string_view>
#include <vector>

#include "base/status.h"
#include "privacy/entity.h"

namespace mg::privacy {

class Recognizer {
 public:
  virtual ~Recognizer() = default;

  // The entity types this recognizer can report.
  virtual std::vector<EntityType> entities() const = 0;

  // Appends what it finds in `text` (the original input, possibly invalid
  // UTF-8) as byte offsets into `text`, with scores in [0, 1].
  virtual Status Recognize(std::string_view text, std::vector<Finding>* out) const = 0;
};

}  // namespace mg::privacy
