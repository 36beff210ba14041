// The daemon-side replenishment (app/replenishment) over a real SQLite file: movements are
// posted through the real ledger with explicit wall times, then folded in by `catch_up`
// exactly as the daemon does after each group commit. Expected figures are worked by hand in
// the comments from the policy formulas (docs/replenishment.md).
#include "app/replenishment.hpp"

#include <gtest/gtest.h>

#include <tuple>

#include <fstream>
#include <map>
#include <iterator>

#include "core/time.hpp"
#include "core/tz.hpp"
#include "store/ledger.hpp"
#include "store/outbox.hpp"
#include "store/orders_store.hpp"
#include "store/replenish_store.hpp"
#include "test_support.hpp"

namespace depot::app {
namespace {

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kDay = 86'400'000;
const std::int64_t kT0 = *timefmt::parse_rfc3339_ms("2026-11-01T00:00:00Z");

replenish::Policy days_policy(std::string name, double lead, double safety_days, double review) {
  replenish::Policy p;
  p.name = std::move(name);
  p.lead_time_days = lead;
  p.review_period_days = review;
  p.safety = replenish::SafetyRule::kDaysOfCover;
  p.safety_days = safety_days;
  p.suppliers = {{"s1", std::nullopt, 1.0}};
  return p;
}

class ReplenishmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    open();
    // A: 10/day from the catalog; lead 5 d, 2 days of safety, review 7 d:
    //    reorder point = 5*10 + 2*10 = 70, order-up-to = 70 + 7*10 = 140.
    CatalogItem a{.sku = "A", .name = "Item A", .policy = "steady", .daily_demand = 10.0};
    // LIP: 48/day (2/h) from the catalog, for the surge.
    CatalogItem lip{.sku = "LIP", .name = "Lip tint", .policy = "fast", .daily_demand = 48.0};
    // H: no catalog figure: its demand comes from history.
    CatalogItem h{.sku = "H", .name = "History item", .policy = "steady"};
    // N: no policy.
    CatalogItem n{.sku = "N", .name = "Not replenished", .daily_demand = 5.0};
    ASSERT_TRUE(store::apply_catalog(*db_, {a, lip, h, n}, "2026-11-01T00:00:00.000Z").ok());
    settings_.policies = {days_policy("fast", 3, 1, 1), days_policy("steady", 5, 2, 7)};
  }
  void open() {
    db_.reset();
    auto opened = store::Database::open(dir_.file("r.db"), {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    ledger_ = std::make_unique<store::Ledger>(*db_);
  }
  std::unique_ptr<Replenishment> engine(std::int64_t now_ms,
                                        Replenishment::Mode mode = Replenishment::Mode::kWrite) {
    auto r = std::make_unique<Replenishment>(*db_, settings_, mode);
    auto st = r->load(now_ms);
    EXPECT_TRUE(st.ok()) << st.error().message;
    return r;
  }
  void post(const std::string& id, const std::string& sku, MovementKind kind, std::int64_t qty,
            std::int64_t wall_ms) {
    auto m = test::movement(id, sku, kind, qty);
    m.wall_time = timefmt::rfc3339_from_unix_ms(wall_ms);
    auto r = ledger_->post(std::vector<MovementRequest>{m});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ((*r)[0].outcome, store::PostOutcome::kPosted) << (*r)[0].error;
  }
  // Two acknowledged orders of A, the older one first (made by hand): P-OLD (PO-1) for 30,
  // acknowledged at 4 min, and P-NEW (PO-2) for 50, at 5 min.
  void two_acknowledged_orders() {
    replenish::Decision d;
    d.reason = replenish::Reason::kReorderPointReached;
    d.quantity = 30;
    d.expected_arrival_ms = kT0 + 5 * kDay;
    auto older = replenish::make_proposal(d, "P-OLD", "A", kT0 + 2 * kMinute);
    d.quantity = 50;
    auto newer = replenish::make_proposal(d, "P-NEW", "A", kT0 + 3 * kMinute);
    auto st = db_->transaction([&]() -> Status {
      if (auto s = store::insert_proposal(*db_, older, "2026-11-01T00:02:00.000Z"); !s) return s;
      if (auto s = store::insert_proposal(*db_, newer, "2026-11-01T00:03:00.000Z"); !s) return s;
      for (auto [id, po, at] : {std::tuple{"P-OLD", "PO-1", 4}, std::tuple{"P-NEW", "PO-2", 5}})
        if (auto a = store::acknowledge_proposal(*db_, id, po, std::nullopt, std::nullopt,
                                                 kT0 + at * kMinute);
            !a)
          return a.error();
      return {};
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  std::vector<replenish::Proposal> proposals(const std::string& sku) {
    auto p = store::load_proposals(*db_, {.sku = sku});
    EXPECT_TRUE(p.ok());
    return p.ok() ? *p : std::vector<replenish::Proposal>{};
  }
  std::int64_t count(const std::string& sql) {
    auto s = db_->prepare(sql);
    EXPECT_TRUE(s.ok());
    auto row = (*s)->step();
    EXPECT_TRUE(row.ok() && *row);
    auto n = (*s)->int64(0);
    (*s)->reset();
    return n;
  }
  // The records of `stream` about `sku` (and, for alarms, of that kind).
  std::vector<nlohmann::json> outbox(const std::string& stream, const std::string& sku,
                                     const std::string& alarm = "") {
    auto recs = store::outbox_read(*db_, stream, 0, 100000);
    EXPECT_TRUE(recs.ok());
    std::vector<nlohmann::json> out;
    for (const auto& r : *recs) {
      auto j = nlohmann::json::parse(r.payload);
      if (j["sku"] == sku && (alarm.empty() || j["alarm"] == alarm)) out.push_back(j);
    }
    return out;
  }

  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Ledger> ledger_;
  replenish::Settings settings_;
};

TEST_F(ReplenishmentTest, AHoldLowersAvailableAndTriggersAProposal) {
  auto r = engine(kT0);
  post("r1", "A", MovementKind::kReceive, 100, kT0 + kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  EXPECT_TRUE(proposals("A").empty()) << "position 100 is above the reorder point 70";

  post("h1", "A", MovementKind::kHold, 40, kT0 + 2 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 2 * kMinute).ok());
  auto ps = proposals("A");
  ASSERT_EQ(ps.size(), 1u);
  const auto& p = ps[0];
  EXPECT_EQ(p.state, replenish::ProposalState::kProposed);
  EXPECT_EQ(p.numbers.held, 40);
  EXPECT_EQ(p.numbers.available, 60);
  EXPECT_EQ(p.numbers.position, 60);
  EXPECT_DOUBLE_EQ(p.numbers.reorder_point, 70);
  EXPECT_DOUBLE_EQ(p.numbers.safety_stock, 20);
  EXPECT_EQ(p.quantity, 80) << "order-up-to 140 - position 60";
  EXPECT_EQ(p.supplier, "s1");
  EXPECT_FALSE(p.urgent);
  // The proposal and its reorders record were committed together.
  auto recs = outbox("reorders", "A");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0]["event"], "proposed");
  EXPECT_EQ(recs[0]["proposal_id"], p.id);
  EXPECT_EQ(recs[0]["quantity"], 80);
  EXPECT_EQ(recs[0]["numbers"]["position"], 60);
  EXPECT_EQ(count("SELECT held FROM stock WHERE sku='A'"), 40);
}

TEST_F(ReplenishmentTest, NoSecondProposalWhileOneIsOpen) {
  auto r = engine(kT0);
  post("r1", "A", MovementKind::kReceive, 100, kT0 + kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  EXPECT_TRUE(proposals("A").empty());
  post("p", "A", MovementKind::kPick, 40, kT0 + kMinute);  // position 60 <= 70
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  ASSERT_EQ(proposals("A").size(), 1u);
  // Still at or below the reorder point, but above the safety stock (20) with what is
  // awaiting: the open proposal covers it.
  for (int i = 0; i < 5; ++i) {
    post("p" + std::to_string(i), "A", MovementKind::kPick, 2, kT0 + (2 + i) * kMinute);
    ASSERT_TRUE(r->catch_up(kT0 + (2 + i) * kMinute).ok());
  }
  ASSERT_TRUE(r->recompute_all(kT0 + 10 * kMinute).ok());
  ASSERT_TRUE(r->recompute_all(kT0 + 11 * kMinute).ok());
  EXPECT_EQ(proposals("A").size(), 1u);
  auto rep = r->report("A", kT0 + 11 * kMinute);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->decision.reason, replenish::Reason::kOpenProposal);
  // A restart does not propose again either.
  auto again = engine(kT0 + 12 * kMinute);
  EXPECT_EQ(proposals("A").size(), 1u);
  EXPECT_EQ(again->counters().proposals, 0u);
}

// Issue 17 item 3, through the engine and the database: a proposal nobody acknowledged yet is
// revised as the position falls; a cancelled one is not made again at once.
TEST_F(ReplenishmentTest, AProposedQuantityIsRevisedAndACancellationHoldsForTheCoolDown) {
  auto r = engine(kT0);
  post("r1", "A", MovementKind::kReceive, 100, kT0 + kMinute);
  post("p1", "A", MovementKind::kPick, 40, kT0 + kMinute);  // position 60: 140 - 60 = 80
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  ASSERT_EQ(proposals("A").size(), 1u);
  EXPECT_EQ(proposals("A")[0].quantity, 80);
  post("p2", "A", MovementKind::kPick, 25, kT0 + 2 * kMinute);  // position 35: 105, +31 %
  ASSERT_TRUE(r->catch_up(kT0 + 2 * kMinute).ok());
  auto now = proposals("A");
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].quantity, 105);
  EXPECT_EQ(now[0].numbers.position, 35);
  auto recs = outbox("reorders", "A");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1]["event"], "revised");
  EXPECT_EQ(recs[1]["quantity"], 105);
  EXPECT_EQ(recs[1]["previous"]["quantity"], 80);
  EXPECT_EQ(recs[1]["previous"]["numbers"]["position"], 60);

  // The buyer cancels it (as the CLI or the cloud would); 7 s later nothing is proposed.
  ASSERT_TRUE(db_->transaction([&]() -> Status {
                   auto c = store::cancel_proposal(*db_, now[0].id, "not this week",
                                                   kT0 + 3 * kMinute);
                   if (!c) return c.error();
                   return {};
                 }).ok());
  ASSERT_TRUE(r->refresh(kT0 + 3 * kMinute + 7000).ok());
  EXPECT_EQ(proposals("A").size(), 1u);
  auto rep = r->report("A", kT0 + 3 * kMinute + 7000);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->decision.reason, replenish::Reason::kCancelledRecently);
  // A restart remembers the cancellation too.
  auto again = engine(kT0 + 4 * kMinute);
  EXPECT_EQ(proposals("A").size(), 1u);
  // A day later it proposes again.
  ASSERT_TRUE(again->recompute_all(kT0 + 3 * kMinute + 24 * 60 * kMinute).ok());
  EXPECT_EQ(proposals("A").size(), 2u);
}

