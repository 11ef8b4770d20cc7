// Catalogue persistence: save and reopen, generations, and damaged files
// rejected with a clear error (never a crash).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "base/file.h"
#include "recommend/catalogue.h"
#include "recommend/hnsw_file.h"
#include "recommend/test_vectors.h"
#include "recommend/vector_math.h"

namespace mg::recommend {
namespace {

namespace fs = std::filesystem;
using testing::MakeItems;
using testing::RandomUnitVectors;

constexpr size_t kDim = 16;

std::string NewDir() {
  std::string pattern = fs::temp_directory_path().string() + "/catalogue_XXXXXX";
  MG_CHECK(::mkdtemp(pattern.data()) != nullptr);
  return pattern + "/index";
}

// A saved catalogue of 300 items, 100 of them deleted.
std::string SavedCatalogue(std::vector<float>* vectors) {
  const std::string dir = NewDir();
  CatalogueOptions options;
  options.dim = kDim;
  options.model_id = "tiny";
  options.m = 8;
  auto catalogue = std::move(Catalogue::Create(dir, options)).value();
  *vectors = RandomUnitVectors(300, kDim, 21);
  auto items = MakeItems(300);
  for (size_t i = 0; i < 300; ++i) items[i].tags = {testing::Name("t", i % 3), "é"};
  MG_CHECK(catalogue->Add(items, *vectors).ok());
  std::vector<std::string> gone;
  for (size_t i = 0; i < 300; i += 3) gone.push_back(testing::Name("item", i));
  catalogue->Delete(gone);
  MG_CHECK(catalogue->Save().ok());
  return dir;
}

nlohmann::json Manifest(const std::string& dir) {
  return nlohmann::json::parse(ReadFile(dir + "/catalogue.json").value());
}

std::string IndexPath(const std::string& dir) {
  return dir + "/" + Manifest(dir)["index"]["file"].get<std::string>();
}

// Rewrites the manifest's size and checksum of the index so that only the
// structural checks stand between the bytes and hnswlib.
void WriteIndexAndManifest(const std::string& dir, const std::string& bytes) {
  nlohmann::json manifest = Manifest(dir);
  MG_CHECK(WriteFileAtomic(IndexPath(dir), bytes).ok());
  manifest["index"]["bytes"] = bytes.size();
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(Checksum64(bytes)));
  manifest["index"]["checksum"] = hex;
  MG_CHECK(WriteFileAtomic(dir + "/catalogue.json", manifest.dump()).ok());
}

TEST(CatalogueStoreTest, ReopenedCatalogueAnswersTheSame) {
  std::vector<float> vectors;
  const std::string dir = SavedCatalogue(&vectors);
  auto reopened = Catalogue::Open(dir);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto& catalogue = **reopened;
  EXPECT_EQ(catalogue.size(), 200u);
  EXPECT_EQ(catalogue.dim(), kDim);
  EXPECT_EQ(catalogue.model_id(), "tiny");
  EXPECT_FALSE(catalogue.Contains("item0"));
  ASSERT_TRUE(catalogue.Contains("item1"));
  const auto items = catalogue.List();
  ASSERT_EQ(items.size(), 200u);
  EXPECT_EQ(items[0].id, "item1");
  EXPECT_EQ(items[0].tags, (std::vector<std::string>{"t1", "é"}));
  for (size_t i = 1; i < 300; i += 3) {
    const auto found = catalogue.Search(vectors.data() + i * kDim, 1, {});
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].id, testing::Name("item", i));
  }
  // Freed slots are reused after reopening, and a second save keeps one
  // generation of files.
  ASSERT_TRUE(catalogue.Add(MakeItems(150, "new"), RandomUnitVectors(150, kDim, 22)).ok());
  ASSERT_TRUE(catalogue.Save().ok());
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir))
    files += entry.path().extension() != ".json";
  EXPECT_EQ(files, 2u);
  auto again = Catalogue::Open(dir);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->size(), 350u);
  EXPECT_EQ(Manifest(dir)["slots"], 350u);
}

