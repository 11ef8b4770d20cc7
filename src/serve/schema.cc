#include "serve/schema.h"

#include <algorithm>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "base/json_limits.h"

namespace mg::serve {
namespace {

using nlohmann::json;

ApiError BadRequest(std::string message) { return {400, "bad_request", std::move(message)}; }

std::optional<ApiError> ParseObject(std::string_view body, json* out) {
  if (Status depth = CheckJsonDepth(body); !depth.ok()) return Validation(depth.message());
  *out = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) {
    return BadRequest("the body is not valid JSON (or not valid UTF-8)");
  }
  if (!out->is_object()) return Validation("the body must be a JSON object");
  return std::nullopt;
}

std::optional<ApiError> ReadBool(const json& object, const char* name, bool* value) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return Validation(std::string("`") + name + "` must be a boolean");
  *value = it->get<bool>();
  return std::nullopt;
}

// A boolean that stays nullopt when absent or null.
std::optional<ApiError> ReadOptionalBool(const json& object, const char* name,
                                         std::optional<bool>* value) {
  bool read = false;
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (auto error = ReadBool(object, name, &read)) return error;
  *value = read;
  return std::nullopt;
}

// `dimensions`: a positive integer (its upper bound, the model's width, is
// checked when the model is known).
std::optional<ApiError> ReadDimensions(const json& object, int64_t* value) {
  auto it = object.find("dimensions");
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<int64_t>() < 1) {
    return Validation("`dimensions` must be a positive integer");
  }
  *value = it->get<int64_t>();
  return std::nullopt;
}

ApiError Empty(std::string message) { return {400, "empty", std::move(message)}; }

// One list of token ids: non-negative integers (the vocabulary's bound is
// checked when the model is known).
std::optional<ApiError> ReadIds(const json& value, const std::string& where,
                                std::vector<int32_t>* out) {
  if (!value.is_array()) return Validation(where + " must be a list of token ids");
  if (value.empty()) return Empty(where + " cannot be empty");
  out->reserve(value.size());
  for (const json& id : value) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
      return Validation(where + " must hold token ids (non-negative integers)");
    }
    out->push_back(static_cast<int32_t>(id.get<int64_t>()));
  }
  return std::nullopt;
}

std::optional<ApiError> AddText(const json& value, const std::string& where, TextInputs* out) {
  if (!value.is_string()) return Validation(where + " must be a string");
  const auto& text = value.get_ref<const std::string&>();
  if (text.empty()) return Validation(where + " is empty");
  out->texts.push_back(text);
  return std::nullopt;
}

ApiError TooMany(size_t count, const SchemaLimits& limits) {
  return Validation("batch size " + std::to_string(count) + " > maximum allowed batch size " +
                    std::to_string(limits.max_inputs));
}

std::optional<ApiError> CheckCount(const TextInputs& inputs, const char* field,
                                   const SchemaLimits& limits) {
  if (inputs.size() == 0) return Empty(std::string("`") + field + "` cannot be empty");
  if (inputs.size() > limits.max_inputs) return TooMany(inputs.size(), limits);
  return std::nullopt;
}

// "t" or ["t", ...]: TEI's /embed and /tokenize inputs, OpenAI's input.
std::optional<ApiError> ReadTexts(const json& object, const char* field, const SchemaLimits& limits,
                                  TextInputs* out) {
  auto it = object.find(field);
  if (it == object.end()) return Validation(std::string("missing field `") + field + "`");
  const std::string name = std::string("`") + field + "`";
  if (it->is_string()) {
    if (auto error = AddText(*it, name, out)) return error;
  } else if (it->is_array()) {
    out->batched = true;
    if (it->empty()) return Empty(name + " cannot be empty");
    if (it->size() > limits.max_inputs) return TooMany(it->size(), limits);
    for (size_t i = 0; i < it->size(); ++i) {
      if ((*it)[i].is_array()) {
        return Validation(name + " must be a string or a list of strings");
      }
      if (auto error = AddText((*it)[i], name + "[" + std::to_string(i) + "]", out)) return error;
    }
  } else {
    return Validation(name + " must be a string or a list of strings");
  }
  return CheckCount(*out, field, limits);
}

