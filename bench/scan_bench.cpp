// Scanning throughput, each figure beside its bare limit measured in the same run:
//  1. GS1 decoding rate on one core, beside a bare pass that reads every byte of the same
//     scans once (the memory-bandwidth floor of touching the data);
//  2. scans over TCP committed to the ledger by the real `depot-agent run` (sync=FULL, group
//     commit), beside a bare SQLite program inserting the same number of rows with the same
//     durability and batch size.
//
//   bench_scan --agent PATH [--scans N] [--decodes N]
#include <sqlite3.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.hpp"
#include "bare_sqlite.hpp"
#include "base/resident.hpp"
#include "core/barcode.hpp"

using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::vector<std::string> sample_scans() {
  return {"]C10104006381333931\x1d" "10LT42\x1d" "17270331",
          "]C10114006381333938" "17270331" "10LOT-2026-11\x1d" "21SN000123",
          "(01)05012345678900(17)261130(10)B7",
          "]C100006141411234567890",
          "]C10205012345678900" "3712\x1d" "10X1",
          "4006381333931",
          "]E496385074"};
}

void bench_decode(long n) {
  auto scans = sample_scans();
  long ok = 0;
  auto start = Clock::now();
  for (long i = 0; i < n; ++i) {
    auto d = depot::barcode::decode(scans[static_cast<std::size_t>(i) % scans.size()], 2026);
    ok += d.ok();
  }
  double s = since(start);
  if (ok != n) std::fprintf(stderr, "decode: %ld of %ld failed\n", n - ok, n);
  unsigned sum = 0;
  start = Clock::now();
  for (long i = 0; i < n; ++i)
    for (unsigned char c : scans[static_cast<std::size_t>(i) % scans.size()]) sum += c;
  double bare = since(start);
  std::printf("%-46s %12.0f /s   bare byte pass %9.0f /s   ratio %.2f   target >= 1000000 /s%s\n",
              "GS1 decode, one core", static_cast<double>(n) / s, static_cast<double>(n) / bare, bare / s,
              sum == 42 ? " " : "");
}