// Through the engine and the database: a proposal nobody acknowledged whose need went away (a
// return) is withdrawn, recorded as such, remembered across a restart, and holds nothing off.
TEST_F(ReplenishmentTest, AProposalWhoseNeedWentAwayIsWithdrawnAndAFallProposesAtOnce) {
  auto r = engine(kT0);
  post("r1", "A", MovementKind::kReceive, 100, kT0 + kMinute);
  post("p1", "A", MovementKind::kPick, 40, kT0 + kMinute);  // position 60 <= 70: 80 proposed
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  ASSERT_EQ(proposals("A").size(), 1u);
  ASSERT_EQ(proposals("A")[0].quantity, 80);
  // Returns of 24: position 84, 14 above the reorder point 70: not more than the margin, 0.2 x
  // the smaller of 80 and the review demand 70 = 14 (one day's demand is less): kept.
  post("t1", "A", MovementKind::kReturn, 24, kT0 + 2 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 2 * kMinute).ok());
  EXPECT_EQ(proposals("A")[0].state, replenish::ProposalState::kProposed);
  // One more: 85, 15 above: withdrawn.
  post("t2", "A", MovementKind::kReturn, 1, kT0 + 3 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 3 * kMinute).ok());
  auto now = proposals("A");
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].state, replenish::ProposalState::kCancelled);
  EXPECT_TRUE(now[0].withdrawn);
  EXPECT_EQ(now[0].cancel_reason,
            "withdrawn by the agent before anyone acknowledged it: the position is 85, above the "
            "reorder point 70 (it was proposed, or last revised, at position 60)");
  auto recs = outbox("reorders", "A");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1]["event"], "withdrawn");
  EXPECT_EQ(recs[1]["state"], "cancelled");
  EXPECT_EQ(recs[1]["withdrawn"], true);
  EXPECT_EQ(recs[1]["quantity"], 80);
  auto rep = r->report("A", kT0 + 3 * kMinute);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->decision.reason, replenish::Reason::kAboveReorderPoint);
  // After a restart, picks bring it to 60 again: proposed at once (a person's cancellation
  // would hold this off for 24 h: AProposedQuantityIsRevisedAndACancellationHoldsForTheCoolDown).
  auto again = engine(kT0 + 4 * kMinute);
  post("p2", "A", MovementKind::kPick, 25, kT0 + 5 * kMinute);
  ASSERT_TRUE(again->catch_up(kT0 + 5 * kMinute).ok());
  ASSERT_EQ(proposals("A").size(), 2u);
  EXPECT_EQ(proposals("A")[1].state, replenish::ProposalState::kProposed);
  EXPECT_EQ(proposals("A")[1].quantity, 80);
}

