// An excursion: one episode of a zone's temperature beyond one of its limits, the record a
// quality manager reads to decide whether goods must be held. It keeps when it started and
// ended (both clocks), the peak, the time beyond the limit and the degree-minutes beyond it.
//
// Degree-minutes are interval-weighted ("sample and hold"): the zone temperature found at one
// evaluation stands until the next one, so an interval of Δt minutes at T contributes
// max(0, T - max_c)·Δt (or max(0, min_c - T)·Δt). Example, max_c 8: 9 °C for 10 min then
// 11 °C for 10 min gives 1·10 + 3·10 = 40 °C·min. The same rule decides how long the zone was
// out of range (alarm delay, cumulative budget), so the numbers always agree with each other.
// Pure; plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/coldchain/reading.hpp"
#include "core/coldchain/zone.hpp"

namespace depot::coldchain {

// Why an alarm fired: out of range continuously for `alarm_delay_s`, or the zone's cumulative
// out-of-range budget within its rolling window was used up, or a probe of the zone gave no
// good reading for its `offline_after_s` (dead, failing or stale: the zone cannot be vouched
// for).
enum class AlarmCause { kContinuous, kCumulative, kProbeFailure };
std::string_view to_string(AlarmCause c);

// What an alarm record is about: the zone's temperature beyond a limit (an excursion proper),
// or a probe that stopped giving good readings (`probe_failure`: no temperature, no side; the
// record's `peak_probe` names the probe, `start` is when it went offline, `end` when it came
// back). `humidity`: the zone's relative humidity beyond `min_rh`/`max_rh` (the record's
// `_c` fields then hold %RH). `door_open`: a door contact of the zone open (every opening
// is a record, alarmed once it stays open `door_open_alarm_s`; `peak_probe` names the door).
enum class AlarmType { kTemperature, kProbeFailure, kHumidity, kDoorOpen };
std::string_view to_string(AlarmType t);

struct Acknowledgement {
  std::string who;
  std::string comment;
  Instant at;
  std::string root_cause;  // root cause / corrective action, when given
};

// Degrees beyond `limit_c` on `side`: positive outside the limit, zero or negative inside.
double degrees_beyond(Side side, double limit_c, double celsius);

struct Excursion {
  std::int64_t seq = 0;  // 1, 2, ... within one ZoneMonitor
  AlarmType type = AlarmType::kTemperature;
  std::string zone;
  Side side = Side::kHigh;
  double limit_c = 0.0;
  Instant start;                     // the first evaluation that found the zone beyond the limit
  std::optional<Instant> end;        // unset while the excursion is open
  double peak_c = 0.0;               // warmest (high side) or coldest (low side) zone temperature
  std::string peak_probe;            // the probe that read the peak (empty under Combine::kMean)
  double degree_minutes = 0.0;       // °C·min beyond the limit, interval-weighted
  std::int64_t out_of_range_ns = 0;  // time beyond the limit (not counting unknown gaps)
  bool alarmed = false;
  std::optional<Instant> alarm_at;
  std::optional<AlarmCause> cause;
  std::optional<Acknowledgement> acknowledgement;

  // Monotonic time from start to end, or to `now_mono_ns` while open.
  std::int64_t duration_ns(std::int64_t now_mono_ns) const;
  // Takes `celsius` into the peak when it is more extreme on this side.
  void observe(double celsius, std::string_view probe);
  // Adds `dt_ns` at the held temperature `celsius`: degree-minutes and out-of-range time.
  void integrate(double celsius, std::int64_t dt_ns);
};

}  // namespace depot::coldchain
