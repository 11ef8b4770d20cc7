// Anonymizer: rewrites the PII an Analyzer found, with one operator:
//   redact        remove the value
//   replace       "<EMAIL_ADDRESS>", "<PHONE_NUMBER>", ...
//   mask          every character but the last `mask_keep_last` becomes
//                 `mask_char` ("************1234")
//   hash          HMAC-SHA256 under the key's hash subkey, 64 hex digits
//   pseudonymize  a stable, type-appropriate fake (pseudonym.h)
//   encrypt       "<ENC:base64url(nonce || XChaCha20-Poly1305 ciphertext+tag)>",
//                 reversible with Decrypt() and the same key
// hash, pseudonymize and encrypt need a PrivacyKey; the others ignore it.
//
// The nonce of encrypt is BLAKE2b(nonce subkey, value): deterministic, so
// equal values give equal tokens (like pseudonyms) and a file encrypts the
// same way twice; distinct values never share a nonce.
//
// Immutable after Create(); thread-safe. Subkeys are wiped on destruction.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "privacy/entity.h"
#include "privacy/key.h"

namespace mg::privacy {

enum class Operator { kRedact, kReplace, kMask, kHash, kPseudonymize, kEncrypt };

// "redact", "replace", "mask", "hash", "pseudonymize" or "encrypt".
Result<Operator> ParseOperator(std::string_view name);
std::string_view OperatorName(Operator op);
bool OperatorNeedsKey(Operator op);

struct OperatorOptions {
  Operator op = Operator::kReplace;
  char32_t mask_char = '*';
  size_t mask_keep_last = 4;
};

class Anonymizer {
 public:
  // Fails when the operator needs a key and none is given, or the mask
  // character is not a Unicode scalar value.
  static Result<std::unique_ptr<Anonymizer>> Create(const OperatorOptions& options,
                                                    const std::optional<PrivacyKey>& key);
  ~Anonymizer();
  Anonymizer(const Anonymizer&) = delete;
  Anonymizer& operator=(const Anonymizer&) = delete;

  // What one value of `type` becomes.
  std::string Transform(EntityType type, std::string_view value) const;

  // `text` with every finding replaced by Transform(); findings must be
  // ordered by begin, non-overlapping and inside `text` (as Analyze gives).
  std::string Apply(std::string_view text, const std::vector<Finding>& findings) const;

  // `text` with every <ENC:...> token replaced by its plaintext; needs the
  // key. Fails (Corruption) on a token that does not authenticate: another
  // key, or a damaged token. `*tokens` counts the tokens restored.
  Result<std::string> Decrypt(std::string_view text, size_t* tokens) const;

  const OperatorOptions& options() const { return options_; }

 private:
  Anonymizer() = default;
  std::string Mask(std::string_view value) const;
  std::string Hash(std::string_view value) const;
  std::string Encrypt(std::string_view value) const;

  OperatorOptions options_;
  bool has_key_ = false;
  KeyBytes hash_key_{};
  KeyBytes pseudonym_key_{};
  KeyBytes cipher_key_{};
  KeyBytes nonce_key_{};
};

}  // namespace mg::privacy
