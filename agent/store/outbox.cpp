#include "store/outbox.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <tuple>

#include "core/json_writer.hpp"
#include "store/audit.hpp"

namespace depot::store {

namespace {
Status insert(Database& db, std::string_view stream, std::int64_t seq, std::string_view id,
              std::string_view ts, std::string_view payload) {
  auto ins = db.prepare("INSERT INTO outbox(stream, seq, id, ts, payload) VALUES(?1,?2,?3,?4,?5)");
  if (!ins) return ins.error();
  return (*ins)->bind(1, stream).bind(2, seq).bind(3, id).bind(4, ts).bind(5, payload).run();
}

// `bytes` of `stream`'s records were just deleted: off its kept total (store/outbox.hpp). A
// stream left without rows has none, whatever was kept (a total gone wrong heals there).
Status take_bytes(Database& db, std::string_view stream, std::int64_t bytes) {
  if (bytes == 0) return {};
  auto up = db.prepare(
      "UPDATE outbox_streams SET bytes = CASE WHEN EXISTS (SELECT 1 FROM outbox"
      " WHERE stream = ?1) THEN max(0, bytes - ?2) ELSE 0 END WHERE stream = ?1");
  if (!up) return up.error();
  return (*up)->bind(1, stream).bind(2, bytes).run();
}

// Appends `count` records, inside the caller's write transaction (or one of its own): reads the
// stream's next seq, inserts each record (`row(i, seq)` returns {id, ts, payload}; the payload
// carries its seq), then writes the stream's row back with the next seq and the payloads'
// bytes added (kept for the disk budget, never summed over the rows). Returns the first seq.
// Not one upsert with RETURNING: SQLite buffers RETURNING rows in an ephemeral table whose page
// cache is set up and freed at every call, which cost more than the record's own insert.
template <typename Row>
Expected<std::int64_t> append(Database& db, std::string_view stream, std::size_t count,
                              const Row& row) {
  if (sqlite3_get_autocommit(db.handle()))
    return db.transaction([&]() { return append(db, stream, count, row); });
  auto get = db.prepare("SELECT next_seq FROM outbox_streams WHERE stream = ?1");
  if (!get) return get.error();
  auto found = (*get)->bind(1, stream).step();
  if (!found) return found.error();
  const bool known = *found;
  const std::int64_t first = known ? (*get)->int64(0) : 1;
  (*get)->reset();
  std::int64_t bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t seq = first + static_cast<std::int64_t>(i);
    const auto [id, ts, payload] = row(i, seq);
    if (auto st = insert(db, stream, seq, id, ts, payload); !st) return st.error();
    bytes += static_cast<std::int64_t>(payload.size());
  }
  auto put = db.prepare(
      known ? "UPDATE outbox_streams SET next_seq = ?2, bytes = bytes + ?3 WHERE stream = ?1"
            : "INSERT INTO outbox_streams(stream, next_seq, bytes) VALUES(?1, ?2, ?3)");
  if (!put) return put.error();
  if (auto st = (*put)->bind(1, stream).bind(2, first + static_cast<std::int64_t>(count))
                    .bind(3, bytes).run();
      !st)
    return st.error();
  return first;
}

// One record's row for append: {id, ts, payload}.
using Row = std::tuple<std::string_view, std::string_view, std::string>;

// `record_object`'s members after "seq", "id" and "ts": `{"seq":..,"id":..,"ts":..,` +
// `"sku":..}`.
std::string spliced(std::int64_t seq, std::string_view id, std::string_view ts,
                    std::string_view record_object) {
  std::string payload;
  payload.reserve(record_object.size() + id.size() + ts.size() + 48);
  JsonObjectWriter w(payload);
  w.field("seq", seq).field("id", id).field("ts", ts);
  if (record_object.size() > 2) payload.push_back(',');
  payload.append(record_object.substr(1));  // its members and closing brace
  return payload;
}
}  // namespace

Expected<std::int64_t> outbox_append_text(Database& db, std::string_view stream,
                                          std::string_view id, std::string_view ts,
                                          std::string_view record_object) {
  return append(db, stream, 1, [&](std::size_t, std::int64_t seq) {
    return Row{id, ts, spliced(seq, id, ts, record_object)};
  });
}

