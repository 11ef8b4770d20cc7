// Signed documents: an Ed25519 signature over exact bytes, kept in a one-line
// JSON "signature file" either beside the bytes (detached, e.g. manifest.sig
// for manifest.json) or with the bytes inside it in base64 (embedded, e.g. a
// licence). The signed message is
//
//   "modelgate-signature-v1\n" + type + "\n" + payload
//
// so a signature made for one type of document (say a licence) never
// verifies as another (say a manifest). Bundles reuse this as is.
// Byte layout: docs/release-formats.md. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "release/keys.h"

namespace mg::release {

inline constexpr char kSignatureFormat[] = "modelgate-signature";
inline constexpr int kSignatureVersion = 1;

// The bytes an Ed25519 signature of `payload` as a document of `type` covers.
std::string SignedMessage(std::string_view type, std::string_view payload);

// The signature file of `payload`; with `embed`, the payload travels inside.
std::string MakeSignatureFile(const SigningKey& key, std::string_view type,
                              std::string_view payload, bool embed);

// Checks a signature file against the pinned key and returns the payload that
// it vouches for: the embedded one, or `detached` (which must then be given).
// Fails (never crashes) on anything malformed, another version, another
// type, another key or a bad signature, with a message saying which.
Result<std::string> OpenSignatureFile(std::string_view text, const VerifyKey& key,
                                      std::string_view type,
                                      std::optional<std::string_view> detached);

// The embedded payload, without checking any signature (for display only).
Result<std::string> UncheckedPayload(std::string_view text, std::string* key_id);

}  // namespace mg::release
