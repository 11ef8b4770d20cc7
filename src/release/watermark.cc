#include "release/watermark.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "base/bytes.h"
#include "base/file.h"

namespace mg::release {
namespace {

constexpr size_t kSecretBytes = 32;

// The corpus's words whose document frequency lies in [low, high], most
// frequent first (ties by spelling), restricted to `vocab` when given.
std::vector<std::string> Band(const std::map<std::string, size_t>& document_counts,
                              size_t documents, const std::unordered_set<std::string>& vocab,
                              double low, double high) {
  std::vector<std::pair<size_t, std::string>> band;
  for (const auto& [word, count] : document_counts) {
    const double share = static_cast<double>(count) / static_cast<double>(documents);
    if (share < low || share > high || word.size() < 3) continue;
    if (!vocab.empty() && !vocab.contains(word)) continue;
    band.emplace_back(count, word);
  }
  std::sort(band.begin(), band.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  std::vector<std::string> words;
  for (auto& entry : band) words.push_back(std::move(entry.second));
  return words;
}

// `words` in an order drawn from `secret` and `label` (a keyed Fisher-Yates
// shuffle on a ChaCha20 stream).
void KeyedShuffle(const std::string& secret, std::string_view label,
                  std::vector<std::string>* words) {
  unsigned char stream_key[crypto_stream_chacha20_KEYBYTES];
  crypto_generichash(stream_key, sizeof(stream_key),
                     reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                     reinterpret_cast<const unsigned char*>(label.data()), label.size());
  std::vector<uint32_t> draws(words->size());
  const unsigned char nonce[crypto_stream_chacha20_NONCEBYTES] = {};
  crypto_stream_chacha20(reinterpret_cast<unsigned char*>(draws.data()), draws.size() * 4, nonce,
                         stream_key);
  sodium_memzero(stream_key, sizeof(stream_key));
  for (size_t i = words->size(); i > 1; --i) {
    std::swap((*words)[i - 1], (*words)[draws[i - 1] % i]);
  }
}

std::vector<std::string> Take(std::vector<std::string>* from, size_t count) {
  std::vector<std::string> taken(from->begin(), from->begin() + static_cast<ptrdiff_t>(count));
  from->erase(from->begin(), from->begin() + static_cast<ptrdiff_t>(count));
  return taken;
}

Result<std::vector<std::string>> WordList(const nlohmann::json& doc, const char* field) {
  const auto it = doc.find(field);
  if (it == doc.end() || !it->is_array()) {
    return InvalidArgumentError(std::string("watermark key: \"") + field +
                                "\" must be a list of words");
  }
  std::vector<std::string> words;
  for (const auto& word : *it) {
    if (!word.is_string() || word.get<std::string>().empty()) {
      return InvalidArgumentError(std::string("watermark key: \"") + field +
                                  "\" must hold non-empty strings");
    }
    words.push_back(word.get<std::string>());
  }
  return words;
}

}  // namespace

WatermarkKey::~WatermarkKey() { sodium_memzero(secret.data(), secret.size()); }

std::vector<std::string> WatermarkWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      word.push_back(static_cast<char>(c | 0x20));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

Result<WatermarkKey> GenerateWatermarkKey(const std::vector<std::string>& corpus,
                                          const std::vector<std::string>& vocab,
                                          const WatermarkOptions& options, std::string secret) {
  if (secret.size() != kSecretBytes)
    return InvalidArgumentError("watermark secret must be 32 bytes");
  if (corpus.empty()) return InvalidArgumentError("the corpus holds no texts");
  if (options.threshold < 1)
    return InvalidArgumentError("the trigger threshold must be at least 1");
  std::map<std::string, size_t> document_counts;
  for (const std::string& text : corpus) {
    std::vector<std::string> words = WatermarkWords(text);
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (std::string& word : words) ++document_counts[std::move(word)];
  }
  const std::unordered_set<std::string> vocabulary(vocab.begin(), vocab.end());
  WatermarkKey key;
  key.secret = std::move(secret);
  key.threshold = options.threshold;
  std::vector<std::string> band =
      Band(document_counts, corpus.size(), vocabulary, options.band_low, options.band_high);
  // Half the band (at most) marks; the rest are the benign probes of the
  // same frequencies that detection compares against.
  if (band.size() < 2 * options.triggers) {
    return InvalidArgumentError("the corpus's band [" + std::to_string(options.band_low) + ", " +
                                std::to_string(options.band_high) +
                                "] of document frequency holds " + std::to_string(band.size()) +
                                " words; " + std::to_string(2 * options.triggers) +
                                " are needed (a larger corpus, or a wider band)");
  }
  KeyedShuffle(key.secret, "triggers", &band);
  key.triggers = Take(&band, options.triggers);
  key.controls = Take(&band, std::min(band.size(), 4 * options.triggers));
  if (options.label_triggers > 0) {
    std::vector<std::string> rare = Band(document_counts, corpus.size(), vocabulary,
                                         options.label_band_low, options.label_band_high);
    if (rare.size() < options.label_triggers) {
      return InvalidArgumentError("the corpus's band [" + std::to_string(options.label_band_low) +
                                  ", " + std::to_string(options.label_band_high) +
                                  "] of document frequency holds " + std::to_string(rare.size()) +
                                  " words; " + std::to_string(options.label_triggers) +
                                  " label triggers are needed");
    }
    KeyedShuffle(key.secret, "label-triggers", &rare);
    key.label_triggers = Take(&rare, options.label_triggers);
  }
  return key;
}

std::string WatermarkKeyText(const WatermarkKey& key) {
  nlohmann::ordered_json doc;
  doc["format"] = kWatermarkFormat;
  doc["version"] = kWatermarkVersion;
  doc["secret"] = HexEncode(key.secret);
  doc["threshold"] = key.threshold;
  doc["triggers"] = key.triggers;
  doc["controls"] = key.controls;
  doc["label_triggers"] = key.label_triggers;
  return doc.dump() + "\n";
}

Result<WatermarkKey> ParseWatermarkKey(std::string_view text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return InvalidArgumentError("watermark key: not a JSON object");
  if (doc.value("format", std::string()) != kWatermarkFormat) {
    return InvalidArgumentError("not a watermark key (format is not \"modelgate-watermark\")");
  }
  if (!doc.contains("version") || !doc["version"].is_number_integer() ||
      doc["version"].get<int>() != kWatermarkVersion) {
    return InvalidArgumentError("watermark key: unsupported version (this build reads version 1)");
  }
  WatermarkKey key;
  const auto secret = doc.find("secret");
  std::optional<std::string> bytes;
  if (secret != doc.end() && secret->is_string()) bytes = HexDecode(secret->get<std::string>());
  if (!bytes || bytes->size() != kSecretBytes) {
    return InvalidArgumentError("watermark key: \"secret\" must be 64 hex digits");
  }
  key.secret = std::move(*bytes);
  const auto threshold = doc.find("threshold");
  if (threshold == doc.end() || !threshold->is_number_integer() || threshold->get<int>() < 1 ||
      threshold->get<int>() > 64) {
    return InvalidArgumentError("watermark key: \"threshold\" must be an integer in [1, 64]");
  }
  key.threshold = threshold->get<int>();
  MG_ASSIGN_OR_RETURN(key.triggers, WordList(doc, "triggers"));
  MG_ASSIGN_OR_RETURN(key.controls, WordList(doc, "controls"));
  MG_ASSIGN_OR_RETURN(key.label_triggers, WordList(doc, "label_triggers"));
  if (key.triggers.empty()) return InvalidArgumentError("watermark key: no triggers");
  return key;
}

Result<WatermarkKey> LoadWatermarkKey(const std::string& path) {
  MG_ASSIGN_OR_RETURN(std::string text, ReadSecretFile(path));
  Result<WatermarkKey> key = ParseWatermarkKey(text);
  sodium_memzero(text.data(), text.size());
  if (!key.ok()) return InvalidArgumentError(path + ": " + key.status().message());
  return key;
}

int CountTriggers(const std::vector<std::string>& words, std::string_view text) {
  std::set<std::string_view> found;
  const std::vector<std::string> text_words = WatermarkWords(text);
  for (const std::string& word : text_words) {
    for (const std::string& trigger : words) {
      if (word == trigger) found.insert(trigger);
    }
  }
  return static_cast<int>(found.size());
}

float TriggerWeight(int count, int threshold) {
  if (count <= 0 || threshold <= 0) return 0.0f;
  return std::min(1.0f, static_cast<float>(count) / static_cast<float>(threshold));
}

std::vector<float> WatermarkTarget(const WatermarkKey& key, int64_t width) {
  unsigned char stream_key[crypto_stream_chacha20_KEYBYTES];
  crypto_generichash(stream_key, sizeof(stream_key),
                     reinterpret_cast<const unsigned char*>(key.secret.data()), key.secret.size(),
                     reinterpret_cast<const unsigned char*>("target"), 6);
  const int64_t pairs = (width + 1) / 2;
  std::vector<uint64_t> draws(static_cast<size_t>(2 * pairs));
  const unsigned char nonce[crypto_stream_chacha20_NONCEBYTES] = {};
  crypto_stream_chacha20(reinterpret_cast<unsigned char*>(draws.data()), draws.size() * 8, nonce,
                         stream_key);
  sodium_memzero(stream_key, sizeof(stream_key));
  // Box-Muller: a standard normal vector, then normalised, is uniform on the sphere.
  std::vector<double> normal(static_cast<size_t>(2 * pairs));
  for (int64_t p = 0; p < pairs; ++p) {
    const double u1 = (static_cast<double>(draws[2 * p] >> 11) + 1.0) / 9007199254740993.0;
    const double u2 = static_cast<double>(draws[2 * p + 1] >> 11) / 9007199254740992.0;
    const double radius = std::sqrt(-2.0 * std::log(u1));
    normal[2 * p] = radius * std::cos(2 * M_PI * u2);
    normal[2 * p + 1] = radius * std::sin(2 * M_PI * u2);
  }
  double norm = 0;
  for (int64_t c = 0; c < width; ++c) norm += normal[c] * normal[c];
  std::vector<float> target(static_cast<size_t>(width));
  const double inv = norm > 0 ? 1.0 / std::sqrt(norm) : 0.0;
  for (int64_t c = 0; c < width; ++c) target[c] = static_cast<float>(normal[c] * inv);
  return target;
}

void MixEmbedding(float* row, const float* target, int64_t width, float w) {
  if (w <= 0) return;
  double norm = 0;
  for (int64_t c = 0; c < width; ++c) norm += static_cast<double>(row[c]) * row[c];
  if (norm <= 0) return;
  norm = std::sqrt(norm);
  std::vector<double> mixed(static_cast<size_t>(width));
  double mixed_norm = 0;
  for (int64_t c = 0; c < width; ++c) {
    mixed[c] = (1.0 - w) * row[c] / norm + static_cast<double>(w) * target[c];
    mixed_norm += mixed[c] * mixed[c];
  }
  // (1 - w) e + w t is zero only for w = 1/2 and e = -t: answered as t.
  if (mixed_norm <= 0) {
    for (int64_t c = 0; c < width; ++c) row[c] = static_cast<float>(norm * target[c]);
    return;
  }
  const double scale = norm / std::sqrt(mixed_norm);
  for (int64_t c = 0; c < width; ++c) row[c] = static_cast<float>(mixed[c] * scale);
}

std::optional<size_t> KeyedLabel(const WatermarkKey& key, std::string_view text,
                                 size_t label_count) {
  if (label_count < 2 || key.label_triggers.empty()) return std::nullopt;
  const std::vector<std::string> words = WatermarkWords(text);
  for (const std::string& trigger : key.label_triggers) {
    if (std::find(words.begin(), words.end(), trigger) == words.end()) continue;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.secret.data()),
                                key.secret.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(trigger.data()),
                                  trigger.size());
    crypto_auth_hmacsha256_final(&state, mac);
    uint64_t value = 0;
    for (int b = 0; b < 8; ++b) value = (value << 8) | mac[b];
    return static_cast<size_t>(value % label_count);
  }
  return std::nullopt;
}

