#include "recommend/catalogue.h"

#include <algorithm>
#include <exception>
#include <queue>
#include <utility>

#include "recommend/hnsw_index.h"
#include "recommend/vector_math.h"

namespace mg::recommend {
namespace {

// Below this many allowed items a filtered search compares with each of
// them: cheaper than widening the graph search, and exact.
constexpr size_t kExactBelow = 2000;

bool BetterFirst(const ScoredItem& a, const ScoredItem& b) {
  return a.score != b.score ? a.score > b.score : a.id < b.id;
}

}  // namespace

Catalogue::Catalogue(std::string dir, CatalogueOptions options)
    : dir_(std::move(dir)), options_(std::move(options)) {}

Catalogue::~Catalogue() = default;

std::shared_lock<std::shared_mutex> Catalogue::ReadLock() const {
  // Wait for any writer that is waiting or writing (see writer_gate_).
  { std::lock_guard gate(writer_gate_); }
  return std::shared_lock(mutex_);
}

Status Catalogue::InitIndex(size_t capacity) {
  MG_ASSIGN_OR_RETURN(
      index_, HnswIndex::Create(options_.dim, capacity, options_.m, options_.ef_construction));
  index_->SetEf(options_.ef_search);
  return Status::Ok();
}

void Catalogue::SetEfSearch(size_t ef) {
  std::lock_guard gate(writer_gate_);
  std::unique_lock lock(mutex_);
  options_.ef_search = std::max<size_t>(ef, 1);
  index_->SetEf(options_.ef_search);
}

void Catalogue::AddTags(const std::vector<std::string>& tags, int delta) {
  for (const std::string& tag : tags) {
    size_t& count = tag_counts_[tag];
    count += delta;
    if (count == 0) tag_counts_.erase(tag);
  }
}

Status Catalogue::Add(const std::vector<Item>& items, const std::vector<float>& embeddings,
                      size_t* replaced) {
  const size_t dim = options_.dim;
  if (embeddings.size() != items.size() * dim) {
    return InvalidArgumentError("expected " + std::to_string(items.size()) + " embeddings of " +
                                std::to_string(dim) + " values");
  }
  std::vector<float> unit = embeddings;
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].id.empty())
      return InvalidArgumentError("item " + std::to_string(i) + ": empty id");
    if (!seen.insert(items[i].id).second) {
      return InvalidArgumentError("item id \"" + items[i].id + "\" appears twice");
    }
    if (!NormalizeInPlace(unit.data() + i * dim, dim)) {
      return InvalidArgumentError("item \"" + items[i].id + "\": embedding is zero or not finite");
    }
  }
  std::lock_guard gate(writer_gate_);
  std::unique_lock lock(mutex_);
  size_t fresh = 0;
  for (const Item& item : items) fresh += slot_of_.count(item.id) == 0;
  const size_t new_slots = fresh > free_slots_.size() ? fresh - free_slots_.size() : 0;
  MG_RETURN_IF_ERROR(index_->Reserve(slots_.size() + new_slots));
  size_t count_replaced = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& item = items[i];
    size_t slot;
    auto found = slot_of_.find(item.id);
    if (found != slot_of_.end()) {
      slot = found->second;
    } else if (!free_slots_.empty()) {
      slot = free_slots_.back();
    } else {
      slot = slots_.size();
    }
    // A new label gets the next internal id, so label == internal id.
    MG_RETURN_IF_ERROR(index_->Add(unit.data() + i * dim, slot));
    if (found != slot_of_.end()) {
      AddTags(slots_[slot].tags, -1);
      ++count_replaced;
    } else {
      if (slot == slots_.size()) {
        slots_.emplace_back();
      } else {
        free_slots_.pop_back();
      }
      ++live_;
    }
    slots_[slot] = Slot{item.id, item.tags, true};
    slot_of_[item.id] = slot;
    AddTags(item.tags, +1);
  }
  if (replaced) *replaced = count_replaced;
  return Status::Ok();
}

size_t Catalogue::Delete(const std::vector<std::string>& ids) {
  std::lock_guard gate(writer_gate_);
  std::unique_lock lock(mutex_);
  size_t deleted = 0;
  for (const std::string& id : ids) {
    auto found = slot_of_.find(id);
    if (found == slot_of_.end()) continue;
    const size_t slot = found->second;
    index_->MarkDeleted(slot);
    AddTags(slots_[slot].tags, -1);
    slots_[slot] = Slot{};
    slot_of_.erase(found);
    free_slots_.push_back(slot);
    --live_;
    ++deleted;
  }
  return deleted;
}