Status outbox_append_texts(Database& db, std::string_view stream,
                           std::span<const OutboxText> records) {
  if (records.empty()) return {};
  auto first = append(db, stream, records.size(), [&](std::size_t i, std::int64_t seq) {
    const auto& r = records[i];
    return Row{r.id, r.ts, spliced(seq, r.id, r.ts, r.record_object)};
  });
  if (!first) return first.error();
  return {};
}

Expected<std::int64_t> outbox_append(Database& db, std::string_view stream, std::string_view id,
                                     std::string_view ts, nlohmann::json record) {
  return append(db, stream, 1, [&](std::size_t, std::int64_t seq) {
    record["seq"] = seq;
    record["id"] = id;
    record["ts"] = ts;
    // Text is checked where it comes in; should a byte that is not UTF-8 still reach a record,
    // it is written as U+FFFD rather than throwing inside the caller's transaction.
    return Row{id, ts, record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  });
}

Expected<Incarnation> outbox_incarnation(Database& db, std::string_view new_id,
                                         std::string_view now) {
  Incarnation out;
  auto st = db.transaction([&]() -> Status {
    auto id = db.meta("incarnation");
    if (!id) return id.error();
    if (*id) {
      out.id = **id;
      auto reason = db.meta("incarnation_reason");
      auto since = db.meta("incarnation_since");
      if (!reason) return reason.error();
      if (!since) return since.error();
      out.reason = reason->value_or("");
      out.since = since->value_or("");
      return {};
    }
    // Why a new one begins: the daemon notes a damaged file it moved aside in meta; records
    // already numbered mean a database from before incarnations (an upgrade).
    auto moved = db.meta("damaged_database_moved_to");
    if (!moved) return moved.error();
    auto q = db.prepare("SELECT count(*) FROM outbox_streams WHERE next_seq > 1");
    if (!q) return q.error();
    auto row = (*q)->step();
    if (!row) return row.error();
    const bool numbered = *row && (*q)->int64(0) > 0;
    (*q)->reset();
    if (*moved)
      out.reason = "damaged database moved aside to " + **moved + "; this one is new";
    else if (numbered)
      out.reason = "existing database, first run with incarnation ids";
    else
      out.reason = "new database";
    out.id = std::string(new_id);
    out.since = std::string(now);
    if (auto s1 = db.set_meta("incarnation", out.id); !s1) return s1;
    if (auto s2 = db.set_meta("incarnation_reason", out.reason); !s2) return s2;
    return db.set_meta("incarnation_since", out.since);
  });
  if (!st) return Error{"the database's incarnation: " + st.error().message};
  return out;
}

Expected<std::int64_t> outbox_depth(Database& db, std::string_view stream) {
  auto s = db.prepare("SELECT max(0, next_seq - 1 - acked_seq - holes) FROM outbox_streams"
                      " WHERE stream = ?1");
  if (!s) return s.error();
  auto row = (*s)->bind(1, stream).step();
  if (!row) return row.error();
  auto n = *row ? (*s)->int64(0) : 0;
  (*s)->reset();
  return n;
}

}  // namespace depot::store

namespace depot::store {

Expected<std::vector<OutboxRecord>> outbox_read(Database& db, std::string_view stream,
                                                std::int64_t after_seq, std::int64_t limit) {
  std::vector<OutboxRecord> out;
  auto read = outbox_visit(db, stream, after_seq, limit, [&](std::int64_t seq, std::string_view p) {
    out.push_back({seq, std::string(p)});
    return true;
  });
  if (!read) return read.error();
  return out;
}

Expected<std::int64_t> outbox_visit(
    Database& db, std::string_view stream, std::int64_t after_seq, std::int64_t limit,
    const std::function<bool(std::int64_t seq, std::string_view payload)>& each) {
  auto q = db.prepare(
      "SELECT seq, payload FROM outbox WHERE stream = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3");
  if (!q) return q.error();
  (*q)->bind(1, stream).bind(2, after_seq).bind(3, limit);
  std::int64_t accepted = 0;
  for (;;) {
    auto more = (*q)->step();
    if (!more) {
      (*q)->reset();
      return more.error();
    }
    if (!*more || !each((*q)->int64(0), (*q)->text_view(1))) break;
    ++accepted;
  }
  (*q)->reset();
  return accepted;
}

Expected<std::map<std::string, StreamMarks>> outbox_marks(Database& db) {
  auto q = db.prepare("SELECT stream, next_seq - 1, acked_seq FROM outbox_streams");
  if (!q) return q.error();
  std::map<std::string, StreamMarks> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    out[(*q)->text(0)] = {(*q)->int64(1), (*q)->int64(2)};
  }
  (*q)->reset();
  return out;
}

