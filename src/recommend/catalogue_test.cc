// Catalogue in memory: add, replace, delete, filters, exclusions, and the
// HNSW search against an exact brute-force search.
#include "recommend/catalogue.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "recommend/test_vectors.h"
#include "recommend/vector_math.h"

namespace mg::recommend {
namespace {

using testing::BruteForceTopK;
using testing::MakeItems;
using testing::RandomUnitVectors;

std::string NewDir() {
  std::string pattern = std::filesystem::temp_directory_path().string() + "/catalogue_XXXXXX";
  MG_CHECK(::mkdtemp(pattern.data()) != nullptr);
  return pattern + "/index";
}

std::unique_ptr<Catalogue> NewCatalogue(size_t dim) {
  CatalogueOptions options;
  options.dim = dim;
  options.model_id = "test";
  auto catalogue = Catalogue::Create(NewDir(), options);
  MG_CHECK(catalogue.ok());
  return std::move(catalogue).value();
}

std::set<std::string> Ids(const std::vector<ScoredItem>& found) {
  std::set<std::string> ids;
  for (const ScoredItem& item : found) ids.insert(item.id);
  return ids;
}

TEST(CatalogueTest, EachItemFindsItselfFirst) {
  const size_t dim = 32;
  auto catalogue = NewCatalogue(dim);
  const auto vectors = RandomUnitVectors(300, dim, 1);
  ASSERT_TRUE(catalogue->Add(MakeItems(300), vectors).ok());
  EXPECT_EQ(catalogue->size(), 300u);
  for (size_t i = 0; i < 300; ++i) {
    const auto found = catalogue->Search(vectors.data() + i * dim, 1, {});
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].id, testing::Name("item", i));
    EXPECT_NEAR(found[0].score, 1.0f, 1e-5);
  }
}

// recall@10 of the graph search against an independent brute force over
// `vectors`, at the catalogue's current ef.
double Recall(const Catalogue& catalogue, const std::vector<float>& vectors, size_t dim,
              const std::vector<float>& probes) {
  const size_t k = 10, queries = probes.size() / dim;
  size_t hits = 0;
  for (size_t q = 0; q < queries; ++q) {
    const float* query = probes.data() + q * dim;
    std::set<std::string> truth;
    for (size_t row : BruteForceTopK(vectors, dim, query, k)) {
      truth.insert(testing::Name("item", row));
    }
    const auto found = catalogue.Search(query, k, {});
    EXPECT_EQ(found.size(), k);
    for (const ScoredItem& item : found) hits += truth.count(item.id);
    // The exact search agrees with the independent brute force.
    EXPECT_EQ(Ids(catalogue.ExactSearch(query, k, {})), truth);
  }
  return static_cast<double>(hits) / (queries * k);
}

TEST(CatalogueTest, RecallAgainstBruteForceOnClusteredData) {
  // Embeddings of real texts cluster by topic; 200 topics here.
  const size_t dim = 64, count = 20000;
  auto catalogue = NewCatalogue(dim);
  const auto vectors = testing::ClusteredVectors(200, count / 200, dim, 0.1f, 2);
  ASSERT_TRUE(catalogue->Add(MakeItems(count), vectors).ok());
  const auto probes = testing::ClusteredVectors(200, 1, dim, 0.1f, 2);  // near the same centres
  EXPECT_GE(Recall(*catalogue, vectors, dim, probes), 0.95);            // default ef
}

TEST(CatalogueTest, RecallAgainstBruteForceOnUniformData) {
  // Uniform random directions are HNSW's hardest case: it needs a wider
  // search (ef 200 here) for the same recall.
  const size_t dim = 48, count = 20000;
  auto catalogue = NewCatalogue(dim);
  const auto vectors = RandomUnitVectors(count, dim, 2);
  ASSERT_TRUE(catalogue->Add(MakeItems(count), vectors).ok());
  catalogue->SetEfSearch(200);
  EXPECT_GE(Recall(*catalogue, vectors, dim, RandomUnitVectors(200, dim, 3)), 0.95);
}

