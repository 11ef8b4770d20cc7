#include "privacy/json_field.h"

#include <nlohmann/json.hpp>
#include <optional>

namespace mg::privacy {
namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\n')) {
      ++pos_;
    }
  }
  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  size_t pos() const { return pos_; }
  void Advance() { ++pos_; }

  // Skips a string starting at the current quote.
  void SkipString() {
    ++pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') pos_ += text_[pos_] == '\\' ? 2 : 1;
    ++pos_;
  }

  // Skips any value (the text is known to be valid JSON).
  void SkipValue() {
    if (Peek() == '"') {
      SkipString();
      return;
    }
    if (Peek() == '{' || Peek() == '[') {
      int depth = 0;
      do {
        const char c = Peek();
        if (c == '"') {
          SkipString();
          continue;
        }
        if (c == '{' || c == '[') ++depth;
        if (c == '}' || c == ']') --depth;
        ++pos_;
      } while (depth > 0 && pos_ < text_.size());
      return;
    }
    while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}' && text_[pos_] != ']' &&
           text_[pos_] != ' ' && text_[pos_] != '\t' && text_[pos_] != '\r' &&
           text_[pos_] != '\n') {
      ++pos_;
    }
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

std::string DecodeString(std::string_view token) {
  if (token.find('\\') == std::string_view::npos) {
    return std::string(token.substr(1, token.size() - 2));
  }
  return nlohmann::json::parse(token).get<std::string>();
}

}  // namespace

Result<JsonStringField> FindJsonStringField(std::string_view line, std::string_view name) {
  if (!nlohmann::json::accept(line)) return InvalidArgumentError("not valid JSON (or not UTF-8)");
  Cursor cursor(line);
  cursor.SkipSpace();
  if (cursor.Peek() != '{') return InvalidArgumentError("expected a JSON object");
  cursor.Advance();
  std::optional<JsonStringField> found;
  bool other_type = false;
  while (true) {
    cursor.SkipSpace();
    if (cursor.Peek() != '"') break;  // '}' of an empty object
    const size_t key_begin = cursor.pos();
    cursor.SkipString();
    const std::string key = DecodeString(line.substr(key_begin, cursor.pos() - key_begin));
    cursor.SkipSpace();
    cursor.Advance();  // ':'
    cursor.SkipSpace();
    const size_t value_begin = cursor.pos();
    const bool is_string = cursor.Peek() == '"';
    cursor.SkipValue();
    if (key == name) {
      found.reset();
      other_type = !is_string;
      if (is_string) {
        const std::string_view token = line.substr(value_begin, cursor.pos() - value_begin);
        found = JsonStringField{value_begin, cursor.pos(), DecodeString(token)};
      }
    }
    cursor.SkipSpace();
    if (cursor.Peek() != ',') break;
    cursor.Advance();
  }
  if (!found) {
    return NotFoundError(other_type ? "\"" + std::string(name) + "\" is not a string"
                                    : "missing string field \"" + std::string(name) + "\"");
  }
  return *std::move(found);
}

}  // namespace mg::privacy
