#include "release/fingerprint.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <unordered_set>
#include <vector>

#include "model/safetensors.h"
#include "release/encoding.h"

namespace mg::release {
namespace {

constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kPayloadBytes =
    kNonceBytes + kMaxRecipientBytes + crypto_aead_xchacha20poly1305_ietf_ABYTES;  // 72
constexpr size_t kBits = kPayloadBytes * 8;
constexpr size_t kCopies = 15;
constexpr char kAd[] = "modelgate-fingerprint-v1";

struct Keys {
  unsigned char aead[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  unsigned char positions[crypto_stream_chacha20_KEYBYTES];
  ~Keys() {
    sodium_memzero(aead, sizeof(aead));
    sodium_memzero(positions, sizeof(positions));
  }
};

// Ed25519 signatures are deterministic: a signature of a fixed message is a
// secret only the vendor key can reproduce.
void DeriveKeys(const SigningKey& vendor, Keys* keys) {
  std::string seed = vendor.Sign("modelgate-fingerprint-key-v1");
  const auto* s = reinterpret_cast<const unsigned char*>(seed.data());
  crypto_generichash(keys->aead, sizeof(keys->aead), s, seed.size(),
                     reinterpret_cast<const unsigned char*>("aead"), 4);
  crypto_generichash(keys->positions, sizeof(keys->positions), s, seed.size(),
                     reinterpret_cast<const unsigned char*>("positions"), 9);
  sodium_memzero(seed.data(), seed.size());
}

// Every F32 element of the image, in a layout-independent order: tensors by
// name, elements in order. Each entry is the byte offset in the image.
Result<std::vector<const uint8_t*>> F32Tensors(std::string_view image, std::vector<size_t>* sizes) {
  MG_ASSIGN_OR_RETURN(model::SafetensorsContents contents,
                      model::ParseSafetensors(reinterpret_cast<const uint8_t*>(image.data()),
                                              image.size(), "model.safetensors"));
  std::sort(contents.tensors.begin(), contents.tensors.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<const uint8_t*> starts;
  for (const model::TensorRecord& record : contents.tensors) {
    if (record.dtype != DType::kF32 || record.numel() == 0) continue;
    starts.push_back(record.data);
    sizes->push_back(record.numel());
  }
  return starts;
}

// kBits * kCopies distinct element indexes below `total`, from the keyed stream.
std::vector<uint64_t> Positions(const Keys& keys, uint64_t total) {
  std::vector<uint64_t> out;
  std::unordered_set<uint64_t> seen;
  unsigned char nonce[crypto_stream_chacha20_NONCEBYTES] = {};
  std::vector<uint64_t> block(4096);
  uint64_t counter = 0;
  while (out.size() < kBits * kCopies) {
    nonce[0] = static_cast<unsigned char>(counter++);
    nonce[1] = static_cast<unsigned char>(counter >> 8);
    crypto_stream_chacha20(reinterpret_cast<unsigned char*>(block.data()),
                           block.size() * sizeof(uint64_t), nonce, keys.positions);
    for (uint64_t r : block) {
      const uint64_t index = r % total;
      if (out.size() < kBits * kCopies && seen.insert(index).second) out.push_back(index);
    }
  }
  return out;
}

// Element `index` over the concatenation of the tensors.
uint8_t* Element(const std::vector<const uint8_t*>& starts, const std::vector<size_t>& sizes,
                 uint64_t index, const uint8_t* image_start, uint8_t* copy_start) {
  for (size_t t = 0; t < starts.size(); ++t) {
    if (index < sizes[t]) return copy_start + (starts[t] - image_start) + index * 4;
    index -= sizes[t];
  }
  return nullptr;
}

Status CheckCapacity(uint64_t total) {
  if (total < kBits * kCopies * 2) {
    return InvalidArgumentError("the model has too few F32 weights to hold a fingerprint (" +
                                std::to_string(total) + ")");
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> FingerprintSafetensors(std::string_view safetensors, const SigningKey& vendor,
                                           std::string_view recipient) {
  EnsureSodium();
  if (recipient.empty() || recipient.size() > kMaxRecipientBytes ||
      recipient.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("the fingerprint recipient must be 1 to 32 bytes");
  }
  std::vector<size_t> sizes;
  MG_ASSIGN_OR_RETURN(std::vector<const uint8_t*> starts, F32Tensors(safetensors, &sizes));
  uint64_t total = 0;
  for (size_t size : sizes) total += size;
  MG_RETURN_IF_ERROR(CheckCapacity(total));
  Keys keys;
  DeriveKeys(vendor, &keys);
  unsigned char payload[kPayloadBytes];
  randombytes_buf(payload, kNonceBytes);
  unsigned char plain[kMaxRecipientBytes] = {};
  std::memcpy(plain, recipient.data(), recipient.size());
  crypto_aead_xchacha20poly1305_ietf_encrypt(payload + kNonceBytes, nullptr, plain, sizeof(plain),
                                             reinterpret_cast<const unsigned char*>(kAd),
                                             sizeof(kAd) - 1, nullptr, payload, keys.aead);

  std::string out(safetensors);
  const auto* image = reinterpret_cast<const uint8_t*>(safetensors.data());
  auto* copy = reinterpret_cast<uint8_t*>(out.data());
  const std::vector<uint64_t> positions = Positions(keys, total);
  for (size_t i = 0; i < positions.size(); ++i) {
    const size_t bit = i % kBits;
    const uint8_t value = (payload[bit / 8] >> (bit % 8)) & 1;
    uint8_t* element = Element(starts, sizes, positions[i], image, copy);
    element[0] = static_cast<uint8_t>((element[0] & 0xFE) | value);  // little-endian LSB
  }
  return out;
}

Result<std::optional<std::string>> TraceSafetensors(std::string_view safetensors,
                                                    const SigningKey& vendor) {
  EnsureSodium();
  std::vector<size_t> sizes;
  MG_ASSIGN_OR_RETURN(std::vector<const uint8_t*> starts, F32Tensors(safetensors, &sizes));
  uint64_t total = 0;
  for (size_t size : sizes) total += size;
  if (!CheckCapacity(total).ok()) return std::optional<std::string>();
  Keys keys;
  DeriveKeys(vendor, &keys);
  const auto* image = reinterpret_cast<const uint8_t*>(safetensors.data());
  std::vector<int> votes(kBits, 0);
  const std::vector<uint64_t> positions = Positions(keys, total);
  for (size_t i = 0; i < positions.size(); ++i) {
    const uint8_t* element =
        Element(starts, sizes, positions[i], image, const_cast<uint8_t*>(image));
    votes[i % kBits] += (element[0] & 1) ? 1 : -1;
  }
  unsigned char payload[kPayloadBytes] = {};
  for (size_t bit = 0; bit < kBits; ++bit) {
    if (votes[bit] > 0) payload[bit / 8] |= static_cast<unsigned char>(1u << (bit % 8));
  }
  unsigned char plain[kMaxRecipientBytes];
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain, nullptr, nullptr, payload + kNonceBytes, kPayloadBytes - kNonceBytes,
          reinterpret_cast<const unsigned char*>(kAd), sizeof(kAd) - 1, payload, keys.aead) != 0) {
    return std::optional<std::string>();
  }
  const size_t length = std::find(plain, plain + sizeof(plain), 0) - plain;
  return std::optional<std::string>(std::string(reinterpret_cast<char*>(plain), length));
}

}  // namespace mg::release