long count_movements(const std::string& db_path) {
  sqlite3* db = nullptr;
  long n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT coalesce(max(seq), 0) FROM movements", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

void bench_tcp(const std::string& agent, int n) {
  auto dir = std::filesystem::temp_directory_path() / "depot-bench-scan";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::uint16_t port;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  std::ofstream(dir / "agent.json") << R"({"site":"bench","gateway":"gw","database":"depot.db",
    "log_level":"warning",
    "durability":{"synchronous":"full","batch_max_movements":256,"batch_max_ms":5},
    "catalog":[{"sku":"A","barcodes":["4006381333931"]},{"sku":"B","barcodes":["5012345678900"]},
               {"sku":"C","barcodes":["96385074"]}],
    "scanners":[{"id":"bench","driver":"tcp","role":"receive","port":)" + std::to_string(port) +
                                         R"(,"double_read_ms":0,"max_clients":4}]})";
  pid_t pid = fork();
  if (pid == 0) {
    std::string log = (dir / "agent.log").string();
    FILE* f = std::fopen(log.c_str(), "w");
    if (f) dup2(fileno(f), 2);
    execl(agent.c_str(), agent.c_str(), "run", "-c", (dir / "agent.json").c_str(), nullptr);
    _exit(127);
  }
  const std::string db_path = (dir / "depot.db").string();
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket sock(io);
  for (int i = 0; i < 500; ++i) {
    boost::system::error_code ec;
    sock.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) break;
    sock = boost::asio::ip::tcp::socket(io);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const char* codes[] = {"4006381333931\n", "5012345678900\n", "96385074\n"};
  std::string payload;
  for (int i = 0; i < n; ++i) payload += codes[i % 3];
  const auto agent_pid = std::to_string(pid);
  const auto written_before = depot::bench::write_bytes(agent_pid);
  auto start = Clock::now();
  boost::asio::write(sock, boost::asio::buffer(payload));
  long got = 0;
  while ((got = count_movements(db_path)) < n && since(start) < 120)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  double s = since(start);
  const auto agent_written = depot::bench::write_bytes(agent_pid) - written_before;
  // Then scans as a gateway sees them most of the day: one at a time, each its own commit
  // (20 ms apart, longer than the batch's 5 ms), for the flash figure per scan.
  const int single = 200;
  const auto single_before = depot::bench::write_bytes(agent_pid);
  for (int i = 0; i < single; ++i) {
    boost::asio::write(sock, boost::asio::buffer(std::string(codes[i % 3])));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto single_start = Clock::now();
  while (count_movements(db_path) < n + single && since(single_start) < 30)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto single_written = depot::bench::write_bytes(agent_pid) - single_before;
  const bool single_complete = count_movements(db_path) >= n + single;
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  const auto record = depot::bench::average_payload(db_path);
  double bare = depot::bench::bare_sqlite_inserts((dir / "bare.db").string(), n, 256);
  const auto rows_db = depot::bench::schema_db((dir / "bare-rows.db").string(), 3);
  const auto bare_before = depot::bench::write_bytes();
  double rows = depot::bench::bare_ledger_rows(rows_db, n, 256, 3, record);
  const auto bare_written = depot::bench::write_bytes() - bare_before;
  // The ceiling of the design that issue 18's one-row target would need (docs/performance.md):
  // the movement row its own outbox record, so no outbox row is written.
  const double rows_no_outbox = depot::bench::bare_ledger_rows(
      depot::bench::schema_db((dir / "bare-no-outbox.db").string(), 3), n, 256, 3, record, false);
  const auto one_db = depot::bench::schema_db((dir / "bare-one.db").string(), 3);
  const auto one_before = depot::bench::write_bytes();
  (void)depot::bench::bare_ledger_rows(one_db, single, 1, 3, record);
  const auto one_written = depot::bench::write_bytes() - one_before;
  const double ours = static_cast<double>(got) / s;
  const char* incomplete = got < n ? "  (INCOMPLETE)" : "";
  std::printf("%-46s %12.0f /s   same rows, bare SQLite %10.0f /s   ratio %.2f   target >= 0.5%s\n",
              "scans over TCP committed (sync=FULL)", ours, rows, ours / rows, incomplete);
  std::printf("%-46s %12s     one-row bare insert   %10.0f /s   ratio %.2f   target >= 0.25\n", "", "",
              bare, ours / bare);
  // Issue 18 asks for both ratios; the bare program writing the same rows is itself held to
  // this one: no program writing these rows can reach 0.25 of the one-row insert if it cannot.
  std::printf("%-46s %12s     same rows, bare, vs one-row %5.2f (the most any writer of these rows reaches)\n",
              "", "", rows / bare);
  std::printf("%-46s %12s     same rows, no outbox row %8.0f /s   vs one-row %.2f (a bare ceiling, not a target)\n",
              "", "", rows_no_outbox, rows_no_outbox / bare);
  std::printf("%-46s %12.0f B    same rows, bare SQLite %10.0f B    ratio %.2f   target <= 2  (record %zu B)\n",
              "bytes written to storage per committed scan", static_cast<double>(agent_written) / n,
              static_cast<double>(bare_written) / n,
              static_cast<double>(agent_written) / static_cast<double>(bare_written), record);
  std::printf("%-46s %12.0f B    same rows, bare SQLite %10.0f B    ratio %.2f   target <= 2%s\n",
              "  ...one scan per commit (20 ms apart)", static_cast<double>(single_written) / single,
              static_cast<double>(one_written) / single,
              static_cast<double>(single_written) / static_cast<double>(one_written),
              single_complete ? "" : "  (INCOMPLETE)");
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  depot::tune_allocator();            // the daemon's allocator settings: GS1 decoding runs in here,
  depot::store::configure_sqlite();  // and its SQLite settings, for the bare programs alike
  std::string agent;
  int scans = 100000;
  long decodes = 2000000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--agent") agent = argv[i + 1];
    else if (k == "--scans") scans = std::stoi(argv[i + 1]);
    else if (k == "--decodes") decodes = std::stol(argv[i + 1]);
  }
  bench_decode(decodes);
  if (!agent.empty()) bench_tcp(agent, scans);
  return 0;
}
