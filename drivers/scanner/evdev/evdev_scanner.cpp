#include "scanner/evdev/evdev_scanner.hpp"

#include <fcntl.h>
#include <linux/input.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace depot::drivers {

EvdevScanner::EvdevScanner(boost::asio::io_context& io, std::string id, EvdevSettings s,
                           ScanEvents events)
    : id_(std::move(id)),
      settings_(std::move(s)),
      events_(std::move(events)),
      fd_(io),
      reopen_(io, std::chrono::seconds(settings_.reopen_max_s)),
      keys_(settings_.layout, 256, [this](std::string l) { events_.scan(std::move(l)); },
            [this](std::string h, std::string r) { events_.reject(std::move(h), std::move(r)); }),
      buf_(sizeof(input_event) * 64) {}

void EvdevScanner::start() { open(); }

void EvdevScanner::open() {
  if (stopped_) return;
  int fd = ::open(settings_.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    reopen_.schedule("cannot open " + settings_.path + ": " + std::strerror(errno), events_, [this] { open(); });
    return;
  }
  if (settings_.grab) {
    if (::ioctl(fd, EVIOCGRAB, 1) != 0) {
      // ENOTTY: not an input device (a pipe in tests, or a misconfigured path); EBUSY:
      // something else holds the grab. Either way the scans still arrive: say so and go on.
      events_.status(true, "cannot grab " + settings_.path + " exclusively (EVIOCGRAB): " +
                               std::strerror(errno) + "; scans may also reach other readers");
    }
  }
  boost::system::error_code ec;
  fd_.assign(fd, ec);
  if (ec) {
    ::close(fd);
    reopen_.schedule("cannot watch " + settings_.path + ": " + ec.message(), events_, [this] { open(); });
    return;
  }
  reopen_.opened();
  have_ = 0;
  events_.status(false, "opened " + settings_.path + (settings_.grab ? " (grabbed)" : ""));
  read();
}

void EvdevScanner::read() {
  fd_.async_read_some(boost::asio::buffer(buf_.data() + have_, buf_.size() - have_),
                      [this](const boost::system::error_code& ec, std::size_t n) {
    if (stopped_ || ec == boost::asio::error::operation_aborted) return;
    if (ec) {  // ENODEV when unplugged; EOF from a pipe whose writer went away
      boost::system::error_code ignored;
      fd_.close(ignored);
      reopen_.schedule(settings_.path + " unplugged or closed: " + ec.message(), events_, [this] { open(); });
      return;
    }
    have_ += n;
    const std::size_t rec = sizeof(input_event);
    std::size_t off = 0;
    for (; off + rec <= have_; off += rec) {
      input_event ev;
      std::memcpy(&ev, buf_.data() + off, rec);
      keys_.feed(ev.type, ev.code, ev.value);
    }
    std::memmove(buf_.data(), buf_.data() + off, have_ - off);
    have_ -= off;
    read();
  });
}

void EvdevScanner::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  reopen_.cancel();
  if (fd_.is_open()) {
    if (settings_.grab) ::ioctl(fd_.native_handle(), EVIOCGRAB, 0);
    fd_.close(ec);
  }
}

}  // namespace depot::drivers
