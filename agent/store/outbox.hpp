// The outbox: records the cloud has yet to acknowledge. `append` is called inside the same
// transaction as the change it reports, so the ledger and what the cloud will hear can never
// disagree. Each stream numbers its records with a gap-free `seq` that survives restarts and
// is never reused. Publishing belongs to sync/. Delivery is a per-stream mark: after PUBACK the
// publisher moves `acked_seq` (one small UPDATE), and delivered records are deleted later, in
// bounded chunks when the publisher is idle (`outbox_compact`): deleting rows costs as much as
// writing them, and a backlog should reach the cloud first.
// REQUIRES: a write transaction is open on `db` for `append` (every caller opens one; called
// without, the append takes a transaction of its own).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

// A record for outbox_append_texts: its id, ts and JSON object text (as outbox_append_text's).
struct OutboxText {
  std::string id, ts, record_object;
};

// Appends `records` to `stream` in order, inside the caller's write transaction, as
// outbox_append_text would one by one, but reading and writing the stream's row once (a
// group commit's batch of movements: two statements fewer per movement).
Status outbox_append_texts(Database& db, std::string_view stream,
                           std::span<const OutboxText> records);

// Records of `stream` not yet delivered (seq > its acked_seq). Not counted: the seqs after the
// mark less the holes that records removed before delivery left there (`holes`, kept by
// outbox_enforce_budget, outbox_drop_undeliverable and outbox_acknowledge), so it costs one
// row however long the backlog. The heartbeat's STATUS= line, /metrics, the console's overview
// and the cloud's status message read outbox_depths below; counting a 1,000,000-record
// backlog took 0.3-0.5 s of the event loop. Kept since schema v16, whose migration counts
// them once (a full read of the outbox at the first start after the upgrade). An agent from
// before v16 refuses the file; should one still write it (an old daemon running while a new
// CLI migrated the file), the counts heal when a mark reaches the last seq and when a
// stream's rows are all deleted.
Expected<std::int64_t> outbox_depth(Database& db, std::string_view stream);

// This database's incarnation: an id made once, when the gateway first runs on a database
// (kept in meta), and why it began. A database replaced (new, or a damaged one moved aside)
// starts every stream at seq 1 again under a new incarnation, so the cloud's dedupe key
// (site, gateway, incarnation, stream, seq) never mistakes its records for resends.
// Creates it (id `new_id`) when the database has none. Takes its own transaction.
struct Incarnation {
  std::string id;
  std::string reason;  // "new database", "damaged database moved aside to FILE", ...
  std::string since;   // RFC 3339 UTC
};
Expected<Incarnation> outbox_incarnation(Database& db, std::string_view new_id,
                                         std::string_view now);

// --- For sync/ (publishing). None of these needs a transaction to be open. ---

struct OutboxRecord {
  std::int64_t seq = 0;
  std::string payload;  // the record's JSON text, with its seq, id and ts
};

// Up to `limit` records of `stream` with seq > `after_seq`, in seq order.
Expected<std::vector<OutboxRecord>> outbox_read(Database& db, std::string_view stream,
                                                std::int64_t after_seq, std::int64_t limit);

// The same rows without copying them: calls `each(seq, payload)` in seq order until it returns
// false or `limit` rows were seen. `payload` is valid during the call only. Returns how many
// rows `each` accepted.
Expected<std::int64_t> outbox_visit(
    Database& db, std::string_view stream, std::int64_t after_seq, std::int64_t limit,
    const std::function<bool(std::int64_t seq, std::string_view payload)>& each);

// Per stream: the highest seq allocated so far and the highest delivered one (every record
// up to it was acknowledged by the broker). A cheap "is there anything new beyond what I sent".
struct StreamMarks {
  std::int64_t last_seq = 0;
  std::int64_t acked_seq = 0;
};
Expected<std::map<std::string, StreamMarks>> outbox_marks(Database& db);

// Records not yet delivered, per stream with any (as outbox_depth: one row per stream).
Expected<std::map<std::string, std::int64_t>> outbox_depths(Database& db);
// The `ts` (RFC 3339 UTC) of the oldest record not yet delivered, per stream with any: one
// index seek per stream.
Expected<std::map<std::string, std::string>> outbox_oldest_pending(Database& db);
// The database file's size in bytes (page_count x page_size; the WAL not included).
Expected<std::int64_t> database_bytes(Database& db);

