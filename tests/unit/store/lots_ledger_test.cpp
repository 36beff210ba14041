// Lots in the ledger against a real SQLite file: stock per (SKU, lot) kept in the movement's
// transaction, FEFO picks recorded on the movement and its record, UNDO, counts of a lot,
// expired stock not available (to orders either), cold-chain holds per lot.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/coldchain_store.hpp"
#include "store/ledger.hpp"
#include "store/orders_store.hpp"
#include "store/outbox.hpp"
#include "store/schema.hpp"
#include "old_database.hpp"
#include "test_support.hpp"

#include <sqlite3.h>

namespace depot::store {
namespace {
using test::movement;

// Movements are on 2026-11-23 (test::movement); the ledger's day is the movement's own.
constexpr const char* kNow = "2026-11-23T10:00:00.000Z";

class LotLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Database::open(dir_.file("lots.db"), {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    CatalogItem m{.sku = "MILK", .name = "Milk", .zone = "chill"};
    CatalogItem w{.sku = "WATER", .name = "Water", .zone = "dry"};
    ASSERT_TRUE(apply_catalog(*db_, {m, w}, kNow).ok());
    ledger_ = std::make_unique<Ledger>(*db_);
  }
  PostResult post(MovementRequest m) {
    auto r = ledger_->post(std::vector<MovementRequest>{m});
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return {};
    EXPECT_NE((*r)[0].outcome, PostOutcome::kRejected) << (*r)[0].error;
    return (*r)[0];
  }
  PostResult receive(const std::string& id, std::int64_t qty, std::optional<std::string> lot,
                     std::optional<std::string> expiry) {
    auto m = movement(id, "MILK", MovementKind::kReceive, qty);
    m.lot = std::move(lot);
    m.expiry = std::move(expiry);
    return post(m);
  }
  // lot -> {on_hand, held}
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> lots(const std::string& sku = "MILK") {
    std::map<std::string, std::pair<std::int64_t, std::int64_t>> out;
    auto q = db_->prepare("SELECT lot, on_hand, held FROM lot_stock WHERE sku = ?1");
    (*q)->bind(1, sku);
    while (*(*q)->step()) out[(*q)->text(0)] = {(*q)->int64(1), (*q)->int64(2)};
    (*q)->reset();
    return out;
  }
  nlohmann::json record(const std::string& id) {
    auto recs = outbox_read(*db_, "movements", 0, 1000);
    EXPECT_TRUE(recs.ok());
    for (const auto& r : *recs) {
      auto j = nlohmann::json::parse(r.payload);
      if (j["id"] == id) return j;
    }
    ADD_FAILURE() << "no movements record " << id;
    return {};
  }

  test::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LotLedgerTest, APickWithoutALotTakesFefoAndTheMovementSaysWhichLots) {
  receive("r-late", 10, "LATE", "2027-03-01");
  receive("r-soon", 5, "SOON", "2026-11-30");
  receive("r-none", 3, std::nullopt, std::nullopt);
  // 7 picked: SOON's 5 (expires first), then 2 of LATE; the unlotted 3 stay.
  auto r = post(movement("p1", "MILK", MovementKind::kPick, 7));
  ASSERT_EQ(r.outcome, PostOutcome::kPosted);
  ASSERT_EQ(r.lots.size(), 2u);
  EXPECT_EQ(r.lots[0], (lots::Delta{"SOON", "2026-11-30", -5, 0}));
  EXPECT_EQ(r.lots[1], (lots::Delta{"LATE", "2027-03-01", -2, 0}));
  EXPECT_EQ(r.after.on_hand, 11);
  auto l = lots();
  EXPECT_EQ(l.size(), 1u) << "SOON is empty: its row is gone";
  EXPECT_EQ(l["LATE"], (std::pair<std::int64_t, std::int64_t>{8, 0}));
  auto rec = record("p1");
  ASSERT_TRUE(rec.contains("lots"));
  EXPECT_EQ(rec["lots"].size(), 2u);
  EXPECT_EQ(rec["lots"][0]["lot"], "SOON");
  EXPECT_EQ(rec["lots"][0]["qty"], -5);
  EXPECT_FALSE(rec.contains("lot")) << "two lots: no single lot on the movement";
  // One lot chosen: it is the movement's lot.
  r = post(movement("p2", "MILK", MovementKind::kPick, 1));
  auto moved = ledger_->find("p2");
  ASSERT_TRUE(moved.ok() && *moved);
  EXPECT_EQ((*moved)->lot, "LATE");
  EXPECT_EQ((*moved)->expiry, "2027-03-01");
  EXPECT_EQ(record("p2")["lot"], "LATE");
}

TEST_F(LotLedgerTest, AnUndoPutsBackExactlyWhatThePickTookFromEachLot) {
  receive("r1", 4, "A", "2027-01-01");
  receive("r2", 4, "B", "2027-02-01");
  post(movement("p1", "MILK", MovementKind::kPick, 6));  // A 4, B 2
  auto undo = movement("undo-p1", "MILK", MovementKind::kAdjust, 6);
  undo.reverses = "p1";
  auto r = post(undo);
  ASSERT_EQ(r.outcome, PostOutcome::kPosted);
  auto l = lots();
  EXPECT_EQ(l["A"].first, 4);
  EXPECT_EQ(l["B"].first, 4);
  // The same UNDO again changes nothing.
  auto again = ledger_->post(std::vector<MovementRequest>{undo});
  EXPECT_EQ((*again)[0].outcome, PostOutcome::kDuplicate);
  EXPECT_EQ(lots()["A"].first, 4);
}

TEST_F(LotLedgerTest, ACountOfALotCountsThatLot) {
  receive("r1", 10, "A", "2027-01-01");
  receive("r2", 6, "B", "2027-02-01");
  auto c = movement("c1", "MILK", MovementKind::kCount, 4);
  c.lot = "B";
  auto r = post(c);
  EXPECT_EQ(r.posting.on_hand_delta, -2) << "B had 6, 4 counted";
  EXPECT_EQ(r.after.on_hand, 14);
  EXPECT_EQ(lots()["B"].first, 4);
  EXPECT_EQ(lots()["A"].first, 10);
}

TEST_F(LotLedgerTest, ExpiredStockIsNotAvailableNotChosenAndNotReservedForOrders) {
  receive("r-old", 4, "OLD", "2026-11-20");  // expired on the movements' day (11-23)
  receive("r-new", 6, "NEW", "2026-12-20");
  auto r = post(movement("p0", "MILK", MovementKind::kPick, 1));
  ASSERT_EQ(r.lots.size(), 1u);
  EXPECT_EQ(r.lots[0].lot, "NEW") << "an expired lot is never chosen";
  EXPECT_EQ(r.after.expired, 4);
  EXPECT_EQ(r.after.available(), 5);
  EXPECT_EQ(record("p0")["expired_after"], 4);
  // `stock` (today's figures): OLD expired long before today.
  auto rows = ledger_->stock(std::string("MILK"));
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ((*rows)[0].line.expired, 4);
  EXPECT_EQ((*rows)[0].line.available(), 5);
  // An order for 8 is reserved 5 (what is available) and backordered 3.
  auto txn = Txn::begin(*db_);
  ASSERT_TRUE(txn.ok());
  auto lines = reserve_order(*txn, {"O1", "web", {{"MILK", 8}}}, kNow, "c1");
  ASSERT_TRUE(lines.ok()) << lines.error().message;
  EXPECT_EQ((*lines)[0].reserved, 5);
  EXPECT_EQ((*lines)[0].backordered, 3);
  ASSERT_TRUE(txn->commit().ok());
  // Writing the expired lot off does not make anything available; a receipt of 3 fills the
  // backorder.
  auto h = movement("h-old", "MILK", MovementKind::kHold, 4);
  h.lot = "OLD";
  post(h);
  auto w = movement("w-old", "MILK", MovementKind::kWriteoff, 4);
  w.lot = "OLD";
  r = post(w);
  EXPECT_EQ(r.after.expired, 0);
  EXPECT_EQ(r.after.available(), 0);
  EXPECT_EQ(lots().count("OLD"), 0u);
  r = receive("r-more", 3, "MORE", "2027-01-01");
  EXPECT_EQ(r.after.backordered, 0);
  EXPECT_EQ(r.after.reserved, 8);
}

TEST_F(LotLedgerTest, AColdChainHoldCoversEachLotInTheZoneAndWhatIsOutsideThem) {
  receive("r1", 5, "A", "2027-01-01");
  receive("r2", 3, "B", "2027-02-01");
  receive("r3", 2, std::nullopt, std::nullopt);
  post(movement("w1", "WATER", MovementKind::kReceive, 9));  // another zone: untouched
  HoldContext ctx;
  ctx.now = kNow;
  auto txn = Txn::begin(*db_);
  ASSERT_TRUE(txn.ok());
  auto holds = place_holds(*txn, *ledger_, "chill", "exc-1", "hold-exc-1", ctx);
  ASSERT_TRUE(holds.ok()) << holds.error().message;
  ASSERT_TRUE(txn->commit().ok());
  ASSERT_EQ(holds->size(), 3u);
  EXPECT_EQ((*holds)[0].lot, "A");
  EXPECT_EQ((*holds)[0].qty, 5);
  EXPECT_EQ((*holds)[1].lot, "B");
  EXPECT_EQ((*holds)[1].qty, 3);
  EXPECT_FALSE((*holds)[2].lot);
  EXPECT_EQ((*holds)[2].qty, 2);
  EXPECT_EQ(lots()["A"], (std::pair<std::int64_t, std::int64_t>{5, 5}));
  EXPECT_EQ(lots()["B"], (std::pair<std::int64_t, std::int64_t>{3, 3}));
  // Releasing B's hold releases B; writing off the unlotted hold leaves the lots alone.
  auto t2 = Txn::begin(*db_);
  ASSERT_TRUE(end_hold(*t2, *ledger_, (*holds)[1].id, HoldEnd::kRelease, std::nullopt, "qa",
                       "probe fault, product fine", "rel-b", ctx)
                  .ok());
  ASSERT_TRUE(end_hold(*t2, *ledger_, (*holds)[2].id, HoldEnd::kWriteoff, std::nullopt, "qa",
                       "warm", "wo-rest", ctx)
                  .ok());
  ASSERT_TRUE(t2->commit().ok());
  EXPECT_EQ(lots()["A"], (std::pair<std::int64_t, std::int64_t>{5, 5}));
  EXPECT_EQ(lots()["B"], (std::pair<std::int64_t, std::int64_t>{3, 0}));
  auto rows = ledger_->stock(std::string("MILK"));
  EXPECT_EQ((*rows)[0].line.on_hand, 8);
  EXPECT_EQ((*rows)[0].line.held, 5);
  EXPECT_EQ(lots("WATER").size(), 0u);
}

TEST_F(LotLedgerTest, TheLotsListingIsInPickingOrderWithExpiredLotsLast) {
  receive("r1", 2, "LATE", "2027-06-01");
  receive("r2", 2, "GONE", "2020-01-01");
  receive("r3", 2, "SOON", "2027-01-01");
  auto rows = ledger_->lots(std::string("MILK"), "2026-12-05");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].lot.lot, "SOON");
  EXPECT_EQ((*rows)[0].days_left, 27);
  EXPECT_EQ((*rows)[1].lot.lot, "LATE");
  EXPECT_EQ((*rows)[2].lot.lot, "GONE");
  EXPECT_TRUE((*rows)[2].expired);
}