namespace {
Expected<std::int64_t> scalar(Database& db, std::string_view sql);
Status relaxed(Database& db, const std::function<Status()>& body);
Expected<std::int64_t> remove_delivered(Database& db, std::string_view stream, std::int64_t upto,
                                        std::string_view before, std::int64_t limit);
}  // namespace

Expected<std::map<std::string, std::int64_t>> outbox_depths(Database& db) {
  auto q = db.prepare(
      "SELECT stream, next_seq - 1 - acked_seq - holes AS n FROM outbox_streams WHERE n > 0");
  if (!q) return q.error();
  std::map<std::string, std::int64_t> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    out[(*q)->text(0)] = (*q)->int64(1);
  }
  (*q)->reset();
  return out;
}

Expected<std::map<std::string, std::string>> outbox_oldest_pending(Database& db) {
  auto q = db.prepare(
      "SELECT s.stream, (SELECT o.ts FROM outbox o WHERE o.stream = s.stream AND "
      "o.seq > s.acked_seq ORDER BY o.seq LIMIT 1) FROM outbox_streams s");
  if (!q) return q.error();
  std::map<std::string, std::string> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    auto ts = (*q)->text(1);
    if (!ts.empty()) out[(*q)->text(0)] = ts;
  }
  (*q)->reset();
  return out;
}

