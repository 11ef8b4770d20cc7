// Bundles against crafted input that aims at memory (many files, forged
// signatures), and the protection of decrypted bytes in memory (excluded
// from core dumps: "dd" in /proc/self/smaps).
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>

#include "base/file.h"
#include "model/bert_encoder.h"
#include "release/bundle.h"
#include "release/closed_release.h"
#include "release/encoding.h"
#include "release/served_model.h"

namespace mg::release {
namespace {

namespace fs = std::filesystem;

constexpr char kFixture[] = "tests/data/fixtures/tiny-bert-model-safetensors";

// The VmFlags of the mapping that holds `address`, from /proc/self/smaps.
std::string VmFlagsOf(const void* address) {
  const auto target = reinterpret_cast<uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long long begin = 0, end = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx ", &begin, &end) == 2 &&
        line.find(':') > line.find(' ')) {
      inside = begin <= target && target < end;
    } else if (inside && line.starts_with("VmFlags:")) {
      return line;
    }
  }
  return "(no mapping holds the address)";
}

bool DontDump(const void* address) { return VmFlagsOf(address).find(" dd") != std::string::npos; }

// The current address-space size of this process, in bytes.
uint64_t VmSize() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmSize:")) return std::stoull(line.substr(7)) * 1024;
  }
  return 0;
}

class BundleLimitsTest : public ::testing::Test {
 protected:
  BundleLimitsTest()
      : vendor_(*SigningKey::Parse(GenerateKeyPair(KeyKind::kSign).secret_text)),
        forger_(*SigningKey::Parse(GenerateKeyPair(KeyKind::kSign).secret_text)),
        deploy_(*DeploySecretKey::Parse(GenerateKeyPair(KeyKind::kDeploy).secret_text)) {
    root_ = ::testing::TempDir() + "/mg_bundle_limits_" + vendor_.key_id();
    fs::remove_all(root_);
    fs::create_directories(root_);
    path_ = root_ + "/b.mgb";
  }
  ~BundleLimitsTest() override { fs::remove_all(root_); }

  // A bundle of `count` one-byte files signed by `key`.
  std::string ManyFiles(size_t count, const SigningKey& key) {
    BundleInput input;
    input.metadata.model_id = "many";
    input.metadata.release_mode = "closed";
    input.metadata.created_at = "2026-11-28T00:00:00Z";
    for (size_t i = 0; i < count; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "f%05zu", i);
      input.files.emplace_back(name, std::string_view("x"));
    }
    Result<std::string> bundle = SealBundle(input, key, deploy_.public_key());
    EXPECT_TRUE(bundle.ok()) << bundle.status().ToString();
    return bundle.ok() ? *bundle : std::string();
  }

  // Opens `path_` in a child process whose address space may grow by only
  // 512 MiB, and prints the outcome on stderr for EXPECT_EXIT to match.
  void OpenUnderMemoryLimit() {  // run by EXPECT_EXIT in a child
    const rlim_t limit = VmSize() + (rlim_t{512} << 20);
    struct rlimit rl = {limit, limit};
    if (::setrlimit(RLIMIT_AS, &rl) != 0) std::_Exit(3);
    Result<BundleContents> opened = OpenBundle(path_, &vendor_.public_key(), &deploy_);
    std::fprintf(stderr, "%s\n", opened.ok() ? "opened" : opened.status().message().c_str());
    std::_Exit(opened.ok() ? 0 : 1);
  }

  SigningKey vendor_, forger_;
  DeploySecretKey deploy_;
  std::string root_, path_;
};

// A forged bundle that names the pinned vendor as its signer is refused on
// its signature before memory is reserved for its (1,000 one-byte) files:
// opening it within a 512 MiB address-space budget fails on the signature,
// not on memory (reserving 2 MiB per file needed 2 GiB).
TEST_F(BundleLimitsTest, ForgedSignatureIsRefusedBeforeAllocating) {
  std::string bundle = ManyFiles(1000, forger_);
  const std::vector<std::pair<std::string, std::string>> swaps = {
      {forger_.key_id(), vendor_.key_id()},
      {Base64Encode(forger_.public_key().bytes()), Base64Encode(vendor_.public_key().bytes())}};
  for (const auto& [from, to] : swaps) {
    const size_t at = bundle.find(from);
    ASSERT_NE(at, std::string::npos);
    bundle.replace(at, from.size(), to);
  }
  ASSERT_TRUE(WriteFileAtomic(path_, bundle).ok());
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(OpenUnderMemoryLimit(), ::testing::ExitedWithCode(1),
              "signature does not match: the bundle was altered after signing");
}

