// Licence quotas: the pure check, and the control plane's shared counters
// on both real backends (SQLite and a PostgreSQL the test starts), with
// concurrent threads and processes that must never overshoot a limit.
#include "store/licence_quota.h"

#include <gtest/gtest.h>
#include <atomic>
#include <thread>
#include <vector>

#include "store/control_plane.h"
#include "store/limits.h"
#include "store/store_test_fixture.h"

namespace mg::store {
namespace {

using testing::DialectName;
using testing::FreshDatabaseUrl;

// 2026-03-10T12:00:00Z.
constexpr int64_t kNoon = 1'773'144'000'000;

TEST(LicenceQuotaCheck, CountsRequestsOverLifeAndTokensPerDay) {
  const LicenceLimits limits{"lic1", 3, 100};
  LicenceCounts counts;
  LicenceVerdict verdict = CheckLicenceQuota(limits, counts, 60, kNoon);
  ASSERT_EQ(verdict.status, 200);
  EXPECT_EQ(verdict.counts.requests, 1);
  EXPECT_EQ(verdict.counts.day_tokens, 60);
  EXPECT_EQ(verdict.day_ms, PeriodStart("day", kNoon));
  counts = verdict.counts;

  // 60 + 50 > 100 today: refused until midnight UTC (12 hours away).
  verdict = CheckLicenceQuota(limits, counts, 50, kNoon);
  EXPECT_EQ(verdict.status, 429);
  EXPECT_EQ(verdict.error_type, "licence_quota_exceeded");
  EXPECT_NE(verdict.message.find("100 tokens per day"), std::string::npos) << verdict.message;
  EXPECT_EQ(verdict.retry_after_s, 12 * 3600);
  EXPECT_EQ(verdict.counts.requests, 1);  // unchanged when refused

  // The next day the tokens start again; the requests do not.
  const int64_t tomorrow = kNoon + kDayMs;
  verdict = CheckLicenceQuota(limits, counts, 50, tomorrow);
  ASSERT_EQ(verdict.status, 200);
  EXPECT_EQ(verdict.counts.day_tokens, 50);
  EXPECT_EQ(verdict.counts.requests, 2);
  counts = verdict.counts;
  counts = CheckLicenceQuota(limits, counts, 1, tomorrow).counts;
  EXPECT_EQ(counts.requests, 3);
  verdict = CheckLicenceQuota(limits, counts, 1, tomorrow + kDayMs);
  EXPECT_EQ(verdict.status, 429);
  EXPECT_NE(verdict.message.find("allows 3 requests"), std::string::npos) << verdict.message;
  EXPECT_EQ(verdict.retry_after_s, 0);  // never, with this licence

  // A single request larger than the daily limit can never fit.
  verdict = CheckLicenceQuota(limits, LicenceCounts{}, 101, kNoon);
  EXPECT_EQ(verdict.status, 429);
  EXPECT_NE(verdict.message.find("this request alone"), std::string::npos) << verdict.message;

  // Zero means unlimited.
  const LicenceLimits none{"lic2", 0, 0};
  EXPECT_EQ(CheckLicenceQuota(none, {1'000'000'000, PeriodStart("day", kNoon), 1LL << 40},
                              1LL << 20, kNoon)
                .status,
            200);
}

class LicenceQuotaStoreTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    url_ = FreshDatabaseUrl(GetParam());
    if (url_.empty()) GTEST_SKIP() << "PostgreSQL unavailable: " << testing::TestPostgres::reason();
    auto opened =
        ControlPlane::Open(url_, {.pool_size = GetParam() == Dialect::kPostgres ? 16 : 0});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    cp_ = std::move(opened).value();
  }
  std::string url_;
  std::unique_ptr<ControlPlane> cp_;
};

TEST_P(LicenceQuotaStoreTest, ReserveSettleAndReadBack) {
  const LicenceLimits limits{"0123456789abcdef0123456789abcdef", 10, 1000};
  auto first = cp_->ReserveLicence(limits, 400, kNoon);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->status, 200);
  // The reply used fewer tokens than reserved: the day is corrected.
  ASSERT_TRUE(cp_->SettleLicence(limits.licence_id, first->day_ms, 400, 300, true).ok());
  // A failed request gives back its request and its tokens.
  auto failed = cp_->ReserveLicence(limits, 500, kNoon);
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->status, 200);
  ASSERT_TRUE(cp_->SettleLicence(limits.licence_id, failed->day_ms, 500, 500, false).ok());
  auto usage = cp_->LicenceUsage(limits.licence_id, kNoon);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->requests, 1);
  EXPECT_EQ(usage->day_tokens, 300);
  // 300 + 701 > 1000.
  auto over = cp_->ReserveLicence(limits, 701, kNoon);
  ASSERT_TRUE(over.ok());
  EXPECT_EQ(over->status, 429);
  EXPECT_EQ(over->counts.day_tokens, 300);
  // Another day: tokens free again; the other licence id is independent.
  auto next_day = cp_->ReserveLicence(limits, 701, kNoon + kDayMs);
  ASSERT_TRUE(next_day.ok());
  EXPECT_EQ(next_day->status, 200);
  // Limits beyond 32 bits.
  auto large = cp_->ReserveLicence(
      {"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", 3'000'000'000, 5'000'000'000}, 7, kNoon);
  ASSERT_TRUE(large.ok()) << large.status().ToString();
  EXPECT_EQ(large->status, 200);
  auto other = cp_->ReserveLicence({"ffffffffffffffffffffffffffffffff", 1, 0}, 5, kNoon);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->counts.requests, 1);
  usage = cp_->LicenceUsage(limits.licence_id, kNoon + kDayMs);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->requests, 2);
  EXPECT_EQ(usage->day_tokens, 701);
}

