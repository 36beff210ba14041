// The replenishment commands of the real depot-agent binary: `stock --json` figures,
// `reorders` (list, ack, cancel and their input errors) and `backtest` (with bad CSV lines).
// A proposal is written into the real database file with the store, as the daemon would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "agent_process.hpp"
#include "core/time.hpp"
#include "store/ledger.hpp"
#include "store/replenish_store.hpp"
#include "test_support.hpp"

namespace depot {
namespace {
using ::testing::HasSubstr;

test::Run agent(std::vector<std::string> args) { return test::run_agent(std::move(args)); }

class ReplenishCli : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = dir_.file("agent.json");
    // TINT: 10/day, lead 5, 2 safety days, review 7: reorder point 70, order-up-to 140.
    test::write_file(cfg_, R"({
      "site": "t", "gateway": "gw-1", "database": "depot.db",
      "catalog": [
        {"sku": "TINT", "barcodes": ["4006381333931"], "policy": "steady", "daily_demand": 10},
        {"sku": "MATCHA", "barcodes": ["5012345678900"]}
      ],
      "policies": {"steady": {"lead_time_days": 5, "safety_days": 2, "review_period_days": 7,
                              "moq": 10, "suppliers": [{"id": "s1", "unit_price": 1}]}}
    })");
  }
  // A proposal for TINT, as the daemon would have made it.
  std::string propose() {
    auto db = store::Database::open(dir_.file("depot.db"), {});
    EXPECT_TRUE(db.ok());
    auto cat = store::apply_catalog(
        **db, {CatalogItem{.sku = "TINT", .policy = "steady", .daily_demand = 10.0}},
        "2026-11-01T00:00:00.000Z");
    EXPECT_TRUE(cat.ok());
    replenish::Decision d;
    d.reason = replenish::Reason::kReorderPointReached;
    d.quantity = 140;
    d.numbers.position = 0;
    d.numbers.reorder_point = 70;
    d.expected_arrival_ms = *timefmt::parse_rfc3339_ms("2026-11-06T00:00:00Z");
    auto p = replenish::make_proposal(d, "P1", "TINT",
                                      *timefmt::parse_rfc3339_ms("2026-11-01T00:00:00Z"));
    p.supplier = "s1";
    auto st = (*db)->transaction(
        [&]() -> Status { return store::insert_proposal(**db, p, "2026-11-01T00:00:00.000Z"); });
    EXPECT_TRUE(st.ok()) << st.error().message;
    return p.id;
  }
  test::TempDir dir_;
  std::string cfg_;
};

TEST_F(ReplenishCli, StockJsonAddsTheReplenishmentFigures) {
  ASSERT_EQ(
      agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "4006381333931", "--qty", "100"})
          .code,
      0);
  auto r = agent({"stock", "-c", cfg_, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rows = nlohmann::json::parse(r.out);
  ASSERT_EQ(rows.size(), 2u);
  const auto& matcha = rows[0]["sku"] == "MATCHA" ? rows[0] : rows[1];
  const auto& tint = rows[0]["sku"] == "TINT" ? rows[0] : rows[1];
  EXPECT_EQ(tint["held"], 0);
  EXPECT_EQ(tint["on_order"], 0);
  EXPECT_EQ(tint["position"], 100);
  EXPECT_EQ(tint["policy"], "steady");
  EXPECT_DOUBLE_EQ(tint["daily_demand"].get<double>(), 10);
  EXPECT_DOUBLE_EQ(tint["safety_stock"].get<double>(), 20);
  EXPECT_DOUBLE_EQ(tint["reorder_point"].get<double>(), 70);
  EXPECT_DOUBLE_EQ(tint["order_up_to"].get<double>(), 140);
  EXPECT_DOUBLE_EQ(tint["days_of_cover"].get<double>(), 10);
  EXPECT_EQ(tint["surge"], false);
  EXPECT_EQ(tint["replenishment"], "position above reorder point");
  EXPECT_TRUE(matcha["policy"].is_null());
  EXPECT_TRUE(matcha["reorder_point"].is_null());
  EXPECT_EQ(matcha["replenishment"], "no policy profile");
  auto text = agent({"stock", "-c", cfg_});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("REORDER"));
  EXPECT_THAT(text.out, HasSubstr("[no policy]"));
}

