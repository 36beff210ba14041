#include "core/replenish/surge.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace depot::replenish {
namespace {

constexpr std::int64_t kMin = 60'000;
constexpr std::int64_t kWall0 = 1'794'000'000'000;  // any wall time; events carry it through

// The pick log of one SKU, minute by minute: the expected rate is 240/day = 10/hour.
//  minutes   0- 59  one unit every 6 minutes (10/hour, as expected)
//  minutes  60- 89  a live stream: 5 units every minute (300/hour)
//  minutes  90-239  one unit every 6 minutes again
std::int64_t picks_at(std::int64_t minute) {
  if (minute >= 60 && minute < 90) return 5;
  return minute % 6 == 0 ? 1 : 0;
}

struct Replay {
  std::map<std::int64_t, SurgeEvent> events;  // by minute
  std::map<std::int64_t, bool> in_surge;
};

Replay replay(SurgeDetector& d, std::int64_t minutes) {
  Replay r;
  const double expected = 240.0 / 24;
  for (std::int64_t m = 0; m < minutes; ++m) {
    const std::int64_t mono = m * kMin;
    auto e = picks_at(m) > 0 ? d.pick(mono, kWall0 + mono, picks_at(m), expected)
                             : d.tick(mono, kWall0 + mono, expected);
    if (e) r.events.emplace(m, *e);
    r.in_surge[m] = d.in_surge();
  }
  return r;
}

TEST(Surge, EntersAndLeavesWithHysteresis) {
  SurgeDetector d(SurgeSettings{});  // 15/60 min, enter x4 with >= 20 units, exit below x2
                                     // held 30 min, half-life 240 min
  const auto r = replay(d, 240);
  ASSERT_EQ(r.events.size(), 2u);

  // Entering: the 15-minute window at minute 63 spans minutes 49-63: the baseline pick at 54
  // plus 4 surge minutes x 5 = 21 units (>= 20), i.e. 21 x 4 = 84/hour >= 4 x 10.
  // At minute 62 (minutes 48-62) it held 2 + 15 = 17 units.
  const auto& start = r.events.begin()->second;
  EXPECT_EQ(r.events.begin()->first, 63);
  EXPECT_EQ(start.name(), "demand_surge");
  EXPECT_EQ(start.window_minutes, 15);
  EXPECT_EQ(start.window_units, 21);
  EXPECT_DOUBLE_EQ(start.rate_per_hour, 84);
  EXPECT_DOUBLE_EQ(start.expected_per_hour, 10);
  EXPECT_EQ(start.wall_ms, kWall0 + 63 * kMin);
  EXPECT_FALSE(r.in_surge.at(62));

  // Leaving: the 15-minute window is calm from minute 101 (3 surge minutes = 15 + 2 baseline
  // = 17 units < 20), but the 60-minute window still holds the surge: at minute 147 it spans
  // 88-147 = 2 surge minutes (10) + baseline picks at 90, 96, ..., 144 (10) = 20 units =
  // 20/hour, not below 2 x 10. At minute 148: 5 + 10 = 15 < 20 units -> calm from 148.
  // Held for 30 minutes -> the surge ends at minute 178.
  EXPECT_TRUE(r.in_surge.at(120));  // below the entry ratio, above the exit one: still in
  EXPECT_TRUE(r.in_surge.at(177));
  EXPECT_FALSE(r.in_surge.at(178));
  const auto& end = r.events.rbegin()->second;
  EXPECT_EQ(r.events.rbegin()->first, 178);
  EXPECT_EQ(end.name(), "demand_surge_ended");
  EXPECT_EQ(end.window_minutes, 60);
  EXPECT_EQ(end.window_units, 10);  // picks at 120, 126, ..., 174
}

TEST(Surge, SurgeRateDecaysWithItsHalfLife) {
  SurgeDetector d(SurgeSettings{});
  replay(d, 150);  // the peak: 75 units in 15 minutes = 300/hour, last seen at minute 89
  ASSERT_TRUE(d.in_surge());
  // At minute 149, 60 minutes after the peak: 10 + (300 - 10) x 2^(-60/240) = 253.860/hour.
  EXPECT_NEAR(d.rate_per_hour(149 * kMin, 10), 253.860, 1e-3);
  // What it adds to the forecast: (253.860 - 10) x 24 = 5852.64 units/day, fading with a
  // half-life of 240 min = 1/6 day.
  const auto proj = d.projection(149 * kMin, 10);
  EXPECT_NEAR(proj.excess_per_day, 5852.639, 1e-3);
  EXPECT_DOUBLE_EQ(proj.half_life_days, 240.0 / 1440);
}

TEST(Surge, ABriefLullDoesNotEndIt) {
  SurgeSettings s;
  s.long_window_minutes = 20;  // a short memory, so the lull shows quickly
  SurgeDetector d(s);
  const double expected = 10;
  std::int64_t m = 0;
  auto at = [&](std::int64_t qty) {
    const std::int64_t mono = m++ * kMin;
    return qty > 0 ? d.pick(mono, mono, qty, expected) : d.tick(mono, mono, expected);
  };
  for (int i = 0; i < 10; ++i) at(5);  // enters on the 4th minute
  ASSERT_TRUE(d.in_surge());
  for (int i = 0; i < 40; ++i) at(0);  // minutes 10-49: calm from 26, when the 20-minute
  ASSERT_TRUE(d.in_surge());           // window drops below 20 units; not yet 30 minutes
  for (int i = 0; i < 5; ++i) at(5);   // back up: the calm clock restarts
  for (int i = 0; i < 40; ++i) at(0);
  EXPECT_TRUE(d.in_surge());
  std::optional<SurgeEvent> end;
  for (int i = 0; i < 30 && !end; ++i) end = at(0);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->name(), "demand_surge_ended");
}

