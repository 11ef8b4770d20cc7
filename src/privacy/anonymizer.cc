#include "privacy/anonymizer.h"

#include <sodium.h>

#include "base/bytes.h"
#include "privacy/normalizer.h"
#include "privacy/pseudonym.h"
#include "text/unicode.h"

namespace mg::privacy {
namespace {

constexpr std::string_view kOperatorNames[] = {"redact", "replace",      "mask",
                                               "hash",   "pseudonymize", "encrypt"};
constexpr std::string_view kTokenOpen = "<ENC:";
constexpr std::string_view kAssociatedData = "modelgate-privacy-v1";
constexpr size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;

bool IsBase64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

const uint8_t* Bytes(std::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

Result<Operator> ParseOperator(std::string_view name) {
  for (size_t index = 0; index < std::size(kOperatorNames); ++index) {
    if (kOperatorNames[index] == name) return static_cast<Operator>(index);
  }
  return InvalidArgumentError("unknown operator \"" + std::string(name) +
                              "\" (redact, replace, mask, hash, pseudonymize or encrypt)");
}

std::string_view OperatorName(Operator op) { return kOperatorNames[static_cast<size_t>(op)]; }

bool OperatorNeedsKey(Operator op) {
  return op == Operator::kHash || op == Operator::kPseudonymize || op == Operator::kEncrypt;
}

Result<std::unique_ptr<Anonymizer>> Anonymizer::Create(const OperatorOptions& options,
                                                       const std::optional<PrivacyKey>& key) {
  EnsureSodium();
  if (OperatorNeedsKey(options.op) && !key) {
    return InvalidArgumentError("the " + std::string(OperatorName(options.op)) +
                                " operator needs a key (--key-file or " + kPrivacyKeyEnv + ")");
  }
  if (options.mask_char > 0x10FFFF ||
      (options.mask_char >= 0xD800 && options.mask_char <= 0xDFFF) || options.mask_char == 0) {
    return InvalidArgumentError("the mask character is not a Unicode character");
  }
  std::unique_ptr<Anonymizer> anonymizer(new Anonymizer());
  anonymizer->options_ = options;
  if (key) {
    anonymizer->has_key_ = true;
    anonymizer->hash_key_ = key->Derive(KeyPurpose::kHash);
    anonymizer->pseudonym_key_ = key->Derive(KeyPurpose::kPseudonym);
    anonymizer->cipher_key_ = key->Derive(KeyPurpose::kCipher);
    anonymizer->nonce_key_ = key->Derive(KeyPurpose::kNonce);
  }
  return anonymizer;
}

Anonymizer::~Anonymizer() {
  WipeKey(&hash_key_);
  WipeKey(&pseudonym_key_);
  WipeKey(&cipher_key_);
  WipeKey(&nonce_key_);
}

std::string Anonymizer::Mask(std::string_view value) const {
  // Character boundaries (a byte of invalid UTF-8 counts as one character).
  std::vector<size_t> starts;
  const auto* data = Bytes(value);
  for (size_t pos = 0; pos < value.size();) {
    starts.push_back(pos);
    size_t length = 1;
    text::DecodeUtf8(data + pos, value.size() - pos, &length);
    pos += length;
  }
  const size_t keep = std::min(options_.mask_keep_last, starts.size());
  const size_t masked = starts.size() - keep;
  uint8_t encoded[4];
  const size_t encoded_size = text::EncodeUtf8(options_.mask_char, encoded);
  std::string out;
  for (size_t index = 0; index < masked; ++index) {
    out.append(reinterpret_cast<const char*>(encoded), encoded_size);
  }
  if (masked < starts.size()) out.append(value.substr(starts[masked]));
  return out;
}

std::string Anonymizer::Hash(std::string_view value) const {
  uint8_t mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, hash_key_.data(), hash_key_.size());
  crypto_auth_hmacsha256_update(&state, Bytes(value), value.size());
  crypto_auth_hmacsha256_final(&state, mac);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(mac), sizeof mac));
}

std::string Anonymizer::Encrypt(std::string_view value) const {
  std::vector<uint8_t> sealed(kNonceSize + value.size() + kTagSize);
  crypto_generichash(sealed.data(), kNonceSize, Bytes(value), value.size(), nonce_key_.data(),
                     nonce_key_.size());
  unsigned long long sealed_size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      sealed.data() + kNonceSize, &sealed_size, Bytes(value), value.size(), Bytes(kAssociatedData),
      kAssociatedData.size(), nullptr, sealed.data(), cipher_key_.data());
  const std::string encoded =
      Base64Encode(std::string_view(reinterpret_cast<const char*>(sealed.data()), sealed.size()),
                   Base64Variant::kUrlSafeNoPadding);
  return std::string(kTokenOpen) + encoded + ">";
}

std::string Anonymizer::Transform(EntityType type, std::string_view value) const {
  switch (options_.op) {
    case Operator::kRedact:
      return "";
    case Operator::kReplace: {
      std::string tag = "<";
      tag.append(EntityTypeName(type));
      tag.push_back('>');
      return tag;
    }
    case Operator::kMask:
      return Mask(value);
    case Operator::kHash:  // the same value written with full-width or invisible characters
      return Hash(NormalizeValue(value));  // hashes and pseudonymises the same
    case Operator::kPseudonymize:
      return Pseudonym(type, NormalizeValue(value), pseudonym_key_);
    case Operator::kEncrypt:
      return Encrypt(value);
  }
  return "";
}

std::string Anonymizer::Apply(std::string_view text, const std::vector<Finding>& findings) const {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const Finding& finding : findings) {
    out.append(text.substr(pos, finding.begin - pos));
    out.append(Transform(finding.type, text.substr(finding.begin, finding.size())));
    pos = finding.end;
  }
  out.append(text.substr(pos));
  return out;
}

Result<std::string> Anonymizer::Decrypt(std::string_view text, size_t* tokens) const {
  if (!has_key_) return InvalidArgumentError("decryption needs the key it was encrypted with");
  *tokens = 0;
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  while (true) {
    const size_t open = text.find(kTokenOpen, pos);
    if (open == std::string_view::npos) break;
    size_t close = open + kTokenOpen.size();
    while (close < text.size() && IsBase64Url(text[close])) ++close;
    const std::string_view encoded =
        text.substr(open + kTokenOpen.size(), close - open - kTokenOpen.size());
    if (close >= text.size() || text[close] != '>') {
      out.append(text.substr(pos, close - pos));  // not a token
      pos = close;
      continue;
    }
    const Result<std::string> decoded = Base64Decode(encoded, Base64Variant::kUrlSafeNoPadding);
    if (!decoded.ok() || decoded->size() < kNonceSize + kTagSize) {
      return CorruptionError("a damaged <ENC:...> token");
    }
    const uint8_t* sealed = Bytes(*decoded);
    const size_t sealed_size = decoded->size();
    std::string plain(sealed_size - kNonceSize - kTagSize, '\0');
    unsigned long long plain_size = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<uint8_t*>(plain.data()), &plain_size, nullptr, sealed + kNonceSize,
            sealed_size - kNonceSize, Bytes(kAssociatedData), kAssociatedData.size(), sealed,
            cipher_key_.data()) != 0) {
      return CorruptionError(
          "an <ENC:...> token does not decrypt: another key, or a damaged token");
    }
    out.append(text.substr(pos, open - pos));
    out.append(plain);
    ++*tokens;
    pos = close + 1;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace mg::privacy
