// The TCP scanner: listens on an address and port for fixed-mount or network scanners that
// stream lines (LF or CRLF). Several clients at once up to `max_clients`; a line longer than
// `max_line` is rejected; a client silent for `idle_timeout_s` is disconnected. Bound to
// loopback unless configured otherwise. Config table: tcp/README.md.
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
  // The port actually bound (useful with port 0 in tests).
  std::uint16_t port() const { return bound_port_; }

 private:
  struct Client;
  void accept();
  void read(const std::shared_ptr<Client>& c);
  void arm_idle(const std::shared_ptr<Client>& c);
  void drop(const std::shared_ptr<Client>& c, const std::string& why, bool error);

  boost::asio::io_context& io_;
  std::string id_;
  TcpSettings settings_;
  ScanEvents events_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::list<std::shared_ptr<Client>> clients_;
  std::uint16_t bound_port_ = 0;
  bool stopped_ = false;
};

}  // namespace depot::drivers
