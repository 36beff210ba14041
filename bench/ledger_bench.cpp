// Ledger throughput: durable movements per second through GroupCommit + Ledger (synchronous
// =FULL, WAL, group commit), beside a bare SQLite program that inserts the same number of
// rows with the same durability and batch size (the bare limit of this disk and SQLite).
// Then `depot-agent stock --json` on a 100,000-SKU database, timed as a whole process.
//
//   bench_ledger [--movements N] [--skus N] [--batch N] [--dir DIR] [--agent PATH]
#include <cstdlib>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "base/clock.hpp"
#include "base/resident.hpp"
#include "bare_sqlite.hpp"
#include "store/group_commit.hpp"

using namespace depot;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double agent_ledger(const std::string& path, int n, int batch, int skus) {
  auto db = store::Database::open(path, {.synchronous = Synchronous::kFull});
  if (!db) {
    std::cerr << db.error().message << "\n";
    std::exit(1);
  }
  std::vector<CatalogItem> items;
  for (int i = 0; i < skus; ++i) items.push_back(CatalogItem{.sku = "SKU-" + std::to_string(i)});
  if (!store::apply_catalog(**db, items, "2026-11-23T00:00:00.000Z")) std::exit(1);
  store::Ledger ledger(**db);
  boost::asio::io_context io;
  store::GroupCommit gc(io, ledger, static_cast<std::size_t>(batch), std::chrono::milliseconds(5));
  int done = 0;
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    MovementRequest m;
    m.id = depot::new_id();  // the agent's time-ordered ids, as in production
    m.sku = "SKU-" + std::to_string(i % skus);
    m.kind = i % 3 == 0 ? MovementKind::kReceive : MovementKind::kPick;
    m.quantity = 1;
    m.source = "bench";
    m.wall_time = "2026-11-23T10:00:00.000Z";
    m.mono_ns = i;
    gc.submit(std::move(m), [&](const Expected<store::PostResult>& r) {
      if (!r || r->outcome != store::PostOutcome::kPosted) std::exit(1);
      ++done;
    });
  }
  gc.flush();
  double s = seconds_since(start);
  if (done != n) std::exit(1);
  return n / s;
}

}  // namespace

int main(int argc, char** argv) {
  depot::tune_allocator();  // the daemon's allocator settings: the agent's code runs in here
  depot::store::configure_sqlite();  // and SQLite's (store/database.hpp), before any open
  int n = 200000, skus = 1000, batch = 1024, big = 100000;
  std::string dir = std::filesystem::temp_directory_path() / "depot-bench-ledger";
  std::string agent_bin;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--movements") n = std::stoi(argv[i + 1]);
    else if (k == "--skus") big = std::stoi(argv[i + 1]);
    else if (k == "--batch") batch = std::stoi(argv[i + 1]);
    else if (k == "--dir") dir = argv[i + 1];
    else if (k == "--agent") agent_bin = argv[i + 1];
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  // Movements spread evenly over 1,000 SKUs: every batch touches many index pages, the
  // hardest case for the ledger. Once with the default batch, once with a quarter of it.
  for (int b : {batch, batch / 4}) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    double bare = bench::bare_sqlite_inserts(dir + "/bare.db", n, b);
    double ours = agent_ledger(dir + "/ledger.db", n, b, skus);
    // The honest bare limit: the same rows (movement, stock upsert, outbox record of the
    // agent's average size) in the agent's schema.
    double rows = bench::bare_ledger_rows(bench::schema_db(dir + "/rows.db", skus), n, b, skus,
                                          bench::average_payload(dir + "/ledger.db"));
    char label[64];
    std::snprintf(label, sizeof label, "durable movements (sync=FULL, batch %d)", b);
    std::printf("%-46s %12.0f /s   same rows, bare SQLite %10.0f /s   ratio %.2f   (one-row insert %.0f /s, ratio %.2f)\n",
                label, ours, rows, ours / rows, bare, ours / bare);
  }

  if (!agent_bin.empty()) {
    // A 100,000-SKU database, then `depot-agent stock --json` as an operator would run it.
    std::string db_path = dir + "/big.db";
    {
      auto db = store::Database::open(db_path, {.synchronous = Synchronous::kNormal});
      std::vector<CatalogItem> items;
      for (int i = 0; i < big; ++i) items.push_back(CatalogItem{.sku = "SKU-" + std::to_string(i), .name = "Item " + std::to_string(i)});
      if (!db || !store::apply_catalog(**db, items, "2026-11-23T00:00:00.000Z")) std::exit(1);
    }
    std::ofstream(dir + "/big.json") << R"({"site":"bench","gateway":"gw","database":"big.db"})";
    // Same catalog fingerprint is not needed: an empty config catalog retires nothing with
    // stock, so write stock rows for every SKU first.
    {
      auto db = store::Database::open(db_path, {.synchronous = Synchronous::kNormal});
      store::Ledger ledger(**db);
      std::vector<MovementRequest> ms;
      for (int i = 0; i < big; ++i) {
        MovementRequest m;
        m.id = "r" + std::to_string(i);
        m.sku = "SKU-" + std::to_string(i);
        m.kind = MovementKind::kReceive;
        m.quantity = 10 + i % 50;
        m.source = "bench";
        m.wall_time = "2026-11-23T10:00:00.000Z";
        ms.push_back(std::move(m));
      }
      if (!ledger.post(ms)) std::exit(1);
    }
    std::string cmd = agent_bin + " stock --json -c " + dir + "/big.json > /dev/null";
    std::system(cmd.c_str());  // warm the page cache once
    auto start = Clock::now();
    int rc = std::system(cmd.c_str());
    double s = seconds_since(start);
    start = Clock::now();
    // The bare limit: sqlite3 -json running the same join the listing runs (store/ledger.cpp
    // Ledger::stock: the catalog, its stock and expired lots, in SKU order).
    std::system(("sqlite3 -json " + db_path + " \"SELECT k.sku, k.name, k.unit, k.zone, k.active,"
                 " s.on_hand, s.held, s.updated_at, s.reserved, s.backordered, x.expired FROM skus k"
                 " LEFT JOIN stock s ON s.sku = k.sku LEFT JOIN (SELECT sku,"
                 " SUM(MAX(on_hand - held, 0)) AS expired FROM lot_stock WHERE expiry IS NOT NULL"
                 " AND expiry <> '' AND expiry < '2026-12-06' GROUP BY sku) x ON x.sku = k.sku"
                 " WHERE (k.active OR s.on_hand <> 0 OR s.held <> 0 OR s.reserved <> 0"
                 " OR s.backordered <> 0) ORDER BY k.sku\" > /dev/null").c_str());
    double bare_s = seconds_since(start);
    std::printf("%-46s %12.3f s    sqlite3 -json, same join %8.3f s   ratio %.1f   target < 0.5 s and <= 3x%s\n",
                "stock --json, 100,000 SKUs (whole process)", s, bare_s, s / bare_s,
                rc ? "  (FAILED)" : "");
  }
  if (!std::getenv("DEPOT_BENCH_KEEP")) std::filesystem::remove_all(dir);  // keep: for profiling
  return 0;
}
