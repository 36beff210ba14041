#include "scanner/tcp/tcp_scanner.hpp"

namespace depot::drivers {

using boost::asio::ip::tcp;

struct TcpScanner::Client {
  Client(boost::asio::io_context& io, tcp::socket s, LineAssembler l)
      : socket(std::move(s)), idle(io), lines(std::move(l)) {}
  tcp::socket socket;
  boost::asio::steady_timer idle;
  LineAssembler lines;
  std::array<char, 2048> buf{};
  std::string peer;
  bool closed = false;
};

TcpScanner::TcpScanner(boost::asio::io_context& io, std::string id, TcpSettings s,
                       ScanEvents events)
    : io_(io), id_(std::move(id)), settings_(std::move(s)), events_(std::move(events)), acceptor_(io) {}

TcpScanner::~TcpScanner() { stop(); }

void TcpScanner::start() {
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(settings_.listen, ec);
  if (ec) {
    events_.status(true, "listen address \"" + settings_.listen + "\" is not an IP address");
    return;
  }
  tcp::endpoint ep(addr, static_cast<std::uint16_t>(settings_.port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(16, ec);
  if (ec) {
    events_.status(true, "cannot listen on " + settings_.listen + ":" +
                             std::to_string(settings_.port) + ": " + ec.message());
    return;
  }
  bound_port_ = acceptor_.local_endpoint(ec).port();
  events_.status(false, "listening on " + settings_.listen + ":" + std::to_string(bound_port_));
  accept();
}

void TcpScanner::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopped_ || ec == boost::asio::error::operation_aborted) return;
    if (ec) {
      events_.status(true, "accept failed: " + ec.message());
      accept();
      return;
    }
    boost::system::error_code pe;
    auto remote = socket.remote_endpoint(pe);
    std::string peer = pe ? "?" : remote.address().to_string() + ":" + std::to_string(remote.port());
    if (clients_.size() >= static_cast<std::size_t>(settings_.max_clients)) {
      events_.status(true, "refused " + peer + ": already " + std::to_string(clients_.size()) +
                               " clients (max_clients)");
      socket.close(pe);
      accept();
      return;
    }
    auto c = std::make_shared<Client>(
        io_, std::move(socket),
        LineAssembler(Terminator::kLf, static_cast<std::size_t>(settings_.max_line),
                      [this](std::string l) { events_.scan(std::move(l)); },
                      [this](std::string h, std::string r) { events_.reject(std::move(h), std::move(r)); }));
    c->peer = peer;
    clients_.push_back(c);
    events_.status(false, "client " + peer + " connected");
    arm_idle(c);
    read(c);
    accept();
  });
}

void TcpScanner::read(const std::shared_ptr<Client>& c) {
  c->socket.async_read_some(boost::asio::buffer(c->buf), [this, c](const boost::system::error_code& ec,
                                                                 std::size_t n) {
    if (stopped_ || c->closed) return;
    if (ec) {
      c->lines.feed("\n");  // a last line without a newline still counts
      drop(c, ec == boost::asio::error::eof ? "disconnected" : ec.message(), ec != boost::asio::error::eof);
      return;
    }
    c->lines.feed(std::string_view(c->buf.data(), n));
    arm_idle(c);
    read(c);
  });
}

void TcpScanner::arm_idle(const std::shared_ptr<Client>& c) {
  if (settings_.idle_timeout_s <= 0) return;
  c->idle.expires_after(std::chrono::seconds(settings_.idle_timeout_s));
  c->idle.async_wait([this, c](const boost::system::error_code& ec) {
    if (ec || stopped_ || c->closed) return;
    drop(c, "idle for " + std::to_string(settings_.idle_timeout_s) + " s, disconnected", false);
  });
}

void TcpScanner::drop(const std::shared_ptr<Client>& c, const std::string& why, bool error) {
  if (c->closed) return;
  c->closed = true;
  boost::system::error_code ec;
  c->idle.cancel();
  c->socket.close(ec);
  clients_.remove(c);
  events_.status(error, "client " + c->peer + ": " + why);
}

void TcpScanner::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (auto& c : clients_) {
    c->closed = true;
    c->idle.cancel();
    c->socket.close(ec);
  }
  clients_.clear();
}

}  // namespace depot::drivers
