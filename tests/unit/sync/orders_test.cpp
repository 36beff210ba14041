// Orders through the cloud desk and the ledger, against a real SQLite file: reservations cut
// availability, backorders wait for stock and are filled oldest first, a pick with the order's
// id takes its reservation, release and ship give back what is still reserved; every change
// is on the `orders` stream and audited; wrong commands change nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/orders_store.hpp"
#include "store/outbox.hpp"
#include "sync/commands.hpp"
#include "test_support.hpp"

namespace depot::sync {
namespace {
using nlohmann::json;
using ::testing::HasSubstr;

class OrderDesk : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Database::open(dir_.file("orders.db"), {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    CatalogItem a{.sku = "MASK", .name = "Sheet mask"};
    CatalogItem b{.sku = "TEA", .name = "Tea"};
    ASSERT_TRUE(store::apply_catalog(*db_, {a, b}, "2026-11-23T00:00:00.000Z").ok());
    ledger_ = std::make_unique<store::Ledger>(*db_);
    DeskHooks h;
    h.wall_now = [] { return std::string("2026-11-23T10:00:00.000Z"); };
    h.mono_now_ns = [] { return std::int64_t{1}; };
    h.new_id = [this] { return "id-" + std::to_string(++ids_); };
    h.orders_changed = [this](const orders::Change& c) {
      changed_.insert(c.skus.begin(), c.skus.end());
      for (const auto& i : c.intake) intake_ += i.qty;
    };
    desk_ = std::make_unique<CommandDesk>(*db_, *ledger_, "", h);
  }
  json cmd(const std::string& name, const std::string& id, const json& args) {
    return desk_->handle(name, json{{"id", id}, {"args", args}}.dump());
  }
  store::PostResult post(const std::string& id, const std::string& sku, MovementKind kind,
                         std::int64_t qty, std::optional<std::string> order = std::nullopt) {
    auto m = test::movement(id, sku, kind, qty);
    m.order_id = std::move(order);
    auto r = ledger_->post(std::span(&m, 1));
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok()) return {};
    EXPECT_EQ((*r)[0].outcome, store::PostOutcome::kPosted) << (*r)[0].error;
    return (*r)[0];
  }
  StockLine line(const std::string& sku) {
    auto rows = ledger_->stock(sku);
    EXPECT_TRUE(rows.ok() && rows->size() == 1);
    return rows.ok() && !rows->empty() ? (*rows)[0].line : StockLine{};
  }
  std::int64_t count(const std::string& sql) {
    auto s = db_->prepare(sql);
    EXPECT_TRUE(*(*s)->step());
    auto n = (*s)->int64(0);
    (*s)->reset();
    return n;
  }
  std::vector<json> records(const std::string& stream) {
    auto q = db_->prepare("SELECT payload FROM outbox WHERE stream = ?1 ORDER BY seq");
    (*q)->bind(1, stream);
    std::vector<json> out;
    while (*(*q)->step()) out.push_back(json::parse((*q)->text(0)));
    (*q)->reset();
    return out;
  }
  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Ledger> ledger_;
  std::unique_ptr<CommandDesk> desk_;
  std::set<std::string> changed_;
  std::int64_t intake_ = 0;
  int ids_ = 0;
};

TEST_F(OrderDesk, AnOrderReservesWhatIsAvailableAndBackordersTheRest) {
  post("r1", "MASK", MovementKind::kReceive, 20);
  post("h1", "MASK", MovementKind::kHold, 2);  // 18 available
  auto r = cmd("order.reserve", "c1",
               {{"order_id", "TT-1"},
                {"channel", "live:room-42"},
                {"lines", {{{"sku", "MASK"}, {"qty", 12}}, {{"sku", "TEA"}, {"qty", 3}}}}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["reserved"], 12);     // MASK 12 of 18; TEA 0 of 0
  EXPECT_EQ(r["result"]["backordered"], 3);   // TEA: nothing on hand
  EXPECT_EQ(changed_, (std::set<std::string>{"MASK", "TEA"}));
  EXPECT_EQ(intake_, 15);  // what was ordered, reserved or not: the demand signal
  auto mask = line("MASK");
  EXPECT_EQ(mask.on_hand, 20);
  EXPECT_EQ(mask.reserved, 12);
  EXPECT_EQ(mask.available(), 6);  // 20 - 2 held - 12 reserved
  EXPECT_EQ(line("TEA").backordered, 3);

  // A second order for 10 masks: 6 are left, 4 wait.
  r = cmd("order.reserve", "c2",
          {{"order_id", "TT-2"}, {"lines", {{{"sku", "MASK"}, {"qty", 10}}}}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["lines"][0]["reserved"], 6);
  EXPECT_EQ(r["result"]["lines"][0]["backordered"], 4);
  EXPECT_EQ(line("MASK").available(), 0);

  // The orders stream says so, and each command is audited.
  auto recs = records("orders");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["order_id"], "TT-1");
  EXPECT_EQ(recs[0]["event"], "reserved");
  EXPECT_EQ(recs[0]["channel"], "live:room-42");
  EXPECT_EQ(recs[0]["lines"].size(), 2u);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'audit'"), 2);
}

TEST_F(OrderDesk, TheSameLineSentAgainIsUnchangedAndAnotherQuantityIsRefused) {
  post("r1", "MASK", MovementKind::kReceive, 20);
  json args{{"order_id", "TT-1"}, {"lines", {{{"sku", "MASK"}, {"qty", 5}}}}};
  ASSERT_EQ(cmd("order.reserve", "c1", args)["ok"], true);
  // The platform resends the order under a new command id: nothing changes.
  auto again = cmd("order.reserve", "c2", args);
  ASSERT_EQ(again["ok"], true) << again.dump();
  EXPECT_EQ(again["result"]["lines"][0]["unchanged"], true);
  EXPECT_EQ(line("MASK").reserved, 5);
  EXPECT_EQ(records("orders").size(), 1u);
  // The same command id again: the stored reply.
  EXPECT_EQ(cmd("order.reserve", "c1", args)["duplicate"], true);
  // The line with another quantity: refused, naming the field and both numbers.
  auto other = cmd("order.reserve", "c3",
                   {{"order_id", "TT-1"}, {"lines", {{{"sku", "MASK"}, {"qty", 7}}}}});
  EXPECT_EQ(other["ok"], false);
  EXPECT_THAT(other["error"].get<std::string>(), HasSubstr("args.lines[0].qty: 7 differs from the 5"));
  EXPECT_EQ(line("MASK").reserved, 5);
}

TEST_F(OrderDesk, APickForTheOrderTakesItsReservationAndShipGivesBackTheRest) {
  post("r1", "MASK", MovementKind::kReceive, 20);
  ASSERT_EQ(cmd("order.reserve", "c1",
                {{"order_id", "TT-1"}, {"lines", {{{"sku", "MASK"}, {"qty", 8}}}}})["ok"],
            true);
  // 5 picked for the order: on hand 15, reserved 3, available 12.
  EXPECT_FALSE(post("p1", "MASK", MovementKind::kPick, 5, "TT-1").posting.order_unmatched);
  auto s = line("MASK");
  EXPECT_EQ(s.on_hand, 15);
  EXPECT_EQ(s.reserved, 3);
  EXPECT_EQ(s.available(), 12);
  auto moves = ledger_->movements({});
  ASSERT_TRUE(moves.ok());
  EXPECT_EQ(moves->back().order_id, "TT-1");
  auto mrec = records("movements").back();
  EXPECT_EQ(mrec["order_id"], "TT-1");
  EXPECT_EQ(mrec["reservation_taken"], 5);
  // A pick without the order's id takes nothing from it: 12 - 2 = 10 available.
  post("p2", "MASK", MovementKind::kPick, 2);
  EXPECT_EQ(line("MASK").reserved, 3);
  EXPECT_EQ(line("MASK").available(), 10);
  // A mistyped order id: recorded as picked (the item left the shelf), nothing reserved taken,
  // and flagged so the scanner's log and the CLI say so: 10 - 1 = 9 available, 3 still reserved.
  auto typo = post("p3", "MASK", MovementKind::kPick, 1, "TT-7");
  EXPECT_TRUE(typo.posting.order_unmatched);
  EXPECT_EQ(typo.posting.reservation_taken, 0);
  EXPECT_EQ(line("MASK").reserved, 3);
  EXPECT_EQ(line("MASK").available(), 9);
  // Shipped: the 3 still reserved are available again.
  auto r = cmd("order.ship", "c2", {{"order_id", "TT-1"}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["lines"][0]["picked"], 5);
  EXPECT_EQ(r["result"]["lines"][0]["state"], "shipped");
  EXPECT_EQ(line("MASK").reserved, 0);
  EXPECT_EQ(line("MASK").available(), 12);  // 20 - 5 - 2 - 1 on hand, none reserved
  // Closed once.
  auto twice = cmd("order.release", "c3", {{"order_id", "TT-1"}});
  EXPECT_EQ(twice["ok"], false);
  EXPECT_THAT(twice["error"].get<std::string>(), HasSubstr("is shipped already"));
  EXPECT_EQ(records("orders").back()["event"], "shipped");
}

TEST_F(OrderDesk, ReceivedStockFillsBackordersOldestFirstAndReleaseFreesStockForOthers) {
  ASSERT_EQ(cmd("order.reserve", "c1",
                {{"order_id", "A-1"}, {"lines", {{{"sku", "TEA"}, {"qty", 4}}}}})["ok"], true);
  ASSERT_EQ(cmd("order.reserve", "c2",
                {{"order_id", "A-2"}, {"lines", {{{"sku", "TEA"}, {"qty", 10}}}}})["ok"], true);
  EXPECT_EQ(line("TEA").backordered, 14);
  // 9 arrive: A-1 gets 4, A-2 gets 5 (5 still wait); nothing is left available.
  post("r1", "TEA", MovementKind::kReceive, 9);
  auto s = line("TEA");
  EXPECT_EQ(s.reserved, 9);
  EXPECT_EQ(s.backordered, 5);
  EXPECT_EQ(s.available(), 0);
  auto lines = store::order_lines(*db_, {.sku = "TEA"});
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].reserved, 4);
  EXPECT_EQ((*lines)[1].reserved, 5);
  EXPECT_EQ((*lines)[1].backordered, 5);
  auto recs = records("orders");
  ASSERT_EQ(recs.size(), 4u);  // reserved, reserved, allocated A-1, allocated A-2
  EXPECT_EQ(recs[2]["event"], "allocated");
  EXPECT_EQ(recs[2]["order_id"], "A-1");
  // A-1 is cancelled: its 4 go to A-2, which waited for 5: 1 still waits.
  auto r = cmd("order.release", "c3", {{"order_id", "A-1"}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  s = line("TEA");
  EXPECT_EQ(s.reserved, 9);
  EXPECT_EQ(s.backordered, 1);
  EXPECT_EQ(s.available(), 0);
}

// Found in review: a closed order's id came back to life when a resend named another SKU; a
// pick beyond the reservation left a backorder that later took stock from waiting orders;
// two records of one order could share an id.
TEST_F(OrderDesk, AClosedOrderStaysClosedAndAPickBeyondItsReservationEndsItsBackorder) {
  post("r1", "MASK", MovementKind::kReceive, 4);
  ASSERT_EQ(cmd("order.reserve", "c1",
                {{"order_id", "O-1"}, {"lines", {{{"sku", "MASK"}, {"qty", 10}}}}})["ok"], true);
  ASSERT_EQ(cmd("order.reserve", "c2",
                {{"order_id", "O-2"}, {"lines", {{{"sku", "MASK"}, {"qty", 5}}}}})["ok"], true);
  EXPECT_EQ(line("MASK").reserved, 4);       // O-1: 4 reserved, 6 backordered
  EXPECT_EQ(line("MASK").backordered, 11);   // O-2: 5 backordered
  // The books were short: 10 are picked for O-1. It waits for nothing any more.
  post("p1", "MASK", MovementKind::kPick, 10, "O-1");
  auto s = line("MASK");
  EXPECT_EQ(s.reserved, 0);
  EXPECT_EQ(s.backordered, 5);  // O-2's only
  // On hand is -6 (picked what the books did not have); 11 arrive: 5 free, and they go to
  // O-2, not to the already-picked O-1.
  post("r2", "MASK", MovementKind::kReceive, 11);
  auto o2 = store::order_lines(*db_, {.order_id = "O-2"});
  ASSERT_TRUE(o2.ok());
  EXPECT_EQ((*o2)[0].reserved, 5);
  EXPECT_EQ((*o2)[0].backordered, 0);
  ASSERT_EQ(cmd("order.ship", "c3", {{"order_id", "O-1"}})["ok"], true);
  // O-1 is shipped: a resend naming another SKU does not reopen it.
  auto r = cmd("order.reserve", "c4",
               {{"order_id", "O-1"}, {"lines", {{{"sku", "TEA"}, {"qty", 1}}}}});
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("order \"O-1\" was shipped already"));
  EXPECT_EQ(count("SELECT count(*) FROM order_lines WHERE order_id = 'O-1'"), 1);
  // Adding a line to an open order writes a second `reserved` record: every record's id differs.
  ASSERT_EQ(cmd("order.reserve", "c5",
                {{"order_id", "O-2"}, {"lines", {{{"sku", "TEA"}, {"qty", 1}}}}})["ok"], true);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'orders'"),
            count("SELECT count(DISTINCT id) FROM outbox WHERE stream = 'orders'"));
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'orders' AND id LIKE 'O-2:reserved:%'"), 2);
}

TEST_F(OrderDesk, WrongOrderCommandsAreNamedAndChangeNothing) {
  post("r1", "MASK", MovementKind::kReceive, 20);
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"lines", {{{"sku", "MASK"}, {"qty", 1}}}}}, "args.order_id: is required"},
      {{{"order_id", "has space"}, {"lines", {{{"sku", "MASK"}, {"qty", 1}}}}},
       "printable ASCII without spaces"},
      {{{"order_id", "O1"}, {"lines", json::array()}}, "args.lines: must list at least one line"},
      {{{"order_id", "O1"}, {"lines", {{{"sku", "MASK"}, {"qty", 0}}}}}, "args.lines[0].qty"},
      {{{"order_id", "O1"}, {"lines", {{{"sku", "MASK"}, {"qty", 1}}, {{"sku", "MASK"}, {"qty", 2}}}}},
       "args.lines[1].sku: \"MASK\" is listed twice"},
      {{{"order_id", "O1"}, {"lines", {{{"sku", "MASK"}, {"qty", 1}}, {{"sku", "GONE"}, {"qty", 2}}}}},
       "args.lines[1].sku: \"GONE\" is not an active SKU"},
      {{{"order_id", "O1"}, {"lines", {{{"sku", "MASK"}, {"qty", 1}, {"colour", "red"}}}}},
       "args.lines[0].colour"},
      {{{"order_id", "O1"}, {"lines", {"MASK"}}}, "args.lines[0]"},
  };
  int n = 0;
  for (const auto& [args, why] : cases) {
    auto r = cmd("order.reserve", "bad-" + std::to_string(++n), args);
    EXPECT_EQ(r["ok"], false) << args.dump();
    EXPECT_THAT(r["error"].get<std::string>(), HasSubstr(why)) << args.dump();
  }
  auto r = cmd("order.release", "bad-rel", {{"order_id", "NEVER"}});
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("no order \"NEVER\" is known here"));
  EXPECT_EQ(line("MASK").reserved, 0);
  EXPECT_EQ(count("SELECT count(*) FROM order_lines"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream IN ('orders','audit')"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM commands"), 0);
}

