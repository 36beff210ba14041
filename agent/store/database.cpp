#include "store/database.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <chrono>
#include <system_error>
#include <thread>

#include "store/schema.hpp"

namespace depot::store {
namespace {

Error sqlite_error(sqlite3* db, std::string_view what) {
  return Error{std::string(what) + ": " + sqlite3_errmsg(db)};
}

}  // namespace

// --- Statement -------------------------------------------------------------------------

Statement& Statement::bind(int i, std::int64_t v) {
  bind_failed_ |= sqlite3_bind_int64(stmt_, i, v) != SQLITE_OK;
  return *this;
}
Statement& Statement::bind(int i, double v) {
  bind_failed_ |= sqlite3_bind_double(stmt_, i, v) != SQLITE_OK;
  return *this;
}
Statement& Statement::bind(int i, std::string_view v) {
  bind_failed_ |= sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                                    SQLITE_TRANSIENT) != SQLITE_OK;
  return *this;
}
Statement& Statement::bind(int i, const std::optional<std::string>& v) {
  return v ? bind(i, std::string_view(*v)) : bind_null(i);
}
Statement& Statement::bind(int i, const std::optional<std::int64_t>& v) {
  return v ? bind(i, *v) : bind_null(i);
}
Statement& Statement::bind(int i, const std::optional<double>& v) {
  return v ? bind(i, *v) : bind_null(i);
}
Statement& Statement::bind_null(int i) {
  bind_failed_ |= sqlite3_bind_null(stmt_, i) != SQLITE_OK;
  return *this;
}

Expected<bool> Statement::step() {
  if (bind_failed_) return sqlite_error(db_, std::string("binding ") + sqlite3_sql(stmt_));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  if (last_failure_) *last_failure_ = sqlite3_errcode(db_) & 0xff;
  return sqlite_error(db_, std::string("running ") + sqlite3_sql(stmt_));
}

Status Statement::run() {
  for (;;) {
    auto r = step();
    if (!r) {
      reset();
      return r.error();
    }
    if (!*r) break;
  }
  reset();
  return {};
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_failed_ = false;
}

std::string Statement::text(int col) const { return std::string(text_view(col)); }
std::string_view Statement::text_view(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
           : std::string_view();
}
std::optional<std::string> Statement::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}
std::optional<std::int64_t> Statement::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}
std::optional<double> Statement::opt_real(int col) const {
  if (is_null(col)) return std::nullopt;
  return real(col);
}

// --- Txn -------------------------------------------------------------------------------

Expected<Txn> Txn::begin(Database& db) {
  if (auto st = db.begin_immediate(); !st) return st.error();
  return Txn(db);
}

Txn::~Txn() {
  if (db_) db_->rollback();
}

Status Txn::commit() {
  if (!db_) return Error{"commit: the transaction is no longer open"};
  if (auto st = db_->commit(); !st) return st;  // still open: the destructor rolls back
  db_ = nullptr;
  return {};
}

// --- Database --------------------------------------------------------------------------

void configure_sqlite() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

Expected<std::unique_ptr<Database>> Database::open(const std::string& path, const OpenOptions& o) {
  configure_sqlite();
  if (o.read_only) {
    std::error_code ec;  // (a symlink loop: ELOOP, not "does not exist" nor an exception)
    const bool there = std::filesystem::exists(path, ec);
    if (ec) return Error{"database " + path + ": " + ec.message()};
    if (!there)
      return Error{"database " + path +
                   ": does not exist (start the agent or post a movement first)"};
  }
  if (!o.read_only) {
    auto dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
      return Error{"database " + path + ": directory " + dir.string() + " does not exist"};
  }
  sqlite3* raw = nullptr;
  int flags = (o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Database> db(new Database(raw, path, o.busy_timeout_ms));
  if (rc != SQLITE_OK) {
    // SQLite says "unable to open database file"; the system's reason says which problem.
    const int err = raw ? sqlite3_system_errno(raw) : 0;
    std::string why = err != 0 ? std::strerror(err) : std::string();
    if (why.empty()) {  // (not always kept by SQLite: ask the file system)
      std::error_code ec;
      (void)std::filesystem::status(path, ec);
      if (ec && ec != std::errc::no_such_file_or_directory) why = ec.message();
    }
    return Error{"database " + path + ": cannot open: " +
                 (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)) +
                 (why.empty() ? std::string() : " (" + why + ")")};
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, static_cast<int>(o.busy_timeout_ms));

  auto fail = [&](const Error& e) { return Error{"database " + path + ": " + e.message}; };
  if (!o.read_only) {
    // WAL: readers (the CLI) never block the writer; one fsync per commit of the WAL.
    // Switching a fresh file to WAL needs an exclusive lock, and SQLite does not call the busy
    // handler for it while another process (a CLI write racing the daemon's first start)
    // holds the file: retry for up to the busy timeout.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.busy_timeout_ms);
    for (;;) {
      auto s = db->prepare("PRAGMA journal_mode=WAL");
      if (!s) return fail(s.error());
      auto row = (*s)->step();
      if (row && *row && (*s)->text(0) == "wal") {
        (*s)->reset();
        break;
      }
      (*s)->reset();
      const int code = sqlite3_errcode(raw) & 0xff;
      if ((code == SQLITE_BUSY || code == SQLITE_LOCKED) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      return fail(row ? Error{"cannot switch to WAL journal mode"} : row.error());
    }
  }
  std::string sync = "PRAGMA synchronous=" + std::string(to_string(o.synchronous));
  if (auto st = db->exec(sync); !st) return fail(st.error());
  if (auto st = db->exec("PRAGMA foreign_keys=ON"); !st) return fail(st.error());
  if (o.read_only) {
    auto v = db->schema_version();
    if (!v) return fail(v.error());
    if (*v > static_cast<int>(migrations().size()))
      return fail(Error{"schema version " + std::to_string(*v) + " is newer than this agent (" +
                        std::to_string(migrations().size()) + ")"});
  } else if (auto st = db->migrate(); !st) {
    return fail(st.error());
  }
  return db;
}

Status Database::checkpoint_now() {
  sqlite3_busy_timeout(db_, 0);
  auto st = exec("PRAGMA wal_checkpoint(TRUNCATE)");
  sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout_ms_));
  return st;
}

