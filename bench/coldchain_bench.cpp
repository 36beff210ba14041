// Cold chain throughput: N probes read every second (default 1,000) through ColdChain —
// check_reading, the zone monitors, per-minute summaries, one commit per second of all
// readings with their telemetry record, zone state — on a real database (WAL,
// synchronous=FULL). Simulated time runs as fast as the machine allows; the figure is the
// CPU time per simulated second as a share of one core (target: under 5%). Beside it, the bare
// limit: plain SQLite inserting the same rows with one commit per second of readings.
//
//   bench_coldchain [--probes N] [--seconds S] [--zones Z] [--dir DIR]
#include <sqlite3.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>

#include "app/cold_chain.hpp"
#include "base/resident.hpp"
#include "bare_sqlite.hpp"

using namespace depot;
namespace cc = coldchain;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The honest bare limit of what a second of readings writes to storage: the same reading
// rows into a database with the agent's schema (its indexes), plus one telemetry outbox
// record per second of `record_bytes`, one commit per second, synchronous=FULL. Returns bytes
// written (/proc/self/io).
long long bare_reading_bytes(const std::string& path, int probes, int seconds, int zones,
                             std::size_t record_bytes, int commit_s) {
  { auto db = store::Database::open(path, {.synchronous = Synchronous::kFull}); if (!db) std::exit(1); }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  sqlite3_stmt *ins = nullptr, *ob = nullptr;
  sqlite3_prepare_v2(db,
                     "INSERT INTO readings(probe, zone, wall_ms, mono_ns, celsius, quality, reason,"
                     " clock_unsynchronized, quantity) VALUES(?1,?2,?3,?4,?5,'good',NULL,0,'temperature')",
                     -1, &ins, nullptr);
  sqlite3_prepare_v2(db, "INSERT INTO outbox(stream, seq, id, ts, payload) VALUES('telemetry',?1,?2,'t',?3)",
                     -1, &ob, nullptr);
  const std::string record(record_bytes, 'x');
  const auto before = bench::write_bytes();
  for (int t = 0; t < seconds; ++t) {
    if (t % commit_s == 0) sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    for (int p = 0; p < probes; ++p) {
      const auto probe = "probe-" + std::to_string(p), zone = "zone-" + std::to_string(p % zones);
      sqlite3_bind_text(ins, 1, probe.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(ins, 2, zone.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(ins, 3, 1'795'000'020'000 + t * 1000LL);
      sqlite3_bind_int64(ins, 4, t * 1'000'000'000LL + p);
      sqlite3_bind_double(ins, 5, 5.0 + 0.001 * (p % 100));
      if (sqlite3_step(ins) != SQLITE_DONE) std::exit(1);
      sqlite3_reset(ins);
    }
    const auto id = "r" + std::to_string(t);
    sqlite3_bind_int64(ob, 1, t + 1);
    sqlite3_bind_text(ob, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(ob, 3, record.data(), static_cast<int>(record.size()), SQLITE_STATIC);
    if (sqlite3_step(ob) != SQLITE_DONE) std::exit(1);
    sqlite3_reset(ob);
    if (t % commit_s == commit_s - 1 || t == seconds - 1) sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  const auto written = bench::write_bytes() - before;
  sqlite3_finalize(ins);
  sqlite3_finalize(ob);
  sqlite3_close(db);
  return written;
}

// Average size of a second's telemetry: the agent's outbox records of the telemetry stream.
std::size_t telemetry_bytes_per_second(const std::string& path, int seconds) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  double total = 0;
  if (sqlite3_prepare_v2(db, "SELECT total(length(payload)) FROM outbox WHERE stream = 'telemetry'", -1,
                         &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    total = sqlite3_column_double(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return static_cast<std::size_t>(total / seconds);
}

long long agent_written = 0;  // bytes agent_run caused to be written (/proc/self/io)

double agent_run(const std::string& path, int probes, int seconds, int zones, int commit_s = 1,
                 int raw_every_s = 1) {
  auto db = store::Database::open(path, {.synchronous = Synchronous::kFull});
  if (!db) {
    std::cerr << db.error().message << "\n";
    std::exit(1);
  }
  store::Ledger ledger(**db);
  app::ColdChainSettings s;
  for (int z = 0; z < zones; ++z) {
    cc::Zone zone;
    zone.id = "zone-" + std::to_string(z);
    zone.min_c = 2;
    zone.max_c = 8;
    zone.warning_band_c = 1;
    s.zones.push_back(zone);
  }
  for (int p = 0; p < probes; ++p) {
    cc::SensorConfig c;
    c.id = "probe-" + std::to_string(p);
    c.zone = "zone-" + std::to_string(p % zones);
    c.read_interval_s = 1;
    c.offline_after_s = 5;
    s.sensors.push_back(c);
  }
  s.readings_commit_s = commit_s;
  s.retention.raw_every_s = raw_every_s;
  std::int64_t ids = 0;
  app::ColdChainHooks h;
  h.new_id = [&] { return "id" + std::to_string(++ids); };
  app::ColdChain chain(**db, ledger, std::move(s), std::move(h));
  const std::int64_t wall0 = 1'795'000'020'000;
  if (!chain.start({1'000'000'000, wall0, false})) std::exit(1);
  const double cpu0 = cpu_seconds();
  const auto written0 = bench::write_bytes();
  for (int t = 0; t < seconds; ++t) {
    for (int p = 0; p < probes; ++p) {
      cc::Reading r;
      r.probe = "probe-" + std::to_string(p);
      r.celsius = 5.0 + 0.001 * (p % 100) + 0.01 * (t % 7);
      r.mono_ns = 1'000'000'000LL + t * 1'000'000'000LL + p * 1000LL;
      r.wall_ms = wall0 + t * 1000LL;
      chain.on_reading(std::move(r));
    }
    chain.tick({1'000'000'000LL + t * 1'000'000'000LL + 999'000'000LL, wall0 + t * 1000LL + 999, false});
  }
  const double cpu = cpu_seconds() - cpu0;
  agent_written = bench::write_bytes() - written0;
  if (chain.counters().store_errors) {
    std::cerr << "store errors: " << chain.counters().store_errors << "\n";
    std::exit(1);
  }
  return cpu;
}

}  // namespace

int main(int argc, char** argv) {
  depot::tune_allocator();  // the daemon's allocator settings: the agent's code runs in here
  depot::store::configure_sqlite();  // and SQLite's (store/database.hpp), before any open
  int probes = 1000, seconds = 60, zones = 20;
  std::string dir = std::filesystem::temp_directory_path() / "depot-bench-coldchain";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--probes") probes = std::atoi(argv[i + 1]);
    else if (k == "--seconds") seconds = std::atoi(argv[i + 1]);
    else if (k == "--zones") zones = std::atoi(argv[i + 1]);
    else if (k == "--dir") dir = argv[i + 1];
  }
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const double cpu = agent_run(dir + "/agent.db", probes, seconds, zones);
  const double bare_cpu0 = cpu_seconds();
  bench::bare_sqlite_inserts(dir + "/bare.db", probes * seconds, probes);
  const double bare_cpu = cpu_seconds() - bare_cpu0;
  std::printf("cold chain: %d probes at 1 Hz, %d zones, %d s simulated: %.2f%% of one core "
              "(%.1f ms CPU per second of readings; target < 5%%)\n",
              probes, zones, seconds, 100.0 * cpu / seconds, 1000.0 * cpu / seconds);
  std::printf("bare limit: plain SQLite inserting the same rows, one commit per second: %.2f%% "
              "of one core\n",
              100.0 * bare_cpu / seconds);
  // Flash wear (issue 18): bytes written per reading, committing every second and every 10 s
  // (durability.readings_commit_s, default 10), beside bare SQLite writing the same rows
  // with the same commits; 100 probes, as a gateway has.
  const int flash_probes = std::min(probes, 100), flash_seconds = 600;
  for (int commit_s : {1, 10, 30, 60}) {
    const auto agent_db = dir + "/flash-" + std::to_string(commit_s) + ".db";
    (void)agent_run(agent_db, flash_probes, flash_seconds, std::min(zones, 10), commit_s);
    const auto record = telemetry_bytes_per_second(agent_db, flash_seconds);
    const auto bare_written =
        bare_reading_bytes(dir + "/bare-rows-" + std::to_string(commit_s) + ".db", flash_probes,
                           flash_seconds, std::min(zones, 10), record, commit_s);
    const double n = static_cast<double>(flash_probes) * flash_seconds;
    std::printf("bytes written per probe reading, commit every %2d s: %.0f B   same rows, bare "
                "SQLite %.0f B   ratio %.2f   target <= 2   (%.0f MB a day for %d probes at 1 Hz)\n",
                commit_s, static_cast<double>(agent_written) / n, static_cast<double>(bare_written) / n,
                static_cast<double>(agent_written) / static_cast<double>(bare_written),
                static_cast<double>(agent_written) / flash_seconds * 86400 / 1e6, flash_probes);
  }
  // retention.raw_every_s: a quiet probe's raw reading stored once every N s (the minute
  // summaries and every reading around an event stay), per reading *read*.
  for (int every : {10, 60}) {
    const auto agent_db = dir + "/flash-raw-" + std::to_string(every) + ".db";
    (void)agent_run(agent_db, flash_probes, flash_seconds, std::min(zones, 10), 10, every);
    const double n = static_cast<double>(flash_probes) * flash_seconds;
    std::printf("bytes written per probe reading, commit every 10 s, retention.raw_every_s %d: "
                "%.0f B   (%.0f MB a day for %d probes at 1 Hz)\n",
                every, static_cast<double>(agent_written) / n,
                static_cast<double>(agent_written) / flash_seconds * 86400 / 1e6, flash_probes);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
