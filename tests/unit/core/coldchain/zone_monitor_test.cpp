// Hand-worked timelines for the zone state machine. Times are minutes since the monitor's
// first input on the monotonic clock; wall time is kWall0 plus the same minutes unless a test
// steps it. Unless a test says otherwise the zone is a pharma fridge: 2-8 °C, warning band
// 1 °C (warn above 7 or below 3), alarm after 30 min out of range, hysteresis 0.5 °C, repeat
// every 60 min.
#include "core/coldchain/zone_monitor.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include <cmath>

namespace depot::coldchain {
namespace {
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr std::int64_t kWall0 = 1'780'000'000'000;  // 2026-05-28T20:26:40Z
constexpr std::int64_t kMsPerMinute = 60'000;

std::int64_t mono(double minutes) { return std::llround(minutes * 60e9); }

Instant at(double minutes, std::int64_t wall_shift_min = 0) {
  return {mono(minutes), kWall0 + std::llround(minutes * 60000.0) + wall_shift_min * kMsPerMinute,
          false};
}

Zone pharma() {
  Zone z;
  z.id = "pharma-1";
  z.min_c = 2.0;
  z.max_c = 8.0;
  z.warning_band_c = 1.0;
  z.alarm_delay_s = 1800;
  z.hysteresis_c = 0.5;
  z.repeat_s = 3600;
  return z;
}

std::vector<EventKind> kinds(const std::vector<Event>& events) {
  std::vector<EventKind> out;
  for (const auto& e : events) out.push_back(e.kind);
  return out;
}

// A monitor plus helpers that feed it good readings and ticks at given minutes.
struct Fridge {
  explicit Fridge(Zone zone, std::vector<ProbeSpec> probes = {{"a", 3 * 86400}})
      : monitor(std::move(zone), std::move(probes)) {}

  std::vector<Event> read(const std::string& probe, double c, double minutes,
                          std::int64_t wall_shift_min = 0) {
    return monitor.on_reading(
        make_reading(probe, SensorValue::good(c), at(minutes, wall_shift_min)));
  }
  std::vector<Event> read(double c, double minutes, std::int64_t wall_shift_min = 0) {
    return read("a", c, minutes, wall_shift_min);
  }
  std::vector<Event> tick(double minutes, std::int64_t wall_shift_min = 0) {
    return monitor.on_tick(at(minutes, wall_shift_min));
  }

  ZoneMonitor monitor;
};

TEST(ZoneMonitor, LifecycleWarningAlarmClearedWithWorkedExcursionNumbers) {
  Fridge f(pharma(), {{"a", 600}});
  EXPECT_THAT(kinds(f.read(5.0, 0)), IsEmpty());
  auto w = f.read(7.5, 5);  // 7.5 > 8 - 1: inside the warning band
  ASSERT_THAT(kinds(w), ElementsAre(EventKind::kWarning));
  EXPECT_EQ(w[0].side, Side::kHigh);
  EXPECT_EQ(f.monitor.level(), Level::kWarning);

  EXPECT_THAT(kinds(f.read(8.5, 10)), IsEmpty());  // beyond 8: the excursion starts at 10
  ASSERT_TRUE(f.monitor.open_excursion(Side::kHigh));
  EXPECT_EQ(f.monitor.open_excursion(Side::kHigh)->start.mono_ns, mono(10));
  EXPECT_THAT(kinds(f.read(9.0, 15)), IsEmpty());
  for (double t : {20, 25, 30, 35}) EXPECT_THAT(kinds(f.read(10.0, t)), IsEmpty()) << t;

  // 30 minutes beyond the limit at 40 (10 + 30): alarm.
  auto a = f.read(10.0, 40);
  ASSERT_THAT(kinds(a), ElementsAre(EventKind::kAlarm));
  EXPECT_EQ(a[0].at.mono_ns, mono(40));
  EXPECT_EQ(a[0].cause, AlarmCause::kContinuous);
  EXPECT_EQ(a[0].celsius, 10.0);
  EXPECT_EQ(a[0].probe, "a");
  ASSERT_TRUE(a[0].excursion);
  EXPECT_TRUE(a[0].excursion->alarmed);
  // Degree-minutes so far: 0.5·5 (8.5 for 10-15) + 1·5 (9 for 15-20) + 2·20 (10 for 20-40).
  EXPECT_NEAR(a[0].excursion->degree_minutes, 47.5, 1e-9);

  EXPECT_THAT(kinds(f.read(7.8, 45)), IsEmpty());  // inside, but not by the 0.5 hysteresis
  auto c = f.read(7.5, 50);                        // 8 - 0.5: cleared
  ASSERT_THAT(kinds(c), ElementsAre(EventKind::kCleared));
  EXPECT_EQ(f.monitor.level(), Level::kWarning);  // 7.5 is still in the warning band
  ASSERT_TRUE(c[0].excursion);
  const Excursion& e = *c[0].excursion;
  EXPECT_EQ(e.start.mono_ns, mono(10));
  ASSERT_TRUE(e.end);
  EXPECT_EQ(e.end->mono_ns, mono(50));
  EXPECT_EQ(e.duration_ns(0), mono(40));
  EXPECT_EQ(e.peak_c, 10.0);
  EXPECT_EQ(e.peak_probe, "a");
  // 47.5 + 2·5 (10 for 40-45) + 0 (7.8 is inside) = 57.5 °C·min; beyond 8 for 10-45: 35 min.
  EXPECT_NEAR(e.degree_minutes, 57.5, 1e-9);
  EXPECT_EQ(e.out_of_range_ns, mono(35));
  EXPECT_EQ(e.limit_c, 8.0);

  EXPECT_THAT(kinds(f.read(6.4, 55)), ElementsAre(EventKind::kWarningCleared));  // <= 6.5
  EXPECT_EQ(f.monitor.level(), Level::kNormal);
  auto closed = f.monitor.take_closed_excursions();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].seq, 1);
  EXPECT_THAT(f.monitor.take_closed_excursions(), IsEmpty());
}