TEST_F(LotLedgerTest, PickingNoneLeavesTheLotsToThoseWhoNameThem) {
  ledger_->set_lot_rules({lots::Picking::kNone, tz::utc()});
  receive("r1", 5, "A", "2027-01-01");
  receive("r2", 5, std::nullopt, std::nullopt);
  auto r = post(movement("p1", "MILK", MovementKind::kPick, 3));
  EXPECT_TRUE(r.lots.empty());
  EXPECT_EQ(lots()["A"].first, 5);
}

// The v15 migration rebuilds lot_stock from the movements that named a lot, but picks without
// a lot reduced no lot before: the lots are capped by the SKU's on hand, newest lots first,
// and a lot the ledger would now refuse (longer than 20, with a space) is left out.
TEST(LotMigration, LotsRebuiltFromMovementsNeverExceedTheSkusOnHand) {
  test::TempDir dir;
  const auto file = dir.file("v14.db");
  std::vector<std::string> rows{
      "INSERT INTO skus(sku,name,unit,zone,policy,origin,updated_at) VALUES"
      "('M','Milk','ea','','','config','x')"};
  auto mv = [&](int seq, const char* kind, int qty, const char* lot, const char* expiry) {
    rows.push_back("INSERT INTO movements(seq,id,sku,kind,qty,source,lot,expiry,wall_time,mono_ns,"
                   "on_hand_after,negative) VALUES(" + std::to_string(seq) + ",'m" +
                   std::to_string(seq) + "','M','" + kind + "'," + std::to_string(qty) + ",'t'," +
                   (lot ? "'" + std::string(lot) + "'" : "NULL") + "," +
                   (expiry ? "'" + std::string(expiry) + "'" : "NULL") +
                   ",'2026-11-01T00:00:00.000Z',1,0,0)");
  };
  mv(1, "receive", 10, "OLD", "2026-11-30");
  mv(2, "receive", 6, "NEW", "2027-01-31");
  mv(3, "receive", 2, "BAD LOT", nullptr);
  mv(4, "pick", -9, nullptr, nullptr);  // plain picks: 9 of the 16 in lots are gone
  rows.push_back("INSERT INTO stock(sku,on_hand,held,updated_at) VALUES('M',9,0,'x')");
  test::write_old_database(file, 14, rows);
  auto db = Database::open(file, {});
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(*(*db)->schema_version(), static_cast<int>(migrations().size()));
  std::map<std::string, std::int64_t> got;
  auto q = (*db)->prepare("SELECT lot, on_hand, held FROM lot_stock WHERE sku = 'M'");
  while (*(*q)->step()) {
    got[(*q)->text(0)] = (*q)->int64(1);
    EXPECT_EQ((*q)->int64(2), 0);
  }
  (*q)->reset();
  // 9 on hand: NEW (newest) keeps its 6, OLD the other 3; "BAD LOT" is not a lot.
  EXPECT_EQ(got, (std::map<std::string, std::int64_t>{{"NEW", 6}, {"OLD", 3}}));
  // The alarms table took its new kind.
  EXPECT_TRUE((*db)->exec("INSERT INTO replenish_alarms(id,sku,kind,raised_at,details)"
                          " VALUES('a','M','short_dated','x','{}')").ok());
}

}  // namespace
}  // namespace depot::store