// A buyer's acknowledgement committed behind the engine's back (the CLI is another process; here
// the same connection, so the engine has no sign of it) is never overwritten by a withdrawal:
// the withdrawal finds the proposal no longer proposed, writes nothing, and takes the stored one.
TEST_F(ReplenishmentTest, AWithdrawalNeverOverwritesAnAcknowledgementMadeMeanwhile) {
  auto r = engine(kT0);
  post("r1", "A", MovementKind::kReceive, 100, kT0 + kMinute);
  post("p1", "A", MovementKind::kPick, 40, kT0 + kMinute);  // 80 proposed at position 60
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  ASSERT_EQ(proposals("A").size(), 1u);
  const auto id = proposals("A")[0].id;
  ASSERT_TRUE(db_->transaction([&]() -> Status {
                   auto a = store::acknowledge_proposal(*db_, id, "PO-9", std::nullopt,
                                                        std::nullopt, kT0 + 2 * kMinute);
                   if (!a) return a.error();
                   return {};
                 }).ok());
  post("t1", "A", MovementKind::kReturn, 30, kT0 + 3 * kMinute);  // 90: past the margin
  ASSERT_TRUE(r->catch_up(kT0 + 3 * kMinute).ok());
  auto now = proposals("A");
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].state, replenish::ProposalState::kAcknowledged);
  EXPECT_EQ(now[0].order.order_number, "PO-9");
  EXPECT_FALSE(now[0].withdrawn);
  for (const auto& rec : outbox("reorders", "A")) EXPECT_NE(rec["event"], "withdrawn") << rec;
}

TEST_F(ReplenishmentTest, AnUrgentTopUpOnlyWhenThePipelineFallsToTheSafetyStock) {
  settings_.surge.min_units = 1000000;  // these picks are not a surge here
  // Revisions off: left on, the open proposal would be revised to 199 by the bulk pick below
  // (AProposedQuantityIsRevised...); this is the top-up rule alone.
  settings_.policies[1].revise_threshold = 1e9;
  ASSERT_EQ(settings_.policies[1].name, "steady");
  auto r = engine(kT0);
  post("r1", "A", MovementKind::kReceive, 60, kT0 + kMinute);  // position 60 <= 70
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  auto ps = proposals("A");
  ASSERT_EQ(ps.size(), 1u);
  ASSERT_EQ(ps[0].quantity, 80);  // pipeline 60 + 80 = 140
  // Down to a pipeline of 21 (position -59 + 80 awaiting): above the safety stock (20).
  post("p1", "A", MovementKind::kPick, 119, kT0 + 2 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 2 * kMinute).ok());
  EXPECT_EQ(proposals("A").size(), 1u);
  // One more unit: pipeline 20 <= safety stock 20: an urgent top-up up to order-up-to 140.
  post("p2", "A", MovementKind::kPick, 1, kT0 + 3 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 3 * kMinute).ok());
  ps = proposals("A");
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[1].reason, replenish::Reason::kTopUpBelowSafetyStock);
  EXPECT_TRUE(ps[1].urgent);
  EXPECT_EQ(ps[1].quantity, 120);  // 140 - pipeline 20
  EXPECT_EQ(ps[1].numbers.awaiting, 80);
}

// DA:UNDO of a receipt takes its credits back: a label for 40 scanned where there were none,
// undone, left P-OLD received and P-NEW 10 short of what it still owed (on order 40 too low,
// a proposal for it). And an UNDO of a pick takes its units out of that day's demand.
TEST_F(ReplenishmentTest, AnUndoneReceiptIsOwedAgainAndAnUndonePickIsNoDemand) {
  auto r = engine(kT0);
  post("r0", "A", MovementKind::kReceive, 500, kT0 + kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  two_acknowledged_orders();
  ASSERT_TRUE(r->refresh(kT0 + 6 * kMinute).ok());
  post("r1", "A", MovementKind::kReceive, 40, kT0 + 7 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 7 * kMinute).ok());
  ASSERT_EQ(r->report("A", kT0 + 7 * kMinute)->decision.numbers.on_order, 40);
  auto undo = test::movement("u1", "A", MovementKind::kAdjust, -40);
  undo.wall_time = timefmt::rfc3339_from_unix_ms(kT0 + 8 * kMinute);
  undo.reverses = "r1";
  ASSERT_TRUE(ledger_->post(std::vector<MovementRequest>{undo}).ok());
  ASSERT_TRUE(r->catch_up(kT0 + 8 * kMinute).ok());
  EXPECT_EQ(r->report("A", kT0 + 8 * kMinute)->decision.numbers.on_order, 80);
  EXPECT_EQ(count("SELECT received_qty FROM proposals WHERE id='P-OLD'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM proposals WHERE id='P-OLD' AND state='acknowledged'"
                  " AND closed_ms IS NULL"),
            1);
  EXPECT_EQ(count("SELECT received_qty FROM proposals WHERE id='P-NEW'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM order_receipts"), 0);
  int undone = 0;
  for (const auto& e : outbox("reorders", "A")) undone += e["event"] == "receipt_undone";
  EXPECT_EQ(undone, 2);
  // After a restart too (it was written, not only remembered).
  r = engine(kT0 + 9 * kMinute);
  EXPECT_EQ(r->report("A", kT0 + 9 * kMinute)->decision.numbers.on_order, 80);
  // The real delivery of 30 then completes P-OLD.
  post("r2", "A", MovementKind::kReceive, 30, kT0 + 10 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 10 * kMinute).ok());
  EXPECT_EQ(count("SELECT count(*) FROM proposals WHERE id='P-OLD' AND state='received'"), 1);

  // A receipt credited to an order cancelled since: its UNDO drops the credit, and the fold
  // goes on (an error here stopped every later fold, and the agent's start).
  post("r3", "A", MovementKind::kReceive, 20, kT0 + 10 * kMinute + 1000);
  ASSERT_TRUE(r->catch_up(kT0 + 10 * kMinute + 1000).ok());
  ASSERT_EQ(count("SELECT received_qty FROM proposals WHERE id='P-NEW'"), 20);
  ASSERT_TRUE(db_->transaction([&]() -> Status {
                   auto c = store::cancel_proposal(*db_, "P-NEW", "supplier gave up",
                                                   kT0 + 10 * kMinute + 2000);
                   return c ? Status{} : Status{c.error()};
                 }).ok());
  ASSERT_TRUE(r->refresh(kT0 + 10 * kMinute + 2000).ok());  // as the desk tells it
  auto undo_cancelled = test::movement("u3", "A", MovementKind::kAdjust, -20);
  undo_cancelled.wall_time = timefmt::rfc3339_from_unix_ms(kT0 + 10 * kMinute + 3000);
  undo_cancelled.reverses = "r3";
  ASSERT_TRUE(ledger_->post(std::vector<MovementRequest>{undo_cancelled}).ok());
  ASSERT_TRUE(r->catch_up(kT0 + 10 * kMinute + 3000).ok());
  EXPECT_EQ(count("SELECT count(*) FROM proposals WHERE id='P-NEW' AND state='cancelled'"), 1);
  EXPECT_TRUE(static_cast<bool>(engine(kT0 + 10 * kMinute + 4000)->report("A", kT0 + 10 * kMinute + 4000)));

  // A case of 12 picked for one unit, undone, the unit picked: 1 picked that day.
  post("p1", "A", MovementKind::kPick, 12, kT0 + 11 * kMinute);
  auto undo_pick = test::movement("u2", "A", MovementKind::kAdjust, 12);
  undo_pick.wall_time = timefmt::rfc3339_from_unix_ms(kT0 + 12 * kMinute);
  undo_pick.reverses = "p1";
  ASSERT_TRUE(ledger_->post(std::vector<MovementRequest>{undo_pick}).ok());
  post("p2", "A", MovementKind::kPick, 1, kT0 + 12 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 12 * kMinute).ok());
  EXPECT_EQ(count("SELECT picked FROM demand_days WHERE sku='A'"), 1);
}

