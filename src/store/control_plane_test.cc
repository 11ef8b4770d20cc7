// The control plane against both real backends: keys, limits, metering and
// audit, with the same suite on SQLite and on a PostgreSQL server the test
// starts itself.
#include "store/control_plane.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "store/api_key.h"
#include "store/key_row.h"
#include "store/limits.h"
#include "store/store_test_fixture.h"

namespace mg::store {
namespace {

using testing::DialectName;
using testing::FreshDatabaseUrl;

// Every column of a kSelectKey row lands in its named field: each column
// holds a distinct value, so a shifted or swapped column shows.
TEST(KeyRowTest, DecodesEveryColumnByName) {
  SqlRow row;
  for (const char* value : {"id-1", "acme", "hash-1", ",embed,", "4", "5", "6", "7", "day", "9",
                            "10", "11", "12", "13", "14", "15", "16", "17", "label"}) {
    row.columns.emplace_back(value);
  }
  auto decoded = DecodeKeyRow(row);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const KeyRow& key = *decoded;
  EXPECT_EQ(key.id, "id-1");
  EXPECT_EQ(key.name, "acme");
  EXPECT_EQ(key.hash, "hash-1");
  EXPECT_EQ(key.scopes, ",embed,");
  EXPECT_EQ(key.rpm, 4);
  EXPECT_EQ(key.tpm, 5);
  EXPECT_EQ(key.quota_tokens, 6);
  EXPECT_EQ(key.budget_micro_usd, 7);
  EXPECT_EQ(key.quota_period, "day");
  EXPECT_EQ(key.expires_ms, 9);
  EXPECT_EQ(key.revoked_ms, 10);
  EXPECT_EQ(key.counters.minute_ms, 11);
  EXPECT_EQ(key.counters.minute_requests, 12);
  EXPECT_EQ(key.counters.minute_tokens, 13);
  EXPECT_EQ(key.counters.period_ms, 14);
  EXPECT_EQ(key.counters.period_tokens, 15);
  EXPECT_EQ(key.counters.period_micro_usd, 16);
  EXPECT_EQ(key.micro_usd_per_1k, 17);
  EXPECT_EQ(key.output_policy, "label");
  // A row of another shape is an error, not a misread.
  row.columns.pop_back();
  EXPECT_FALSE(DecodeKeyRow(row).ok());
  EXPECT_FALSE(DecodeKeyRow(SqlRow{}).ok());
}

// Counts of a minute or period that has ended do not count.
TEST(KeyRowTest, CurrentWindowsDropEndedMinutesAndPeriods) {
  const int64_t now = 1'795'000'000'000 + 30'000;  // mid-minute, mid-month
  KeyCounters counters{MinuteStart(now), 3, 30, PeriodStart("month", now), 300, 3000};
  KeyCounters same = CurrentWindows(counters, "month", now);
  EXPECT_EQ(same.minute_requests, 3);
  EXPECT_EQ(same.minute_tokens, 30);
  EXPECT_EQ(same.period_tokens, 300);
  EXPECT_EQ(same.period_micro_usd, 3000);
  KeyCounters next_minute = CurrentWindows(counters, "month", now + kMinuteMs);
  EXPECT_EQ(next_minute.minute_ms, MinuteStart(now) + kMinuteMs);
  EXPECT_EQ(next_minute.minute_requests, 0);
  EXPECT_EQ(next_minute.minute_tokens, 0);
  EXPECT_EQ(next_minute.period_tokens, 300);
  // A daily quota's period ends before the month's.
  KeyCounters next_day = CurrentWindows(counters, "day", now + kDayMs);
  EXPECT_EQ(next_day.period_ms, PeriodStart("day", now + kDayMs));
  EXPECT_EQ(next_day.period_tokens, 0);
  EXPECT_EQ(next_day.period_micro_usd, 0);
}

class ControlPlaneTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    url_ = FreshDatabaseUrl(GetParam());
    if (url_.empty()) GTEST_SKIP() << "PostgreSQL unavailable: " << testing::TestPostgres::reason();
    ControlPlaneOptions options;
    options.now_ms = [this] { return now_.load(); };
    options.pool_size = GetParam() == Dialect::kPostgres ? 16 : 0;
    auto opened = ControlPlane::Open(url_, std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    cp_ = std::move(opened).value();
  }

