// The audit trail's hash chain against real SQLite files: tampering with the file through the
// sqlite3 C API (after dropping the append-only triggers, as an attacker with the file would)
// is found, and the first broken entry is named with what is wrong.
#include "store/audit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/outbox.hpp"
#include "test_support.hpp"

namespace depot::store {
namespace {
using ::testing::HasSubstr;

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("audit.db");
    auto opened = Database::open(path_, {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    for (int i = 1; i <= 4; ++i) {
      AuditEntry e{"Ana", "2026-11-23T10:0" + std::to_string(i) + ":00.000Z", "hold.release",
                   "probe fault " + std::to_string(i), {{"hold", i}}};
      auto seq = db_->transaction([&] { return audit_append(*db_, e); });
      ASSERT_TRUE(seq.ok()) << seq.error().message;
      EXPECT_EQ(*seq, i);
    }
  }
  // Tampering as someone with the file would: a second connection, triggers dropped.
  void tamper(const std::string& sql) {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
    char* err = nullptr;
    std::string all = "DROP TRIGGER IF EXISTS audit_log_no_update;"
                      "DROP TRIGGER IF EXISTS audit_log_no_delete;" + sql;
    EXPECT_EQ(sqlite3_exec(raw, all.c_str(), nullptr, nullptr, &err), SQLITE_OK)
        << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(raw);
  }
  AuditVerdict verify() {
    auto v = audit_verify(*db_);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? *v : AuditVerdict{};
  }

  test::TempDir dir_;
  std::string path_;
  std::unique_ptr<Database> db_;
};

TEST_F(AuditTest, AnIntactChainVerifiesAndEachEntryIsOnTheAuditStream) {
  auto v = verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.entries, 4);
  auto list = audit_list(*db_, std::nullopt);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 4u);
  EXPECT_EQ((*list)[0].prev_hash, kAuditGenesis);
  for (std::size_t i = 1; i < list->size(); ++i) EXPECT_EQ((*list)[i].prev_hash, (*list)[i - 1].hash);
  // The hash is SHA-256 of the canonical text: recomputed independently here.
  const auto& e = (*list)[1];
  EXPECT_EQ(e.hash, sha256_hex(audit_canonical(e.seq, e.at, e.who, e.what, e.why, e.details,
                                               e.prev_hash)));
  EXPECT_EQ(sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  auto recs = outbox_read(*db_, "audit", 0, 10);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 4u);
  auto j = nlohmann::json::parse((*recs)[3].payload);
  EXPECT_EQ(j["hash"], (*list)[3].hash);
  EXPECT_EQ(j["who"], "Ana");
  auto since = audit_list(*db_, std::string("2026-11-23T10:03:00.000Z"));
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->size(), 2u);
}

TEST_F(AuditTest, TheAppendOnlyTriggersRefuseEditsThroughTheAgent) {
  EXPECT_FALSE(db_->exec("UPDATE audit_log SET why = 'x' WHERE seq = 2").ok());
  EXPECT_FALSE(db_->exec("DELETE FROM audit_log WHERE seq = 2").ok());
}

TEST_F(AuditTest, AnAlteredEntryIsNamed) {
  tamper("UPDATE audit_log SET why = 'nothing happened' WHERE seq = 2;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 2);
  EXPECT_THAT(v.problem, HasSubstr("altered: entry 2"));
}

TEST_F(AuditTest, AnAlteredEntryWithARecomputedHashBreaksTheNextLink) {
  // The attacker recomputes entry 2's own hash, but entry 3 still names the old one.
  auto list = *audit_list(*db_, std::nullopt);
  const auto& e = list[1];
  auto h = sha256_hex(audit_canonical(e.seq, e.at, e.who, e.what, "forged", e.details, e.prev_hash));
  tamper("UPDATE audit_log SET why = 'forged', hash = '" + h + "' WHERE seq = 2;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 3);
  EXPECT_THAT(v.problem, HasSubstr("altered: entry 3 does not follow"));
}

TEST_F(AuditTest, ADeletedEntryIsNamed) {
  tamper("DELETE FROM audit_log WHERE seq = 2;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 2);
  EXPECT_THAT(v.problem, HasSubstr("deleted: entry 2 missing: entry 3 follows entry 1"));
}

TEST_F(AuditTest, DeletedNewestEntriesAreNamed) {
  tamper("DELETE FROM audit_log WHERE seq >= 3;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 3);
  EXPECT_THAT(v.problem, HasSubstr("deleted: entries 3-4 missing at the end"));
}

TEST_F(AuditTest, ReorderedEntriesAreNamed) {
  // Swap entries 2 and 3 (their seq numbers exchanged).
  tamper("UPDATE audit_log SET seq = 100 WHERE seq = 2; UPDATE audit_log SET seq = 2 WHERE seq = 3;"
         "UPDATE audit_log SET seq = 3 WHERE seq = 100;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.broken_seq, 2);
  EXPECT_THAT(v.problem, HasSubstr("reordered: the entry at seq 2 was written as entry 3"));
}

}  // namespace
}  // namespace depot::store