TEST(ZoneMonitor, AnInRangeReadingResetsTheAlarmDelay) {
  Fridge f(pharma());
  EXPECT_THAT(kinds(f.read(9.0, 0)), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(f.read(7.9, 20)), IsEmpty());  // back within 8: excursion 1 ends
  EXPECT_THAT(kinds(f.read(9.0, 30)), IsEmpty());  // excursion 2 starts, the delay restarts
  // Without the reset, 20 + 10 minutes out would alarm at 40.
  EXPECT_THAT(kinds(f.tick(45)), IsEmpty());
  EXPECT_THAT(kinds(f.read(9.0, 55)), IsEmpty());
  EXPECT_THAT(kinds(f.tick(59.9)), IsEmpty());
  EXPECT_THAT(kinds(f.tick(60)), ElementsAre(EventKind::kAlarm));

  auto closed = f.monitor.closed_excursions();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_FALSE(closed[0].alarmed);
  EXPECT_EQ(closed[0].duration_ns(0), mono(20));
  EXPECT_NEAR(closed[0].degree_minutes, 20.0, 1e-9);  // 1 °C beyond for 20 min
  ASSERT_TRUE(f.monitor.open_excursion(Side::kHigh));
  EXPECT_EQ(f.monitor.open_excursion(Side::kHigh)->seq, 2);
}

TEST(ZoneMonitor, AnAlarmDueBetweenTwoReadingsIsStampedAtItsDueTime) {
  Fridge f(pharma());
  f.read(9.0, 0);
  auto events = f.read(9.0, 45);  // no ticks in between (a logger file, or a stalled loop)
  ASSERT_THAT(kinds(events), ElementsAre(EventKind::kAlarm));
  EXPECT_EQ(events[0].at.mono_ns, mono(30));
  EXPECT_EQ(events[0].at.wall_ms, kWall0 + 30 * kMsPerMinute);  // estimated back from 45
}

// The wall clock jumps by two hours (NTP's first sync, an operator) ten minutes into an
// excursion. Wall time says 2 h 20 min have passed at minute 20; the alarm must still come at
// minute 30 on the monotonic clock, no earlier; and a backward jump must not delay it.
TEST(ZoneMonitor, AWallClockStepNeitherFiresNorHidesAnAlarm) {
  for (std::int64_t step_min : {120, -120}) {
    SCOPED_TRACE(step_min);
    Fridge f(pharma());
    EXPECT_THAT(kinds(f.read(9.0, 0)), ElementsAre(EventKind::kWarning));
    EXPECT_THAT(kinds(f.read(9.0, 10, step_min)), IsEmpty());
    EXPECT_THAT(kinds(f.read(9.0, 20, step_min)), IsEmpty());
    EXPECT_THAT(kinds(f.tick(29, step_min)), IsEmpty());
    auto a = f.tick(30, step_min);
    ASSERT_THAT(kinds(a), ElementsAre(EventKind::kAlarm));
    EXPECT_EQ(a[0].at.mono_ns, mono(30));
    EXPECT_EQ(a[0].at.wall_ms, kWall0 + (30 + step_min) * kMsPerMinute);  // as the clock says
    const auto& e = *a[0].excursion;
    EXPECT_EQ(e.start.wall_ms, kWall0);
    EXPECT_EQ(e.duration_ns(a[0].at.mono_ns), mono(30));
    EXPECT_NEAR(e.degree_minutes, 30.0, 1e-9);
  }
}

// Regulated goods: 20 minutes out of range within any 24 hours, however it is split.
TEST(ZoneMonitor, CumulativeBudgetAlarmsAcrossShortExcursions) {
  Zone z = pharma();
  z.cumulative = CumulativeRule{86400, 1200};
  z.repeat_s = 0;
  Fridge f(z);
  EXPECT_THAT(kinds(f.read(9.0, 0)), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(f.read(7.0, 8)), IsEmpty());  // 8 min out, no alarm (delay is 30)
  EXPECT_THAT(kinds(f.read(9.0, 60)), IsEmpty());
  EXPECT_THAT(kinds(f.read(7.0, 68)), IsEmpty());  // 16 min out in total
  EXPECT_DOUBLE_EQ(f.monitor.cumulative_out_s(Side::kHigh), 960.0);
  EXPECT_THAT(kinds(f.read(9.0, 120)), IsEmpty());
  EXPECT_THAT(kinds(f.tick(123.9)), IsEmpty());  // 19.9 min
  auto a = f.tick(124);                          // 8 + 8 + 4 = 20 min: budget used up
  ASSERT_THAT(kinds(a), ElementsAre(EventKind::kAlarm));
  EXPECT_EQ(a[0].cause, AlarmCause::kCumulative);
  EXPECT_DOUBLE_EQ(f.monitor.cumulative_out_s(Side::kHigh), 1200.0);

  EXPECT_THAT(kinds(f.read(7.0, 130)), ElementsAre(EventKind::kCleared));
  EXPECT_THAT(kinds(f.read(6.0, 140)), ElementsAre(EventKind::kWarningCleared));
  // The budget is still spent (26 min in the last 24 h): the next excursion alarms at once.
  auto again = f.read(9.0, 200);
  ASSERT_THAT(kinds(again), ElementsAre(EventKind::kWarning, EventKind::kAlarm));
  EXPECT_EQ(again[1].cause, AlarmCause::kCumulative);
  EXPECT_THAT(kinds(f.read(6.0, 205)), ElementsAre(EventKind::kCleared));
  EXPECT_EQ(f.monitor.level(), Level::kNormal);  // 6 is clear of the band too
  // A day later the old time has left the window: a new excursion only warns.
  EXPECT_THAT(kinds(f.read(9.0, 205 + 1440 + 10)), ElementsAre(EventKind::kWarning));
  EXPECT_DOUBLE_EQ(f.monitor.cumulative_out_s(Side::kHigh), 0.0);
}

TEST(ZoneMonitor, HysteresisKeepsTheAlarmUntilClearlyBackInside) {
  Zone z = pharma();
  z.alarm_delay_s = 0;  // alarm at the first reading beyond the limit
  Fridge f(z);
  EXPECT_THAT(kinds(f.read(8.5, 0)), ElementsAre(EventKind::kWarning, EventKind::kAlarm));
  EXPECT_THAT(kinds(f.read(7.9, 1)), IsEmpty());
  EXPECT_THAT(kinds(f.read(7.6, 2)), IsEmpty());
  EXPECT_THAT(kinds(f.read(8.2, 3)), IsEmpty());  // the same excursion, the same alarm
  EXPECT_THAT(kinds(f.read(7.5, 4)), ElementsAre(EventKind::kCleared));
  ASSERT_EQ(f.monitor.closed_excursions().size(), 1u);
  const auto& e = f.monitor.closed_excursions()[0];
  EXPECT_EQ(e.peak_c, 8.5);
  // 0.5·1 (8.5) + 0 + 0 + 0.2·1 (8.2) = 0.7 °C·min over the 4 minutes of the excursion.
  EXPECT_NEAR(e.degree_minutes, 0.7, 1e-9);
  EXPECT_EQ(e.duration_ns(0), mono(4));
  EXPECT_THAT(kinds(f.read(8.1, 5)), ElementsAre(EventKind::kAlarm));  // a new excursion
  EXPECT_EQ(f.monitor.open_excursion(Side::kHigh)->seq, 2);
}

