#include "scanner/tcp/tcp_scanner.hpp"

namespace depot::drivers {

using boost::asio::ip::tcp;

struct TcpScanner::Client {
  Client(boost::asio::io_context& io, tcp::socket s, LineAssembler l)
      : socket(std::move(s)), idle(io), line(io), lines(std::move(l)) {}
  tcp::socket socket;
  boost::asio::steady_timer idle, line;
  LineAssembler lines;
  std::array<char, 2048> buf{};
  std::string peer;
  std::uint64_t id = 0;
  std::uint64_t lines_done = 0;
  std::chrono::steady_clock::time_point last_line;  // or connected
  bool line_armed = false;
  bool closed = false;
};

TcpScanner::TcpScanner(boost::asio::io_context& io, std::string id, TcpSettings s,
                       ScanEvents events)
    : io_(io),
      id_(std::move(id)),
      settings_(std::move(s)),
      events_(std::move(events)),
      acceptor_(io),
      relisten_(io, std::chrono::seconds(30)) {}

TcpScanner::~TcpScanner() { stop(); }

ScannerHealth TcpScanner::health() const {
  ScannerHealth h;
  h.ok = listening_;
  h.problem = listening_ ? "" : problem_;
  h.clients = clients_.size();
  h.refused = refused_;
  h.evicted = evicted_;
  h.timed_out = timed_out_;
  return h;
}

void TcpScanner::start() { listen(); }

void TcpScanner::listen() {
  if (stopped_) return;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(settings_.listen, ec);
  if (ec) {
    problem_ = "listen address \"" + settings_.listen + "\" is not an IP address";
    events_.status(true, problem_);
    return;
  }
  tcp::endpoint ep(addr, static_cast<std::uint16_t>(settings_.port));
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(16, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    // Another process (an old agent still stopping, another service) holds the port: try
    // again with backoff rather than never listen while the agent says it is ready.
    problem_ = "cannot listen on " + settings_.listen + ":" + std::to_string(settings_.port) +
               ": " + ec.message();
    relisten_.schedule(problem_, events_, [this] { listen(); });
    return;
  }
  relisten_.opened();
  listening_ = true;
  problem_.clear();
  bound_port_ = acceptor_.local_endpoint(ec).port();
  events_.status(false, "listening on " + settings_.listen + ":" + std::to_string(bound_port_));
  accept();
}

// Full: the slot of the client idle longest goes to the newcomer, one that never finished a
// line first (a slow-loris holds slots without ever scanning). False when none can go.
bool TcpScanner::make_room() {
  std::shared_ptr<Client> victim;
  for (const auto& c : clients_) {
    if (!victim) {
      victim = c;
      continue;
    }
    const bool c_idle = c->lines_done == 0, v_idle = victim->lines_done == 0;
    if (c_idle != v_idle ? c_idle : c->last_line < victim->last_line) victim = c;
  }
  if (!victim) return false;
  ++evicted_;
  drop(victim,
       "closed to make room for a new connection (max_clients " +
           std::to_string(settings_.max_clients) + ")",
       false);
  return true;
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
    if (clients_.size() >= static_cast<std::size_t>(settings_.max_clients) && !make_room()) {
      ++refused_;
      events_.status(true, "refused " + peer + ": already " + std::to_string(clients_.size()) +
                               " clients (max_clients)");
      socket.close(pe);
      accept();
      return;
    }
    const auto client = ++next_client_;
    const bool own_station = settings_.station_per_client && events_.client_scan;
    auto c = std::make_shared<Client>(
        io_, std::move(socket),
        LineAssembler(Terminator::kLf, static_cast<std::size_t>(settings_.max_line), nullptr,
                      nullptr));
    std::weak_ptr<Client> weak = c;
    auto finished = [this, weak] {
      if (auto cl = weak.lock()) {
        ++cl->lines_done;
        cl->last_line = std::chrono::steady_clock::now();
        cl->line_armed = false;
        cl->line.cancel();
      }
    };
    c->lines = LineAssembler(
        Terminator::kLf, static_cast<std::size_t>(settings_.max_line),
        [this, client, own_station, finished](std::string l) {
          finished();
          if (own_station)
            events_.client_scan(client, std::move(l));
          else
            events_.scan(std::move(l));
        },
        [this, finished](std::string h, std::string r) {
          finished();
          events_.reject(std::move(h), std::move(r));
        });
    c->peer = peer;
    c->id = client;
    c->last_line = std::chrono::steady_clock::now();
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
    if (c->closed) return;
    arm_idle(c);
    if (c->lines.mid_line()) arm_line(c);
    read(c);
  });
}

void TcpScanner::arm_idle(const std::shared_ptr<Client>& c) {
  if (settings_.idle_timeout_s <= 0) return;
  c->idle.expires_after(std::chrono::seconds(settings_.idle_timeout_s));
  c->idle.async_wait([this, c](const boost::system::error_code& ec) {
    if (ec || stopped_ || c->closed) return;
    ++timed_out_;
    drop(c, "idle for " + std::to_string(settings_.idle_timeout_s) + " s, disconnected", false);
  });
}

// Started by the first byte of a line and NOT moved by later bytes: only a finished line
// (or a rejected one) stops it. A client trickling a byte at a time is cut off.
void TcpScanner::arm_line(const std::shared_ptr<Client>& c) {
  if (settings_.line_timeout_s <= 0 || c->line_armed) return;
  c->line_armed = true;
  c->line.expires_after(std::chrono::seconds(settings_.line_timeout_s));
  c->line.async_wait([this, c](const boost::system::error_code& ec) {
    if (ec || stopped_ || c->closed || !c->line_armed) return;
    ++timed_out_;
    c->lines.clear();  // an unfinished line is not a scan
    drop(c,
         "no complete line within " + std::to_string(settings_.line_timeout_s) +
             " s (line_timeout_s), disconnected",
         true);
  });
}

void TcpScanner::drop(const std::shared_ptr<Client>& c, const std::string& why, bool error) {
  if (c->closed) return;
  c->closed = true;
  boost::system::error_code ec;
  c->idle.cancel();
  c->line.cancel();
  c->socket.close(ec);
  clients_.remove(c);
  if (events_.client_closed) events_.client_closed(c->id);
  events_.status(error, "client " + c->peer + ": " + why);
}

void TcpScanner::stop() {
  if (stopped_) return;
  stopped_ = true;
  relisten_.cancel();
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (auto& c : clients_) {
    c->closed = true;
    c->idle.cancel();
    c->line.cancel();
    c->socket.close(ec);
  }
  clients_.clear();
}

}  // namespace depot::drivers
