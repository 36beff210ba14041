// Alarm outputs on the gateway and their escalation: which output fires when, as a pure
// function of the alarms' state (raised, acknowledged, cleared), the time and the outputs'
// results. Config (docs/coldchain.md, "Alarm outputs and escalation"):
//   outputs:    named outputs, each a Modbus coil (`modbus`) or a command (`exec`);
//   escalation: per alarm type (temperature, probe_failure) a list of levels
//               {after_s | after_min, outputs, repeat_s | repeat_min} and `reset_on`; a zone's
//               own `escalation` replaces the top-level default.
//
// Rules (docs/coldchain.md has a worked timeline):
//  * Level k fires its outputs when the alarm has gone `after` unacknowledged since it was
//    raised; with `repeat` it fires again every `repeat` after that, until escalation stops.
//  * Escalation stops at acknowledgement; at clear too unless `reset_on` is "ack" or "both"
//    (then a cleared alarm still waits for a signature and keeps escalating).
//  * Outputs fired for an alarm are reset (one `reset` action per output) when: "clear" — the
//    alarm clears; "ack" — it is acknowledged; "either" (default) — the first of the two;
//    "both" — once it has cleared and been acknowledged. A reset action says whether no other
//    alarm holds that output at the moment due() hands it out, that due()'s fires counted
//    (`last_holder`): a shared coil goes off only then, a hook is told.
//  * A failed action is retried after backoff_s, doubling up to max_backoff_s, `attempts`
//    times in all (a coil: until it succeeds); a newer action for the same output and alarm
//    (fire after reset or reset after fire) replaces a pending retry. A fire of a coil voids
//    every pending reset of that coil (not yet handed out, or waiting for its retry), whichever
//    alarm it was for. An output's first failure raises its `output_failure` system alarm;
//    its next success clears it.
// All times are monotonic ns. Threading: none; one owner. Pure: no I/O, no clock reads.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/coldchain/excursion.hpp"
#include "core/coldchain/reading.hpp"

namespace depot::coldchain {

// --- Config ---

struct ModbusCoil {
  std::string host;  // Modbus TCP
  std::int64_t port = 502;
  std::int64_t unit = 1;
  std::int64_t coil = 0;
  std::int64_t timeout_ms = 1000;  // connect and response
  bool operator==(const ModbusCoil&) const = default;
};

struct ExecHook {
  std::vector<std::string> command;  // argv; [0] an absolute path; no shell
  std::int64_t timeout_s = 30;       // then the process is killed (SIGKILL) and it failed
  bool operator==(const ExecHook&) const = default;
};

enum class OutputKind { kModbus, kExec };
std::string_view to_string(OutputKind k);

struct OutputSpec {
  std::string name;
  OutputKind kind = OutputKind::kExec;
  ModbusCoil modbus;
  ExecHook exec;
  std::int64_t backoff_s = 5;        // first retry after a failure
  std::int64_t max_backoff_s = 300;  // doubling up to this
  std::int64_t attempts = 5;         // exec: tries in all per action; a coil retries until done
  bool operator==(const OutputSpec&) const = default;
};

enum class ResetOn { kClear, kAck, kEither, kBoth };
std::string_view to_string(ResetOn r);

struct EscalationLevel {
  std::int64_t after_ms = 0;  // since the alarm was raised
  std::vector<std::string> outputs;
  std::int64_t repeat_ms = 0;  // 0: fire once
  bool operator==(const EscalationLevel&) const = default;
};

struct EscalationPolicy {
  std::vector<EscalationLevel> temperature;
  std::vector<EscalationLevel> probe_failure;
  // Humidity and door_open alarms: their own ladder when given, else the temperature one (an
  // alarm must reach someone).
  std::vector<EscalationLevel> humidity;
  std::vector<EscalationLevel> door_open;
  ResetOn reset_on = ResetOn::kEither;
  const std::vector<EscalationLevel>& levels(AlarmType t) const {
    switch (t) {
      case AlarmType::kProbeFailure:
        return probe_failure;
      case AlarmType::kHumidity:
        return humidity.empty() ? temperature : humidity;
      case AlarmType::kDoorOpen:
        return door_open.empty() ? temperature : door_open;
      case AlarmType::kTemperature:
        break;
    }
    return temperature;
  }
  bool operator==(const EscalationPolicy&) const = default;
};

struct AlarmOutputs {
  std::vector<OutputSpec> outputs;
  std::optional<EscalationPolicy> fallback;               // top-level `escalation`
  std::map<std::string, EscalationPolicy> zone_policies;  // zones[].escalation
  const EscalationPolicy* policy_for(std::string_view zone) const;
  const OutputSpec* output(std::string_view name) const;
  bool operator==(const AlarmOutputs&) const = default;
};

// --- Decisions ---

// An alarm as the outputs see it (and hand to a hook).
struct AlarmInfo {
  std::string id;  // the alarm record's id
  std::string zone;
  AlarmType type = AlarmType::kTemperature;
  std::string side;  // "high"/"low"; "" for probe_failure
  std::optional<double> value_c, limit_c;
  std::string probe;
  Instant raised;
};

enum class OutputEvent { kFire, kReset };
std::string_view to_string(OutputEvent e);

struct OutputAction {
  std::string output;
  OutputEvent event = OutputEvent::kFire;
  AlarmInfo alarm;
  int level = 0;            // 1-based escalation level (reset: the highest level that fired)
  int repeat = 0;           // 0: the level's first firing; 1, 2, ... its repeats
  int attempt = 1;          // 1: first try; 2, ...: retries
  bool last_holder = true;  // reset: no other alarm holds this output (as of due())
};

struct OutputResult {
  OutputAction action;
  bool ok = false;
  std::string reason;  // why it failed: "exit status 1", "timed out after 20 s", ...
};

// A change of an output's health, for the `output_failure` system alarm.
struct OutputHealthChange {
  std::string output;
  bool failing = false;  // true: raised; false: cleared
  std::string reason;
  Instant at;
};

struct OutputHealth {
  bool failing = false;
  std::int64_t failures = 0;  // consecutive
  std::string reason;
  std::optional<Instant> since;
};

// The levels an alarm has fired so far (for `alarms`).
struct FiredLevel {
  int level = 0;
  int times = 0;
  Instant first, last;
};

class Escalator {
 public:
  explicit Escalator(AlarmOutputs config);
  Escalator(const Escalator&) = delete;  // tracked alarms point into config_
  Escalator& operator=(const Escalator&) = delete;