// One TEI sequence: "t", ["t"] or ["a", "b"] (a pair).
std::optional<ApiError> AddSequence(const json& value, const std::string& where, TextInputs* out) {
  if (value.is_string()) {
    if (auto error = AddText(value, where, out)) return error;
    out->pairs.emplace_back();
    return std::nullopt;
  }
  if (!value.is_array() || value.empty() || value.size() > 2) {
    return Validation(where + " must be a string, [text] or [text, text_pair]");
  }
  if (auto error = AddText(value[0], where + "[0]", out)) return error;
  if (value.size() == 1) {
    out->pairs.emplace_back();
    return std::nullopt;
  }
  if (!value[1].is_string() || value[1].get_ref<const std::string&>().empty()) {
    return Validation(where + "[1] must be a non-empty string");
  }
  out->pairs.emplace_back(value[1].get<std::string>());
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ParseEmbedRequest(std::string_view body, const SchemaLimits& limits,
                                          EmbedRequest* out) {
  json object;
  if (auto error = ParseObject(body, &object)) return error;
  if (auto error = ReadTexts(object, "inputs", limits, &out->inputs)) return error;
  if (auto error = ReadBool(object, "normalize", &out->normalize)) return error;
  if (auto error = ReadDimensions(object, &out->dimensions)) return error;
  return ReadOptionalBool(object, "truncate", &out->truncate);
}

std::optional<ApiError> ParsePredictRequest(std::string_view body, const SchemaLimits& limits,
                                            PredictRequest* out) {
  json object;
  if (auto error = ParseObject(body, &object)) return error;
  auto it = object.find("inputs");
  if (it == object.end()) return Validation("missing field `inputs`");
  TextInputs& inputs = out->inputs;
  const bool all_strings = it->is_array() && std::all_of(it->begin(), it->end(), [](const json& v) {
                             return v.is_string();
                           });
  if (all_strings && it->size() > 2) {
    return Validation(
        "`inputs` must be a string, [text, text_pair] or a list of those: a list of " +
        std::to_string(it->size()) +
        " strings is ambiguous; to classify each text send [[\"a\"], [\"b\"], [\"c\"], ...]");
  }
  if (it->is_string() || (all_strings && (it->size() == 1 || it->size() == 2))) {
    // "t", ["t"] or ["a", "b"]: one sequence (TEI reads a list of two
    // strings as a text pair).
    if (auto error = AddSequence(*it, "`inputs`", &inputs)) return error;
  } else if (it->is_array()) {
    inputs.batched = true;
    if (it->empty()) return Empty("`inputs` cannot be empty");
    if (it->size() > limits.max_inputs) return TooMany(it->size(), limits);
    for (size_t i = 0; i < it->size(); ++i) {
      if (auto error = AddSequence((*it)[i], "`inputs[" + std::to_string(i) + "]`", &inputs)) {
        return error;
      }
    }
  } else {
    return Validation("`inputs` must be a string, a text pair or a list of those");
  }
  if (auto error = CheckCount(inputs, "inputs", limits)) return error;
  if (auto error = ReadOptionalBool(object, "truncate", &out->truncate)) return error;
  return ReadBool(object, "raw_scores", &out->raw_scores);
}

std::optional<ApiError> ParseOpenAiEmbedRequest(std::string_view body, const SchemaLimits& limits,
                                                OpenAiEmbedRequest* out) {
  json object;
  if (auto error = ParseObject(body, &object)) return error;
  auto input = object.find("input");
  const auto is_id = [](const json& v) { return v.is_number_integer(); };
  const auto is_id_list = [&](const json& v) {
    return v.is_array() && std::all_of(v.begin(), v.end(), is_id);
  };
  if (input != object.end() && input->is_array() && !input->empty() &&
      (std::all_of(input->begin(), input->end(), is_id) ||
       std::all_of(input->begin(), input->end(), is_id_list))) {
    // Token ids, as OpenAI accepts them: [1, 2, 3] or [[1, 2], [3], ...].
    TextInputs& inputs = out->inputs;
    if (is_id((*input)[0])) {
      inputs.ids.emplace_back();
      if (auto error = ReadIds(*input, "`input`", &inputs.ids.back())) return error;
    } else {
      inputs.batched = true;
      if (input->size() > limits.max_inputs) return TooMany(input->size(), limits);
      for (size_t i = 0; i < input->size(); ++i) {
        inputs.ids.emplace_back();
        if (auto error =
                ReadIds((*input)[i], "`input[" + std::to_string(i) + "]`", &inputs.ids.back())) {
          return error;
        }
      }
    }
  } else if (auto error = ReadTexts(object, "input", limits, &out->inputs)) {
    return error;
  }
  if (auto error = ReadDimensions(object, &out->dimensions)) return error;
  if (auto it = object.find("model"); it != object.end() && !it->is_null()) {
    if (!it->is_string()) return Validation("`model` must be a string");
    out->model = it->get<std::string>();
  }
  if (auto it = object.find("encoding_format"); it != object.end() && !it->is_null()) {
    if (*it == "base64") {
      out->base64 = true;
    } else if (*it != "float") {
      return Validation("`encoding_format` must be \"float\" or \"base64\"");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> ParseTokenizeRequest(std::string_view body, const SchemaLimits& limits,
                                             TokenizeRequest* out) {
  json object;
  if (auto error = ParseObject(body, &object)) return error;
  if (auto error = ReadTexts(object, "inputs", limits, &out->inputs)) return error;
  return ReadBool(object, "add_special_tokens", &out->add_special_tokens);
}

std::optional<ApiError> ParseSimilarityRequest(std::string_view body, const SchemaLimits& limits,
                                               SimilarityRequest* out) {
  json object;
  if (auto error = ParseObject(body, &object)) return error;
  auto it = object.find("inputs");
  if (it == object.end()) return Validation("missing field `inputs`");
  if (!it->is_object()) {
    return Validation("`inputs` must be {\"source_sentence\": text, \"sentences\": [text, ...]}");
  }
  auto source = it->find("source_sentence");
  if (source == it->end()) return Validation("missing field `inputs.source_sentence`");
  if (auto error = AddText(*source, "`inputs.source_sentence`", &out->inputs)) return error;
  auto sentences = it->find("sentences");
  if (sentences == it->end()) return Validation("missing field `inputs.sentences`");
  if (!sentences->is_array()) return Validation("`inputs.sentences` must be a list of strings");
  if (sentences->empty()) return Empty("`inputs.sentences` cannot be empty");
  if (sentences->size() > limits.max_inputs) return TooMany(sentences->size(), limits);
  for (size_t i = 0; i < sentences->size(); ++i) {
    if (auto error = AddText((*sentences)[i], "`inputs.sentences[" + std::to_string(i) + "]`",
                             &out->inputs)) {
      return error;
    }
  }
  out->inputs.batched = true;
  return ReadOptionalBool(object, "truncate", &out->truncate);
}

std::optional<ApiError> ParseEmbedAllRequest(std::string_view body, const SchemaLimits& limits,
                                             EmbedAllRequest* out) {
  json object;
  if (auto error = ParseObject(body, &object)) return error;
  if (auto error = ReadTexts(object, "inputs", limits, &out->inputs)) return error;
  return ReadOptionalBool(object, "truncate", &out->truncate);
}

std::optional<ApiError> ParseDecodeRequest(std::string_view body, const SchemaLimits& limits,
                                           DecodeRequest* out) {
  json object;
  if (auto error = ParseObject(body, &object)) return error;
  auto it = object.find("ids");
  if (it == object.end()) return Validation("missing field `ids`");
  if (!it->is_array()) return Validation("`ids` must be a list of token ids or a list of those");
  if (it->empty()) return Empty("`ids` cannot be empty");
  if ((*it)[0].is_array()) {
    out->batched = true;
    if (it->size() > limits.max_inputs) return TooMany(it->size(), limits);
    for (size_t i = 0; i < it->size(); ++i) {
      out->ids.emplace_back();
      if (auto error = ReadIds((*it)[i], "`ids[" + std::to_string(i) + "]`", &out->ids.back())) {
        return error;
      }
    }
  } else {
    out->ids.emplace_back();
    if (auto error = ReadIds(*it, "`ids`", &out->ids.back())) return error;
  }
  return ReadBool(object, "skip_special_tokens", &out->skip_special_tokens);
}

namespace {

// A non-empty string field.
std::optional<ApiError> ReadQuery(const json& object, std::string* out) {
  auto it = object.find("query");
  if (it == object.end()) return Validation("missing field `query`");
  if (!it->is_string()) return Validation("`query` must be a string");
  if (it->get_ref<const std::string&>().empty()) return Validation("`query` is empty");
  *out = it->get<std::string>();
  return std::nullopt;
}

// The list of texts to rank: `field` is [item, ...], each a non-empty string
// or (with `objects`) {"text": "..."}.
std::optional<ApiError> ReadRerankTexts(const json& object, const char* field, bool objects,
                                        const SchemaLimits& limits, std::vector<std::string>* out) {
  const std::string name = std::string("`") + field + "`";
  auto it = object.find(field);
  if (it == object.end()) return Validation("missing field " + name);
  if (!it->is_array())
    return Validation(name + (objects ? " must be a list of strings or {\"text\": ...} objects"
                                      : " must be a list of strings"));
  if (it->empty()) return Empty(name + " cannot be empty");
  if (it->size() > limits.max_inputs) return TooMany(it->size(), limits);
  TextInputs texts;
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string where = name + "[" + std::to_string(i) + "]";
    const json& item = (*it)[i];
    if (objects && item.is_object()) {
      auto text = item.find("text");
      if (text == item.end()) return Validation("missing field `text` in " + where);
      if (auto error = AddText(*text, where + ".text", &texts)) return error;
    } else if (auto error = AddText(item, where, &texts)) {
      return error;
    }
  }
  *out = std::move(texts.texts);
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> ParseRerankRequest(std::string_view body, const SchemaLimits& limits,
                                           RerankRequest* out) {
  json object;
  if (auto error = ParseObject(body, &object)) return error;
  if (auto error = ReadQuery(object, &out->query)) return error;
  if (auto error = ReadRerankTexts(object, "texts", false, limits, &out->texts)) return error;
  if (auto error = ReadOptionalBool(object, "truncate", &out->truncate)) return error;
  if (auto error = ReadBool(object, "raw_scores", &out->raw_scores)) return error;
  return ReadBool(object, "return_text", &out->return_text);
}

std::optional<ApiError> ParseCohereRerankRequest(std::string_view body, const SchemaLimits& limits,
                                                 CohereRerankRequest* out) {
  json object;
  if (auto error = ParseObject(body, &object)) return error;
  if (auto error = ReadQuery(object, &out->query)) return error;
  if (auto error = ReadRerankTexts(object, "documents", true, limits, &out->documents))
    return error;
  if (auto it = object.find("model"); it != object.end() && !it->is_null()) {
    if (!it->is_string()) return Validation("`model` must be a string");
    out->model = it->get<std::string>();
  }
  if (auto it = object.find("top_n"); it != object.end() && !it->is_null()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() == 0)
      return Validation("`top_n` must be a positive integer");
    out->top_n = it->get<uint64_t>();
  }
  return ReadBool(object, "return_documents", &out->return_documents);
}

}  // namespace mg::serve
