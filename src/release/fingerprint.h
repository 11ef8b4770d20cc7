// Per-recipient fingerprints in open-release weights, so that a leaked copy
// can be traced to the recipient it was released to.
//
// The recipient's name (at most 32 bytes) is encrypted and authenticated
// (XChaCha20-Poly1305, random nonce) under a key derived from the vendor's
// signing key, and the 72 resulting bytes (nonce, ciphertext, tag) are
// written, each bit 15 times, into the least significant mantissa bit of
// F32 weights at positions drawn from a keyed stream. Each changed weight
// moves by one unit in the last place (a relative change below 1.2e-7), so
// outputs stay within float tolerance of the original. Tracing reads the
// same positions, takes the majority of each bit's copies and decrypts: only
// the vendor's key finds or forges a fingerprint, and a copy without one
// (or with another vendor's) matches nothing.
//
// It survives copying and re-serialisation of the same F32 values (any
// order of tensors, any file layout), not fine-tuning, quantisation or
// deliberate noise in the low bits; see docs/threat-model.md. Pure
// functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "release/keys.h"

namespace mg::release {

inline constexpr size_t kMaxRecipientBytes = 32;

// The safetensors image with `recipient`'s fingerprint in its F32 weights.
Result<std::string> FingerprintSafetensors(std::string_view safetensors, const SigningKey& vendor,
                                           std::string_view recipient);

// The recipient whose fingerprint (made with `vendor`) the image carries, or
// nullopt when none matches.
Result<std::optional<std::string>> TraceSafetensors(std::string_view safetensors,
                                                    const SigningKey& vendor);

}  // namespace mg::release
