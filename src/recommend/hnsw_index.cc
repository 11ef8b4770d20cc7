#include "recommend/hnsw_index.h"

#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "recommend/vector_math.h"

namespace mg::recommend {
namespace {

// hnswlib's distance for unit vectors: 1 - dot(a, b), with the dot product
// this CPU runs fastest. The cosine similarity is 1 - distance.
class CosineSpace : public hnswlib::SpaceInterface<float> {
 public:
  explicit CosineSpace(size_t dim) : dim_(dim) {}
  size_t get_data_size() override { return dim_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return &Distance; }
  void* get_dist_func_param() override { return &dim_; }

 private:
  static float Distance(const void* a, const void* b, const void* dim) {
    return 1.0f - BestDot()(static_cast<const float*>(a), static_cast<const float*>(b),
                            *static_cast<const size_t*>(dim));
  }
  size_t dim_;
};

// hnswlib 0.6's searchBaseLayer (run by addPoint and by updates) prefetches
// the neighbour after the current one, so at the end of a full link list it
// reads one id past the list. For the upper layers, whose lists are a
// separate allocation per element of exactly levels * size_links_per_element_
// bytes (+1 in addPoint), that read leaves the allocation (an out-of-bounds
// heap read; nmslib/hnswlib issues #107 and #578, not fixed upstream). Growing
// each upper-layer allocation by one zeroed id keeps the read inside memory
// the graph owns; the value read only steers a prefetch. Needs exclusive
// access to the graph.
Status PadUpperLinks(hnswlib::HierarchicalNSW<float>& graph, size_t id) {
  const int levels = graph.element_levels_[id];
  if (levels <= 0 || graph.linkLists_[id] == nullptr) return Status::Ok();
  const size_t used = graph.size_links_per_element_ * static_cast<size_t>(levels);
  const size_t padded = used + sizeof(hnswlib::tableint);
  char* grown = static_cast<char*>(std::realloc(graph.linkLists_[id], padded));
  if (grown == nullptr) return InternalError("out of memory for the index's link lists");
  std::memset(grown + used, 0, padded - used);
  graph.linkLists_[id] = grown;
  return Status::Ok();
}

}  // namespace

struct HnswIndex::Impl {
  explicit Impl(size_t dim) : space(dim) {}
  CosineSpace space;  // outlives graph
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> graph;
};

HnswIndex::HnswIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HnswIndex::~HnswIndex() = default;

Result<std::unique_ptr<HnswIndex>> HnswIndex::Create(size_t dim, size_t capacity, size_t m,
                                                     size_t ef_construction) {
  auto impl = std::make_unique<Impl>(dim);
  try {
    impl->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        &impl->space, std::max<size_t>(capacity, 16), m, ef_construction);
  } catch (const std::exception& e) {
    return InternalError(std::string("cannot create the index: ") + e.what());
  }
  return std::unique_ptr<HnswIndex>(new HnswIndex(std::move(impl)));
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::Load(const std::string& path, size_t dim,
                                                   size_t capacity) {
  auto impl = std::make_unique<Impl>(dim);
  try {
    impl->graph = std::make_unique<hnswlib::HierarchicalNSW<float>>(&impl->space);
    impl->graph->loadIndex(path, &impl->space, std::max<size_t>(capacity, 16));
  } catch (const std::exception& e) {
    return CorruptionError(path + ": " + e.what());
  }
  for (size_t id = 0; id < impl->graph->cur_element_count; ++id) {
    MG_RETURN_IF_ERROR(PadUpperLinks(*impl->graph, id));
  }
  return std::unique_ptr<HnswIndex>(new HnswIndex(std::move(impl)));
}

size_t HnswIndex::capacity() const { return impl_->graph->max_elements_; }

Status HnswIndex::Reserve(size_t capacity) {
  if (capacity <= impl_->graph->max_elements_) return Status::Ok();
  try {
    impl_->graph->resizeIndex(std::max(capacity, 2 * impl_->graph->max_elements_));
  } catch (const std::exception& e) {
    return InternalError(std::string("cannot grow the index: ") + e.what());
  }
  return Status::Ok();
}

Status HnswIndex::Add(const float* vector, size_t label) {
  try {
    const auto internal = impl_->graph->addPoint(vector, label, -1);
    MG_CHECK(internal == label);
  } catch (const std::exception& e) {
    return InternalError(std::string("cannot add to the index: ") + e.what());
  }
  return PadUpperLinks(*impl_->graph, label);
}

void HnswIndex::MarkDeleted(size_t label) { impl_->graph->markDelete(label); }

void HnswIndex::SetEf(size_t ef) { impl_->graph->setEf(ef); }

std::vector<std::pair<float, size_t>> HnswIndex::Search(const float* query, size_t k) const {
  auto found = impl_->graph->searchKnn(query, k);
  std::vector<std::pair<float, size_t>> out(found.size());
  for (size_t i = out.size(); i-- > 0; found.pop()) out[i] = found.top();
  return out;
}

const float* HnswIndex::Vector(size_t label) const {
  return reinterpret_cast<const float*>(
      impl_->graph->getDataByInternalId(static_cast<hnswlib::tableint>(label)));
}

Status HnswIndex::Save(const std::string& path) const {
  try {
    impl_->graph->saveIndex(path);
  } catch (const std::exception& e) {
    return IoError("cannot write " + path + ": " + e.what());
  }
  return Status::Ok();
}

}  // namespace mg::recommend
