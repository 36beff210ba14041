// Scan rejects: every scan that changed nothing (undecodable, a failed check digit, an
// unknown barcode, a double read, an invalid control code) is kept with its raw bytes
// (escaped), the scanner, the time and the reason, and reported to the cloud on the
// `rejects` stream (its outbox record written in the same transaction). Nothing is dropped
// without a trace. `depot-agent rejects` lists them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/database.hpp"

namespace depot::store {

struct Reject {
  std::int64_t seq = 0;
  std::string source;  // scanner id, or "cli"
  std::string raw;     // escaped (core/scan_station.hpp escape_bytes)
  std::string reason;
  std::string wall_time;
  std::int64_t mono_ns = 0;
  std::int64_t count = 1;  // > 1: a reject storm summarised (the reason says so)
};

// Records one reject in its own transaction (with its outbox record); returns its seq.
Expected<std::int64_t> record_reject(Database& db, const Reject& reject);
// The same inside the caller's transaction (group commit).
Expected<std::int64_t> record_reject(const Txn& txn, const Reject& reject);

// Rejects, newest last; `since` is RFC 3339 UTC text; limit 0 = all.
Expected<std::vector<Reject>> list_rejects(Database& db, const std::optional<std::string>& since,
                                           std::int64_t limit);

}  // namespace depot::store