TEST_F(ReplenishmentTest, ReceiptsReduceOnOrderOldestFirstAndOnce) {
  auto r = engine(kT0);
  post("r0", "A", MovementKind::kReceive, 500, kT0 + kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  ASSERT_TRUE(proposals("A").empty());
  two_acknowledged_orders();
  ASSERT_TRUE(r->refresh(kT0 + 6 * kMinute).ok());
  EXPECT_EQ(r->report("A", kT0 + 6 * kMinute)->decision.numbers.on_order, 80);

  post("r1", "A", MovementKind::kReceive, 40, kT0 + 7 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 7 * kMinute).ok());
  auto old_p = store::load_proposals(*db_, {.id = "P-OLD"});
  auto new_p = store::load_proposals(*db_, {.id = "P-NEW"});
  ASSERT_EQ(old_p->size(), 1u);
  ASSERT_EQ(new_p->size(), 1u);
  EXPECT_EQ((*old_p)[0].state, replenish::ProposalState::kReceived);
  EXPECT_EQ((*old_p)[0].order.received, 30);
  EXPECT_EQ((*new_p)[0].state, replenish::ProposalState::kAcknowledged);
  EXPECT_EQ((*new_p)[0].order.received, 10);
  EXPECT_EQ(r->report("A", kT0 + 7 * kMinute)->decision.numbers.on_order, 40);
  EXPECT_EQ(count("SELECT count(*) FROM order_receipts WHERE movement_id='r1'"), 2);

  // Folded once: a re-check and a restart do not credit the receipt again.
  ASSERT_TRUE(r->catch_up(kT0 + 8 * kMinute).ok());
  auto restarted = engine(kT0 + 9 * kMinute);
  EXPECT_EQ(restarted->report("A", kT0 + 9 * kMinute)->decision.numbers.on_order, 40);
  EXPECT_EQ(count("SELECT received_qty FROM proposals WHERE id='P-NEW'"), 10);
  auto events = outbox("reorders", "A");
  int received = 0, partial = 0;
  for (const auto& e : events) {
    received += e["event"] == "received";
    partial += e["event"] == "receipt";
  }
  EXPECT_EQ(received, 1);
  EXPECT_EQ(partial, 1);
}

TEST_F(ReplenishmentTest, ARestartKeepsProposalsAndDemandHistory) {
  // H sells 7 one day, 13 the next, for 20 days (mean 10), from a large stock.
  post("r0", "H", MovementKind::kReceive, 10000, kT0);
  for (int day = 0; day < 20; ++day)
    post("p" + std::to_string(day), "H", MovementKind::kPick, day % 2 ? 13 : 7,
         kT0 + day * kDay + 12 * 3600'000);
  const auto now = kT0 + 20 * kDay + kMinute;
  auto first = engine(now);
  auto before = first->report("H", now);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->decision.numbers.demand_source, replenish::DemandSource::kSmoothed);
  EXPECT_NEAR(before->decision.numbers.daily_demand, 10, 1.0);
  EXPECT_GT(before->decision.numbers.daily_demand_sd, 2.0);
  EXPECT_EQ(count("SELECT count(*) FROM demand_days WHERE sku='H'"), 20);
  EXPECT_EQ(count("SELECT sum(picked) FROM demand_days WHERE sku='H'"), 200);
  first.reset();

  // A fresh connection and engine: the movements are not folded again (the watermark), the
  // buckets give back the same estimate.
  open();
  auto second = engine(now);
  auto after = second->report("H", now);
  ASSERT_TRUE(after);
  EXPECT_EQ(second->counters().folded, 0u);
  EXPECT_EQ(after->decision.numbers.demand_source, before->decision.numbers.demand_source);
  EXPECT_DOUBLE_EQ(after->decision.numbers.daily_demand, before->decision.numbers.daily_demand);
  EXPECT_DOUBLE_EQ(after->decision.numbers.daily_demand_sd,
                   before->decision.numbers.daily_demand_sd);
  EXPECT_EQ(count("SELECT sum(picked) FROM demand_days WHERE sku='H'"), 200);
}

