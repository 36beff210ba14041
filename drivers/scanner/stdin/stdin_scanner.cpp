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
             [this](std::string l) { events_.scan(std::move(l)); },
             [this](std::string h, std::string r) { events_.reject(std::move(h), std::move(r)); }) {}

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
    lines_.feed(std::string_view(buf_.data(), n));
    read();
  });
}

void StdinScanner::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  fd_.close(ec);
}

}  // namespace depot::drivers
