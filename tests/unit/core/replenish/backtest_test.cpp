#include "core/replenish/backtest.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace depot::replenish {
namespace {
using ::testing::ElementsAre;

TEST(DemandCsv, ParsesRowsAndReportsBadLinesByNumber) {
  const auto h = parse_demand_csv(
      "date,sku,quantity\r\n"
      "2026-11-01,TINT,12\r\n"
      "\n"
      "# a comment\n"
      "2026-11-01 , MATCHA , 3\n"
      "2026-02-30,TINT,1\n"
      "2026-11-02,TINT\n"
      "2026-11-02,TINT,-4\n"
      "2026-11-02,has space,4\n"
      "2026-11-02T10:00Z,TINT,4\n"
      "2026-11-03,TINT,0");
  ASSERT_EQ(h.rows.size(), 3u);
  EXPECT_EQ(h.rows[0].sku, "TINT");
  EXPECT_EQ(h.rows[0].quantity, 12);
  EXPECT_EQ(h.rows[0].day, 20758);  // 2026-11-01
  EXPECT_EQ(h.rows[1].sku, "MATCHA");
  EXPECT_EQ(h.rows[2].quantity, 0);
  EXPECT_THAT(h.problems,
              ElementsAre("line 6: date \"2026-02-30\" is not a calendar date (YYYY-MM-DD)",
                          "line 7: expected 3 fields (date,sku,quantity), found 2",
                          "line 8: quantity \"-4\" must be a whole number of units from 0 to "
                          "999999999",
                          "line 9: sku \"has space\" must be 1-64 characters of letters, "
                          "digits, '_', '-' or '.'",
                          "line 10: date \"2026-11-02T10:00Z\" is not a calendar date "
                          "(YYYY-MM-DD)"));
}

// Ten days of 10 units a day. Profile: lead time 2 days, 1 day of safety stock, 3-day
// review: reorder point 2 x 10 + 10 = 30, order-up-to 30 + 3 x 10 = 60.
struct SmallBacktest : ::testing::Test {
  SmallBacktest() {
    std::string csv = "date,sku,quantity\n";
    for (int d = 1; d <= 10; ++d)
      csv += "2026-11-" + std::string(d < 10 ? "0" : "") + std::to_string(d) + ",TINT,10\n";
    csv += "2026-11-05,OTHER,99\n";  // another SKU: not TINT's demand
    history = parse_demand_csv(csv);
    item.sku = "TINT";
    item.daily_demand = 10;
    item.daily_demand_sd = 0;
    item.pin_demand = true;  // keeps the arithmetic by hand
    policy.name = "test";
    policy.lead_time_days = 2;
    policy.review_period_days = 3;
    policy.safety_days = 1;
    policy.suppliers = {{"main", std::nullopt, 1.0}};
    options.initial_on_hand = 40;
  }
  DemandHistoryText history;
  CatalogItem item;
  Policy policy;
  BacktestOptions options;
};

TEST_F(SmallBacktest, OnTimeDeliveriesNeverRunOut) {
  ASSERT_TRUE(history.problems.empty());
  // Day 0: 40 -> 30 <= 30: order 60 - 30 = 30, arrives at the start of day 0 + 1 + 2 = 3.
  // Days 1, 2: 20, 10 (an order is open). Day 3: +30 = 40 -> 30: order again, and so on
  // on days 0, 3, 6, 9. End-of-day on hand 30, 20, 10 repeating: average 210 / 10 = 21.
  const auto r = backtest(history.rows, item, policy, options);
  EXPECT_EQ(r.days, 10);
  EXPECT_EQ(r.demand_units, 100);
  EXPECT_EQ(r.filled_units, 100);
  EXPECT_DOUBLE_EQ(r.fill_rate, 1.0);
  EXPECT_EQ(r.stockout_days, 0);
  EXPECT_EQ(r.orders_placed, 4);
  EXPECT_EQ(r.units_ordered, 120);
  EXPECT_EQ(r.urgent_orders, 0);
  EXPECT_DOUBLE_EQ(r.average_on_hand, 21.0);
  EXPECT_EQ(r.ending_on_hand, 30);
}

TEST_F(SmallBacktest, LateDeliveriesShowAsStockouts) {
  options.extra_delay_days = {2};  // every delivery two days later than promised
  // Day 0 order (30) arrives on day 5 instead of 3: days 0-3 sell 40, day 4 sells nothing.
  // Day 5: +30, sells 10 -> 20 <= 30: order 60 - 20 = 40, due day 8, arrives day 10 (after
  // the history). Days 6, 7 sell the last 20; days 8 and 9 sell nothing.
  // Filled 40 + 30 = 70 of 100; stockout days 4, 8, 9; on hand 30,20,10,0,0,20,10,0,0,0.
  const auto r = backtest(history.rows, item, policy, options);
  EXPECT_EQ(r.filled_units, 70);
  EXPECT_EQ(r.lost_units, 30);
  EXPECT_DOUBLE_EQ(r.fill_rate, 0.7);
  EXPECT_EQ(r.stockout_days, 3);
  EXPECT_EQ(r.orders_placed, 2);
  EXPECT_DOUBLE_EQ(r.average_on_hand, 9.0);
}

TEST_F(SmallBacktest, MoreSafetyStockBuysFillRate) {
  options.extra_delay_days = {2};
  policy.safety_days = 3;  // reorder point 50, order-up-to 80
  // Day 0: 40 -> 30: order 50, arrives day 5. Days 1-3 sell the last 30, day 4 nothing.
  // Day 5: +50 -> 40 <= 50: order 40 (arrives after the history); days 6-9 sell 40.
  // Filled 40 + 50 = 90; on hand 30,20,10,0,0,40,30,20,10,0: average 16.
  const auto r = backtest(history.rows, item, policy, options);
  EXPECT_DOUBLE_EQ(r.fill_rate, 0.9);
  EXPECT_EQ(r.stockout_days, 1);
  EXPECT_EQ(r.orders_placed, 2);
  EXPECT_DOUBLE_EQ(r.average_on_hand, 16.0);
}

// Found by fuzz.demand_csv: a byte that is not UTF-8 went into the problem text unchanged, and
// problems are printed and written into JSON.
// Issue 17 item 7: exports write the header as Date,SKU,Quantity or qty.
TEST(DemandCsv, AHeaderInAnyCaseAndQtyIsTaken) {
  for (const char* head : {"Date,SKU,Quantity", "DATE,sku,QTY", "date,sku,qty"}) {
    const auto h = parse_demand_csv(std::string(head) + "\n2026-11-01,TINT,12\n");
    EXPECT_TRUE(h.problems.empty()) << head << ": " << h.problems[0];
    ASSERT_EQ(h.rows.size(), 1u) << head;
    EXPECT_EQ(h.rows[0].quantity, 12);
  }
  // Not a header: reported like any bad line.
  EXPECT_EQ(parse_demand_csv("Date,SKU,Units\n").problems.size(), 1u);
}

TEST(DemandCsv, ProblemsShowBadBytesEscaped) {
  const auto h = parse_demand_csv("2026-11-01,LIP-01,12\n2026-11-0\xb6,LIP-01,3\n");
  ASSERT_EQ(h.rows.size(), 1u);
  ASSERT_EQ(h.problems.size(), 1u);
  EXPECT_EQ(h.problems[0], "line 2: date \"2026-11-0\\xb6\" is not a calendar date (YYYY-MM-DD)");
}

}  // namespace
}  // namespace depot::replenish
