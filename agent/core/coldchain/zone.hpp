// A storage zone (cold room, freezer, pharma fridge) and the rules its temperature is judged
// by: limits, a warning band inside them, how long it may be out before an alarm, an optional
// cumulative budget for regulated goods, hysteresis for clearing and the repeat interval for
// unacknowledged alarms. Also the rule that turns several probes into one zone temperature.
// docs/coldchain.md explains every rule with worked numbers. Pure; plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace depot::coldchain {

// How several probes of one zone become the temperature the zone is judged by.
enum class Combine {
  kWorst,  // (default) the warmest probe against max_c, the coldest against min_c
  kMean,   // the mean of the probes against both limits (large rooms mapped as one volume)
};
std::string_view to_string(Combine c);

// Regulated goods: an alarm also fires once the total time out of range within any rolling
// window of `window_s` reaches `limit_s` (e.g. 60 minutes within 24 hours), even when no
// single excursion lasted `alarm_delay_s`.
struct CumulativeRule {
  std::int64_t window_s = 0;
  std::int64_t limit_s = 0;
  bool operator==(const CumulativeRule&) const = default;
};

struct Zone {
  std::string id;
  std::optional<double> min_c;  // lower limit; none for a zone that may get as cold as it likes
  std::optional<double> max_c;  // upper limit; e.g. frozen: max -18, no min
  double warning_band_c = 0.0;  // warn this many degrees inside a limit (0: warn only outside)
  std::int64_t alarm_delay_s = 900;          // continuously out of range this long -> alarm
  std::optional<CumulativeRule> cumulative;  // additionally: total out-of-range time budget
  double hysteresis_c = 0.5;                 // an alarm clears only this far back inside the limit
  std::int64_t repeat_s = 3600;              // repeat an unacknowledged alarm this often (0: never)
  Combine combine = Combine::kWorst;
  // Relative humidity (%RH, from the zone's `measures: humidity` probes): limits judged by
  // the same rules as the temperature's, with their own band, delay and hysteresis.
  std::optional<double> min_rh, max_rh;
  double rh_warning_band = 0.0;
  std::optional<std::int64_t> rh_alarm_delay_s;  // unset: alarm_delay_s
  double rh_hysteresis = 2.0;
  // Door contacts (`measures: door` probes): a door open this long raises door_open.
  std::int64_t door_open_alarm_s = 300;

  bool operator==(const Zone&) const = default;
};

// What a probe measures. A humidity or door probe is judged by a monitor of its own
// (`humidity_rules`, `door_rules`), never mixed with the zone's temperature.
enum class Measure { kTemperature, kHumidity, kDoor };
std::string_view to_string(Measure m);

// The zone's humidity limits as a Zone the ZoneMonitor judges (values in %RH): limits,
// band, delay (rh_alarm_delay_s, else alarm_delay_s), hysteresis; the repeat and combine rules
// of the zone; no cumulative budget.
Zone humidity_rules(const Zone& z);
// The zone's doors as a Zone the ZoneMonitor judges: a door probe reads 1 when open and 0 when
// closed, against max 0.5, with no band and no hysteresis, so an opening starts an excursion
// (level warning), `door_open_alarm_s` of it raises the alarm, and closing ends it.
Zone door_rules(const Zone& z);

// Which limit a temperature, warning, alarm or excursion concerns.
enum class Side { kHigh, kLow };
std::string_view to_string(Side s);

// One probe's current good temperature, as fed to `combine_probes`.
struct ProbeTemperature {
  std::string probe;
  double celsius = 0.0;
};

// The zone temperature per side: `high_c` is judged against max_c, `low_c` against min_c.
// With kWorst, `high_probe`/`low_probe` name the probe that set the value; with kMean they
// are empty. Both are empty when no probe has a current good temperature.
struct ZoneTemperature {
  std::optional<double> high_c;
  std::string high_probe;
  std::optional<double> low_c;
  std::string low_probe;

  std::optional<double> at(Side s) const { return s == Side::kHigh ? high_c : low_c; }
  const std::string& probe(Side s) const { return s == Side::kHigh ? high_probe : low_probe; }
};

// Combines the current good temperatures of the zone's online probes (offline probes and
// rejected readings must not be passed in). Ties under kWorst go to the first probe listed.
ZoneTemperature combine_probes(Combine rule, const std::vector<ProbeTemperature>& probes);

}  // namespace depot::coldchain
