// The excursion state machine of one zone. Fed checked probe readings and clock ticks (both
// clocks passed in), it decides when the zone enters its warning band, when an excursion
// becomes an alarm, when an alarm repeats or clears, and when a probe goes offline, and
// returns each decision as an `Event`. Excursion records are handed out separately.
//
// Rules (docs/coldchain.md has worked timelines):
//  * Zone temperature: the probes' latest good readings combined per `Zone::combine`; only
//    online probes count. No online probe = unknown temperature = nothing changes.
//  * Each limit (max_c: Side::kHigh, min_c: Side::kLow) has its own lifecycle
//    normal -> warning -> alarm -> cleared. `warning` when the zone is within
//    `warning_band_c` of the limit or beyond it; `alarm` when beyond it continuously for
//    `alarm_delay_s`, or when the cumulative budget is used up; `cleared` when back inside
//    the limit by `hysteresis_c`; `warning_cleared` when back inside the band by it too.
//    An excursion that never alarmed ends (and the delay restarts) as soon as the zone is
//    back within the limit.
//  * Missing data never ends anything: while a probe of the zone is offline or not yet heard
//    from, no excursion ends, no warning or alarm clears (a dead probe cannot vouch for its
//    corner). Starting needs only the online probes' evidence.
//  * A probe offline (no good reading for its `offline_after_s`: dead, failing every read, or
//    stale) raises a `probe_failure` alarm on the zone: an `alarm` event with cause
//    probe_failure, no side, the probe named, and its own alarm record (an Excursion of type
//    kProbeFailure). It repeats and is acknowledged like a temperature alarm and clears
//    (`cleared`) when the probe's good readings return. A zone whose probes are all offline
//    has no data (`no_data()`): its level is alarm, never normal.
//  * Readings from an offline probe never start or end anything: rejected ones are only
//    counted, and the good reading that brings it back (`probe_online`) is not used either;
//    the probe's values count again from its next good reading.
//  * All durations run on monotonic time; wall time is only carried into the records, so a
//    wall-clock step can neither fire nor hide an alarm.
//  * Between two calls the last zone temperature stands ("sample and hold"); anything that
//    falls due in between (an alarm delay running out, a probe's offline timeout, a repeat)
//    is processed at its exact monotonic due time, in order. Its wall time is estimated back
//    from the later call's wall time.
// Threading: none; one owner (the agent's event loop). Pure: no I/O, no clock reads.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/coldchain/excursion.hpp"
#include "core/coldchain/mkt.hpp"
#include "core/coldchain/reading.hpp"
#include "core/coldchain/zone.hpp"
#include "core/error.hpp"

