// Tampering with the audit trail in the database, on both backends: every
// edit, deletion and reordering is found, and the first bad entry is named.
#include "store/audit_chain.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include "store/control_plane.h"
#include "store/store_test_fixture.h"

namespace mg::store {
namespace {

struct Signer {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  Signer() {
    MG_CHECK(sodium_init() >= 0);
    crypto_sign_keypair(pk, sk);
  }
  AuditSigner Make(int64_t every) const {
    AuditSigner signer;
    signer.public_key.assign(reinterpret_cast<const char*>(pk), sizeof(pk));
    signer.checkpoint_every = every;
    signer.sign = [this](std::string_view message) {
      unsigned char signature[crypto_sign_BYTES];
      crypto_sign_detached(signature, nullptr,
                           reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                           sk);
      return std::string(reinterpret_cast<const char*>(signature), sizeof(signature));
    };
    return signer;
  }
};

class AuditChainTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    const std::string url = testing::FreshDatabaseUrl(GetParam());
    if (url.empty()) GTEST_SKIP() << "PostgreSQL unavailable: " << testing::TestPostgres::reason();
    ControlPlaneOptions options;
    options.audit_signer = signer_.Make(4);
    auto opened = ControlPlane::Open(url, std::move(options));
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    cp_ = std::move(opened).value();
    // Ten entries: three key creations and seven requests.
    std::string key;
    for (const char* name : {"a", "b", "c"}) {
      auto created = cp_->CreateKey({.name = name, .scopes = {"embed"}}, "admin");
      ASSERT_TRUE(created.ok());
      key = created->secret;
    }
    for (int i = 0; i < 7; ++i) {
      const std::string id = "r" + std::to_string(i);
      AdmitRequest request{key, "/v1/embeddings", "embed", id, 5};
      Admission admission = cp_->Admit(request);
      ASSERT_EQ(admission.status, 200);
      ASSERT_TRUE(cp_->Finish(admission, request, {200, 5, 1}).ok());
    }
    AuditVerdict verdict = Verify();
    ASSERT_TRUE(verdict.intact) << verdict.problem;
    ASSERT_EQ(verdict.entries, 10);
    ASSERT_EQ(verdict.checkpoints, 2);  // entries 4 and 8
  }

  void Exec(const std::string& sql) {
    auto lease = cp_->Connection();
    ASSERT_TRUE(lease.ok());
    ASSERT_TRUE((*lease)->ExecScript(sql).ok()) << sql;
  }

  AuditVerdict Verify(std::string_view pinned = {}) {
    auto verdict = cp_->VerifyAudit(pinned);
    EXPECT_TRUE(verdict.ok()) << verdict.status().ToString();
    return verdict.ok() ? *verdict : AuditVerdict{};
  }

  Signer signer_;
  std::unique_ptr<ControlPlane> cp_;
};

TEST_P(AuditChainTest, EditedEntryIsNamed) {
  Exec("UPDATE audit_log SET tokens = 500 WHERE seq = 6");
  AuditVerdict verdict = Verify();
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 6);
  EXPECT_NE(verdict.problem.find("audit entry 6: edited"), std::string::npos) << verdict.problem;
}

TEST_P(AuditChainTest, DeletedEntryIsNamed) {
  Exec("DELETE FROM audit_log WHERE seq = 5");
  AuditVerdict verdict = Verify();
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 5);
  EXPECT_NE(verdict.problem.find("missing"), std::string::npos) << verdict.problem;
}

TEST_P(AuditChainTest, DeletedAndRenumberedEntryIsNamed) {
  // Delete entry 5 and renumber the rest so that the sequence has no gap.
  Exec("DELETE FROM audit_log WHERE seq = 5");
  for (int seq = 6; seq <= 10; ++seq) {
    Exec("UPDATE audit_log SET seq = " + std::to_string(seq - 1) +
         " WHERE seq = " + std::to_string(seq));
  }
  AuditVerdict verdict = Verify();
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 5);
}

TEST_P(AuditChainTest, ReorderedEntriesAreNamed) {
  // Swap entries 3 and 7 wholesale (contents, hashes and all).
  Exec("UPDATE audit_log SET seq = -3 WHERE seq = 3");
  Exec("UPDATE audit_log SET seq = 3 WHERE seq = 7");
  Exec("UPDATE audit_log SET seq = 7 WHERE seq = -3");
  AuditVerdict verdict = Verify();
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 3);
}

TEST_P(AuditChainTest, TruncatedTailIsFound) {
  Exec("DELETE FROM audit_log WHERE seq >= 9");
  AuditVerdict verdict = Verify();
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 9);
}

// Someone who rewrites the whole chain consistently (recomputing every hash
// after an edit) is caught by the signed checkpoints.
TEST_P(AuditChainTest, RewrittenChainFailsAtTheCheckpoint) {
  auto lease = cp_->Connection();
  ASSERT_TRUE(lease.ok());
  SqlConnection& db = **lease;
  auto entries = ReadAuditEntries(db, 0, 100);
  ASSERT_TRUE(entries.ok());
  std::string prev = (*entries)[0].prev_hash;
  for (AuditEntry& entry : *entries) {
    if (entry.seq == 2) entry.actor = "someone-else";
    entry.prev_hash = prev;
    entry.hash = ComputeAuditHash(entry);
    prev = entry.hash;
    ASSERT_TRUE(
        db.Query("UPDATE audit_log SET actor = $2, prev_hash = $3, hash = $4 WHERE seq = $1",
                 {entry.seq, entry.actor, entry.prev_hash, entry.hash})
            .ok());
  }
  ASSERT_TRUE(db.Query("UPDATE audit_head SET hash = $1 WHERE id = 1", {prev}).ok());
  auto verdict_or = VerifyAuditChain(db, {});
  ASSERT_TRUE(verdict_or.ok());
  AuditVerdict verdict = *verdict_or;
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 4);
  EXPECT_NE(verdict.problem.find("checkpoint"), std::string::npos) << verdict.problem;
}

TEST_P(AuditChainTest, CheckpointsMustCarryThePinnedKey) {
  Signer other;
  const std::string other_key(reinterpret_cast<const char*>(other.pk), sizeof(other.pk));
  const std::string own_key(reinterpret_cast<const char*>(signer_.pk), sizeof(signer_.pk));
  EXPECT_TRUE(Verify(own_key).intact);
  AuditVerdict verdict = Verify(other_key);
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 4);
  Exec(
      "UPDATE audit_checkpoints SET signature = CASE WHEN substr(signature, 1, 1) = '0' "
      "THEN '1' ELSE '0' END || substr(signature, 2) WHERE seq = 8");
  verdict = Verify();
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 8);
}

INSTANTIATE_TEST_SUITE_P(Store, AuditChainTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& param_info) {
                           return testing::DialectName(param_info.param);
                         });

}  // namespace
}  // namespace mg::store