TEST(ZoneMonitor, WarningBandOnBothSides) {
  Fridge f(pharma());
  EXPECT_THAT(kinds(f.read(7.0, 0)), IsEmpty());  // the band's inner edge is not in it
  auto w = f.read(7.01, 1);
  ASSERT_THAT(kinds(w), ElementsAre(EventKind::kWarning));
  EXPECT_EQ(w[0].side, Side::kHigh);
  EXPECT_THAT(kinds(f.read(6.6, 2)), IsEmpty());  // needs 7 - 0.5 = 6.5 to clear
  EXPECT_THAT(kinds(f.read(6.5, 3)), ElementsAre(EventKind::kWarningCleared));
  auto low = f.read(2.9, 4);
  ASSERT_THAT(kinds(low), ElementsAre(EventKind::kWarning));
  EXPECT_EQ(low[0].side, Side::kLow);
  EXPECT_EQ(f.monitor.level(Side::kLow), Level::kWarning);
  EXPECT_EQ(f.monitor.level(Side::kHigh), Level::kNormal);
  EXPECT_THAT(kinds(f.read(3.4, 5)), IsEmpty());
  EXPECT_THAT(kinds(f.read(3.5, 6)), ElementsAre(EventKind::kWarningCleared));
  EXPECT_THAT(f.monitor.closed_excursions(), IsEmpty());  // never beyond a limit
}

TEST(ZoneMonitor, FrozenZoneWithOnlyAnUpperLimit) {
  Zone z;
  z.id = "freezer-1";
  z.max_c = -18.0;
  z.alarm_delay_s = 600;
  Fridge f(z);
  EXPECT_THAT(kinds(f.read(-40.0, 0)), IsEmpty());  // no lower limit: never too cold
  EXPECT_THAT(kinds(f.read(-17.0, 1)), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(f.tick(11)), ElementsAre(EventKind::kAlarm));
  EXPECT_THAT(kinds(f.read(-18.5, 12)), ElementsAre(EventKind::kCleared));
  EXPECT_EQ(f.monitor.level(), Level::kNormal);  // band 0: -18.5 is clear of it
  EXPECT_NEAR(f.monitor.closed_excursions()[0].degree_minutes, 11.0, 1e-9);
}

TEST(ZoneMonitor, ProbeOfflineAndMissingDataNeverEndsAnAlarm) {
  Zone z = pharma();
  z.alarm_delay_s = 0;
  Fridge f(z, {{"a", 120}, {"b", 120}});
  EXPECT_THAT(kinds(f.read("a", 5.0, 0)), IsEmpty());
  EXPECT_THAT(kinds(f.read("b", 5.5, 0)), IsEmpty());
  EXPECT_THAT(kinds(f.read("a", 5.0, 1)), IsEmpty());
  auto off = f.read("a", 5.0, 2);  // b's last good reading was 2 minutes ago
  ASSERT_THAT(kinds(off), ElementsAre(EventKind::kProbeOffline, EventKind::kAlarm));
  EXPECT_EQ(off[0].probe, "b");
  EXPECT_EQ(off[0].at.mono_ns, mono(2));
  EXPECT_EQ(off[1].cause, AlarmCause::kProbeFailure);  // a dead probe is an alarm
  EXPECT_EQ(f.monitor.probe("b")->state, ProbeState::kOffline);
  EXPECT_EQ(f.monitor.level(Side::kHigh), Level::kNormal);  // the temperature is fine...
  EXPECT_EQ(f.monitor.level(), Level::kAlarm);              // ...the zone is not
  EXPECT_FALSE(f.monitor.no_data());                        // a still reports

  // A CRC failure from the offline probe changes nothing but its counters.
  auto crc = make_reading("b", SensorValue::rejected(Quality::kCrcFailed, "CRC mismatch"), at(2.5));
  EXPECT_THAT(kinds(f.monitor.on_reading(crc)), IsEmpty());
  EXPECT_EQ(f.monitor.probe("b")->state, ProbeState::kOffline);

  // a alone is evidence enough to start an alarm...
  EXPECT_THAT(kinds(f.read("a", 10.0, 3)), ElementsAre(EventKind::kWarning, EventKind::kAlarm));
  // ...but not to end it: b's corner is unknown.
  EXPECT_THAT(kinds(f.read("a", 5.0, 4)), IsEmpty());
  EXPECT_EQ(f.monitor.level(), Level::kAlarm);
  // The reading that brings b back is not used; b's next one is, and ends the alarm.
  auto back = f.read("b", 5.0, 4.5);
  ASSERT_THAT(kinds(back), ElementsAre(EventKind::kProbeOnline, EventKind::kCleared));
  EXPECT_FALSE(back[1].side);  // the probe failure cleared, not the temperature alarm
  EXPECT_EQ(back[0].probe, "b");
  EXPECT_EQ(f.monitor.probe("b")->state, ProbeState::kOnline);
  EXPECT_FALSE(f.monitor.probe("b")->celsius);
  EXPECT_EQ(f.monitor.level(), Level::kAlarm);
  EXPECT_THAT(kinds(f.read("b", 5.0, 4.8)), ElementsAre(EventKind::kCleared));

  // An implausible reading neither starts nor clears anything.
  auto hot = check_reading(make_reading("a", SensorValue::good(200.0), at(5)), ProbeCheck{});
  ASSERT_EQ(hot.quality, Quality::kImplausible);
  EXPECT_THAT(kinds(f.monitor.on_reading(hot)), IsEmpty());
  EXPECT_EQ(f.monitor.level(Side::kHigh), Level::kNormal);

  const auto* b = f.monitor.probe("b");
  EXPECT_EQ(b->counts.good, 3);
  EXPECT_EQ(b->counts.crc_failed, 1);
  EXPECT_EQ(b->counts.while_offline, 2);  // the CRC failure and the reading that came back
  EXPECT_EQ(b->last_rejection, "CRC mismatch");
  EXPECT_EQ(f.monitor.probe("a")->counts.implausible, 1);
  EXPECT_EQ(f.monitor.probe("a")->counts.good, 5);
}