// A genuine bundle of many small files opens within the same budget: small
// files take whole pages, not huge-page-sized blocks.
TEST_F(BundleLimitsTest, ManySmallFilesOpenWithinAModestBudget) {
  ASSERT_TRUE(WriteFileAtomic(path_, ManyFiles(1000, vendor_)).ok());
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(OpenUnderMemoryLimit(), ::testing::ExitedWithCode(0), "opened");
}

// More files than any release has are refused from the metadata alone,
// with a message that says so.
TEST_F(BundleLimitsTest, TooManyFilesAreRefused) {
  std::string meta = R"({"chunk_size":1048576,"created_at":"","deploy_key_id":")" +
                     deploy_.key_id() + R"(","files":[)";
  const size_t count = 2000;
  for (size_t i = 0; i < count; ++i) {
    char entry[48];
    std::snprintf(entry, sizeof(entry), R"(%s{"path":"f%05zu","size":0})", i ? "," : "", i);
    meta += entry;
  }
  meta += R"(],"format":"modelgate-bundle","labels":[],"license":"","model_id":"m",)"
          R"("release_mode":"closed","require_licence":false,"signer_key_id":")" +
          vendor_.key_id() + R"(","signer_public_key":")" +
          Base64Encode(vendor_.public_key().bytes()) + R"(","stream_chunks":16,"version":1})";
  Result<BundleMetadata> parsed = ParseBundleMetadata(meta);
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("2000 files, more than the 1024 allowed"),
            std::string::npos)
      << parsed.status().ToString();

  // The same metadata in a bundle whose size matches its layout.
  std::string bundle(kBundleMagic, 8);
  for (uint64_t value : {uint64_t{kBundleVersion}, uint64_t{0}}) {
    for (int i = 0; i < 4; ++i) bundle.push_back(static_cast<char>(value >> (8 * i)));
  }
  for (int i = 0; i < 8; ++i) bundle.push_back(static_cast<char>(meta.size() >> (8 * i)));
  bundle += meta;
  bundle.append(kBundleSealedKeySize + count * (24 + 17) + kBundleSignatureSize, '\0');
  ASSERT_TRUE(WriteFileAtomic(path_, bundle).ok());
  Result<BundleContents> opened = OpenBundle(path_, &vendor_.public_key(), &deploy_);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("more than the 1024 allowed"), std::string::npos)
      << opened.status().ToString();
}

TEST(SecretBufferTest, IsExcludedFromCoreDumps) {
  for (size_t size : {size_t{100}, size_t{3} << 20}) {
    SecretBuffer buffer(size);
    ASSERT_TRUE(buffer.ok());
    EXPECT_TRUE(DontDump(buffer.data())) << size << ": " << VmFlagsOf(buffer.data());
    EXPECT_TRUE(DontDump(buffer.data() + size - 1)) << size << ": " << VmFlagsOf(buffer.data());
  }
}

// The weights a closed bundle is decrypted into are excluded from core
// dumps once the model is loaded.
TEST_F(BundleLimitsTest, ServedWeightsAreExcludedFromCoreDumps) {
  const std::string deploy_key = root_ + "/deploy";
  ASSERT_TRUE(WriteNewKeyPair(deploy_key, KeyKind::kDeploy).ok());
  ClosedReleaseOptions closed;
  closed.model_dir = kFixture;
  closed.out_path = path_;
  closed.model_id = "tiny";
  std::vector<std::string> notes;
  ASSERT_TRUE(
      CreateClosedRelease(closed, vendor_, *DeployPublicKey::Load(deploy_key + ".pub"), &notes)
          .ok());
  ModelSourceOptions source;
  source.model = path_;
  source.deploy_key = deploy_key + ".key";
  Result<ServedModel> served = LoadServedModel(source, std::chrono::sys_seconds());
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  const model::BertWeights& weights = served->model->encoder().weights();
  for (const std::vector<float>* tensor :
       {&weights.word_embeddings, &weights.layers.at(0).qkv_weight, &weights.classifier_weight}) {
    if (tensor->empty()) continue;
    EXPECT_TRUE(DontDump(tensor->data())) << VmFlagsOf(tensor->data());
  }
  EXPECT_TRUE(DontDump(weights.word_embeddings.data()));
}

}  // namespace
}  // namespace mg::release
