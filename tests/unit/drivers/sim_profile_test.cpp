// The simulator's profiles against hand-worked values, and the demo config's freezer probe:
// it must drift out of its zone within about 30 s and come back.
#include "sensor/sim/sim_profile.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "app/config_file.hpp"
#include "core/json_fields.hpp"
#include "test_support.hpp"

namespace depot::drivers {
namespace {

using coldchain::Quality;
using coldchain::SimSource;
using coldchain::SimStep;

double at(const SimSource& s, double t) {
  auto v = sim_value(s, t);
  EXPECT_EQ(v.quality, Quality::kGood) << "t=" << t << ": " << v.reason;
  return v.celsius;
}

TEST(SimProfileTest, ConstantSineExcursionAndDrift) {
  SimSource s;
  s.base_c = 4;
  EXPECT_DOUBLE_EQ(at(s, 0), 4);
  EXPECT_DOUBLE_EQ(at(s, 12345.6), 4);

  s.profile = "sine";
  s.base_c = -20;
  s.amplitude_c = 2;
  s.period_s = 60;
  EXPECT_DOUBLE_EQ(at(s, 0), -20);
  EXPECT_DOUBLE_EQ(at(s, 15), -18);  // a quarter period: +amplitude
  EXPECT_DOUBLE_EQ(at(s, 45), -22);  // three quarters: -amplitude
  EXPECT_DOUBLE_EQ(at(s, 75), -18);

  s.profile = "excursion";
  s.base_c = 4;
  s.amplitude_c = 6;
  s.period_s = 100;
  EXPECT_DOUBLE_EQ(at(s, 10), 4);
  EXPECT_DOUBLE_EQ(at(s, 49.9), 4);
  EXPECT_DOUBLE_EQ(at(s, 50), 10);
  EXPECT_DOUBLE_EQ(at(s, 99), 10);
  EXPECT_DOUBLE_EQ(at(s, 110), 4);

  s.profile = "drift";
  s.base_c = -20;
  s.to_c = -12;
  s.duration_s = 40;
  EXPECT_DOUBLE_EQ(at(s, 0), -20);
  EXPECT_DOUBLE_EQ(at(s, 10), -18);  // 8 °C over 40 s: 0.2 °C/s
  EXPECT_DOUBLE_EQ(at(s, 40), -12);
  EXPECT_DOUBLE_EQ(at(s, 1000), -12);
}

// The brief's freezer script: steady -20 for 20 s, ramp to -12 over 15 s, hold 20 s, ramp
// back to -20 over 15 s (70 s in all), repeating.
TEST(SimProfileTest, ScriptStepsInSequenceRepeating) {
  SimSource s;
  s.profile = "script";
  s.base_c = -20;
  s.script = {{SimStep::Kind::kSteady, -20, 20},
              {SimStep::Kind::kRamp, -12, 15},
              {SimStep::Kind::kHold, 0, 20},
              {SimStep::Kind::kRamp, -20, 15}};
  EXPECT_DOUBLE_EQ(at(s, 0), -20);
  EXPECT_DOUBLE_EQ(at(s, 19), -20);
  EXPECT_DOUBLE_EQ(at(s, 20), -20);    // the ramp starts where the steady step ended
  EXPECT_DOUBLE_EQ(at(s, 27.5), -16);  // halfway up: -20 + 8 * 7.5/15
  EXPECT_DOUBLE_EQ(at(s, 35), -12);    // hold
  EXPECT_DOUBLE_EQ(at(s, 54), -12);
  EXPECT_DOUBLE_EQ(at(s, 62.5), -16);  // halfway down
  EXPECT_DOUBLE_EQ(at(s, 70), -20);    // starts over
  EXPECT_DOUBLE_EQ(at(s, 97.5), -16);  // 70 + 27.5
}

TEST(SimProfileTest, ScriptWithoutRepeatHoldsTheLastValue) {
  SimSource s;
  s.profile = "script";
  s.base_c = 0;
  s.repeat = false;
  s.script = {{SimStep::Kind::kRamp, 10, 10}, {SimStep::Kind::kRamp, -10, 10}};
  EXPECT_DOUBLE_EQ(at(s, 5), 5);   // the first ramp starts from base_c
  EXPECT_DOUBLE_EQ(at(s, 15), 0);  // halfway from 10 to -10
  EXPECT_DOUBLE_EQ(at(s, 20), -10);
  EXPECT_DOUBLE_EQ(at(s, 500), -10);
}

TEST(SimProfileTest, DoorOpenSpikesEveryNSeconds) {
  SimSource s;
  s.base_c = 4;
  s.spikes = {30, 5, 3};  // every 30 s, +5 °C for 3 s, the first at 30 s
  EXPECT_DOUBLE_EQ(at(s, 0), 4);
  EXPECT_DOUBLE_EQ(at(s, 2), 4);
  EXPECT_DOUBLE_EQ(at(s, 29.9), 4);
  EXPECT_DOUBLE_EQ(at(s, 30), 9);
  EXPECT_DOUBLE_EQ(at(s, 32.9), 9);
  EXPECT_DOUBLE_EQ(at(s, 33), 4);
  EXPECT_DOUBLE_EQ(at(s, 61), 9);
}

TEST(SimProfileTest, FailureWindowsRejectReadings) {
  SimSource s;
  s.base_c = 4;
  s.failures = {{10, 5, 20, true}, {100, 2, 0, false}};
  EXPECT_EQ(sim_value(s, 9.9).quality, Quality::kGood);
  auto crc = sim_value(s, 10);
  EXPECT_EQ(crc.quality, Quality::kCrcFailed);
  EXPECT_EQ(crc.reason, "simulated failure: CRC mismatch");
  EXPECT_EQ(sim_value(s, 14.9).quality, Quality::kCrcFailed);
  EXPECT_EQ(sim_value(s, 15).quality, Quality::kGood);
  EXPECT_EQ(sim_value(s, 31).quality, Quality::kCrcFailed);  // again 20 s later
  EXPECT_EQ(sim_value(s, 36).quality, Quality::kGood);
  auto none = sim_value(s, 101);
  EXPECT_EQ(none.quality, Quality::kNoData);
  EXPECT_EQ(none.reason, "simulated failure: no data");
  EXPECT_EQ(sim_value(s, 102).quality, Quality::kGood);
  EXPECT_EQ(sim_value(s, 210).quality,
            Quality::kCrcFailed);  // the first window repeats; the second does not
  EXPECT_EQ(sim_value(s, 201).quality, Quality::kGood);
}

TEST(SimProfileTest, NoiseIsBoundedSpreadAndAFunctionOfSeedAndSecond) {
  SimSource s;
  s.base_c = -20;
  s.noise_c = 0.5;
  s.seed = 7;
  double lo = 0, hi = 0, sum = 0;
  for (int t = 0; t < 2000; ++t) {
    const double d = at(s, t) + 20;
    EXPECT_LE(std::abs(d), 0.5 + 1e-9);
    lo = std::min(lo, d), hi = std::max(hi, d), sum += d;
    EXPECT_DOUBLE_EQ(at(s, t + 0.25), at(s, t + 0.75));  // one draw per second
  }
  EXPECT_LT(lo, -0.45);
  EXPECT_GT(hi, 0.45);
  EXPECT_NEAR(sum / 2000, 0.0, 0.05);
  SimSource same = s;
  SimSource other = s;
  other.seed = 8;
  int differ = 0;
  for (int t = 0; t < 20; ++t) {
    EXPECT_DOUBLE_EQ(at(s, t), at(same, t));
    differ += at(s, t) != at(other, t);
  }
  EXPECT_GT(differ, 10);
}

// config/demo.json: the freezer's simulated probe leaves the zone's limit within 30 s and
// comes back below it later.
TEST(SimProfileTest, DemoFreezerDriftsOutWithinThirtySecondsAndRecovers) {
  auto r = app::load_config_file(std::string(DEPOT_SOURCE_DIR) + "/config/demo.json");
  ASSERT_TRUE(r.loaded) << (r.problems.empty() ? "" : r.problems[0]);
  const auto& cfg = r.loaded->config;
  const coldchain::SensorConfig* probe = nullptr;
  for (const auto& s : cfg.sensors)  // the air probe drifts; the door probe drops out
    if (s.id == "fz-1-air" && s.driver == coldchain::Driver::kSim) probe = &s;
  ASSERT_NE(probe, nullptr) << "demo.json has no simulated probe fz-1-air in freezer-1";
  const coldchain::Zone* zone = nullptr;
  for (const auto& z : cfg.zones)
    if (z.id == "freezer-1") zone = &z;
  ASSERT_NE(zone, nullptr);
  ASSERT_TRUE(zone->max_c);
  std::optional<std::int64_t> out, back;
  for (std::int64_t t = 0; t <= 300 && !back; t += probe->read_interval_s) {
    auto v = sim_value(probe->sim, static_cast<double>(t));
    if (v.quality != Quality::kGood) continue;
    const double c = v.celsius + probe->offset_c;
    if (!out && c > *zone->max_c) out = t;
    if (out && c <= *zone->max_c - zone->hysteresis_c) back = t;
  }
  ASSERT_TRUE(out);
  EXPECT_LE(*out, 30);
  EXPECT_TRUE(back);
}

}  // namespace
}  // namespace depot::drivers