// A zone whose only probe goes quiet has no temperature: its out-of-range clock pauses and
// resumes when the probe's values count again (the gap counts neither way).
TEST(ZoneMonitor, UnknownTemperaturePausesTheDelay) {
  Fridge f(pharma(), {{"a", 1200}});
  EXPECT_THAT(kinds(f.read(9.0, 0)), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(f.tick(20)),  // 20 min out so far; the dead probe is an alarm of its own
              ElementsAre(EventKind::kProbeOffline, EventKind::kAlarm));
  EXPECT_TRUE(f.monitor.no_data());
  EXPECT_THAT(kinds(f.tick(45)), IsEmpty());  // would be 45 min out if the gap counted
  EXPECT_EQ(f.monitor.level(Side::kHigh), Level::kWarning);
  EXPECT_EQ(f.monitor.level(), Level::kAlarm);  // no data is never normal
  EXPECT_THAT(kinds(f.read(9.0, 50)),
              ElementsAre(EventKind::kProbeOnline, EventKind::kCleared));  // not used
  EXPECT_THAT(kinds(f.read(9.0, 51)), IsEmpty());  // used: the clock resumes at 51
  EXPECT_THAT(kinds(f.tick(60.9)), IsEmpty());
  auto a = f.tick(61);  // 20 + 10 = 30 min out
  ASSERT_THAT(kinds(a), ElementsAre(EventKind::kAlarm));
  EXPECT_NEAR(a[0].excursion->degree_minutes, 30.0, 1e-9);
  EXPECT_EQ(a[0].excursion->out_of_range_ns, mono(30));
  EXPECT_EQ(a[0].excursion->duration_ns(mono(61)), mono(61));
}

// The trial: a freezer's only probe unplugged left the zone "normal" with no alarm. A probe
// with no good reading for its offline_after_s raises probe_failure; with every probe gone the
// zone has no data and is in alarm. It repeats, is acknowledged and clears like any alarm.
TEST(ZoneMonitor, TheOnlyProbeGoingSilentIsAProbeFailureAlarmAndTheZoneHasNoData) {
  Zone z;
  z.id = "freezer-1";
  z.max_c = -18.0;
  z.alarm_delay_s = 900;
  z.repeat_s = 3600;
  Fridge f(z, {{"a", 300}});
  EXPECT_THAT(kinds(f.read(-20.0, 0)), IsEmpty());
  EXPECT_EQ(f.monitor.level(), Level::kNormal);
  EXPECT_THAT(kinds(f.tick(4.9)), IsEmpty());
  auto dead = f.tick(6);  // due at 5 (300 s after the last good reading), stamped then
  ASSERT_THAT(kinds(dead), ElementsAre(EventKind::kProbeOffline, EventKind::kAlarm));
  const Event& alarm = dead[1];
  EXPECT_EQ(alarm.at.mono_ns, mono(5));
  EXPECT_EQ(alarm.cause, AlarmCause::kProbeFailure);
  EXPECT_EQ(alarm.probe, "a");
  EXPECT_FALSE(alarm.side);
  EXPECT_FALSE(alarm.celsius);
  ASSERT_TRUE(alarm.excursion);
  EXPECT_EQ(alarm.excursion->type, AlarmType::kProbeFailure);
  EXPECT_EQ(alarm.excursion->peak_probe, "a");
  EXPECT_EQ(alarm.excursion->start.mono_ns, mono(5));
  EXPECT_TRUE(alarm.excursion->alarmed);
  EXPECT_TRUE(f.monitor.no_data());
  EXPECT_EQ(f.monitor.level(), Level::kAlarm);
  ASSERT_TRUE(f.monitor.probe("a")->failure);

  auto r1 = f.tick(65);  // 60 min after the alarm
  ASSERT_THAT(kinds(r1), ElementsAre(EventKind::kAlarmRepeat));
  EXPECT_EQ(r1[0].probe, "a");
  EXPECT_EQ(r1[0].repeat, 1);
  auto ack = f.monitor.acknowledge("quality-lead", "probe cable cut by a forklift", at(70));
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  ASSERT_THAT(kinds(*ack), ElementsAre(EventKind::kAcknowledged));
  EXPECT_EQ((*ack)[0].probe, "a");
  EXPECT_THAT(kinds(f.tick(130)), IsEmpty());  // acknowledged: no more repeats
  EXPECT_EQ(f.monitor.level(), Level::kAlarm);  // acknowledged is not cleared

  auto back = f.read(-20.0, 140);
  ASSERT_THAT(kinds(back), ElementsAre(EventKind::kProbeOnline, EventKind::kCleared));
  EXPECT_EQ(back[1].probe, "a");
  EXPECT_FALSE(f.monitor.no_data());
  EXPECT_EQ(f.monitor.level(), Level::kNormal);
  auto closed = f.monitor.take_closed_excursions();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].type, AlarmType::kProbeFailure);
  ASSERT_TRUE(closed[0].end);
  EXPECT_EQ(closed[0].duration_ns(0), mono(135));  // 5 -> 140
  ASSERT_TRUE(closed[0].acknowledgement);
  EXPECT_EQ(closed[0].acknowledgement->who, "quality-lead");
}

// A probe that never reports at all (wired to the wrong bus, never plugged in) fails the same
// way, offline_after_s after the monitor started.
TEST(ZoneMonitor, AProbeNeverHeardFromIsAProbeFailure) {
  Fridge f(pharma(), {{"a", 600}, {"b", 120}});
  EXPECT_THAT(kinds(f.read("a", 5.0, 0)), IsEmpty());
  auto e = f.read("a", 5.0, 2.5);
  ASSERT_THAT(kinds(e), ElementsAre(EventKind::kProbeOffline, EventKind::kAlarm));
  EXPECT_EQ(e[1].probe, "b");
  EXPECT_EQ(e[1].at.mono_ns, mono(2));
  EXPECT_FALSE(f.monitor.no_data());
}

