// The outbox: records the cloud has yet to acknowledge. `append` is called inside the same
// transaction as the change it reports, so the ledger and what the cloud will hear can never
// disagree. Each stream numbers its records with a gap-free `seq` that survives restarts and
// is never reused. Publishing (and removal after PUBACK) belongs to sync/.
// REQUIRES: a write transaction is open on `db` for `append`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "core/error.hpp"
#include "store/database.hpp"

namespace depot::store {

// Appends `record` to `stream`, adding "seq", "id" and "ts" to it; returns the seq.
Expected<std::int64_t> outbox_append(Database& db, std::string_view stream, std::string_view id,
                                     std::string_view ts, nlohmann::json record);

// The same for a record already written as JSON object text (core/json_writer), for hot
// paths. REQUIRES: `record_object` is a JSON object without "seq", "id" or "ts" members.
Expected<std::int64_t> outbox_append_text(Database& db, std::string_view stream,
                                          std::string_view id, std::string_view ts,
                                          std::string_view record_object);

// Records waiting in `stream`.
Expected<std::int64_t> outbox_depth(Database& db, std::string_view stream);

}  // namespace depot::store
