#include "serve/extraction_monitor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>
#include <vector>

#include "serve/shapiro_wilk.h"

namespace mg::serve {
namespace {

// A query as a unit vector over token ids: (id, weight) sorted by id, and
// its squared norm summed in that order from the stored float weights (1 up
// to their rounding).
struct BagOfTokens {
  std::vector<std::pair<int32_t, float>> entries;
  double norm2 = 0;
};

// Squared Euclidean distances from `query` to bags, as |q|^2 + |b|^2 - 2 q.b.
// The query is scattered into a dense row once, so that each dot product is a
// gather over the other bag's tokens in its id order. A bag equal to the query
// is at distance exactly 0: its dot and both norms are the same sums.
class DistanceTo {
 public:
  explicit DistanceTo(const BagOfTokens& query) : query_(query) {
    std::vector<float>& dense = Dense();
    const size_t size = query.entries.empty() ? 0 : query.entries.back().first + size_t{1};
    if (dense.size() < size) dense.resize(size, 0.0f);
    for (const auto& [id, weight] : query.entries) dense[static_cast<size_t>(id)] = weight;
  }
  ~DistanceTo() {
    std::vector<float>& dense = Dense();
    for (const auto& [id, weight] : query_.entries) dense[static_cast<size_t>(id)] = 0.0f;
  }
  DistanceTo(const DistanceTo&) = delete;
  DistanceTo& operator=(const DistanceTo&) = delete;

  double Squared(const BagOfTokens& other) const {
    const std::vector<float>& dense = Dense();
    const size_t size = dense.size();
    double dot = 0;
    for (const auto& [id, weight] : other.entries) {
      const auto index = static_cast<size_t>(id);
      if (index < size) dot += static_cast<double>(dense[index]) * weight;
    }
    return std::max(0.0, query_.norm2 + other.norm2 - 2 * dot);
  }

 private:
  // One zeroed row per thread, grown to the largest token id seen.
  static std::vector<float>& Dense() {
    thread_local std::vector<float> dense;
    return dense;
  }
  const BagOfTokens& query_;
};

}  // namespace

struct ExtractionMonitor::KeyState {
  std::mutex mutex;
  double last_seen_s = 0;  // guarded by the monitor's mutex_

  // The rest guarded by `mutex`.
  int64_t queries = 0;
  std::vector<std::pair<int32_t, BagOfTokens>> recent;  // (group, query), a ring
  size_t recent_next = 0;
  std::vector<double> distances;  // a ring of minimum distances
  size_t distances_next = 0;
  std::vector<uint64_t> seen;                // one bit per token id sent
  std::vector<std::pair<int, int>> novelty;  // (new, distinct) tokens per query, a ring
  size_t novelty_next = 0;
  int64_t novelty_new = 0, novelty_distinct = 0;  // sums over the ring
  int since_test = 0;
  double w = 1, last_novelty = 0;
  bool alarmed = false;
  double alarm_s = 0, minute_start_s = 0;
  int minute_requests = 0;
};

const char* ExtractionActionName(ExtractionAction action) {
  switch (action) {
    case ExtractionAction::kThrottle:
      return "throttle";
    case ExtractionAction::kDegrade:
      return "degrade";
    case ExtractionAction::kSuspend:
      return "suspend";
    case ExtractionAction::kNone:
      break;
  }
  return "none";
}

Result<ExtractionAction> ParseExtractionAction(std::string_view name) {
  if (name == "none") return ExtractionAction::kNone;
  if (name == "throttle") return ExtractionAction::kThrottle;
  if (name == "degrade") return ExtractionAction::kDegrade;
  if (name == "suspend") return ExtractionAction::kSuspend;
  return InvalidArgumentError("unknown extraction action '" + std::string(name) +
                              "' (none, throttle, degrade or suspend)");
}

ExtractionMonitor::ExtractionMonitor(ExtractionOptions options)
    : options_(std::move(options)),
      w_({0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99, 1}),
      novelty_({0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1}) {}
ExtractionMonitor::~ExtractionMonitor() = default;

std::shared_ptr<ExtractionMonitor::KeyState> ExtractionMonitor::Find(const std::string& key_id,
                                                                     double now_s, bool create) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = keys_.find(key_id);
  if (it != keys_.end()) {
    it->second->last_seen_s = now_s;
    return it->second;
  }
  if (!create) return nullptr;
  if (keys_.size() >= static_cast<size_t>(std::max(1, options_.max_keys))) {
    auto idle = std::min_element(keys_.begin(), keys_.end(), [](const auto& a, const auto& b) {
      return a.second->last_seen_s < b.second->last_seen_s;
    });
    keys_.erase(idle);
  }
  auto state = std::make_shared<KeyState>();
  state->last_seen_s = now_s;
  keys_.emplace(key_id, state);
  return state;
}

