// The bare limit the ledger benchmarks stand beside: a plain SQLite program inserting rows
// of the same shape with the same durability (WAL, synchronous=FULL) and batch size.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <string>

#include "base/clock.hpp"

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
