// Recommendation search latency on one thread: the HNSW catalogue against
// an exact brute-force scan of the same items (the peer), in one run.
//
// Items are unit vectors around 1000 random centres (like embeddings of
// texts on many topics; noise as large as the centre per component), or
// uniform random directions with --data uniform. Prints one JSON line: build time, p50/p99 latency
// of k-NN search for both, recall@k of HNSW against the exact result, and, with --model, the
// latency of embedding a short query with that model plus the search.
//
// usage: recommend_bench [--items 100000] [--dim 384] [--k 10] [--queries 1000]
//                        [--ef 128] [--ef-construction 200] [--data clustered|uniform]
//                        [--model DIR]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kernels/gemm.h"
#include "model/model.h"
#include "recommend/catalogue.h"
#include "recommend/text_embedder.h"
#include "recommend/vector_math.h"

namespace {

using Clock = std::chrono::steady_clock;
using mg::recommend::Catalogue;

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

std::vector<float> Clustered(size_t count, size_t dim, size_t clusters, uint32_t seed) {
  std::mt19937 random(seed);
  std::normal_distribution<float> normal;
  std::mt19937 centre_random(7);  // the same centres for items and queries
  std::vector<float> centres(clusters * dim);
  for (float& v : centres) v = normal(centre_random);
  std::vector<float> out(count * dim);
  for (size_t row = 0; row < count; ++row) {
    const size_t c = clusters ? random() % clusters : 0;
    for (size_t d = 0; d < dim; ++d) {
      out[row * dim + d] = (clusters ? centres[c * dim + d] : 0.0f) + normal(random);
    }
    mg::recommend::NormalizeInPlace(out.data() + row * dim, dim);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  size_t items = 100000, dim = 384, k = 10, queries = 1000, ef = 128, ef_construction = 200;
  std::string model_dir, data = "clustered";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--items")
      items = std::strtoull(value, nullptr, 10);
    else if (flag == "--dim")
      dim = std::strtoull(value, nullptr, 10);
    else if (flag == "--k")
      k = std::strtoull(value, nullptr, 10);
    else if (flag == "--queries")
      queries = std::strtoull(value, nullptr, 10);
    else if (flag == "--ef")
      ef = std::strtoull(value, nullptr, 10);
    else if (flag == "--ef-construction")
      ef_construction = std::strtoull(value, nullptr, 10);
    else if (flag == "--model")
      model_dir = value;
    else if (flag == "--data" &&
             (std::strcmp(value, "uniform") == 0 || std::strcmp(value, "clustered") == 0))
      data = value;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  mg::kernels::SetThreads(1);
  std::unique_ptr<mg::model::Model> model;
  if (!model_dir.empty()) {
    auto loaded = mg::model::Model::Load(model_dir);
    if (!loaded.ok()) {
      std::fprintf(stderr, "error: %s\n", loaded.status().message().c_str());
      return 1;
    }
    model = std::move(loaded).value();
    dim = static_cast<size_t>(model->config().hidden_size);
  }
  // "uniform": random directions, HNSW's hardest case (no structure).
  const size_t clusters = data == "uniform" ? 0 : 1000;
  const auto vectors = Clustered(items, dim, clusters, 1);
  const auto probes = Clustered(queries, dim, clusters, 2);
  std::vector<mg::recommend::Item> ids(items);
  for (size_t i = 0; i < items; ++i) ids[i].id = std::to_string(i);

  const std::string dir = std::filesystem::temp_directory_path().string() + "/recommend_bench_" +
                          std::to_string(::getpid());
  mg::recommend::CatalogueOptions options;
  options.dim = dim;
  options.ef_search = ef;
  options.ef_construction = ef_construction;
  auto catalogue = std::move(Catalogue::Create(dir, options)).value();
  const auto build_start = Clock::now();
  if (!catalogue->Add(ids, vectors).ok()) return 1;
  const double build_s = std::chrono::duration<double>(Clock::now() - build_start).count();

  std::vector<double> hnsw_ms, exact_ms;
  size_t hits = 0;
  for (size_t q = 0; q < queries; ++q) {
    const float* query = probes.data() + q * dim;
    auto t0 = Clock::now();
    const auto found = catalogue->Search(query, k, {});
    auto t1 = Clock::now();
    const auto truth = catalogue->ExactSearch(query, k, {});
    auto t2 = Clock::now();
    hnsw_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    exact_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1).count());
    std::set<std::string> exact;
    for (const auto& item : truth) exact.insert(item.id);
    for (const auto& item : found) hits += exact.count(item.id);
  }
  std::printf(
      "{\"data\":\"%s\",\"items\":%zu,\"dim\":%zu,\"k\":%zu,\"ef\":%zu,\"ef_construction\":%zu,"
      "\"build_s\":%.1f,"
      "\"hnsw_p50_ms\":%.3f,\"hnsw_p99_ms\":%.3f,\"exact_p50_ms\":%.3f,\"exact_p99_ms\":%.3f,"
      "\"speedup_p50\":%.1f,\"recall_at_k\":%.4f",
      data.c_str(), items, dim, k, ef, ef_construction, build_s, Percentile(hnsw_ms, 0.5),
      Percentile(hnsw_ms, 0.99), Percentile(exact_ms, 0.5), Percentile(exact_ms, 0.99),
      Percentile(exact_ms, 0.5) / Percentile(hnsw_ms, 0.5),
      static_cast<double>(hits) / (queries * k));
  if (model) {
    mg::recommend::ModelEmbedder embedder(*model);
    std::vector<double> total_ms, embed_ms;
    std::vector<float> embedding;
    const char* texts[] = {"wireless noise cancelling headphones", "a light rain jacket for hiking",
                           "book about the history of rome", "cheap flights to lisbon in may"};
    for (size_t q = 0; q < 200; ++q) {
      auto t0 = Clock::now();
      if (!embedder.Embed({texts[q % 4]}, &embedding).ok()) return 1;
      auto t1 = Clock::now();
      catalogue->Search(embedding.data(), k, {});
      auto t2 = Clock::now();
      embed_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      total_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t0).count());
    }
    std::printf(
        ",\"model\":\"%s\",\"embed_p50_ms\":%.3f,\"query_total_p50_ms\":%.3f,"
        "\"query_total_p99_ms\":%.3f",
        model_dir.c_str(), Percentile(embed_ms, 0.5), Percentile(total_ms, 0.5),
        Percentile(total_ms, 0.99));
  }
  std::printf("}\n");
  std::filesystem::remove_all(dir);
  return 0;
}
