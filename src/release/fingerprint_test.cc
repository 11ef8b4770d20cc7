#include "release/fingerprint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/file.h"
#include "model/safetensors.h"
#include "model/safetensors_writer.h"

namespace mg::release {
namespace {

constexpr char kWeights[] = "tests/data/fixtures/tiny-bert-model-safetensors/model.safetensors";

SigningKey NewKey() { return *SigningKey::Parse(GenerateKeyPair(KeyKind::kSign).secret_text); }

// The same tensors written again in reverse order (another file layout).
std::string Reordered(const std::string& image) {
  auto contents =
      model::ParseSafetensors(reinterpret_cast<const uint8_t*>(image.data()), image.size(), "w");
  EXPECT_TRUE(contents.ok());
  std::vector<model::TensorToWrite> tensors;
  for (const auto& record : contents->tensors) {
    model::TensorToWrite t;
    t.name = record.name;
    t.dtype = record.dtype;
    t.shape = record.shape;
    t.raw = std::string_view(reinterpret_cast<const char*>(record.data), record.size_bytes);
    tensors.push_back(t);
  }
  std::reverse(tensors.begin(), tensors.end());
  return *model::SerializeSafetensors(tensors, {});
}

TEST(FingerprintTest, TracesTheRecipientAndNothingElse) {
  const std::string weights = *ReadFile(kWeights);
  const SigningKey vendor = NewKey();
  const SigningKey other = NewKey();
  const std::string acme = *FingerprintSafetensors(weights, vendor, "Acme Bank");
  const std::string beta = *FingerprintSafetensors(weights, vendor, "Beta Ltd");
  EXPECT_NE(acme, weights);
  EXPECT_NE(acme, beta);
  EXPECT_EQ(**TraceSafetensors(acme, vendor), "Acme Bank");
  EXPECT_EQ(**TraceSafetensors(beta, vendor), "Beta Ltd");
  EXPECT_EQ(**TraceSafetensors(Reordered(acme), vendor), "Acme Bank");
  EXPECT_FALSE(TraceSafetensors(weights, vendor)->has_value());
  EXPECT_FALSE(TraceSafetensors(acme, other)->has_value());
  EXPECT_FALSE(FingerprintSafetensors(weights, vendor, "").ok());
  EXPECT_FALSE(FingerprintSafetensors(weights, vendor, std::string(33, 'x')).ok());
}

TEST(FingerprintTest, ChangesOnlyTheLastBitOfFewWeights) {
  const std::string weights = *ReadFile(kWeights);
  const std::string marked = *FingerprintSafetensors(weights, NewKey(), "Acme Bank");
  ASSERT_EQ(marked.size(), weights.size());
  size_t changed = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (weights[i] == marked[i]) continue;
    ++changed;
    EXPECT_EQ(weights[i] ^ marked[i], 1) << "byte " << i;
  }
  EXPECT_GT(changed, 1000u);
  EXPECT_LT(changed, 72u * 8 * 15);
}

TEST(FingerprintTest, SurvivesAFewFlippedBits) {
  const std::string weights = *ReadFile(kWeights);
  const SigningKey vendor = NewKey();
  std::string marked = *FingerprintSafetensors(weights, vendor, "Acme Bank");
  // Clear the low bit of every 50th F32 value of the data section.
  const size_t data = 8 + static_cast<uint8_t>(marked[0]) + (static_cast<uint8_t>(marked[1]) << 8);
  for (size_t i = data; i + 4 <= marked.size(); i += 200)
    marked[i] = static_cast<char>(marked[i] & 0xFE);
  EXPECT_EQ(**TraceSafetensors(marked, vendor), "Acme Bank");
}

}  // namespace
}  // namespace mg::release
