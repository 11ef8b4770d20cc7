// HnswIndex over graphs whose upper-layer link lists fill up (small M, many
// points), built in memory and continued after a save and load: the
// insertion walk stays inside the graph's memory (the AddressSanitizer build
// checks every read) and the points find themselves.
#include "recommend/hnsw_index.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "recommend/test_vectors.h"

namespace mg::recommend {
namespace {

constexpr size_t kDim = 8;

std::string NewPath() {
  std::string pattern = std::filesystem::temp_directory_path().string() + "/hnsw_index_XXXXXX";
  MG_CHECK(::mkdtemp(pattern.data()) != nullptr);
  return pattern + "/index.hnsw";
}

// Nearly every point is its own nearest neighbour (a graph this sparse may
// miss a few).
void ExpectEachFindsItself(const HnswIndex& index, const std::vector<float>& rows, size_t count) {
  size_t found_self = 0;
  for (size_t label = 0; label < count; ++label) {
    const auto found = index.Search(rows.data() + label * kDim, 1);
    ASSERT_EQ(found.size(), 1u);
    found_self += found[0].second == label;
  }
  EXPECT_GE(found_self, count * 95 / 100);
}

TEST(HnswIndexTest, FullUpperLayerListsWhileInserting) {
  for (size_t m : {2, 3, 4}) {
    const size_t count = 3000;
    const std::vector<float> rows = testing::RandomUnitVectors(count, kDim, 11 + m);
    auto index = HnswIndex::Create(kDim, 64, m, 40);
    ASSERT_TRUE(index.ok()) << index.status().message();
    for (size_t label = 0; label < count; ++label) {
      ASSERT_TRUE((*index)->Reserve(label + 1).ok());
      ASSERT_TRUE((*index)->Add(rows.data() + label * kDim, label).ok());
    }
    (*index)->SetEf(200);
    ExpectEachFindsItself(**index, rows, count);
  }
}

TEST(HnswIndexTest, LoadedGraphTakesMorePointsAndUpdates) {
  const size_t m = 2, first = 2000, total = 4000;
  const std::vector<float> rows = testing::RandomUnitVectors(total, kDim, 5);
  const std::string path = NewPath();
  {
    auto index = HnswIndex::Create(kDim, first, m, 40);
    ASSERT_TRUE(index.ok());
    for (size_t label = 0; label < first; ++label) {
      ASSERT_TRUE((*index)->Add(rows.data() + label * kDim, label).ok());
    }
    ASSERT_TRUE((*index)->Save(path).ok());
  }
  auto loaded = HnswIndex::Load(path, kDim, total);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  for (size_t label = first; label < total; ++label) {
    ASSERT_TRUE((*loaded)->Add(rows.data() + label * kDim, label).ok());
  }
  // Replacing a stored vector repairs its links with the same walk.
  for (size_t label = 0; label < first; label += 97) {
    ASSERT_TRUE((*loaded)->Add(rows.data() + label * kDim, label).ok());
  }
  (*loaded)->SetEf(200);
  ExpectEachFindsItself(**loaded, rows, total);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}

TEST(HnswIndexTest, ReplacingEveryVectorRepairsTheGraph) {
  // Replacing reaches the entry point, whose top-layer list is empty.
  const size_t count = 1500;
  const std::vector<float> before = testing::RandomUnitVectors(count, kDim, 21);
  const std::vector<float> after = testing::RandomUnitVectors(count, kDim, 22);
  auto index = HnswIndex::Create(kDim, count, 4, 40);
  ASSERT_TRUE(index.ok());
  for (size_t label = 0; label < count; ++label) {
    ASSERT_TRUE((*index)->Add(before.data() + label * kDim, label).ok());
  }
  for (size_t label = 0; label < count; ++label) {
    ASSERT_TRUE((*index)->Add(after.data() + label * kDim, label).ok());
  }
  (*index)->SetEf(200);
  ExpectEachFindsItself(**index, after, count);
}

}  // namespace
}  // namespace mg::recommend