TEST_P(LicenceQuotaStoreTest, CountersSurviveReopening) {
  const LicenceLimits limits{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 2, 0};
  ASSERT_EQ(cp_->ReserveLicence(limits, 1, kNoon)->status, 200);
  ASSERT_EQ(cp_->ReserveLicence(limits, 1, kNoon)->status, 200);
  cp_.reset();
  auto reopened = ControlPlane::Open(url_);
  ASSERT_TRUE(reopened.ok());
  auto third = (*reopened)->ReserveLicence(limits, 1, kNoon + 40 * kDayMs);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->status, 429);
}

// Threads in several processes, each with its own connections, never
// overshoot the licence's requests or its daily tokens.
TEST_P(LicenceQuotaStoreTest, ProcessesAndThreadsNeverOvershoot) {
  const LicenceLimits by_requests{"11111111111111111111111111111111", 50, 0};
  const LicenceLimits by_tokens{"22222222222222222222222222222222", 0, 777};
  constexpr int kProcesses = 3, kThreads = 8, kCalls = 10;
  cp_.reset();
  EXPECT_TRUE(testing::RunInProcesses(url_, kProcesses, kThreads, [&](ControlPlane& cp, int) {
    int bad = 0;
    for (int i = 0; i < kCalls; ++i) {
      for (const LicenceLimits* limits : {&by_requests, &by_tokens}) {
        auto verdict = cp.ReserveLicence(*limits, 9, kNoon);
        if (!verdict.ok() || (verdict->status != 200 && verdict->status != 429)) bad++;
      }
    }
    return bad;
  }));
  auto reopened = ControlPlane::Open(url_);
  ASSERT_TRUE(reopened.ok());
  auto requests = (*reopened)->LicenceUsage(by_requests.licence_id, kNoon);
  ASSERT_TRUE(requests.ok());
  EXPECT_EQ(requests->requests, 50);  // 240 tried
  auto tokens = (*reopened)->LicenceUsage(by_tokens.licence_id, kNoon);
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->day_tokens, 777 / 9 * 9);
  EXPECT_EQ(tokens->requests, 777 / 9);
}

// The licence counted inside Admit and Finish of several keys at once, from
// several processes: never overshot, no deadlock between a batch that locks
// the licence and one that locks a key, failures give their count back, and
// refusals are audited.
TEST_P(LicenceQuotaStoreTest, AdmitAndFinishShareTheLicenceAcrossKeys) {
  // The daily limit is beyond 32 bits and never reached.
  const LicenceLimits licence{"33333333333333333333333333333333", 60, 5'000'000'000};
  std::vector<std::string> keys;
  for (const char* name : {"a", "b", "c"}) {
    auto created = cp_->CreateKey({.name = name, .scopes = {"embed"}}, "test");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    keys.push_back(created->secret);
  }
  constexpr int kProcesses = 3, kThreads = 6, kCalls = 8;
  cp_.reset();
  EXPECT_TRUE(testing::RunInProcesses(url_, kProcesses, kThreads, [&](ControlPlane& cp, int t) {
    int bad = 0;
    for (int i = 0; i < kCalls; ++i) {
      AdmitRequest request{keys[(t + i) % keys.size()], "/embed", "embed", "r", 4};
      request.licence = &licence;
      request.licence_now_ms = kNoon;
      const Admission admission = cp.Admit(request);
      if (admission.status == 200) {
        // Every fourth request fails after admission: it must not count.
        const int status = i % 4 == 3 ? 503 : 200;
        const Status finished = cp.Finish(admission, request, {status, 4, 1});
        // Refused at Finish: another process took the licence's last requests.
        if (!finished.ok() && !IsRefusedAtFinish(finished)) bad++;
      } else if (admission.status != 429 || admission.error_type != "licence_quota_exceeded") {
        bad++;
      }
    }
    return bad;
  }));
  auto reopened = ControlPlane::Open(url_);
  ASSERT_TRUE(reopened.ok());
  cp_ = std::move(reopened).value();
  auto usage = cp_->LicenceUsage(licence.licence_id, kNoon);
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ(usage->requests, 60);  // 144 tried, failures given back
  EXPECT_EQ(usage->day_tokens, 60 * 4);
  auto lease = cp_->Connection();
  ASSERT_TRUE(lease.ok());
  auto served = (*lease)->Query("SELECT COUNT(*) FROM usage_ledger WHERE status = 200", {});
  ASSERT_TRUE(served.ok());
  EXPECT_EQ((*served)[0].Int(0), 60);
  auto refused = (*lease)->Query(
      "SELECT COUNT(*) FROM audit_log WHERE status = 429 AND detail = 'licence_quota_exceeded'",
      {});
  ASSERT_TRUE(refused.ok());
  auto finished = (*lease)->Query("SELECT COUNT(*) FROM usage_ledger WHERE status <> 0", {});
  ASSERT_TRUE(finished.ok());
  EXPECT_EQ((*refused)[0].Int(0) + (*finished)[0].Int(0), kProcesses * kThreads * kCalls);
  auto verdict = cp_->VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
}

INSTANTIATE_TEST_SUITE_P(Store, LicenceQuotaStoreTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& param_info) { return DialectName(param_info.param); });

}  // namespace
}  // namespace mg::store