TEST(Surge, FewUnitsAreNeverASurge) {
  SurgeSettings s;
  s.min_events = 1;  // units alone here (events: the next test)
  SurgeDetector d(s);
  // A slow SKU (1/day expected): 19 units within a minute is a 1824-fold rate but below
  // min_units 20.
  EXPECT_FALSE(d.pick(0, 0, 19, 1.0 / 24));
  EXPECT_FALSE(d.in_surge());
  EXPECT_TRUE(d.pick(kMin, kMin, 1, 1.0 / 24));  // the 20th unit
}

// The trial: one `scan --kind pick --qty 120` of a 10/day SKU gave "demand_surge 480/h against
// 0.42/h", surge x1152, and an URGENT proposal for 288 days of demand. One pick is one event:
// a window needs min_events (5) distinct picks besides min_units. And one window is
// extrapolated at most max_ratio (50) x the expected rate.
TEST(Surge, OneBulkPickIsNeverASurgeAndAWindowIsExtrapolatedAtMostMaxRatio) {
  const double expected = 10.0 / 24;  // 10/day
  SurgeDetector d(SurgeSettings{});
  EXPECT_FALSE(d.pick(0, 0, 120, expected));
  EXPECT_FALSE(d.in_surge());
  EXPECT_EQ(d.events_in_last(15), 1);
  EXPECT_EQ(d.units_in_last(15), 120);
  // Three more bulk picks: 4 events, still not a surge...
  for (int i = 1; i <= 3; ++i) EXPECT_FALSE(d.pick(i * kMin, i * kMin, 120, expected));
  EXPECT_FALSE(d.in_surge());
  // ...the fifth pick is: 600 units in 15 min = 2400/h = 5760 x expected, capped at 50 x:
  // the surge rate is 20.83/h, an excess of 20.42/h = 490 units a day at its peak.
  auto e = d.pick(4 * kMin, 4 * kMin, 120, expected);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->window_units, 600);
  EXPECT_DOUBLE_EQ(e->rate_per_hour, 2400);  // the event reports what was seen
  EXPECT_NEAR(d.rate_per_hour(4 * kMin, expected), 50 * expected, 1e-9);
  EXPECT_NEAR(d.projection(4 * kMin, expected).excess_per_day, 49 * expected * 24, 1e-9);
}

TEST(Surge, TimeGoingBackCountsAsTheLatest) {
  SurgeDetector d(SurgeSettings{});
  d.pick(10 * kMin, 0, 3, 10);
  d.pick(2 * kMin, 0, 4, 10);  // earlier: booked at minute 10
  EXPECT_EQ(d.units_in_last(1), 7);
  d.tick(70 * kMin, 0, 10);  // an hour later both have left every window
  EXPECT_EQ(d.units_in_last(60), 0);
}

}  // namespace
}  // namespace depot::replenish
