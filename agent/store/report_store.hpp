// What `depot-agent report` and `readings` read from the store (docs/coldchain.md, "Report
// for an auditor"): a zone's raw readings over a period, in time order, and the head of the
// audit chain. Read-only: safe on a read-only connection while the daemon writes.
// Thread-safety: use from the thread that owns the Database.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "store/audit.hpp"
#include "store/database.hpp"

namespace depot::store {

// One row of the `readings` table.
struct ReadingRow {
  std::int64_t seq = 0;
  std::string probe, zone;
  std::int64_t wall_ms = 0;
  std::optional<double> celsius;
  std::string quality;  // good | implausible | crc_failed | no_data
  std::string reason;
  bool clock_unsynchronized = false;
  std::string quantity;  // temperature | humidity (%RH in celsius) | door (1 open, 0 closed)
};

// Calls `row` for each reading of `zone` with from_ms <= wall_ms < to_ms, ordered by wall_ms
// then seq, without holding them all in memory.
Status for_each_reading(Database& db, std::string_view zone, std::int64_t from_ms,
                        std::int64_t to_ms, const std::function<void(const ReadingRow&)>& row);

// The newest audit entry (the chain's head), nullopt when the trail is empty.
Expected<std::optional<AuditRecord>> audit_head(Database& db);

}  // namespace depot::store
