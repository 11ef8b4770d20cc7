#include "data/flat_json.h"

#include <array>

#include "base/utf8.h"

namespace mg::data {
namespace {

// Bytes a string holds as they are: printable ASCII other than '"' and '\\'.
constexpr std::array<bool, 256> kPlainBytes = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string* out, unsigned code_point) {
  if (code_point < 0x80) {
    out->push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out->push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

class Reader {
 public:
  explicit Reader(std::string_view text)
      : data_(reinterpret_cast<const unsigned char*>(text.data())), size_(text.size()) {}

  void SkipSpace() {
    while (pos_ < size_ && (data_[pos_] == ' ' || data_[pos_] == '\t' || data_[pos_] == '\r' ||
                            data_[pos_] == '\n'))
      ++pos_;
  }
  bool Take(char c) {
    if (pos_ < size_ && data_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool AtEnd() const { return pos_ == size_; }
  size_t remaining() const { return size_ - pos_; }

  // A key without escapes, after its opening quote.
  bool Key(std::string_view* key) {
    const size_t begin = pos_;
    while (pos_ < size_ && kPlainBytes[data_[pos_]]) ++pos_;
    // Non-ASCII keys are declined too: none of the keys asked for has any.
    if (!Take('"')) return false;
    *key = std::string_view(reinterpret_cast<const char*>(data_) + begin, pos_ - 1 - begin);
    return true;
  }

  // A string after its opening quote, unescaped into `out` when non-null.
  bool String(std::string* out) {
    for (;;) {
      const size_t begin = pos_;
      while (pos_ < size_ && kPlainBytes[data_[pos_]]) ++pos_;
      if (out) out->append(reinterpret_cast<const char*>(data_) + begin, pos_ - begin);
      if (pos_ == size_) return false;
      const unsigned char c = data_[pos_];
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) {
        const size_t length = Utf8SequenceLength(data_ + pos_, size_ - pos_);
        if (length == 0) return false;
        if (out) out->append(reinterpret_cast<const char*>(data_) + pos_, length);
        pos_ += length;
        continue;
      }
      // A backslash.
      if (pos_ + 1 >= size_) return false;
      const char escape = static_cast<char>(data_[pos_ + 1]);
      pos_ += 2;
      char plain = 0;
      switch (escape) {
        case '"':
          plain = '"';
          break;
        case '\\':
          plain = '\\';
          break;
        case '/':
          plain = '/';
          break;
        case 'b':
          plain = '\b';
          break;
        case 'f':
          plain = '\f';
          break;
        case 'n':
          plain = '\n';
          break;
        case 'r':
          plain = '\r';
          break;
        case 't':
          plain = '\t';
          break;
        case 'u': {
          if (pos_ + 4 > size_) return false;
          unsigned unit = 0;
          for (int i = 0; i < 4; ++i) {
            const int h = HexValue(static_cast<char>(data_[pos_ + i]));
            if (h < 0) return false;
            unit = unit * 16 + static_cast<unsigned>(h);
          }
          pos_ += 4;
          if (unit >= 0xD800 && unit <= 0xDFFF) return false;  // pairs and lone halves
          if (out) AppendUtf8(out, unit);
          continue;
        }
        default:
          return false;
      }
      if (out) out->push_back(plain);
    }
  }

  // A number, true, false or null (a value that is not a string or container).
  bool Scalar(bool* is_null) {
    *is_null = false;
    if (Word("null")) {
      *is_null = true;
      return true;
    }
    if (Word("true") || Word("false")) return true;
    return Number();
  }

 private:
  bool Word(std::string_view word) {
    if (size_ - pos_ < word.size()) return false;
    if (std::string_view(reinterpret_cast<const char*>(data_) + pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }
  bool Digits() {
    const size_t begin = pos_;
    while (pos_ < size_ && data_[pos_] >= '0' && data_[pos_] <= '9') ++pos_;
    return pos_ > begin;
  }
  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number() {
    Take('-');
    if (Take('0')) {
      // No leading zeros.
    } else if (pos_ < size_ && data_[pos_] >= '1' && data_[pos_] <= '9') {
      Digits();
    } else {
      return false;
    }
    if (Take('.') && !Digits()) return false;
    if (Take('e') || Take('E')) {
      if (!Take('+')) Take('-');
      if (!Digits()) return false;
    }
    return true;
  }

  const unsigned char* data_;
  size_t size_;
  size_t pos_ = 0;
};

}  // namespace

bool ReadFlatJsonObject(std::string_view line, std::span<FlatJsonField> fields) {
  for (FlatJsonField& field : fields) {
    field.present = false;
    field.is_null = false;
    field.value.clear();
  }
  Reader reader(line);
  reader.SkipSpace();
  if (!reader.Take('{')) return false;
  reader.SkipSpace();
  if (!reader.Take('}')) {
    for (;;) {
      std::string_view key;
      if (!reader.Take('"') || !reader.Key(&key)) return false;
      reader.SkipSpace();
      if (!reader.Take(':')) return false;
      reader.SkipSpace();
      FlatJsonField* wanted = nullptr;
      for (FlatJsonField& field : fields) {
        if (field.key == key) wanted = &field;
      }
      if (wanted) {
        if (wanted->present) return false;  // which of the two counts is the full parser's call
        wanted->present = true;
        if (reader.Take('"')) {
          // One allocation, never a regrowth: the value is no longer than the rest.
          wanted->value.reserve(reader.remaining());
          if (!reader.String(&wanted->value)) return false;
        } else {
          bool is_null = false;
          if (!reader.Scalar(&is_null) || !is_null) return false;
          wanted->is_null = true;
        }
      } else if (reader.Take('"')) {
        if (!reader.String(nullptr)) return false;
      } else {
        bool is_null = false;
        if (!reader.Scalar(&is_null)) return false;
      }
      reader.SkipSpace();
      if (reader.Take('}')) break;
      if (!reader.Take(',')) return false;
      reader.SkipSpace();
    }
  }
  reader.SkipSpace();
  return reader.AtEnd();
}

}  // namespace mg::data
