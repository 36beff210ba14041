#include "store/group_commit.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace depot::store {
namespace {
using test::movement;

struct Fixture {
  test::TempDir dir;
  std::unique_ptr<Database> db;
  std::unique_ptr<Ledger> ledger;
  Fixture() {
    db = std::move(Database::open(dir.file("gc.db"), {}).value());
    EXPECT_TRUE(apply_catalog(*db, {CatalogItem{.sku = "A"}}, "t").ok());
    ledger = std::make_unique<Ledger>(*db);
  }
  // Movements in the ledger; -1 when the query fails.
  std::int64_t movement_count() {
    auto n = db->prepare("SELECT count(*) FROM movements");
    if (!n.ok()) return -1;
    auto row = (*n)->step();
    std::int64_t c = row.ok() && *row ? (*n)->int64(0) : -1;
    (*n)->reset();
    return c;
  }
};

TEST(GroupCommit, ABatchClosesWhenFull) {
  Fixture f;
  boost::asio::io_context io;
  GroupCommit gc(io, *f.ledger, 3, std::chrono::milliseconds(1000));
  int done = 0;
  for (int i = 0; i < 7; ++i)
    gc.submit(movement("m" + std::to_string(i), "A", MovementKind::kReceive, 1),
              [&](const Expected<PostResult>& r) {
                EXPECT_TRUE(r.ok());
                ++done;
              });
  // Two full batches committed at once; the seventh waits for its timer.
  EXPECT_EQ(done, 6);
  EXPECT_EQ(gc.batches_committed(), 2u);
  EXPECT_EQ(gc.pending(), 1u);
  gc.flush();
  EXPECT_EQ(done, 7);
}

TEST(GroupCommit, ABatchClosesAfterTheDelay) {
  Fixture f;
  boost::asio::io_context io;
  GroupCommit gc(io, *f.ledger, 100, std::chrono::milliseconds(5));
  int done = 0;
  gc.submit(movement("a", "A", MovementKind::kReceive, 1), [&](auto&) { ++done; });
  gc.submit(movement("b", "A", MovementKind::kReceive, 1), [&](auto&) { ++done; });
  EXPECT_EQ(done, 0);  // not committed yet: "done" must mean durable
  io.run_for(std::chrono::seconds(2));
  EXPECT_EQ(done, 2);
  EXPECT_EQ(gc.batches_committed(), 1u);
  EXPECT_EQ((*f.ledger->stock("A"))[0].line.on_hand, 2);
}

TEST(GroupCommit, ADatabaseFailureReachesEveryCallback) {
  Fixture f;
  ASSERT_TRUE(f.db->exec("CREATE TRIGGER boom BEFORE INSERT ON outbox"
                         " BEGIN SELECT RAISE(ABORT, 'disk full'); END").ok());
  boost::asio::io_context io;
  GroupCommit gc(io, *f.ledger, 2, std::chrono::milliseconds(5));
  int failed = 0;
  for (auto id : {"a", "b"})
    gc.submit(movement(id, "A", MovementKind::kReceive, 1), [&](const Expected<PostResult>& r) {
      EXPECT_FALSE(r.ok());
      ++failed;
    });
  EXPECT_EQ(failed, 2);
}

// Fills the database up to a page limit (SQLITE_FULL from then on, as on a full disk): the
// connection's max_page_count is its page count, and filler rows take the free pages.
void fill_up(Database& db) {
  ASSERT_TRUE(db.exec("CREATE TABLE IF NOT EXISTS filler(b BLOB)").ok());
  auto pages = db.prepare("PRAGMA page_count");
  ASSERT_TRUE(*(*pages)->step());
  auto n = (*pages)->int64(0);
  (*pages)->reset();
  ASSERT_TRUE(db.exec("PRAGMA max_page_count=" + std::to_string(n + 100)).ok());
  for (int i = 0; i < 1000; ++i) {
    if (!db.exec("INSERT INTO filler VALUES(zeroblob(1000))").ok()) {
      EXPECT_EQ(db.last_failure(), SQLITE_FULL);
      return;
    }
  }
  FAIL() << "the database never filled up";
}

// Issue 13 item 4: a batch that fails because the disk is full is retried, its submitters
// hear nothing until it commits, the store says it is failing meanwhile, and it commits by
// itself once there is room again. Nothing committed before is lost.
TEST(GroupCommit, ADiskFullBatchIsRetriedAndCommitsWhenSpaceReturns) {
  Fixture f;
  ASSERT_TRUE(f.ledger->post(std::vector{movement("before", "A", MovementKind::kReceive, 5)}).ok());
  fill_up(*f.db);
  boost::asio::io_context io;
  GroupCommit gc(io, *f.ledger, 500, std::chrono::milliseconds(1),
                 RetryPolicy{std::chrono::milliseconds(10), std::chrono::milliseconds(40),
                             std::chrono::seconds(60), 10000});
  std::vector<bool> changes;
  gc.set_health_changed([&](const CommitHealth& h) { changes.push_back(h.failing); });
  int ok = 0, failed = 0;
  for (int i = 0; i < 200; ++i)
    gc.submit(movement("m" + std::to_string(i), "A", MovementKind::kReceive, 1),
              [&](const Expected<PostResult>& r) { r.ok() ? ++ok : ++failed; });
  io.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(ok + failed, 0) << "a submitter was answered before its batch committed";
  EXPECT_TRUE(gc.health().failing);
  EXPECT_GT(gc.health().retries, 1u);
  EXPECT_EQ(gc.health().waiting, 200u);
  EXPECT_THAT(gc.health().last_error, ::testing::HasSubstr("full"));
  // Space comes back (the filler is deleted): the next retry commits everything.
  ASSERT_TRUE(f.db->exec("DELETE FROM filler").ok());
  io.restart();
  io.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(ok, 200);
  EXPECT_EQ(failed, 0);
  EXPECT_FALSE(gc.health().failing);
  EXPECT_EQ(gc.health().not_recorded, 0u);
  EXPECT_EQ(changes, (std::vector<bool>{true, false}));
  EXPECT_EQ((*f.ledger->stock("A"))[0].line.on_hand, 205);
}

// ... and when it stays full, the batch finally fails: its submitters are told, the count of
// movements not recorded stays in the health, and a later batch commits once there is room.
TEST(GroupCommit, ABatchFailingTooLongFailsVisiblyAndTheNextOneCommits) {
  Fixture f;
  fill_up(*f.db);
  boost::asio::io_context io;
  GroupCommit gc(io, *f.ledger, 500, std::chrono::milliseconds(1),
                 RetryPolicy{std::chrono::milliseconds(10), std::chrono::milliseconds(20),
                             std::chrono::milliseconds(100), 10000});
  int failed = 0;
  for (int i = 0; i < 200; ++i)
    gc.submit(movement("m" + std::to_string(i), "A", MovementKind::kReceive, 1),
              [&](const Expected<PostResult>& r) { failed += r.ok() ? 0 : 1; });
  io.run_for(std::chrono::milliseconds(400));
  EXPECT_EQ(failed, 200);
  EXPECT_EQ(gc.health().not_recorded, 200u);
  EXPECT_TRUE(gc.health().failing);
  ASSERT_TRUE(f.db->exec("DELETE FROM filler").ok());
  bool done = false;
  gc.submit(movement("later", "A", MovementKind::kReceive, 1),
            [&](const Expected<PostResult>& r) { done = r.ok(); });
  gc.flush();
  EXPECT_TRUE(done);
  EXPECT_FALSE(gc.health().failing);
  EXPECT_EQ(gc.health().not_recorded, 200u);  // what was lost stays counted
}

// A group commit (batches of up to 100) whose in-commit work is `work`; what its owner hears
// of undone work lands in `undone`.
struct InCommitRig : Fixture {
  boost::asio::io_context io;
  GroupCommit gc{io, *ledger, 100, std::chrono::milliseconds(1000)};
  std::vector<std::string> undone;
  explicit InCommitRig(std::function<Status(const Txn&)> work) {
    gc.set_in_commit(std::move(work), [this](const std::string& why) { undone.push_back(why); });
  }
};

// Work in the batch's own transaction (replenishment's fold, issue 18): it commits with the
// movements; when it fails or throws, its writes are undone, the movements are kept, and the
// owner hears why.
TEST(GroupCommit, WorkInTheBatchsTransactionCommitsWithItOrIsUndoneAlone) {
  int mode = 0;  // 0: writes a mark; 1: writes then fails; 2: writes then throws
  int runs = 0;
  InCommitRig f([&](const Txn& txn) -> Status {
    ++runs;
    if (auto st = txn.db().set_meta("mark", std::to_string(runs)); !st) return st;
    if (mode == 1) return Error{"fold failed"};
    if (mode == 2) throw std::runtime_error("fold threw");
    return {};
  });
  auto& gc = f.gc;
  const auto& undone = f.undone;
  auto post = [&](const std::string& id) {
    int ok = 0;
    gc.submit(movement(id, "A", MovementKind::kReceive, 1),
              [&](const Expected<PostResult>& r) { ok += r.ok() && r->outcome == PostOutcome::kPosted; });
    gc.flush();
    return ok;
  };
  auto mark = [&] { return f.db->meta("mark").value().value_or(""); };

  EXPECT_EQ(post("m1"), 1);
  EXPECT_EQ(mark(), "1");  // committed with the batch
  EXPECT_EQ(gc.batches_committed(), 1u);
  mode = 1;
  EXPECT_EQ(post("m2"), 1);  // the movement is kept...
  EXPECT_EQ(mark(), "1");    // ...the work's write is not
  mode = 2;
  EXPECT_EQ(post("m3"), 1);
  EXPECT_EQ(mark(), "1");
  EXPECT_THAT(undone, ::testing::ElementsAre("fold failed", "threw: fold threw"));
  EXPECT_EQ((*f.ledger->stock("A"))[0].line.on_hand, 3);
  // A later batch works again.
  mode = 0;
  EXPECT_EQ(post("m4"), 1);
  EXPECT_EQ(mark(), "4");
  EXPECT_EQ(undone.size(), 2u);
}

// When the batch's transaction does not commit after the work ran, the owner is told too
// (its memory is ahead of the database). Here the work leaves a deferred foreign-key
// violation, which only COMMIT sees.
TEST(GroupCommit, ABatchThatDoesNotCommitAfterTheWorkTellsItsOwner) {
  InCommitRig f([](const Txn& txn) -> Status {
    if (auto st = txn.db().exec("PRAGMA defer_foreign_keys=ON"); !st) return st;
    return txn.db().exec("INSERT INTO stock(sku, on_hand, held, reserved, backordered,"
                         " updated_at) VALUES('no-such-sku', 1, 0, 0, 0, 't')");
  });
  auto& gc = f.gc;
  int failed = 0;
  gc.submit(movement("m1", "A", MovementKind::kReceive, 1),
            [&](const Expected<PostResult>& r) { failed += !r.ok(); });
  gc.flush();
  EXPECT_EQ(failed, 1);  // a permanent error: the submitter is told
  EXPECT_THAT(f.undone, ::testing::ElementsAre("the batch did not commit"));
  EXPECT_EQ(f.movement_count(), 0);
}

// A full disk or an I/O error can make SQLite roll back the whole transaction while the work
// runs (here the work does it itself): the batch must fail with it, never commit half of it
// or report "cannot commit", and the owner hears why.
TEST(GroupCommit, WorkThatLosesTheWholeTransactionFailsTheBatch) {
  InCommitRig f([](const Txn& txn) -> Status {
    (void)txn.db().exec("ROLLBACK");
    return Error{"the disk is full"};
  });
  auto& gc = f.gc;
  std::vector<std::string> answers;
  gc.submit(movement("m1", "A", MovementKind::kReceive, 1), [&](const Expected<PostResult>& r) {
    answers.push_back(r.ok() ? "posted" : r.error().message);
  });
  gc.flush();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0], "the disk is full");
  EXPECT_THAT(f.undone, ::testing::ElementsAre("the disk is full"));
  EXPECT_EQ(f.movement_count(), 0);
  // The connection is usable: without the work, the next batch commits.
  gc.set_in_commit(nullptr, nullptr);
  gc.submit(movement("m2", "A", MovementKind::kReceive, 1), [&](const Expected<PostResult>& r) {
    answers.push_back(r.ok() ? "posted" : r.error().message);
  });
  gc.flush();
  EXPECT_EQ(answers.back(), "posted");
}

}  // namespace
}  // namespace depot::store
