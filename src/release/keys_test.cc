#include "release/keys.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/file.h"
#include "release/signature.h"

namespace mg::release {
namespace {

// The base64 value of "key" in a key file.
std::string SecretValue(const std::string& text) {
  const size_t start = text.find("\"key\":\"") + 7;
  return text.substr(start, text.find('"', start) - start);
}

TEST(KeysTest, GeneratedSignKeyRoundTrips) {
  KeyPairFiles files = GenerateKeyPair(KeyKind::kSign);
  ASSERT_EQ(files.key_id.size(), 16u);
  Result<SigningKey> secret = SigningKey::Parse(files.secret_text);
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  Result<VerifyKey> pub = VerifyKey::Parse(files.public_text);
  ASSERT_TRUE(pub.ok()) << pub.status().ToString();
  EXPECT_EQ(secret->key_id(), files.key_id);
  EXPECT_EQ(pub->key_id(), files.key_id);
  const std::string signature = secret->Sign("hello");
  EXPECT_TRUE(pub->Verify("hello", signature));
  EXPECT_FALSE(pub->Verify("hellO", signature));
  // The public file never carries the secret.
  EXPECT_EQ(files.public_text.find(SecretValue(files.secret_text)), std::string::npos);
}

TEST(KeysTest, KindsAreNotInterchangeable) {
  KeyPairFiles sign = GenerateKeyPair(KeyKind::kSign);
  KeyPairFiles deploy = GenerateKeyPair(KeyKind::kDeploy);
  EXPECT_FALSE(VerifyKey::Parse(sign.secret_text).ok());
  EXPECT_FALSE(SigningKey::Parse(sign.public_text).ok());
  EXPECT_FALSE(SigningKey::Parse(deploy.secret_text).ok());
  EXPECT_FALSE(VerifyKey::Parse(deploy.public_text).ok());
}

TEST(KeysTest, CorruptKeyFilesAreRejectedWithoutQuotingThem) {
  KeyPairFiles files = GenerateKeyPair(KeyKind::kSign);
  const std::string& text = files.secret_text;
  for (size_t pos = 0; pos + 1 < text.size(); ++pos) {  // the last byte is the newline
    std::string bad = text;
    bad[pos] ^= 0x01;
    Result<SigningKey> key = SigningKey::Parse(bad);
    EXPECT_FALSE(key.ok()) << "byte " << pos;
    if (!key.ok()) {
      EXPECT_EQ(key.status().message().find(SecretValue(text).substr(0, 8)), std::string::npos);
    }
  }
  EXPECT_FALSE(SigningKey::Parse(text.substr(0, text.size() / 2)).ok());
  EXPECT_FALSE(SigningKey::Parse("").ok());
}

TEST(KeysTest, WriteNewKeyPairUsesMode0600AndNeverOverwrites) {
  const std::string dir = ::testing::TempDir() + "/mg_keys_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string name = dir + "/vendor";
  Result<std::string> id = WriteNewKeyPair(name, KeyKind::kSign);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat((name + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(WriteNewKeyPair(name, KeyKind::kSign).ok());
  Result<SigningKey> key = SigningKey::Load(name + ".key");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->key_id(), *id);
  std::filesystem::remove_all(dir);
}

// Like ssh, a secret key that group or others may read is refused, naming
// its mode; the public half may be world-readable.
TEST(KeysTest, SecretKeyReadableByOthersIsRefused) {
  const std::string dir = ::testing::TempDir() + "/mg_keys_mode_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (KeyKind kind : {KeyKind::kSign, KeyKind::kDeploy}) {
    const std::string name = dir + (kind == KeyKind::kSign ? "/vendor" : "/deploy");
    ASSERT_TRUE(WriteNewKeyPair(name, kind).ok());
    const std::string secret = name + ".key";
    ASSERT_EQ(::chmod(secret.c_str(), 0644), 0);
    ASSERT_EQ(::chmod((name + ".pub").c_str(), 0644), 0);
    Status loaded = kind == KeyKind::kSign ? SigningKey::Load(secret).status()
                                           : DeploySecretKey::Load(secret).status();
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.message().find("permissions 0644 for '" + secret + "' are too open"),
              std::string::npos)
        << loaded.ToString();
    ASSERT_EQ(::chmod(secret.c_str(), 0640), 0);
    EXPECT_FALSE(kind == KeyKind::kSign ? SigningKey::Load(secret).ok()
                                        : DeploySecretKey::Load(secret).ok());
    ASSERT_EQ(::chmod(secret.c_str(), 0400), 0);
    EXPECT_TRUE(kind == KeyKind::kSign ? SigningKey::Load(secret).ok()
                                       : DeploySecretKey::Load(secret).ok());
    EXPECT_TRUE(kind == KeyKind::kSign ? VerifyKey::Load(name + ".pub").ok()
                                       : DeployPublicKey::Load(name + ".pub").ok());
  }
  std::filesystem::remove_all(dir);
}

TEST(KeysTest, PassphraseProtectedSecretKey) {
  KeyPairFiles files = GenerateKeyPair(KeyKind::kSign, "correct horse");
  EXPECT_EQ(files.secret_text.find("\"key\""), std::string::npos);
  EXPECT_NE(files.secret_text.find("\"kdf\":\"argon2id13\""), std::string::npos);
  Result<SigningKey> key = SigningKey::Parse(files.secret_text, "correct horse");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->key_id(), files.key_id);
  const VerifyKey pub = *VerifyKey::Parse(files.public_text);
  EXPECT_TRUE(pub.Verify("m", key->Sign("m")));

  Result<SigningKey> wrong = SigningKey::Parse(files.secret_text, "wrong horse");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("wrong passphrase"), std::string::npos);
  Result<SigningKey> none = SigningKey::Parse(files.secret_text);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("passphrase"), std::string::npos);
  // The key id is bound to the ciphertext: a swapped id does not decrypt.
  std::string swapped = files.secret_text;
  swapped.replace(swapped.find(files.key_id), 16, "0000000000000000");
  EXPECT_FALSE(SigningKey::Parse(swapped, "correct horse").ok());
}

TEST(SignatureTest, DetachedAndEmbeddedRoundTrip) {
  KeyPairFiles files = GenerateKeyPair(KeyKind::kSign);
  SigningKey key = *SigningKey::Parse(files.secret_text);
  const std::string embedded = MakeSignatureFile(key, "licence", "payload bytes", true);
  Result<std::string> payload = OpenSignatureFile(embedded, key.public_key(), "licence", {});
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  EXPECT_EQ(*payload, "payload bytes");
  // A signature for one document type never verifies as another.
  EXPECT_FALSE(OpenSignatureFile(embedded, key.public_key(), "manifest", {}).ok());

  const std::string detached = MakeSignatureFile(key, "manifest", "abc", false);
  EXPECT_TRUE(OpenSignatureFile(detached, key.public_key(), "manifest", "abc").ok());
  EXPECT_FALSE(OpenSignatureFile(detached, key.public_key(), "manifest", "abd").ok());
  EXPECT_FALSE(OpenSignatureFile(detached, key.public_key(), "manifest", {}).ok());

  SigningKey other = *SigningKey::Parse(GenerateKeyPair(KeyKind::kSign).secret_text);
  Result<std::string> wrong = OpenSignatureFile(detached, other.public_key(), "manifest", "abc");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("another key"), std::string::npos);
}

}  // namespace
}  // namespace mg::release
