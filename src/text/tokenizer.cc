#include "text/tokenizer.h"

#include <algorithm>

#include "text/bert_pre_tokenizer.h"
#include "text/byte_level.h"
#include "text/nfc_normalizer.h"
#include "text/unicode.h"

namespace mg::text {

namespace {

// Narrows [*first, *last) of `text` to exclude whitespace at either end.
void TrimSpaces(std::string_view text, size_t* first, size_t* last) {
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  while (*first < *last) {
    size_t length = 0;
    const char32_t cp = DecodeUtf8(data + *first, *last - *first, &length);
    if (cp == kInvalidCodePoint || !(CharFlags(cp) & kWhitespace)) break;
    *first += length;
  }
  while (*last > *first) {
    size_t start = *last - 1;
    while (start > *first && (data[start] & 0xC0) == 0x80) --start;
    size_t length = 0;
    const char32_t cp = DecodeUtf8(data + start, *last - start, &length);
    if (cp == kInvalidCodePoint || start + length != *last || !(CharFlags(cp) & kWhitespace)) break;
    *last = start;
  }
}

}  // namespace

// Per-thread scratch buffers, reused across calls so that steady-state
// tokenization does not allocate.
struct Tokenizer::Workspace {
  NormalizedText norm;
  NormalizedText prefixed;  // ByteLevel's add_prefix_space
  std::vector<AddedTokenMatch> raw_matches;
  std::vector<AddedTokenMatch> norm_matches;
  std::vector<WordSpan> words;
  std::vector<Piece> pieces;
  std::vector<int32_t> ids[2];
  std::vector<Offset> offsets[2];
  // Unigram: the normalizer's buffers, one word as Metaspace rewrites it,
  // and the texts of unknown tokens per sequence (index into ids[seq]).
  NormalizedText steps[2];
  NormalizedText word;
  std::vector<std::pair<uint32_t, std::string>> texts[2];
  // Per sequence, the token count at the end of each pre-tokenized word (and
  // after each added token), for the pair truncation rule.
  std::vector<uint32_t> word_ends[2];
  int seq = 0;
};

void Tokenizer::CountSpaces(std::string_view token, uint8_t* leading, uint8_t* trailing) {
  std::vector<bool> spaces;
  const auto* data = reinterpret_cast<const uint8_t*>(token.data());
  for (size_t pos = 0; pos < token.size();) {
    size_t length = 0;
    const char32_t cp = DecodeUtf8(data + pos, token.size() - pos, &length);
    spaces.push_back(cp == U'\u0120' || (cp != kInvalidCodePoint && (CharFlags(cp) & kWhitespace)));
    pos += length;
  }
  size_t lead = 0;
  while (lead < spaces.size() && spaces[lead]) ++lead;
  size_t trail = 0;
  while (trail < spaces.size() && spaces[spaces.size() - 1 - trail]) ++trail;
  *leading = static_cast<uint8_t>(std::min<size_t>(lead, 255));
  *trailing = static_cast<uint8_t>(std::min<size_t>(trail, 255));
}

void Tokenizer::TrimOffsets(std::string_view text, const std::vector<int32_t>& ids,
                            const std::vector<std::pair<uint32_t, std::string>>& unknown,
                            std::vector<Offset>* offsets) const {
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  auto next = unknown.begin();
  for (size_t i = 0; i < ids.size(); ++i) {
    Offset& offset = (*offsets)[i];
    while (next != unknown.end() && next->first < i) ++next;
    const bool own_text = next != unknown.end() && next->first == i;
    const auto id = static_cast<size_t>(ids[i]);
    if (!own_text && id >= leading_spaces_.size()) continue;
    uint8_t leading = 0, trailing = 0;
    if (own_text) {
      CountSpaces(next->second, &leading, &trailing);
    } else {
      leading = leading_spaces_[id];
      trailing = trailing_spaces_[id];
    }
    // A single space that add_prefix_space put before the text is kept.
    if (leading == 1 && (i == 0 || offset.begin == 0) && trim_keeps_prefix_space_) leading = 0;
    if (!own_text) {
      // Vocabulary tokens: each space character stands for one byte.
      if (leading > 0) offset.begin = std::min(offset.begin + leading, offset.end);
      if (trailing > 0 && offset.end >= trailing)
        offset.end = std::max(offset.end - trailing, offset.begin);
      continue;
    }
    if (offset.end > text.size() || offset.begin > offset.end) continue;
    for (; leading > 0 && offset.begin < offset.end; --leading) {
      size_t length = 0;
      DecodeUtf8(data + offset.begin, offset.end - offset.begin, &length);
      offset.begin += static_cast<uint32_t>(std::max<size_t>(length, 1));
    }
    for (; trailing > 0 && offset.end > offset.begin; --trailing) {
      --offset.end;
      while (offset.end > offset.begin && (data[offset.end] & 0xC0) == 0x80) --offset.end;
    }
  }
}

std::string_view Tokenizer::TokenText(std::string_view text, const Offset& offset,
                                      int32_t id) const {
  const auto index = static_cast<size_t>(id);
  if (index >= strip_sides_.size() || strip_sides_[index] == 0 || offset.end > text.size() ||
      offset.begin > offset.end) {
    return vocab_.IdToToken(id);
  }
  size_t first = offset.begin;
  size_t last = offset.end;
  size_t length = 0;
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  auto space_at = [&](size_t pos) {
    const char32_t cp = DecodeUtf8(data + pos, text.size() - pos, &length);
    return cp != kInvalidCodePoint && (CharFlags(cp) & kWhitespace);
  };
  if (strip_sides_[index] & 1) {
    while (first > 0) {
      size_t start = first - 1;
      while (start > 0 && (data[start] & 0xC0) == 0x80) --start;
      if (!space_at(start) || start + length != first) break;
      first = start;
    }
  }
  if (strip_sides_[index] & 2) {
    while (last < text.size() && space_at(last)) last += length;
  }
  return text.substr(first, last - first);
}

size_t Tokenizer::SpecialTokenCount(bool pair) const {
  size_t count = 0;
  for (const TemplatePiece& piece : pair ? pair_template_ : single_template_) {
    if (!piece.is_sequence) count += piece.ids.size();
  }
  return count;
}

void Tokenizer::Normalize(std::string_view text, size_t begin, size_t end,
                          NormalizedText* out) const {
  if (unigram_) {
    NormalizeSteps(text, begin, end, out);
  } else if (nfc_) {
    NfcNormalize(text, begin, end, out);
  } else {
    normalizer_->Normalize(text, begin, end, out);
  }
}

void Tokenizer::EncodeWords(const NormalizedText& norm_in, size_t begin, size_t end, Workspace* ws,
                            std::vector<int32_t>* ids, std::vector<Offset>* offsets) const {
  ws->words.clear();
  const NormalizedText* source = &norm_in;
  if (pre_tokenizer_ == PreTokenizer::kByteLevel && add_prefix_space_ && end > begin &&
      norm_in.text[begin] != ' ') {
    // The added space stands for the first character.
    NormalizedText& prefixed = ws->prefixed;
    prefixed.Clear();
    prefixed.text.push_back(' ');
    prefixed.orig_begin.push_back(norm_in.orig_begin[begin]);
    prefixed.orig_end.push_back(norm_in.orig_end[begin]);
    prefixed.text.append(norm_in.text, begin, end - begin);
    prefixed.orig_begin.insert(prefixed.orig_begin.end(), norm_in.orig_begin.begin() + begin,
                               norm_in.orig_begin.begin() + end);
    prefixed.orig_end.insert(prefixed.orig_end.end(), norm_in.orig_end.begin() + begin,
                             norm_in.orig_end.begin() + end);
    source = &prefixed;
    begin = 0;
    end = prefixed.size();
  }
  const NormalizedText& norm = *source;
  if (pre_tokenizer_ == PreTokenizer::kMetaspace) {
    EncodeMetaspace(norm, begin, end, ws, ids, offsets);
    return;
  }
  if (pre_tokenizer_ == PreTokenizer::kByteLevel && use_regex_) {
    Gpt2PreTokenize(norm.text, begin, end, &ws->words);
  } else if (pre_tokenizer_ == PreTokenizer::kByteLevel) {
    if (end > begin)
      ws->words.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(end)});
  } else if (pre_tokenizer_ == PreTokenizer::kBert) {
    BertPreTokenize(norm.text, begin, end, &ws->words);
  } else if (pre_tokenizer_ == PreTokenizer::kWhitespace) {
    WhitespacePreTokenize(norm.text, begin, end, &ws->words);
  } else if (end > begin) {
    ws->words.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(end)});
  }
  ws->pieces.clear();
  const size_t base = ids->size();
  for (const WordSpan& word : ws->words) {
    if (bpe_) {
      bpe_->Tokenize(norm.text, word.begin, word.end, &ws->pieces);
    } else {
      model_->Tokenize(norm.text, word.begin, word.end, &ws->pieces);
    }
    ws->word_ends[ws->seq].push_back(static_cast<uint32_t>(base + ws->pieces.size()));
  }
  for (const Piece& piece : ws->pieces) {
    ids->push_back(piece.id);
    offsets->push_back({norm.orig_begin[piece.begin], norm.orig_end[piece.end - 1]});
  }
}