  std::string Create(KeySpec spec) {
    if (spec.scopes.empty()) spec.scopes = {"embed"};
    auto created = cp_->CreateKey(spec, "test");
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return created.ok() ? created->secret : std::string();
  }

  Admission Admit(const std::string& key, int64_t tokens, std::string_view scope = "embed",
                  std::string_view route = "/v1/embeddings") {
    AdmitRequest request{key, route, scope, "req", tokens};
    return cp_->Admit(request);
  }

  // Admit and finish with the reserved tokens; returns the admission status.
  int Call(const std::string& key, int64_t tokens) {
    AdmitRequest request{key, "/v1/embeddings", "embed", "req", tokens};
    Admission admission = cp_->Admit(request);
    if (admission.status == 200) {
      EXPECT_TRUE(cp_->Finish(admission, request, {200, tokens, 1.5}).ok());
    }
    return admission.status;
  }

  SqlRows Sql(const std::string& sql) {
    auto lease = cp_->Connection();
    EXPECT_TRUE(lease.ok());
    auto rows = (*lease)->Query(sql, {});
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    return rows.ok() ? *rows : SqlRows{};
  }

  std::string url_;
  std::atomic<int64_t> now_{1'795'000'000'000};  // 2026-11-17, mid-month
  std::unique_ptr<ControlPlane> cp_;
};

TEST_P(ControlPlaneTest, KeyIsShownOnceAndStoredOnlyAsHash) {
  auto created = cp_->CreateKey({.name = "acme", .scopes = {"embed", "classify"}}, "test");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(IsWellFormedApiKey(created->secret));
  EXPECT_EQ(created->secret.size(), kApiKeyLength);
  SqlRows rows = Sql("SELECT id, name, hash, scopes FROM api_keys");
  ASSERT_EQ(rows.size(), 1u);
  for (const auto& column : rows[0].columns) {
    EXPECT_EQ(column->find(created->secret.substr(3)), std::string::npos);
  }
  EXPECT_EQ(rows[0].Text(2), HashApiKey(created->secret));
  // A second key never repeats the first.
  auto other = cp_->CreateKey({.name = "other", .scopes = {"embed"}}, "test");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->secret, created->secret);
  // Duplicate names are refused.
  EXPECT_FALSE(cp_->CreateKey({.name = "acme", .scopes = {"embed"}}, "test").ok());
}

// A key's output policy is validated, stored in its canonical form, listed,
// and read with the key on every request.
TEST_P(ControlPlaneTest, KeysKeepTheirOutputPolicy) {
  EXPECT_FALSE(
      cp_->CreateKey({.name = "bad", .scopes = {"embed"}, .output_policy = "lable"}, "test").ok());
  auto strict = cp_->CreateKey(
      {.name = "strict", .scopes = {"embed"}, .output_policy = "no-scores,topk:1"}, "test");
  ASSERT_TRUE(strict.ok()) << strict.status().ToString();
  EXPECT_EQ(strict->info.spec.output_policy, "label");
  const std::string plain = Create({.name = "plain"});
  auto keys = cp_->ListKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].spec.name, "plain");
  EXPECT_EQ((*keys)[0].spec.output_policy, "full");
  EXPECT_EQ((*keys)[1].spec.output_policy, "label");
  AdmitRequest request{strict->secret, "/v1/embeddings", "embed", "req", 1};
  const Admission admission = cp_->Authenticate(request);
  ASSERT_EQ(admission.status, 200);
  ASSERT_TRUE(admission.key.has_value());
  EXPECT_EQ(admission.key->output_policy, "label");
}

