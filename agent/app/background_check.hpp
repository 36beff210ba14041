// The whole-file integrity check after READY: store::quick_check_whole on its own thread and
// read-only connection (WAL: it never blocks the daemon's writes), so a database of a million
// records does not hold up the start. Its verdict comes back on the loop as `done(result)`:
// "" when the file is whole, SQLite's report when it is damaged, an Error when the check could
// not run. The destructor cancels a check still running and waits for its thread.
// Thread-safety: construct, start and destroy on the loop thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "core/error.hpp"

namespace depot::app {

class BackgroundCheck {
 public:
  using Done = std::function<void(const Expected<std::string>& result, std::int64_t took_ms)>;
  BackgroundCheck(boost::asio::io_context& io, std::string path, std::int64_t busy_timeout_ms,
                  Done done);
  ~BackgroundCheck();
  BackgroundCheck(const BackgroundCheck&) = delete;
  BackgroundCheck& operator=(const BackgroundCheck&) = delete;
  void start();

 private:
  boost::asio::io_context& io_;
  std::string path_;
  std::int64_t busy_timeout_ms_;
  Done done_;
  std::atomic<bool> cancel_{false};
  std::thread thread_;
};

}  // namespace depot::app
