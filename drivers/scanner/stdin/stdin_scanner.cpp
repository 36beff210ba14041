#include "scanner/stdin/stdin_scanner.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace depot::drivers {

StdinScanner::StdinScanner(boost::asio::io_context& io, std::string id, StdinSettings s,
                           ScanEvents events)
    : id_(std::move(id)),
      settings_(std::move(s)),
      events_(std::move(events)),
      fd_(io),
      lines_(Terminator::kLf, static_cast<std::size_t>(settings_.max_line),
             [this](std::string l) {
               line_ended_ = true;
               events_.scan(std::move(l));
             },
             [this](std::string h, std::string r) {
               line_ended_ = true;
               events_.reject(std::move(h), std::move(r));
             }),
      line_timer_(io) {}

void StdinScanner::start() {
  int fd = -1;
  if (settings_.path.empty()) {
    fd = ::dup(STDIN_FILENO);
  } else {
    struct stat st {};
    if (::stat(settings_.path.c_str(), &st) != 0 && errno == ENOENT) {
      if (::mkfifo(settings_.path.c_str(), 0660) != 0) {
        events_.status(true, "cannot create named pipe " + settings_.path + ": " + std::strerror(errno));
        return;
      }
      (void)::chmod(settings_.path.c_str(), 0660);  // the unit's UMask=0027 took group write

    } else if (!S_ISFIFO(st.st_mode)) {
      events_.status(true, settings_.path + " exists and is not a named pipe");
      return;
    }
    fd = ::open(settings_.path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  }
  if (fd < 0) {
    events_.status(true, "cannot open " + (settings_.path.empty() ? std::string("stdin") : settings_.path) +
                             ": " + std::strerror(errno));
    return;
  }
  boost::system::error_code ec;
  fd_.assign(fd, ec);
  if (!ec) fd_.non_blocking(true, ec);
  if (ec) {
    // A regular file or a terminal may refuse epoll; say so rather than spin.
    events_.status(true, "cannot read " + (settings_.path.empty() ? std::string("stdin") : settings_.path) +
                             " asynchronously: " + ec.message());
    ::close(fd);
    return;
  }
  events_.status(false, "reading scans from " +
                            (settings_.path.empty() ? std::string("standard input") : settings_.path));
  read();
}

void StdinScanner::read() {
  fd_.async_read_some(boost::asio::buffer(buf_), [this](const boost::system::error_code& ec,
                                                       std::size_t n) {
    if (stopped_) return;
    if (ec) {
      if (ec == boost::asio::error::operation_aborted) return;
      lines_.feed("\n");  // a last line without a newline still counts
      events_.status(ec != boost::asio::error::eof,
                     (settings_.path.empty() ? std::string("standard input") : settings_.path) +
                         (ec == boost::asio::error::eof ? " closed" : ": " + ec.message()) +
                         "; no more scans from it");
      return;
    }
    line_ended_ = false;
    lines_.feed(std::string_view(buf_.data(), n));
    watch_line();
    read();
  });
}

// Started by the first byte of a line and not moved by later bytes of it: a writer that left
// half a line has it rejected (the next writer's scan is not glued to it), as a TCP scanner's
// client is cut off. Rejected, not dropped silently: `depot-agent rejects` shows the fragment.
void StdinScanner::watch_line() {
  if (settings_.line_timeout_s <= 0) return;
  if (!lines_.mid_line()) {
    if (line_armed_) line_timer_.cancel();
    line_armed_ = false;
    ++line_gen_;
    return;
  }
  if (line_armed_ && !line_ended_) return;  // the same line as before
  line_armed_ = true;
  const auto gen = ++line_gen_;
  line_timer_.expires_after(std::chrono::seconds(settings_.line_timeout_s));
  line_timer_.async_wait([this, gen](const boost::system::error_code& ec) {
    if (ec || stopped_ || !line_armed_ || gen != line_gen_) return;
    line_armed_ = false;
    lines_.reject_pending("no end of line within " + std::to_string(settings_.line_timeout_s) +
                          " s of its first byte (line_timeout_s): its writer left it unfinished");
  });
}

void StdinScanner::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  fd_.close(ec);
  line_timer_.cancel();
}

}  // namespace depot::drivers