// A database of schema version 3 (before output policies) upgrades in place:
// its keys stay, and show everything ("full").
TEST_P(ControlPlaneTest, OldDatabasesUpgradeWithFullOutputPolicies) {
  const std::string secret = Create({.name = "old", .scopes = {"embed", "classify"}});
  cp_.reset();
  {
    auto db = OpenConnection(url_);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE((*db)
                    ->ExecScript("ALTER TABLE api_keys DROP COLUMN output_policy; "
                                 "DELETE FROM schema_version; "
                                 "INSERT INTO schema_version (version) VALUES (3)")
                    .ok());
  }
  auto opened = ControlPlane::Open(url_);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  cp_ = std::move(opened).value();
  EXPECT_EQ(Sql("SELECT version FROM schema_version")[0].Int(0), 4);
  auto keys = cp_->ListKeys();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].spec.name, "old");
  EXPECT_EQ((*keys)[0].spec.output_policy, "full");
  AdmitRequest request{secret, "/v1/embeddings", "embed", "req", 1};
  const Admission admission = cp_->Authenticate(request);
  ASSERT_EQ(admission.status, 200);
  EXPECT_EQ(admission.key->output_policy, "full");
}

TEST_P(ControlPlaneTest, AdmitFinishMetersTheRequest) {
  ASSERT_TRUE(cp_->SetRoutePrice("/v1/embeddings", 20'000, "test").ok());  // $0.02 / 1k
  const std::string key = Create({.name = "acme"});
  AdmitRequest request{key, "/v1/embeddings", "embed", "r-1", 120};
  Admission admission = cp_->Admit(request);
  ASSERT_EQ(admission.status, 200) << admission.message;
  EXPECT_EQ(admission.key_name, "acme");
  EXPECT_NE(admission.reservation, 0u);
  // The reservation is this process's until Finish records the request with
  // it, in one transaction.
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM usage_ledger")[0].Int(0), 0);
  ASSERT_TRUE(cp_->Finish(admission, request, {200, 100, 12.5}).ok());
  ASSERT_TRUE(cp_->Finish(admission, request, {200, 100, 12.5}).ok());  // counted once
  SqlRows ledger = Sql("SELECT status, tokens, micro_usd, latency_ms FROM usage_ledger");
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].Int(0), 200);
  EXPECT_EQ(ledger[0].Int(1), 100);
  EXPECT_EQ(ledger[0].Int(2), 2000);  // 100 tokens at 20000 micro-USD per 1k
  auto usage = cp_->Usage({});
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].key_name, "acme");
  EXPECT_EQ((*usage)[0].requests, 1);
  EXPECT_EQ((*usage)[0].tokens, 100);
  EXPECT_EQ((*usage)[0].micro_usd, 2000);
  EXPECT_DOUBLE_EQ((*usage)[0].mean_latency_ms, 12.5);
  // The period counters hold actual, not reserved, tokens.
  EXPECT_EQ(Sql("SELECT period_tokens FROM key_state")[0].Int(0), 100);
  auto verdict = cp_->VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
  EXPECT_EQ(verdict->entries, 3);  // price.set, key.create, request
  auto audit = cp_->ReadAudit(0, 10);
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ((*audit)[2].action, "request");
  EXPECT_EQ((*audit)[2].actor, "acme");
  EXPECT_EQ((*audit)[2].tokens, 100);
  EXPECT_EQ((*audit)[2].target, "r-1");
}

// Admit uses the key row Authenticate read for the same request (one read
// per request), and only the row of the key the request carries.
TEST_P(ControlPlaneTest, AdmitUsesTheKeyRowAuthenticateRead) {
  const std::string key = Create({.name = "acme"});
  const std::string other = Create({.name = "other"});
  AdmitRequest request{key, "/v1/embeddings", "embed", "r-1", 10};
  Admission authenticated = cp_->Authenticate(request);
  ASSERT_EQ(authenticated.status, 200) << authenticated.message;
  ASSERT_TRUE(authenticated.key.has_value());
  EXPECT_EQ(authenticated.key->name, "acme");
  // Revoked after this request was authenticated: the request goes on with
  // the row it was authenticated with; the next request is refused.
  ASSERT_TRUE(cp_->RevokeKey("acme", "test").ok());
  request.key = &*authenticated.key;
  Admission admission = cp_->Admit(request);
  EXPECT_EQ(admission.status, 200) << admission.message;
  ASSERT_TRUE(cp_->Finish(admission, request, {200, 10, 1.0}).ok());
  EXPECT_EQ(Admit(key, 10).status, 401);
  // Another key's row is not taken for this key: Admit reads the key itself.
  AdmitRequest other_request{other, "/v1/embeddings", "embed", "r-2", 10};
  other_request.key = &*authenticated.key;
  Admission other_admission = cp_->Admit(other_request);
  ASSERT_EQ(other_admission.status, 200) << other_admission.message;
  EXPECT_EQ(other_admission.key_name, "other");
  ASSERT_TRUE(cp_->Finish(other_admission, other_request, {200, 10, 1.0}).ok());
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM usage_ledger WHERE key_id = (SELECT id FROM api_keys WHERE "
                "name = 'other')")[0]
                .Int(0),
            1);
}

