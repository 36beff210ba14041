// Telling the service manager how the agent is doing: the sd_notify datagram protocol, spoken
// directly (no libsystemd). systemd passes a unix datagram socket in NOTIFY_SOCKET (a path, or
// an abstract name written with a leading '@'); each notification is one datagram of
// newline-separated KEY=VALUE lines: READY=1, RELOADING=1, STOPPING=1, WATCHDOG=1, STATUS=...
// Without NOTIFY_SOCKET (run by hand, in tests) every call is a no-op that succeeds.
// `ServiceManagerLink` is what the daemon uses: READY, RELOADING and STOPPING at the right
// moments, and a timer on the event loop that sends WATCHDOG=1 at half of WATCHDOG_USEC, so
// the pings stop when the loop is blocked and systemd restarts a stuck agent.
// The parsing helpers are pure; `Notifier::send` is the only I/O. Thread-safety: one owner
// (the daemon's event loop thread).
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace depot::app {

// A NOTIFY_SOCKET value as a socket address. "@name" is the abstract name "\0name"; anything
// else must be an absolute path. Errors name the value and why it cannot be used.
struct NotifyAddress {
  sockaddr_un addr{};
  socklen_t length = 0;
};
Expected<NotifyAddress> parse_notify_socket(std::string_view value);

// How often to send WATCHDOG=1, from WATCHDOG_USEC and WATCHDOG_PID (either may be null):
// half the watchdog timeout, as sd_watchdog_enabled(3) advises; nothing when no watchdog is
// set, the value is not a positive whole number, or WATCHDOG_PID names another process.
std::optional<std::chrono::microseconds> watchdog_ping_interval(const char* watchdog_usec,
                                                                const char* watchdog_pid,
                                                                pid_t self);

// What the agent tells `systemctl status` in its STATUS= line. `connected` is empty while the
// agent does not know (no sync configured yet).
struct StatusFacts {
  std::size_t skus = 0;
  std::uint64_t scans = 0, posted = 0, rejected = 0;
  std::optional<std::int64_t> outbox;  // empty when the depth could not be read
  std::optional<bool> connected;
  // What is wrong, "" when healthy: a failing database, scans not recorded, a scanner down.
  // A non-empty value makes the line start with "UNHEALTHY: ...".
  std::string problems;
  std::string cloud_problem;  // why the cloud link is down, when it is
};
// One line, e.g. "120 SKUs; 57 scans (55 posted, 2 rejected); outbox 55; cloud connected".
std::string status_line(const StatusFacts& facts);

class Notifier {
 public:
  // Reads NOTIFY_SOCKET. An unusable value is logged once and leaves the notifier disabled.
  static Notifier from_environment();
  Notifier() = default;  // disabled
  explicit Notifier(NotifyAddress address) : address_(address) {}
  Notifier(Notifier&& other) noexcept;
  Notifier& operator=(Notifier&& other) noexcept;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;
  ~Notifier();

  bool enabled() const { return address_.has_value(); }
  // Sends `state` (e.g. "READY=1\nSTATUS=ready") as one datagram. Never blocks: a full socket
  // buffer is reported as an error, not waited for. Disabled: does nothing and succeeds.
  Status send(std::string_view state);

 private:
  std::optional<NotifyAddress> address_;
  int fd_ = -1;
};

// The daemon's line to systemd. Each heartbeat (half of WATCHDOG_USEC, or every 10 s without
// a watchdog) sends WATCHDOG=1 when a watchdog is set and STATUS= when the summary changed,
// and writes the log's summaries of suppressed repeating lines.
class ServiceManagerLink {
 public:
  ServiceManagerLink(boost::asio::io_context& io, Notifier notifier,
                     std::optional<std::chrono::microseconds> watchdog,
                     std::function<StatusFacts()> facts);
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID.
  static ServiceManagerLink from_environment(boost::asio::io_context& io,
                                             std::function<StatusFacts()> facts);

  void ready();      // READY=1 with the status line; starts the heartbeat on first call
  void reloading();  // RELOADING=1 (with MONOTONIC_USEC); call ready() when done
  void stopping();   // STOPPING=1; ends the heartbeat so the loop can finish
  std::optional<std::chrono::microseconds> watchdog() const { return watchdog_; }
  std::uint64_t watchdog_pings() const { return pings_; }  // WATCHDOG=1 sent so far

 private:
  void send(const std::string& state);
  void beat();

  Notifier notifier_;
  std::optional<std::chrono::microseconds> watchdog_;
  std::function<StatusFacts()> facts_;
  boost::asio::steady_timer timer_;
  std::string last_status_;
  bool beating_ = false;
  std::uint64_t pings_ = 0;
};

}  // namespace depot::app
