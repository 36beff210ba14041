#include "core/replenish/demand.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace depot::replenish {
namespace {

CatalogItem item(std::optional<double> daily = std::nullopt,
                 std::optional<double> sd = std::nullopt, bool pinned = false) {
  CatalogItem i{.sku = "S"};
  i.daily_demand = daily;
  i.daily_demand_sd = sd;
  i.pin_demand = pinned;
  return i;
}

TEST(Demand, CatalogStandsInUntilTheHistoryIsLongEnough) {
  const DemandSettings s;  // min_history_days = 14
  DemandTracker t;
  for (int i = 0; i < 13; ++i) t.add_day(s, 50);
  auto e = t.estimate(s, item(40, 6));
  EXPECT_EQ(e.source, DemandSource::kCatalog);
  EXPECT_DOUBLE_EQ(e.daily, 40);
  EXPECT_DOUBLE_EQ(e.sd, 6);
  EXPECT_EQ(e.history_days, 13);
  // Without a catalog sd the stand-in is Poisson: sqrt(25) = 5.
  EXPECT_DOUBLE_EQ(t.estimate(s, item(25)).sd, 5);
  // The 14th day completes the warm-up: the history takes over.
  t.add_day(s, 50);
  e = t.estimate(s, item(40, 6));
  EXPECT_EQ(e.source, DemandSource::kSmoothed);
  EXPECT_DOUBLE_EQ(e.daily, 50);
  EXPECT_DOUBLE_EQ(e.sd, 0);
}

TEST(Demand, ShortHistoryWithoutCatalogUsesWhatThereIs) {
  const DemandSettings s;
  DemandTracker t;
  EXPECT_EQ(t.estimate(s, item()).source, DemandSource::kNone);
  // 2, 4, 9: mean 5, sample variance ((-3)^2 + (-1)^2 + 4^2) / 2 = 13.
  for (double x : {2.0, 4.0, 9.0}) t.add_day(s, x);
  const auto e = t.estimate(s, item());
  EXPECT_EQ(e.source, DemandSource::kShortHistory);
  EXPECT_DOUBLE_EQ(e.daily, 5);
  EXPECT_NEAR(e.sd, std::sqrt(13.0), 1e-12);
}

TEST(Demand, PinnedCatalogFiguresWinOverHistory) {
  const DemandSettings s;
  DemandTracker t;
  for (int i = 0; i < 30; ++i) t.add_day(s, 80);
  const auto e = t.estimate(s, item(40, 6, /*pinned=*/true));
  EXPECT_EQ(e.source, DemandSource::kPinned);
  EXPECT_DOUBLE_EQ(e.daily, 40);
}

TEST(Demand, ExponentiallyWeightedMeanAndSd) {
  const DemandSettings s;  // alpha 0.1, warm-up 14 days
  DemandTracker t;
  for (int i = 0; i < 14; ++i) t.add_day(s, 100);  // warm-up: mean 100, variance 0
  t.add_day(s, 200);
  // delta = 200 - 100 = 100; mean = 100 + 0.1 x 100 = 110;
  // var = 0.9 x (0 + 0.1 x 100^2) = 900 -> sd 30.
  auto e = t.estimate(s, item());
  EXPECT_DOUBLE_EQ(e.daily, 110);
  EXPECT_NEAR(e.sd, 30, 1e-9);
  t.add_day(s, 110);
  // delta = 0; mean stays 110; var = 0.9 x 900 = 810 -> sd 28.4605.
  e = t.estimate(s, item());
  EXPECT_DOUBLE_EQ(e.daily, 110);
  EXPECT_NEAR(e.sd, std::sqrt(810.0), 1e-9);
}

TEST(Demand, ReturnsAreTheirOwnFigureNotNegativeDemand) {
  const DemandSettings s;
  DemandTracker t;
  for (int i = 0; i < 20; ++i) t.add_day(s, 10, 3);
  const auto e = t.estimate(s, item());
  EXPECT_DOUBLE_EQ(e.daily, 10);  // not 10 - 3
  EXPECT_DOUBLE_EQ(e.returns_daily, 3);
}

TEST(Demand, TsbOnAnIntermittentSeries) {
  DemandSettings s;
  s.min_history_days = 4;
  DemandTracker t;
  // Warm-up 0, 6, 0, 0: one demand day in four -> p = 0.25, size = 6;
  // mean 1.5, sample variance ((-1.5)^2 + 4.5^2 + 2 x (-1.5)^2) / 3 = 27 / 3 = 9.
  for (double x : {0.0, 6.0, 0.0, 0.0}) t.add_day(s, x);
  auto e = t.estimate(s, item());
  EXPECT_EQ(e.source, DemandSource::kIntermittent);  // zero share 0.75 >= 0.25
  EXPECT_DOUBLE_EQ(e.daily, 0.25 * 6);
  EXPECT_DOUBLE_EQ(e.sd, 3);

  t.add_day(s, 0);
  // No demand: p = 0.25 + 0.1 x (0 - 0.25) = 0.225; size stays 6 -> rate 1.35.
  // EW: delta = -1.5, mean 1.35, var = 0.9 x (9 + 0.1 x 2.25) = 8.3025.
  e = t.estimate(s, item());
  EXPECT_NEAR(e.daily, 1.35, 1e-12);
  EXPECT_NEAR(e.zero_share, 0.775, 1e-12);

  t.add_day(s, 4);
  // Demand: p = 0.225 + 0.1 x (1 - 0.225) = 0.3025; size = 6 + 0.1 x (4 - 6) = 5.8;
  // rate = 0.3025 x 5.8 = 1.7545.
  // EW: delta = 4 - 1.35 = 2.65, var = 0.9 x (8.3025 + 0.1 x 7.0225) = 8.104275.
  e = t.estimate(s, item());
  EXPECT_EQ(e.source, DemandSource::kIntermittent);
  EXPECT_NEAR(e.daily, 1.7545, 1e-12);
  EXPECT_NEAR(e.sd, std::sqrt(8.104275), 1e-12);
  EXPECT_NEAR(e.zero_share, 0.6975, 1e-12);
}

TEST(Demand, TsbDecaysWhenASkuStopsSelling) {
  DemandSettings s;
  s.min_history_days = 4;
  DemandTracker t;
  for (double x : {0.0, 6.0, 0.0, 0.0}) t.add_day(s, x);
  for (int i = 0; i < 30; ++i) t.add_day(s, 0);
  // p = 0.25 x 0.9^30 = 0.010597; rate = 6 x that = 0.06358 (Croston would still say 1.5).
  EXPECT_NEAR(t.estimate(s, item()).daily, 6 * 0.25 * std::pow(0.9, 30), 1e-12);
}

TEST(Demand, SteadySellerIsNotIntermittent) {
  DemandSettings s;
  s.min_history_days = 4;
  DemandTracker t;
  // One zero day in four: share 0.25 is exactly the threshold -> intermittent...
  for (double x : {5.0, 0.0, 7.0, 4.0}) t.add_day(s, x);
  EXPECT_EQ(t.estimate(s, item()).source, DemandSource::kIntermittent);
  // ...a fifth demand day moves p to 0.75 + 0.1 x 0.25 = 0.775: share 0.225 -> smoothed.
  t.add_day(s, 9);
  const auto e = t.estimate(s, item());
  EXPECT_EQ(e.source, DemandSource::kSmoothed);
  EXPECT_NEAR(e.daily, 4.5, 1e-12);  // warm-up mean 4; 4 + 0.1 x (9 - 4)
}

}  // namespace
}  // namespace depot::replenish