TEST_P(ControlPlaneTest, BadKeysAreRefusedAndKnownKeysAudited) {
  const std::string key = Create({.name = "acme", .scopes = {"embed"}});
  const std::string revoked = Create({.name = "gone"});
  const std::string expiring = Create({.name = "old", .expires_ms = now_ + 1000});
  ASSERT_TRUE(cp_->RevokeKey("gone", "test").ok());
  EXPECT_EQ(cp_->RevokeKey("gone", "test").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(cp_->RevokeKey("nobody", "test").code(), StatusCode::kNotFound);
  now_ += 2000;

  Admission a = Admit("not-a-key", 1);
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.message.find("malformed"), std::string::npos);
  a = Admit("", 1);
  EXPECT_EQ(a.status, 401);
  a = Admit(GenerateApiKey(), 1);
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.message.find("unknown"), std::string::npos);
  a = Admit(revoked, 1);
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.message.find("revoked"), std::string::npos);
  a = Admit(expiring, 1);
  EXPECT_EQ(a.status, 401);
  EXPECT_NE(a.message.find("expired"), std::string::npos);
  a = Admit(key, 1, "classify");
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.error_type, "insufficient_scope");
  EXPECT_EQ(Admit(key, 1, "admin").status, 403);
  // A key differing in one character is unknown.
  std::string near = key;
  near.back() = near.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(Admit(near, 1).status, 401);
  EXPECT_EQ(Call(key, 1), 200);
  // Nothing but the admitted request reached the ledger; it and the refusals
  // of known keys are audited, those of keys nobody holds are not.
  const auto count = [this](const char* table) {
    return Sql(std::string("SELECT COUNT(*) FROM ") + table)[0].Int(0);
  };
  EXPECT_EQ(count("usage_ledger"), 1);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM audit_log WHERE action = 'request'")[0].Int(0), 5);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM audit_log WHERE actor = 'anonymous'")[0].Int(0), 0);

  // Authenticate gives the same verdicts, writing nothing for keys nobody holds.
  const int64_t audit_rows = count("audit_log");
  for (const std::string& nobody :
       {std::string("not-a-key"), std::string(), GenerateApiKey(), near}) {
    EXPECT_EQ(cp_->Authenticate({nobody, "/v1/embeddings", "embed", "auth", 0}).status, 401);
  }
  EXPECT_EQ(count("audit_log"), audit_rows);
  EXPECT_EQ(cp_->Authenticate({revoked, "/v1/embeddings", "embed", "auth", 0}).status, 401);
  EXPECT_EQ(cp_->Authenticate({key, "/v1/embeddings", "classify", "auth", 0}).status, 403);
  EXPECT_EQ(count("audit_log"), audit_rows + 2);
  const Admission known = cp_->Authenticate({key, "/v1/embeddings", "embed", "auth", 0});
  EXPECT_EQ(known.status, 200);
  EXPECT_EQ(known.key_name, "acme");
  EXPECT_EQ(count("audit_log"), audit_rows + 2);
  EXPECT_EQ(count("usage_ledger"), 1);
  auto verdict = cp_->VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
}

TEST_P(ControlPlaneTest, RequestsPerMinuteResetEachMinute) {
  const std::string key = Create({.name = "acme", .rpm = 3});
  now_ = MinuteStart(now_) + 15'000;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call(key, 1), 200);
  Admission refused = Admit(key, 1);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.error_type, "rate_limit_exceeded");
  EXPECT_NE(refused.message.find("requests-per-minute limit of 3"), std::string::npos);
  EXPECT_EQ(refused.retry_after_s, 45);
  now_ += 45'000;
  EXPECT_EQ(Call(key, 1), 200);
}

