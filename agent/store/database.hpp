// A thin RAII layer over one SQLite connection: open with the agent's pragmas (WAL,
// synchronous, busy timeout, foreign keys), versioned migrations, cached prepared
// statements and IMMEDIATE transactions. SQLite errors come back as `Error` values naming
// the SQL and SQLite's message. Thread-safety: one connection per thread (the agent's loop
// thread, or a CLI process); SQLite's file locking arbitrates between processes.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "core/config.hpp"
#include "core/error.hpp"

namespace depot::store {

// One prepared statement. Bind indexes start at 1. Owned by its Database's cache.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, int* last_failure = nullptr)
      : db_(db), stmt_(stmt), last_failure_(last_failure) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::optional<std::string>& value);
  Statement& bind(int index, const std::optional<std::int64_t>& value);
  Statement& bind(int index, const std::optional<double>& value);
  Statement& bind_null(int index);

  // Steps once: true when a row is available, false when done.
  Expected<bool> step();
  // Steps to completion (for statements that return no rows).
  Status run();
  void reset();

  std::int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::string_view text_view(int col) const;
  std::optional<std::string> opt_text(int col) const;
  std::optional<std::int64_t> opt_int64(int col) const;
  std::optional<double> opt_real(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int* last_failure_;  // the Database's, told of each failed step
  bool bind_failed_ = false;
};

class Database;

// A write transaction on a Database (BEGIN IMMEDIATE), as a value: it rolls back in its
// destructor unless commit() succeeded, so no early return, failed step or exception can
// leave the connection inside a transaction. Every write path opens one; a function that
// must run inside a transaction takes `const Txn&` (the precondition in its type).
class Txn {
 public:
  static Expected<Txn> begin(Database& db);
  Txn(Txn&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Txn& operator=(Txn&&) = delete;
  Txn(const Txn&) = delete;
  ~Txn();
  // COMMIT. On failure (busy, I/O, full) the guard still rolls back when it goes.
  Status commit();
  Database& db() const { return *db_; }

 private:
  explicit Txn(Database& db) : db_(&db) {}
  Database* db_;  // null once committed or moved from
};

template <class Fn>
decltype(auto) invoke_body(Fn& body, const Txn& txn) {
  if constexpr (std::is_invocable_v<Fn&, const Txn&>)
    return body(txn);
  else
    return body();
}

struct OpenOptions {
  Synchronous synchronous = Synchronous::kFull;
  std::int64_t busy_timeout_ms = 5000;
  bool read_only = false;  // CLI reads: never creates, never migrates
};

// The process's SQLite settings, applied once before SQLite's first use (Database::open calls
// it): allocation statistics off. Debian's SQLite (THREADSAFE=1, MEMSTATUS on) otherwise takes
// one global mutex around every malloc and free to count them; nothing here reads the counts
// (sqlite3_memory_used, a soft heap limit). Too late once SQLite is initialised: a process that
// opened SQLite itself first keeps the defaults (the benchmarks call it first). Thread-safe.
void configure_sqlite();

class Database {
 public:
  // Opens (creating when allowed) and migrates to the current schema. Errors name the path.
  static Expected<std::unique_ptr<Database>> open(const std::string& path, const OpenOptions& o);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* handle() { return db_; }

  Status exec(std::string_view sql);
  // PRAGMA wal_checkpoint(TRUNCATE) without waiting for readers: TRUNCATE waits (through the
  // busy handler, up to the busy timeout) until no reader is on an older snapshot, and another
  // connection may be mid-read for long (the publisher's sizing thread, a CLI). Busy, it gives
  // up at once; later checkpoints fold the WAL. For the event loop.
  Status checkpoint_now();
  // A statement prepared once per connection and reused (reset before it is returned).
  Expected<Statement*> prepare(std::string_view sql);

  Status begin_immediate() { return exec("BEGIN IMMEDIATE"); }
  // Runs `body` inside a Txn (BEGIN IMMEDIATE ... COMMIT). The guard rolls back when `body`
  // fails, when the commit fails, or when `body` throws (the exception then propagates with
  // the connection back in autocommit mode, usable by the next write). `body` takes no
  // argument or the `const Txn&` and returns Expected<T> or Status; so does this.
  template <class Fn>
  auto transaction(Fn&& body) -> decltype(invoke_body(body, std::declval<const Txn&>()));
  Status commit() { return exec("COMMIT"); }
  void rollback();
  // Rows changed by the latest INSERT, UPDATE or DELETE on this connection.
  std::int64_t changes();
  // Rows inserted, updated or deleted through this connection since it opened (every
  // statement, committed or not): a cheap "has this connection written since" check.
  std::int64_t total_changes();