// The alarm delay counts continuous time beyond the limit: the known temperature back within
// it restarts the delay even while another probe of the zone is unheard of (that probe keeps
// the excursion record open: its corner cannot be vouched for).
TEST(ZoneMonitor, TheDelayRestartsWithinTheLimitEvenWithAProbeMissing) {
  Fridge f(pharma(), {{"a", 3 * 86400}, {"b", 3 * 86400}});  // b never reports
  EXPECT_THAT(kinds(f.read("a", 9.0, 0)), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(f.read("a", 7.9, 20)), IsEmpty());  // within 8: the delay restarts
  EXPECT_THAT(kinds(f.read("a", 9.0, 30)), IsEmpty());
  EXPECT_THAT(kinds(f.tick(45)), IsEmpty());  // 20 + 15 min beyond, but not continuously
  EXPECT_THAT(kinds(f.tick(59.9)), IsEmpty());
  auto a = f.tick(60);  // 30 min continuously beyond 8 since minute 30
  ASSERT_THAT(kinds(a), ElementsAre(EventKind::kAlarm));
  ASSERT_TRUE(a[0].excursion);
  EXPECT_EQ(a[0].excursion->start.mono_ns, mono(0));  // one record: b never vouched for 20-30
  EXPECT_EQ(a[0].excursion->out_of_range_ns, mono(50));
}

TEST(ZoneMonitor, UnacknowledgedAlarmRepeatsUntilAcknowledged) {
  Zone z = pharma();
  z.alarm_delay_s = 0;
  Fridge f(z);
  EXPECT_THAT(kinds(f.read(9.0, 0)), ElementsAre(EventKind::kWarning, EventKind::kAlarm));
  EXPECT_THAT(kinds(f.tick(59)), IsEmpty());
  auto r1 = f.tick(60);
  ASSERT_THAT(kinds(r1), ElementsAre(EventKind::kAlarmRepeat));
  EXPECT_EQ(r1[0].repeat, 1);
  auto r2 = f.tick(120);
  ASSERT_THAT(kinds(r2), ElementsAre(EventKind::kAlarmRepeat));
  EXPECT_EQ(r2[0].repeat, 2);

  auto ack = f.monitor.acknowledge("maria", "door was open; closed it", at(130));
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  ASSERT_THAT(kinds(*ack), ElementsAre(EventKind::kAcknowledged));
  EXPECT_EQ((*ack)[0].who, "maria");
  EXPECT_EQ((*ack)[0].comment, "door was open; closed it");
  EXPECT_EQ((*ack)[0].at.mono_ns, mono(130));
  EXPECT_THAT(kinds(f.tick(180)), IsEmpty());
  EXPECT_THAT(kinds(f.tick(240)), IsEmpty());
  EXPECT_EQ(f.monitor.level(), Level::kAlarm);  // acknowledged is not cleared

  auto twice = f.monitor.acknowledge("maria", "", at(241));
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().message, "zone pharma-1 has no unacknowledged alarm");
  auto nobody = f.monitor.acknowledge("", "x", at(241));
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.error().message, "zone pharma-1: an acknowledgement must name who");

  EXPECT_THAT(kinds(f.read(7.0, 250)), ElementsAre(EventKind::kCleared));
  const auto& done = f.monitor.closed_excursions().back();
  ASSERT_TRUE(done.acknowledgement);
  EXPECT_EQ(done.acknowledgement->who, "maria");
  EXPECT_EQ(done.acknowledgement->at.mono_ns, mono(130));

  // A new alarm is unacknowledged again and repeats again.
  EXPECT_THAT(kinds(f.read(6.0, 260)), ElementsAre(EventKind::kWarningCleared));
  EXPECT_THAT(kinds(f.read(9.0, 270)), ElementsAre(EventKind::kWarning, EventKind::kAlarm));
  auto r = f.tick(330);
  ASSERT_THAT(kinds(r), ElementsAre(EventKind::kAlarmRepeat));
  EXPECT_EQ(r[0].repeat, 1);
}

TEST(ZoneMonitor, RepeatsDueDuringAGapAreEachStampedAtTheirTime) {
  Zone z = pharma();
  z.alarm_delay_s = 0;
  Fridge f(z);
  f.read(9.0, 0);
  auto events = f.read(9.0, 150);
  ASSERT_THAT(kinds(events), ElementsAre(EventKind::kAlarmRepeat, EventKind::kAlarmRepeat));
  EXPECT_EQ(events[0].at.mono_ns, mono(60));
  EXPECT_EQ(events[1].at.mono_ns, mono(120));
  EXPECT_EQ(events[1].repeat, 2);
}

// Past 64 periods (a logger file with a gap of months) the repeats due in the gap are one
// reminder at the last due time, counting the ones it stands for.
TEST(ZoneMonitor, AGapOfManyRepeatPeriodsIsOneReminderThatCountsThem) {
  Zone z = pharma();
  z.alarm_delay_s = 0;
  Fridge f(z, {{"a", 30 * 86400}});  // the probe is not offline within the gap
  f.read(9.0, 0);
  const double ten_days = 10 * 24 * 60;
  auto events = f.read(9.0, ten_days + 30);
  ASSERT_THAT(kinds(events), ElementsAre(EventKind::kAlarmRepeat));
  EXPECT_EQ(events[0].at.mono_ns, mono(ten_days));  // the 240th hourly repeat
  EXPECT_EQ(events[0].repeat, 240);
  auto next = f.tick(ten_days + 60);
  ASSERT_THAT(kinds(next), ElementsAre(EventKind::kAlarmRepeat));
  EXPECT_EQ(next[0].repeat, 241);
}

TEST(ZoneMonitor, RepeatZeroNeverRepeats) {
  Zone z = pharma();
  z.alarm_delay_s = 0;
  z.repeat_s = 0;
  Fridge f(z);
  f.read(9.0, 0);
  EXPECT_THAT(kinds(f.tick(600)), IsEmpty());
}

// The warmest probe decides against max_c: here a (9 °C) until b reads 10 °C.
TEST(ZoneMonitor, SeveralProbesTheWorstGoodReadingDecides) {
  Fridge f(pharma(), {{"a", 3600}, {"b", 3600}});
  EXPECT_THAT(kinds(f.read("a", 9.0, 0)), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(f.read("b", 5.0, 0)), IsEmpty());
  EXPECT_EQ(f.monitor.temperature().high_c, 9.0);
  EXPECT_EQ(f.monitor.temperature().high_probe, "a");
  EXPECT_EQ(f.monitor.temperature().low_c, 5.0);
  EXPECT_EQ(f.monitor.temperature().low_probe, "b");
  f.read("b", 10.0, 10);
  f.read("a", 7.0, 10);  // a is fine now, b is not: still out
  EXPECT_EQ(f.monitor.temperature().high_probe, "b");
  EXPECT_THAT(kinds(f.read("a", 7.0, 20)), IsEmpty());
  EXPECT_TRUE(f.monitor.open_excursion(Side::kHigh));
  f.read("b", 7.0, 20);  // both inside: the excursion ends
  ASSERT_EQ(f.monitor.closed_excursions().size(), 1u);
  const auto& e = f.monitor.closed_excursions()[0];
  // 1 °C beyond for 0-10 (a's 9) + 2 °C beyond for 10-20 (b's 10) = 30 °C·min.
  EXPECT_NEAR(e.degree_minutes, 30.0, 1e-9);
  EXPECT_EQ(e.peak_c, 10.0);
  EXPECT_EQ(e.peak_probe, "b");
  EXPECT_EQ(e.duration_ns(0), mono(20));
}

