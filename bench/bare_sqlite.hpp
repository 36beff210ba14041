// The bare limit the ledger benchmarks stand beside: a plain SQLite program inserting rows
// of the same shape with the same durability (WAL, synchronous=FULL) and batch size.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/clock.hpp"
#include "store/ledger.hpp"

namespace depot::bench {

// Inserts `n` rows into a fresh table at `path`, committing every `batch`; returns rows/s.
inline double bare_sqlite_inserts(const std::string& path, int n, int batch) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                   "CREATE TABLE t(id TEXT PRIMARY KEY, sku TEXT, qty INTEGER, ts TEXT)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?1, ?2, ?3, ?4)", -1, &st, nullptr);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    if (i % batch == 0) sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    std::string id = depot::new_id();  // the agent's time-ordered ids
    sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, "SKU-1", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, 1);
    sqlite3_bind_text(st, 4, "2026-11-23T10:00:00.000Z", -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_reset(st);
    if (i % batch == batch - 1 || i == n - 1) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n / s;
}

}  // namespace depot::bench

namespace depot::bench {

// The honest bare limit of ingest (issue 18): a plain SQLite program writing, per movement,
// the rows the agent writes - the movement row (every column the ledger fills), the stock
// upsert, and the outbox row with a payload of `payload_bytes` - into a database with the
// agent's own schema (indexes, triggers, foreign keys on), WAL, synchronous=FULL, committing
// every `batch`. The outbox stream's next seq is kept in memory and written once per batch
// (the least a bare program must persist). `schema_db` is an empty agent database whose
// catalog has SKU-0..SKU-(skus-1); it is written to. Returns movements/s.
// Without `outbox_row`, the movement and stock rows only: the ceiling of a design in which the
// movement row is its own outbox record (the payload built from it when it is sent).
inline double bare_ledger_rows(const std::string& schema_db, int n, int batch, int skus,
                               std::size_t payload_bytes, bool outbox_row = true) {
  sqlite3* db = nullptr;
  sqlite3_open(schema_db.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON",
               nullptr, nullptr, nullptr);
  sqlite3_stmt *mv = nullptr, *st = nullptr, *ob = nullptr, *ns = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO movements(id, sku, kind, qty, held_qty, counted, source, lot,"
                     " expiry, serial, wall_time, mono_ns, on_hand_after, negative, reverses,"
                     " serial_repeat, order_id, reservation_taken, lots)"
                     " VALUES(?1,?2,'receive',1,0,NULL,'bench',NULL,NULL,NULL,?3,?4,?5,0,NULL,0,"
                     "NULL,0,NULL)",
                     -1, &mv, nullptr);
  sqlite3_prepare_v2(db,
                     "INSERT INTO stock(sku, on_hand, held, reserved, backordered, updated_at)"
                     " VALUES(?1,?2,0,0,0,?3) ON CONFLICT(sku) DO UPDATE SET"
                     " on_hand = excluded.on_hand, held = excluded.held,"
                     " reserved = excluded.reserved, backordered = excluded.backordered,"
                     " updated_at = excluded.updated_at",
                     -1, &st, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO outbox(stream, seq, id, ts, payload) VALUES('movements',?1,?2,?3,?4)",
                     -1, &ob, nullptr);
  sqlite3_prepare_v2(db,
                     "INSERT INTO outbox_streams(stream, next_seq) VALUES('movements', ?1)"
                     " ON CONFLICT(stream) DO UPDATE SET next_seq = excluded.next_seq",
                     -1, &ns, nullptr);
  // A bare figure from failed statements would flatter nobody: every step must be done.
  auto step = [&](sqlite3_stmt* p) {
    if (sqlite3_step(p) != SQLITE_DONE) {
      std::fprintf(stderr, "bare_ledger_rows: %s\n", sqlite3_errmsg(db));
      std::exit(1);
    }
    sqlite3_reset(p);
  };
  const std::string payload(payload_bytes, 'x');
  const char* ts = "2026-11-23T10:00:00.000Z";
  std::vector<std::int64_t> on_hand(static_cast<std::size_t>(skus), 0);
  std::int64_t seq = 1;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    if (i % batch == 0) sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    std::string id = depot::new_id();
    std::string sku = "SKU-" + std::to_string(i % skus);
    auto oh = ++on_hand[static_cast<std::size_t>(i % skus)];
    sqlite3_bind_text(mv, 1, id.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(mv, 2, sku.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(mv, 3, ts, -1, SQLITE_STATIC);
    sqlite3_bind_int64(mv, 4, i);
    sqlite3_bind_int64(mv, 5, oh);
    step(mv);
    sqlite3_bind_text(st, 1, sku.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, oh);
    sqlite3_bind_text(st, 3, ts, -1, SQLITE_STATIC);
    step(st);
    if (outbox_row) {
      sqlite3_bind_int64(ob, 1, seq++);
      sqlite3_bind_text(ob, 2, id.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_text(ob, 3, ts, -1, SQLITE_STATIC);
      sqlite3_bind_text(ob, 4, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
      step(ob);
    }
    if (i % batch == batch - 1 || i == n - 1) {
      if (outbox_row) {
        sqlite3_bind_int64(ns, 1, seq);
        step(ns);
      }
      sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    }
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (auto* p : {mv, st, ob, ns}) sqlite3_finalize(p);
  sqlite3_close(db);
  return n / s;
}

}  // namespace depot::bench

namespace depot::bench {

// Bytes this process (or `pid`) has caused to be written to storage (/proc/PID/io
// write_bytes): the flash-wear figure; -1 when unreadable.
inline long long write_bytes(const std::string& pid = "self") {
  FILE* f = std::fopen(("/proc/" + pid + "/io").c_str(), "r");
  if (!f) return -1;
  char line[128];
  long long v = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "write_bytes: %lld", &v) == 1) break;
  std::fclose(f);
  return v;
}

}  // namespace depot::bench

namespace depot::bench {

// A payload of the agent's average outbox record size, the figure the honest bare limit
// writes: SELECT avg(length(payload)) of the movements stream.
inline std::size_t average_payload(const std::string& db_path) {
  sqlite3* db = nullptr;
  double avg = 0;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT avg(length(payload)) FROM outbox WHERE stream = 'movements'",
                           -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      avg = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return static_cast<std::size_t>(avg + 0.5);
}

// An empty agent database (its schema) with SKU-0..SKU-(skus-1), for the bare program.
inline std::string schema_db(const std::string& path, int skus) {
  auto db = store::Database::open(path, {.synchronous = Synchronous::kFull});
  std::vector<CatalogItem> items;
  for (int i = 0; i < skus; ++i) items.push_back(CatalogItem{.sku = "SKU-" + std::to_string(i)});
  if (!db || !store::apply_catalog(**db, items, "2026-11-23T00:00:00.000Z")) std::exit(1);
  return path;
}

}  // namespace depot::bench