// What a killed save leaves (a later generation's files, hidden temporary
// files) is never read, and the next save clears it.
TEST(CatalogueStoreTest, LeftoversOfAKilledSaveAreCleared) {
  std::vector<float> vectors;
  const std::string dir = SavedCatalogue(&vectors);
  const std::vector<std::string> leftovers = {
      "index-9.hnsw", "items-9.jsonl", ".items-9.jsonl.tmp-0123456789abcdef",
      ".index-9.hnsw.tmp-0123456789abcdef", ".catalogue.json.tmp-0123456789abcdef"};
  for (const std::string& name : leftovers)
    ASSERT_TRUE(WriteFileAtomic(JoinPath(dir, name), "partial").ok());
  auto catalogue = Catalogue::Open(dir);
  ASSERT_TRUE(catalogue.ok()) << catalogue.status().ToString();
  EXPECT_EQ((*catalogue)->size(), 200u);
  EXPECT_EQ((*catalogue)->Delete({"item1"}), 1u);
  ASSERT_TRUE((*catalogue)->Save().ok());
  for (const std::string& name : leftovers) EXPECT_FALSE(FileExists(JoinPath(dir, name))) << name;
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) files += entry.is_regular_file();
  EXPECT_EQ(files, 3u);  // the manifest, one index, one items file
}

TEST(CatalogueStoreTest, MissingAndExisting) {
  EXPECT_EQ(Catalogue::Open(NewDir()).status().code(), StatusCode::kNotFound);
  std::vector<float> vectors;
  const std::string dir = SavedCatalogue(&vectors);
  CatalogueOptions options;
  options.dim = kDim;
  EXPECT_FALSE(Catalogue::Create(dir, options).ok());
  auto opened = Catalogue::OpenOrCreate(dir, options);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ((*opened)->size(), 200u);
}