void Tokenizer::EncodeNormalized(const NormalizedText& norm, size_t begin, size_t end,
                                 Workspace* ws, std::vector<int32_t>* ids,
                                 std::vector<Offset>* offsets) const {
  if (normalized_added_.empty()) {
    EncodeWords(norm, begin, end, ws, ids, offsets);
    return;
  }
  ws->norm_matches.clear();
  normalized_added_.FindAll(norm.text, begin, end, &ws->norm_matches);
  size_t cursor = begin;
  for (const AddedTokenMatch& match : ws->norm_matches) {
    EncodeWords(norm, cursor, match.begin, ws, ids, offsets);
    ids->push_back(match.id);
    ws->word_ends[ws->seq].push_back(static_cast<uint32_t>(ids->size()));
    size_t first = match.begin;
    size_t last = match.end;
    if (trim_offsets_) TrimSpaces(norm.text, &first, &last);
    offsets->push_back(first < last ? Offset{norm.orig_begin[first], norm.orig_end[last - 1]}
                                    : Offset{norm.orig_end[last - 1], norm.orig_end[last - 1]});
    cursor = match.end;
  }
  EncodeWords(norm, cursor, end, ws, ids, offsets);
}

void Tokenizer::EncodeSequence(std::string_view text, Workspace* ws, std::vector<int32_t>* ids,
                               std::vector<Offset>* offsets) const {
  ws->raw_matches.clear();
  raw_added_.FindAll(text, 0, text.size(), &ws->raw_matches);
  size_t cursor = 0;
  auto encode_segment = [&](size_t segment_end) {
    if (segment_end <= cursor) return;
    ws->norm.Clear();
    Normalize(text, cursor, segment_end, &ws->norm);
    EncodeNormalized(ws->norm, 0, ws->norm.size(), ws, ids, offsets);
  };
  for (const AddedTokenMatch& match : ws->raw_matches) {
    encode_segment(match.begin);
    ids->push_back(match.id);
    ws->word_ends[ws->seq].push_back(static_cast<uint32_t>(ids->size()));
    size_t first = match.begin;
    size_t last = match.end;
    if (trim_offsets_) TrimSpaces(text, &first, &last);
    offsets->push_back(first < last
                           ? Offset{static_cast<uint32_t>(first), static_cast<uint32_t>(last)}
                           : Offset{match.end, match.end});
    cursor = match.end;
  }
  encode_segment(text.size());
}

