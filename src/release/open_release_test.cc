#include "release/open_release.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "release/signature.h"

namespace mg::release {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kFixture[] = "tests/data/fixtures/tiny-bert-model-safetensors";

// Overwrites without fsync: the bit-flip loops write thousands of times.
void Overwrite(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

class OpenReleaseTest : public ::testing::Test {
 protected:
  OpenReleaseTest()
      : vendor_(*SigningKey::Parse(GenerateKeyPair(KeyKind::kSign).secret_text)),
        other_(*SigningKey::Parse(GenerateKeyPair(KeyKind::kSign).secret_text)) {
    root_ = ::testing::TempDir() + "/mg_open_release_test_" + vendor_.key_id();
    fs::remove_all(root_);
    fs::create_directories(root_);
    out_ = root_ + "/release";
  }
  ~OpenReleaseTest() override { fs::remove_all(root_); }

  OpenReleaseOptions Options() const {
    OpenReleaseOptions options;
    options.model_dir = kFixture;
    options.out_dir = out_;
    options.spdx_license = "Apache-2.0";
    options.model_id = "tiny-bert";
    options.now = std::chrono::sys_seconds(std::chrono::sys_days(2026y / 11 / 28));
    return options;
  }

  void Release() {
    std::vector<std::string> notes;
    Result<Manifest> manifest = CreateOpenRelease(Options(), vendor_, &notes);
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  }

  std::string VerifyError() const {
    Result<Manifest> result = VerifyOpenRelease(out_, vendor_.public_key());
    return result.ok() ? std::string() : result.status().message();
  }

  SigningKey vendor_;
  SigningKey other_;
  std::string root_;
  std::string out_;
};

TEST_F(OpenReleaseTest, ReleaseVerifiesAndListsEveryFile) {
  Release();
  Result<Manifest> manifest = VerifyOpenRelease(out_, vendor_.public_key());
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  EXPECT_EQ(manifest->model_id, "tiny-bert");
  EXPECT_EQ(manifest->release_mode, "open");
  EXPECT_EQ(manifest->signer_key_id, vendor_.key_id());
  std::vector<std::string> paths;
  for (const ManifestFile& file : manifest->files) paths.push_back(file.path);
  const std::vector<std::string> expected = {"1_Pooling/config.json",
                                             "LICENSE",
                                             "README.md",
                                             "SOURCE.txt",
                                             "config.json",
                                             "model.safetensors",
                                             "special_tokens_map.json",
                                             "tokenizer.json",
                                             "tokenizer_config.json",
                                             "vocab.txt"};
  EXPECT_EQ(paths, expected);
  EXPECT_EQ(*ReadFile(out_ + "/model.safetensors"),
            *ReadFile(std::string(kFixture) + "/model.safetensors"));
  const std::string card = *ReadFile(out_ + "/README.md");
  EXPECT_EQ(card.rfind("---\nlicense: apache-2.0\npipeline_tag: feature-extraction\n", 0), 0u);
  EXPECT_NE(ReadFile(out_ + "/LICENSE")->find("https://spdx.org/licenses/Apache-2.0.html"),
            std::string::npos);
}

TEST_F(OpenReleaseTest, WrongKeyIsRejected) {
  Release();
  Result<Manifest> result = VerifyOpenRelease(out_, other_.public_key());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("another key"), std::string::npos);
}

TEST_F(OpenReleaseTest, EveryBitFlipOfTheManifestAndSignatureIsRejected) {
  Release();
  for (const char* name : {kManifestFile, kManifestSigFile}) {
    const std::string path = JoinPath(out_, name);
    const std::string original = *ReadFile(path);
    for (size_t pos = 0; pos < original.size(); ++pos) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string bad = original;
        bad[pos] = static_cast<char>(bad[pos] ^ (1 << bit));
        Overwrite(path, bad);
        EXPECT_FALSE(VerifyOpenRelease(out_, vendor_.public_key()).ok())
            << name << " byte " << pos << " bit " << bit;
      }
    }
    for (size_t size = 0; size < original.size(); size += 7) {
      Overwrite(path, original.substr(0, size));
      EXPECT_FALSE(VerifyOpenRelease(out_, vendor_.public_key()).ok()) << name << " " << size;
    }
    Overwrite(path, original);
  }
  EXPECT_EQ(VerifyError(), "");
}

TEST_F(OpenReleaseTest, ChangedTruncatedAddedAndDeletedFilesAreNamed) {
  Release();
  const std::string weights = out_ + "/model.safetensors";
  const std::string original = *ReadFile(weights);
  std::string changed = original;
  changed[changed.size() / 2] ^= 0x10;
  ASSERT_TRUE(WriteFileAtomic(weights, changed).ok());
  EXPECT_NE(VerifyError().find("model.safetensors: SHA-256"), std::string::npos) << VerifyError();
  ASSERT_TRUE(WriteFileAtomic(weights, original.substr(0, original.size() - 1)).ok());
  EXPECT_NE(VerifyError().find("model.safetensors: size"), std::string::npos) << VerifyError();
  ASSERT_TRUE(WriteFileAtomic(weights, original).ok());
  EXPECT_EQ(VerifyError(), "");

  ASSERT_TRUE(WriteFileAtomic(out_ + "/1_Pooling/extra.bin", "x").ok());
  EXPECT_NE(VerifyError().find("1_Pooling/extra.bin: not in the manifest"), std::string::npos);
  fs::remove(out_ + "/1_Pooling/extra.bin");
  EXPECT_EQ(VerifyError(), "");

  fs::remove(out_ + "/vocab.txt");
  EXPECT_NE(VerifyError().find("vocab.txt: missing"), std::string::npos) << VerifyError();
}

TEST_F(OpenReleaseTest, UnknownManifestVersionIsRejectedEvenWhenSigned) {
  Release();
  const std::string path = JoinPath(out_, kManifestFile);
  std::string manifest = *ReadFile(path);
  const size_t at = manifest.find("\"version\": 1");
  ASSERT_NE(at, std::string::npos);
  manifest.replace(at, 12, "\"version\": 2");
  ASSERT_TRUE(WriteFileAtomic(path, manifest).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(out_, kManifestSigFile),
                              MakeSignatureFile(vendor_, kManifestType, manifest, false))
                  .ok());
  EXPECT_NE(VerifyError().find("version 2 is not supported"), std::string::npos) << VerifyError();
}

TEST_F(OpenReleaseTest, RefusesNonEmptyDestinationAndLeavesNothingOnFailure) {
  fs::create_directories(out_);
  ASSERT_TRUE(WriteFileAtomic(out_ + "/keep.txt", "mine").ok());
  std::vector<std::string> notes;
  EXPECT_FALSE(CreateOpenRelease(Options(), vendor_, &notes).ok());
  EXPECT_EQ(*ReadFile(out_ + "/keep.txt"), "mine");
  fs::remove_all(out_);

  OpenReleaseOptions options = Options();
  options.model_dir = root_ + "/no-such-model";
  EXPECT_FALSE(CreateOpenRelease(options, vendor_, &notes).ok());
  options = Options();
  options.spdx_license = "not a licence";
  EXPECT_FALSE(CreateOpenRelease(options, vendor_, &notes).ok());
  EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator()), 0);

  fs::create_directories(out_);  // an empty folder is fine
  Release();
  EXPECT_EQ(VerifyError(), "");
}

}  // namespace
}  // namespace mg::release
