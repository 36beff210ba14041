#include "core/replenish/policy.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace depot::replenish {
namespace {

TEST(InverseNormal, KnownQuantiles) {
  EXPECT_NEAR(inverse_normal_cdf(0.95), 1.6448536, 1e-7);
  EXPECT_NEAR(inverse_normal_cdf(0.99), 2.3263479, 1e-7);
  EXPECT_NEAR(inverse_normal_cdf(0.5), 0.0, 1e-12);
  EXPECT_NEAR(inverse_normal_cdf(0.05), -1.6448536, 1e-7);  // symmetric
  // The tails (p < 0.02425 uses the other rational approximation).
  EXPECT_NEAR(inverse_normal_cdf(0.001), -3.0902323, 1e-7);
  EXPECT_NEAR(inverse_normal_cdf(0.999999), 4.7534243, 1e-6);
  EXPECT_NEAR(inverse_normal_cdf(1e-10), -6.3613409, 1e-6);
}

TEST(InverseNormal, RoundTripsThroughTheCdf) {
  for (double p : {0.001, 0.02, 0.0243, 0.3, 0.7, 0.9, 0.975, 0.9999}) {
    const double z = inverse_normal_cdf(p);
    EXPECT_NEAR(0.5 * std::erfc(-z / std::sqrt(2.0)), p, 1e-13 + p * 1e-12) << p;
  }
}

Policy days_policy(double lead, double days) {
  Policy p;
  p.name = "steady";
  p.lead_time_days = lead;
  p.safety = SafetyRule::kDaysOfCover;
  p.safety_days = days;
  p.suppliers = {{"main", std::nullopt, 1.0}};
  return p;
}

TEST(SafetyStock, DaysOfCover) {
  // 5 days x 100 units/day = 500.
  EXPECT_DOUBLE_EQ(safety_stock(days_policy(20, 5), 100, 30), 500);
}

TEST(SafetyStock, ServiceLevelWithoutLeadTimeVariability) {
  Policy p = days_policy(20, 0);
  p.safety = SafetyRule::kServiceLevel;
  p.service_level = 0.95;
  // z(0.95) = 1.644854; d = 100/day, sd_d = 20, L = 20 days, sd_L = 0:
  // sqrt(L sd_d^2 + d^2 sd_L^2) = sqrt(20 x 400 + 0) = sqrt(8000) = 89.4427
  // SS = 1.644854 x 89.4427 = 147.120
  EXPECT_NEAR(safety_stock(p, 100, 20), 147.120, 1e-3);
}

TEST(SafetyStock, ServiceLevelWithLeadTimeVariability) {
  Policy p = days_policy(20, 0);
  p.safety = SafetyRule::kServiceLevel;
  p.service_level = 0.95;
  p.lead_time_sd_days = 2;
  // sqrt(20 x 20^2 + 100^2 x 2^2) = sqrt(8000 + 40000) = sqrt(48000) = 219.089
  // SS = 1.644854 x 219.089 = 360.369: two days of lead-time spread outweigh the daily noise.
  EXPECT_NEAR(safety_stock(p, 100, 20), 360.369, 1e-3);
  // At 99 %: z = 2.326348, SS = 2.326348 x 219.089 = 509.677.
  p.service_level = 0.99;
  EXPECT_NEAR(safety_stock(p, 100, 20), 509.677, 1e-3);
}

TEST(OrderQuantity, UpToTheLevelThenMoqThenWholeCases) {
  Policy p = days_policy(20, 5);
  p.moq = 500;
  p.case_multiple = 48;
  // Order-up-to 3200, position 2450: gap 750 >= MOQ; 750 / 48 = 15.6 -> 16 cases = 768.
  auto q = order_quantity(p, 3200, 2450);
  EXPECT_EQ(q.quantity, 768);
  EXPECT_FALSE(q.capped_by_max_stock);
  // Position 3000: gap 200 < MOQ 500 -> 500 -> 11 cases = 528.
  EXPECT_EQ(order_quantity(p, 3200, 3000).quantity, 528);
  // An order-up-to of 2500.0000000001 does not become an extra unit.
  p.moq = 1;
  p.case_multiple = 1;
  EXPECT_EQ(order_quantity(p, 2500.0000000001, 2000).quantity, 500);
}

TEST(OrderQuantity, MaxStockCapsInWholeCasesAndSaysWhenTheMoqDoesNotFit) {
  Policy p = days_policy(20, 5);
  p.moq = 500;
  p.case_multiple = 48;
  p.max_stock = 3000;
  // 768 wanted, room 3000 - 2450 = 550 -> 11 whole cases = 528 (>= MOQ 500).
  auto q = order_quantity(p, 3200, 2450);
  EXPECT_EQ(q.quantity, 528);
  EXPECT_EQ(q.room, 550);
  EXPECT_TRUE(q.capped_by_max_stock);
  EXPECT_FALSE(q.room_below_moq);
  // Max stock 2900: room 450 -> 9 cases = 432 < MOQ 500: no order, and the sizing says why.
  p.max_stock = 2900;
  q = order_quantity(p, 3200, 2450);
  EXPECT_EQ(q.quantity, 0);
  EXPECT_EQ(q.room, 450);
  EXPECT_TRUE(q.room_below_moq);
}

// An order of 100 (order-up-to 100 from position 0), no ceiling.
SupplierChoice choose(const Policy& p, double days_to_stockout) {
  return choose_source(p, 100, 0, std::nullopt, days_to_stockout);
}

TEST(SupplierChoice, CheapestThatArrivesBeforeTheStockoutElseFastestAndUrgent) {
  Policy p = days_policy(14, 5);
  p.suppliers = {{"sea", 20.0, 1.00}, {"rail", 10.0, 1.20}, {"air", 3.0, 2.00}};
  auto c = choose(p, 25);  // everyone is in time: the cheapest
  EXPECT_EQ(c.supplier->id, "sea");
  EXPECT_FALSE(c.urgent);
  c = choose(p, 12);  // sea (20 d) is too late; rail (10 d) is cheaper than air
  EXPECT_EQ(c.supplier->id, "rail");
  EXPECT_DOUBLE_EQ(c.lead_time_days, 10);
  c = choose(p, 10);  // arriving on the day of the stockout still counts
  EXPECT_EQ(c.supplier->id, "rail");
  c = choose(p, 5);
  EXPECT_EQ(c.supplier->id, "air");
  EXPECT_FALSE(c.urgent);
  c = choose(p, 2);  // nobody makes it: the fastest, urgent
  EXPECT_EQ(c.supplier->id, "air");
  EXPECT_TRUE(c.urgent);
  c = choose(p, std::numeric_limits<double>::infinity());  // never runs out
  EXPECT_EQ(c.supplier->id, "sea");
  EXPECT_DOUBLE_EQ(fastest_lead_time(p), 3);
}

TEST(SupplierChoice, ASupplierWithoutLeadTimeUsesTheProfiles) {
  Policy p = days_policy(14, 5);
  p.suppliers = {{"usual", std::nullopt, 1.00}, {"express", 4.0, 1.50}};
  EXPECT_EQ(choose(p, 20).supplier->id, "usual");
  EXPECT_EQ(choose(p, 13).supplier->id, "express");  // usual takes 14
  EXPECT_DOUBLE_EQ(choose(p, 20).lead_time_days, 14);
}

// Issue 17 item 4: purchase or transfer, by urgency and landed cost (unit price for the
// quantity plus freight per unit), each source with its own MOQ, case size and price breaks.
TEST(SourceChoice, LandedCostDecidesAmongSourcesInTimeWithEachSourcesMoqCasesAndBreaks) {
  Policy p = days_policy(14, 5);
  Supplier factory{"factory", 20.0, 2.50};
  factory.freight_per_unit = 0.40;
  factory.case_multiple = 24;
  factory.moq = 240;
  factory.price_breaks = {{200, 2.30}, {1000, 2.00}};
  Supplier central{"central", 3.0, 2.60, SourceKind::kTransfer};
  central.freight_per_unit = 0.15;
  p.suppliers = {factory, central};
  // An order of 100: the factory's MOQ makes it 240 (10 cases) at the 200+ break: 2.30 + 0.40
  // = 2.70/unit; central ships 100 at 2.60 + 0.15 = 2.75/unit. Both in time: the factory.
  auto c = choose_source(p, 100, 0, std::nullopt, 30);
  ASSERT_NE(c.supplier, nullptr);
  EXPECT_EQ(c.supplier->id, "factory");
  EXPECT_EQ(c.sizing.quantity, 240);
  EXPECT_NEAR(c.landed_unit_cost, 2.70, 1e-9);
  EXPECT_FALSE(c.urgent);
  EXPECT_NE(c.why.find("purchase from factory: landed 2.70/unit (2.30 + freight 0.40) for 240"),
            std::string::npos) << c.why;
  EXPECT_NE(c.why.find("central (transfer) 2.75/unit in 3.0 d"), std::string::npos) << c.why;
  // Stockout in 10 days: the factory (20 d) is too late; central is in time.
  c = choose_source(p, 100, 0, std::nullopt, 10);
  EXPECT_EQ(c.supplier->id, "central");
  EXPECT_EQ(c.sizing.quantity, 100);
  EXPECT_EQ(c.supplier->kind, SourceKind::kTransfer);
  EXPECT_NE(c.why.find("factory (purchase) 2.70/unit in 20.0 d, too late"), std::string::npos)
      << c.why;
  // Central says it can spare only 60: it cannot take an order of 100; the factory is the
  // only source left, too late: urgent.
  const SourceStock spare[] = {{"central", 60}};
  c = choose_source(p, 100, 0, std::nullopt, 10, spare);
  EXPECT_EQ(c.supplier->id, "factory");
  EXPECT_TRUE(c.urgent);
  EXPECT_NE(c.why.find("central can spare 60 of 100"), std::string::npos) << c.why;
  // An order of 1,000 reaches the factory's best break: 2.00 + 0.40 = 2.40/unit (1,008: whole
  // cases).
  c = choose_source(p, 1000, 0, std::nullopt, 30);
  EXPECT_EQ(c.supplier->id, "factory");
  EXPECT_EQ(c.sizing.quantity, 1008);
  EXPECT_NEAR(c.landed_unit_cost, 2.40, 1e-9);
  // A ceiling of 150 leaves no room for the factory's MOQ of 240: central takes it.
  p.max_stock = 150;
  c = choose_source(p, 400, 0, std::nullopt, 30);
  EXPECT_EQ(c.supplier->id, "central");
  EXPECT_EQ(c.sizing.quantity, 150);
  EXPECT_NE(c.why.find("factory cannot take it"), std::string::npos) << c.why;
}

}  // namespace
}  // namespace depot::replenish