TEST_F(ReplenishmentTest, ASurgeReplayedMinuteByMinuteRaisesAnAlarmAndAnUrgentProposal) {
  post("r0", "LIP", MovementKind::kReceive, 600, kT0);
  const auto start = kT0 + 10 * 3600'000;  // 10:00 UTC
  auto r = engine(start);
  // Baseline: reorder point 3*48 + 1*48 = 192 < 600: nothing to do.
  EXPECT_TRUE(proposals("LIP").empty());
  // The live stream: 8 units a minute for 30 minutes (480/h against 2/h expected).
  int alarm_at_minute = -1;
  for (int minute = 0; minute < 30; ++minute) {
    const auto t = start + minute * kMinute + 30'000;
    post("s" + std::to_string(minute), "LIP", MovementKind::kPick, 8, t);
    ASSERT_TRUE(r->catch_up(t).ok());
    if (alarm_at_minute < 0 && !outbox("alarms", "LIP", "demand_surge").empty())
      alarm_at_minute = minute;
  }
  // 20 units (min_units) are reached in the third minute, but in 3 picks; the fifth pick
  // (min_events 5) comes in the fifth minute: 40 units in 15 min = 160/h >= 4 x 2/h.
  EXPECT_EQ(alarm_at_minute, 4);
  EXPECT_TRUE(r->in_surge("LIP"));
  auto alarms = outbox("alarms", "LIP", "demand_surge");
  ASSERT_EQ(alarms.size(), 1u) << "raised once, not once per pick";
  EXPECT_EQ(alarms[0]["alarm"], "demand_surge");
  EXPECT_EQ(alarms[0]["type"], "replenishment");  // every alarms record has a type
  EXPECT_EQ(alarms[0]["state"], "raised");
  EXPECT_EQ(alarms[0]["sku"], "LIP");
  EXPECT_GE(alarms[0]["details"]["window_units"].get<std::int64_t>(), 20);
  EXPECT_EQ(count("SELECT count(*) FROM replenish_alarms WHERE kind='demand_surge'"
                  " AND cleared_at IS NULL"),
            1);

  auto ps = proposals("LIP");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_TRUE(ps[0].urgent);
  EXPECT_GT(ps[0].numbers.surge_factor, 10);
  EXPECT_GT(ps[0].numbers.reorder_point, 192);
  EXPECT_LE(static_cast<double>(ps[0].numbers.position), ps[0].numbers.reorder_point);

  // Hysteresis, with the daemon's one-minute recompute: the long window holds the surge for
  // an hour after the last pick until fewer than min_events (5) picks are left in it (its last
  // 4 minutes), then every window must stay calm for 30 minutes before the surge ends.
  const auto last = start + 29 * kMinute + 30'000;
  std::int64_t ended_after = -1;
  for (int m = 1; m <= 100 && ended_after < 0; ++m) {
    ASSERT_TRUE(r->recompute_all(last + m * kMinute).ok());
    if (!r->in_surge("LIP")) ended_after = m;
  }
  EXPECT_GE(ended_after, 60 + 30 - 4) << "ended before the window emptied and the hold passed";
  EXPECT_LE(ended_after, 60 + 30 + 2);
  alarms = outbox("alarms", "LIP", "demand_surge");
  ASSERT_GE(alarms.size(), 2u);
  bool cleared = false;
  for (const auto& a : alarms) cleared |= a["alarm"] == "demand_surge" && a["state"] == "cleared";
  EXPECT_TRUE(cleared);
  EXPECT_EQ(count("SELECT count(*) FROM replenish_alarms WHERE kind='demand_surge'"
                  " AND cleared_at IS NULL"),
            0);
}

// Issue 17 item 2: a live stream is seen when its orders arrive, before anyone picks. Orders
// of 3 tints a minute (10 minutes: 30 lines, 90 units = 360/h against 2/h expected) raise the
// surge from order intake in the fifth minute (5 orders, 15 units... the 20 units of min_units
// come with the seventh order), and its proposal says the signal was orders. A single bulk
// pick of 120 (one event) raises nothing.
TEST_F(ReplenishmentTest, OrderIntakeRaisesTheSurgeBeforeAnyPickAndSaysSo) {
  post("r0", "LIP", MovementKind::kReceive, 600, kT0);
  const auto start = kT0 + 10 * 3600'000;
  auto r = engine(start);
  int alarm_at_order = -1;
  for (int i = 0; i < 10; ++i) {
    const auto t = start + i * kMinute + 30'000;
    auto txn = store::Txn::begin(*db_);
    ASSERT_TRUE(txn.ok());
    store::OrderRequest o{"live-" + std::to_string(i), "live:room-42", {{"LIP", 3}}};
    auto lines = store::reserve_order(*txn, o, timefmt::rfc3339_from_unix_ms(t), "c" + std::to_string(i));
    ASSERT_TRUE(lines.ok()) << lines.error().message;
    ASSERT_TRUE(txn->commit().ok());
    ASSERT_TRUE(r->orders_changed(t, {{"LIP"}, {{"LIP", 3}}}).ok());
    if (alarm_at_order < 0 && !outbox("alarms", "LIP", "demand_surge").empty()) alarm_at_order = i;
  }
  // min_events 5 and min_units 20: the seventh order (21 units) is the first window with both.
  EXPECT_EQ(alarm_at_order, 6);
  EXPECT_TRUE(r->in_surge("LIP"));
  EXPECT_EQ(count("SELECT count(*) FROM movements WHERE kind = 'pick'"), 0);  // no pick yet
  auto alarms = outbox("alarms", "LIP", "demand_surge");
  ASSERT_EQ(alarms.size(), 1u);
  EXPECT_EQ(alarms[0]["details"]["signal"], "orders");
  auto ps = proposals("LIP");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_TRUE(ps[0].urgent);
  EXPECT_EQ(ps[0].numbers.surge_signal, "orders");
  // Proposed at the seventh order (21 reserved, available 579) and revised as the rate rose
  // (the numbers are those of its last revision): reservations come off available.
  EXPECT_GE(ps[0].numbers.reserved, 21);
  EXPECT_EQ(ps[0].numbers.reserved % 3, 0);
  EXPECT_EQ(ps[0].numbers.available + ps[0].numbers.reserved, 600);
  EXPECT_EQ(ps[0].numbers.position, ps[0].numbers.available);
  // After a restart the order-intake windows are rebuilt from the order lines.
  auto again = engine(start + 10 * kMinute);
  EXPECT_TRUE(again->in_surge("LIP"));
}