  // An alarm was raised (at `alarm.raised`). Its zone's policy applies; no policy: nothing.
  void raise(const AlarmInfo& alarm);
  // The alarm was acknowledged / cleared at `at` (unknown ids are ignored).
  void acknowledge(std::string_view alarm_id, const Instant& at);
  void clear(std::string_view alarm_id, const Instant& at);

  // At start: one reset per coil output (alarm id "agent-start", `at`), so a light left on by
  // the previous run (whose alarms were closed as "restart") goes off; a new alarm sets it
  // again. Hooks get none (a reset SMS for every start would be noise).
  std::vector<OutputAction> start_resets(const Instant& at) const;

  // Everything due at or before `now` (fires, repeats, resets, retries), in time order. The
  // caller runs each action and reports it with `on_result`.
  std::vector<OutputAction> due(const Instant& now);
  // The outcome of an action; schedules its retry (at now + backoff) when it failed. Returns
  // the output's health change, if any.
  std::optional<OutputHealthChange> on_result(const OutputResult& r, const Instant& now);

  std::optional<std::int64_t> next_due_ns() const;
  const std::map<std::string, OutputHealth, std::less<>>& health() const { return health_; }
  std::vector<FiredLevel> fired(std::string_view alarm_id) const;
  // Alarms still tracked (not finished).
  std::size_t active() const { return alarms_.size(); }

 private:
  struct Tracked {
    AlarmInfo info;
    const EscalationPolicy* policy = nullptr;
    std::optional<Instant> acked, cleared;
    bool stopped = false;                    // no more firing
    std::vector<std::int64_t> next_fire_ns;  // per level; -1: no more
    std::vector<int> fired_times;            // per level
    std::vector<FiredLevel> fired;           // per level
    std::set<std::string> held;              // outputs fired and not yet reset
    int top_level = 0;
  };
  struct Retry {
    OutputAction action;
    std::int64_t at_ns = 0;
  };

  void maybe_finish(Tracked& t, const Instant& at, std::vector<OutputAction>& out);
  bool holders_other_than(std::string_view output, std::string_view alarm_id) const;
  void drop_retry(std::string_view output, std::string_view alarm_id);

  AlarmOutputs config_;
  std::map<std::string, Tracked, std::less<>> alarms_;
  std::vector<OutputAction> ready_;  // resets decided by acknowledge/clear, handed out by due()
  std::vector<Retry> retries_;
  std::map<std::string, OutputHealth, std::less<>> health_;
  std::map<std::string, std::vector<FiredLevel>, std::less<>> history_;  // finished alarms
  std::deque<std::string> history_order_;
};

}  // namespace depot::coldchain
