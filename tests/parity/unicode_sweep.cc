// Character-class sweep of modelgate's BERT normalizer and pre-tokenizer over
// every Unicode scalar value, in the format of tests/oracle/unicode_sweep.js
// (see there), so the two can be compared line by line.
#include <cstdio>
#include <string>
#include <vector>

#include "text/bert_normalizer.h"
#include "text/bert_pre_tokenizer.h"
#include "text/unicode.h"

namespace {

std::string Hex(std::string_view s) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace

int main() {
  using namespace mg::text;
  const BertNormalizer clean({true, false, false, false});
  const BertNormalizer uncased({true, true, true, true});
  NormalizedText norm;
  std::vector<WordSpan> words;
  std::string line;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    uint8_t bytes[4];
    const std::string c(reinterpret_cast<const char*>(bytes), EncodeUtf8(cp, bytes));
    std::string probe = "x";
    probe += c;
    probe += 'y';
    char head[16];
    std::snprintf(head, sizeof(head), "%x\t", static_cast<unsigned>(cp));
    line = head;
    norm.Clear();
    clean.Normalize(probe, 0, probe.size(), &norm);
    line += Hex(norm.text);
    line += '\t';
    words.clear();
    BertPreTokenize(probe, 0, probe.size(), &words);
    for (size_t i = 0; i < words.size(); ++i) {
      if (i) line += "|";
      line += Hex(std::string_view(probe).substr(words[i].begin, words[i].end - words[i].begin));
    }
    norm.Clear();
    uncased.Normalize(c, 0, c.size(), &norm);
    line += '\t';
    line += Hex(norm.text);
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  return 0;
}