std::optional<ExtractionAlarm> ExtractionMonitor::Observe(const std::string& key_id,
                                                          const std::string& key_name,
                                                          std::span<const int32_t> tokens,
                                                          int32_t group, double now_s,
                                                          std::optional<ExtractionTest>* test) {
  // The query's distinct tokens and their counts, outside any lock.
  std::vector<int32_t> ids;
  ids.reserve(tokens.size());
  for (int32_t id : tokens) {
    if (id >= 0 && (options_.vocab_size <= 0 || id < options_.vocab_size)) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  std::vector<std::pair<int32_t, float>> bag;
  std::vector<int> counts;
  for (size_t i = 0; i < ids.size();) {
    size_t end = i;
    while (end < ids.size() && ids[end] == ids[i]) ++end;
    bag.emplace_back(ids[i], 0.0f);
    counts.push_back(static_cast<int>(end - i));
    i = end;
  }
  const std::vector<std::pair<int32_t, float>> distinct = bag;
  for (size_t t = 0; t < bag.size(); ++t) bag[t].second = static_cast<float>(counts[t]);
  const size_t cap = static_cast<size_t>(std::max(1, options_.max_tokens_per_query));
  if (bag.size() > cap) {
    // The most frequent tokens stand for the query.
    std::stable_sort(bag.begin(), bag.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    bag.resize(cap);
    std::sort(bag.begin(), bag.end());
  }
  double norm = 0;
  for (const auto& [id, weight] : bag) norm += static_cast<double>(weight) * weight;
  BagOfTokens query{std::move(bag), 0.0};
  for (auto& [id, weight] : query.entries) {
    weight = static_cast<float>(weight / std::sqrt(norm));
    query.norm2 += static_cast<double>(weight) * weight;
  }

  std::shared_ptr<KeyState> state = Find(key_id, now_s, /*create=*/true);
  std::lock_guard<std::mutex> lock(state->mutex);
  KeyState& key = *state;
  ++key.queries;
  // Coverage: how many of the query's tokens the key never sent before.
  int fresh = 0;
  for (const auto& [id, unused] : distinct) {
    const size_t word = static_cast<size_t>(id) / 64;
    if (word >= key.seen.size()) key.seen.resize(word + 1, 0);
    const uint64_t bit = uint64_t{1} << (id % 64);
    if (!(key.seen[word] & bit)) ++fresh;
    key.seen[word] |= bit;
  }
  const size_t window = static_cast<size_t>(std::max(1, options_.novelty_window));
  const std::pair<int, int> entry{fresh, static_cast<int>(distinct.size())};
  if (key.novelty.size() < window) {
    key.novelty.push_back(entry);
  } else {
    key.novelty_new -= key.novelty[key.novelty_next].first;
    key.novelty_distinct -= key.novelty[key.novelty_next].second;
    key.novelty[key.novelty_next] = entry;
    key.novelty_next = (key.novelty_next + 1) % window;
  }
  key.novelty_new += entry.first;
  key.novelty_distinct += entry.second;
  // PRADA: the minimum distance to the key's earlier queries of its class.
  if (!query.entries.empty()) {
    double nearest2 = std::numeric_limits<double>::infinity();
    {
      const DistanceTo distance(query);
      for (const auto& [earlier_group, earlier] : key.recent) {
        if (earlier_group == group) nearest2 = std::min(nearest2, distance.Squared(earlier));
      }
    }
    const double nearest = std::sqrt(nearest2);
    // A query sent before (distance 0) tells the client nothing new: it is
    // left out, so that clients that repeat themselves do not alarm.
    if (std::isfinite(nearest) && nearest > 1e-6) {
      const size_t kept = static_cast<size_t>(std::max(3, options_.max_distances));
      if (key.distances.size() < kept) {
        key.distances.push_back(nearest);
      } else {
        key.distances[key.distances_next] = nearest;
        key.distances_next = (key.distances_next + 1) % kept;
      }
    }
    const size_t kept = static_cast<size_t>(std::max(1, options_.max_queries));
    if (key.recent.size() < kept) {
      key.recent.emplace_back(group, std::move(query));
    } else {
      key.recent[key.recent_next] = {group, std::move(query)};
      key.recent_next = (key.recent_next + 1) % kept;
    }
  }
  ++key.since_test;
  if (key.alarmed || key.since_test < options_.test_every ||
      key.distances.size() < static_cast<size_t>(std::max(3, options_.warmup))) {
    return std::nullopt;
  }
  key.since_test = 0;
  // All distances equal (a client repeating one query) is no sign of
  // extraction: W keeps its last value.
  if (auto result = ShapiroWilkTest(key.distances); result.ok()) key.w = result->w;
  key.last_novelty = key.novelty_distinct > 0 ? static_cast<double>(key.novelty_new) /
                                                    static_cast<double>(key.novelty_distinct)
                                              : 0;
  if (test) *test = ExtractionTest{key.w, key.last_novelty};
  w_.Observe(key.w);
  novelty_.Observe(key.last_novelty);
  std::string signal;
  if (key.w < options_.w_threshold) {
    signal = "shapiro_wilk";
  } else if (key.last_novelty > options_.novelty_threshold) {
    signal = "novelty";
  } else {
    return std::nullopt;
  }
  (signal == "novelty" ? novelty_alarms_ : shapiro_wilk_alarms_).fetch_add(1);
  key.alarmed = true;
  key.alarm_s = now_s;
  key.minute_start_s = now_s;
  key.minute_requests = 0;
  return ExtractionAlarm{key_id, key_name, signal, key.w, key.last_novelty, key.queries};
}

bool ExtractionMonitor::Throttled(const std::string& key_id, double now_s, int* retry_after_s) {
  if (options_.throttle_per_minute <= 0) return false;
  std::shared_ptr<KeyState> state = Find(key_id, now_s, /*create=*/false);
  if (!state) return false;
  std::lock_guard<std::mutex> lock(state->mutex);
  KeyState& key = *state;
  if (!key.alarmed || now_s - key.alarm_s >= static_cast<double>(options_.throttle_seconds)) {
    return false;
  }
  if (now_s - key.minute_start_s >= 60) {
    key.minute_start_s = now_s;
    key.minute_requests = 0;
  }
  if (key.minute_requests >= options_.throttle_per_minute) {
    if (retry_after_s) {
      *retry_after_s = std::max(1, static_cast<int>(std::ceil(60 - (now_s - key.minute_start_s))));
    }
    return true;
  }
  ++key.minute_requests;
  return false;
}

size_t ExtractionMonitor::keys() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return keys_.size();
}

bool ExtractionMonitor::Tracks(const std::string& key_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return keys_.count(key_id) > 0;
}

std::map<std::string, double> ExtractionMonitor::alarmed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, double> out;
  for (const auto& [key_id, state] : keys_) {
    std::lock_guard<std::mutex> key_lock(state->mutex);
    if (state->alarmed) out[key_id] = state->w;
  }
  return out;
}

}  // namespace mg::serve

