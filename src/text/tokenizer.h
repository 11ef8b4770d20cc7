// Tokenizer: gives the same ids, type ids and byte offsets as Hugging Face's
// fast tokenizers for two model families:
//   - WordPiece (BERT): BertNormalizer, BertPreTokenizer or Whitespace;
//   - byte-level BPE (RoBERTa, GPT-2, ModernBERT): no normalizer or NFC, the
//     ByteLevel pre-tokenizer, RobertaProcessing or TemplateProcessing;
//   - Unigram (T5, XLM-RoBERTa, CamemBERT): SentencePiece's precompiled
//     charsmap (alone or in a Sequence with Replace and Strip), Metaspace
//     (after WhitespaceSplit or alone), TemplateProcessing or
//     RobertaProcessing.
//
// Load() reads a model folder (tokenizer.json; else vocab.txt with
// tokenizer_config.json, or vocab.json with merges.txt), a tokenizer.json
// file, a vocab.txt file or a vocab.json file (merges.txt beside it). The
// loaded Tokenizer is immutable; Encode() is thread-safe and, after the first
// call on a thread, allocates only to grow the caller's Encoding.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "text/added_tokens.h"
#include "text/bert_normalizer.h"
#include "text/bpe.h"
#include "text/encoding.h"
#include "text/precompiled.h"
#include "text/unigram.h"
#include "text/vocab.h"
#include "text/wordpiece.h"

namespace mg::text {

// Settings that override what the tokenizer files say.
struct TokenizerOverrides {
  std::optional<bool> lowercase;
  std::optional<bool> strip_accents;
  std::optional<bool> handle_chinese_chars;
};

// One element of a post-processing template: a special token or a sequence.
struct TemplatePiece {
  bool is_sequence = false;
  int sequence = 0;          // 0 = first text (A), 1 = second (B)
  std::vector<int32_t> ids;  // the special token's ids
  int32_t type_id = 0;
};

struct EncodeOptions {
  bool add_special_tokens = true;
  size_t max_length = 0;  // 0: no truncation; else longest-first truncation
  size_t pad_to = 0;      // 0: no padding; else pad on the right up to this length
};

class Tokenizer {
 public:
  static Result<Tokenizer> Load(const std::string& source,
                                const TokenizerOverrides& overrides = {});
  // The same from file contents already in memory (e.g. decrypted from a
  // bundle): tokenizer.json, else vocab.txt (empty when absent), and
  // tokenizer_config.json when not empty. `name` stands for the folder in
  // messages.
  static Result<Tokenizer> FromMemory(std::string_view tokenizer_json, std::string_view vocab_txt,
                                      std::string_view tokenizer_config, const std::string& name);

  // Tokenizes `text`, and `pair` when non-null, into `out` (cleared first).
  // Any bytes are accepted: invalid UTF-8 is dropped like U+FFFD. Fails only
  // when max_length is too small to hold the special tokens.
  Status Encode(std::string_view text, const std::string_view* pair, const EncodeOptions& options,
                Encoding* out) const;

  // The token for `id` (added tokens included); empty when unknown.
  std::string_view IdToToken(int32_t id) const { return vocab_.IdToToken(id); }
  int32_t TokenToId(std::string_view token) const { return vocab_.TokenToId(token); }
  // The token as Hugging Face spells it in an encoding of `text`: the
  // vocabulary's token, except that an added token that absorbs whitespace
  // (lstrip/rstrip) includes the whitespace it absorbed.
  std::string_view TokenText(std::string_view text, const Offset& offset, int32_t id) const;

  const Vocab& vocab() const { return vocab_; }
  const BertNormalizerOptions& normalizer_options() const { return normalizer_->options(); }
  // From tokenizer_config.json; 0 when unknown or unlimited.
  size_t model_max_length() const { return model_max_length_; }
  int32_t pad_id() const { return pad_id_; }
  // -1 when the model has no unknown token.
  int32_t unk_id() const {
    return model_ ? model_->unk_id() : bpe_ ? bpe_->unk_id() : unigram_->unk_id();
  }
  // Number of template tokens added around one text (pair = false) or two.
  size_t SpecialTokenCount(bool pair) const;

  // The text of `ids` as Hugging Face's decoder for this tokenizer gives it:
  // WordPiece's continuation pieces joined to the word before (and its
  // clean-up of spaces before punctuation), byte-level BPE's bytes restored,
  // Metaspace's replacement character turned back into spaces. Special
  // tokens (the template's, padding, unknown, and added tokens marked
  // special) are left out when `skip_special_tokens`. Ids must be in the
  // vocabulary.
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const;
  bool IsSpecialId(int32_t id) const;

 private:
  friend class TokenizerLoader;
  friend class HfTokenizerFiles;
  Tokenizer() = default;

