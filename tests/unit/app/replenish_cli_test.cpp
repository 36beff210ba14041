// The replenishment commands of the real depot-agent binary: `stock --json` figures,
// `reorders` (list, ack, cancel and their input errors) and `backtest` (with bad CSV lines).
// A proposal is written into the real database file with the store, as the daemon would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "agent_process.hpp"
#include "core/time.hpp"
#include "store/ledger.hpp"
#include "store/replenish_store.hpp"
#include "store/schema.hpp"
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

  auto bad_qty = agent({"reorders", "ack", id, "--order", "PO-1", "--qty", "-5", "--who", "Bo Buyer", "-c", cfg_});
  EXPECT_EQ(bad_qty.code, 2);
  EXPECT_THAT(bad_qty.err, HasSubstr("--qty: \"-5\" must be a whole number above 0"));
  auto bad_eta =
      agent({"reorders", "ack", id, "--order", "PO-1", "--eta", "2026-13-01", "--who", "Bo Buyer", "-c", cfg_});
  EXPECT_EQ(bad_eta.code, 2);
  EXPECT_THAT(bad_eta.err, HasSubstr("--eta: \"2026-13-01\" must be a date"));
  auto no_order = agent({"reorders", "ack", id, "--who", "Bo Buyer", "-c", cfg_});
  EXPECT_EQ(no_order.code, 2);
  EXPECT_THAT(no_order.err, HasSubstr("--order NUMBER"));
  auto unknown = agent({"reorders", "ack", "NOPE", "--order", "PO-1", "--who", "Bo Buyer", "-c", cfg_});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("no proposal with id \"NOPE\""));
  auto verb = agent({"reorders", "approve", id, "-c", cfg_});
  EXPECT_EQ(verb.code, 2);
  EXPECT_THAT(verb.err, HasSubstr("\"approve\" must be ack or cancel"));

  auto ack = agent({"reorders", "ack", id, "--order", "PO-1", "--qty", "120", "--eta", "2026-11-08",
                    "--who", "Bo Buyer", "-c", cfg_});
  ASSERT_EQ(ack.code, 0) << ack.err;
  EXPECT_THAT(ack.out, HasSubstr("is acknowledged: order PO-1, 120 units, ETA 2026-11-08"));
  auto again = agent({"reorders", "ack", id, "--order", "PO-2", "--who", "Bo Buyer", "-c", cfg_});
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

  auto no_why = agent({"reorders", "cancel", id, "--who", "Bo Buyer", "-c", cfg_});
  EXPECT_EQ(no_why.code, 2);
  EXPECT_THAT(no_why.err, HasSubstr("--why TEXT"));
  auto cancel = agent({"reorders", "cancel", id, "--why", "supplier closed", "--who", "Bo Buyer", "-c", cfg_});
  ASSERT_EQ(cancel.code, 0) << cancel.err;
  auto open = agent({"reorders", "-c", cfg_, "--open", "--json"});
  EXPECT_EQ(nlohmann::json::parse(open.out).size(), 0u);
  auto all = nlohmann::json::parse(agent({"reorders", "-c", cfg_, "--json"}).out);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0]["cancel_reason"], "supplier closed");
}

