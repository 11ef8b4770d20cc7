// Closed-release bundles (.mgb) as `serve --model` opens them: header,
// metadata, signature and, with a deployment key, the sealed key and the
// encrypted chunks.
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_input.h"
#include "release/bundle.h"
#include "release/keys.h"

namespace {

const mg::release::DeploySecretKey& Deploy() {
  static const auto* key = new mg::release::DeploySecretKey(
      mg::release::DeploySecretKey::Parse(
          mg::release::GenerateKeyPair(mg::release::KeyKind::kDeploy).secret_text)
          .value());
  return *key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = mg::fuzz::MemoryFile(mg::fuzz::AsText(data, size));
  (void)mg::release::IsBundlePath(path);
  (void)mg::release::OpenBundle(path, nullptr, nullptr);
  (void)mg::release::OpenBundle(path, nullptr, &Deploy());
  return 0;
}
