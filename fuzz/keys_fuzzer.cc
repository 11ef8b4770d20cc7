// Key files: the vendor's public and secret signing keys and a deployment's
// key pair. No passphrase is given, so an encrypted key fails before the
// (deliberately slow) key derivation.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_input.h"
#include "release/keys.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = mg::fuzz::AsText(data, size);
  (void)mg::release::VerifyKey::Parse(text);
  auto signing = mg::release::SigningKey::Parse(text);
  if (signing.ok() && signing->Sign("message").size() != 64) mg::fuzz::Fail("bad signature size");
  (void)mg::release::DeploySecretKey::Parse(text);
  (void)mg::release::DeployPublicKey::Load(mg::fuzz::MemoryFile(text));
  return 0;
}
