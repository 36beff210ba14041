// Surge detection for one SKU: picks over short windows against the rate the demand estimate
// expects. The detector is a small state machine fed pick events (and the passing of time)
// with their monotonic time, which orders them and measures the windows, and their wall time,
// which only stamps the events it reports.
//
//  * Windows: the units picked in the last `short_window_minutes` (15) and
//    `long_window_minutes` (60), at minute resolution (the current minute counts as a whole
//    one), as a rate per hour.
//  * Entering: some window holds at least `min_units` (20) in at least `min_events` (5)
//    distinct picks, and its rate is at least `enter_ratio` (4) x the expected rate -> event
//    `demand_surge`. With no expected rate (0 units/day) any window reaching `min_units` in
//    `min_events` picks enters. One bulk pick (a pallet of 120 for a 10/day SKU) is one event:
//    never a surge on its own.
//  * Leaving (hysteresis): the surge ends once every window is calm - below `min_units` or
//    below `exit_ratio` (2) x the expected rate - and has stayed calm for `exit_hold_minutes`
//    (30) -> event `demand_surge_ended`.
//  * Surge rate: while in surge, the highest window rate seen, at most `max_ratio` (50) x the
//    expected rate (how far one window may be extrapolated), decaying toward the expected
//    rate with a half-life of `half_life_minutes` (240): rate(t) = expected + excess *
//    2^(-t / half_life); a higher window rate replaces it. The lead-time demand projects the
//    same decay into the future (campaign.hpp), so a surge raises the reorder point by
//    excess * half_life / ln 2 units at most, and less as it fades.
// The expected rate comes from the caller (daily demand / 24, or an hourly profile later).
// Pure; one detector per SKU, owned by the agent's loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace depot::replenish {

struct SurgeSettings {
  std::int64_t short_window_minutes = 15;
  std::int64_t long_window_minutes = 60;
  double enter_ratio = 4;
  std::int64_t min_units = 20;
  std::int64_t min_events = 5;  // distinct picks a window needs besides min_units
  double max_ratio = 50;        // the surge rate is at most this x the expected rate
  double exit_ratio = 2;
  std::int64_t exit_hold_minutes = 30;
  std::int64_t half_life_minutes = 240;
};

struct SurgeEvent {
  enum class Kind { kStarted, kEnded };
  Kind kind = Kind::kStarted;
  std::int64_t wall_ms = 0;         // when it was decided
  std::int64_t window_minutes = 0;  // the window that entered (started) or the longest (ended)
  std::int64_t window_units = 0;
  double rate_per_hour = 0;  // that window's rate
  double expected_per_hour = 0;

  // "demand_surge" or "demand_surge_ended".
  std::string_view name() const;
};

// What a surge adds to the demand forecast from now on (zero when there is none).
struct SurgeProjection {
  double excess_per_day = 0;  // surge rate minus expected rate, now
  double half_life_days = 0;  // how fast the excess fades
};

class SurgeDetector {
 public:
  explicit SurgeDetector(const SurgeSettings& settings);

  // A pick of `quantity` (> 0) units. `expected_per_hour` is the SKU's expected pick rate.
  // REQUIRES: mono_ms >= 0.
  // Times earlier than one already seen count as the latest seen (monotonic time never
  // goes back; a caller replaying the ledger after a restart feeds wall times instead).
  std::optional<SurgeEvent> pick(std::int64_t mono_ms, std::int64_t wall_ms, std::int64_t quantity,
                                 double expected_per_hour);
  // Time passing without picks, so a surge can end. Call it periodically (e.g. each minute).
  std::optional<SurgeEvent> tick(std::int64_t mono_ms, std::int64_t wall_ms,
                                 double expected_per_hour);

  bool in_surge() const { return in_surge_; }
  // Units picked in the last `minutes` (<= the longer window) up to the latest time seen.
  std::int64_t units_in_last(std::int64_t minutes) const;
  // Picks (events) in the same window.
  std::int64_t events_in_last(std::int64_t minutes) const;
  // The surge rate per hour decayed to `mono_ms` (the expected rate when not in surge).
  double rate_per_hour(std::int64_t mono_ms, double expected_per_hour) const;
  // For the lead-time demand: the excess over the expected rate at `mono_ms`, per day.
  SurgeProjection projection(std::int64_t mono_ms, double expected_per_hour) const;

 private:
  std::optional<SurgeEvent> update(std::int64_t mono_ms, std::int64_t wall_ms,
                                   std::int64_t quantity, double expected_per_hour);
  void advance_to(std::int64_t minute);

  SurgeSettings settings_;
  std::vector<std::int64_t> minutes_;  // ring of units per minute, one slot per minute of the
                                       // longer window
  std::vector<std::int64_t> events_;   // the same ring, counting picks
  std::int64_t latest_ms_ = 0;
  std::int64_t latest_minute_ = -1;  // -1: nothing seen yet
  bool in_surge_ = false;
  double peak_per_hour_ = 0;  // the surge rate at peak_ms_
  std::int64_t peak_ms_ = 0;
  std::optional<std::int64_t> calm_since_ms_;
};

}  // namespace depot::replenish
