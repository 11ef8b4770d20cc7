#include "serve/extraction_monitor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace mg::serve {
namespace {

constexpr int32_t kVocab = 30000;

// Queries like text: 6 to 20 tokens drawn from a Zipf-like law over a few
// hundred words (a frequent core and a long tail), as ordinary users write.
std::vector<int32_t> NaturalQuery(std::mt19937_64& random) {
  static const std::vector<double> weights = [] {
    std::vector<double> w(400);
    for (size_t rank = 0; rank < w.size(); ++rank) w[rank] = 1.0 / (rank + 1);
    return w;
  }();
  std::discrete_distribution<int32_t> word(weights.begin(), weights.end());
  std::uniform_int_distribution<int> length(6, 20);
  std::vector<int32_t> query(static_cast<size_t>(length(random)));
  for (int32_t& id : query) id = 1000 + word(random);
  return query;
}

// PRADA's and Papernot's synthetic queries: random tokens of the vocabulary.
std::vector<int32_t> RandomQuery(std::mt19937_64& random, int length) {
  std::uniform_int_distribution<int32_t> token(1000, kVocab - 1);
  std::vector<int32_t> query(static_cast<size_t>(length));
  for (int32_t& id : query) id = token(random);
  return query;
}

ExtractionOptions Options() {
  ExtractionOptions options;
  options.vocab_size = kVocab;
  return options;
}

TEST(ExtractionMonitorTest, RandomTokenQueriesAlarmSoonAfterWarmUp) {
  for (int length : {8, 20, 40}) {
    ExtractionMonitor monitor(Options());
    std::mt19937_64 random(length);
    std::optional<ExtractionAlarm> alarm;
    int queries = 0;
    while (!alarm && queries < 400) {
      ++queries;
      alarm = monitor.Observe("key_a", "attacker", RandomQuery(random, length), queries % 3,
                              queries, nullptr);
    }
    ASSERT_TRUE(alarm.has_value()) << "length " << length;
    EXPECT_LE(queries, 150) << "length " << length;
    EXPECT_EQ(alarm->key_id, "key_a");
    EXPECT_EQ(alarm->key_name, "attacker");
    EXPECT_EQ(alarm->queries, queries);
    EXPECT_TRUE(alarm->w < 0.8 || alarm->novelty > 0.7);
    EXPECT_EQ(monitor.alarmed().count("key_a"), 1u);
  }
}

TEST(ExtractionMonitorTest, NaturalQueriesDoNotAlarm) {
  ExtractionMonitor monitor(Options());
  std::mt19937_64 random(11);
  int tests = 0;
  for (int q = 1; q <= 2000; ++q) {
    std::optional<ExtractionTest> test;
    auto alarm = monitor.Observe("key_b", "shop", NaturalQuery(random), q % 4, q, &test);
    ASSERT_FALSE(alarm.has_value())
        << "query " << q << ": W " << alarm->w << ", novelty " << alarm->novelty;
    if (test) {
      ++tests;
      EXPECT_GT(test->w, 0.8);
      EXPECT_LT(test->novelty, 0.7);
    }
  }
  EXPECT_GT(tests, 150);
  EXPECT_TRUE(monitor.alarmed().empty());
}

TEST(ExtractionMonitorTest, RepeatingOneQueryDoesNotAlarm) {
  ExtractionMonitor monitor(Options());
  const std::vector<int32_t> query = {1200, 1201, 1300, 1400};
  for (int q = 1; q <= 500; ++q) {
    ASSERT_FALSE(monitor.Observe("key_c", "loop", query, 0, q, nullptr).has_value());
  }
}

// A stream sent again (in another order) adds no distances: each query
// repeats one still among the key's recent queries exactly, so W stays what
// the first pass left it at, however the float weights round.
TEST(ExtractionMonitorTest, AStreamSentAgainAddsNoDistances) {
  ExtractionMonitor monitor(Options());
  std::mt19937_64 random(29);
  std::vector<std::vector<int32_t>> stream;
  for (int q = 0; q < 200; ++q) stream.push_back(NaturalQuery(random));
  int q = 0;
  std::vector<double> w[3];  // the W of each test, per pass
  for (int pass = 0; pass < 3; ++pass) {
    if (pass > 0) std::shuffle(stream.begin(), stream.end(), random);
    for (const std::vector<int32_t>& query : stream) {
      std::optional<ExtractionTest> test;
      auto alarm = monitor.Observe("key_r", "repeat", query, 0, ++q, &test);
      ASSERT_FALSE(alarm.has_value()) << "pass " << pass << ": W " << alarm->w;
      if (test) w[pass].push_back(test->w);
    }
  }
  ASSERT_FALSE(w[0].empty());
  EXPECT_GT(w[0].back(), 0.8);
  ASSERT_GT(w[1].size() + w[2].size(), 30u);
  // The repeats test the distances of the whole first pass, and only those.
  for (int pass = 1; pass < 3; ++pass)
    for (double value : w[pass]) ASSERT_EQ(value, w[1].front()) << "pass " << pass;
}

TEST(ExtractionMonitorTest, AlarmsOncePerKeyAndKeysAreIndependent) {
  ExtractionMonitor monitor(Options());
  std::mt19937_64 random(3);
  int alarms = 0;
  for (int q = 1; q <= 600; ++q) {
    alarms += monitor.Observe("key_a", "a", RandomQuery(random, 10), 0, q, nullptr).has_value();
    EXPECT_FALSE(monitor.Observe("key_b", "b", NaturalQuery(random), 0, q, nullptr).has_value());
  }
  EXPECT_EQ(alarms, 1);
  EXPECT_EQ(monitor.keys(), 2u);
  EXPECT_EQ(monitor.alarmed().size(), 1u);
}

TEST(ExtractionMonitorTest, ForgetsTheKeyIdleLongest) {
  ExtractionOptions options = Options();
  options.max_keys = 3;
  ExtractionMonitor monitor(options);
  const std::vector<int32_t> query = {1200, 1300};
  monitor.Observe("k1", "k1", query, 0, 1, nullptr);
  monitor.Observe("k2", "k2", query, 0, 2, nullptr);
  monitor.Observe("k3", "k3", query, 0, 3, nullptr);
  monitor.Observe("k1", "k1", query, 0, 4, nullptr);  // k2 is now the idlest
  monitor.Observe("k4", "k4", query, 0, 5, nullptr);
  EXPECT_EQ(monitor.keys(), 3u);
  EXPECT_TRUE(monitor.Tracks("k1"));
  EXPECT_FALSE(monitor.Tracks("k2"));
  EXPECT_TRUE(monitor.Tracks("k3"));
  EXPECT_TRUE(monitor.Tracks("k4"));
}

TEST(ExtractionMonitorTest, ThrottlesAnAlarmedKeyForAPeriod) {
  ExtractionOptions options = Options();
  options.throttle_per_minute = 2;
  options.throttle_seconds = 600;
  ExtractionMonitor monitor(options);
  std::mt19937_64 random(5);
  double now = 0;
  int retry_after = 0;
  EXPECT_FALSE(monitor.Throttled("key_a", now, &retry_after));  // unknown key
  while (!monitor.Observe("key_a", "a", RandomQuery(random, 8), 0, now, nullptr)) {
    EXPECT_FALSE(monitor.Throttled("key_a", now, &retry_after));
    now += 0.01;
  }
  const double alarm = now;
  EXPECT_FALSE(monitor.Throttled("key_a", alarm + 1, &retry_after));
  EXPECT_FALSE(monitor.Throttled("key_a", alarm + 2, &retry_after));
  EXPECT_TRUE(monitor.Throttled("key_a", alarm + 3, &retry_after));
  EXPECT_EQ(retry_after, 57);
  EXPECT_FALSE(monitor.Throttled("key_a", alarm + 61, &retry_after));  // a new minute
  EXPECT_FALSE(monitor.Throttled("key_a", alarm + 62, &retry_after));
  EXPECT_TRUE(monitor.Throttled("key_a", alarm + 63, &retry_after));
  EXPECT_FALSE(monitor.Throttled("key_a", alarm + 601, &retry_after));  // the period is over
  EXPECT_FALSE(monitor.Throttled("key_a", alarm + 601, &retry_after));
  EXPECT_FALSE(monitor.Throttled("key_a", alarm + 601, &retry_after));
}

TEST(ExtractionMonitorTest, MetricsNameOnlyAlarmedKeys) {
  ExtractionMonitor monitor(Options());
  std::mt19937_64 random(9);
  for (int q = 1; q <= 300; ++q) {
    monitor.Observe("key_attack", "a", RandomQuery(random, 8), 0, q, nullptr);
    monitor.Observe("key_quiet", "b", NaturalQuery(random), 0, q, nullptr);
  }
  const std::string text = monitor.MetricsText();
  EXPECT_NE(text.find("modelgate_extraction_alarmed_key_w{key_id=\"key_attack\"}"),
            std::string::npos);
  EXPECT_EQ(text.find("key_quiet"), std::string::npos);
  EXPECT_NE(text.find("modelgate_extraction_keys_tracked 2"), std::string::npos);
  EXPECT_NE(text.find("modelgate_extraction_shapiro_wilk_w_count"), std::string::npos);
}

TEST(ExtractionMonitorTest, ParsesActions) {
  EXPECT_EQ(*ParseExtractionAction("none"), ExtractionAction::kNone);
  EXPECT_EQ(*ParseExtractionAction("throttle"), ExtractionAction::kThrottle);
  EXPECT_EQ(*ParseExtractionAction("suspend"), ExtractionAction::kSuspend);
  EXPECT_EQ(*ParseExtractionAction("degrade"), ExtractionAction::kDegrade);
  EXPECT_FALSE(ParseExtractionAction("label").ok());
}

}  // namespace
}  // namespace mg::serve
