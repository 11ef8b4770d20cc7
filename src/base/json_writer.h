// Minimal, allocation-light JSON output helpers for hot paths (JSON lines
// with thousands of numbers), and JsonWriter, which puts the commas and
// colons of an object or array in place around them.
//
// The Append* functions grow a std::string; the Write* functions write into
// a buffer the caller has sized (with the Max*Bytes bounds below) and return
// the end of what they wrote, for writers that fill one large block.
//
// The Append* and Write* functions are stateless and thread-safe; a
// JsonWriter is used by one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mg {

// Appends `value` as a JSON string literal (quotes included). Control
// characters are escaped; bytes that are not valid UTF-8 become \ufffd.
void AppendJsonString(std::string* out, std::string_view value);

void AppendJsonInt(std::string* out, int64_t value);

// Shortest text that reads back as the same float (%.9g is enough for float).
void AppendJsonFloat(std::string* out, float value);

// Appends one JSON value to a caller's string, in order:
//   JsonWriter w(&out);
//   w.BeginObject().Key("model").String(id).Key("rows").BeginArray();
//   ... w.EndArray().EndObject();   // {"model":"…","rows":[…]}
// Separators are added; nesting is the caller's to balance (an unbalanced
// writer's text is not valid JSON). Strings and numbers are written as the
// Append* functions above write them. `out` must outlive the writer.
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  // The member name of the next value, inside an object.
  JsonWriter& Key(std::string_view key) {
    Separate();
    AppendJsonString(out_, key);
    out_->push_back(':');
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view value) {
    Separate();
    AppendJsonString(out_, value);
    return *this;
  }
  JsonWriter& Int(int64_t value) {
    Separate();
    AppendJsonInt(out_, value);
    return *this;
  }
  JsonWriter& Float(float value) {
    Separate();
    AppendJsonFloat(out_, value);
    return *this;
  }
  JsonWriter& Bool(bool value) {
    Separate();
    out_->append(value ? "true" : "false");
    return *this;
  }

 private:
  // A comma before every member or element but the first of its container.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_->push_back(',');
      first_.back() = false;
    }
  }
  JsonWriter& Open(char bracket) {
    Separate();
    out_->push_back(bracket);
    first_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char bracket) {
    out_->push_back(bracket);
    if (!first_.empty()) first_.pop_back();
    return *this;
  }

  std::string* out_;
  std::vector<bool> first_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};
// The most bytes WriteJsonString writes for a value of `size` bytes (every
// byte may become a six-byte escape), quotes included.
constexpr size_t MaxJsonStringBytes(size_t size) { return 6 * size + 2; }
// The most bytes WriteJsonInt writes.
inline constexpr size_t kMaxJsonIntBytes = 20;

// Writes exactly what AppendJsonString appends to `out`, which has room for
// MaxJsonStringBytes(value.size()) bytes; returns the end of the literal.
char* WriteJsonString(char* out, std::string_view value);

// Writes `value` in decimal to `out` (room for kMaxJsonIntBytes); returns the end.
char* WriteJsonInt(char* out, int64_t value);

}  // namespace mg
