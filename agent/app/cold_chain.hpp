// The cold chain in the running agent: probe readings in, zone decisions and records out.
// Readings (raw, from drivers/sensor/*) get their probe's `check_reading`, are buffered and
// committed about once a second (or every `flush_max_readings`) in ONE transaction with one
// `telemetry` outbox record; each zone's ZoneMonitor decides events, which are stored with
// their `alarms` outbox records in one transaction — an alarm together with the quality holds
// it places (ledger `hold` movements), their outbox records and audit entries. `tick` (about
// once a second) advances the monitors, applies acknowledgement requests written by the CLI
// or the cloud (table ack_requests), commits readings, per-minute summaries and each zone's
// state (for `depot-agent zones`), and runs retention in small steps.
// docs/coldchain.md, "In the running agent", explains the records and the restart rule.
// Threading: lives on the daemon's loop thread, like the Database it uses. Never throws.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/coldchain/config.hpp"
#include "core/coldchain/escalation.hpp"
#include "core/coldchain/reading.hpp"
#include "core/coldchain/zone_monitor.hpp"
#include "core/error.hpp"
#include "store/coldchain_store.hpp"
#include "store/database.hpp"
#include "store/ledger.hpp"

namespace depot::app {

struct ColdChainSettings {
  std::vector<coldchain::Zone> zones;
  std::vector<coldchain::SensorConfig> sensors;
  coldchain::Retention retention;
  std::size_t flush_max_readings = 4096;  // commit early when this many are buffered
  // Buffered readings are committed this often (durability.readings_commit_s); a zone event
  // commits them at once with it.
  std::int64_t readings_commit_s = 1;
  bool telemetry = true;                  // readings on the `telemetry` outbox stream
  // A telemetry record's bytes, at most (mqtt.batch_bytes bounds it: every record fits one
  // message the broker accepts).
  std::size_t telemetry_record_bytes = store::kMaxTelemetryRecordBytes;
  std::int64_t prune_batch_rows = 5000;   // rows per retention transaction
  coldchain::AlarmOutputs outputs;        // alarm outputs and escalation (none: no outputs)
};

struct ColdChainHooks {
  std::function<std::string()> new_id;        // unique ids (app/clock new_id)
  std::function<void()> before_stock_change;  // e.g. commit the scans gathered so far
  // A cloud alarm.ack (ack request source "cloud:{command id}") was applied or refused: the
  // outcome is on the `audit` stream already; this may also answer the cloud at once.
  std::function<void(const std::string& command_id, bool applied, const nlohmann::json& result,
                     const std::string& error)>
      cloud_ack_outcome;
  // Alarm outputs (drivers/output/alarm_output_runner.hpp): `run_output` starts an action off
  // the loop and returns at once; `output_results` hands back the finished ones (drained
  // every tick, recorded in output_log, failures retried and raised as output_failure).
  std::function<void(coldchain::OutputAction)> run_output;
  std::function<std::vector<coldchain::OutputResult>()> output_results;
};

struct ColdChainCounters {
  std::int64_t readings = 0;         // accepted for a configured probe
  std::int64_t raw_not_stored = 0;   // of those, not stored raw (retention.raw_every_s)
  std::int64_t unknown_probe = 0;    // readings of probes not in the config (dropped)
  std::int64_t flushes = 0;
  std::int64_t events = 0;
  std::int64_t holds = 0;
  std::int64_t store_errors = 0;     // failed commits (logged; retried at the next tick)
  std::int64_t pruned_readings = 0, pruned_minutes = 0;
};

// The config-change entry of the audit trail: when `config_sha256` (the config file's SHA-256,
// hex; store::sha256_hex) differs from the one recorded last time (meta `config_sha256`), appends `config.change` (who "agent",
// why `why`) in one transaction and records the new fingerprint. Returns whether it changed.
Expected<bool> audit_config_change(store::Database& db, const std::string& path,
                                   std::string_view config_sha256, std::string_view why,
                                   std::string_view now);

class ColdChain {
 public:
  ColdChain(store::Database& db, store::Ledger& ledger, ColdChainSettings settings,
            ColdChainHooks hooks);
  ~ColdChain();

  // Once, before the first reading: closes excursions the previous run left open (recorded
  // as ended "restart", the time the agent last saw the zone), and starts the monitors.
  Status start(const coldchain::Instant& now);

  // One raw reading from a driver: applies the probe's calibration and plausible range,
  // buffers it for the next commit and feeds its zone.
  void on_reading(coldchain::Reading raw);

  // About once a second: alarm delays, offline probes, repeats; pending acknowledgements;
  // the buffered readings, summaries and zone states are committed (the zone states with
// every commit of readings, otherwise every 10 s); retention steps.
  void tick(const coldchain::Instant& now);

  // Commits what is buffered (readings, finished minute summaries, zone states).
  Status flush();

  const coldchain::ZoneMonitor* monitor(std::string_view zone) const;
  const ColdChainCounters& counters() const { return counters_; }
  const std::string& run_id() const { return run_id_; }

 private:
  struct ZoneSlot;
  struct ProbeSlot;
  struct PendingEvent {
    coldchain::Event event;
    std::string excursion_id;
    coldchain::AlarmType monitor = coldchain::AlarmType::kTemperature;  // which monitor said it
  };

  void handle(coldchain::ZoneMonitor& m, std::vector<coldchain::Event> events,
              const coldchain::Instant& now);
  Status commit_pending(const coldchain::Instant& now);
  Status write_readings();
  void apply_acks(const coldchain::Instant& now);
  void prune_step(const coldchain::Instant& now);
  nlohmann::json zone_state(const ZoneSlot& z, const coldchain::Instant& now) const;
  Status audit_applied_limits(const std::string& now_s);
  void carry_over(const nlohmann::json& saved_excursion);
  std::string excursion_id(const coldchain::Excursion& x) const;
  void escalate(const coldchain::Event& e, const std::string& xid);
  void run_outputs(const coldchain::Instant& now);

  store::Database& db_;
  store::Ledger& ledger_;
  ColdChainSettings settings_;
  ColdChainHooks hooks_;
  std::string run_id_;
  std::vector<std::unique_ptr<ZoneSlot>> zones_;
  std::map<std::string, ProbeSlot, std::less<>> probes_;
  std::vector<store::StoredReading> buffer_;
  std::vector<store::MinuteSummary> minutes_;
  std::vector<PendingEvent> pending_;
  std::vector<nlohmann::json> closed_;  // excursion records to store
  coldchain::Instant last_;
  bool started_ = false;
  // The highest acknowledgement request pending at start(): those were asked for while no
  // agent ran, and cover only the alarms raised by their time (not one this run raised anew).
  std::int64_t acks_before_start_ = 0;
  std::optional<std::int64_t> next_prune_mono_ns_;
  bool pruning_ = false;
  std::int64_t last_state_mono_ns_ = 0;
  std::int64_t last_readings_mono_ns_ = 0;  // the last commit of readings
  bool state_saved_ = false;
  bool state_dirty_ = false;  // events since the last zone_state commit
  bool clock_unsynchronized_ = false;  // as last logged
  ColdChainCounters counters_;
  std::unique_ptr<coldchain::Escalator> escalator_;  // set when outputs are configured
};

}  // namespace depot::app
