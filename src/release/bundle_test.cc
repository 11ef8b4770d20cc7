#include "release/bundle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "release/closed_release.h"
#include "release/licence.h"
#include "release/served_model.h"

namespace mg::release {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kFixture[] = "tests/data/fixtures/tiny-bert-model-safetensors";

void Overwrite(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::chrono::sys_seconds Day(std::chrono::year_month_day day) {
  return std::chrono::sys_seconds(std::chrono::sys_days(day));
}

class BundleTest : public ::testing::Test {
 protected:
  BundleTest()
      : vendor_(*SigningKey::Parse(GenerateKeyPair(KeyKind::kSign).secret_text)),
        other_(*SigningKey::Parse(GenerateKeyPair(KeyKind::kSign).secret_text)),
        deploy_(*DeploySecretKey::Parse(GenerateKeyPair(KeyKind::kDeploy).secret_text)),
        deploy2_(*DeploySecretKey::Parse(GenerateKeyPair(KeyKind::kDeploy).secret_text)) {
    root_ = ::testing::TempDir() + "/mg_bundle_test_" + vendor_.key_id();
    fs::remove_all(root_);
    fs::create_directories(root_);
    path_ = root_ + "/b.mgb";
  }
  ~BundleTest() override { fs::remove_all(root_); }

  // A bundle of the fixture's files in small chunks (many streams and tags).
  std::string Seal() {
    BundleInput input;
    input.metadata.model_id = "tiny";
    input.metadata.release_mode = "closed";
    input.metadata.created_at = "2026-11-28T00:00:00Z";
    input.metadata.chunk_size = 4096;
    input.metadata.stream_chunks = 3;
    for (const char* name : {"config.json", "model.safetensors", "vocab.txt"}) {
      files_[name] = *ReadFile(std::string(kFixture) + "/" + name);
    }
    files_["empty.txt"] = "";
    for (const auto& [name, bytes] : files_) input.files.emplace_back(name, bytes);
    Result<std::string> bundle = SealBundle(input, vendor_, deploy_.public_key());
    EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
    return *bundle;
  }

  std::string OpenError(const std::string& bytes, const DeploySecretKey* key) {
    Overwrite(path_, bytes);
    Result<BundleContents> opened = OpenBundle(path_, &vendor_.public_key(), key);
    if (opened.ok()) return {};
    return opened.status().message();
  }

  SigningKey vendor_, other_;
  DeploySecretKey deploy_, deploy2_;
  std::string root_, path_;
  std::map<std::string, std::string> files_;
};

TEST_F(BundleTest, RoundTripsEveryFileExactly) {
  const std::string bundle = Seal();
  Overwrite(path_, bundle);
  Result<BundleContents> opened = OpenBundle(path_, &vendor_.public_key(), &deploy_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_EQ(opened->files.size(), files_.size());
  for (const auto& [name, bytes] : files_) EXPECT_EQ(opened->files.at(name)->view(), bytes) << name;
  EXPECT_EQ(opened->metadata.deploy_key_id, deploy_.key_id());
  // Without the deployment key: signature and structure only.
  Result<BundleContents> checked = OpenBundle(path_, &vendor_.public_key(), nullptr);
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_TRUE(checked->files.empty());
  EXPECT_EQ(checked->digest_sha256, opened->digest_sha256);
  // The plaintext appears nowhere in the bundle.
  EXPECT_EQ(bundle.find(files_["model.safetensors"].substr(50000, 64)), std::string::npos);
}

TEST_F(BundleTest, FlippedByteInEveryRegionIsRefused) {
  const std::string bundle = Seal();
  uint64_t meta = 0;
  for (int i = 0; i < 8; ++i) meta |= uint64_t{static_cast<uint8_t>(bundle[16 + i])} << (8 * i);
  const size_t payload = kBundleHeaderSize + meta + kBundleSealedKeySize;
  const size_t signature = bundle.size() - kBundleSignatureSize;
  std::vector<std::pair<size_t, std::string>> positions;
  for (size_t i = 0; i < payload; ++i) {
    positions.emplace_back(i, i < kBundleHeaderSize          ? "header"
                              : i < kBundleHeaderSize + meta ? "metadata"
                                                             : "sealed key");
  }
  for (size_t i = signature; i < bundle.size(); ++i) positions.emplace_back(i, "signature");
  // Payload: each stream header, and in every chunk its first byte (the
  // encrypted tag), a middle byte and every byte of its MAC.
  const uint64_t stream_plain = 4096 * 3;
  size_t offset = payload;
  for (const auto& [name, bytes] : files_) {
    for (uint64_t done = 0; done == 0 || done < bytes.size(); done += stream_plain) {
      const uint64_t size = std::min<uint64_t>(stream_plain, bytes.size() - done);
      for (size_t i = 0; i < 24; ++i) positions.emplace_back(offset + i, "stream header");
      offset += 24;
      for (uint64_t c = 0; c == 0 || c < size; c += 4096) {
        const uint64_t n = std::min<uint64_t>(4096, size - c) + 17;
        positions.emplace_back(offset, "chunk tag byte");
        positions.emplace_back(offset + n / 2, "ciphertext");
        for (size_t i = n - 16; i < n; ++i) positions.emplace_back(offset + i, "MAC");
        offset += n;
      }
      if (bytes.empty()) break;
    }
  }
  ASSERT_EQ(offset, signature);
  for (const auto& [position, region] : positions) {
    std::string bad = bundle;
    bad[position] = static_cast<char>(bad[position] ^ 0x01);
    EXPECT_NE(OpenError(bad, &deploy_), "") << region << " byte " << position;
    EXPECT_NE(OpenError(bad, nullptr), "") << region << " byte " << position;
  }
}

TEST_F(BundleTest, TruncationAndTrailingBytesAreRefused) {
  const std::string bundle = Seal();
  for (size_t cut = 0; cut < bundle.size(); cut += bundle.size() < 5000 ? 1 : 997) {
    EXPECT_NE(OpenError(bundle.substr(0, cut), &deploy_), "") << cut;
  }
  for (size_t cut = bundle.size() - 80; cut < bundle.size(); ++cut) {
    EXPECT_NE(OpenError(bundle.substr(0, cut), &deploy_), "") << cut;
  }
  EXPECT_NE(OpenError(bundle + "x", &deploy_).find("unexpected bytes"), std::string::npos);
}

TEST_F(BundleTest, VersionsKeysAndSignersAreChecked) {
  const std::string bundle = Seal();
  for (char version : {'\0', '\2'}) {
    std::string bad = bundle;
    bad[8] = version;
    EXPECT_NE(OpenError(bad, &deploy_).find("format version"), std::string::npos);
  }
  EXPECT_NE(OpenError(bundle, &deploy2_).find("sealed to another deployment key"),
            std::string::npos);
  Overwrite(path_, bundle);
  Result<BundleContents> foreign = OpenBundle(path_, &other_.public_key(), &deploy_);
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("signed by another key"), std::string::npos);
  EXPECT_EQ(OpenError(bundle, &deploy_), "");
}

// Licence-required closed releases through LoadServedModel, with an injected clock.
TEST_F(BundleTest, ServedModelEnforcesTheLicence) {
  const std::string vendor_pub = root_ + "/vendor.pub";
  const std::string deploy_key = root_ + "/deploy";
  ASSERT_TRUE(WriteNewKeyPair(deploy_key, KeyKind::kDeploy).ok());
  KeyPairFiles vendor_files = GenerateKeyPair(KeyKind::kSign);
  SigningKey vendor = *SigningKey::Parse(vendor_files.secret_text);
  ASSERT_TRUE(WriteFileAtomic(vendor_pub, vendor_files.public_text).ok());

  ClosedReleaseOptions closed;
  closed.model_dir = kFixture;
  closed.out_path = path_;
  closed.model_id = "tiny";
  closed.require_licence = true;
  closed.now = Day(2026y / 11 / 28);
  std::vector<std::string> notes;
  DeployPublicKey deploy_pub = *DeployPublicKey::Load(deploy_key + ".pub");
  ASSERT_TRUE(CreateClosedRelease(closed, vendor, deploy_pub, &notes).ok());

  auto issue = [&](const std::string& model_id, const SigningKey& key) {
    Licence licence;
    licence.licensee = "ACME";
    licence.model_id = model_id;
    licence.not_before = "2027-01-01";
    licence.expires = "2027-06-30";
    licence.features = {"classify"};
    const std::string file = root_ + "/" + model_id + key.key_id() + ".lic";
    EXPECT_TRUE(WriteFileAtomic(file, *IssueLicence(licence, key, Day(2026y / 12 / 1))).ok());
    return file;
  };
  ModelSourceOptions source;
  source.model = path_;
  source.deploy_key = deploy_key + ".key";
  source.vendor_pub = vendor_pub;
  auto load = [&](std::chrono::sys_seconds now) { return LoadServedModel(source, now); };

  EXPECT_NE(load(Day(2027y / 2 / 1)).status().message().find("requires a licence"),
            std::string::npos);
  source.licence = issue("tiny", vendor);
  Result<ServedModel> served = load(Day(2027y / 2 / 1));
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(served->release_mode, "closed");
  EXPECT_EQ(served->model_id, "tiny");
  ASSERT_TRUE(served->licence.has_value());
  EXPECT_EQ(served->licence->licensee, "ACME");
  EXPECT_FALSE(load(Day(2026y / 12 / 31)).ok());  // not yet valid
  EXPECT_FALSE(load(Day(2027y / 7 / 1)).ok());    // expired
  EXPECT_TRUE(load(Day(2027y / 6 / 30) + 86399s).ok());
  source.licence = issue("other", vendor);
  EXPECT_FALSE(load(Day(2027y / 2 / 1)).ok());
  source.licence = issue("tiny", other_);
  EXPECT_FALSE(load(Day(2027y / 2 / 1)).ok());
}

}  // namespace
}  // namespace mg::release
