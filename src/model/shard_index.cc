#include "model/shard_index.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/json_limits.h"

namespace mg::model {

Result<ShardIndex> ParseShardIndex(const std::string& text, const std::string& file) {
  MG_RETURN_IF_ERROR(CheckJsonDepth(text).WithContext(file));
  const nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return CorruptionError(file + ": not a JSON object");
  }
  auto map_it = root.find("weight_map");
  if (map_it == root.end() || !map_it->is_object() || map_it->empty()) {
    return CorruptionError(file + ": missing or empty \"weight_map\" object");
  }
  ShardIndex index;
  for (const auto& [tensor, shard_json] : map_it->items()) {
    if (!shard_json.is_string()) {
      return CorruptionError(file + ": shard of tensor '" + tensor + "' is not a string");
    }
    const std::string& shard = shard_json.get_ref<const std::string&>();
    if (shard.empty() || shard == "." || shard == ".." ||
        shard.find_first_of("/\\") != std::string::npos || shard.find('\0') != std::string::npos) {
      return InvalidArgumentError(file + ": shard '" + shard + "' of tensor '" + tensor +
                                  "' is not a file name inside the model folder");
    }
    if (std::find(index.shards.begin(), index.shards.end(), shard) == index.shards.end()) {
      index.shards.push_back(shard);
    }
    index.weight_map[tensor] = shard;
  }
  return index;
}

}  // namespace mg::model