Database::~Database() {
  cache_.clear();  // finalize statements before closing
  sqlite3_close_v2(db_);
}

Status Database::exec(std::string_view sql) {
  char* msg = nullptr;
  std::string s(sql);
  if (int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &msg); rc != SQLITE_OK) {
    last_failure_ = rc & 0xff;
    Error e{"running " + (s.size() > 60 ? s.substr(0, 60) + "..." : s) + ": " +
            (msg ? msg : sqlite3_errmsg(db_))};
    sqlite3_free(msg);
    return e;
  }
  return {};
}

Expected<Statement*> Database::prepare(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it != cache_.end()) {
    it->second->reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK)
    return sqlite_error(db_, "preparing " + std::string(sql));
  auto [pos, _] =
      cache_.emplace(std::string(sql), std::make_unique<Statement>(db_, stmt, &last_failure_));
  return pos->second.get();
}

std::int64_t Database::changes() { return sqlite3_changes64(db_); }

std::int64_t Database::total_changes() { return sqlite3_total_changes64(db_); }

void Database::rollback() {
  if (!sqlite3_get_autocommit(db_)) (void)exec("ROLLBACK");
}

Expected<int> Database::schema_version() {
  auto s = prepare("PRAGMA user_version");
  if (!s) return s.error();
  auto row = (*s)->step();
  if (!row) return row.error();
  int v = static_cast<int>((*s)->int64(0));
  (*s)->reset();
  return v;
}

Status Database::migrate() {
  auto all = migrations();
  auto v = schema_version();
  if (!v) return v.error();
  if (*v > static_cast<int>(all.size()))
    return Error{"schema version " + std::to_string(*v) + " is newer than this agent knows (" +
                 std::to_string(all.size()) + "): was it opened by a newer depot-agent?"};
  for (auto i = static_cast<std::size_t>(*v); i < all.size(); ++i) {
    auto txn = Txn::begin(*this);
    if (!txn) return txn.error();
    // Another process (the daemon and a CLI call on a fresh file) may have migrated while we
    // waited for the write lock: re-read the version inside the transaction.
    auto now = schema_version();
    if (!now) return now.error();  // the guard rolls back
    if (*now > static_cast<int>(i)) {
      i = static_cast<std::size_t>(*now) - 1;
      continue;
    }
    Status st = exec(all[i]);
    if (st) st = exec("PRAGMA user_version=" + std::to_string(i + 1));
    if (st) st = txn->commit();
    if (!st) return Error{"migration " + std::to_string(i + 1) + " failed: " + st.error().message};
  }
  return {};
}

