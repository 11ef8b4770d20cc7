// Tampering with the audit trail in the database, on both backends: every
// edit, deletion and reordering is found, and the first bad entry is named;
// with the pinned key a rewrite that deletes the checkpoints is found, and
// with the anchor a chain cut back behind an anchored checkpoint.
#include "store/audit_chain.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "base/fake_env.h"
#include "store/audit_anchor.h"
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
    // What the anchor file would receive, as the server hands it over.
    options.audit_signer->anchor = [this](const AuditCheckpoint& checkpoint) {
      std::lock_guard lock(anchored_mutex_);
      anchored_.push_back(checkpoint);
    };
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

  std::string OwnKey() const {
    return std::string(reinterpret_cast<const char*>(signer_.pk), sizeof(signer_.pk));
  }

  std::vector<AuditCheckpoint> Anchored() {
    std::lock_guard lock(anchored_mutex_);
    return anchored_;
  }

  // Verifies as `modelgate audit verify --audit-pub --anchor` does.
  AuditVerdict VerifyWith(std::string pinned, std::vector<AuditCheckpoint> anchor) {
    AuditVerifyOptions options;
    options.pinned_public_key = std::move(pinned);
    options.checkpoint_every = 4;
    options.anchor = std::move(anchor);
    auto verdict = cp_->VerifyAudit(options);
    EXPECT_TRUE(verdict.ok()) << verdict.status().ToString();
    return verdict.ok() ? *verdict : AuditVerdict{};
  }

  // What someone who can write the database (but holds no signing key) can
  // do: keep entries 1..keep, rewrite every later one (actor changed,
  // hashes recomputed so the chain is consistent), delete the checkpoints
  // the rewrite breaks, and move the head.
  void RewriteAfter(int64_t keep, int64_t last) {
    auto lease = cp_->Connection();
    ASSERT_TRUE(lease.ok());
    SqlConnection& db = **lease;
    auto entries = ReadAuditEntries(db, 0, 100);
    ASSERT_TRUE(entries.ok());
    std::string prev = (*entries)[0].prev_hash;
    for (AuditEntry& entry : *entries) {
      if (entry.seq > last) {
        ASSERT_TRUE(db.Query("DELETE FROM audit_log WHERE seq = $1", {entry.seq}).ok());
        continue;
      }
      if (entry.seq > keep) entry.actor = "someone-else";
      entry.prev_hash = prev;
      entry.hash = ComputeAuditHash(entry);
      prev = entry.hash;
      ASSERT_TRUE(
          db.Query("UPDATE audit_log SET actor = $2, prev_hash = $3, hash = $4 WHERE seq = $1",
                   {entry.seq, entry.actor, entry.prev_hash, entry.hash})
              .ok());
    }
    ASSERT_TRUE(db.Query("DELETE FROM audit_checkpoints WHERE seq > $1", {keep}).ok());
    ASSERT_TRUE(
        db.Query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1", {last, prev}).ok());
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
  std::mutex anchored_mutex_;
  std::vector<AuditCheckpoint> anchored_;  // guarded by anchored_mutex_
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
  auto verdict_or = VerifyAuditChain(db, AuditVerifyOptions{});
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

// The same rewrite, with every checkpoint deleted as well: without a key it
// reads as intact (nothing signed is left to contradict it); with the key a
// checkpoint is required every interval, so the first one missing is named.
TEST_P(AuditChainTest, RewriteWithCheckpointsDeletedFailsWithTheKey) {
  RewriteAfter(1, 10);
  EXPECT_TRUE(Verify().intact);
  AuditVerdict verdict = Verify(OwnKey());
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 4);
  EXPECT_NE(verdict.problem.find("audit entry 4: its signed checkpoint is missing"),
            std::string::npos)
      << verdict.problem;
}

TEST_P(AuditChainTest, MissingCheckpointInTheMiddleFailsWithTheKey) {
  Exec("DELETE FROM audit_checkpoints WHERE seq = 4");
  AuditVerdict verdict = Verify(OwnKey());
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 4);
  EXPECT_NE(verdict.problem.find("checkpoint is missing"), std::string::npos) << verdict.problem;
}

TEST_P(AuditChainTest, GoodChainWithItsAnchorPasses) {
  const std::vector<AuditCheckpoint> anchor = Anchored();
  ASSERT_EQ(anchor.size(), 2u);
  EXPECT_EQ(anchor[0].seq, 4);
  EXPECT_EQ(anchor[1].seq, 8);
  AuditVerdict verdict = VerifyWith(OwnKey(), anchor);
  EXPECT_TRUE(verdict.intact) << verdict.problem;
  EXPECT_EQ(verdict.anchored, 2);
  EXPECT_EQ(verdict.last_anchored_seq, 8);
  EXPECT_EQ(verdict.last_checkpoint_seq, 8);
  EXPECT_EQ(verdict.entries, 10);
}