namespace depot::coldchain {

enum class Level { kNormal, kWarning, kAlarm };
std::string_view to_string(Level l);

enum class EventKind {
  kWarning,
  kWarningCleared,
  kAlarm,
  kAlarmRepeat,
  kCleared,
  kProbeOffline,
  kProbeOnline,
  kAcknowledged,
};
std::string_view to_string(EventKind k);

struct Event {
  EventKind kind = EventKind::kWarning;
  std::string zone;
  Instant at;
  std::optional<Side> side;       // set for every kind except probe_offline/probe_online
  std::optional<double> celsius;  // zone temperature on `side` at the event, if known
  std::string probe;              // probe events: the probe; others: the probe that set `celsius`
  std::optional<Excursion> excursion;  // alarm, alarm_repeat, cleared, acknowledged: snapshot
  std::optional<AlarmCause> cause;     // alarm
  int repeat = 0;                      // alarm_repeat: 1 for the first repeat, 2, ...
  std::string who, comment;            // acknowledged
};

// A probe assigned to the zone and how long it may go without a good reading.
struct ProbeSpec {
  std::string id;
  std::int64_t offline_after_s = 60;
};

enum class ProbeState {
  kAwaiting,  // no good reading yet since the monitor started
  kOnline,
  kOffline,  // no good reading for `offline_after_s`
};
std::string_view to_string(ProbeState s);

// Readings per quality, for the operator: a probe that keeps failing its CRC is a wiring
// problem worth seeing before it goes offline.
struct ProbeCounts {
  std::int64_t good = 0;
  std::int64_t implausible = 0;
  std::int64_t crc_failed = 0;
  std::int64_t no_data = 0;
  std::int64_t out_of_order = 0;   // older than the monitor's time: dropped
  std::int64_t while_offline = 0;  // any quality, received while the probe was offline
};

// An open probe_failure alarm: its record and its repeat state.
struct ProbeFailure {
  Excursion record;
  bool acknowledged = false;
  std::int64_t last_alert_ns = 0;  // the alarm or its latest repeat
  int repeats = 0;
};

struct ProbeStatus {
  ProbeSpec spec;
  ProbeState state = ProbeState::kAwaiting;
  std::optional<double> celsius;  // latest good (calibrated) value in use; unset while offline
                                  // and after the reading that brought the probe back
  std::int64_t last_good_mono_ns = 0;
  std::string last_rejection;  // reason of the latest non-good reading
  ProbeCounts counts;
  std::optional<ProbeFailure> failure;  // set while the probe is offline
};

class ZoneMonitor {
 public:
  // `type`: what the limit records are (kTemperature; kHumidity for a `humidity_rules` zone,
  // kDoorOpen for a `door_rules` zone). Probe failures are kProbeFailure whatever the type.
  ZoneMonitor(Zone zone, std::vector<ProbeSpec> probes, AlarmType type = AlarmType::kTemperature);
  AlarmType type() const { return type_; }

  // Feeds one reading (REQUIRES: already through `check_reading`). Readings of probes not in
  // this zone are ignored (counted in `foreign_readings`); readings older than the monitor's
  // monotonic time are dropped and counted as out_of_order.
  std::vector<Event> on_reading(const Reading& reading);

  // Advances time without a reading (the shell ticks about once a second): alarm delays,
  // offline timeouts and repeats fall due here. A tick older than the monitor's time is
  // ignored.
  std::vector<Event> on_tick(const Instant& now);

  // The end of the refusal when nothing is open or ended unacknowledged: the console answers
  // it 404 (app/actions.cpp), like an unknown zone (kNotAZone).
  static constexpr std::string_view kNothingToAck = " has no unacknowledged alarm";
  static constexpr std::string_view kNotAZone = " is not a configured zone";

  // Acknowledges every unacknowledged alarm of the zone (temperature and probe_failure): stops
  // its repeats and records who and why on its record. Does not advance time. `raised_by_wall_ms`:
  // only alarms raised at or before it (an acknowledgement asked for before an alarm existed,
  // e.g. queued while no agent ran, is not one of it). Errors: `who` empty, or no
  // unacknowledged alarm to acknowledge.
  Expected<std::vector<Event>> acknowledge(std::string_view who, std::string_view comment,
                                           const Instant& now, std::string_view root_cause = {},
                                           std::optional<std::int64_t> raised_by_wall_ms = {});

  // Before the first input, after a restart: the previous run had an excursion open on `side`
  // that had been beyond the limit for `out_of_range_ns` (and had `alarmed`). The first
  // evaluation of that side that finds the zone beyond the limit starts an excursion that
  // continues the count: it alarms after the rest of the delay, or at once when the old one
  // had alarmed. It is dropped only when the zone is back within the limit with every probe
  // heard from or given up on (offline): in a zone of several probes, the first probe to
  // report being within the limit does not vouch for the others; a dead one keeps it only
  // until it is offline. So an agent that
  // restarts (crash, watchdog, power) cannot keep postponing an alarm.
  void carry_over(Side side, std::int64_t out_of_range_ns, bool alarmed);