namespace {

// The tokens of a text up to the end of the first word at which they reach
// `limit`: all of them when they never do.
size_t LengthSeen(size_t length, const std::vector<uint32_t>& word_ends, size_t limit) {
  const auto it = std::lower_bound(word_ends.begin(), word_ends.end(), limit);
  return it == word_ends.end() ? length : std::min<size_t>(*it, length);
}

void Truncate(size_t length, std::vector<int32_t>* ids, std::vector<Offset>* offsets) {
  if (ids->size() > length) {
    ids->resize(length);
    offsets->resize(length);
  }
}

}  // namespace

Status Tokenizer::Encode(std::string_view text, const std::string_view* pair,
                         const EncodeOptions& options, Encoding* out) const {
  out->Clear();
  if (text.size() >= 0xFFFFFFFFu || (pair && pair->size() >= 0xFFFFFFFFu)) {
    return InvalidArgumentError("text longer than 4 GiB");
  }
  thread_local Workspace ws;
  const int sequences = pair ? 2 : 1;
  const std::string_view texts[2] = {text, pair ? *pair : std::string_view()};
  for (int seq = 0; seq < sequences; ++seq) {
    ws.ids[seq].clear();
    ws.offsets[seq].clear();
    ws.texts[seq].clear();
    ws.word_ends[seq].clear();
    ws.seq = seq;
    EncodeSequence(texts[seq], &ws, &ws.ids[seq], &ws.offsets[seq]);
  }

  const size_t added = options.add_special_tokens ? SpecialTokenCount(pair != nullptr) : 0;
  if (options.max_length > 0) {
    if (added > options.max_length) {
      return InvalidArgumentError("max length " + std::to_string(options.max_length) +
                                  " is too small for the " + std::to_string(added) +
                                  " special tokens");
    }
    const size_t budget = options.max_length - added;
    if (!pair) {
      Truncate(budget, &ws.ids[0], &ws.offsets[0]);
    } else {
      // Longest-first, as Hugging Face's tokenizers do it: shorten the longer
      // text first; when both must be cut, share the budget, the odd token
      // going to the longer one. "Longer" compares each text's tokens up to
      // the end of the first word at which they reach max_length (Hugging
      // Face stops tokenizing a text there), not the whole texts; a text
      // longer than that is cut there even when the two fit the budget.
      size_t n1 = LengthSeen(ws.ids[0].size(), ws.word_ends[0], options.max_length);
      size_t n2 = LengthSeen(ws.ids[1].size(), ws.word_ends[1], options.max_length);
      if (n1 + n2 > budget) {
        const bool swapped = n1 > n2;
        if (swapped) std::swap(n1, n2);
        n2 = n1 > budget ? n1 : std::max(n1, budget - n1);
        if (n1 + n2 > budget) {
          n1 = budget / 2;
          n2 = n1 + budget % 2;
        }
        if (swapped) std::swap(n1, n2);
      }
      Truncate(n1, &ws.ids[0], &ws.offsets[0]);
      Truncate(n2, &ws.ids[1], &ws.offsets[1]);
    }
  }

  if (trim_offsets_) {
    for (int seq = 0; seq < sequences; ++seq)
      TrimOffsets(texts[seq], ws.ids[seq], ws.texts[seq], &ws.offsets[seq]);
  }

  auto append_sequence = [&](int seq, int32_t type_id) {
    for (auto& [index, token] : ws.texts[seq]) {
      if (index < ws.ids[seq].size()) {
        out->token_texts.emplace_back(static_cast<uint32_t>(out->ids.size() + index),
                                      std::move(token));
      }
    }
    out->ids.insert(out->ids.end(), ws.ids[seq].begin(), ws.ids[seq].end());
    out->offsets.insert(out->offsets.end(), ws.offsets[seq].begin(), ws.offsets[seq].end());
    const size_t n = ws.ids[seq].size();
    out->type_ids.insert(out->type_ids.end(), n, type_id);
    out->special_tokens_mask.insert(out->special_tokens_mask.end(), n, 0);
    out->attention_mask.insert(out->attention_mask.end(), n, 1);
    out->sequence_ids.insert(out->sequence_ids.end(), n, static_cast<int8_t>(seq));
  };
  if (!options.add_special_tokens) {
    append_sequence(0, 0);
    if (pair) append_sequence(1, pair_type_id_);
  } else {
    for (const TemplatePiece& piece : pair ? pair_template_ : single_template_) {
      if (piece.is_sequence) {
        append_sequence(piece.sequence, piece.type_id);
        continue;
      }
      for (int32_t id : piece.ids) {
        out->ids.push_back(id);
        out->offsets.push_back({0, 0});
        out->type_ids.push_back(piece.type_id);
        out->special_tokens_mask.push_back(1);
        out->attention_mask.push_back(1);
        out->sequence_ids.push_back(-1);
      }
    }
  }

  if (options.pad_to > out->size()) {
    const size_t n = options.pad_to - out->size();
    out->ids.insert(out->ids.end(), n, pad_id_);
    out->offsets.insert(out->offsets.end(), n, Offset{});
    out->type_ids.insert(out->type_ids.end(), n, pad_type_id_);
    out->special_tokens_mask.insert(out->special_tokens_mask.end(), n, 1);
    out->attention_mask.insert(out->attention_mask.end(), n, 0);
    out->sequence_ids.insert(out->sequence_ids.end(), n, -1);
  }
  return Status::Ok();
}

}  // namespace mg::text