TEST(CatalogueTest, ScoresAreCosineSimilarities) {
  const size_t dim = 16;
  auto catalogue = NewCatalogue(dim);
  auto vectors = RandomUnitVectors(50, dim, 4);
  std::vector<float> scaled = vectors;
  for (float& value : scaled) value *= 3.5f;  // Add normalises
  ASSERT_TRUE(catalogue->Add(MakeItems(50), scaled).ok());
  const auto query = RandomUnitVectors(1, dim, 5);
  for (const ScoredItem& item : catalogue->Search(query.data(), 50, {})) {
    const size_t row = std::stoul(item.id.substr(4));
    EXPECT_NEAR(item.score, DotScalar(query.data(), vectors.data() + row * dim, dim), 1e-5);
  }
}

TEST(CatalogueTest, ReAddingAnIdReplacesIt) {
  const size_t dim = 16;
  auto catalogue = NewCatalogue(dim);
  const auto vectors = RandomUnitVectors(101, dim, 6);
  ASSERT_TRUE(catalogue->Add(MakeItems(100), {vectors.begin(), vectors.begin() + 100 * dim}).ok());
  size_t replaced = 0;
  const std::vector<float> fresh(vectors.begin() + 100 * dim, vectors.end());
  ASSERT_TRUE(catalogue->Add({{"item7", {"new"}}}, fresh, &replaced).ok());
  EXPECT_EQ(replaced, 1u);
  EXPECT_EQ(catalogue->size(), 100u);
  const auto found = catalogue->Search(fresh.data(), 1, {});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, "item7");
  EXPECT_NEAR(found[0].score, 1.0f, 1e-5);
  SearchFilter tagged;
  tagged.tags = {"new"};
  EXPECT_EQ(Ids(catalogue->Search(vectors.data(), 10, tagged)), std::set<std::string>{"item7"});
}

TEST(CatalogueTest, DeletedItemsAreNeverReturnedAndSlotsAreReused) {
  const size_t dim = 16;
  auto catalogue = NewCatalogue(dim);
  const auto vectors = RandomUnitVectors(400, dim, 7);
  ASSERT_TRUE(catalogue->Add(MakeItems(200), {vectors.begin(), vectors.begin() + 200 * dim}).ok());
  std::vector<std::string> gone;
  for (size_t i = 0; i < 200; i += 2) gone.push_back(testing::Name("item", i));
  gone.push_back("no-such-item");
  EXPECT_EQ(catalogue->Delete(gone), 100u);
  EXPECT_EQ(catalogue->size(), 100u);
  EXPECT_FALSE(catalogue->Contains("item0"));
  for (size_t i = 0; i < 200; ++i) {
    const auto found = catalogue->Search(vectors.data() + i * dim, 10, {});
    ASSERT_EQ(found.size(), 10u);
    for (const ScoredItem& item : found) EXPECT_EQ(std::stoul(item.id.substr(4)) % 2, 1u);
  }
  // New items take the freed slots; every one is found.
  ASSERT_TRUE(
      catalogue->Add(MakeItems(200, "new"), {vectors.begin() + 200 * dim, vectors.end()}).ok());
  EXPECT_EQ(catalogue->size(), 300u);
  for (size_t i = 0; i < 200; ++i) {
    const auto found = catalogue->Search(vectors.data() + (200 + i) * dim, 1, {});
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].id, testing::Name("new", i));
  }
  // Deleting everything leaves an empty, searchable catalogue.
  std::vector<std::string> all;
  for (const Item& item : catalogue->List()) all.push_back(item.id);
  EXPECT_EQ(catalogue->Delete(all), 300u);
  EXPECT_TRUE(catalogue->Search(vectors.data(), 10, {}).empty());
}