TEST(CatalogueStoreTest, EveryTruncationIsRejected) {
  std::vector<float> vectors;
  const std::string dir = SavedCatalogue(&vectors);
  const std::string index = ReadFile(IndexPath(dir)).value();
  const std::string items_path = dir + "/" + Manifest(dir)["items"]["file"].get<std::string>();
  const std::string items = ReadFile(items_path).value();
  // Truncated files under an unchanged manifest: size check.
  ASSERT_TRUE(WriteFileAtomic(IndexPath(dir), index.substr(0, index.size() / 2)).ok());
  auto opened = Catalogue::Open(dir);
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(opened.status().message().find("truncated"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomic(IndexPath(dir), index).ok());
  ASSERT_TRUE(WriteFileAtomic(items_path, items.substr(0, items.size() - 10)).ok());
  EXPECT_EQ(Catalogue::Open(dir).status().code(), StatusCode::kCorruption);
  ASSERT_TRUE(WriteFileAtomic(items_path, items).ok());
  // Every prefix of the graph file, with a manifest that vouches for it.
  for (size_t size = 0; size < index.size(); size += 97) {
    EXPECT_EQ(CheckHnswFile(index.substr(0, size), {kDim, 300, 8}, nullptr).code(),
              StatusCode::kCorruption)
        << size;
  }
  WriteIndexAndManifest(dir, index.substr(0, index.size() - 4));
  EXPECT_EQ(Catalogue::Open(dir).status().code(), StatusCode::kCorruption);
}

TEST(CatalogueStoreTest, DamagedBytesAreRejectedOrHarmless) {
  std::vector<float> vectors;
  const std::string dir = SavedCatalogue(&vectors);
  const std::string index = ReadFile(IndexPath(dir)).value();
  // A flipped byte under the original checksum: detected.
  std::string flipped = index;
  flipped[flipped.size() / 3] ^= 0x40;
  ASSERT_TRUE(WriteFileAtomic(IndexPath(dir), flipped).ok());
  auto opened = Catalogue::Open(dir);
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(opened.status().message().find("checksum"), std::string::npos);
  // Damage that also fixes up the checksum: the structural checks reject
  // it, or the catalogue opens and searches without reading out of bounds
  // (run under the sanitizers in `make asan`).
  std::mt19937 random(5);
  size_t rejected = 0;
  for (int trial = 0; trial < 200; ++trial) {
    std::string damaged = index;
    const size_t at = random() % damaged.size();
    damaged[at] = static_cast<char>(random());
    WriteIndexAndManifest(dir, damaged);
    auto result = Catalogue::Open(dir);
    if (!result.ok()) {
      EXPECT_EQ(result.status().code(), StatusCode::kCorruption);
      ++rejected;
      continue;
    }
    (*result)->Search(vectors.data(), 10, {});
  }
  EXPECT_GT(rejected, 0u);
  // A neighbour id beyond the last element, specifically.
  std::string bad_link = index;
  const size_t header = 96, links0 = 16 * 4 + 4;
  const size_t element = links0 + kDim * 4 + 8;
  const uint32_t beyond = 5000;
  std::memcpy(&bad_link[header + 7 * element + 4], &beyond, 4);
  EXPECT_EQ(CheckHnswFile(bad_link, {kDim, 300, 8}, nullptr).code(), StatusCode::kCorruption);
  WriteIndexAndManifest(dir, bad_link);
  opened = Catalogue::Open(dir);
  EXPECT_EQ(opened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(opened.status().message().find("links to a missing element"), std::string::npos)
      << opened.status().message();
}

TEST(CatalogueStoreTest, BadManifests) {
  std::vector<float> vectors;
  const std::string dir = SavedCatalogue(&vectors);
  const nlohmann::json good = Manifest(dir);
  for (const char* text : {"", "{", "[]", "{\"format\":\"other\"}",
                           "{\"format\":\"modelgate-catalogue\",\"version\":99}",
                           "{\"format\":\"modelgate-catalogue\",\"version\":1,\"dim\":\"x\"}"}) {
    ASSERT_TRUE(WriteFileAtomic(dir + "/catalogue.json", text).ok());
    EXPECT_EQ(Catalogue::Open(dir).status().code(), StatusCode::kCorruption) << text;
  }
  nlohmann::json wrong = good;
  wrong["dim"] = kDim * 2;  // the graph's layout no longer matches
  ASSERT_TRUE(WriteFileAtomic(dir + "/catalogue.json", wrong.dump()).ok());
  EXPECT_EQ(Catalogue::Open(dir).status().code(), StatusCode::kCorruption);
  wrong = good;
  wrong["slots"] = 301;
  ASSERT_TRUE(WriteFileAtomic(dir + "/catalogue.json", wrong.dump()).ok());
  EXPECT_EQ(Catalogue::Open(dir).status().code(), StatusCode::kCorruption);
  wrong = good;
  wrong["index"]["file"] = "../../etc/passwd";
  ASSERT_TRUE(WriteFileAtomic(dir + "/catalogue.json", wrong.dump()).ok());
  EXPECT_EQ(Catalogue::Open(dir).status().code(), StatusCode::kCorruption);
  ASSERT_TRUE(WriteFileAtomic(dir + "/catalogue.json", good.dump()).ok());
  EXPECT_TRUE(Catalogue::Open(dir).ok());
}

// Fields of the wrong JSON type are corruption, never an exception.
TEST(CatalogueStoreTest, MistypedManifestFields) {
  const std::string dir = NewDir();
  fs::create_directories(dir);
  for (const char* text : {R"({"format": 1})", R"({"format": ["modelgate-catalogue"]})",
                           R"({"format": "modelgate-catalogue", "version": "1"})",
                           R"({"format": "modelgate-catalogue", "version": null})"}) {
    ASSERT_TRUE(WriteFileAtomic(dir + "/catalogue.json", text).ok());
    EXPECT_EQ(Catalogue::Open(dir).status().code(), StatusCode::kCorruption) << text;
  }
  ASSERT_TRUE(
      WriteFileAtomic(dir + "/catalogue.json", "{\"format\": " + std::string(100, '[')).ok());
  EXPECT_FALSE(Catalogue::Open(dir).ok());
}

}  // namespace
}  // namespace mg::recommend