Status Database::set_meta(std::string_view key, std::string_view value) {
  auto s = prepare(
      "INSERT INTO meta(key, value) VALUES(?1, ?2) "
      "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!s) return s.error();
  return (*s)->bind(1, key).bind(2, value).run();
}

Expected<std::optional<std::string>> Database::meta(std::string_view key) {
  auto s = prepare("SELECT value FROM meta WHERE key = ?1");
  if (!s) return s.error();
  auto row = (*s)->bind(1, key).step();
  if (!row) return row.error();
  std::optional<std::string> v;
  if (*row) v = (*s)->text(0);
  (*s)->reset();
  return v;
}

// --- Integrity -------------------------------------------------------------------------

const char* const kHistoryTables[] = {"movements", "outbox",      "rejects",   "commands",
                                      "readings",  "reading_minutes", "zone_events", "audit_log",
                                      "output_log", nullptr};

namespace {

// Runs one quick_check statement on `raw`; appends what it reports to `problem`.
int run_check(sqlite3* raw, const std::string& sql, std::string& problem) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(raw, sql.c_str(), -1, &st, nullptr);
  if (rc != SQLITE_OK) {
    problem += (problem.empty() ? "" : "; ") + std::string(sqlite3_errmsg(raw));
    return rc;
  }
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    std::string line = t ? t : "";
    if (line != "ok") problem += (problem.empty() ? "" : "; ") + line;
  }
  if (rc != SQLITE_DONE && problem.empty()) problem = sqlite3_errmsg(raw);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

bool is_history(std::string_view table) {
  for (auto* t = kHistoryTables; *t; ++t)
    if (table == *t) return true;
  return false;
}

// The tables CheckScope::kLive checks (every table but the history; none when the schema
// cannot be read, which the caller reports as damage).
std::vector<std::string> live_tables(sqlite3* raw, std::string& problem) {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(raw, "SELECT name FROM sqlite_schema WHERE type = 'table'", -1, &st,
                         nullptr) != SQLITE_OK) {
    problem = sqlite3_errmsg(raw);
    return out;
  }
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    if (t && !is_history(t)) out.emplace_back(t);
  }
  if (rc != SQLITE_DONE) problem = sqlite3_errmsg(raw);
  sqlite3_finalize(st);
  return out;
}

std::string quoted(const std::string& name) {
  std::string q = "\"";
  for (char c : name) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

}  // namespace

Expected<IntegrityOutcome> check_or_move_aside(const std::string& path, std::string_view stamp,
                                               std::int64_t busy_timeout_ms, CheckScope scope) {
  configure_sqlite();  // the daemon's first use of SQLite
  IntegrityOutcome out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;

  std::string problem;
  {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
    if (raw) sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout_ms));
    if (rc != SQLITE_OK) {
      problem = std::string("cannot open: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    } else if (scope == CheckScope::kWhole) {
      run_check(raw, "PRAGMA quick_check", problem);
    } else {
      // quick_check(TABLE): that table and its indexes (SQLite 3.33 and later).
      for (const auto& t : live_tables(raw, problem)) {
        if (!problem.empty()) break;
        run_check(raw, "PRAGMA quick_check(" + quoted(t) + ")", problem);
      }
    }
    if (raw) {
      int code = sqlite3_errcode(raw);
      // A locked or busy file is not damage: another process holds it. Report, don't move.
      if (problem.size() && (code == SQLITE_BUSY || code == SQLITE_LOCKED)) {
        sqlite3_close_v2(raw);
        return Error{"database " + path + ": in use by another process: " + problem};
      }
      sqlite3_close_v2(raw);
    }
  }
  if (problem.empty()) return out;

  out.reason = problem;
  out.moved_to = path + ".corrupt-" + std::string(stamp);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::string from = path + suffix;
    if (!std::filesystem::exists(from, ec)) continue;
    std::filesystem::rename(from, out.moved_to + suffix, ec);
    if (ec)
      return Error{"database " + path + " is damaged (" + problem + ") and could not be moved to " +
                   out.moved_to + suffix + ": " + ec.message()};
  }
  out.moved_aside = true;
  return out;
}

Expected<std::string> quick_check_whole(const std::string& path, std::int64_t busy_timeout_ms,
                                        const std::atomic<bool>* cancel) {
  configure_sqlite();
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return Error{"database " + path + ": cannot open for the integrity check: " + why};
  }
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout_ms));
  if (cancel)
    sqlite3_progress_handler(
        raw, 10000,
        [](void* flag) { return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0; },
        const_cast<std::atomic<bool>*>(cancel));
  // Only the check's own pages: a small cache (the kernel's page cache does the rest).
  (void)sqlite3_exec(raw, "PRAGMA cache_size=-256", nullptr, nullptr, nullptr);
  std::string problem;
  rc = run_check(raw, "PRAGMA quick_check", problem);
  const int code = sqlite3_errcode(raw) & 0xff;
  sqlite3_close_v2(raw);
  if (cancel && cancel->load()) return Error{"integrity check cancelled"};
  // Damage is what quick_check reports, or a read that found the file corrupt; any other
  // failure (busy, I/O, memory) means the check did not run, not that the file is damaged.
  if (rc != SQLITE_OK && code != SQLITE_CORRUPT && code != SQLITE_NOTADB)
    return Error{"database " + path + ": integrity check did not run: " + problem};
  return problem;
}

}  // namespace depot::store
