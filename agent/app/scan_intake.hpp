// Where scans enter the agent: starts one driver per configured scanner, gives each scan to
// that scanner's ScanStation (core/scan_station) to decide what it means, and then records
// the result — a movement through group commit, a compensating movement for UNDO, or a
// reject with its raw bytes. Every scan leaves a trace: a movement, a reject, or a log line
// for a control code. Thread-safety: lives on the daemon's event loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
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
  };

  ScanIntake(boost::asio::io_context& io, const std::vector<ScannerConfig>& scanners,
             const Catalog& catalog, store::Database& db, store::Ledger& ledger,
             store::GroupCommit& commits);
  void start();
  void stop();

  // What one scanner's device read: the same entry point every driver uses.
  void on_scan(const std::string& scanner_id, const std::string& data);
  const Counters& counters() const { return counters_; }

 private:
  void reject(const std::string& scanner_id, const std::string& data, const std::string& reason,
              std::int64_t mono_ns, const std::string& wall);
  void post(const std::string& scanner_id, MovementRequest m);

  boost::asio::io_context& io_;
  const Catalog& catalog_;
  store::Database& db_;
  store::Ledger& ledger_;
  store::GroupCommit& commits_;
  std::map<std::string, ScanStation> stations_;
  std::vector<std::unique_ptr<drivers::Scanner>> drivers_;
  const std::vector<ScannerConfig>& config_;
  Counters counters_;
};

}  // namespace depot::app