// Issue 17 item 4 through the engine: a transfer from the central warehouse (3 d, landed
// 2.75) against a purchase (20 d, landed 2.70 for 240): with a stockout in about 10 days the
// transfer is proposed and says why; once the central warehouse says it can spare only 10, the
// purchase is proposed instead, urgent.
TEST_F(ReplenishmentTest, APurchaseOrATransferIsChosenByUrgencyAndLandedCostAndSaysWhy) {
  auto pol = days_policy("steady", 5, 2, 7);  // A: reorder point 70, order-up-to 140
  replenish::Supplier factory{"factory", 20.0, 2.50};
  factory.freight_per_unit = 0.40;
  factory.moq = 240;
  factory.price_breaks = {{200, 2.30}};
  replenish::Supplier central{"central", 3.0, 2.60, replenish::SourceKind::kTransfer};
  central.freight_per_unit = 0.15;
  pol.suppliers = {factory, central};
  settings_.policies = {days_policy("fast", 3, 1, 1), pol};
  auto r = engine(kT0);
  post("r1", "A", MovementKind::kReceive, 100, kT0 + kMinute);  // 10 days of cover at 10/day
  post("p1", "A", MovementKind::kPick, 40, kT0 + 2 * kMinute);  // 60 left: below 70
  ASSERT_TRUE(r->catch_up(kT0 + 2 * kMinute).ok());
  auto ps = proposals("A");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].supplier, "central");
  EXPECT_EQ(ps[0].quantity, 80);  // 140 - 60
  EXPECT_EQ(ps[0].numbers.source_kind, "transfer");
  EXPECT_NEAR(ps[0].numbers.landed_unit_cost, 2.75, 1e-9);
  EXPECT_NE(ps[0].numbers.source_why.find("factory (purchase)"), std::string::npos)
      << ps[0].numbers.source_why;
  EXPECT_NE(ps[0].numbers.source_why.find("too late"), std::string::npos);
  // The reorders record carries it.
  auto recs = outbox("reorders", "A");
  ASSERT_FALSE(recs.empty());
  EXPECT_EQ(recs.back()["numbers"]["source_kind"], "transfer");

  // Cancelled; the central warehouse can spare only 10: the purchase, too late, urgent.
  ASSERT_TRUE(db_->exec("INSERT INTO source_stock(source, sku, qty, updated_at)"
                        " VALUES('central', 'A', 10, '2026-11-01T00:03:00Z')").ok());
  auto st = store::decide_proposal(*db_, {ps[0].id, false, "", {}, {}, "try again"},
                                   {"buyer", false, "cli"}, kT0 + 3 * kMinute);
  ASSERT_TRUE(st.ok()) << st.error().message;
  settings_.policies[1].cancel_cooldown_hours = 0;
  auto r2 = engine(kT0 + 4 * kMinute);
  ps = proposals("A");
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[1].supplier, "factory");
  EXPECT_EQ(ps[1].quantity, 240);  // its MOQ
  EXPECT_TRUE(ps[1].urgent);
  EXPECT_NE(ps[1].numbers.source_why.find("central can spare 10 of 80"), std::string::npos)
      << ps[1].numbers.source_why;
}

TEST_F(ReplenishmentTest, OneBulkPickIsNotASurge) {
  // Issue 17's trial: one scan of 120 for a 10/day SKU gave a surge x1152 and 2,878 units.
  post("r0", "A", MovementKind::kReceive, 300, kT0);
  const auto start = kT0 + 10 * 3600'000;
  auto r = engine(start);
  post("bulk", "A", MovementKind::kPick, 120, start + kMinute);
  ASSERT_TRUE(r->catch_up(start + kMinute).ok());
  EXPECT_FALSE(r->in_surge("A"));
  EXPECT_TRUE(outbox("alarms", "A", "demand_surge").empty());
  // 180 left against a reorder point of 70: no proposal at all.
  EXPECT_TRUE(proposals("A").empty());
}

// Lots (issue 17 item 5): expired stock is not available to the policy, and a lot with stock
// within lots.short_dated_days of its expiry raises one short_dated alarm, cleared once none
// of it is left outside a hold.
TEST_F(ReplenishmentTest, ExpiredLotsAreNotAvailableAndShortDatedLotsRaiseAnAlarmUntilGone) {
  settings_.lots.short_dated_days = 7;
  auto lot_post = [&](const std::string& id, MovementKind kind, std::int64_t qty,
                      std::optional<std::string> lot, std::optional<std::string> expiry,
                      std::int64_t at) {
    auto m = test::movement(id, "A", kind, qty);
    m.wall_time = timefmt::rfc3339_from_unix_ms(at);
    m.lot = std::move(lot);
    m.expiry = std::move(expiry);
    auto r = ledger_->post(std::vector<MovementRequest>{m});
    ASSERT_TRUE(r.ok()) << r.error().message;
    ASSERT_EQ((*r)[0].outcome, store::PostOutcome::kPosted) << (*r)[0].error;
  };
  // kT0 is 2026-11-01: OLD expired yesterday, SOON expires in 4 days, LATE in June.
  lot_post("r-old", MovementKind::kReceive, 50, "OLD", "2026-10-31", kT0);
  lot_post("r-soon", MovementKind::kReceive, 100, "SOON", "2026-11-05", kT0);
  lot_post("r-late", MovementKind::kReceive, 200, "LATE", "2027-06-01", kT0);
  auto r = engine(kT0 + kMinute);
  auto rep = r->report("A", kT0 + kMinute);
  ASSERT_TRUE(rep);
  EXPECT_EQ(rep->decision.numbers.on_hand, 350);
  EXPECT_EQ(rep->decision.numbers.available, 300) << "OLD's 50 are expired";
  // ...and so is the position the reorder point is compared with (it counted them).
  EXPECT_EQ(rep->decision.numbers.position, 300);
  auto raised = outbox("alarms", "A", "short_dated");
  ASSERT_EQ(raised.size(), 2u);
  std::map<std::string, nlohmann::json> by_lot;
  for (const auto& a : raised) by_lot[a["details"]["lot"]] = a;
  EXPECT_EQ(by_lot["SOON"]["state"], "raised");
  EXPECT_EQ(by_lot["SOON"]["details"]["days_left"], 4);
  EXPECT_EQ(by_lot["SOON"]["details"]["qty"], 100);
  EXPECT_EQ(by_lot["SOON"]["details"]["expired"], false);
  EXPECT_EQ(by_lot["OLD"]["details"]["days_left"], -1);
  EXPECT_EQ(by_lot["OLD"]["details"]["expired"], true);
  // A restart neither repeats nor forgets them.
  r = engine(kT0 + 2 * kMinute);
  EXPECT_EQ(outbox("alarms", "A", "short_dated").size(), 2u);
  // FEFO: a pick of 100 takes SOON (OLD is expired); OLD is held and written off.
  lot_post("p1", MovementKind::kPick, 100, std::nullopt, std::nullopt, kT0 + 3 * kMinute);
  lot_post("h1", MovementKind::kHold, 50, "OLD", std::nullopt, kT0 + 3 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 4 * kMinute).ok());
  ASSERT_TRUE(r->recompute_all(kT0 + 4 * kMinute).ok());
  auto all = outbox("alarms", "A", "short_dated");
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[2]["state"], "cleared");
  EXPECT_EQ(all[3]["state"], "cleared");
  EXPECT_EQ(count("SELECT count(*) FROM replenish_alarms WHERE kind = 'short_dated'"
                  " AND cleared_at IS NULL"),
            0);
  // LATE comes within 7 days at the end of May 2027 (site days).
  const auto may = *timefmt::parse_rfc3339_ms("2027-05-26T00:00:00Z");
  ASSERT_TRUE(r->recompute_all(may).ok());
  all = outbox("alarms", "A", "short_dated");
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[4]["details"]["lot"], "LATE");
  EXPECT_EQ(all[4]["details"]["days_left"], 6);
  // A short-dated lot received alarms with the fold of its receipt, not a minute later.
  lot_post("r-next", MovementKind::kReceive, 30, "NEXT", "2027-05-28", may + kMinute);
  ASSERT_TRUE(r->catch_up(may + kMinute).ok());
  all = outbox("alarms", "A", "short_dated");
  ASSERT_EQ(all.size(), 6u);
  EXPECT_EQ(all[5]["details"]["lot"], "NEXT");
  EXPECT_EQ(all[5]["details"]["days_left"], 2);
}

