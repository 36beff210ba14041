// The scan intake with real parts: a TCP scanner on loopback (real sockets), a real SQLite
// file, group commit on a real event loop.
#include "app/scan_intake.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "store/rejects.hpp"
#include "store/orders_store.hpp"
#include "test_support.hpp"

namespace depot::app {
namespace {
using boost::asio::ip::tcp;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::uint16_t free_port() {
  boost::asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

struct Intake {
  test::TempDir dir;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::Ledger> ledger;
  Catalog catalog;
  boost::asio::io_context io;
  std::unique_ptr<store::GroupCommit> commits;
  std::vector<ScannerConfig> scanners;
  std::unique_ptr<ScanIntake> intake;
  std::uint16_t port = free_port();

  explicit Intake(TcpSettings tcp = {}, std::int64_t max_rejects_per_s = 20,
                  std::map<std::string, std::int64_t> sku_limits = {},
                  store::RetryPolicy retry = {}) {
    db = std::move(store::Database::open(dir.file("i.db"), {}).value());
    CatalogItem tint{.sku = "TINT", .name = "Tint"};
    tint.barcodes = {"4006381333931"};
    CatalogItem matcha{.sku = "MATCHA", .name = "Matcha"};
    matcha.barcodes = {"5012345678900"};
    EXPECT_TRUE(store::apply_catalog(*db, {tint, matcha}, "2026-11-23T00:00:00.000Z").ok());
    catalog = std::move(store::load_catalog(*db).value());
    ledger = std::make_unique<store::Ledger>(*db);
    commits = std::make_unique<store::GroupCommit>(io, *ledger, 64, 5ms, retry);
    tcp.port = port;
    ScannerConfig s{.id = "dock", .role = MovementKind::kPick};
    s.max_rejects_per_s = max_rejects_per_s;
    s.driver = tcp;
    scanners.push_back(s);
    intake = std::make_unique<ScanIntake>(io, scanners, catalog, *db, *ledger, *commits,
                                          std::move(sku_limits));
    intake->start();
  }
  ~Intake() { intake->stop(); }
  tcp::socket connect() {
    tcp::socket s(io);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    return s;
  }
  void send(tcp::socket& s, const std::string& text) {
    boost::asio::write(s, boost::asio::buffer(text));
  }
  void run(std::chrono::milliseconds d) {
    io.restart();
    io.run_for(d);
  }
  std::int64_t scalar(const std::string& sql) {
    auto q = db->prepare(sql);
    EXPECT_TRUE(*(*q)->step());
    auto n = (*q)->int64(0);
    (*q)->reset();
    return n;
  }
  std::int64_t on_hand(const std::string& sku) {
    return scalar("SELECT coalesce((SELECT on_hand FROM stock WHERE sku = '" + sku + "'), 0)");
  }
};

// Issue 13 item 11: QTY on connection A used to make B's next scan a pick of 50, UNDO on A
// undid B's scan, and the same code from A and B within 300 ms was a "double read".
TEST(ScanIntake, EachTcpConnectionIsItsOwnStation) {
  Intake t;
  t.run(50ms);
  auto a = t.connect();
  auto b = t.connect();
  t.run(100ms);
  t.send(a, "DA:QTY:50\n");
  t.run(100ms);
  t.send(b, "4006381333931\n");  // B: a pick of 1, not 50
  t.run(100ms);
  t.send(a, "4006381333931\n");  // A: within 300 ms of B's same code: not a double read
  t.run(200ms);
  t.intake->stop();
  t.commits->flush();
  EXPECT_EQ(t.on_hand("TINT"), -51);
  EXPECT_EQ(t.scalar("SELECT count(*) FROM rejects"), 0);
  // UNDO on B undoes B's scan (1), not A's (50).
  Intake u;
  u.run(50ms);
  auto c = u.connect();
  auto d = u.connect();
  u.run(100ms);
  u.send(c, "DA:QTY:50\n");
  u.run(50ms);
  u.send(c, "4006381333931\n");
  u.run(100ms);
  u.send(d, "4006381333931\n");
  u.run(100ms);
  u.send(c, "DA:UNDO\n");
  u.run(300ms);
  u.commits->flush();
  EXPECT_EQ(u.on_hand("TINT"), -1);
}

// A packer scans the order on the pick list (DA:ORDER:<id>), then its items: the picks take
// that order's reservation, so a reserved item picked at a scanner is not counted twice; UNDO
// gives the reservation back; CLEAR ends the order.
TEST(ScanIntake, AnOrderCodeMakesTheFollowingPicksTakeThatOrdersReservation) {
  Intake t;
  {  // 10 tints on the shelf, 4 reserved for live order Tt-42 (its id kept as written)
    auto m = test::movement("r1", "TINT", MovementKind::kReceive, 10);
    ASSERT_TRUE(t.ledger->post(std::span(&m, 1)).ok());
    auto txn = store::Txn::begin(*t.db);
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(store::reserve_order(*txn, {"Tt-42", "live:room-42", {{"TINT", 4}}},
                                     "2026-11-23T10:00:00.000Z", "c1").ok());
    ASSERT_TRUE(txn->commit().ok());
  }
  t.run(50ms);
  auto a = t.connect();
  t.run(50ms);
  t.send(a, "DA:ORDER:Tt-42\nDA:QTY:3\n4006381333931\n");
  t.run(200ms);
  t.commits->flush();
  EXPECT_EQ(t.on_hand("TINT"), 7);
  EXPECT_EQ(t.scalar("SELECT reserved FROM stock WHERE sku = 'TINT'"), 1);  // 4 - 3
  EXPECT_EQ(t.scalar("SELECT count(*) FROM movements WHERE order_id = 'Tt-42'"
                     " AND reservation_taken = 3"), 1);
  // UNDO: the 3 are back on the shelf and reserved for the order again.
  t.send(a, "DA:UNDO\n");
  t.run(200ms);
  t.commits->flush();
  EXPECT_EQ(t.on_hand("TINT"), 10);
  EXPECT_EQ(t.scalar("SELECT reserved FROM stock WHERE sku = 'TINT'"), 4);
  EXPECT_EQ(t.scalar("SELECT picked FROM order_lines WHERE order_id = 'Tt-42'"), 0);
  // ...and its record says so (the cloud's copy of the order's line had no word of it).
  EXPECT_EQ(t.scalar("SELECT count(*) FROM outbox WHERE stream = 'movements'"
                     " AND json_extract(payload, '$.reverses') IS NOT NULL"
                     " AND json_extract(payload, '$.order_id') = 'Tt-42'"
                     " AND json_extract(payload, '$.reservation_returned') = 3"),
            1);
  // After CLEAR a pick is for nobody: the reservation stays.
  t.send(a, "DA:CLEAR\n4006381333931\n");
  t.run(200ms);
  t.intake->stop();
  t.commits->flush();
  EXPECT_EQ(t.on_hand("TINT"), 9);
  EXPECT_EQ(t.scalar("SELECT reserved FROM stock WHERE sku = 'TINT'"), 4);
  EXPECT_EQ(t.scalar("SELECT count(*) FROM rejects"), 0);
}

// Lots through a real TCP scanner: two receipts labelled with lot (10) and expiry (17), then
// plain picks take the first expiry first (FEFO), and UNDO puts back what the pick took.
TEST(ScanIntake, LabelledReceiptsMakeLotsAndPlainPicksTakeTheFirstExpiryFirst) {
  Intake t;
  t.run(50ms);
  auto a = t.connect();
  t.run(50ms);
  // GS1: (01) GTIN, (17) expiry YYMMDD (dates decades ahead: the test does not age), (10)
  // lot last (no GS needed); ]C1 is the symbology identifier.
  t.send(a, "DA:MODE:RECEIVE\nDA:QTY:6\n]C1010400638133393117700301" "10LATE\n"
            "DA:QTY:4\n]C1010400638133393117691215" "10SOON\n");
  t.run(200ms);
  t.send(a, "DA:MODE:PICK\nDA:QTY:5\n4006381333931\n");
  t.run(200ms);
  t.commits->flush();
  EXPECT_EQ(t.on_hand("TINT"), 5);
  EXPECT_EQ(t.scalar("SELECT count(*) FROM rejects"), 0);
  EXPECT_EQ(t.scalar("SELECT coalesce((SELECT on_hand FROM lot_stock WHERE lot = 'SOON'), 0)"), 0);
  EXPECT_EQ(t.scalar("SELECT on_hand FROM lot_stock WHERE lot = 'LATE'"), 5);
  EXPECT_EQ(t.scalar("SELECT count(*) FROM movements WHERE kind = 'pick' AND lots LIKE"
                     " '%\"SOON\"%' AND lots LIKE '%\"LATE\"%'"), 1);
  t.send(a, "DA:UNDO\n");
  t.run(200ms);
  t.intake->stop();
  t.commits->flush();
  EXPECT_EQ(t.scalar("SELECT on_hand FROM lot_stock WHERE lot = 'SOON'"), 4);
  EXPECT_EQ(t.scalar("SELECT on_hand FROM lot_stock WHERE lot = 'LATE'"), 6);
  EXPECT_EQ(t.scalar("SELECT expiry = '2069-12-15' FROM lot_stock WHERE lot = 'SOON'"), 1);
}

// Issue 13 item 14: (30)99999999 on a pick station set on hand to -100,000,002. A quantity
// above the scanner's (or the SKU's) per-scan maximum is a reject and moves nothing.
TEST(ScanIntake, AnAbsurdQuantityIsARejectNotAMovement) {
  Intake t({}, 20, {{"MATCHA", 5}});
  t.run(50ms);
  auto a = t.connect();
  t.run(50ms);
  t.send(a,
         "]C10104006381333931"
         "3099999999\n");
  t.run(100ms);
  t.send(a,
         "]C10104006381333931"
         "3010001\n");
  t.run(50ms);
  t.send(a, "DA:QTY:6\n");
  t.run(50ms);
  t.send(a, "5012345678900\n");  // the SKU's own limit is 5
  t.run(50ms);
  t.send(a,
         "]C10104006381333931"
         "3012\n");  // a sane variable count is fine
  t.run(300ms);
  t.commits->flush();
  EXPECT_EQ(t.on_hand("TINT"), -12);
  EXPECT_EQ(t.on_hand("MATCHA"), 0);
  auto rejects = store::list_rejects(*t.db, std::nullopt, 0);
  ASSERT_TRUE(rejects.ok());
  ASSERT_EQ(rejects->size(), 3u);
  EXPECT_THAT((*rejects)[0].reason, HasSubstr("quantity 99999999 of TINT is more than one scan"));
  EXPECT_THAT((*rejects)[1].reason, HasSubstr("max_qty_per_scan 10000 for the scanner"));
  EXPECT_THAT((*rejects)[2].reason, HasSubstr("max_qty_per_scan 5 for the SKU"));
}

// Issue 13 item 12: rejects go through group commit (not one transaction each) and a storm
// beyond max_rejects_per_s is one row with a count; valid scans still get through.
TEST(ScanIntake, ARejectStormIsCountedNotStoredRowByRow) {
  Intake t({}, 10);
  t.run(50ms);
  auto junk = t.connect();
  auto good = t.connect();
  t.run(50ms);
  std::string flood;
  for (int i = 0; i < 500; ++i) flood += "JUNK" + std::to_string(i) + "\n";
  const auto batches_before = t.commits->batches_committed();
  t.send(junk, flood);
  t.send(good, "4006381333931\n");
  t.run(1500ms);
  t.commits->flush();
  EXPECT_EQ(t.on_hand("TINT"), -1);
  // 10 rows one by one, then one row counting the other 490; far fewer commits than rejects.
  EXPECT_EQ(t.scalar("SELECT count(*) FROM rejects"), 11);
  EXPECT_LT(t.commits->batches_committed() - batches_before, 20u);
  auto rejects = store::list_rejects(*t.db, std::nullopt, 0);
  EXPECT_THAT(rejects->back().reason, HasSubstr("reject storm: 490 more rejects"));
  EXPECT_EQ(t.scalar("SELECT count(*) FROM outbox WHERE stream = 'rejects' AND payload LIKE "
                     "'%\"count\":490%'"),
            1);
  EXPECT_EQ(t.intake->counters().storm_suppressed, 490u);
}

// ... and over the disk budget every reject joins its scanner's per-second count row.
TEST(ScanIntake, OverTheDiskBudgetRejectsAreCountsOnly) {
  Intake t({}, 20);
  t.intake->set_counts_only(true);
  t.run(50ms);
  auto junk = t.connect();
  t.run(50ms);
  t.send(junk, "JUNK1\nJUNK2\nJUNK3\nJUNK4\nJUNK5\n");
  t.run(1500ms);
  t.commits->flush();
  EXPECT_EQ(t.scalar("SELECT count(*) FROM rejects"), 1);
  auto rejects = store::list_rejects(*t.db, std::nullopt, 0);
  EXPECT_THAT(rejects->back().reason, HasSubstr("reject storm: 5 more rejects"));
}

// Issue 13 items 4 and 13: scans a database that keeps failing could not record are counted in
// the status and named together in one log line, so the floor knows what to scan again.
TEST(ScanIntake, ScansThatCouldNotBeRecordedAreCountedAndNamed) {
  Intake t({}, 20, {}, store::RetryPolicy{10ms, 20ms, 200ms, 10000});
  // Full: no page left (SQLITE_FULL from now on).
  ASSERT_TRUE(t.db->exec("CREATE TABLE filler(b BLOB)").ok());
  auto pages = t.scalar("PRAGMA page_count");
  ASSERT_TRUE(t.db->exec("PRAGMA max_page_count=" + std::to_string(pages + 20)).ok());
  for (int i = 0; i < 200 && t.db->exec("INSERT INTO filler VALUES(zeroblob(1000))").ok(); ++i) {
  }
  t.run(50ms);
  auto a = t.connect();
  t.run(50ms);
  ::testing::internal::CaptureStderr();
  std::string scans;  // alternating codes: no double reads
  for (int i = 0; i < 100; ++i) scans += i % 2 ? "4006381333931\n" : "5012345678900\n";
  t.send(a, scans);
  t.run(1000ms);
  auto log = ::testing::internal::GetCapturedStderr();
  const auto lost = t.intake->counters().not_recorded;
  EXPECT_GE(lost, 1u);
  EXPECT_EQ(t.intake->counters().posted + lost, 100u);  // every scan: recorded or counted
  EXPECT_THAT(log, HasSubstr(std::to_string(lost) + " scan(s) NOT recorded"));
  EXPECT_THAT(log, HasSubstr("dock: pick TINT x1 at "));
  EXPECT_TRUE(t.commits->health().failing);
}

}  // namespace
}  // namespace depot::app