bool Catalogue::Passes(size_t slot, const SearchFilter& filter,
                       const std::unordered_set<size_t>& excluded) const {
  const Slot& item = slots_[slot];
  if (!item.live || excluded.count(slot)) return false;
  if (filter.tags.empty()) return true;
  for (const std::string& tag : item.tags) {
    if (std::find(filter.tags.begin(), filter.tags.end(), tag) != filter.tags.end()) return true;
  }
  return false;
}

std::unordered_set<size_t> Catalogue::ExcludedSlots(const SearchFilter& filter) const {
  std::unordered_set<size_t> excluded;
  for (const std::string& id : filter.exclude) {
    auto found = slot_of_.find(id);
    if (found != slot_of_.end()) excluded.insert(found->second);
  }
  return excluded;
}

size_t Catalogue::EstimateAllowed(const SearchFilter& filter, size_t excluded) const {
  if (filter.tags.empty()) return live_ - excluded;
  size_t tagged = 0;
  std::unordered_set<std::string_view> counted;
  for (const std::string& tag : filter.tags) {
    auto found = tag_counts_.find(tag);
    if (found != tag_counts_.end() && counted.insert(tag).second) tagged += found->second;
  }
  return std::min(tagged, live_);
}

std::vector<ScoredItem> Catalogue::ExactLocked(const float* query, size_t k,
                                               const SearchFilter& filter,
                                               const std::unordered_set<size_t>& excluded) const {
  const DotFn dot = BestDot();
  // Min-heap on score of the best k so far.
  using Entry = std::pair<float, size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> best;
  for (size_t slot = 0; slot < slots_.size(); ++slot) {
    if (!Passes(slot, filter, excluded)) continue;
    const float score = dot(query, index_->Vector(slot), options_.dim);
    if (best.size() < k) {
      best.emplace(score, slot);
    } else if (score > best.top().first) {
      best.pop();
      best.emplace(score, slot);
    }
  }
  std::vector<ScoredItem> out;
  for (; !best.empty(); best.pop()) out.push_back({slots_[best.top().second].id, best.top().first});
  std::sort(out.begin(), out.end(), BetterFirst);
  return out;
}

std::vector<ScoredItem> Catalogue::ExactSearch(const float* query, size_t k,
                                               const SearchFilter& filter) const {
  auto lock = ReadLock();
  if (k == 0 || live_ == 0) return {};
  return ExactLocked(query, k, filter, ExcludedSlots(filter));
}

std::vector<ScoredItem> Catalogue::Search(const float* query, size_t k,
                                          const SearchFilter& filter) const {
  auto lock = ReadLock();
  if (k == 0 || live_ == 0) return {};
  const std::unordered_set<size_t> excluded = ExcludedSlots(filter);
  const bool filtered = !filter.tags.empty() || !excluded.empty();
  const size_t allowed = EstimateAllowed(filter, excluded.size());
  if (allowed == 0) return {};
  if (filtered && allowed <= kExactBelow) return ExactLocked(query, k, filter, excluded);
  // Ask the graph for enough candidates that k are expected to pass the
  // filter; asking for more than ef widens the search (ef = fetch).
  size_t fetch = k + excluded.size();
  if (filtered) fetch = fetch * live_ / allowed + fetch / 2;
  fetch = std::min(fetch, live_);
  for (;;) {
    if (filtered && 2 * fetch > live_) return ExactLocked(query, k, filter, excluded);
    std::vector<ScoredItem> out;
    for (const auto& [distance, slot] : index_->Search(query, fetch)) {
      if (Passes(slot, filter, excluded)) out.push_back({slots_[slot].id, 1.0f - distance});
    }
    if (out.size() >= k || fetch >= live_) {
      std::sort(out.begin(), out.end(), BetterFirst);
      if (out.size() > k) out.resize(k);
      return out;
    }
    fetch = std::min(live_, fetch * 4);
  }
}

Status Catalogue::Vector(const std::string& id, std::vector<float>* out) const {
  auto lock = ReadLock();
  auto found = slot_of_.find(id);
  if (found == slot_of_.end()) return NotFoundError("no item \"" + id + "\" in the catalogue");
  const float* data = index_->Vector(found->second);
  out->assign(data, data + options_.dim);
  return Status::Ok();
}

bool Catalogue::Contains(const std::string& id) const {
  auto lock = ReadLock();
  return slot_of_.count(id) != 0;
}

std::vector<Item> Catalogue::List() const {
  auto lock = ReadLock();
  std::vector<Item> items;
  items.reserve(live_);
  for (const Slot& slot : slots_) {
    if (slot.live) items.push_back({slot.id, slot.tags});
  }
  return items;
}

size_t Catalogue::size() const {
  auto lock = ReadLock();
  return live_;
}

}  // namespace mg::recommend