  const Zone& zone() const { return zone_; }
  Level level() const;  // the most severe of the two sides and the probes' failures
  // Every probe of the zone is offline: the zone has no data (and is in alarm).
  bool no_data() const;
  Level level(Side side) const { return state(side).level; }
  const ZoneTemperature& temperature() const { return temperature_; }
  // The open excursion on `side`, if any.
  const std::optional<Excursion>& open_excursion(Side side) const { return state(side).excursion; }
  // Excursions that ended since the last call, oldest first. The shell drains these after
  // every call and stores them.
  std::vector<Excursion> take_closed_excursions() { return std::exchange(closed_, {}); }
  const std::vector<Excursion>& closed_excursions() const { return closed_; }
  // Out-of-range seconds on `side` within the cumulative window ending at the monitor's time.
  double cumulative_out_s(Side side) const;
  const std::vector<ProbeStatus>& probes() const { return probes_; }
  const ProbeStatus* probe(std::string_view id) const;
  std::int64_t foreign_readings() const { return foreign_readings_; }
  // MKT of the zone's high-side temperature (its warmest probe under kWorst: the worst case
  // for degradation) over the last 24 hours and 30 days.
  const ZoneMkt& mkt() const { return mkt_; }

 private:
  struct SideState {
    Side side = Side::kHigh;
    std::optional<double> limit;
    Level level = Level::kNormal;
    std::optional<Excursion> excursion;
    std::int64_t run_ns = 0;  // continuous out-of-range time of the current excursion
    std::deque<std::pair<std::int64_t, std::int64_t>> out_spans;  // [from, to), monotonic
    bool acknowledged = false;
    std::int64_t last_alert_ns = 0;  // alarm or its latest repeat
    int repeats = 0;
    std::optional<std::pair<std::int64_t, bool>> carried;  // carry_over: out ns, alarmed
  };

  SideState& state(Side s) { return s == Side::kHigh ? high_ : low_; }
  const SideState& state(Side s) const { return s == Side::kHigh ? high_ : low_; }

  std::vector<Event> run_until(const Instant& now, const Reading* reading);
  std::int64_t next_due_ns(std::int64_t until_ns) const;
  void integrate(std::int64_t to_ns);
  void take_reading(const Reading& reading, const Instant& at, std::vector<Event>& out);
  void mark_offline(const Instant& at, std::vector<Event>& out);
  void recompute_temperature();
  void evaluate(const Instant& at, std::vector<Event>& out);
  void evaluate_side(SideState& s, const Instant& at, std::vector<Event>& out);
  void raise_alarm(SideState& s, AlarmCause cause, const Instant& at, std::vector<Event>& out);
  void repeat_alarms(const Instant& at, std::vector<Event>& out);
  void close_excursion(SideState& s, const Instant& at);
  std::int64_t cumulative_ns(const SideState& s, std::int64_t now_ns) const;
  std::optional<AlarmCause> alarm_due(const SideState& s, std::int64_t now_ns) const;
  void raise_probe_failure(ProbeStatus& p, const Instant& at, std::vector<Event>& out);
  void clear_probe_failure(ProbeStatus& p, const Instant& at, std::vector<Event>& out);
  Event probe_event(EventKind kind, const ProbeStatus& p, const Instant& at) const;
  bool fully_observed() const;
  Event side_event(EventKind kind, const SideState& s, const Instant& at) const;

  Zone zone_;
  AlarmType type_ = AlarmType::kTemperature;
  std::vector<ProbeStatus> probes_;
  SideState high_, low_;
  ZoneTemperature temperature_;
  bool started_ = false;
  std::int64_t start_ns_ = 0;
  std::int64_t now_ns_ = 0;  // the monitor's monotonic time: the latest instant processed
  std::int64_t next_seq_ = 1;
  std::vector<Excursion> closed_;
  std::int64_t foreign_readings_ = 0;
  ZoneMkt mkt_;
};

}  // namespace depot::coldchain