TEST_F(ReplenishCli, ReordersListsAcknowledgesAndCancels) {
  auto empty = agent({"reorders", "-c", cfg_});
  ASSERT_EQ(empty.code, 0) << empty.err;
  EXPECT_THAT(empty.out, HasSubstr("no proposals"));
  const auto id = propose();

  auto listed = agent({"reorders", "-c", cfg_});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_THAT(listed.out, HasSubstr("P1  TINT  proposed  140 from s1"));
  EXPECT_THAT(listed.out, HasSubstr("why: position at or below reorder point: position 0"));

  auto bad_qty = agent({"reorders", "ack", id, "--order", "PO-1", "--qty", "-5", "-c", cfg_});
  EXPECT_EQ(bad_qty.code, 2);
  EXPECT_THAT(bad_qty.err, HasSubstr("--qty: \"-5\" must be a whole number above 0"));
  auto bad_eta =
      agent({"reorders", "ack", id, "--order", "PO-1", "--eta", "2026-13-01", "-c", cfg_});
  EXPECT_EQ(bad_eta.code, 2);
  EXPECT_THAT(bad_eta.err, HasSubstr("--eta: \"2026-13-01\" must be a date"));
  auto no_order = agent({"reorders", "ack", id, "-c", cfg_});
  EXPECT_EQ(no_order.code, 2);
  EXPECT_THAT(no_order.err, HasSubstr("--order NUMBER"));
  auto unknown = agent({"reorders", "ack", "NOPE", "--order", "PO-1", "-c", cfg_});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("no proposal with id \"NOPE\""));
  auto verb = agent({"reorders", "approve", id, "-c", cfg_});
  EXPECT_EQ(verb.code, 2);
  EXPECT_THAT(verb.err, HasSubstr("\"approve\" must be ack or cancel"));

  auto ack = agent({"reorders", "ack", id, "--order", "PO-1", "--qty", "120", "--eta", "2026-11-08",
                    "-c", cfg_});
  ASSERT_EQ(ack.code, 0) << ack.err;
  EXPECT_THAT(ack.out, HasSubstr("is acknowledged: order PO-1, 120 units, ETA 2026-11-08"));
  auto again = agent({"reorders", "ack", id, "--order", "PO-2", "-c", cfg_});
  EXPECT_EQ(again.code, 2);
  EXPECT_THAT(again.err, HasSubstr("it is acknowledged"));

  auto js = agent({"reorders", "-c", cfg_, "--open", "--json"});
  ASSERT_EQ(js.code, 0) << js.err;
  auto arr = nlohmann::json::parse(js.out);
  ASSERT_EQ(arr.size(), 1u);
  EXPECT_EQ(arr[0]["state"], "acknowledged");
  EXPECT_EQ(arr[0]["order_number"], "PO-1");
  EXPECT_EQ(arr[0]["ordered_qty"], 120);
  EXPECT_EQ(arr[0]["numbers"]["reorder_point"], 70.0);

  auto no_why = agent({"reorders", "cancel", id, "-c", cfg_});
  EXPECT_EQ(no_why.code, 2);
  EXPECT_THAT(no_why.err, HasSubstr("--why TEXT"));
  auto cancel = agent({"reorders", "cancel", id, "--why", "supplier closed", "-c", cfg_});
  ASSERT_EQ(cancel.code, 0) << cancel.err;
  auto open = agent({"reorders", "-c", cfg_, "--open", "--json"});
  EXPECT_EQ(nlohmann::json::parse(open.out).size(), 0u);
  auto all = nlohmann::json::parse(agent({"reorders", "-c", cfg_, "--json"}).out);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["cancel_reason"], "supplier closed");
}

