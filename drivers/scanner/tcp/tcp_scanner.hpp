// The TCP scanner: listens on an address and port for fixed-mount or network scanners that
// stream lines (LF or CRLF). Several clients at once up to `max_clients`; a line longer than
// `max_line` is rejected; a client silent for `idle_timeout_s`, or one that starts a line and
// does not finish it within `line_timeout_s` (a trickle of bytes does not extend it), is
// disconnected. When every slot is taken, a new connection takes the slot of the client idle
// longest (one that never finished a line first); only when none can go is it refused, and
// counted. A port that cannot be bound (taken by another process) is retried with backoff and
// reported in health() until it is. Each client is its own scan station (`client_scan`)
// unless `station_per_client` is false. Bound to loopback unless configured otherwise.
// Config table: tcp/README.md.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <list>

#include "scanner/line_assembler.hpp"
#include "scanner/scanner.hpp"

namespace depot::drivers {

class TcpScanner : public Scanner {
 public:
  TcpScanner(boost::asio::io_context& io, std::string id, TcpSettings s, ScanEvents events);
  ~TcpScanner() override;
  void start() override;
  void stop() override;
  ScannerHealth health() const override;
  // The port actually bound (useful with port 0 in tests).
  std::uint16_t port() const { return bound_port_; }

 private:
  struct Client;
  void listen();
  void accept();
  void read(const std::shared_ptr<Client>& c);
  void arm_idle(const std::shared_ptr<Client>& c);
  void arm_line(const std::shared_ptr<Client>& c);
  bool make_room();
  void drop(const std::shared_ptr<Client>& c, const std::string& why, bool error);

  boost::asio::io_context& io_;
  std::string id_;
  TcpSettings settings_;
  ScanEvents events_;
  boost::asio::ip::tcp::acceptor acceptor_;
  Reopener relisten_;
  std::list<std::shared_ptr<Client>> clients_;
  std::uint16_t bound_port_ = 0;
  std::uint64_t next_client_ = 0;
  bool listening_ = false;
  std::string problem_;
  std::uint64_t refused_ = 0, evicted_ = 0, timed_out_ = 0;
  bool stopped_ = false;
};

}  // namespace depot::drivers
