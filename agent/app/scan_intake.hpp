// Where scans enter the agent: starts one driver per configured scanner, gives each scan to
// its ScanStation (core/scan_station) to decide what it means, and then records the result -
// a movement through group commit, a compensating movement for UNDO, or a reject with its
// raw bytes (through group commit too). Every scan leaves a trace: a movement, a reject, a
// log line for a control code, or - when the database finally fails - a count of scans NOT
// recorded in the status. A TCP scanner's clients are each their own station (mode, QTY,
// UNDO, double reads) unless `station_per_client` is false. A quantity above the per-scan
// maximum (the SKU's `max_qty_per_scan`, else the scanner's) is a reject. More than
// `max_rejects_per_s` rejects from one scanner in a second become one row with their count.
// Thread-safety: lives on the daemon's event loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/catalog.hpp"
#include "core/scan_station.hpp"
#include "core/scanner_config.hpp"
#include "scanner/scanner.hpp"
#include "store/group_commit.hpp"
#include "store/ledger.hpp"

namespace depot::app {

class ScanIntake {
 public:
  struct Counters {
    std::uint64_t scans = 0, posted = 0, rejected = 0, controls = 0;
    std::uint64_t not_recorded = 0;      // scans lost to a failing database (movement or reject)
    std::uint64_t storm_suppressed = 0;  // rejects folded into a storm's count row
  };

  // `sku_limits`: SKUs with their own max_qty_per_scan (from the config catalog).
  ScanIntake(boost::asio::io_context& io, const std::vector<ScannerConfig>& scanners,
             const Catalog& catalog, store::Database& db, store::Ledger& ledger,
             store::GroupCommit& commits, std::map<std::string, std::int64_t> sku_limits = {});
  void start();
  void stop();

  // What one scanner's device read: the same entry point every driver uses. `client` tells
  // a TCP scanner's connections apart (0: the scanner's one station).
  void on_scan(const std::string& scanner_id, const std::string& data, std::uint64_t client = 0);
  void client_closed(const std::string& scanner_id, std::uint64_t client);
  const Counters& counters() const { return counters_; }
  // The same per scanner (its id), for /metrics: scans, posted and rejected.
  struct ScannerCounts {
    std::uint64_t scans = 0, posted = 0, rejected = 0;
  };
  const std::map<std::string, ScannerCounts>& per_scanner() const { return per_scanner_; }
  // Every scanner's driver health (listening, refused connections, ...).
  std::vector<std::pair<std::string, drivers::ScannerHealth>> health() const;
  // Short text for the STATUS= line: "" when all is well, else e.g. "scanner dock-1 DOWN: ...".
  std::string problems() const;
  nlohmann::json health_json() const;
  // Over the disk budget: every reject becomes part of its scanner's per-second count row.
  void set_counts_only(bool on);
  bool counts_only() const { return counts_only_; }
  // Logs the scans not recorded that are not logged yet (done on the loop; at shutdown after
  // the loop has ended).
  void flush_lost();
  // Records whatever storm counts are open (at shutdown, by tests).
  void flush_storms();

 private:
  struct Storm {
    std::int64_t window_start_ns = 0;
    std::int64_t in_window = 0;
    std::int64_t suppressed = 0;
    std::string last_raw, last_reason, last_wall;
    std::int64_t last_mono = 0;
  };
  void reject(const std::string& scanner_id, const std::string& data, const std::string& reason,
              std::int64_t mono_ns, const std::string& wall);
  void record(store::Reject rj);
  void lost(std::string what, const std::string& why);
  void close_storm(const std::string& scanner_id, Storm& s);
  void arm_storms();
  void post(const std::string& scanner_id, MovementRequest m);
  const ScannerConfig* config_of(const std::string& scanner_id) const;

  boost::asio::io_context& io_;
  const Catalog& catalog_;
  store::Database& db_;
  store::Ledger& ledger_;
  store::GroupCommit& commits_;
  std::map<std::pair<std::string, std::uint64_t>, ScanStation> stations_;
  std::vector<std::unique_ptr<drivers::Scanner>> drivers_;
  const std::vector<ScannerConfig>& config_;
  std::map<std::string, std::int64_t> sku_limits_;
  std::map<std::string, Storm> storms_;
  boost::asio::steady_timer storm_timer_;
  bool storm_timer_armed_ = false;
  bool counts_only_ = false;
  std::vector<std::string> lost_;  // not recorded, to be logged together
  std::string lost_why_;
  bool lost_posted_ = false;
  Counters counters_;
  std::map<std::string, ScannerCounts> per_scanner_;
};

}  // namespace depot::app