TEST_F(ReplenishCli, BacktestReportsPerSkuAndNamesBadLines) {
  std::string csv = "date,sku,quantity\n";
  for (int d = 1; d <= 28; ++d) {
    char date[16];
    std::snprintf(date, sizeof date, "2026-10-%02d", d);
    csv += std::string(date) + ",TINT,10\n" + date + ",MATCHA,2\n";
  }
  test::write_file(dir_.file("good.csv"), csv);
  auto r = agent(
      {"backtest", "-c", cfg_, "--history", dir_.file("good.csv"), "--on-hand", "140", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["skus"].size(), 2u);
  EXPECT_EQ(j["skus"][0]["sku"], "MATCHA");
  EXPECT_EQ(j["skus"][0]["status"], "no policy profile");
  const auto& t = j["skus"][1];
  EXPECT_EQ(t["status"], "ok");
  EXPECT_EQ(t["days"], 28);
  EXPECT_EQ(t["demand_units"], 280);
  EXPECT_GT(t["orders_placed"].get<int>(), 0);
  EXPECT_GT(t["fill_rate"].get<double>(), 0.9);

  test::write_file(dir_.file("bad.csv"),
                   "date,sku,quantity\n2026-10-01,TINT,10\n2026-10-32,TINT,3\n2026-10-02,TINT,x\n");
  auto bad = agent({"backtest", "-c", cfg_, "--history", dir_.file("bad.csv"), "--sku", "TINT"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("line 3:"));
  EXPECT_THAT(bad.err, HasSubstr("line 4:"));
  EXPECT_THAT(bad.out, HasSubstr("TINT"));
  // The table names lost units, urgent orders and units ordered, and what its fill rate is not.
  auto table = agent({"backtest", "-c", cfg_, "--history", dir_.file("good.csv"), "--sku", "TINT",
                      "--on-hand", "140"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("LOST"));
  EXPECT_THAT(table.out, HasSubstr("URGENT"));
  EXPECT_THAT(table.out, HasSubstr("ORDERED"));
  EXPECT_THAT(table.out, HasSubstr(" " + std::to_string(t["units_ordered"].get<int>()) + "\n"));
  EXPECT_THAT(table.out, HasSubstr("not the policy's service level"));
  auto missing = agent({"backtest", "-c", cfg_});
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("--history FILE.csv is required"));
  auto nosku = agent({"backtest", "-c", cfg_, "--history", dir_.file("good.csv"), "--sku", "X"});
  EXPECT_EQ(nosku.code, 2);
  EXPECT_THAT(nosku.err, HasSubstr("\"X\" has no valid lines"));
}

TEST_F(ReplenishCli, CheckNamesPolicyProblems) {
  test::write_file(cfg_, R"({
    "site": "t", "gateway": "gw-1", "database": "depot.db",
    "catalog": [{"sku": "TINT", "policy": "fats"}],
    "policies": {"fast": {"lead_time_days": -2, "service_level": 1.2, "moq": 500,
                          "max_stock": 100, "suppliers": [{"id": "s1", "unit_price": 1}]}}
  })");
  auto r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("policies.fast.lead_time_days: -2"));
  EXPECT_THAT(r.err, HasSubstr("policies.fast.service_level: 1.2"));
  EXPECT_THAT(r.err, HasSubstr("policies.fast.moq: 500"));
  EXPECT_THAT(r.err, HasSubstr("catalog[0].policy: \"fats\" names no profile in policies"));
}

TEST_F(ReplenishCli, PinDemandIsStoredWithTheCatalog) {
  auto db = store::Database::open(dir_.file("pin.db"), {});
  ASSERT_TRUE(db.ok());
  CatalogItem i{.sku = "P", .daily_demand = 5.0, .pin_demand = true};
  ASSERT_TRUE(store::apply_catalog(**db, {i}, "t1").ok());
  auto items = store::load_replenish_items(**db);
  ASSERT_TRUE(items.ok());
  ASSERT_EQ(items->size(), 1u);
  EXPECT_TRUE(items->front().pin_demand);
  i.pin_demand = false;
  ASSERT_TRUE(store::apply_catalog(**db, {i}, "t2").ok());
  EXPECT_FALSE(store::load_replenish_items(**db)->front().pin_demand);
}

}  // namespace
}  // namespace depot