Expected<std::int64_t> database_bytes(Database& db) {
  return scalar(db, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
}

Status outbox_acknowledge(Database& db, const std::map<std::string, std::int64_t>& acked) {
  if (acked.empty()) return {};
  return relaxed(db, [&]() -> Status {
    // A mark that passes holes (records removed before delivery) takes them off `holes`:
    // the seqs it passes less the records it passes, counted only while the stream has holes.
    // A mark at the last seq taken leaves none above it, whatever was counted before (a
    // count gone wrong, e.g. an agent from before v16 writing the file, heals there).
    auto up = db.prepare(
        "UPDATE outbox_streams SET acked_seq = max(acked_seq, ?2), holes = CASE"
        " WHEN ?2 >= next_seq - 1 THEN 0"
        " WHEN holes = 0 OR ?2 <= acked_seq THEN holes"
        " ELSE max(0, holes - (?2 - acked_seq - (SELECT count(*) FROM outbox o"
        "   WHERE o.stream = ?1 AND o.seq > outbox_streams.acked_seq AND o.seq <= ?2))) END"
        " WHERE stream = ?1");
    if (!up) return up.error();
    for (const auto& [stream, seq] : acked)
      if (auto st = (*up)->bind(1, stream).bind(2, seq).run(); !st) return st;
    return {};
  });
}

Expected<std::int64_t> outbox_compact(Database& db, std::int64_t max_records,
                                      std::string_view delivered_before) {
  auto marks = outbox_marks(db);
  if (!marks) return marks.error();
  std::int64_t removed = 0;
  // Records are appended in ts order within a stream, so "older than the window" is a prefix
  // of the delivered ones.
  const std::string cutoff =
      delivered_before.empty() ? std::string("~") : std::string(delivered_before);
  auto any = db.prepare("SELECT 1 FROM outbox WHERE stream = ?1 AND seq <= ?2 AND ts < ?3 LIMIT 1");
  if (!any) return any.error();
  for (const auto& mark : *marks) {
    // Named, not structured bindings: clang before 16 cannot capture those in a lambda.
    const auto& stream = mark.first;
    const auto& m = mark.second;
    if (removed >= max_records || m.acked_seq <= 0) continue;
    // Nothing delivered left to delete (the usual case on an idle gateway): no transaction.
    auto row = (*any)->bind(1, stream).bind(2, m.acked_seq).bind(3, cutoff).step();
    if (!row) return row.error();
    const bool due = *row;
    (*any)->reset();
    if (!due) continue;
    // The oldest delivered records of the stream, at most what is left of `max_records`.
    auto st = relaxed(db, [&]() -> Status {
      auto n = remove_delivered(db, stream, m.acked_seq, cutoff, max_records - removed);
      if (!n) return n.error();
      removed += *n;
      return {};
    });
    if (!st) return st.error();
  }
  return removed;
}

namespace {

// Deletes the oldest records of `stream` with seq <= `upto` (delivered) and ts < `before`, at
// most `limit` of them, and takes their bytes off the stream's kept total. The records chosen
// are the first `limit` by seq: the last of them bounds the DELETE, and no other record at or
// below it has ts < `before`. Returns how many went. REQUIRES: a write transaction.
Expected<std::int64_t> remove_delivered(Database& db, std::string_view stream, std::int64_t upto,
                                        std::string_view before, std::int64_t limit) {
  auto chunk = db.prepare(
      "SELECT max(seq), coalesce(sum(length(CAST(payload AS BLOB))), 0) FROM (SELECT seq, payload"
      " FROM outbox WHERE stream = ?1 AND seq <= ?2 AND ts < ?3 ORDER BY seq LIMIT ?4)");
  if (!chunk) return chunk.error();
  auto row = (*chunk)->bind(1, stream).bind(2, upto).bind(3, before).bind(4, limit).step();
  if (!row) return row.error();
  const auto last = (*chunk)->opt_int64(0);
  const auto bytes = (*chunk)->int64(1);
  (*chunk)->reset();
  if (!last) return 0;
  auto del = db.prepare("DELETE FROM outbox WHERE stream = ?1 AND seq <= ?2 AND ts < ?3");
  if (!del) return del.error();
  if (auto st = (*del)->bind(1, stream).bind(2, *last).bind(3, before).run(); !st) return st.error();
  const auto removed = db.changes();
  if (auto st = take_bytes(db, stream, bytes); !st) return st.error();
  return removed;
}

// A delivery mark or compaction lost to a power cut only means those records are sent again
// (duplicates the cloud drops by seq), so these commits do not wait for an fsync:
// synchronous=NORMAL for the transaction, then the connection's own setting again.
Status relaxed(Database& db, const std::function<Status()>& body) {
  auto mode = scalar(db, "PRAGMA synchronous");
  if (!mode) return mode.error();
  const bool relax = *mode > 1;
  if (relax) {
    if (auto st = db.exec("PRAGMA synchronous=NORMAL"); !st) return st;
  }
  auto st = db.transaction(body);
  if (relax) (void)db.exec("PRAGMA synchronous=" + std::to_string(*mode));
  return st;
}

Expected<std::int64_t> scalar(Database& db, std::string_view sql) {
  auto q = db.prepare(sql);
  if (!q) return q.error();
  auto row = (*q)->step();
  if (!row) return row.error();
  std::int64_t v = *row ? (*q)->int64(0) : 0;
  (*q)->reset();
  return v;
}

}  // namespace

namespace {
// `n` records of `stream`, the lowest at `lowest_seq`, were just deleted before delivery: holes
// in its seqs above the delivery mark, which the depth must not count (outbox_depths). Every
// caller deletes only records above the mark; should one not be, nothing is counted.
Status add_holes(Database& db, std::string_view stream, std::int64_t lowest_seq, std::int64_t n) {
  auto up = db.prepare(
      "UPDATE outbox_streams SET holes = holes + ?2 WHERE stream = ?1 AND acked_seq < ?3");
  if (!up) return up.error();
  return (*up)->bind(1, stream).bind(2, n).bind(3, lowest_seq).run();
}

// One `data_loss` audit-trail entry (who `agent`) whose record carries `loss`'s members on top.
Status append_data_loss(Database& db, const Txn&, nlohmann::json loss, std::string_view now,
                        std::string_view loss_id) {
  AuditEntry entry{"agent", std::string(now), "data_loss", loss["reason"].get<std::string>(),
                   loss};
  loss["event"] = "data_loss";
  entry.record_fields = std::move(loss);
  entry.record_id = std::string(loss_id);
  auto seq = audit_append(db, entry);
  if (!seq) return seq.error();
  return {};
}
}  // namespace

Expected<std::int64_t> outbox_drop_undeliverable(Database& db, std::string_view stream,
                                                 std::int64_t seq, std::int64_t bytes,
                                                 std::int64_t limit, std::string_view now,
                                                 std::string_view loss_id) {
  auto txn = Txn::begin(db);
  if (!txn) return txn.error();
  auto size = db.prepare(
      "SELECT length(CAST(payload AS BLOB)) FROM outbox WHERE stream = ?1 AND seq = ?2");
  if (!size) return size.error();
  auto found = (*size)->bind(1, stream).bind(2, seq).step();
  if (!found) return found.error();
  const std::int64_t record_bytes = *found ? (*size)->int64(0) : 0;
  (*size)->reset();
  auto del = db.prepare("DELETE FROM outbox WHERE stream = ?1 AND seq = ?2");
  if (!del) return del.error();
  if (auto st = (*del)->bind(1, stream).bind(2, seq).run(); !st) return st.error();
  if (db.changes() > 0) {
    if (auto st = add_holes(db, stream, seq, 1); !st) return st.error();
    if (auto st = take_bytes(db, stream, record_bytes); !st) return st.error();
  }
  nlohmann::json loss{{"stream", std::string(stream)},
                      {"reason", "a record of " + std::to_string(bytes) +
                                     " bytes does not fit the broker's maximum packet (" +
                                     std::to_string(limit) + " bytes of payload)"},
                      {"thinned", 0},
                      {"dropped", 1},
                      {"first_seq", seq},
                      {"last_seq", seq},
                      {"bytes", bytes}};
  if (auto st = append_data_loss(db, *txn, std::move(loss), now, loss_id); !st)
    return Error{"dropping an undeliverable record: " + st.error().message};
  if (auto st = txn->commit(); !st) return st.error();
  return seq;
}

namespace {
constexpr std::string_view kRejectsReadingsBytes =
    "SELECT coalesce(sum(payload), 0) FROM dbstat WHERE name IN ('rejects', 'readings')";
}  // namespace

Expected<std::int64_t> rejects_readings_bytes(Database& db) {
  if (!sqlite3_compileoption_used("ENABLE_DBSTAT_VTAB")) return 0;
  return scalar(db, kRejectsReadingsBytes);
}

Expected<std::int64_t> rejects_readings_bytes(const std::string& path, std::int64_t busy_timeout_ms,
                                              const std::atomic<bool>* cancel) {
  auto db = Database::open(path, {.busy_timeout_ms = busy_timeout_ms, .read_only = true});
  if (!db) return db.error();
  if (cancel)
    sqlite3_progress_handler(
        (*db)->handle(), 10000,
        [](void* flag) { return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0; },
        const_cast<std::atomic<bool>*>(cancel));
  (void)(*db)->exec("PRAGMA cache_size=-256");  // its own pages only: the kernel caches the rest
  return rejects_readings_bytes(**db);
}

Expected<BudgetOutcome> outbox_enforce_budget(
    Database& db, std::int64_t budget_bytes, std::string_view now, std::string_view loss_id,
    const std::function<Expected<std::int64_t>()>& rejects_readings) {
  BudgetOutcome out;
  auto pages = scalar(db, "PRAGMA page_count");
  auto free_pages = scalar(db, "PRAGMA freelist_count");
  auto page_size = scalar(db, "PRAGMA page_size");
  if (!pages) return pages.error();
  if (!free_pages) return free_pages.error();
  if (!page_size) return page_size.error();
  const std::int64_t live_bytes = (*pages - *free_pages) * *page_size;
  if (live_bytes <= budget_bytes) return out;

  auto txn = Txn::begin(db);
  if (!txn) return txn.error();
  auto body = [&]() -> Status {
    // Delivered records awaiting compaction do not count: they go first, stream by stream
    // (a range of each stream's key, not a scan of the outbox).
    auto marks = outbox_marks(db);
    if (!marks) return marks.error();
    for (const auto& [stream, m] : *marks)
      if (m.acked_seq > 0)
        if (auto n = remove_delivered(db, stream, m.acked_seq, "~", INT64_MAX); !n)
          return n.error();
    // What is left, from the streams' kept totals: never summed over the rows.
    auto bytes = scalar(db, "SELECT coalesce(sum(bytes), 0) FROM outbox_streams");
    if (!bytes) return bytes.error();
    // Rejects and readings count too (a junk flood must not grow the database outside any
    // budget): as measured by the caller, or read here. A figure measured earlier is never
    // taken as more than the file now holds besides the outbox (a prune since then).
    if (auto more = rejects_readings ? rejects_readings() : rejects_readings_bytes(db))
      out.rejects_readings_bytes =
          std::clamp<std::int64_t>(*more, 0, std::max<std::int64_t>(0, live_bytes - *bytes));
    out.bytes_before = out.bytes_after = *bytes + out.rejects_readings_bytes;
    if (out.bytes_before <= budget_bytes) return {};

    // The telemetry backlog, oldest first: (seq, bytes).
    std::vector<std::pair<std::int64_t, std::int64_t>> tele;
    auto q = db.prepare(
        "SELECT seq, length(CAST(payload AS BLOB)) FROM outbox WHERE stream = 'telemetry'"
        " ORDER BY seq");
    if (!q) return q.error();
    for (;;) {
      auto more = (*q)->step();
      if (!more) return more.error();
      if (!*more) break;
      tele.emplace_back((*q)->int64(0), (*q)->int64(1));
    }
    (*q)->reset();
    auto del = db.prepare("DELETE FROM outbox WHERE stream = 'telemetry' AND seq = ?1");
    if (!del) return del.error();
    std::vector<bool> gone(tele.size(), false);
    std::int64_t bytes_removed = 0;
    auto remove = [&](std::size_t i) -> Status {
      if (auto st = (*del)->bind(1, tele[i].first).run(); !st) return st;
      gone[i] = true;
      out.bytes_after -= tele[i].second;
      bytes_removed += tele[i].second;
      if (!out.first_seq || tele[i].first < out.first_seq) out.first_seq = tele[i].first;
      out.last_seq = std::max(out.last_seq, tele[i].first);
      return {};
    };
    // 1. Thin: every second record of the oldest half.
    for (std::size_t i = 1; i < tele.size() / 2 && out.bytes_after > budget_bytes; i += 2) {
      if (auto st = remove(i); !st) return st;
      ++out.thinned;
    }
    // 2. Drop the oldest until within the budget.
    for (std::size_t i = 0; i < tele.size() && out.bytes_after > budget_bytes; ++i) {
      if (gone[i]) continue;
      if (auto st = remove(i); !st) return st;
      ++out.dropped;
    }
    out.over_budget_after = out.bytes_after > budget_bytes;
    if (out.thinned + out.dropped == 0) return {};
    // Every telemetry record left was undelivered (the delivered ones went first, above).
    if (auto st = add_holes(db, "telemetry", out.first_seq, out.thinned + out.dropped); !st)
      return st;
    if (auto st = take_bytes(db, "telemetry", bytes_removed); !st) return st;
    nlohmann::json loss{
        {"stream", "telemetry"},
        {"reason", "outbox over its disk budget of " + std::to_string(budget_bytes) + " bytes"},
        {"thinned", out.thinned},
        {"dropped", out.dropped},
        {"first_seq", out.first_seq},
        {"last_seq", out.last_seq}};
    return append_data_loss(db, *txn, std::move(loss), now, loss_id);
  };
  if (auto st = body(); !st)  // the guard rolls back
    return Error{"enforcing the outbox budget: " + st.error().message};
  if (auto st = txn->commit(); !st) return st.error();
  return out;
}

}  // namespace depot::store