// The surge windows run on the monotonic clock: when NTP steps the wall clock back an hour
// right after a stream, the surge still calms and ends on time. (On wall time the detector
// took every later tick as "no time passed" for that hour and ended an hour late.)
TEST_F(ReplenishmentTest, AWallClockStepBackNeitherFreezesTheSurgeNorItsDecay) {
  post("r0", "LIP", MovementKind::kReceive, 600, kT0);
  const auto start = kT0 + 10 * 3600'000;
  std::int64_t mono = start;  // the test's monotonic clock
  auto r = std::make_unique<Replenishment>(*db_, settings_, Replenishment::Mode::kWrite);
  r->use_mono_clock([&] { return mono; });
  ASSERT_TRUE(r->load(start).ok());
  for (int minute = 0; minute < 30; ++minute) {
    const auto t = start + minute * kMinute + 30'000;
    mono = t;
    post("s" + std::to_string(minute), "LIP", MovementKind::kPick, 8, t);
    ASSERT_TRUE(r->catch_up(t).ok());
  }
  ASSERT_TRUE(r->in_surge("LIP"));
  const auto last = start + 29 * kMinute + 30'000;
  std::int64_t ended_after = -1;
  for (int m = 1; m <= 200 && ended_after < 0; ++m) {
    mono = last + m * kMinute;
    ASSERT_TRUE(r->recompute_all(last - 3600'000 + m * kMinute).ok());  // wall: an hour behind
    if (!r->in_surge("LIP")) ended_after = m;
  }
  EXPECT_GE(ended_after, 60 + 30 - 4);
  EXPECT_LE(ended_after, 60 + 30 + 2) << "the step back froze the windows";
}

// Demand days are the site's calendar days: at UTC+8, a pick at 17:00 UTC on 1 November is
// sold on 2 November.
TEST_F(ReplenishmentTest, DemandDaysAreSiteLocalDays) {
  std::ifstream in("/usr/share/zoneinfo/Asia/Shanghai", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto zone = tz::parse_tzif("Asia/Shanghai", bytes);
  ASSERT_TRUE(zone.ok());
  settings_.site_zone = *zone;
  post("r0", "A", MovementKind::kReceive, 100, kT0);
  auto r = engine(kT0 + kMinute);
  post("p1", "A", MovementKind::kPick, 3, kT0 + 15 * 3600'000);  // 23:00 local, 1 Nov
  post("p2", "A", MovementKind::kPick, 4, kT0 + 17 * 3600'000);  // 01:00 local, 2 Nov
  ASSERT_TRUE(r->catch_up(kT0 + 17 * 3600'000).ok());
  const auto nov1 = timefmt::days_from_civil(2026, 11, 1);
  EXPECT_EQ(count("SELECT picked FROM demand_days WHERE sku='A' AND day=" + std::to_string(nov1)), 3);
  EXPECT_EQ(count("SELECT picked FROM demand_days WHERE sku='A' AND day=" +
                  std::to_string(nov1 + 1)),
            4);
}

TEST_F(ReplenishmentTest, ACampaignStartingInsideTheLeadTimeOrdersBeforeItStarts) {
  // A: 10/day, lead 5 d, 2 safety days: reorder point 70. With 100 units nothing is due...
  post("r0", "A", MovementKind::kReceive, 100, kT0);
  {
    auto plain = engine(kT0 + kMinute, Replenishment::Mode::kReadOnly);
    auto rep = plain->report("A", kT0 + kMinute);
    EXPECT_EQ(rep->decision.reason, replenish::Reason::kAboveReorderPoint);
    EXPECT_DOUBLE_EQ(rep->decision.numbers.reorder_point, 70);
  }
  // ...until a campaign x4 starts in 3 days (inside the 5-day lead time): lead-time demand
  // 3*10 + 2*40 = 110, reorder point 130 >= 100, and the order goes out now.
  replenish::Campaign c{.name = "live-1",
                        .skus = {"A"},
                        .factor = 4,
                        .start_ms = kT0 + kMinute + 3 * kDay,
                        .end_ms = kT0 + kMinute + 13 * kDay};
  ASSERT_TRUE(db_->transaction([&]() -> Status {
                   return store::set_campaign(*db_, c, "2026-11-01T00:01:00.000Z");
                 })
                  .ok());
  auto r = engine(kT0 + kMinute);
  auto ps = proposals("A");
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_NEAR(ps[0].numbers.lead_time_demand, 110, 1e-6);
  EXPECT_NEAR(ps[0].numbers.reorder_point, 130, 1e-6);
  EXPECT_NEAR(ps[0].numbers.campaign_factor, (3 * 1 + 2 * 4) / 5.0, 1e-9);
  EXPECT_LT(ps[0].created_ms, c.start_ms);
  EXPECT_LE(ps[0].expected_arrival_ms, c.start_ms + 2 * kDay);
}

TEST_F(ReplenishmentTest, ASkuWithoutPolicyGetsNoProposalAndIsReportedAsSuch) {
  auto r = engine(kT0);
  post("p1", "N", MovementKind::kPick, 5, kT0 + kMinute);  // on hand -5
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  EXPECT_TRUE(proposals("N").empty());
  auto rep = r->report("N", kT0 + kMinute);
  ASSERT_TRUE(rep);
  EXPECT_FALSE(rep->has_policy);
  EXPECT_EQ(rep->decision.reason, replenish::Reason::kNoPolicy);
}

TEST_F(ReplenishmentTest, ASkuTheLedgerNeverSawGetsNoProposalYet) {
  auto r = engine(kT0);  // A has a catalog demand but no stock row: never received or counted
  EXPECT_TRUE(proposals("A").empty());
  EXPECT_TRUE(outbox("alarms", "A").empty());
  EXPECT_FALSE(r->report("A", kT0)->stock_known);
  post("c1", "A", MovementKind::kCount, 0, kT0 + kMinute);  // counted: really empty
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  EXPECT_EQ(proposals("A").size(), 1u);
  EXPECT_EQ(outbox("alarms", "A", "stockout_risk").size(), 1u);
}

TEST_F(ReplenishmentTest, ReadOnlyModeWritesNothing) {
  post("r1", "A", MovementKind::kReceive, 10, kT0 + kMinute);  // position 10 <= 70
  auto r = engine(kT0 + 2 * kMinute, Replenishment::Mode::kReadOnly);
  EXPECT_EQ(r->report("A", kT0 + 2 * kMinute)->decision.reason,
            replenish::Reason::kReorderPointReached);
  EXPECT_TRUE(proposals("A").empty());
  EXPECT_EQ(count("SELECT count(*) FROM demand_days"), 0);
  EXPECT_EQ(*store::replenish_watermark(*db_), 0);
}

TEST_F(ReplenishmentTest, AcknowledgeAndCancelFollowTheStateMachine) {
  auto r = engine(kT0);
  post("r1", "A", MovementKind::kReceive, 10, kT0 + kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + kMinute).ok());
  auto ps = proposals("A");
  ASSERT_EQ(ps.size(), 1u);
  auto bad = db_->transaction([&]() -> Expected<replenish::Proposal> {
    return store::acknowledge_proposal(*db_, ps[0].id, "", std::nullopt, std::nullopt, kT0);
  });
  EXPECT_FALSE(bad.ok());
  auto unknown = db_->transaction([&]() -> Expected<replenish::Proposal> {
    return store::cancel_proposal(*db_, "NOPE", "why", kT0);
  });
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("no proposal with id \"NOPE\""), std::string::npos);
  auto acked = db_->transaction([&]() -> Expected<replenish::Proposal> {
    return store::acknowledge_proposal(*db_, ps[0].id, "PO-9", 96, kT0 + 6 * kDay,
                                       kT0 + 2 * kMinute);
  });
  ASSERT_TRUE(acked.ok()) << acked.error().message;
  ASSERT_TRUE(r->refresh(kT0 + 3 * kMinute).ok());
  EXPECT_EQ(r->report("A", kT0 + 3 * kMinute)->decision.numbers.on_order, 96);
  auto cancelled = db_->transaction([&]() -> Expected<replenish::Proposal> {
    return store::cancel_proposal(*db_, ps[0].id, "supplier out of stock", kT0 + 4 * kMinute);
  });
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(count("SELECT count(*) FROM proposals WHERE state='cancelled'"), 1);
}

}  // namespace
}  // namespace depot::app

namespace depot::app {
namespace {

// A fold touching many SKUs reads the stock table in one scan instead of one lookup per SKU;
// either way every SKU's figures match the ledger. Read-only inside a read transaction (how
// `stock` runs it) the stock rows of the snapshot are used as they are.
TEST_F(ReplenishmentTest, ManySkusInOneFoldAndAReadOnlySnapshotAgreeWithTheLedger) {
  std::vector<CatalogItem> items{{.sku = "A", .policy = "steady", .daily_demand = 10.0}};
  for (int i = 0; i < 100; ++i)
    items.push_back({.sku = "B" + std::to_string(100 + i), .policy = "steady", .daily_demand = 10.0});
  ASSERT_TRUE(store::apply_catalog(*db_, items, "2026-11-01T00:00:01.000Z").ok());
  post("a1", "A", MovementKind::kReceive, 500, kT0 + kMinute);
  auto r = engine(kT0 + kMinute);
  for (int i = 0; i < 100; ++i)  // 100 SKUs in one fold: more than the 64 looked up one by one
    post("b" + std::to_string(i), "B" + std::to_string(100 + i), MovementKind::kReceive, 100 + i,
         kT0 + 2 * kMinute);
  post("h1", "B150", MovementKind::kHold, 30, kT0 + 2 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 2 * kMinute).ok());
  EXPECT_EQ(r->report("A", kT0 + 2 * kMinute)->decision.numbers.available, 500);
  EXPECT_EQ(r->report("B100", kT0 + 2 * kMinute)->decision.numbers.available, 100);
  EXPECT_EQ(r->report("B150", kT0 + 2 * kMinute)->decision.numbers.available, 150 - 30);
  EXPECT_EQ(r->report("B199", kT0 + 2 * kMinute)->decision.numbers.available, 199);
  // Two SKUs: looked up one by one.
  post("p1", "B199", MovementKind::kPick, 9, kT0 + 3 * kMinute);
  post("p2", "A", MovementKind::kPick, 5, kT0 + 3 * kMinute);
  ASSERT_TRUE(r->catch_up(kT0 + 3 * kMinute).ok());
  EXPECT_EQ(r->report("B199", kT0 + 3 * kMinute)->decision.numbers.available, 190);
  EXPECT_EQ(r->report("A", kT0 + 3 * kMinute)->decision.numbers.available, 495);

  // Read-only in one read transaction, over movements no writer has folded yet (a fresh
  // database): the figures are the ledger's.
  post("p3", "B120", MovementKind::kPick, 20, kT0 + 4 * kMinute);
  ASSERT_TRUE(db_->exec("BEGIN").ok());
  auto ro = engine(kT0 + 4 * kMinute, Replenishment::Mode::kReadOnly);
  ASSERT_TRUE(db_->exec("COMMIT").ok());
  EXPECT_EQ(ro->report("B120", kT0 + 4 * kMinute)->decision.numbers.available, 120 - 20);
  EXPECT_EQ(ro->report("B150", kT0 + 4 * kMinute)->decision.numbers.available, 120);
  EXPECT_EQ(ro->report("A", kT0 + 4 * kMinute)->decision.numbers.available, 495);
  EXPECT_FALSE(ro->report("NOPE", kT0 + 4 * kMinute));
}

}  // namespace
}  // namespace depot::app