TEST_P(ControlPlaneTest, TokensPerMinuteQuotaAndBudget) {
  const std::string tpm = Create({.name = "tpm", .tpm = 100});
  EXPECT_EQ(Call(tpm, 60), 200);
  Admission refused = Admit(tpm, 41);
  EXPECT_EQ(refused.status, 429);
  EXPECT_NE(refused.message.find("tokens-per-minute"), std::string::npos);
  EXPECT_EQ(Call(tpm, 40), 200);

  const std::string quota = Create({.name = "quota", .quota_tokens = 1000, .quota_period = "day"});
  // Reserved 600 but used 300: the rest goes back to the quota.
  AdmitRequest request{quota, "/v1/embeddings", "embed", "r", 600};
  Admission admission = cp_->Admit(request);
  ASSERT_EQ(admission.status, 200);
  EXPECT_EQ(Admit(quota, 500).status, 429);  // 600 reserved + 500 > 1000
  ASSERT_TRUE(cp_->Finish(admission, request, {200, 300, 1}).ok());
  EXPECT_EQ(Call(quota, 700), 200);
  refused = Admit(quota, 1);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.error_type, "insufficient_quota");
  EXPECT_NE(refused.message.find("token quota of 1000 per day"), std::string::npos);
  EXPECT_EQ(refused.retry_after_s, RetryAfterSeconds(now_, PeriodEnd("day", now_)));
  now_ = PeriodEnd("day", now_);  // a new day, a new quota
  EXPECT_EQ(Call(quota, 1000), 200);

  ASSERT_TRUE(cp_->SetRoutePrice("/v1/embeddings", 1'000'000, "test").ok());  // $1 per 1k
  const std::string budget = Create({.name = "budget", .budget_micro_usd = 2'500'000});
  EXPECT_EQ(Call(budget, 2000), 200);  // $2
  refused = Admit(budget, 600);        // would reach $2.60
  EXPECT_EQ(refused.status, 429);
  EXPECT_NE(refused.message.find("budget of 2.500000 USD"), std::string::npos);
  EXPECT_EQ(Call(budget, 500), 200);
}

TEST_P(ControlPlaneTest, SqlInjectionIsStoredAsText) {
  const std::vector<std::string> attacks = {
      "'; DROP TABLE api_keys; --", "x' OR '1'='1", "\"; DELETE FROM usage_ledger; --",
      "Robert'); DROP TABLE audit_log;--", "1; UPDATE key_state SET period_tokens = 0"};
  for (const std::string& attack : attacks) {
    auto created =
        cp_->CreateKey({.name = attack, .scopes = {"embed"}, .quota_tokens = 50}, attack);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    AdmitRequest request{created->secret, attack, "embed", attack, 10};
    Admission admission = cp_->Admit(request);
    ASSERT_EQ(admission.status, 200) << admission.message;
    ASSERT_TRUE(cp_->Finish(admission, request, {200, 10, 1}).ok());
    EXPECT_EQ(cp_->Admit({created->secret, attack, attack, attack, 1}).status, 403);
    EXPECT_EQ(cp_->Admit({attack, attack, "embed", attack, 1}).status, 401);
    EXPECT_TRUE(cp_->SetRoutePrice(attack, 5, attack).ok());
    auto usage = cp_->Usage({.key_name = attack});
    ASSERT_TRUE(usage.ok());
    ASSERT_EQ(usage->size(), 1u);
    EXPECT_EQ((*usage)[0].key_name, attack);
    EXPECT_EQ((*usage)[0].tokens, 10);
  }
  auto keys = cp_->ListKeys();
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), attacks.size());
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM usage_ledger")[0].Int(0),
            static_cast<int64_t>(attacks.size()));
  EXPECT_TRUE(cp_->RevokeKey(attacks[0], attacks[1]).ok());
  auto verdict = cp_->VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
  // Bad input is refused with a clear error, not stored.
  EXPECT_FALSE(cp_->CreateKey({.name = "", .scopes = {"embed"}}, "t").ok());
  EXPECT_FALSE(cp_->CreateKey({.name = "a\nb", .scopes = {"embed"}}, "t").ok());
  EXPECT_FALSE(cp_->CreateKey({.name = "s", .scopes = {"embed'; --"}}, "t").ok());
  EXPECT_FALSE(cp_->CreateKey({.name = "n", .scopes = {"embed"}, .rpm = -1}, "t").ok());
}

