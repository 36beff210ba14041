#include "store/database.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "db_damage.hpp"
#include "store/schema.hpp"
#include "test_support.hpp"

namespace depot::store {
namespace {
using ::testing::HasSubstr;

TEST(Database, MigratesAFreshFileToTheCurrentVersion) {
  test::TempDir dir;
  auto db = Database::open(dir.file("a.db"), {});
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(*(*db)->schema_version(), static_cast<int>(migrations().size()));
  // Reopening does not re-run migrations (they would fail on existing tables).
  db = Database::open(dir.file("a.db"), {});
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto mode = (*db)->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(*(*mode)->step());
  EXPECT_EQ((*mode)->text(0), "wal");
}

TEST(Database, RefusesASchemaFromANewerAgent) {
  test::TempDir dir;
  {
    auto db = Database::open(dir.file("a.db"), {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("PRAGMA user_version=99").ok());
  }
  auto db = Database::open(dir.file("a.db"), {});
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.error().message, HasSubstr("schema version 99 is newer"));
}

TEST(Database, MovementsAreAppendOnly) {
  test::TempDir dir;
  auto db = Database::open(dir.file("a.db"), {});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->exec("INSERT INTO skus(sku,name,unit,zone,policy,origin,updated_at)"
                          " VALUES('S','n','each','','','config','t');"
                          "INSERT INTO movements(id,sku,kind,qty,source,wall_time,mono_ns,"
                          "on_hand_after,negative) VALUES('m1','S','receive',1,'t','t',0,1,0)")
                  .ok());
  auto upd = (*db)->exec("UPDATE movements SET qty = 5");
  ASSERT_FALSE(upd.ok());
  EXPECT_THAT(upd.error().message, HasSubstr("append-only"));
  EXPECT_FALSE((*db)->exec("DELETE FROM movements").ok());
}

// The event loop's checkpoint after failing writes recover: while another connection holds a
// read snapshot (the publisher's sizing thread, a CLI), TRUNCATE would wait through the busy
// handler up to the busy timeout (here ten minutes: the call would outlast the test's ctest
// timeout); checkpoint_now gives up at once, restores the timeout, and truncates the WAL once
// the reader is gone.
TEST(Database, CheckpointNowDoesNotWaitForAReaderAndTruncatesOnceItIsGone) {
  test::TempDir dir;
  auto db = Database::open(dir.file("a.db"), {.busy_timeout_ms = 600000});
  ASSERT_TRUE(db.ok()) << db.error().message;
  ASSERT_TRUE((*db)->exec("CREATE TABLE t(x); INSERT INTO t VALUES(1)").ok());
  sqlite3* reader = nullptr;
  ASSERT_EQ(sqlite3_open(dir.file("a.db").c_str(), &reader), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM t", nullptr, nullptr, nullptr),
            SQLITE_OK);
  ASSERT_TRUE((*db)->exec("INSERT INTO t VALUES(2)").ok());  // a frame past the reader's snapshot
  const auto wal = dir.file("a.db") + "-wal";
  ASSERT_GT(std::filesystem::file_size(wal), 0u);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE((*db)->checkpoint_now().ok());
  // Not a speed figure: TRUNCATE through the busy handler would wait the ten minutes.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(60));
  EXPECT_GT(std::filesystem::file_size(wal), 0u);  // the reader still needs it
  auto timeout = (*db)->prepare("PRAGMA busy_timeout");
  ASSERT_TRUE(timeout.ok());
  ASSERT_TRUE(*(*timeout)->step());
  EXPECT_EQ((*timeout)->int64(0), 600000);  // restored for every other statement
  (*timeout)->reset();
  ASSERT_EQ(sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(reader);
  EXPECT_TRUE((*db)->checkpoint_now().ok());
  EXPECT_EQ(std::filesystem::file_size(wal), 0u);
}

// Issue 13 item 3: a body that throws (or fails, or returns early) must not leave the
// connection inside BEGIN IMMEDIATE; before the guard, every later write failed with
// "cannot start a transaction within a transaction".
TEST(Txn, AnExceptionInsideATransactionRollsBackAndTheNextWriteCommits) {
  test::TempDir dir;
  auto db = std::move(Database::open(dir.file("t.db"), {}).value());
  auto count = [&] {
    auto s = db->prepare("SELECT count(*) FROM meta WHERE key LIKE 't%'");
    EXPECT_TRUE(*(*s)->step());
    auto n = (*s)->int64(0);
    (*s)->reset();
    return n;
  };
  EXPECT_THROW((void)db->transaction([&]() -> Status {
    if (auto st = db->set_meta("t1", "x"); !st) return st;
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_TRUE(sqlite3_get_autocommit(db->handle()));
  EXPECT_EQ(count(), 0);
  // A failed body and a guard dropped without commit roll back too.
  auto failed = db->transaction([&]() -> Status {
    (void)db->set_meta("t2", "x");
    return Error{"no"};
  });
  EXPECT_FALSE(failed.ok());
  {
    auto txn = Txn::begin(*db);
    ASSERT_TRUE(txn.ok()) << txn.error().message;
    ASSERT_TRUE(db->set_meta("t3", "x").ok());
  }
  EXPECT_EQ(count(), 0);
  // The connection is usable: the next write commits.
  auto ok = db->transaction([&](const Txn&) { return db->set_meta("t4", "y"); });
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(count(), 1);
  auto txn = Txn::begin(*db);
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE(db->set_meta("t5", "z").ok());
  ASSERT_TRUE(txn->commit().ok());
  EXPECT_EQ(count(), 2);
}

TEST(Database, MissingFolderIsNamed) {
  test::TempDir dir;
  auto db = Database::open(dir.file("nope/a.db"), {});
  ASSERT_FALSE(db.ok());
  EXPECT_THAT(db.error().message, HasSubstr("does not exist"));
}

TEST(Integrity, HealthyAndMissingFilesAreLeftAlone) {
  test::TempDir dir;
  auto missing = check_or_move_aside(dir.file("none.db"), "X");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->moved_aside);
  { ASSERT_TRUE(Database::open(dir.file("ok.db"), {}).ok()); }
  auto ok = check_or_move_aside(dir.file("ok.db"), "X");
  ASSERT_TRUE(ok.ok());
  EXPECT_FALSE(ok->moved_aside);
  EXPECT_TRUE(std::filesystem::exists(dir.file("ok.db")));
}

TEST(Integrity, ADamagedFileIsMovedAsideNeverDeleted) {
  test::TempDir dir;
  const std::string garbage(8192, 'x');
  test::write_file(dir.file("bad.db"), garbage);
  auto out = check_or_move_aside(dir.file("bad.db"), "20261123T143400Z");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->moved_aside);
  EXPECT_EQ(out->moved_to, dir.file("bad.db.corrupt-20261123T143400Z"));
  EXPECT_THAT(out->reason, HasSubstr("not a database"));
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.db")));
  EXPECT_EQ(std::filesystem::file_size(out->moved_to), garbage.size());
}

TEST(Integrity, ATornPageIsDetected) {
  test::TempDir dir;
  {
    auto db = Database::open(dir.file("torn.db"), {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  }
  // Overwrite the b-tree page header of page 2 (the first table's root page) with junk.
  {
    std::fstream f(dir.file("torn.db"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    std::string junk(64, '\xff');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto out = check_or_move_aside(dir.file("torn.db"), "S");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->moved_aside) << "quick_check did not notice";
}

// Issue 18: before READY only the live tables are checked (fast on a big history); the whole
// file is checked after, by quick_check_whole, which does see damage in the history.
TEST(Integrity, TheLiveCheckLeavesTheHistoryToTheWholeCheckWhichFindsItsDamage) {
  test::TempDir dir;
  const auto path = dir.file("history.db");
  ASSERT_EQ(test::damage_root_page(path, "movements"), "");
  auto live = check_or_move_aside(path, "S", 5000, CheckScope::kLive);
  ASSERT_TRUE(live.ok()) << live.error().message;
  EXPECT_FALSE(live->moved_aside) << live->reason;
  auto whole = quick_check_whole(path, 5000);
  ASSERT_TRUE(whole.ok()) << whole.error().message;
  EXPECT_FALSE(whole->empty()) << "quick_check of the whole file did not notice";
  auto moved = check_or_move_aside(path, "S", 5000, CheckScope::kWhole);
  ASSERT_TRUE(moved.ok());
  EXPECT_TRUE(moved->moved_aside);
}

TEST(Integrity, TheLiveCheckFindsDamageInWhatTheAgentRewrites) {
  test::TempDir dir;
  const auto path = dir.file("live.db");
  ASSERT_EQ(test::damage_root_page(path, "stock"), "");
  auto live = check_or_move_aside(path, "S", 5000, CheckScope::kLive);
  ASSERT_TRUE(live.ok()) << live.error().message;
  EXPECT_TRUE(live->moved_aside) << "quick_check(stock) did not notice";
  // Not a database at all: the live check says so too.
  test::write_file(dir.file("junk.db"), std::string(8192, 'x'));
  auto junk = check_or_move_aside(dir.file("junk.db"), "S", 5000, CheckScope::kLive);
  ASSERT_TRUE(junk.ok());
  EXPECT_TRUE(junk->moved_aside);
  EXPECT_THAT(junk->reason, HasSubstr("not a database"));
  // A whole file passes both.
  { ASSERT_TRUE(Database::open(dir.file("fine.db"), {}).ok()); }
  EXPECT_FALSE(check_or_move_aside(dir.file("fine.db"), "S", 5000, CheckScope::kLive)->moved_aside);
  EXPECT_EQ(quick_check_whole(dir.file("fine.db"), 5000).value(), "");
}

}  // namespace
}  // namespace depot::store
