#include "app/notify.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "base/clock.hpp"
#include "base/log.hpp"

namespace depot::app {

Expected<NotifyAddress> parse_notify_socket(std::string_view value) {
  const std::string shown = "NOTIFY_SOCKET \"" + std::string(value) + "\"";
  if (value.empty()) return Error{shown + ": empty"};
  NotifyAddress a;
  a.addr.sun_family = AF_UNIX;
  const bool abstract = value.front() == '@';
  if (!abstract && value.front() != '/')
    return Error{shown + ": must be an absolute path or an abstract name starting with '@'"};
  if (value.size() > sizeof(a.addr.sun_path) - (abstract ? 0 : 1))
    return Error{shown + ": longer than a unix socket address allows (" +
                 std::to_string(sizeof(a.addr.sun_path) - 1) + " bytes)"};
  std::memcpy(a.addr.sun_path, value.data(), value.size());
  if (abstract) a.addr.sun_path[0] = '\0';  // the abstract namespace: no trailing NUL counted
  a.length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + value.size() + (abstract ? 0 : 1));
  return a;
}

std::optional<std::chrono::microseconds> watchdog_ping_interval(const char* watchdog_usec,
                                                                const char* watchdog_pid,
                                                                pid_t self) {
  auto whole = [](const char* s) -> std::optional<std::uint64_t> {
    if (!s || !*s) return std::nullopt;
    std::uint64_t v = 0;
    const char* end = s + std::strlen(s);
    auto [p, ec] = std::from_chars(s, end, v);
    if (ec != std::errc() || p != end) return std::nullopt;
    return v;
  };
  auto usec = whole(watchdog_usec);
  if (!usec || *usec == 0) return std::nullopt;
  if (watchdog_pid && *watchdog_pid) {
    auto pid = whole(watchdog_pid);
    if (!pid || *pid != static_cast<std::uint64_t>(self)) return std::nullopt;
  }
  return std::chrono::microseconds(std::max<std::uint64_t>(*usec / 2, 1));
}

std::string status_line(const StatusFacts& f) {
  std::string s = std::to_string(f.skus) + " SKUs; " + std::to_string(f.scans) + " scans (" +
                  std::to_string(f.posted) + " posted, " + std::to_string(f.rejected) +
                  " rejected); outbox " + (f.outbox ? std::to_string(*f.outbox) : "unknown");
  if (f.connected) s += *f.connected ? "; cloud connected" : "; cloud not connected";
  if (f.connected && !*f.connected && !f.cloud_problem.empty()) s += " (" + f.cloud_problem + ")";
  if (!f.problems.empty()) s = "UNHEALTHY: " + f.problems + "; " + s;
  return s;
}

Notifier Notifier::from_environment() {
  const char* v = std::getenv("NOTIFY_SOCKET");
  if (!v) return Notifier();
  auto a = parse_notify_socket(v);
  if (!a) {
    log::warning(a.error().message + "; not notifying the service manager");
    return Notifier();
  }
  return Notifier(*a);
}

Notifier::Notifier(Notifier&& o) noexcept
    : address_(std::exchange(o.address_, std::nullopt)), fd_(std::exchange(o.fd_, -1)) {}

Notifier& Notifier::operator=(Notifier&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    address_ = std::exchange(o.address_, std::nullopt);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

Notifier::~Notifier() {
  if (fd_ >= 0) ::close(fd_);
}

Status Notifier::send(std::string_view state) {
  if (!address_) return Status::Ok();
  if (fd_ < 0) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd_ < 0) return Error{std::string("notify socket: ") + std::strerror(errno)};
  }
  ssize_t n;
  do {
    n = ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&address_->addr), address_->length);
  } while (n < 0 && errno == EINTR);
  if (n < 0)
    return Error{std::string("notify \"") + std::string(state.substr(0, 16)) +
                 "\": " + std::strerror(errno)};
  return Status::Ok();
}

ServiceManagerLink::ServiceManagerLink(boost::asio::io_context& io, Notifier notifier,
                                       std::optional<std::chrono::microseconds> watchdog,
                                       std::function<StatusFacts()> facts)
    : notifier_(std::move(notifier)), watchdog_(watchdog), facts_(std::move(facts)), timer_(io) {}

ServiceManagerLink ServiceManagerLink::from_environment(boost::asio::io_context& io,
                                                        std::function<StatusFacts()> facts) {
  auto notifier = Notifier::from_environment();
  auto watchdog = notifier.enabled() ? watchdog_ping_interval(std::getenv("WATCHDOG_USEC"),
                                                              std::getenv("WATCHDOG_PID"), getpid())
                                     : std::nullopt;
  return ServiceManagerLink(io, std::move(notifier), watchdog, std::move(facts));
}

void ServiceManagerLink::send(const std::string& state) {
  if (auto st = notifier_.send(state); !st)
    log::write_limited(log::Level::kWarning, "notify", st.error().message);
}

void ServiceManagerLink::ready() {
  last_status_ = status_line(facts_());
  send("READY=1\nSTATUS=" + last_status_);
  if (watchdog_) {
    send("WATCHDOG=1");
    ++pings_;
  }
  if (!beating_) {
    beating_ = true;
    beat();
  }
}

void ServiceManagerLink::reloading() {
  send("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=" + std::to_string(mono_now_ns() / 1000));
  last_status_ = "reloading";
}

void ServiceManagerLink::stopping() {
  send("STOPPING=1\nSTATUS=stopping");
  beating_ = false;
  timer_.cancel();
}

void ServiceManagerLink::beat() {
  timer_.expires_after(watchdog_ ? std::chrono::duration_cast<std::chrono::nanoseconds>(*watchdog_)
                                 : std::chrono::nanoseconds(std::chrono::seconds(10)));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || !beating_) return;
    // Runs on the event loop: while a handler blocks the loop, no ping goes out.
    if (watchdog_) {
      send("WATCHDOG=1");
      ++pings_;
    }
    if (notifier_.enabled()) {
      auto status = status_line(facts_());
      if (status != last_status_) send("STATUS=" + status);
      last_status_ = std::move(status);
    }
    log::flush_suppressed();
    beat();
  });
}

}  // namespace depot::app
