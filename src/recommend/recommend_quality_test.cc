// Recommendation quality on labelled catalogues whose groups are known.
//
// 1. Synthetic: 20 groups of 500 items, each a noisy copy of its group's
//    centre. A history of items from one group must bring back that group.
// 2. Through the real embedding pipeline (tokenizer, BERT encoder, pooling)
//    with the tiny test model in tests/data. Its weights are random, so its
//    embeddings carry no meaning; the groups are lexical (each group's texts
//    draw their words from a disjoint part of the vocabulary). This shows
//    that the pipeline keeps what distinguishes texts, not that a model
//    understands them.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <random>

#include "model/model.h"
#include "recommend/catalogue.h"
#include "recommend/recommender.h"
#include "recommend/test_vectors.h"
#include "recommend/text_embedder.h"

namespace mg::recommend {
namespace {

std::string NewDir() {
  std::string pattern = std::filesystem::temp_directory_path().string() + "/catalogue_XXXXXX";
  MG_CHECK(::mkdtemp(pattern.data()) != nullptr);
  return pattern + "/index";
}

size_t GroupOf(const std::string& id) { return std::stoul(id.substr(1, id.find('-') - 1)); }

TEST(RecommendQualityTest, OneGroupHistoryBringsBackThatGroup) {
  const size_t groups = 20, per_group = 500, dim = 64;
  CatalogueOptions options;
  options.dim = dim;
  auto catalogue = std::move(Catalogue::Create(NewDir(), options)).value();
  const auto vectors = testing::ClusteredVectors(groups, per_group, dim, 0.12f, 31);
  std::vector<Item> items;
  for (size_t g = 0; g < groups; ++g) {
    for (size_t i = 0; i < per_group; ++i) items.push_back({testing::Name("g", g, i), {}});
  }
  ASSERT_TRUE(catalogue->Add(items, vectors).ok());
  testing::BagOfWordsEmbedder unused(dim);
  std::mt19937 random(32);
  size_t in_group = 0, total = 0;
  for (size_t g = 0; g < groups; ++g) {
    RecommendRequest request;
    for (int h = 0; h < 5; ++h) {
      request.history.push_back({"", testing::Name("g", g, random() % per_group)});
    }
    auto found = Recommend(request, unused, *catalogue);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    ASSERT_EQ(found->size(), 10u);
    for (const ScoredItem& item : *found) {
      in_group += GroupOf(item.id) == g;
      ++total;
      for (const HistoryEntry& seen : request.history) EXPECT_NE(item.id, seen.id);
    }
  }
  EXPECT_GE(static_cast<double>(in_group) / total, 0.9) << in_group << "/" << total;
}

TEST(RecommendQualityTest, RecentHistoryWeighsMore) {
  const size_t dim = 64;
  CatalogueOptions options;
  options.dim = dim;
  auto catalogue = std::move(Catalogue::Create(NewDir(), options)).value();
  const auto vectors = testing::ClusteredVectors(2, 200, dim, 0.1f, 33);
  std::vector<Item> items;
  for (size_t g = 0; g < 2; ++g) {
    for (size_t i = 0; i < 200; ++i) items.push_back({testing::Name("g", g, i), {}});
  }
  ASSERT_TRUE(catalogue->Add(items, vectors).ok());
  testing::BagOfWordsEmbedder unused(dim);
  // Three old items of group 0, then two recent ones of group 1.
  RecommendRequest request;
  for (const char* id : {"g0-1", "g0-2", "g0-3", "g1-1", "g1-2"})
    request.history.push_back({"", id});
  request.decay = 0.3;
  auto found = Recommend(request, unused, *catalogue);
  ASSERT_TRUE(found.ok());
  size_t recent = 0;
  for (const ScoredItem& item : *found) recent += GroupOf(item.id) == 1;
  EXPECT_GE(recent, 9u);
  // Without decay the older majority wins.
  request.decay = 1.0;
  found = Recommend(request, unused, *catalogue);
  ASSERT_TRUE(found.ok());
  size_t old = 0;
  for (const ScoredItem& item : *found) old += GroupOf(item.id) == 0;
  EXPECT_GE(old, 9u);
}

// A text of `words` random words from group g's part of the tiny model's
// vocabulary (t5..t254: five groups of 50 words).
std::string GroupText(size_t g, size_t words, std::mt19937* random) {
  std::string text;
  for (size_t w = 0; w < words; ++w) {
    if (w) text += ' ';
    text += testing::Name("t", 5 + 50 * g + (*random)() % 50);
  }
  return text;
}

TEST(RecommendQualityTest, LexicalGroupsThroughTheTinyModel) {
  auto model = model::Model::Load("tests/data/fixtures/tiny-bert-model-safetensors");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ModelEmbedder embedder(**model);
  CatalogueOptions options;
  options.dim = embedder.dim();
  auto catalogue = std::move(Catalogue::Create(NewDir(), options)).value();
  const size_t groups = 5, per_group = 80;
  std::mt19937 random(34);
  std::vector<Item> items;
  std::vector<std::string> texts;
  for (size_t g = 0; g < groups; ++g) {
    for (size_t i = 0; i < per_group; ++i) {
      items.push_back({testing::Name("g", g, i), {}});
      texts.push_back(GroupText(g, 16, &random));
    }
  }
  std::vector<float> embeddings;
  ASSERT_TRUE(embedder.Embed({texts.begin(), texts.end()}, &embeddings).ok());
  ASSERT_TRUE(catalogue->Add(items, embeddings).ok());
  size_t in_group = 0, total = 0;
  for (size_t g = 0; g < groups; ++g) {
    for (int user = 0; user < 4; ++user) {
      RecommendRequest request;  // new texts, not catalogue items
      for (int h = 0; h < 3; ++h) request.history.push_back({GroupText(g, 16, &random), ""});
      auto found = Recommend(request, embedder, *catalogue);
      ASSERT_TRUE(found.ok()) << found.status().ToString();
      ASSERT_EQ(found->size(), 10u);
      for (const ScoredItem& item : *found) {
        in_group += GroupOf(item.id) == g;
        ++total;
      }
    }
  }
  // Chance would be 1 in 5. With 8-word texts this model gets about half
  // right, with 16 words over 80%: its random weights blur short texts.
  EXPECT_GE(static_cast<double>(in_group) / total, 0.8) << in_group << "/" << total;
}

}  // namespace
}  // namespace mg::recommend