TEST(ZoneMonitor, BothLimitsCanBeBrokenAtOnceByDifferentProbes) {
  Fridge f(pharma(), {{"door", 3600}, {"back", 3600}});
  auto hot = f.read("door", 9.0, 0);
  auto cold = f.read("back", 1.0, 0);
  ASSERT_THAT(kinds(hot), ElementsAre(EventKind::kWarning));
  ASSERT_THAT(kinds(cold), ElementsAre(EventKind::kWarning));
  EXPECT_EQ(cold[0].side, Side::kLow);
  EXPECT_EQ(cold[0].probe, "back");
  EXPECT_TRUE(f.monitor.open_excursion(Side::kHigh));
  EXPECT_TRUE(f.monitor.open_excursion(Side::kLow));
  EXPECT_NE(f.monitor.open_excursion(Side::kHigh)->seq, f.monitor.open_excursion(Side::kLow)->seq);
}

TEST(ZoneMonitor, MeanCombinationAveragesTheOnlineProbes) {
  Zone z = pharma();
  z.combine = Combine::kMean;
  Fridge f(z, {{"a", 3600}, {"b", 3600}});
  EXPECT_THAT(kinds(f.read("b", 6.0, 0)), IsEmpty());
  // a alone at 9 would be beyond 8; the mean 7.5 is only in the warning band.
  EXPECT_THAT(kinds(f.read("a", 9.0, 0)), ElementsAre(EventKind::kWarning));
  EXPECT_EQ(f.monitor.temperature().high_c, 7.5);
  EXPECT_EQ(f.monitor.temperature().low_c, 7.5);
  EXPECT_TRUE(f.monitor.temperature().high_probe.empty());
  EXPECT_FALSE(f.monitor.open_excursion(Side::kHigh));
}

TEST(CombineProbes, WorstAndMean) {
  std::vector<ProbeTemperature> probes{{"a", 4.0}, {"b", 9.0}, {"c", 1.0}, {"d", 9.0}};
  auto worst = combine_probes(Combine::kWorst, probes);
  EXPECT_EQ(worst.high_c, 9.0);
  EXPECT_EQ(worst.high_probe, "b");  // ties go to the first listed
  EXPECT_EQ(worst.low_c, 1.0);
  EXPECT_EQ(worst.low_probe, "c");
  auto mean = combine_probes(Combine::kMean, probes);
  EXPECT_DOUBLE_EQ(*mean.high_c, 5.75);
  EXPECT_DOUBLE_EQ(*mean.low_c, 5.75);
  EXPECT_FALSE(combine_probes(Combine::kWorst, {}).high_c);
}

TEST(ZoneMonitor, ForeignAndOutOfOrderReadingsAreCountedAndIgnored) {
  Fridge f(pharma());
  EXPECT_THAT(kinds(f.read("elsewhere", 30.0, 0)), IsEmpty());
  EXPECT_EQ(f.monitor.foreign_readings(), 1);
  f.read(5.0, 5);
  EXPECT_THAT(kinds(f.read(12.0, 4)), IsEmpty());  // older than the monitor's time
  EXPECT_EQ(f.monitor.probe("a")->counts.out_of_order, 1);
  EXPECT_EQ(f.monitor.probe("a")->celsius, 5.0);
  EXPECT_EQ(f.monitor.level(), Level::kNormal);
}

TEST(ZoneMonitor, KeepsTheZoneMkt) {
  Fridge f(pharma(), {{"a", 3600}});
  f.read(5.0, 0);
  f.read(5.0, 30);
  f.tick(60);
  ASSERT_TRUE(f.monitor.mkt().last_24h_c(mono(60)));
  EXPECT_NEAR(*f.monitor.mkt().last_24h_c(mono(60)), 5.0, 1e-9);
  EXPECT_DOUBLE_EQ(f.monitor.mkt().day().covered_s(mono(60)), 3600.0);
}


// --- Humidity and doors (docs/coldchain.md, "Humidity and doors") -------------------------

// A produce cold room: 2-8 °C, and 85-95 %RH, band 2 %RH, humidity alarm after 20 min,
// hysteresis 3 %RH; door alarm after 5 min.
Zone produce_room() {
  Zone z = pharma();
  z.id = "produce-1";
  z.min_rh = 85.0;
  z.max_rh = 95.0;
  z.rh_warning_band = 2.0;
  z.rh_alarm_delay_s = 1200;
  z.rh_hysteresis = 3.0;
  z.door_open_alarm_s = 300;
  return z;
}

TEST(HumidityRules, AreTheZonesHumidityLimitsUnderTheSameRules) {
  const Zone h = humidity_rules(produce_room());
  EXPECT_EQ(h.id, "produce-1");
  EXPECT_EQ(h.min_c, 85.0);
  EXPECT_EQ(h.max_c, 95.0);
  EXPECT_EQ(h.warning_band_c, 2.0);
  EXPECT_EQ(h.alarm_delay_s, 1200);
  EXPECT_EQ(h.hysteresis_c, 3.0);
  EXPECT_EQ(h.repeat_s, 3600);
  EXPECT_FALSE(h.cumulative);
  Zone no_delay = produce_room();
  no_delay.rh_alarm_delay_s.reset();
  EXPECT_EQ(humidity_rules(no_delay).alarm_delay_s, 1800) << "falls back to alarm_delay_s";
}