// With accounts on the gateway, a proposal is acknowledged or cancelled by an account with
// the buyer (or admin) role and its password re-entered; a typed --who no longer signs, and
// the audit trail names the account.
// A database the previous version left (schema 16: no `withdrawn` column), read before the
// upgraded daemon ran: `reorders` migrates it first instead of failing on the new column.
TEST_F(ReplenishCli, ReordersOnADatabaseOfThePreviousSchemaMigratesItFirst) {
  propose();
  {
    auto db = store::Database::open(dir_.file("depot.db"), {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->exec("ALTER TABLE proposals DROP COLUMN withdrawn").ok());
    ASSERT_TRUE((*db)->exec("PRAGMA user_version=16").ok());
  }
  auto r = agent({"reorders", "--json", "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["proposal_id"], "P1");
  auto db = store::Database::open(dir_.file("depot.db"), {.read_only = true});
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*(*db)->schema_version(), static_cast<int>(store::migrations().size()));
}

TEST_F(ReplenishCli, WithAccountsAProposalIsSignedByABuyerAccount) {
  const auto id = propose();
  const auto pw = dir_.file("pw"), wrong = dir_.file("wrong");
  test::write_file(pw, "s3cret-pw\n");
  test::write_file(wrong, "not-it\n");
  ASSERT_EQ(agent({"users", "add", "bo", "--role", "buyer", "--name", "Bo Buyer",
                   "--password-file", pw, "-c", cfg_})
                .code,
            0);
  ASSERT_EQ(agent({"users", "add", "op", "--role", "operator", "--name", "Olu Op",
                   "--password-file", pw, "-c", cfg_})
                .code,
            0);
  auto typed = agent({"reorders", "cancel", id, "--why", "x", "--who", "Bo Buyer", "-c", cfg_});
  EXPECT_EQ(typed.code, 2);
  EXPECT_THAT(typed.err, HasSubstr("--who: this gateway has accounts"));
  auto none = agent({"reorders", "cancel", id, "--why", "x", "-c", cfg_});
  EXPECT_EQ(none.code, 2);
  EXPECT_THAT(none.err, HasSubstr("--user ID: required"));
  auto role = agent({"reorders", "cancel", id, "--why", "x", "--user", "op", "--password-file", pw,
                     "-c", cfg_});
  EXPECT_EQ(role.code, 1);
  EXPECT_THAT(role.err, HasSubstr("account \"op\" (role operator) may not sign reorder.cancel"));
  auto bad = agent({"reorders", "cancel", id, "--why", "x", "--user", "bo", "--password-file",
                    wrong, "-c", cfg_});
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("account \"bo\" or its password is wrong"));
  auto no_tty = agent({"reorders", "cancel", id, "--why", "x", "--user", "bo", "-c", cfg_});
  EXPECT_EQ(no_tty.code, 2);
  EXPECT_THAT(no_tty.err, HasSubstr("no terminal to ask the password on"));
  // Nothing changed so far.
  EXPECT_EQ(nlohmann::json::parse(agent({"reorders", "-c", cfg_, "--open", "--json"}).out).size(),
            1u);

  auto ok = agent({"reorders", "cancel", id, "--why", "supplier closed", "--user", "bo",
                   "--password-file", pw, "-c", cfg_});
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto audit = nlohmann::json::parse(agent({"audit", "--json", "-c", cfg_}).out);
  bool refused = false, signed_cancel = false;
  for (const auto& e : audit) {
    if (e["what"] == "signature.refused" && e["who"] == "bo") refused = true;
    if (e["what"] == "reorder.cancel") {
      signed_cancel = true;
      EXPECT_EQ(e["who"], "bo");
      EXPECT_EQ(e["why"], "supplier closed");
      EXPECT_EQ(e["details"]["signed"], true);
      EXPECT_EQ(e["details"]["proposal"], id);
    }
  }
  EXPECT_TRUE(refused) << audit.dump();
  EXPECT_TRUE(signed_cancel) << audit.dump();

  // A count through the CLI is signed too (the operator may count).
  auto count = agent({"scan", "-c", cfg_, "--kind", "count", "--code", "4006381333931", "--qty",
                      "3", "--user", "op", "--password-file", pw, "--json"});
  ASSERT_EQ(count.code, 0) << count.err;
  auto moves = nlohmann::json::parse(agent({"movements", "-c", cfg_, "--json"}).out);
  ASSERT_FALSE(moves.empty());
  EXPECT_EQ(moves.back()["kind"], "count");
  EXPECT_EQ(moves.back()["source"], "cli:op");
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

// Issue 17 item 7: which campaigns are active, and where each came from.
// Issue 17 item 7: after an edit of the config file, `stock` used the catalog figures the
// daemon had last stored in the database.
TEST_F(ReplenishCli, StockAfterAConfigEditUsesTheFilesCatalogFigures) {
  ASSERT_EQ(
      agent({"scan", "-c", cfg_, "--kind", "receive", "--code", "4006381333931", "--qty", "100"})
          .code,
      0);
  std::ifstream in(cfg_);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string from = R"("daily_demand": 10)";
  text.replace(text.find(from), from.size(), R"("daily_demand": 30)");
  test::write_file(cfg_, text);
  auto r = agent({"stock", "-c", cfg_, "--json", "--sku", "TINT"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto rows = nlohmann::json::parse(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_DOUBLE_EQ(rows[0]["daily_demand"].get<double>(), 30);
  EXPECT_DOUBLE_EQ(rows[0]["reorder_point"].get<double>(), 210);  // 5 x 30 + 2 x 30
  EXPECT_EQ(rows[0]["replenishment"], "position at or below reorder point");
}

TEST_F(ReplenishCli, CampaignsListsStateFactorWindowAndSource) {
  test::write_file(cfg_, R"({
      "site": "t", "gateway": "gw-1", "database": "depot.db",
      "catalog": [{"sku": "TINT", "barcodes": ["4006381333931"], "policy": "steady",
                   "daily_demand": 10}],
      "policies": {"steady": {"lead_time_days": 5, "safety_days": 2,
                              "suppliers": [{"id": "s1", "unit_price": 1}]}},
      "campaigns": [
        {"name": "singles-day", "skus": ["TINT"], "factor": 3,
         "start": "2020-11-11T00:00:00Z", "end": "2020-11-12T00:00:00Z"},
        {"name": "live-42", "skus": ["TINT"], "factor": 2,
         "start": "2020-01-01T00:00:00Z", "end": "2099-01-01T00:00:00Z"}
      ]
    })");
  {
    auto db = store::Database::open(dir_.file("depot.db"), {});
    ASSERT_TRUE(db.ok());
    replenish::Campaign live{.name = "live-42", .skus = {"TINT"}, .factor = 8,
                             .start_ms = *timefmt::parse_rfc3339_ms("2020-01-01T00:00:00Z"),
                             .end_ms = *timefmt::parse_rfc3339_ms("2099-01-01T00:00:00Z")};
    replenish::Campaign next{.name = "promo", .policy = "steady", .factor = 1.5,
                             .start_ms = *timefmt::parse_rfc3339_ms("2098-01-01T00:00:00Z"),
                             .end_ms = *timefmt::parse_rfc3339_ms("2098-02-01T00:00:00Z")};
    auto st = (*db)->transaction([&]() -> Status {
      if (auto s1 = store::set_campaign(**db, live, "2026-11-01T00:00:00.000Z"); !s1) return s1;
      return store::set_campaign(**db, next, "2026-11-01T00:00:00.000Z");
    });
    ASSERT_TRUE(st.ok()) << st.error().message;
  }
  auto r = agent({"campaigns", "-c", cfg_, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u) << r.out;
  EXPECT_EQ(j[0]["name"], "singles-day");
  EXPECT_EQ(j[0]["state"], "ended");
  EXPECT_EQ(j[0]["source"], "config");
  EXPECT_EQ(j[1]["name"], "live-42");
  EXPECT_EQ(j[1]["state"], "active");
  EXPECT_EQ(j[1]["factor"], 8);  // the cloud's, not the config's 2
  EXPECT_EQ(j[1]["source"], "cloud (replaces the config's)");
  EXPECT_EQ(j[2]["name"], "promo");
  EXPECT_EQ(j[2]["state"], "upcoming");
  EXPECT_EQ(j[2]["policy"], "steady");
  EXPECT_EQ(j[2]["source"], "cloud");
  auto text = agent({"campaigns", "-c", cfg_});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("live-42  active  x8.00  2020-01-01T00:00:00.000Z"));
  EXPECT_THAT(text.out, HasSubstr("policy steady  from cloud"));
}

// Campaign dates without a time are days of the site's calendar: at Asia/Shanghai (UTC+8)
// a Singles' Day campaign written as 2026-11-11 to 2026-11-11 runs the whole local day,
// 2026-11-10T16:00Z to 2026-11-11T16:00Z (the trial's UTC reading ended it before it began).
TEST_F(ReplenishCli, CampaignDatesAreSiteLocalDaysAndTheEndDayIsIncluded) {
  const std::string base = R"("site": "t", "gateway": "gw-1", "database": "depot.db",
      "catalog": [{"sku": "TINT", "policy": "steady", "daily_demand": 10}],
      "policies": {"steady": {"lead_time_days": 5, "safety_days": 2,
                              "suppliers": [{"id": "s1", "unit_price": 1}]}},
      "campaigns": [{"name": "singles-day", "skus": ["TINT"], "factor": 3,
                     "start": "2026-11-11", "end": "2026-11-11"}])";
  test::write_file(cfg_, "{" + base + R"(, "site_timezone": "Asia/Shanghai"})");
  auto r = agent({"campaigns", "-c", cfg_, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 1u) << r.out;
  EXPECT_EQ(j[0]["start"], "2026-11-10T16:00:00.000Z");
  EXPECT_EQ(j[0]["end"], "2026-11-11T16:00:00.000Z");
  // Without site_timezone the site is on UTC.
  test::write_file(cfg_, "{" + base + "}");
  j = nlohmann::json::parse(agent({"campaigns", "-c", cfg_, "--json"}).out);
  EXPECT_EQ(j[0]["start"], "2026-11-11T00:00:00.000Z");
  EXPECT_EQ(j[0]["end"], "2026-11-12T00:00:00.000Z");
  // A name that is not a zone, or not on this machine, is named.
  test::write_file(cfg_, "{" + base + R"(, "site_timezone": "../../etc/passwd"})");
  r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("site_timezone: \"../../etc/passwd\" must be an IANA time zone name"));
  test::write_file(cfg_, "{" + base + R"(, "site_timezone": "Asia/Shangai"})");
  r = agent({"check", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("site_timezone: \"Asia/Shangai\" is not a time zone on this machine"));
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
  EXPECT_TRUE(items->front().prior.pin_demand);
  i.pin_demand = false;
  ASSERT_TRUE(store::apply_catalog(**db, {i}, "t2").ok());
  EXPECT_FALSE(store::load_replenish_items(**db)->front().prior.pin_demand);
}

}  // namespace
}  // namespace depot
