#include "core/coldchain/mkt.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "core/coldchain/reading.hpp"

namespace depot::coldchain {
namespace {

constexpr std::int64_t kHour = 60 * kNsPerMinute;

TEST(Mkt, AConstantTemperatureIsItsOwnMkt) {
  for (double c : {-20.0, 0.0, 5.0, 25.0}) {
    auto m = mean_kinetic_temperature({{c, 1.0}, {c, 3.0}, {c, 0.5}});
    ASSERT_TRUE(m);
    EXPECT_NEAR(*m, c, 1e-9);
  }
}

// Two equal halves at 20 °C and 30 °C, worked by hand:
//   T1 = 293.15 K: (ΔH/R)/T1 = 10000/293.15 = 34.112229, exp(-34.112229) = 1.531959e-15
//   T2 = 303.15 K: (ΔH/R)/T2 = 10000/303.15 = 32.986970, exp(-32.986970) = 4.719988e-15
//   mean = (1.531959e-15 + 4.719988e-15) / 2 = 3.125973e-15, ln(mean) = -33.399031
//   MKT = 10000 / 33.399031 = 299.4099 K = 26.2599 °C
// Above the arithmetic mean (25 °C): heat weighs more than cold. (The task brief guessed
// "about 25.9 °C"; the formula gives 26.26 °C.)
TEST(Mkt, TwoEqualHalvesAt20And30Give26Point26) {
  auto m = mean_kinetic_temperature({{20.0, 1.0}, {30.0, 1.0}});
  ASSERT_TRUE(m);
  EXPECT_NEAR(*m, 26.2599, 1e-4);
  // The weights are durations: 12 h + 12 h is the same as 1 + 1.
  EXPECT_NEAR(*mean_kinetic_temperature({{20.0, 43200.0}, {30.0, 43200.0}}), 26.2599, 1e-4);
}

// Three quarters at 20 °C, one at 30 °C:
//   (3·1.531959e-15 + 4.719988e-15) / 4 = 2.328966e-15, ln = -33.693352
//   MKT = 10000 / 33.693352 = 296.7945 K = 23.6445 °C
TEST(Mkt, WeightsAreTheTimeEachReadingStandsFor) {
  EXPECT_NEAR(*mean_kinetic_temperature({{20.0, 3.0}, {30.0, 1.0}}), 23.6445, 1e-4);
  // Pharma fridge at its limits, half the time each: 2 °C and 8 °C give 5.5364 °C.
  EXPECT_NEAR(*mean_kinetic_temperature({{2.0, 1.0}, {8.0, 1.0}}), 5.5364, 1e-4);
}

TEST(Mkt, IsNeverBelowTheWeightedMean) {
  const std::vector<WeightedTemperature> sets[] = {{{2.0, 1.0}, {8.0, 1.0}, {4.0, 2.0}},
                                                   {{-25.0, 5.0}, {-15.0, 1.0}},
                                                   {{15.0, 1.0}, {40.0, 0.1}}};
  for (const auto& s : sets) {
    double sum = 0.0, w = 0.0;
    for (const auto& x : s) sum += x.celsius * x.weight, w += x.weight;
    EXPECT_GT(*mean_kinetic_temperature(s), sum / w);
  }
}

TEST(Mkt, NothingToAverageIsNoValue) {
  EXPECT_FALSE(mean_kinetic_temperature({}));
  EXPECT_FALSE(mean_kinetic_temperature({{5.0, 0.0}}));
  EXPECT_FALSE(mean_kinetic_temperature({{-300.0, 1.0}}));  // below absolute zero: ignored
}

TEST(MktSum, MergingDisjointPeriodsEqualsAddingThemAll) {
  MktSum morning, evening, all;
  morning.add(4.0, 3600), morning.add(6.0, 1800);
  evening.add(9.0, 600);
  for (auto [c, w] : {std::pair{4.0, 3600.0}, {6.0, 1800.0}, {9.0, 600.0}}) all.add(c, w);
  morning.merge(evening);
  EXPECT_DOUBLE_EQ(morning.weight(), 6000.0);
  EXPECT_NEAR(*morning.celsius(), *all.celsius(), 1e-12);
}

TEST(RollingMkt, EachReadingStandsUntilTheNextOne) {
  RollingMkt day(24 * kHour, 2 * kNsPerMinute, 24 * kHour);
  day.add(20.0, 0);
  day.add(30.0, 12 * kHour);
  // [0, 12 h) at 20 °C, [12 h, 24 h) at 30 °C: the two equal halves above.
  EXPECT_NEAR(*day.celsius(24 * kHour), 26.2599, 1e-4);
  EXPECT_DOUBLE_EQ(day.covered_s(24 * kHour), 86400.0);
  // Six hours later the window is [6 h, 30 h): 6 h at 20 °C and 18 h at 30 °C, 28.3097 °C.
  EXPECT_NEAR(*day.celsius(30 * kHour), 28.3097, 1e-4);
  EXPECT_DOUBLE_EQ(day.covered_s(30 * kHour), 86400.0);
  // The zone loses its probes at 30 h: by 60 h nothing is left in the window.
  day.gap(30 * kHour);
  EXPECT_FALSE(day.celsius(60 * kHour));
  EXPECT_DOUBLE_EQ(day.covered_s(60 * kHour), 0.0);
}

TEST(RollingMkt, TheOldestPartialBucketIsLeftOut) {
  RollingMkt day(24 * kHour, 2 * kNsPerMinute, 24 * kHour);
  day.add(20.0, 0);
  day.add(30.0, 12 * kHour);
  // At 24 h + 1 min the window starts at the next 2-minute boundary after 1 min: 2 min.
  EXPECT_DOUBLE_EQ(day.covered_s(24 * kHour + kNsPerMinute), 86400.0 - 60.0);
}

TEST(RollingMkt, AReadingStandsAtMostMaxHold) {
  RollingMkt day(24 * kHour, 2 * kNsPerMinute, 10 * kNsPerMinute);
  day.add(5.0, 0);
  EXPECT_DOUBLE_EQ(day.covered_s(kHour), 600.0);
  EXPECT_NEAR(*day.celsius(kHour), 5.0, 1e-9);
  day.add(7.0, 2 * kHour);  // the 5 °C reading still counts for only 10 minutes
  EXPECT_DOUBLE_EQ(day.covered_s(2 * kHour + 5 * kNsPerMinute), 900.0);
}

// Two days at 30 °C, then one at 20 °C. The last 24 hours saw only 20 °C; the 30-day window
// weighs 2:1: (2·4.719988e-15 + 1.531959e-15) / 3 = 3.657312e-15, ln = -33.242048,
// 10000 / 33.242048 = 300.8238 K = 27.6738 °C.
TEST(ZoneMkt, ReportsTheLastDayAndTheLastThirtyDays) {
  ZoneMkt mkt(72 * kHour);
  mkt.add(30.0, 0);
  mkt.add(20.0, 48 * kHour);
  EXPECT_NEAR(*mkt.last_24h_c(72 * kHour), 20.0, 1e-9);
  EXPECT_NEAR(*mkt.last_30d_c(72 * kHour), 27.6738, 1e-4);
  EXPECT_DOUBLE_EQ(mkt.month().covered_s(72 * kHour), 72 * 3600.0);
}

}  // namespace
}  // namespace depot::coldchain
