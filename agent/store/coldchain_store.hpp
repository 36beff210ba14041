// Cold-chain records in SQLite (schema v4): readings and per-minute summaries, zone events
// with their `alarms` outbox records, excursion records, quality holds (ledger `hold`,
// `release`, `writeoff` movements), acknowledgement requests and the zone state the daemon
// publishes for the CLI. Functions marked "in a transaction" REQUIRE an open write
// transaction on `db`; the others open their own. docs/coldchain.md, "What the agent stores".
// Thread-safety: use from the thread that owns the Database.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/coldchain/excursion.hpp"
#include "core/coldchain/reading.hpp"
#include "core/coldchain/zone_monitor.hpp"
#include "core/error.hpp"
#include "store/database.hpp"
#include "store/ledger.hpp"

namespace depot::store {

struct StoredReading {
  coldchain::Reading reading;
  std::string zone;
  // Humidity readings hold %RH in reading.celsius, door readings 1 (open) or 0 (closed).
  coldchain::Measure measures = coldchain::Measure::kTemperature;
};

// One probe's minute: min/max/mean over its good readings, counts over all.
struct MinuteSummary {
  std::string probe, zone;
  std::int64_t minute_ms = 0;  // start of the minute, unix ms
  std::optional<double> min_c, max_c, mean_c;
  std::int64_t count = 0, good = 0;
  coldchain::Measure measures = coldchain::Measure::kTemperature;
};

// In a transaction: the readings, and (when `telemetry`) `telemetry` outbox records holding
// them all (docs/protocol.md, "telemetry"): one per call, or, when they would be larger than
// `max_record_bytes`, as many as needed, in order (ids `record_id`, `record_id`.2, .3 ...), so
// that no record outgrows what a broker accepts in one message.
inline constexpr std::size_t kMaxTelemetryRecordBytes = 16 * 1024;
Status insert_readings(Database& db, std::span<const StoredReading> readings, bool telemetry,
                       std::string_view record_id, std::string_view ts,
                       std::size_t max_record_bytes = kMaxTelemetryRecordBytes);
// In a transaction.
Status insert_minutes(Database& db, std::span<const MinuteSummary> minutes);

// In a transaction: the event row and its `alarms` outbox record. `excursion_id` names the
// excursion the event concerns ("" for probe events).
Status insert_zone_event(Database& db, const coldchain::Event& e, std::string_view id,
                         std::string_view excursion_id);

// The record of an excursion as JSON (for outbox, audit and zone_state).
nlohmann::json excursion_json(const coldchain::Excursion& x, std::string_view id,
                              std::int64_t now_mono_ns);
// In a transaction: a closed excursion (`ended`: "closed" or "restart"), its `alarms` outbox
// record and its audit entry. A record without the fields of `excursion_json` is refused with
// an ErrorKind::kBadInput error naming the first one missing (records saved by an earlier run
// are outside input).
Status insert_excursion(Database& db, const nlohmann::json& record, std::string_view ended,
                        std::string_view now);

// --- Quality holds ---

struct HoldRecord {
  std::int64_t id = 0;
  std::string sku, zone, excursion, movement_id, created_at;
  std::int64_t qty = 0, released = 0, written_off = 0;
  std::optional<std::string> closed_at;
  std::optional<std::string> lot;  // the lot it holds; none: stock outside every lot
  std::int64_t remaining() const { return qty - released - written_off; }
};

struct HoldContext {
  std::string now;             // RFC 3339 UTC
  std::int64_t mono_ns = 0;
  std::string who = "agent";
  std::string source = "coldchain";
};

// In a transaction: holds the stock (on hand, not yet held) of every active SKU stored in `zone`
// (catalog `zone`), lot by lot as it is there now (expired lots too), then what is outside
// every lot, through `hold` movements, with a hold row and an audit entry each. `id_prefix`
// makes the movement ids (prefix + "-" + sku, + ":" + lot for a lot).
Expected<std::vector<HoldRecord>> place_holds(const Txn& txn, Ledger& ledger, std::string_view zone,
                                              std::string_view excursion_id,
                                              std::string_view id_prefix, const HoldContext& ctx);

enum class HoldEnd { kRelease, kWriteoff };

// In a transaction: ends `qty` (all that remains when unset) of hold `hold_id` by a
// `release` or `writeoff` movement with id `movement_id`, with an audit entry (who, why).
// Errors name the problem (unknown hold, already closed, qty out of range, empty who/why).
Expected<HoldRecord> end_hold(const Txn& txn, Ledger& ledger, std::int64_t hold_id, HoldEnd how,
                              std::optional<std::int64_t> qty, std::string_view who,
                              std::string_view why, std::string_view movement_id,
                              const HoldContext& ctx);

// In id order; `limit` > 0: only the newest this many.
Expected<std::vector<HoldRecord>> list_holds(Database& db, bool open_only, std::int64_t limit = 0);
nlohmann::json hold_json(const HoldRecord& h);

// --- Acknowledgement requests (CLI/cloud -> daemon) ---

struct AckRequest {
  std::int64_t id = 0;
  std::string zone, who, comment, source, requested_at, status;
  std::string root_cause;  // root cause / corrective action ("" when not given)
  std::optional<std::string> result, handled_at;
};
// In a transaction (or autocommit). Returns the request id.
Expected<std::int64_t> request_ack(Database& db, std::string_view zone, std::string_view who,
                                   std::string_view comment, std::string_view source,
                                   std::string_view now, std::string_view root_cause = {});
// Acknowledges every alarm record of `zone` that ended unacknowledged (an alarm that cleared,
// or was closed at a restart, before anyone acknowledged it): one append-only `late_acks` row
// and one `alarm.ack` audit entry (details: zone, excursion, late: true, root_cause) each.
// Returns the ids acknowledged (none: nothing to acknowledge). The one implementation for the
// daemon (CLI and cloud requests) and the CLI with no agent running.
Expected<std::vector<std::string>> ack_ended_alarms(const Txn& txn, std::string_view zone,
                                                    std::string_view who, std::string_view comment,
                                                    std::string_view root_cause,
                                                    std::int64_t wall_ms, std::string_view source);
Expected<std::vector<AckRequest>> pending_acks(Database& db);
// The wall time of the zone's newest stored reading, if any.
Expected<std::optional<std::int64_t>> last_reading_ms(Database& db, std::string_view zone);
Expected<std::optional<AckRequest>> find_ack(Database& db, std::int64_t id);
// In a transaction.
Status finish_ack(Database& db, std::int64_t id, bool applied, std::string_view result,
                  std::string_view now);

// --- Zone state (daemon -> CLI) ---
// In a transaction.
Status save_zone_state(Database& db, std::string_view zone, const nlohmann::json& state,
                       std::int64_t wall_ms);
// zone -> (state, updated_ms)
Expected<std::vector<std::pair<nlohmann::json, std::int64_t>>> load_zone_states(Database& db);

// Closed excursions, newest first; only alarmed ones when `alarmed_only`.
Expected<std::vector<nlohmann::json>> list_excursions(Database& db, bool alarmed_only,
                                                      std::int64_t limit);

// --- Retention ---
struct PruneResult {
  std::int64_t readings = 0, minutes = 0;
  bool more = false;  // stopped at `max_rows`: call again
};
// Deletes up to `max_rows` readings older than `readings_before_ms` (except within
// `margin_ms` of an excursion) and summaries older than `minutes_before_ms`, in one short
// transaction.
Expected<PruneResult> prune_coldchain(Database& db, std::int64_t readings_before_ms,
                                      std::int64_t minutes_before_ms, std::int64_t margin_ms,
                                      std::int64_t max_rows);

}  // namespace depot::store