  // SQLite's primary result code (SQLITE_BUSY, SQLITE_IOERR, SQLITE_FULL, ...) of the latest
  // failed statement on this connection since clear_failure(); 0 when none failed. Survives
  // the rollback that follows a failure, so a caller can tell a transient failure (busy, I/O,
  // disk full: worth retrying) from a permanent one.
  int last_failure() const { return last_failure_; }
  void clear_failure() { last_failure_ = 0; }
  static bool transient(int code) {
    return code == SQLITE_BUSY || code == SQLITE_LOCKED || code == SQLITE_IOERR ||
           code == SQLITE_FULL;
  }

  // Schema version applied (PRAGMA user_version).
  Expected<int> schema_version();

  // Key/value facts about this database (the schema owns the `meta` table).
  Status set_meta(std::string_view key, std::string_view value);
  Expected<std::optional<std::string>> meta(std::string_view key);

  // The per-gateway secret that keys the audit trail's hash chain (store/audit.hpp); empty
  // when none is configured.
  void set_audit_key(std::string key) { audit_key_ = std::move(key); }
  const std::string& audit_key() const { return audit_key_; }

 private:
  friend class Txn;
  Database(sqlite3* db, std::string path, std::int64_t busy_timeout_ms)
      : db_(db), path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms) {}
  Status migrate();

  sqlite3* db_;
  std::string path_;
  std::int64_t busy_timeout_ms_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
  int last_failure_ = 0;
  std::string audit_key_;
};

template <class Fn>
auto Database::transaction(Fn&& body) -> decltype(invoke_body(body, std::declval<const Txn&>())) {
  auto txn = Txn::begin(*this);
  if (!txn) return txn.error();
  auto result = invoke_body(body, *txn);
  if (!result) return result;  // the guard rolls back
  if (auto st = txn->commit(); !st) return st.error();
  return result;
}

// The result of checking a database file before the daemon uses it.
struct IntegrityOutcome {
  bool moved_aside = false;
  std::string moved_to;  // the damaged file's new name, when moved aside
  std::string reason;    // what SQLite said about it
};

// Checks an existing database file (`PRAGMA quick_check`). A damaged file is never deleted:
// it and its -wal/-shm files are renamed to `<path>.corrupt-<stamp>` so a fresh database
// can be created in its place and the old one recovered by hand (docs/operations.md).
// A missing file is fine (nothing to check). `stamp` is a compact UTC time, e.g.
// 20261123T143400Z. A file another process holds is waited for up to `busy_timeout_ms`, then
// reported as in use (never as damaged). Errors only when the file cannot be inspected or
// renamed.
//
// `scope` kLive checks only what the agent reads and rewrites in place (every table but the
// history tables, which only grow and are pruned by age: movements, outbox, readings, ...), so a database of a million records
// starts in well under a second; the daemon then checks the whole file after READY
// (quick_check below) and, when that finds damage, leaves `<path>.check-whole` so the next
// start checks everything first (docs/operations.md, "A damaged database").
enum class CheckScope { kWhole, kLive };
Expected<IntegrityOutcome> check_or_move_aside(const std::string& path, std::string_view stamp,
                                               std::int64_t busy_timeout_ms = 5000,
                                               CheckScope scope = CheckScope::kWhole);

// The history tables (they only grow, and are pruned by age) that CheckScope::kLive leaves to the check after READY.
extern const char* const kHistoryTables[];

// PRAGMA quick_check of the whole file through its own read-only connection (another thread
// may run it while the daemon writes: WAL readers do not block the writer). Returns what
// SQLite reported ("" when the file is whole), or an Error when it could not run or
// `cancel` became true (checked every few thousand steps).
Expected<std::string> quick_check_whole(const std::string& path, std::int64_t busy_timeout_ms,
                                        const std::atomic<bool>* cancel = nullptr);

}  // namespace depot::store