TEST_F(OrderDesk, AnOrderIdGoesWithAPickOnly) {
  auto m = test::movement("x1", "MASK", MovementKind::kReceive, 3);
  m.order_id = "TT-1";
  auto r = ledger_->post(std::span(&m, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].outcome, store::PostOutcome::kRejected);
  EXPECT_THAT((*r)[0].error, HasSubstr("an order id goes with a pick"));
}

// source.stock: what the central warehouse can spare, per SKU; checked against the
// configured transfer sources and active SKUs; audited; wrong ones change nothing.
TEST_F(OrderDesk, SourceStockIsRecordedForAConfiguredTransferSourceOnly) {
  DeskHooks h;
  h.wall_now = [] { return std::string("2026-11-23T10:00:00.000Z"); };
  h.mono_now_ns = [] { return std::int64_t{1}; };
  h.transfer_sources = {"central"};
  int told = 0;
  h.replenish_changed = [&] { ++told; };
  CommandDesk desk(*db_, *ledger_, "", h);
  auto send = [&](const std::string& id, const json& args) {
    return desk.handle("source.stock", json{{"id", id}, {"args", args}}.dump());
  };
  auto r = send("s1", {{"source", "central"}, {"stock", {{{"sku", "MASK"}, {"qty", 120}}}}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(told, 1);
  EXPECT_EQ(count("SELECT qty FROM source_stock WHERE source = 'central' AND sku = 'MASK'"), 120);
  r = send("s2", {{"source", "central"}, {"stock", {{{"sku", "MASK"}, {"qty", 40}}}}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(count("SELECT qty FROM source_stock WHERE sku = 'MASK'"), 40);  // replaced
  r = send("s3", {{"source", "factory"}, {"stock", {{{"sku", "MASK"}, {"qty", 1}}}}});
  EXPECT_THAT(r["error"].get<std::string>(),
              HasSubstr("args.source: \"factory\" is not a transfer source"));
  r = send("s4", {{"source", "central"}, {"stock", {{{"sku", "MASK"}, {"qty", 5}}, {{"sku", "GONE"}, {"qty", 5}}}}});
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("args.stock[1].sku: \"GONE\""));
  r = send("s5", {{"source", "central"}, {"stock", {{{"sku", "MASK"}, {"qty", -1}}}}});
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("args.stock[0].qty"));
  EXPECT_EQ(count("SELECT qty FROM source_stock WHERE sku = 'MASK'"), 40);  // unchanged
  EXPECT_EQ(count("SELECT count(*) FROM commands"), 2);
}

}  // namespace
}  // namespace depot::sync
