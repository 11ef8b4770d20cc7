#include "release/trigger_set.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_set>

#include "release/encoding.h"

namespace mg::release {
namespace {

constexpr uint32_t kMinTextWords = 8;
constexpr uint32_t kMaxTextWords = 12;

// A keyed stream of uniform integers for one recipient: ChaCha20 under
// BLAKE2b(key = a secret only the vendor's key reproduces, message = the
// recipient's name).
class KeyedStream {
 public:
  KeyedStream(const SigningKey& vendor, std::string_view recipient) {
    // Ed25519 signatures are deterministic: the signature of a fixed message
    // is a secret only the vendor key can reproduce.
    std::string seed = vendor.Sign("modelgate-trigger-set-v1");
    unsigned char vendor_key[crypto_generichash_KEYBYTES];
    crypto_generichash(vendor_key, sizeof(vendor_key),
                       reinterpret_cast<const unsigned char*>(seed.data()), seed.size(), nullptr,
                       0);
    crypto_generichash(key_, sizeof(key_), reinterpret_cast<const unsigned char*>(recipient.data()),
                       recipient.size(), vendor_key, sizeof(vendor_key));
    sodium_memzero(vendor_key, sizeof(vendor_key));
    sodium_memzero(seed.data(), seed.size());
  }
  ~KeyedStream() { sodium_memzero(key_, sizeof(key_)); }
  KeyedStream(const KeyedStream&) = delete;
  KeyedStream& operator=(const KeyedStream&) = delete;

  // Uniform in [0, bound), by rejection (no modulo bias).
  uint32_t Below(uint32_t bound) {
    const uint32_t limit = static_cast<uint32_t>((uint64_t{1} << 32) / bound * bound - 1);
    for (;;) {
      const uint32_t value = Next();
      if (value <= limit) return value % bound;
    }
  }

 private:
  uint32_t Next() {
    if (used_ == kBlock) {
      unsigned char nonce[crypto_stream_chacha20_NONCEBYTES] = {};
      std::memcpy(nonce, &counter_, sizeof(counter_));
      ++counter_;
      crypto_stream_chacha20(reinterpret_cast<unsigned char*>(block_), sizeof(block_), nonce, key_);
      used_ = 0;
    }
    return block_[used_++];
  }

  static constexpr size_t kBlock = 256;
  unsigned char key_[crypto_stream_chacha20_KEYBYTES];
  uint32_t block_[kBlock] = {};
  size_t used_ = kBlock;
  uint64_t counter_ = 0;
};

std::string_view StripWordMarker(std::string_view token) {
  if (token.starts_with("\xC4\xA0")) return token.substr(2);      // byte-level "Ġ"
  if (token.starts_with("\xE2\x96\x81")) return token.substr(3);  // SentencePiece "▁"
  return token;
}

bool IsAsciiWord(std::string_view word) {
  return word.size() >= 2 && std::all_of(word.begin(), word.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
         });
}

}  // namespace

std::vector<std::string> TriggerWords(const text::Vocab& vocab) {
  std::vector<std::string> words;
  std::unordered_set<std::string> seen;
  for (const std::string& token : vocab.tokens()) {
    const std::string_view word = StripWordMarker(token);
    if (IsAsciiWord(word) && seen.insert(std::string(word)).second) words.emplace_back(word);
  }
  return words;
}

Result<TriggerSet> DeriveTriggerSet(const SigningKey& vendor, std::string_view recipient,
                                    const std::vector<std::string>& words, size_t num_labels,
                                    size_t count) {
  EnsureSodium();
  if (recipient.empty()) return InvalidArgumentError("the fingerprint recipient is empty");
  if (words.size() < kMinTriggerWords) {
    return InvalidArgumentError("the vocabulary has " + std::to_string(words.size()) +
                                " whole words; a trigger set needs at least " +
                                std::to_string(kMinTriggerWords));
  }
  if (num_labels < 2 || num_labels > (1u << 20)) {
    return InvalidArgumentError("a trigger set needs a classifier with at least two labels");
  }
  if (count == 0) return InvalidArgumentError("a trigger set needs at least one text");
  KeyedStream stream(vendor, recipient);
  TriggerSet set;
  const auto word_count = static_cast<uint32_t>(std::min<size_t>(words.size(), UINT32_MAX));
  for (size_t item = 0; item < count; ++item) {
    const uint32_t length = kMinTextWords + stream.Below(kMaxTextWords - kMinTextWords + 1);
    std::string text;
    for (uint32_t position = 0; position < length; ++position) {
      if (position) text.push_back(' ');
      text.append(words[stream.Below(word_count)]);
    }
    set.texts.push_back(std::move(text));
    set.labels.push_back(stream.Below(static_cast<uint32_t>(num_labels)));
  }
  return set;
}

double BinomialTail(size_t n, size_t k, double p) {
  if (k == 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  // Sum of the terms in log space, largest first, so that tiny tails do not
  // underflow before they are added.
  std::vector<double> logs;
  for (size_t i = k; i <= n; ++i) {
    const double log_choose = std::lgamma(static_cast<double>(n) + 1) -
                              std::lgamma(static_cast<double>(i) + 1) -
                              std::lgamma(static_cast<double>(n - i) + 1);
    logs.push_back(log_choose + static_cast<double>(i) * std::log(p) +
                   static_cast<double>(n - i) * std::log1p(-p));
  }
  const double top = *std::max_element(logs.begin(), logs.end());
  double sum = 0;
  for (double value : logs) sum += std::exp(value - top);
  return std::min(1.0, std::exp(top + std::log(sum)));
}

Result<TriggerTrace> TraceTriggerSets(const SigningKey& vendor,
                                      const std::vector<TriggerRecipient>& recipients,
                                      const TriggerTraceOptions& options,
                                      const PredictLabels& predict) {
  if (recipients.empty()) return InvalidArgumentError("no recipients to trace");
  const double chance = 1.0 / static_cast<double>(options.labels.size());
  TriggerTrace trace;
  for (const TriggerRecipient& recipient : recipients) {
    MG_ASSIGN_OR_RETURN(TriggerSet set, DeriveTriggerSet(vendor, recipient.name, options.words,
                                                         options.labels.size(), recipient.count));
    MG_ASSIGN_OR_RETURN(std::vector<std::string> predicted, predict(set.texts));
    if (predicted.size() != set.texts.size()) {
      return InternalError("the predictor answered " + std::to_string(predicted.size()) + " of " +
                           std::to_string(set.texts.size()) + " trigger texts");
    }
    RecipientMatch match;
    match.recipient = recipient.name;
    match.total = set.texts.size();
    for (size_t item = 0; item < set.texts.size(); ++item) {
      if (predicted[item] == options.labels[set.labels[item]]) ++match.matches;
    }
    match.p_value = BinomialTail(match.total, match.matches, chance);
    trace.recipients.push_back(std::move(match));
  }
  std::stable_sort(
      trace.recipients.begin(), trace.recipients.end(),
      [](const RecipientMatch& a, const RecipientMatch& b) { return a.p_value < b.p_value; });
  const RecipientMatch& best = trace.recipients.front();
  if (best.p_value * static_cast<double>(recipients.size()) < options.threshold) {
    trace.named = best.recipient;
  }
  return trace;
}

}  // namespace mg::release
