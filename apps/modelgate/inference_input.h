// Shared input handling of `embed` and `classify`: read the records, and feed
// them to the model in batches of a given size, in order.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "apps/modelgate/cli_error.h"
#include "data/records.h"
#include "model/model.h"

namespace mg::cli {

inline std::vector<data::Record> ReadInferenceInput(const std::string& path,
                                                    const std::string& format,
                                                    const std::string& field) {
  const data::RecordFormat parsed = ValueOrThrow(data::ParseRecordFormat(format));
  return ValueOrThrow(data::ReadRecords(path, parsed, field));
}

// Packs `records` `batch_size` at a time into `batch` and calls `run(count)`.
inline void ForEachBatch(const model::Model& model, const std::vector<data::Record>& records,
                         size_t batch_size, model::PackedBatch* batch,
                         const std::function<void(size_t)>& run) {
  std::vector<std::string_view> texts;
  std::vector<std::optional<std::string_view>> pairs;
  for (size_t start = 0; start < records.size(); start += batch_size) {
    const size_t end = std::min(records.size(), start + batch_size);
    texts.clear();
    pairs.clear();
    for (size_t i = start; i < end; ++i) {
      texts.push_back(records[i].text);
      pairs.push_back(records[i].text_pair ? std::optional<std::string_view>(*records[i].text_pair)
                                           : std::nullopt);
    }
    Status status = model.Pack(texts, pairs, batch);
    if (!status.ok())
      throw CliError("line " + std::to_string(records[start].line) + ": " + status.message());
    run(end - start);
  }
}

}  // namespace mg::cli
