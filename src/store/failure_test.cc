// The database failing under the control plane: SQLite's disk filling up
// and the PostgreSQL server going away and coming back. Requests fail
// closed (503), committed data stays intact, nothing is double-counted.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "store/control_plane.h"
#include "store/store_test_fixture.h"

namespace mg::store {
namespace {

int64_t Count(ControlPlane& cp, const std::string& sql) {
  auto lease = cp.Connection();
  EXPECT_TRUE(lease.ok());
  auto rows = (*lease)->Query(sql, {});
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.ok() && !rows->empty() ? (*rows)[0].Int(0) : -1;
}

// A new control database and its -wal and -shm files are owner-only, even
// under a permissive umask: they hold key hashes and usage.
TEST(StoreSqliteFailureTest, NewDatabaseIsOwnerOnly) {
  const std::string url = testing::FreshDatabaseUrl(Dialect::kSqlite);
  const std::string path = url.substr(std::string("sqlite:").size());
  const mode_t old_umask = ::umask(0);
  auto opened = ControlPlane::Open(url);
  ::umask(old_umask);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ASSERT_TRUE((*opened)->CreateKey({.name = "acme", .scopes = {"embed"}}, "test").ok());
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
}

// A full disk, simulated with SQLite's max_page_count: the database cannot
// grow past its current size.
TEST(StoreSqliteFailureTest, FullDiskFailsClosedAndKeepsData) {
  const std::string url = testing::FreshDatabaseUrl(Dialect::kSqlite);
  auto opened = ControlPlane::Open(url);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto created = (*opened)->CreateKey({.name = "acme", .scopes = {"embed"}}, "test");
  ASSERT_TRUE(created.ok());
  const std::string key = created->secret;
  opened->reset();

  ControlPlaneOptions options;
  options.connection_factory = [url]() -> Result<std::unique_ptr<SqlConnection>> {
    MG_ASSIGN_OR_RETURN(auto db, OpenConnection(url));
    MG_ASSIGN_OR_RETURN(SqlRows pages, db->Query("PRAGMA page_count", {}));
    MG_RETURN_IF_ERROR(
        db->ExecScript("PRAGMA max_page_count = " + std::to_string(pages[0].Int(0))));
    return db;
  };
  auto full = ControlPlane::Open(url, std::move(options));
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  int64_t finished = 0;
  bool refused = false;
  for (int i = 0; i < 20000 && !refused; ++i) {
    const std::string id = "request-with-a-long-id-" + std::to_string(i);
    AdmitRequest request{key, "/v1/embeddings", "embed", id, 10};
    Admission admission = (*full)->Admit(request);
    if (admission.status == 503) {
      EXPECT_EQ(admission.error_type, "service_unavailable");
      refused = true;
      break;
    }
    ASSERT_EQ(admission.status, 200) << admission.message;
    Status status = (*full)->Finish(admission, request, {200, 10, 1});
    if (!status.ok()) {
      EXPECT_TRUE(IsUnavailable(status)) << status.ToString();
      refused = true;
      break;
    }
    ++finished;
  }
  ASSERT_TRUE(refused) << "the database never filled up";
  EXPECT_GT(finished, 0);
  // Everything committed before the disk filled is there and consistent.
  EXPECT_EQ(Count(**full, "SELECT COUNT(*) FROM usage_ledger WHERE status = 200"), finished);
  EXPECT_EQ(Count(**full, "SELECT SUM(requests) FROM usage_hourly"), finished);
  auto verdict = (*full)->VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
  full->reset();

  // With room again, work resumes on the same file.
  auto reopened = ControlPlane::Open(url);
  ASSERT_TRUE(reopened.ok());
  {
    auto lease = (*reopened)->Connection();
    ASSERT_TRUE(lease.ok());
    auto check = (*lease)->Query("PRAGMA integrity_check", {});
    ASSERT_TRUE(check.ok());
    EXPECT_EQ((*check)[0].Text(0), "ok");
  }
  AdmitRequest request{key, "/v1/embeddings", "embed", "after", 10};
  Admission admission = (*reopened)->Admit(request);
  ASSERT_EQ(admission.status, 200) << admission.message;
  ASSERT_TRUE((*reopened)->Finish(admission, request, {200, 10, 1}).ok());
  verdict = (*reopened)->VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
}

TEST(StorePostgresFailureTest, ServerRestartFailsClosedThenRecovers) {
  testing::TestPostgres* pg = testing::TestPostgres::Get();
  if (pg == nullptr) GTEST_SKIP() << "PostgreSQL unavailable: " << testing::TestPostgres::reason();
  const std::string url = pg->NewDatabase();
  ASSERT_FALSE(url.empty());
  auto opened = ControlPlane::Open(url, {.pool_size = 3});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ControlPlane& cp = **opened;
  auto created = cp.CreateKey({.name = "acme", .scopes = {"embed"}}, "test");
  ASSERT_TRUE(created.ok());
  const std::string key = created->secret;
  auto call = [&](const std::string& id) {
    AdmitRequest request{key, "/v1/embeddings", "embed", id, 10};
    Admission admission = cp.Admit(request);
    if (admission.status == 200) {
      EXPECT_TRUE(cp.Finish(admission, request, {200, 10, 1}).ok());
    }
    return admission.status;
  };
  for (int i = 0; i < 10; ++i) ASSERT_EQ(call("before"), 200);
  // Admitted just before the server goes away; finished after it is back.
  AdmitRequest pending{key, "/v1/embeddings", "embed", "pending", 10};
  Admission in_flight = cp.Admit(pending);
  ASSERT_EQ(in_flight.status, 200);

  ASSERT_TRUE(pg->Stop());
  for (int i = 0; i < 5; ++i) {
    Admission refused = cp.Admit({key, "/v1/embeddings", "embed", "down", 10});
    EXPECT_EQ(refused.status, 503);
    EXPECT_EQ(refused.error_type, "service_unavailable");
  }
  Status finish = cp.Finish(in_flight, pending, {200, 10, 1});
  EXPECT_FALSE(finish.ok());
  EXPECT_TRUE(IsUnavailable(finish)) << finish.ToString();
  EXPECT_FALSE(cp.CreateKey({.name = "x", .scopes = {"embed"}}, "test").ok());

  ASSERT_TRUE(pg->Start());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(call("after"), 200);
  ASSERT_TRUE(cp.Finish(in_flight, pending, {200, 10, 1}).ok());  // the retry lands
  ASSERT_TRUE(cp.Finish(in_flight, pending, {200, 10, 1}).ok());  // and counts once
  EXPECT_EQ(Count(cp, "SELECT COUNT(*) FROM usage_ledger"), 21);
  EXPECT_EQ(Count(cp, "SELECT COUNT(*) FROM usage_ledger WHERE status = 200"), 21);
  EXPECT_EQ(Count(cp, "SELECT period_tokens FROM key_state"), 210);
  EXPECT_EQ(Count(cp, "SELECT SUM(requests) FROM usage_hourly"), 21);
  auto verdict = cp.VerifyAudit();
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->intact) << verdict->problem;
  EXPECT_EQ(verdict->entries, 1 + 21);
}

}  // namespace
}  // namespace mg::store
