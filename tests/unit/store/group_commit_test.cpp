#include "store/group_commit.hpp"

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

}  // namespace
}  // namespace depot::store