// Many threads reserve from one quota: admitted tokens never exceed it, and
// the ledger and the counters agree with what the callers were told.
TEST_P(ControlPlaneTest, ConcurrentReservationsNeverOvershootTheQuota) {
  constexpr int64_t kQuota = 2000, kTokens = 7;
  const std::string key = Create({.name = "shared", .quota_tokens = kQuota});
  std::atomic<int64_t> admitted{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 15; ++i) {
        const int status = Call(key, kTokens);
        (status == 200 ? admitted : status == 429 ? refused : other).fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(admitted.load(), kQuota / kTokens);  // 285 of 480 fit
  EXPECT_EQ(admitted + refused, 32 * 15);
  EXPECT_EQ(Sql("SELECT SUM(tokens) FROM usage_ledger WHERE status = 200")[0].Int(0),
            admitted * kTokens);
  EXPECT_EQ(Sql("SELECT period_tokens FROM key_state")[0].Int(0), admitted * kTokens);
  auto verdict = cp_->VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
  EXPECT_EQ(verdict->entries, 1 + 32 * 15);
}

// The same with several commit batches at once over four keys: each key's
// admitted tokens are exactly what its quota holds, the counters agree, and
// concurrent batches never deadlock.
TEST_P(ControlPlaneTest, ConcurrentBatchesNeverOvershootAnyQuota) {
  constexpr int64_t kQuota = 700, kTokens = 7;
  std::vector<std::string> keys;
  for (const char* name : {"k0", "k1", "k2", "k3"}) {
    keys.push_back(Create({.name = name, .quota_tokens = kQuota}));
  }
  auto opened = ControlPlane::Open(
      url_,
      {.pool_size = 8, .max_concurrent_batches = 8, .now_ms = [this] { return now_.load(); }});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ControlPlane& cp = **opened;
  std::atomic<int64_t> admitted{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        AdmitRequest request{keys[(t + i) % keys.size()], "/v1/embeddings", "embed", "c", kTokens};
        const Admission admission = cp.Admit(request);
        if (admission.status == 200) {
          if (cp.Finish(admission, request, {200, kTokens, 1}).ok()) {
            admitted.fetch_add(1);
          } else {
            other.fetch_add(1);
          }
        } else if (admission.status != 429) {
          other.fetch_add(1);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(admitted.load(), 4 * (kQuota / kTokens));  // 400 of 1280 fit
  SqlRows per_key = Sql("SELECT period_tokens FROM key_state");
  ASSERT_EQ(per_key.size(), 4u);
  for (const SqlRow& row : per_key) EXPECT_EQ(row.Int(0), kQuota);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM usage_ledger WHERE status = 200")[0].Int(0), admitted.load());
  auto verdict = cp.VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
  EXPECT_EQ(verdict->entries, 4 + 32 * 40);
}

// Several processes, each with its own connections, on one database.
TEST_P(ControlPlaneTest, SeveralProcessesShareOneQuotaAndOneChain) {
  constexpr int64_t kQuota = 1500, kTokens = 11;
  constexpr int kProcesses = 4, kThreads = 6, kCalls = 12;
  const std::string key = Create({.name = "shared", .quota_tokens = kQuota});
  cp_.reset();
  EXPECT_TRUE(testing::RunInProcesses(url_, kProcesses, kThreads, [&](ControlPlane& cp, int) {
    int bad = 0;
    for (int i = 0; i < kCalls; ++i) {
      AdmitRequest request{key, "/v1/embeddings", "embed", "mp", kTokens};
      Admission admission = cp.Admit(request);
      if (admission.status == 200) {
        const Status finished = cp.Finish(admission, request, {200, kTokens, 1});
        // Another process took the rest of the quota meanwhile: refused
        // at Finish, nothing counted.
        if (!finished.ok() && !IsRefusedAtFinish(finished)) {
          std::fprintf(stderr, "child: %s\n", finished.ToString().c_str());
          bad++;
        }
      } else if (admission.status != 429) {
        std::fprintf(stderr, "child: %d %s\n", admission.status, admission.message.c_str());
        bad++;
      }
    }
    return bad;
  }));
  auto reopened = ControlPlane::Open(url_);
  ASSERT_TRUE(reopened.ok());
  cp_ = std::move(reopened).value();
  const int64_t admitted = Sql("SELECT COUNT(*) FROM usage_ledger WHERE status = 200")[0].Int(0);
  EXPECT_EQ(admitted, kQuota / kTokens);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM usage_ledger WHERE status = 0")[0].Int(0), 0);
  auto verdict = cp_->VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
  EXPECT_EQ(verdict->entries, 1 + kProcesses * kThreads * kCalls);
}

TEST_P(ControlPlaneTest, UsageReportEqualsTheLedger) {
  const std::string a = Create({.name = "a"});
  const std::string b = Create({.name = "b"});
  ASSERT_TRUE(cp_->SetRoutePrice("/v1/embeddings", 3'000, "test").ok());
  int64_t expected_a = 0, expected_b = 0;
  for (int i = 0; i < 30; ++i) {
    now_ += 7 * 60'000;  // spread over several hours
    const std::string& key = i % 3 == 0 ? b : a;
    AdmitRequest request{key, "/v1/embeddings", "embed", "u", 10 + i};
    Admission admission = cp_->Admit(request);
    ASSERT_EQ(admission.status, 200);
    const int status = i % 7 == 0 ? 500 : 200;
    ASSERT_TRUE(cp_->Finish(admission, request, {status, 10 + i, 2.0}).ok());
    (i % 3 == 0 ? expected_b : expected_a) += 10 + i;
  }
  auto total = cp_->Usage({});
  ASSERT_TRUE(total.ok());
  ASSERT_EQ(total->size(), 2u);
  EXPECT_EQ((*total)[0].tokens, expected_a);
  EXPECT_EQ((*total)[1].tokens, expected_b);
  SqlRows ledger =
      Sql("SELECT k.name, COUNT(*), SUM(l.tokens), SUM(l.micro_usd), "
          "SUM(CASE WHEN l.status >= 400 THEN 1 ELSE 0 END) FROM usage_ledger l "
          "JOIN api_keys k ON k.id = l.key_id GROUP BY k.name ORDER BY k.name");
  ASSERT_EQ(ledger.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*total)[i].requests, ledger[i].Int(1));
    EXPECT_EQ((*total)[i].tokens, ledger[i].Int(2));
    EXPECT_EQ((*total)[i].micro_usd, ledger[i].Int(3));
    EXPECT_EQ((*total)[i].errors, ledger[i].Int(4));
  }
  auto hourly = cp_->Usage({.key_name = "a", .bucket_ms = kHourMs});
  ASSERT_TRUE(hourly.ok());
  EXPECT_GT(hourly->size(), 2u);
  int64_t sum = 0;
  for (const UsageRow& row : *hourly) {
    EXPECT_EQ(row.period_ms % kHourMs, 0);
    sum += row.tokens;
  }
  EXPECT_EQ(sum, expected_a);
}

// Reservations whose Finish never comes (the server lost the request) hold
// the quota until the grace time, then go back to it, once.
TEST_P(ControlPlaneTest, AbandonedReservationsAreReleasedOnce) {
  const std::string key = Create({.name = "acme", .quota_tokens = 100});
  std::vector<Admission> lost;
  for (int i = 0; i < 3; ++i) lost.push_back(Admit(key, 30));
  for (const Admission& admission : lost) ASSERT_EQ(admission.status, 200);
  EXPECT_EQ(Admit(key, 30).status, 429);
  auto none = cp_->ReleaseAbandoned(60'000, "test");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);  // not old enough
  now_ += 61'000;
  auto released = cp_->ReleaseAbandoned(60'000, "test");
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(*released, 3);
  EXPECT_EQ(*cp_->ReleaseAbandoned(60'000, "test"), 0);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM usage_ledger")[0].Int(0), 0);
  // A late Finish of an abandoned request changes nothing.
  AdmitRequest late{key, "/v1/embeddings", "embed", "req", 30};
  ASSERT_TRUE(cp_->Finish(lost[0], late, {200, 30, 1}).ok());
  EXPECT_EQ(Sql("SELECT period_tokens FROM key_state")[0].Int(0), 0);
  EXPECT_EQ(Call(key, 100), 200);
  auto verdict = cp_->VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
}

// A server killed between Admit and Finish: the client never got a reply,
// and nothing of the request is in the database or holds the quota.
TEST_P(ControlPlaneTest, CrashBetweenReserveAndFinishLeavesNothing) {
  const std::string key = Create({.name = "acme", .rpm = 2, .quota_tokens = 100});
  cp_.reset();
  EXPECT_TRUE(testing::RunInProcesses(url_, 1, 1, [&](ControlPlane& cp, int) {
    AdmitRequest request{key, "/v1/embeddings", "embed", "lost", 100};
    const Admission admission = cp.Admit(request);
    if (admission.status != 200) return 1;
    std::_Exit(0);  // dies with the request in flight
  }));
  auto reopened = ControlPlane::Open(url_, {.now_ms = [this] { return now_.load(); }});
  ASSERT_TRUE(reopened.ok());
  cp_ = std::move(reopened).value();
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM usage_ledger")[0].Int(0), 0);
  EXPECT_EQ(Sql("SELECT minute_requests + period_tokens FROM key_state")[0].Int(0), 0);
  // The whole quota and the minute's requests are still there.
  EXPECT_EQ(Call(key, 100), 200);
  EXPECT_EQ(Call(key, 0), 200);
  EXPECT_EQ(Call(key, 0), 429);
  auto verdict = cp_->VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
  EXPECT_EQ(verdict->entries, 4);  // key.create, two requests, one refusal
}

// Two servers on one database admit against the last of a quota at once:
// the Finish that comes second finds it used up under the row lock, counts
// nothing and is refused (audited), so the quota is never exceeded.
TEST_P(ControlPlaneTest, ServersRacingForTheLastOfAQuotaNeverExceedIt) {
  const std::string key = Create({.name = "acme", .quota_tokens = 100});
  auto other = ControlPlane::Open(url_, {.now_ms = [this] { return now_.load(); }});
  ASSERT_TRUE(other.ok());
  AdmitRequest first{key, "/v1/embeddings", "embed", "a", 60};
  AdmitRequest second{key, "/v1/embeddings", "embed", "b", 60};
  const Admission a = cp_->Admit(first);
  const Admission b = (*other)->Admit(second);
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(b.status, 200);  // neither server has seen the other's request
  ASSERT_TRUE(cp_->Finish(a, first, {200, 60, 1}).ok());
  const Status late = (*other)->Finish(b, second, {200, 60, 1});
  EXPECT_TRUE(IsRefusedAtFinish(late)) << late.ToString();
  // As the server answers it: the refusal's type first.
  EXPECT_EQ(late.message().rfind("insufficient_quota: ", 0), 0u) << late.message();
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM usage_ledger")[0].Int(0), 1);
  EXPECT_EQ(Sql("SELECT period_tokens FROM key_state")[0].Int(0), 60);
  EXPECT_EQ(Sql("SELECT COUNT(*) FROM audit_log WHERE status = 429 AND target = 'b'")[0].Int(0), 1);
  // The other server has seen the committed usage now and refuses at Admit.
  EXPECT_EQ((*other)->Admit(second).status, 429);
  // A retried Finish of the recorded request counts once.
  ASSERT_TRUE(cp_->Finish(a, first, {200, 60, 1}).ok());
  EXPECT_EQ(Sql("SELECT period_tokens FROM key_state")[0].Int(0), 60);
  auto verdict = cp_->VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
}

INSTANTIATE_TEST_SUITE_P(Store, ControlPlaneTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& param_info) { return DialectName(param_info.param); });

}  // namespace
}  // namespace mg::store