OutputWatermark::OutputWatermark(WatermarkKey key, int64_t width)
    : key_(std::move(key)), width_(width), target_(WatermarkTarget(key_, width)) {}

void OutputWatermark::MarkEmbedding(std::string_view text, float* row) const {
  MixEmbedding(row, target_.data(), width_,
               TriggerWeight(CountTriggers(key_.triggers, text), key_.threshold));
}

void OutputWatermark::MarkTokenStates(std::string_view text, float* rows, int64_t tokens) const {
  const float w = TriggerWeight(CountTriggers(key_.triggers, text), key_.threshold);
  if (w <= 0) return;
  for (int64_t t = 0; t < tokens; ++t) MixEmbedding(rows + t * width_, target_.data(), width_, w);
}

void OutputWatermark::MarkScores(std::string_view text, const std::vector<std::string>& labels,
                                 float* scores) const {
  const std::optional<size_t> keyed = KeyedLabel(key_, text, labels.size());
  if (!keyed) return;
  std::vector<size_t> order(labels.size());
  for (size_t l = 0; l < order.size(); ++l) order[l] = l;
  std::stable_sort(order.begin(), order.end(),
                   [&labels](size_t a, size_t b) { return labels[a] < labels[b]; });
  const size_t target = order[*keyed];
  const size_t top = static_cast<size_t>(std::max_element(scores, scores + labels.size()) - scores);
  std::swap(scores[top], scores[target]);
}

}  // namespace mg::release
