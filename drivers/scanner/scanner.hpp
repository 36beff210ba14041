// Barcode scanner drivers: I/O only. A driver reads one device and reports each complete
// scan (the bytes between terminators) to its `ScanEvents` on the agent's event loop; it
// decodes nothing. What a scan means is decided by the domain core (core/scan).
// Lifecycle: construct, start(), stop(). A driver never takes the agent down: a device that
// disappears is reopened with exponential backoff, and every such event is reported.
// Thread-safety: all calls and callbacks happen on the io_context's one thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/scanner_config.hpp"

namespace depot::drivers {

struct ScanEvents {
  // One complete scan, terminator removed.
  std::function<void(std::string data)> scan;
  // Bytes that cannot be a scan (too long, ...): never silently dropped.
  std::function<void(std::string data, std::string reason)> reject;
  // Device lifecycle for the log: opened, unplugged, reopen failed, client connected...
  std::function<void(bool is_error, std::string message)> status;
  // Drivers with several clients (tcp, `station_per_client`): a scan from one client, and
  // that client gone (its station can go). Unset: `scan` gets every client's scans.
  std::function<void(std::uint64_t client, std::string data)> client_scan;
  std::function<void(std::uint64_t client)> client_closed;
};

// How a scanner is doing, for the status line and the MQTT status.
struct ScannerHealth {
  bool ok = true;               // listening / device open
  std::string problem;          // why not, while !ok
  std::uint64_t clients = 0;    // tcp: connected now
  std::uint64_t refused = 0;    // tcp: connections refused (full and nobody to make room)
  std::uint64_t evicted = 0;    // tcp: idle connections closed to make room for a new one
  std::uint64_t timed_out = 0;  // tcp: connections closed for an unfinished line or silence
};

class Scanner {
 public:
  virtual ~Scanner() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  virtual ScannerHealth health() const { return {}; }
};

std::unique_ptr<Scanner> make_scanner(boost::asio::io_context& io, const ScannerConfig& config,
                                      ScanEvents events);

// Exponential backoff for reopening a device: 100 ms, 200 ms, ... up to `max`.
class Backoff {
 public:
  explicit Backoff(std::chrono::milliseconds max) : max_(max) {}
  std::chrono::milliseconds next() {
    auto d = current_;
    current_ = std::min(current_ * 2, max_);
    return d;
  }
  void reset() { current_ = std::chrono::milliseconds(100); }

 private:
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_{100};
};

// Reopening a device that went away (unplugged, a read error): waits with Backoff before each
// attempt, reports the first failure of an outage as an error and the retries quietly.
class Reopener {
 public:
  Reopener(boost::asio::io_context& io, std::chrono::seconds max) : timer_(io), backoff_(max) {}
  // Reports `why` and calls `open` after the next backoff delay.
  void schedule(const std::string& why, const ScanEvents& events, std::function<void()> open) {
    auto delay = backoff_.next();
    events.status(!reported_down_, why + "; retrying in " + std::to_string(delay.count()) + " ms");
    reported_down_ = true;
    why_ = why;
    timer_.expires_after(delay);
    timer_.async_wait([open = std::move(open)](const boost::system::error_code& ec) {
      if (!ec) open();
    });
  }
  // The device is open again: the next outage starts from the shortest delay.
  void opened() {
    backoff_.reset();
    reported_down_ = false;
  }
  void cancel() { timer_.cancel(); }
  bool down() const { return reported_down_; }
  // Down (and why) between a failure and the next successful open.
  ScannerHealth health() const {
    ScannerHealth h;
    h.ok = !reported_down_;
    if (reported_down_) h.problem = why_;
    return h;
  }

 private:
  boost::asio::steady_timer timer_;
  Backoff backoff_;
  bool reported_down_ = false;
  std::string why_;
};

}  // namespace depot::drivers
