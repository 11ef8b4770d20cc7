// Catalogue: the items a recommender chooses from, each with a string id,
// tags and a unit-length embedding, in an HNSW graph (hnswlib) for
// approximate cosine nearest-neighbour search, persisted in a folder.
//
// Items are added, replaced (same id) and deleted one request at a time
// without rebuilding: a deleted item is marked in the graph and its slot is
// reused by a later new item; capacity grows as needed.
//
// Folder layout (docs/recommend.md): catalogue.json names one generation of
// index-<G>.hnsw (the graph and vectors) and items-<G>.jsonl (ids and tags
// per slot), with their sizes and checksums. Save() writes a new generation
// and then replaces catalogue.json atomically, so a crash leaves either the
// old or the new catalogue, never a mix. Open() checks sizes, checksums and
// the graph's structure (hnsw_file.h) before hnswlib reads anything, and
// fails with Corruption rather than crash on damaged files.
//
// Thread safety: any number of concurrent readers (Search, ExactSearch,
// List, Vector, Save) and one writer (Add, Delete) at a time, enforced by an
// internal shared_mutex; a waiting writer holds back new readers, so a
// steady stream of searches cannot starve it. Save() also excludes other
// Save() calls. Save() reads under the shared lock for as long as it writes
// (about a second per 100 MB of index), so a writer arriving meanwhile waits
// for it, and searches arriving after that writer wait for both. Not safe
// against another process writing the same folder.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/status.h"

namespace mg::recommend {

class HnswIndex;

struct CatalogueOptions {
  size_t dim = 0;                // embedding size; required
  std::string model_id;          // the model that embeds texts for this catalogue
  size_t m = 16;                 // graph degree (hnswlib M)
  size_t ef_construction = 200;  // candidate list while inserting
  size_t ef_search = 128;        // candidate list while searching (at least k)
};

struct Item {
  std::string id;
  std::vector<std::string> tags;
};

struct ScoredItem {
  std::string id;
  float score = 0;  // cosine similarity to the query, in [-1, 1]
};

// Which items a search may return.
struct SearchFilter {
  std::vector<std::string> tags;            // when non-empty: items with any of these tags
  std::unordered_set<std::string> exclude;  // ids never returned (e.g. items already seen)
  bool empty() const { return tags.empty() && exclude.empty(); }
};

class Catalogue {
 public:
  // A new, empty catalogue that Save() will write into `dir` (created when
  // missing). Fails when `dir` already holds a catalogue.
  static Result<std::unique_ptr<Catalogue>> Create(const std::string& dir,
                                                   const CatalogueOptions& options);
  // The catalogue saved in `dir`. NotFound when there is none, Corruption
  // when its files are damaged.
  static Result<std::unique_ptr<Catalogue>> Open(const std::string& dir);
  // Open() when `dir` holds a catalogue, else Create().
  static Result<std::unique_ptr<Catalogue>> OpenOrCreate(const std::string& dir,
                                                         const CatalogueOptions& options);

  ~Catalogue();
  Catalogue(const Catalogue&) = delete;
  Catalogue& operator=(const Catalogue&) = delete;

  // Adds `items` with their embeddings ([items.size(), dim] floats, any
  // length; normalised here). An id already present is replaced (vector and
  // tags). Checks everything first: on error nothing changes. Ids must be
  // unique within one call. Counts the replaced ones in `replaced`.
  Status Add(const std::vector<Item>& items, const std::vector<float>& embeddings,
             size_t* replaced = nullptr);

  // Deletes the items with these ids; unknown ids are ignored. Returns how
  // many were deleted.
  size_t Delete(const std::vector<std::string>& ids);

  // The (at most) k items most similar to `query` (dim floats, unit length)
  // that pass `filter`, best first. Approximate (HNSW); when the filter
  // removes candidates the search widens until k items pass or every item
  // has been considered, so fewer than k come back only when fewer exist.
  std::vector<ScoredItem> Search(const float* query, size_t k, const SearchFilter& filter) const;

  // The same by comparing with every item: exact, O(items). The reference
  // the approximate search is tested and benchmarked against.
  std::vector<ScoredItem> ExactSearch(const float* query, size_t k,
                                      const SearchFilter& filter) const;

  // Writes the catalogue into its folder (see above).
  Status Save() const;

  // The stored unit vector of item `id` into `out`; NotFound when absent.
  Status Vector(const std::string& id, std::vector<float>* out) const;
  bool Contains(const std::string& id) const;
  // Every item, in slot order.
  std::vector<Item> List() const;
  size_t size() const;
  size_t dim() const { return options_.dim; }
  const std::string& model_id() const { return options_.model_id; }
  const std::string& dir() const { return dir_; }

  // Changes the search candidate list size (hnswlib ef); a writer operation.
  void SetEfSearch(size_t ef);

 private:
  struct Slot {
    std::string id;
    std::vector<std::string> tags;
    bool live = false;
  };

  Catalogue(std::string dir, CatalogueOptions options);
  Status InitIndex(size_t capacity);
  Status LoadFromDir();
  bool Passes(size_t slot, const SearchFilter& filter,
              const std::unordered_set<size_t>& excluded) const;
  std::unordered_set<size_t> ExcludedSlots(const SearchFilter& filter) const;
  size_t EstimateAllowed(const SearchFilter& filter, size_t excluded) const;
  std::vector<ScoredItem> ExactLocked(const float* query, size_t k, const SearchFilter& filter,
                                      const std::unordered_set<size_t>& excluded) const;
  void AddTags(const std::vector<std::string>& tags, int delta);

  std::string dir_;
  CatalogueOptions options_;
  std::shared_lock<std::shared_mutex> ReadLock() const;

  mutable std::mutex writer_gate_;  // held by a writer from before it waits for mutex_
  mutable std::shared_mutex mutex_;
  mutable std::mutex save_mutex_;
  // Guarded by mutex_.
  std::unique_ptr<HnswIndex> index_;
  std::vector<Slot> slots_;  // slot == hnswlib label == internal id
  std::unordered_map<std::string, size_t> slot_of_;
  std::vector<size_t> free_slots_;                      // deleted slots, reused by new items
  std::unordered_map<std::string, size_t> tag_counts_;  // live items per tag
  size_t live_ = 0;
  // Guarded by save_mutex_.
  mutable uint64_t generation_ = 0;
};

}  // namespace mg::recommend