// Worked timeline (minutes): 90 %RH at 0; 94 at 5 (band: warning); 96 at 10 (beyond 95: the
// excursion starts); 94.5 at 20 (back within before the 20 min delay: the delay restarts and
// the excursion, never alarmed, ends); 97 at 25; 20 minutes later, at 45, the alarm. 93 at 50
// is within the limit but not by the 3 %RH hysteresis: still alarm; 91.5 at 55 clears it.
TEST(ZoneMonitorHumidity, DelayRestartsWithinTheLimitAndHysteresisGovernsClearingOnly) {
  ZoneMonitor m(humidity_rules(produce_room()), {{"rh-1", 3 * 86400}}, AlarmType::kHumidity);
  auto rh = [&](double v, double minute) {
    return m.on_reading(make_reading("rh-1", SensorValue::good(v), at(minute)));
  };
  EXPECT_THAT(kinds(rh(90, 0)), IsEmpty());
  EXPECT_THAT(kinds(rh(94, 5)), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(rh(96, 10)), IsEmpty());
  ASSERT_TRUE(m.open_excursion(Side::kHigh));
  EXPECT_EQ(m.open_excursion(Side::kHigh)->type, AlarmType::kHumidity);
  EXPECT_THAT(kinds(rh(94.5, 20)), IsEmpty());
  EXPECT_FALSE(m.open_excursion(Side::kHigh)) << "back within 95 before the delay: it ends";
  auto closed = m.take_closed_excursions();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].type, AlarmType::kHumidity);
  EXPECT_FALSE(closed[0].alarmed);
  EXPECT_NEAR(closed[0].peak_c, 96.0, 1e-9);
  EXPECT_THAT(kinds(rh(97, 25)), IsEmpty());
  EXPECT_THAT(kinds(m.on_tick(at(44.9))), IsEmpty());
  auto a = m.on_tick(at(46));
  ASSERT_THAT(kinds(a), ElementsAre(EventKind::kAlarm));
  EXPECT_EQ(a[0].at.mono_ns, mono(45)) << "exactly 20 minutes after 25";
  ASSERT_TRUE(a[0].excursion);
  EXPECT_EQ(a[0].excursion->type, AlarmType::kHumidity);
  EXPECT_EQ(a[0].excursion->limit_c, 95.0);
  EXPECT_THAT(kinds(rh(93, 50)), IsEmpty()) << "93 > 95 - 3: not cleared";
  EXPECT_EQ(m.level(), Level::kAlarm);
  auto c = rh(91.5, 55);
  ASSERT_THAT(kinds(c), ElementsAre(EventKind::kCleared));
  EXPECT_EQ(m.level(), Level::kWarning) << "91.5 is inside the band plus hysteresis (95-2-3=90)";
}

TEST(ZoneMonitorDoors, EveryOpeningIsRecordedAndOneLeftOpenRaisesDoorOpenUntilClosed) {
  // Two doors; a door probe reads 1 open, 0 closed (check_reading with open_value).
  ZoneMonitor m(door_rules(produce_room()), {{"door-a", 7200}, {"door-b", 7200}},
                AlarmType::kDoorOpen);
  const ProbeCheck contact{0, -55, 125, 0.0};  // Zigbee2MQTT: contact false (0) = open
  auto door = [&](const std::string& id, bool contact_closed, double minute) {
    return m.on_reading(check_reading(
        make_reading(id, SensorValue::good(contact_closed ? 1.0 : 0.0), at(minute)), contact));
  };
  EXPECT_THAT(kinds(door("door-a", true, 0)), IsEmpty());
  EXPECT_THAT(kinds(door("door-b", true, 0)), IsEmpty());
  // A 2-minute opening of door a: recorded, no alarm.
  auto o = door("door-a", false, 1);
  ASSERT_THAT(kinds(o), ElementsAre(EventKind::kWarning));
  EXPECT_EQ(o[0].probe, "door-a");
  EXPECT_THAT(kinds(door("door-a", true, 3)), ElementsAre(EventKind::kWarningCleared));
  auto closed = m.take_closed_excursions();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].type, AlarmType::kDoorOpen);
  EXPECT_EQ(closed[0].peak_probe, "door-a");
  EXPECT_FALSE(closed[0].alarmed);
  EXPECT_EQ(closed[0].duration_ns(0), mono(2));
  // Door b opened at 10 and left open: door_open at 15 (5 min), repeats hourly, until closed.
  EXPECT_THAT(kinds(door("door-b", false, 10)), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(m.on_tick(at(14.9))), IsEmpty());
  auto a = m.on_tick(at(15.5));
  ASSERT_THAT(kinds(a), ElementsAre(EventKind::kAlarm));
  EXPECT_EQ(a[0].at.mono_ns, mono(15));
  EXPECT_EQ(a[0].probe, "door-b");
  EXPECT_EQ(a[0].cause, AlarmCause::kContinuous);
  EXPECT_EQ(m.level(), Level::kAlarm);
  auto c = door("door-b", true, 22);
  ASSERT_THAT(kinds(c), ElementsAre(EventKind::kCleared));
  ASSERT_TRUE(c[0].excursion);
  EXPECT_TRUE(c[0].excursion->alarmed);
  EXPECT_EQ(c[0].excursion->duration_ns(0), mono(12));
  EXPECT_EQ(m.level(), Level::kNormal);
}

TEST(ZoneMonitorDoors, ADoorSensorThatFallsSilentIsAProbeFailureNotAClosedDoor) {
  ZoneMonitor m(door_rules(produce_room()), {{"door-a", 3600}}, AlarmType::kDoorOpen);
  EXPECT_THAT(kinds(m.on_reading(make_reading("door-a", SensorValue::good(1), at(0)))),
              ElementsAre(EventKind::kWarning));  // open (already mapped: 1 = open)
  auto f = m.on_tick(at(61));
  // The door alarm fell due at 5; the probe failure at 60.
  EXPECT_THAT(kinds(f), ElementsAre(EventKind::kAlarm, EventKind::kProbeOffline, EventKind::kAlarm));
  EXPECT_EQ(f[2].cause, AlarmCause::kProbeFailure);
  EXPECT_EQ(m.level(), Level::kAlarm);
}

// --- After a restart (carry_over) ----------------------------------------------------------

// The previous run's high-side excursion had been beyond 8 °C for 20 of the 30 minutes: the
// new run, finding 9 °C at its first reading, alarms 10 minutes later, not 30.
TEST(ZoneMonitorCarryOver, TheTimeBeyondTheLimitBeforeARestartCountsTowardTheDelay) {
  Fridge f(pharma(), {{"a", 600}});
  f.monitor.carry_over(Side::kHigh, mono(20), false);
  EXPECT_THAT(kinds(f.read(9.0, 0)), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(f.read(9.0, 9.9)), IsEmpty());
  auto a = f.read(9.0, 10);
  ASSERT_THAT(kinds(a), ElementsAre(EventKind::kAlarm));
  EXPECT_EQ(a[0].at.mono_ns, mono(10));
}

