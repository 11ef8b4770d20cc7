#include "text/vocab.h"

#include "text/unicode.h"

namespace mg::text {

Result<Vocab> Vocab::FromVocabTxt(std::string_view contents, const std::string& name) {
  Vocab vocab;
  size_t pos = 0;
  int32_t id = 0;
  while (pos < contents.size()) {
    size_t newline = contents.find('\n', pos);
    size_t line_end = newline == std::string_view::npos ? contents.size() : newline;
    std::string_view line = contents.substr(pos, line_end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!IsValidUtf8(reinterpret_cast<const uint8_t*>(line.data()), line.size())) {
      return CorruptionError(name + " line " + std::to_string(id + 1) + ": invalid UTF-8");
    }
    // Like the reference implementation, a repeated token maps to its last line.
    vocab.tokens_.emplace_back(line);
    vocab.ids_.insert_or_assign(std::string(line), id);
    ++id;
    pos = line_end + 1;
  }
  if (vocab.tokens_.empty()) return CorruptionError(name + ": empty vocabulary");
  return vocab;
}

Status Vocab::Add(std::string token, int32_t id) {
  if (id < 0) return InvalidArgumentError("negative token id " + std::to_string(id));
  if (static_cast<size_t>(id) >= (1u << 26)) {
    return InvalidArgumentError("token id " + std::to_string(id) + " is implausibly large");
  }
  auto found = ids_.find(std::string_view(token));
  if (found != ids_.end()) {
    if (found->second == id) return Status::Ok();
    return InvalidArgumentError("duplicate token \"" + token + "\" (ids " +
                                std::to_string(found->second) + " and " + std::to_string(id) + ")");
  }
  if (static_cast<size_t>(id) < tokens_.size() && !tokens_[id].empty()) {
    return InvalidArgumentError("id " + std::to_string(id) + " used by both \"" + tokens_[id] +
                                "\" and \"" + token + "\"");
  }
  if (static_cast<size_t>(id) >= tokens_.size()) tokens_.resize(static_cast<size_t>(id) + 1);
  tokens_[id] = token;
  ids_.emplace(std::move(token), id);
  return Status::Ok();
}

int32_t Vocab::TokenToId(std::string_view token) const {
  auto found = ids_.find(token);
  return found == ids_.end() ? -1 : found->second;
}

std::string_view Vocab::IdToToken(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_.size()) return {};
  return tokens_[id];
}

}  // namespace mg::text
