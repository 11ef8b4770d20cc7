// The text formats of releases: manifest.json, bundle metadata, signature
// files and licences. The input also goes through a licence signed by a
// fixed key, so mutations reach the licence fields behind the signature.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_input.h"
#include "release/bundle.h"
#include "release/keys.h"
#include "release/licence.h"
#include "release/manifest.h"
#include "release/signature.h"

namespace {

const mg::release::SigningKey& Vendor() {
  static const auto* key = new mg::release::SigningKey(
      mg::release::SigningKey::Parse(
          mg::release::GenerateKeyPair(mg::release::KeyKind::kSign).secret_text)
          .value());
  return *key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = mg::fuzz::AsText(data, size);
  const mg::release::SigningKey& vendor = Vendor();
  (void)mg::release::ParseManifest(text);
  (void)mg::release::ParseBundleMetadata(text);
  (void)mg::release::ReadLicenceUnchecked(text);
  std::string key_id;
  (void)mg::release::UncheckedPayload(text, &key_id);
  (void)mg::release::VerifyLicenceSignature(text, vendor.public_key());
  (void)mg::release::OpenSignatureFile(text, vendor.public_key(), "manifest", std::string_view());

  const std::string signed_licence =
      mg::release::MakeSignatureFile(vendor, mg::release::kLicenceType, text, /*embed=*/true);
  auto licence = mg::release::VerifyLicenceSignature(signed_licence, vendor.public_key());
  if (licence.ok()) {
    (void)mg::release::LicenceToDisplayJson(*licence);
    (void)mg::release::CheckLicenceTerms(*licence, {"model", {}, "embed"});
  }
  return 0;
}