TEST(CatalogueTest, TagFiltersAndExclusionsReturnKWhenTheyExist) {
  const size_t dim = 24, count = 30000, k = 10;
  auto catalogue = NewCatalogue(dim);
  const auto vectors = RandomUnitVectors(count, dim, 8);
  auto items = MakeItems(count);
  for (size_t i = 0; i < count; ++i) {
    items[i].tags = {i % 10 == 0 ? "rare" : "common", i % 2 ? "odd" : "even"};
    if (i % 5000 == 3) items[i].tags.push_back("scarce");  // 6 items
  }
  ASSERT_TRUE(catalogue->Add(items, vectors).ok());
  const auto probes = RandomUnitVectors(50, dim, 9);
  size_t hits = 0, total = 0;
  for (size_t q = 0; q < 50; ++q) {
    const float* query = probes.data() + q * dim;
    SearchFilter filter;
    filter.tags = {"rare"};  // 3000 items: the graph search, widened
    for (const ScoredItem& item : catalogue->ExactSearch(query, 3, {}))
      filter.exclude.insert(item.id);
    const auto found = catalogue->Search(query, k, filter);
    ASSERT_EQ(found.size(), k);
    const auto truth = Ids(catalogue->ExactSearch(query, k, filter));
    for (const ScoredItem& item : found) {
      const size_t row = std::stoul(item.id.substr(4));
      EXPECT_EQ(row % 10, 0u);
      EXPECT_EQ(filter.exclude.count(item.id), 0u);
      hits += truth.count(item.id);
      ++total;
    }
    SearchFilter scarce;
    scarce.tags = {"scarce", "missing-tag"};
    EXPECT_EQ(catalogue->Search(query, k, scarce).size(), 6u);  // fewer exist
    SearchFilter none;
    none.tags = {"missing-tag"};
    EXPECT_TRUE(catalogue->Search(query, k, none).empty());
  }
  EXPECT_GE(static_cast<double>(hits) / total, 0.95);
}

TEST(CatalogueTest, KLargerThanTheCatalogueReturnsEveryItem) {
  const size_t dim = 8;
  auto catalogue = NewCatalogue(dim);
  const auto vectors = RandomUnitVectors(7, dim, 10);
  ASSERT_TRUE(catalogue->Add(MakeItems(7), vectors).ok());
  const auto found = catalogue->Search(vectors.data(), 1000, {});
  EXPECT_EQ(found.size(), 7u);
  EXPECT_TRUE(std::is_sorted(found.begin(), found.end(),
                             [](const auto& a, const auto& b) { return a.score > b.score; }));
  SearchFilter filter;
  filter.exclude = {"item0", "item1"};
  EXPECT_EQ(catalogue->Search(vectors.data(), 1000, filter).size(), 5u);
}

TEST(CatalogueTest, BadInputChangesNothing) {
  const size_t dim = 8;
  auto catalogue = NewCatalogue(dim);
  const auto vectors = RandomUnitVectors(3, dim, 11);
  ASSERT_TRUE(catalogue->Add(MakeItems(3), vectors).ok());
  std::vector<float> bad = vectors;
  std::fill(bad.begin() + dim, bad.begin() + 2 * dim, 0.0f);
  auto items = MakeItems(3, "other");
  EXPECT_EQ(catalogue->Add(items, bad).code(), StatusCode::kInvalidArgument);
  bad = vectors;
  bad[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(catalogue->Add(items, bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalogue->Add(items, {vectors.begin(), vectors.end() - 1}).code(),
            StatusCode::kInvalidArgument);
  items[2].id = items[0].id;
  EXPECT_EQ(catalogue->Add(items, vectors).code(), StatusCode::kInvalidArgument);
  items[2].id = "";
  EXPECT_EQ(catalogue->Add(items, vectors).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalogue->size(), 3u);
  EXPECT_FALSE(catalogue->Contains("other0"));
}

TEST(CatalogueTest, ConcurrentReadersWithOneWriter) {
  const size_t dim = 16;
  auto catalogue = NewCatalogue(dim);
  const auto vectors = RandomUnitVectors(4000, dim, 12);
  ASSERT_TRUE(
      catalogue->Add(MakeItems(1000), {vectors.begin(), vectors.begin() + 1000 * dim}).ok());
  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      size_t q = static_cast<size_t>(r);
      while (!done) {
        const auto found = catalogue->Search(vectors.data() + (q % 1000) * dim, 5, {});
        EXPECT_EQ(found.size(), 5u);
        ++searches;
        ++q;
      }
    });
  }
  for (size_t batch = 1; batch < 4; ++batch) {
    const auto begin = vectors.begin() + batch * 1000 * dim;
    ASSERT_TRUE(
        catalogue->Add(MakeItems(1000, testing::Name("b", batch, 0)), {begin, begin + 1000 * dim})
            .ok());
    catalogue->Delete({testing::Name("item", batch)});
  }
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(catalogue->size(), 3997u);
  EXPECT_GT(searches.load(), 0u);
}

}  // namespace
}  // namespace mg::recommend