  struct Workspace;
  // Applies steps_ to text[begin, end).
  void NormalizeSteps(std::string_view text, size_t begin, size_t end, NormalizedText* out) const;
  // Metaspace and the Unigram model over the normalized text[begin, end).
  void EncodeMetaspace(const NormalizedText& norm, size_t begin, size_t end, Workspace* ws,
                       std::vector<int32_t>* ids, std::vector<Offset>* offsets) const;
  // Applies the normalizer to text[begin, end), appending to `out`.
  void Normalize(std::string_view text, size_t begin, size_t end, NormalizedText* out) const;
  // RobertaProcessing's trim_offsets: drops the spaces at either end of each
  // token from its offsets. A vocabulary token's spaces are counted once, at
  // load; an unknown token's (`unknown`: index into ids, its text) from its
  // own text, stepping over whole characters of `text`, the original the
  // offsets point into, as Hugging Face does in character offsets.
  void TrimOffsets(std::string_view text, const std::vector<int32_t>& ids,
                   const std::vector<std::pair<uint32_t, std::string>>& unknown,
                   std::vector<Offset>* offsets) const;
  // The characters at either end of a token's text that are 'Ġ' or
  // whitespace.
  static void CountSpaces(std::string_view token, uint8_t* leading, uint8_t* trailing);
  // Tokenizes one text without template tokens, appending ids and offsets.
  void EncodeSequence(std::string_view text, Workspace* ws, std::vector<int32_t>* ids,
                      std::vector<Offset>* offsets) const;
  void EncodeNormalized(const NormalizedText& norm, size_t begin, size_t end, Workspace* ws,
                        std::vector<int32_t>* ids, std::vector<Offset>* offsets) const;
  // Encodes pieces of normalized words, without added-token handling.
  void EncodeWords(const NormalizedText& norm, size_t begin, size_t end, Workspace* ws,
                   std::vector<int32_t>* ids, std::vector<Offset>* offsets) const;

  Vocab vocab_;
  std::unique_ptr<BertNormalizer> normalizer_;  // never null once loaded
  bool has_normalizer_ = true;
  bool nfc_ = false;  // the normalizer is NFC (normalizer_ then does nothing)
  enum class PreTokenizer { kBert, kWhitespace, kByteLevel, kMetaspace, kNone };
  PreTokenizer pre_tokenizer_ = PreTokenizer::kBert;
  bool add_prefix_space_ = false;     // ByteLevel: a space before text that lacks one
  bool use_regex_ = true;             // ByteLevel: split with GPT-2's pattern
  std::unique_ptr<WordPiece> model_;  // exactly one of model_, bpe_ and unigram_ is set
  std::unique_ptr<Bpe> bpe_;
  std::unique_ptr<Unigram> unigram_;
  // The Unigram pipeline's normalizer: these steps in order (none: no
  // normalizer).
  struct NormalizerStep {
    enum Kind { kPrecompiled, kReplace, kReplaceRuns, kStrip } kind;
    std::string pattern;               // kReplace: the string; kReplaceRuns: one character
    size_t min_run = 0;                // kReplaceRuns: runs of at least this many
    std::string content;               // kReplace, kReplaceRuns: the replacement
    bool left = false, right = false;  // kStrip
  };
  std::vector<NormalizerStep> steps_;
  std::shared_ptr<const PrecompiledCharsmap> charsmap_;
  // Metaspace: split on whitespace first; the replacement for ' '; when to
  // put it before a word; split before each replacement.
  bool whitespace_split_ = false;
  std::string metaspace_ = "\xE2\x96\x81";
  enum class Prepend { kAlways, kFirst, kNever };
  Prepend prepend_ = Prepend::kAlways;
  bool metaspace_split_ = true;
  bool trim_offsets_ = false;
  bool trim_keeps_prefix_space_ = false;  // the post-processor's add_prefix_space
  // Per id: spaces ('Ġ' or whitespace) at the start and end of the token.
  std::vector<uint8_t> leading_spaces_;
  std::vector<uint8_t> trailing_spaces_;
  // Per id: 1 when an added token absorbs whitespace before it, 2 after it.
  std::vector<uint8_t> strip_sides_;
  int32_t pair_type_id_ = 1;              // of the second text when no template applies
  AddedTokenMatcher raw_added_;           // matched in the input
  AddedTokenMatcher normalized_added_;    // matched in the normalized text
  std::vector<AddedToken> added_tokens_;  // with their ids, as loaded
  std::vector<TemplatePiece> single_template_;
  std::vector<TemplatePiece> pair_template_;
  size_t model_max_length_ = 0;
  int32_t pad_id_ = 0;
  int32_t pad_type_id_ = 0;
};

}  // namespace mg::text
