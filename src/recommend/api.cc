#include "recommend/api.h"

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "text/unicode.h"

namespace mg::recommend {
namespace {

using nlohmann::json;

bool ValidUtf8(const std::string& text) {
  return text::IsValidUtf8(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

// A required non-empty string of at most `max_bytes` valid UTF-8.
Status GetString(const json& value, const std::string& what, size_t max_bytes, std::string* out) {
  if (!value.is_string()) return InvalidArgumentError(what + " must be a string");
  *out = value.get<std::string>();
  if (out->empty()) return InvalidArgumentError(what + " is empty");
  if (out->size() > max_bytes) {
    return InvalidArgumentError(what + " is longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!ValidUtf8(*out)) return InvalidArgumentError(what + " is not valid UTF-8");
  return Status::Ok();
}

// An optional array of strings under `key`.
Status GetStrings(const json& body, const char* key, size_t max_count, size_t max_bytes,
                  const std::string& where, std::vector<std::string>* out) {
  out->clear();
  if (!body.contains(key)) return Status::Ok();
  const json& list = body[key];
  const std::string what = where + "\"" + key + "\"";
  if (!list.is_array()) return InvalidArgumentError(what + " must be an array of strings");
  if (list.size() > max_count) {
    return InvalidArgumentError(what + " has more than " + std::to_string(max_count) + " entries");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    std::string value;
    MG_RETURN_IF_ERROR(GetString(list[i], what + "[" + std::to_string(i) + "]", max_bytes, &value));
    out->push_back(std::move(value));
  }
  return Status::Ok();
}

Status RequireObject(const json& body) {
  if (!body.is_object()) return InvalidArgumentError("the body must be a JSON object");
  return Status::Ok();
}

}  // namespace

Result<json> RecommendApi::AddItems(const json& body) const {
  MG_RETURN_IF_ERROR(RequireObject(body));
  if (!body.contains("items") || !body["items"].is_array()) {
    return InvalidArgumentError("\"items\" must be an array of {\"id\",\"text\",\"tags\"}");
  }
  const json& list = body["items"];
  if (list.empty()) return InvalidArgumentError("\"items\" is empty");
  if (list.size() > limits_.max_items) {
    return InvalidArgumentError("more than " + std::to_string(limits_.max_items) +
                                " items in one request");
  }
  std::vector<Item> items;
  std::vector<std::string> texts;
  std::unordered_set<std::string> ids;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = "items[" + std::to_string(i) + "]";
    if (!list[i].is_object()) return InvalidArgumentError(where + " must be an object");
    if (!list[i].contains("id")) return InvalidArgumentError(where + ".id is missing");
    if (!list[i].contains("text")) return InvalidArgumentError(where + ".text is missing");
    Item item;
    std::string text;
    MG_RETURN_IF_ERROR(GetString(list[i]["id"], where + ".id", limits_.max_id_bytes, &item.id));
    MG_RETURN_IF_ERROR(GetString(list[i]["text"], where + ".text", limits_.max_text_bytes, &text));
    MG_RETURN_IF_ERROR(GetStrings(list[i], "tags", limits_.max_tags, limits_.max_tag_bytes,
                                  where + ".", &item.tags));
    if (!ids.insert(item.id).second) {
      return InvalidArgumentError(where + ".id \"" + item.id + "\" appears twice");
    }
    items.push_back(std::move(item));
    texts.push_back(std::move(text));
  }
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> embeddings;
  MG_RETURN_IF_ERROR(embedder_->Embed(views, &embeddings));
  size_t replaced = 0;
  MG_RETURN_IF_ERROR(catalogue_->Add(items, embeddings, &replaced));
  MG_RETURN_IF_ERROR(catalogue_->Save());
  return json{
      {"added", items.size() - replaced}, {"replaced", replaced}, {"items", catalogue_->size()}};
}

Result<json> RecommendApi::DeleteItems(const json& body) const {
  MG_RETURN_IF_ERROR(RequireObject(body));
  if (!body.contains("ids")) return InvalidArgumentError("\"ids\" is missing");
  std::vector<std::string> ids;
  MG_RETURN_IF_ERROR(GetStrings(body, "ids", limits_.max_exclude, limits_.max_id_bytes, "", &ids));
  if (ids.empty()) return InvalidArgumentError("\"ids\" is empty");
  const size_t deleted = catalogue_->Delete(ids);
  if (deleted > 0) MG_RETURN_IF_ERROR(catalogue_->Save());
  return json{{"deleted", deleted}, {"items", catalogue_->size()}};
}

Result<RecommendRequest> RecommendApi::ParseRecommend(const json& body) const {
  MG_RETURN_IF_ERROR(RequireObject(body));
  RecommendRequest request;
  request.decay = limits_.recency_decay;
  const bool has_history = body.contains("history");
  const bool has_query = body.contains("query");
  if (has_history == has_query) {
    return InvalidArgumentError("give exactly one of \"history\" and \"query\"");
  }
  if (has_query) {
    MG_RETURN_IF_ERROR(
        GetString(body["query"], "\"query\"", limits_.max_text_bytes, &request.query));
  } else {
    const json& history = body["history"];
    if (!history.is_array() || history.empty()) {
      return InvalidArgumentError("\"history\" must be a non-empty array");
    }
    if (history.size() > limits_.max_history) {
      return InvalidArgumentError("\"history\" has more than " +
                                  std::to_string(limits_.max_history) + " entries");
    }
    for (size_t i = 0; i < history.size(); ++i) {
      const std::string where = "history[" + std::to_string(i) + "]";
      HistoryEntry entry;
      if (history[i].is_string()) {
        MG_RETURN_IF_ERROR(GetString(history[i], where, limits_.max_text_bytes, &entry.text));
      } else if (history[i].is_object() &&
                 (history[i].contains("id") || history[i].contains("text"))) {
        if (history[i].contains("id")) {
          MG_RETURN_IF_ERROR(
              GetString(history[i]["id"], where + ".id", limits_.max_id_bytes, &entry.id));
        }
        if (history[i].contains("text")) {
          MG_RETURN_IF_ERROR(
              GetString(history[i]["text"], where + ".text", limits_.max_text_bytes, &entry.text));
        }
      } else {
        return InvalidArgumentError(where + " must be a text or an object with \"id\"/\"text\"");
      }
      request.history.push_back(std::move(entry));
    }
  }
  if (body.contains("k")) {
    const json& k = body["k"];
    if (!k.is_number_integer() || k.get<int64_t>() < 1 ||
        k.get<int64_t>() > static_cast<int64_t>(limits_.max_k)) {
      return InvalidArgumentError("\"k\" must be an integer from 1 to " +
                                  std::to_string(limits_.max_k));
    }
    request.k = k.get<size_t>();
  }
  MG_RETURN_IF_ERROR(
      GetStrings(body, "tags", limits_.max_tags, limits_.max_tag_bytes, "", &request.tags));
  MG_RETURN_IF_ERROR(
      GetStrings(body, "exclude", limits_.max_exclude, limits_.max_id_bytes, "", &request.exclude));
  if (body.contains("exclude_seen")) {
    if (!body["exclude_seen"].is_boolean()) {
      return InvalidArgumentError("\"exclude_seen\" must be true or false");
    }
    request.exclude_seen = body["exclude_seen"].get<bool>();
  }
  return request;
}

Result<json> RecommendApi::Recommend(const json& body) const {
  MG_ASSIGN_OR_RETURN(RecommendRequest request, ParseRecommend(body));
  MG_ASSIGN_OR_RETURN(std::vector<ScoredItem> found,
                      recommend::Recommend(request, *embedder_, *catalogue_));
  json reply = json::array();
  for (const ScoredItem& item : found) reply.push_back({{"id", item.id}, {"score", item.score}});
  return reply;
}

}  // namespace mg::recommend