// A range of one stream's records, as published in one message.
struct SeqRange {
  std::string stream;
  std::int64_t first_seq = 0, last_seq = 0;
};

// Marks every record of each stream up to the given seq delivered (a mark never moves back),
// in one transaction. The commit does not wait for an fsync (synchronous=NORMAL for it): a
// mark lost to a power cut only means a resend, which the cloud drops by seq.
Status outbox_acknowledge(Database& db, const std::map<std::string, std::int64_t>& acked);

// Deletes up to `max_records` delivered records, oldest first, in one transaction per stream
// (also without waiting for an fsync). Returns how many were deleted.
// With `delivered_before` (RFC 3339 UTC) only delivered records older than it go: the rest
// are kept for the cloud to ask again (stream.replay).
Expected<std::int64_t> outbox_compact(Database& db, std::int64_t max_records,
                                      std::string_view delivered_before = {});

// The disk budget. Delivered records are deleted first. When the outbox's payloads (what is
// not yet delivered) still exceed `budget_bytes`, telemetry is thinned
// (every second record of its oldest half removed), then, while still over, its oldest
// records are dropped. Scan rejects and cold-chain readings count against the budget too (the
// payload bytes of their tables, from SQLite's dbstat): they are never dropped here, but a
// budget they fill thins telemetry and reports `over_budget_after`, and the scan intake then
// records rejects as per-second counts only. Nothing else is ever dropped. When anything was
// removed, one `data_loss` record (id `loss_id`, time `now`) on the `audit` stream says what, in
// the same transaction. When the database file as a whole is within the budget the check costs three
// PRAGMAs; otherwise it deletes each stream's delivered records (a key range per stream) and
// reads the payload bytes that are left from `outbox_streams.bytes`, kept by every append and
// delete, never summed over the rows (summing a 1,000,000-record backlog took 0.76 s, and the
// delete of delivered records as one scan 0.36 s, every 10 s while the file was over budget).
// Byte counts are the payloads' UTF-8 bytes.
struct BudgetOutcome {
  std::int64_t bytes_before = 0, bytes_after = 0;  // 0/0 when the cheap check sufficed
  std::int64_t thinned = 0, dropped = 0;
  std::int64_t first_seq = 0, last_seq = 0;  // telemetry seqs touched (when any)
  bool over_budget_after = false;            // nothing droppable is left
  std::int64_t rejects_readings_bytes = 0;   // of bytes_before: the rejects and readings tables
};
// `rejects_readings` gives the rejects' and readings' bytes when they are needed (the file is
// over the budget); without it they are read here (rejects_readings_bytes on `db`).
Expected<BudgetOutcome> outbox_enforce_budget(
    Database& db, std::int64_t budget_bytes, std::string_view now, std::string_view loss_id,
    const std::function<Expected<std::int64_t>()>& rejects_readings = {});

// The payload bytes of the rejects and readings tables, from SQLite's dbstat, which reads every
// page of both: 0.2 s for 4,000,000 readings here, far more on a gateway's SD card, and the
// table grows with `retention.readings_days`. So the daemon never reads it on its event loop:
// the publisher runs this on a thread with a connection of its own (read-only, opened on
// `path`, an absolute path as the daemon has it), stopped within some 10,000 SQLite
// instructions once `cancel` is set. 0 from a SQLite built without DBSTAT: the tables are left
// out of the budget. A figure measured earlier is taken as at most what the file holds besides
// the outbox.
Expected<std::int64_t> rejects_readings_bytes(Database& db);
Expected<std::int64_t> rejects_readings_bytes(const std::string& path, std::int64_t busy_timeout_ms,
                                              const std::atomic<bool>* cancel);

// A record too large for any message the broker accepts (`bytes` in an envelope of its own
// against `limit` bytes of payload): deleted from the outbox, with one `data_loss` record
// (id `loss_id`, time `now`) on the `audit` stream naming its stream and seq, in one
// transaction. The record stays in its own table (movements, readings, ...); only its trip to
// the cloud is given up, rather than resending it forever. Returns `seq`.
Expected<std::int64_t> outbox_drop_undeliverable(Database& db, std::string_view stream,
                                                 std::int64_t seq, std::int64_t bytes,
                                                 std::int64_t limit, std::string_view now,
                                                 std::string_view loss_id);

}  // namespace depot::store
