#include "core/replenish/campaign.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace depot::replenish {
namespace {

constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kNow = 20'780 * kDay;  // 2026-11-23T00:00Z

Campaign campaign(double factor, double from_days, double to_days) {
  Campaign c;
  c.name = "live";
  c.skus = {"TINT"};
  c.factor = factor;
  c.start_ms = kNow + static_cast<std::int64_t>(from_days * kDay);
  c.end_ms = kNow + static_cast<std::int64_t>(to_days * kDay);
  return c;
}

TEST(Campaign, TargetsBySkuOrByPolicyProfile) {
  Campaign c = campaign(2, 0, 1);
  c.policy = "fast";
  EXPECT_TRUE(c.targets("TINT", "steady"));
  EXPECT_TRUE(c.targets("MATCHA", "fast"));
  EXPECT_FALSE(c.targets("MATCHA", "steady"));
  c.policy.clear();
  EXPECT_FALSE(c.targets("MATCHA", ""));  // an empty profile matches nothing
}

TEST(Campaign, IndexResolvesEachSkusCampaignsOnce) {
  std::vector<Campaign> cs{campaign(2, 0, 1), campaign(3, 1, 2)};
  cs[1].skus = {"TINT"};
  cs[1].policy = "fast";  // also targets TINT through its profile: listed once
  std::vector<CatalogItem> catalog{{.sku = "TINT", .policy = "fast"},
                                   {.sku = "GLOSS", .policy = "fast"},
                                   {.sku = "MATCHA", .policy = "steady"}};
  const CampaignIndex index(cs, catalog);
  ASSERT_EQ(index.for_sku("TINT").size(), 2u);
  EXPECT_EQ(index.for_sku("TINT")[1], &cs[1]);
  ASSERT_EQ(index.for_sku("GLOSS").size(), 1u);
  EXPECT_EQ(index.for_sku("GLOSS")[0], &cs[1]);
  EXPECT_TRUE(index.for_sku("MATCHA").empty());
}

TEST(DemandCurve, FlatDemandIsRateTimesDays) {
  const DemandCurve curve(100, {}, {}, kNow);
  EXPECT_DOUBLE_EQ(curve.units(0, 20), 2000);
  EXPECT_DOUBLE_EQ(curve.units(20, 27), 700);
  EXPECT_DOUBLE_EQ(curve.days_to_sell(2500), 25);
  EXPECT_DOUBLE_EQ(curve.campaign_factor(0, 20), 1);
  EXPECT_TRUE(std::isinf(DemandCurve(0, {}, {}, kNow).days_to_sell(1)));
}

TEST(DemandCurve, CampaignInsideTheLeadTimeRaisesOnlyTheOverlap) {
  // x4 from day 10 to day 15 of a 20-day lead time:
  // 100 x 10 + 400 x 5 + 100 x 5 = 1000 + 2000 + 500 = 3500 (instead of 2000).
  const Campaign c = campaign(4, 10, 15);
  const Campaign* cs[] = {&c};
  const DemandCurve curve(100, {}, cs, kNow);
  EXPECT_DOUBLE_EQ(curve.units(0, 20), 3500);
  EXPECT_DOUBLE_EQ(curve.campaign_factor(0, 20), 1.75);  // 3500 / 2000
  EXPECT_DOUBLE_EQ(curve.units(12, 14), 800);            // wholly inside
  EXPECT_DOUBLE_EQ(curve.units(20, 27), 700);            // after it: untouched
}

TEST(DemandCurve, OverlappingCampaignsTakeTheLargestFactor) {
  const Campaign a = campaign(4, 0, 2);
  const Campaign b = campaign(3, 1, 3);
  const Campaign* cs[] = {&a, &b};
  const DemandCurve curve(100, {}, cs, kNow);
  // day 0-1: x4, day 1-2: max(4, 3) = x4, day 2-3: x3 -> 400 + 400 + 300 (not 400 + 1200 + 300).
  EXPECT_DOUBLE_EQ(curve.units(0, 3), 1100);
}

TEST(DemandCurve, CampaignAlreadyRunningCountsFromNow) {
  const Campaign c = campaign(2, -3, 1);  // started three days ago
  const Campaign* cs[] = {&c};
  EXPECT_DOUBLE_EQ(DemandCurve(100, {}, cs, kNow).units(0, 2), 200 + 100);
}

TEST(DemandCurve, DaysToSellWalksThroughCampaigns) {
  const Campaign c = campaign(4, 2, 4);
  const Campaign* cs[] = {&c};
  const DemandCurve curve(100, {}, cs, kNow);
  // 500 units: 200 in the first two days, then 400/day: 300 more take 0.75 day -> 2.75.
  EXPECT_DOUBLE_EQ(curve.days_to_sell(500), 2.75);
  // 1200 units: 200 + 800 by day 4, then 100/day: 200 more -> day 6.
  EXPECT_DOUBLE_EQ(curve.days_to_sell(1200), 6);
}

TEST(DemandCurve, SurgeFadesWithItsHalfLife) {
  // d = 100/day, a surge 900/day above it, half-life 0.25 day (k = ln 2 / 0.25):
  // units(0, 20) = 2000 + 900 / k x (1 - e^(-20k)) = 2000 + 324.606 = 2324.606.
  const DemandCurve curve(100, {900, 0.25}, {}, kNow);
  EXPECT_NEAR(curve.units(0, 20), 2324.606, 1e-3);
  // Without a baseline only the surge sells, and a bounded amount: 240/day fading with a
  // 1-day half-life sells 240 / ln 2 = 346.25 units in all. 100 of them take
  // -ln(1 - 100 ln 2 / 240) / ln 2 = 0.491696 day; 400 never sell.
  const DemandCurve only_surge(0, {240, 1}, {}, kNow);
  EXPECT_NEAR(only_surge.days_to_sell(100), 0.491696, 1e-6);
  EXPECT_TRUE(std::isinf(only_surge.days_to_sell(400)));
}

TEST(DemandCurve, SurgeAndCampaignTakeTheLargerNotTheSum) {
  // The same surge during a x4 campaign over the whole lead time. The surge rate
  // 100 + 900 e^(-kt) is above the campaign's 400 until 900 e^(-kt) = 300, i.e.
  // t* = ln 3 / k = 0.25 log2 3 = 0.396241 day. Units:
  //   [0, t*]:  100 t* + 900 / k (1 - 1/3) = 39.624 + 216.404 = 256.028
  //   [t*, 20]: 400 x (20 - 0.396241)                         = 7841.504
  //   total 8097.532 (adding both would give 8324.606).
  const Campaign c = campaign(4, 0, 20);
  const Campaign* cs[] = {&c};
  const DemandCurve curve(100, {900, 0.25}, cs, kNow);
  EXPECT_NEAR(curve.units(0, 20), 8097.532, 1e-3);
  // Selling that much takes exactly the 20 days.
  EXPECT_NEAR(curve.days_to_sell(8097.532), 20, 1e-5);
}

}  // namespace
}  // namespace depot::replenish
