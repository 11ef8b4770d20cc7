// HnswIndex: the one place that includes hnswlib (its 0.6 headers define
// non-inline functions, so they may appear in a single translation unit).
// A cosine HNSW graph over unit vectors whose labels are the catalogue's
// slots: a new label must be the next unused one, so label == internal id.
// Library exceptions become Status here.
//
// Thread safety: as hnswlib's: Search() and Vector() may run concurrently;
// the mutating calls need exclusive access (Catalogue holds the lock).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace mg::recommend {

class HnswIndex {
 public:
  static Result<std::unique_ptr<HnswIndex>> Create(size_t dim, size_t capacity, size_t m,
                                                   size_t ef_construction);
  // Reads a file written by Save(). The file must have passed
  // CheckHnswFile(): hnswlib trusts it.
  static Result<std::unique_ptr<HnswIndex>> Load(const std::string& path, size_t dim,
                                                 size_t capacity);
  ~HnswIndex();
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;

  size_t capacity() const;
  Status Reserve(size_t capacity);
  // Inserts `vector` as `label`, or replaces the vector of an existing (also
  // deleted, which it revives) label and repairs its links.
  Status Add(const float* vector, size_t label);
  void MarkDeleted(size_t label);
  void SetEf(size_t ef);
  // Up to k (cosine distance, label) pairs, nearest first; asking for more
  // than ef widens the search to k candidates.
  std::vector<std::pair<float, size_t>> Search(const float* query, size_t k) const;
  const float* Vector(size_t label) const;
  Status Save(const std::string& path) const;

 private:
  struct Impl;
  explicit HnswIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mg::recommend
