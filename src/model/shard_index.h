// Shard indexes: model.safetensors.index.json and pytorch_model.bin.index.json,
// which map each tensor name to the shard file holding it.
//
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace mg::model {

struct ShardIndex {
  std::vector<std::string> shards;                // file names, in first-use order
  std::map<std::string, std::string> weight_map;  // tensor name -> shard file name
};

// Parses the index JSON text. Every shard must be a plain file name inside
// the index's folder (no separators, no "." or ".."); errors name `file`.
Result<ShardIndex> ParseShardIndex(const std::string& text, const std::string& file);

}  // namespace mg::model
