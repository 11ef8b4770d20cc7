#include "release/recipient_registry.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/file.h"
#include "base/json_limits.h"

namespace mg::release {
namespace {

constexpr char kFormat[] = "modelgate-recipients-v1";

Result<RecipientEntry> ParseEntry(const nlohmann::json& item, const std::string& where) {
  if (!item.is_object() || !item.contains("recipient") || !item["recipient"].is_string() ||
      item["recipient"].get<std::string>().empty()) {
    return InvalidArgumentError(where + ": each entry needs a non-empty \"recipient\"");
  }
  RecipientEntry entry;
  entry.recipient = item["recipient"].get<std::string>();
  auto text = [&](const char* name) {
    return item.contains(name) && item[name].is_string() ? item[name].get<std::string>()
                                                         : std::string();
  };
  entry.model_id = text("model_id");
  entry.created_at = text("created_at");
  entry.key_id = text("key_id");
  if (item.contains("trigger_set")) {
    if (!item["trigger_set"].is_number_unsigned() || item["trigger_set"].get<uint64_t>() > 100000) {
      return InvalidArgumentError(where + ": \"trigger_set\" must be a count up to 100000");
    }
    entry.trigger_set = item["trigger_set"].get<size_t>();
  }
  return entry;
}

}  // namespace

Result<std::vector<RecipientEntry>> ReadRecipientRegistry(const std::string& path) {
  std::vector<RecipientEntry> entries;
  if (!FileExists(path)) return entries;
  MG_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  MG_RETURN_IF_ERROR(CheckJsonDepth(text).WithContext(path));
  const nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object() || !root.contains("format") ||
      root["format"] != kFormat || !root.contains("recipients") || !root["recipients"].is_array()) {
    return InvalidArgumentError(path + " is not a recipient registry (" + kFormat + ")");
  }
  for (size_t index = 0; index < root["recipients"].size(); ++index) {
    MG_ASSIGN_OR_RETURN(RecipientEntry entry,
                        ParseEntry(root["recipients"][index],
                                   path + ": recipients[" + std::to_string(index) + "]"));
    entries.push_back(std::move(entry));
  }
  return entries;
}

Status AddToRecipientRegistry(const std::string& path, const RecipientEntry& entry) {
  MG_ASSIGN_OR_RETURN(std::vector<RecipientEntry> entries, ReadRecipientRegistry(path));
  std::erase_if(entries, [&](const RecipientEntry& old) {
    return old.recipient == entry.recipient && old.model_id == entry.model_id &&
           old.key_id == entry.key_id;
  });
  entries.push_back(entry);
  nlohmann::json list = nlohmann::json::array();
  for (const RecipientEntry& e : entries) {
    list.push_back({{"recipient", e.recipient},
                    {"model_id", e.model_id},
                    {"created_at", e.created_at},
                    {"key_id", e.key_id},
                    {"trigger_set", e.trigger_set}});
  }
  const nlohmann::json root = {{"format", kFormat}, {"recipients", list}};
  return WriteFileAtomic(
      path, root.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", 0600);
}

std::vector<TriggerRecipient> TriggerRecipients(const std::vector<RecipientEntry>& registry,
                                                const std::string& key_id,
                                                const std::vector<std::string>& names,
                                                size_t count) {
  std::vector<TriggerRecipient> out;
  std::set<std::string> seen;
  for (const RecipientEntry& entry : registry) {
    if (entry.trigger_set == 0 || entry.key_id != key_id) continue;
    if (seen.insert(entry.recipient).second) out.push_back({entry.recipient, entry.trigger_set});
  }
  for (const std::string& name : names) {
    if (seen.insert(name).second) out.push_back({name, count});
  }
  return out;
}

}  // namespace mg::release