namespace mg::text {

namespace {

// Rust's char::is_whitespace (Unicode White_Space).
bool IsWhitespace(char32_t cp) {
  return cp != kInvalidCodePoint && (CharFlags(cp) & kWhitespace) != 0;
}

void AppendBytes(NormalizedText* out, std::string_view bytes, uint32_t begin, uint32_t end) {
  out->text.append(bytes);
  out->orig_begin.insert(out->orig_begin.end(), bytes.size(), begin);
  out->orig_end.insert(out->orig_end.end(), bytes.size(), end);
}

void AppendRange(NormalizedText* out, const NormalizedText& in, size_t begin, size_t end) {
  out->text.append(in.text, begin, end - begin);
  out->orig_begin.insert(out->orig_begin.end(), in.orig_begin.begin() + begin,
                         in.orig_begin.begin() + end);
  out->orig_end.insert(out->orig_end.end(), in.orig_end.begin() + begin, in.orig_end.begin() + end);
}

// Replaces each match [begin, end) that `find` reports with `content`, every
// new character taking the alignment of the match's last byte (Hugging
// Face's NormalizedString::replace).
template <typename Find>
void ReplaceMatches(const NormalizedText& in, std::string_view content, Find find,
                    NormalizedText* out) {
  out->Clear();
  size_t cursor = 0;
  size_t begin = 0;
  size_t end = 0;
  while (find(cursor, &begin, &end)) {
    AppendRange(out, in, cursor, begin);
    AppendBytes(out, content, in.orig_begin[end - 1], in.orig_end[end - 1]);
    cursor = end;
  }
  AppendRange(out, in, cursor, in.size());
}

}  // namespace

void Tokenizer::NormalizeSteps(std::string_view text, size_t begin, size_t end,
                               NormalizedText* out) const {
  thread_local NormalizedText buffers[2];
  NormalizedText* current = steps_.empty() ? out : &buffers[0];
  NormalizedText* other = &buffers[1];
  // The input as it is, invalid bytes read as U+FFFD.
  current->Clear();
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  for (size_t pos = begin; pos < end;) {
    size_t length = 0;
    const char32_t cp = DecodeUtf8(data + pos, end - pos, &length);
    if (cp == kInvalidCodePoint) {
      AppendBytes(current, "\xEF\xBF\xBD", static_cast<uint32_t>(pos),
                  static_cast<uint32_t>(pos + 1));
    } else {
      AppendBytes(current, text.substr(pos, length), static_cast<uint32_t>(pos),
                  static_cast<uint32_t>(pos + length));
    }
    pos += length;
  }
  for (size_t i = 0; i < steps_.size(); ++i) {
    const NormalizerStep& step = steps_[i];
    NormalizedText* target = i + 1 == steps_.size() ? out : other;
    const NormalizedText& in = *current;
    switch (step.kind) {
      case NormalizerStep::kPrecompiled:
        charsmap_->Normalize(in, static_cast<uint32_t>(begin), target);
        break;
      case NormalizerStep::kReplace:
        ReplaceMatches(
            in, step.content,
            [&](size_t from, size_t* b, size_t* e) {
              const size_t found = in.text.find(step.pattern, from);
              if (found == std::string::npos) return false;
              *b = found;
              *e = found + step.pattern.size();
              return true;
            },
            target);
        break;
      case NormalizerStep::kReplaceRuns:
        ReplaceMatches(
            in, step.content,
            [&](size_t from, size_t* b, size_t* e) {
              const std::string& unit = step.pattern;
              for (size_t at = in.text.find(unit, from); at != std::string::npos;) {
                size_t stop = at;
                size_t count = 0;
                while (in.text.compare(stop, unit.size(), unit) == 0) {
                  stop += unit.size();
                  ++count;
                }
                if (count >= step.min_run) {
                  *b = at;
                  *e = stop;
                  return true;
                }
                at = in.text.find(unit, stop);
              }
              return false;
            },
            target);
        break;
      case NormalizerStep::kStrip: {
        size_t first = 0;
        size_t last = in.size();
        const auto* bytes = reinterpret_cast<const uint8_t*>(in.text.data());
        if (step.left) {
          while (first < last) {
            size_t length = 0;
            if (!IsWhitespace(DecodeUtf8(bytes + first, last - first, &length))) break;
            first += length;
          }
        }
        if (step.right) {
          while (last > first) {
            size_t start = last - 1;
            while (start > first && (bytes[start] & 0xC0) == 0x80) --start;
            size_t length = 0;
            if (!IsWhitespace(DecodeUtf8(bytes + start, last - start, &length))) break;
            last = start;
          }
        }
        target->Clear();
        AppendRange(target, in, first, last);
        break;
      }
    }
    if (target != out) std::swap(current, other);
  }
}

void Tokenizer::EncodeMetaspace(const NormalizedText& norm, size_t begin, size_t end, Workspace* ws,
                                std::vector<int32_t>* ids, std::vector<Offset>* offsets) const {
  const auto* data = reinterpret_cast<const uint8_t*>(norm.text.data());
  const std::string_view replacement = metaspace_;
  auto encode_word = [&](size_t word_begin, size_t word_end) {
    if (word_end <= word_begin) return;
    NormalizedText& word = ws->word;
    word.Clear();
    const bool starts_with = norm.text[word_begin] == ' ' ||
                             norm.text.compare(word_begin, replacement.size(), replacement) == 0;
    if (!starts_with && (prepend_ == Prepend::kAlways ||
                         (prepend_ == Prepend::kFirst && norm.orig_begin[word_begin] == 0))) {
      AppendBytes(&word, replacement, norm.orig_begin[word_begin], norm.orig_end[word_begin]);
    }
    for (size_t pos = word_begin; pos < word_end; ++pos) {
      if (norm.text[pos] == ' ') {
        AppendBytes(&word, replacement, norm.orig_begin[pos], norm.orig_end[pos]);
      } else {
        word.text.push_back(norm.text[pos]);
        word.orig_begin.push_back(norm.orig_begin[pos]);
        word.orig_end.push_back(norm.orig_end[pos]);
      }
    }
    ws->pieces.clear();
    const size_t base = ids->size();
    auto mark_word_end = [&] {
      ws->word_ends[ws->seq].push_back(static_cast<uint32_t>(base + ws->pieces.size()));
    };
    if (!metaspace_split_) {
      unigram_->Tokenize(word.text, 0, static_cast<uint32_t>(word.size()), &ws->pieces);
      mark_word_end();
    } else {
      // A piece (a word of Metaspace's split) starts at each replacement character.
      size_t piece_begin = 0;
      for (size_t at = word.text.find(replacement, 1); at != std::string::npos;
           at = word.text.find(replacement, at + 1)) {
        unigram_->Tokenize(word.text, static_cast<uint32_t>(piece_begin), static_cast<uint32_t>(at),
                           &ws->pieces);
        mark_word_end();
        piece_begin = at;
      }
      unigram_->Tokenize(word.text, static_cast<uint32_t>(piece_begin),
                         static_cast<uint32_t>(word.size()), &ws->pieces);
      mark_word_end();
    }
    const int32_t unk = unigram_->unk_id();
    for (const Piece& piece : ws->pieces) {
      if (piece.id == unk) {
        ws->texts[ws->seq].emplace_back(static_cast<uint32_t>(ids->size()),
                                        word.text.substr(piece.begin, piece.end - piece.begin));
      }
      ids->push_back(piece.id);
      offsets->push_back({word.orig_begin[piece.begin], word.orig_end[piece.end - 1]});
    }
  };
  if (!whitespace_split_) {
    encode_word(begin, end);
    return;
  }
  size_t word_begin = begin;
  for (size_t pos = begin; pos < end;) {
    size_t length = 0;
    const char32_t cp = DecodeUtf8(data + pos, end - pos, &length);
    if (IsWhitespace(cp)) {
      encode_word(word_begin, pos);
      word_begin = pos + length;
    }
    pos += length;
  }
  encode_word(word_begin, end);
}

}  // namespace mg::text