// Cutting the chain back to entry 4 (entries 5-10 and checkpoint 8 deleted,
// the head moved) leaves a chain the key alone accepts; the anchor still
// holds checkpoint 8.
TEST_P(AuditChainTest, TruncationIsFoundWithTheAnchor) {
  Exec("DELETE FROM audit_log WHERE seq > 4");
  Exec("DELETE FROM audit_checkpoints WHERE seq > 4");
  Exec("UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_log WHERE seq = 4)");
  EXPECT_TRUE(VerifyWith(OwnKey(), {}).intact);
  AuditVerdict verdict = VerifyWith(OwnKey(), Anchored());
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 8);
  EXPECT_NE(verdict.problem.find("cut back to entry 4"), std::string::npos) << verdict.problem;
}

// Rolled back to before the first checkpoint and rewritten, with every
// checkpoint gone: no interval is due, so only the anchor can tell.
TEST_P(AuditChainTest, RollbackBeforeTheFirstCheckpointIsFoundWithTheAnchor) {
  RewriteAfter(0, 3);
  EXPECT_TRUE(VerifyWith(OwnKey(), {}).intact);
  AuditVerdict verdict = VerifyWith(OwnKey(), Anchored());
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 4);
}

// Without the key, the anchor alone catches a consistent rewrite before it.
TEST_P(AuditChainTest, RewriteIsFoundWithTheAnchorAlone) {
  RewriteAfter(5, 10);
  AuditVerdict verdict = VerifyWith({}, Anchored());
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 8);
  EXPECT_NE(verdict.problem.find("anchor"), std::string::npos) << verdict.problem;
}

TEST_P(AuditChainTest, AnchorSignedByAnotherKeyFails) {
  Signer other;
  AuditSigner forger = other.Make(4);
  std::vector<AuditCheckpoint> anchor = Anchored();
  anchor[1].public_key = forger.public_key;
  anchor[1].signature = forger.sign(CheckpointMessage(anchor[1].seq, anchor[1].hash));
  AuditVerdict verdict = VerifyWith(OwnKey(), anchor);
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.first_bad_seq, 8);
}

TEST_P(AuditChainTest, AnchorFileRoundTrips) {
  char dir_template[] = "/tmp/mg-anchor-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/audit.anchor";
  {
    auto file = AuditAnchorFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    for (const AuditCheckpoint& checkpoint : Anchored())
      ASSERT_TRUE((*file)->Append(checkpoint).ok());
  }
  {
    // Reopening appends rather than truncating.
    auto file = AuditAnchorFile::Open(path);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append(Anchored()[0]).ok());
  }
  auto read = ReadAuditAnchor(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 3u);
  EXPECT_EQ((*read)[1].seq, 8);
  EXPECT_EQ((*read)[1].signature, Anchored()[1].signature);
  EXPECT_TRUE(VerifyWith(OwnKey(), *read).intact);
  auto garbled = ParseAuditAnchor(FormatAnchorLine(Anchored()[0]) + "checkpoint 8 zz\n", "anchor");
  ASSERT_FALSE(garbled.ok());
  EXPECT_NE(garbled.status().message().find("anchor line 2"), std::string::npos)
      << garbled.status().ToString();
  std::remove(path.c_str());
  rmdir(dir_template);
}

// The anchor through a FakeEnv: the same lines land in its in-memory file,
// and a failing disk is reported, not ignored.
TEST_P(AuditChainTest, AnchorFileReportsAFailingDisk) {
  FakeEnv env;
  auto file = AuditAnchorFile::Open("/anchors/audit.anchor", &env);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  ASSERT_TRUE((*file)->Append(Anchored()[0]).ok());
  EXPECT_EQ(*env.ReadFile("/anchors/audit.anchor"), FormatAnchorLine(Anchored()[0]));
  env.FailWrites(true);
  const Status failed = (*file)->Append(Anchored()[1]);
  EXPECT_EQ(failed.code(), StatusCode::kIoError);
  EXPECT_NE(failed.message().find("audit anchor"), std::string::npos) << failed.ToString();
  auto read = ReadAuditAnchor("/anchors/audit.anchor", &env);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0].signature, Anchored()[0].signature);
}

INSTANTIATE_TEST_SUITE_P(Store, AuditChainTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& param_info) {
                           return testing::DialectName(param_info.param);
                         });

}  // namespace
}  // namespace mg::store