TEST(ZoneMonitorCarryOver, AnExcursionThatHadAlarmedAlarmsAgainAtOnce) {
  Fridge f(pharma(), {{"a", 600}});
  f.monitor.carry_over(Side::kHigh, mono(45), true);
  auto a = f.read(9.0, 0);
  ASSERT_THAT(kinds(a), ElementsAre(EventKind::kWarning, EventKind::kAlarm));
  EXPECT_EQ(a[1].cause, AlarmCause::kContinuous);
}

TEST(ZoneMonitorCarryOver, IsDroppedWhenTheZoneIsBackWithinTheLimitFirst) {
  Fridge f(pharma());
  f.monitor.carry_over(Side::kHigh, mono(45), true);
  EXPECT_THAT(kinds(f.read(5.0, 0)), IsEmpty());
  EXPECT_THAT(kinds(f.read(9.0, 1)), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(f.read(9.0, 30)), IsEmpty()) << "a new excursion: the full 30 min";
  EXPECT_THAT(kinds(f.read(9.0, 31)), ElementsAre(EventKind::kAlarm));
  // And it is never taken after the first input.
  Fridge g(pharma());
  EXPECT_THAT(kinds(g.read(5.0, 0)), IsEmpty());
  g.monitor.carry_over(Side::kHigh, mono(45), true);
  EXPECT_THAT(kinds(g.read(9.0, 1)), ElementsAre(EventKind::kWarning));
}

// A freezer (max -18 °C, alarm after 20 s) with two probes; the previous run's excursion had
// alarmed. After the restart the cold probe (-25, listed first) reports at 0 s: the zone
// looks within the limit, but the warm corner has not been heard from, so the carry-over
// stays. The warm probe's -10 at 1 s is the old excursion still going: alarm at once (1 s),
// not 20 s later at 21 s.
Zone two_probe_freezer() {
  Zone z;
  z.id = "fz";
  z.max_c = -18.0;
  z.alarm_delay_s = 20;
  return z;
}
double sec(double s) { return s / 60.0; }

TEST(ZoneMonitorCarryOver, AColdProbeReportingFirstDoesNotDropItInAZoneOfSeveralProbes) {
  Fridge f(two_probe_freezer(), {{"fz-cold", 600}, {"fz-warm", 600}});
  f.monitor.carry_over(Side::kHigh, 25 * kNsPerSecond, true);
  EXPECT_THAT(kinds(f.read("fz-cold", -25.0, sec(0))), IsEmpty());
  auto a = f.read("fz-warm", -10.0, sec(1));
  ASSERT_THAT(kinds(a), ElementsAre(EventKind::kWarning, EventKind::kAlarm));
  EXPECT_EQ(a[1].at.mono_ns, mono(sec(1)));
  EXPECT_EQ(a[1].cause, AlarmCause::kContinuous);
  EXPECT_EQ(a[1].probe, "fz-warm");
  ASSERT_TRUE(f.monitor.open_excursion(Side::kHigh));
  EXPECT_EQ(f.monitor.open_excursion(Side::kHigh)->start.mono_ns, mono(sec(1)));
}

// Not yet alarmed (12 of the 20 s): the warm probe's reading continues the count, 8 s more.
TEST(ZoneMonitorCarryOver, ItsTimeStillCountsWhenTheWarmProbeReportsSecond) {
  Fridge f(two_probe_freezer(), {{"fz-cold", 600}, {"fz-warm", 600}});
  f.monitor.carry_over(Side::kHigh, 12 * kNsPerSecond, false);
  EXPECT_THAT(kinds(f.read("fz-cold", -25.0, sec(0))), IsEmpty());
  EXPECT_THAT(kinds(f.read("fz-warm", -10.0, sec(1))), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(f.tick(sec(8.9))), IsEmpty());
  auto a = f.tick(sec(9));  // 1 + (20 - 12)
  ASSERT_THAT(kinds(a), ElementsAre(EventKind::kAlarm));
  EXPECT_EQ(a[0].at.mono_ns, mono(sec(9)));
}

// The warm probe is dead: once it is offline (600 s unheard) it no longer keeps the old
// excursion alive, and a defrost later waits the full delay (it alarmed at once for ever).
TEST(ZoneMonitorCarryOver, ADeadProbeDoesNotKeepItForEver) {
  Fridge f(two_probe_freezer(), {{"fz-cold", 600}, {"fz-warm", 600}});
  f.monitor.carry_over(Side::kHigh, 25 * kNsPerSecond, true);
  auto limit_alarms = [](const std::vector<Event>& es) {
    return std::count_if(es.begin(), es.end(), [](const Event& e) {
      return e.kind == EventKind::kAlarm && e.cause == AlarmCause::kContinuous;
    });
  };
  for (int s = 0; s <= 600; s += 100) EXPECT_EQ(limit_alarms(f.read("fz-cold", -25.0, sec(s))), 0);
  f.tick(sec(601));  // fz-warm offline: a probe failure, not a limit alarm
  EXPECT_EQ(limit_alarms(f.read("fz-cold", -25.0, sec(602))), 0);  // drops the carry-over
  EXPECT_EQ(limit_alarms(f.read("fz-cold", -10.0, sec(700))), 0);  // a defrost: warning only
  EXPECT_EQ(limit_alarms(f.tick(sec(719.9))), 0);
  EXPECT_EQ(limit_alarms(f.tick(sec(720))), 1);
}

// Both probes within the limit: the zone is fully observed and the old excursion is over; a
// later excursion waits the full delay.
TEST(ZoneMonitorCarryOver, IsDroppedOnceEveryProbeReportsWithinTheLimit) {
  Fridge f(two_probe_freezer(), {{"fz-cold", 600}, {"fz-warm", 600}});
  f.monitor.carry_over(Side::kHigh, 25 * kNsPerSecond, true);
  EXPECT_THAT(kinds(f.read("fz-cold", -25.0, sec(0))), IsEmpty());
  EXPECT_THAT(kinds(f.read("fz-warm", -19.0, sec(1))), IsEmpty());
  EXPECT_THAT(kinds(f.read("fz-warm", -10.0, sec(2))), ElementsAre(EventKind::kWarning));
  EXPECT_THAT(kinds(f.tick(sec(21.9))), IsEmpty()) << "a new excursion: the full 20 s";
  EXPECT_THAT(kinds(f.tick(sec(22))), ElementsAre(EventKind::kAlarm));
}

}  // namespace
}  // namespace depot::coldchain
