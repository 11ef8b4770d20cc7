// Tokenizer::Decode: token ids back to text, as Hugging Face's decoders
// give it (WordPiece, ByteLevel, Metaspace).
#include <algorithm>

#include "text/byte_level.h"
#include "text/tokenizer.h"

namespace mg::text {
namespace {

// Appends code point `cp` as UTF-8.
void AppendUtf8(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Reads one UTF-8 sequence of `text` at `*pos` (advancing it); U+FFFD for
// a malformed one.
char32_t ReadUtf8(std::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(*pos);
  size_t length = lead < 0x80           ? 1
                  : (lead >> 5) == 0x6  ? 2
                  : (lead >> 4) == 0xE  ? 3
                  : (lead >> 3) == 0x1E ? 4
                                        : 0;
  if (length == 0 || *pos + length > text.size()) {
    ++*pos;
    return 0xFFFD;
  }
  char32_t cp = length == 1 ? lead : lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    if ((byte(*pos + i) & 0xC0) != 0x80) {
      ++*pos;
      return 0xFFFD;
    }
    cp = (cp << 6) | (byte(*pos + i) & 0x3F);
  }
  *pos += length;
  return cp;
}

// GPT-2's byte-level alphabet backwards: the byte each of its 256 code
// points stands for (-1 for other code points).
int ByteOf(char32_t cp) {
  static const std::vector<int> table = [] {
    std::vector<int> bytes(512, -1);
    for (int b = 0; b < 256; ++b) {
      const std::string_view c = ByteLevelChar(static_cast<uint8_t>(b));
      size_t pos = 0;
      bytes[ReadUtf8(c, &pos)] = b;
    }
    return bytes;
  }();
  return cp < table.size() ? table[cp] : -1;
}

// Hugging Face's decoder clean-up: no space before punctuation and
// English contractions.
void CleanUp(std::string* text) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) {
    for (size_t at = text->find(from); at != std::string::npos; at = text->find(from, at)) {
      text->replace(at, from.size(), to);
      at += to.size();
    }
  }
}

}  // namespace

bool Tokenizer::IsSpecialId(int32_t id) const {
  if (id == pad_id_ || id == unk_id()) return true;
  for (const auto* tmpl : {&single_template_, &pair_template_}) {
    for (const TemplatePiece& piece : *tmpl) {
      if (std::find(piece.ids.begin(), piece.ids.end(), id) != piece.ids.end()) return true;
    }
  }
  for (const AddedToken& token : added_tokens_) {
    if (token.id == id) return token.special;
  }
  return false;
}

std::string Tokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::string out;
  bool first = true;
  for (int32_t id : ids) {
    if (skip_special_tokens && IsSpecialId(id)) continue;
    const std::string_view token = IdToToken(id);
    if (pre_tokenizer_ == PreTokenizer::kByteLevel) {
      // Each code point stands for one byte of the text.
      for (size_t pos = 0; pos < token.size();) {
        const size_t start = pos;
        const int byte = ByteOf(ReadUtf8(token, &pos));
        if (byte >= 0) {
          out.push_back(static_cast<char>(byte));
        } else {
          out.append(token.substr(start, pos - start));
        }
      }
    } else if (pre_tokenizer_ == PreTokenizer::kMetaspace) {
      // The replacement character is a space again; the one put before the
      // first word comes off.
      size_t pos = 0;
      if (first && prepend_ != Prepend::kNever && token.starts_with(metaspace_)) {
        pos = metaspace_.size();
      }
      while (pos < token.size()) {
        if (token.substr(pos).starts_with(metaspace_)) {
          out.push_back(' ');
          pos += metaspace_.size();
        } else {
          out.push_back(token[pos++]);
        }
      }
    } else if (const std::string_view prefix =
                   model_ ? model_->options().continuing_subword_prefix : std::string_view();
               !prefix.empty() && token.starts_with(prefix)) {
      out.append(token.substr(prefix.size()));
    } else {
      if (!out.empty()) out.push_back(' ');
      out.append(token);
    }
    first = false;
  }
  if (pre_tokenizer_ == PreTokenizer::kByteLevel) {
    // Restored bytes may not be whole UTF-8 sequences: replace what is not.
    std::string valid;
    for (size_t pos = 0; pos < out.size();) AppendUtf8(&valid, ReadUtf8(out, &pos));
    return valid;
  }
  if (pre_tokenizer_ != PreTokenizer::kMetaspace) CleanUp(&out);
  return out;
}

}  // namespace mg::text
