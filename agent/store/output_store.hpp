// Alarm-output records (schema v9): the log of every attempt to fire or reset an output for an
// alarm (`output_log`), and the outputs' `output_failure` system alarms (`output_failures`),
// each raise and clear also an `alarms` outbox record (docs/protocol.md, "alarms"). Functions
// marked "in a transaction" REQUIRE an open write transaction on `db`.
// Thread-safety: use from the thread that owns the Database.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/coldchain/escalation.hpp"
#include "core/error.hpp"
#include "store/database.hpp"

namespace depot::store {

// In a transaction: one output_log row.
Status record_output_result(Database& db, const coldchain::OutputResult& r, std::int64_t wall_ms);

// In a transaction: raises `output`'s failure alarm (id `id`) unless one is open (then counts
// the failure and keeps the latest reason), with its `alarms` outbox record.
Status raise_output_failure(Database& db, std::string_view id, std::string_view output,
                            std::string_view reason, std::int64_t wall_ms);
// In a transaction: clears `output`'s open failure alarm, if any (`why`: "output succeeded",
// "agent restarted"), with its `alarms` outbox record.
Status clear_output_failure(Database& db, std::string_view output, std::string_view why,
                            std::int64_t wall_ms);
// In a transaction: clears every open failure alarm (at a start: the outputs are tried anew).
Status clear_all_output_failures(Database& db, std::string_view why, std::int64_t wall_ms);

// Failure alarms, newest first (open ones only when `open_only`), as JSON records with
// alarm_type "output_failure".
Expected<std::vector<nlohmann::json>> list_output_failures(Database& db, bool open_only);

// Per alarm id: what its outputs did, one entry per (level, output, event) with the number of
// attempts, successes and the first and last time: {"level","output","event","attempts","ok",
// "first_at","last_at","last_reason"}.
Expected<std::map<std::string, nlohmann::json>> output_firings(Database& db);

}  // namespace depot::store