namespace mg::serve {

std::string ExtractionMonitor::MetricsText() const {
  std::string out;
  auto header = [&out](std::string_view name, std::string_view type, std::string_view help) {
    out.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  };
  header("modelgate_extraction_keys_tracked", "gauge",
         "API keys whose query streams the extraction alarm follows.");
  out.append("modelgate_extraction_keys_tracked ").append(std::to_string(keys())).append("\n");
  header("modelgate_extraction_alarms_total", "counter",
         "Extraction alarms raised, by the signal that raised them.");
  out.append("modelgate_extraction_alarms_total{signal=\"shapiro_wilk\"} ")
      .append(std::to_string(shapiro_wilk_alarms_.load()))
      .append("\n");
  out.append("modelgate_extraction_alarms_total{signal=\"novelty\"} ")
      .append(std::to_string(novelty_alarms_.load()))
      .append("\n");
  header("modelgate_extraction_throttled_total", "counter",
         "Requests refused because their key alarmed (--extraction-action throttle).");
  out.append("modelgate_extraction_throttled_total ")
      .append(std::to_string(throttled_.load()))
      .append("\n");
  header("modelgate_extraction_shapiro_wilk_w", "histogram",
         "Shapiro-Wilk W of each key's minimum query distances, per test.");
  w_.Render("modelgate_extraction_shapiro_wilk_w", &out);
  header("modelgate_extraction_novelty", "histogram",
         "Fraction of a key's recent tokens it had not sent before, per test.");
  novelty_.Render("modelgate_extraction_novelty", &out);
  header("modelgate_extraction_alarmed_key_w", "gauge",
         "The last Shapiro-Wilk W of each key that alarmed, by key id.");
  char buffer[32];
  for (const auto& [key_id, w] : alarmed()) {
    std::snprintf(buffer, sizeof buffer, "%.6g", w);
    out.append("modelgate_extraction_alarmed_key_w{key_id=\"");
    for (char c : key_id) {
      if (c == '\\' || c == '"') out.push_back('\\');
      if (c != '\n') out.push_back(c);
    }
    out.append("\"} ");
    out.append(buffer).append("\n");
  }
  return out;
}

}  // namespace mg::serve
