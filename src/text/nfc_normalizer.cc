#include "text/nfc_normalizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <vector>

#include "text/unicode.h"

namespace mg::text {
namespace {

constexpr char32_t kCodePoints = 0x110000;

// Characters NFC may change or join to a neighbour: those with a canonical
// decomposition, a non-zero combining class, or that are the second half of
// a canonical composition.
class NfcCandidates {
 public:
  NfcCandidates() : bits_(kCodePoints / 64 + 1, 0) {
    for (char32_t cp = 0x80; cp < kCodePoints; ++cp) {
      const utf8proc_property_t* prop = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
      if (prop->combining_class != 0) Set(cp);
      if (prop->decomp_seqindex == UINT16_MAX || prop->decomp_type != 0) continue;
      Set(cp);
      char32_t decomposed[8];
      const size_t n = Decompose(cp, decomposed);
      if (n >= 2 && !prop->comp_exclusion) Set(decomposed[n - 1]);
    }
    for (char32_t cp = 0x1161; cp <= 0x1175; ++cp) Set(cp);  // Hangul vowels
    for (char32_t cp = 0x11A8; cp <= 0x11C2; ++cp) Set(cp);  // Hangul trailing consonants
  }
  bool Has(char32_t cp) const { return cp < kCodePoints && ((bits_[cp / 64] >> (cp % 64)) & 1); }

 private:
  void Set(char32_t cp) { bits_[cp / 64] |= uint64_t{1} << (cp % 64); }
  std::vector<uint64_t> bits_;
};

const NfcCandidates& Candidates() {
  static const NfcCandidates kCandidates;
  return kCandidates;
}

uint8_t CombiningClass(char32_t cp) {
  return static_cast<uint8_t>(
      utf8proc_get_property(static_cast<utf8proc_int32_t>(cp))->combining_class);
}

// The canonical composite of `first` and `second`, or 0.
char32_t Compose(char32_t first, char32_t second) {
  utf8proc_int32_t buffer[2] = {static_cast<utf8proc_int32_t>(first),
                                static_cast<utf8proc_int32_t>(second)};
  if (utf8proc_normalize_utf32(buffer, 2, UTF8PROC_COMPOSE) != 1) return 0;
  return static_cast<char32_t>(buffer[0]);
}

struct InputChar {
  char32_t cp;
  uint32_t begin;
  uint32_t end;
};

// A character of the normalized run and Hugging Face's "change" for it: +1
// for a character a decomposition added, -n when it absorbed n characters.
struct OutputChar {
  char32_t cp;
  int change;
  uint8_t ccc;
};

void Emit(NormalizedText* out, char32_t cp, uint32_t begin, uint32_t end) {
  uint8_t bytes[4];
  const size_t n = EncodeUtf8(cp, bytes);
  out->text.append(reinterpret_cast<const char*>(bytes), n);
  out->orig_begin.insert(out->orig_begin.end(), n, begin);
  out->orig_end.insert(out->orig_end.end(), n, end);
}

// NFC of one run that starts at a character no composition reaches across.
void NormalizeRun(const std::vector<InputChar>& run, InputChar before, NormalizedText* out) {
  thread_local std::vector<OutputChar> chars;
  thread_local std::vector<OutputChar> composed;
  chars.clear();
  for (const InputChar& in : run) {
    char32_t decomposed[8];
    const size_t n = Decompose(in.cp, decomposed);
    for (size_t k = 0; k < n; ++k) {
      chars.push_back({decomposed[k], k == 0 ? 0 : 1, CombiningClass(decomposed[k])});
    }
  }
  // Canonical ordering: stable sort of each run of non-starters.
  for (size_t start = 0; start < chars.size();) {
    if (chars[start].ccc == 0) {
      ++start;
      continue;
    }
    size_t stop = start;
    while (stop < chars.size() && chars[stop].ccc != 0) ++stop;
    std::stable_sort(chars.begin() + static_cast<std::ptrdiff_t>(start),
                     chars.begin() + static_cast<std::ptrdiff_t>(stop),
                     [](const OutputChar& a, const OutputChar& b) { return a.ccc < b.ccc; });
    start = stop;
  }
  // Canonical composition.
  composed.clear();
  size_t starter = SIZE_MAX;
  uint8_t last_ccc = 0;
  for (const OutputChar& c : chars) {
    if (starter != SIZE_MAX) {
      const bool adjacent = composed.size() - 1 == starter;
      const bool blocked = !adjacent && (last_ccc == 0 || last_ccc >= c.ccc);
      if (!blocked) {
        if (char32_t joined = Compose(composed[starter].cp, c.cp)) {
          composed[starter].cp = joined;
          composed[starter].change += c.change - 1;
          continue;
        }
      }
    }
    if (c.ccc == 0) starter = composed.size();
    composed.push_back(c);
    last_ccc = c.ccc;
  }
  // Alignment: walk the input characters in step with the output.
  size_t cursor = 0;
  for (const OutputChar& c : composed) {
    if (c.change > 0 || cursor >= run.size()) {
      const InputChar& prev = cursor > 0 ? run[cursor - 1] : before;
      Emit(out, c.cp, prev.begin, prev.end);
      continue;
    }
    Emit(out, c.cp, run[cursor].begin, run[cursor].end);
    cursor += static_cast<size_t>(1 - c.change);
  }
}

}  // namespace

void NfcNormalize(std::string_view input, size_t begin, size_t end, NormalizedText* out) {
  const NfcCandidates& candidates = Candidates();
  const auto* data = reinterpret_cast<const uint8_t*>(input.data());
  thread_local std::vector<InputChar> run;
  run.clear();
  bool run_changes = false;
  InputChar before{0, 0, 0};
  auto flush = [&]() {
    if (run.empty()) return;
    if (run_changes) {
      NormalizeRun(run, before, out);
    } else {
      for (const InputChar& c : run) Emit(out, c.cp, c.begin, c.end);
    }
    before = run.back();
    run.clear();
    run_changes = false;
  };
  size_t pos = begin;
  while (pos < end) {
    const uint8_t byte = data[pos];
    if (byte < 0x80) {
      // ASCII never joins a preceding character: it starts a new run.
      flush();
      if (pos + 1 == end || data[pos + 1] < 0x80) {
        out->text.push_back(static_cast<char>(byte));
        out->orig_begin.push_back(static_cast<uint32_t>(pos));
        out->orig_end.push_back(static_cast<uint32_t>(pos + 1));
        before = {byte, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + 1)};
        ++pos;
        continue;
      }
      run.push_back({byte, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + 1)});
      ++pos;
      continue;
    }
    size_t length = 0;
    char32_t cp = DecodeUtf8(data + pos, end - pos, &length);
    if (cp == kInvalidCodePoint) cp = kReplacementChar;
    if (candidates.Has(cp)) run_changes = true;
    run.push_back({cp, static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + length)});
    pos += length;
  }
  flush();
}

}  // namespace mg::text
