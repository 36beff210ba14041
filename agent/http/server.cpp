#include "http/server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <map>
#include <optional>

namespace depot::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string checked_path(std::string_view target) {
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (path.empty() || path.front() != '/' || path.size() > 256) return {};
  for (char ch : path) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '%' || c == '\\') return {};
  }
  if (path.find("//") != std::string_view::npos) return {};
  // No "." or ".." segment anywhere.
  std::size_t start = 1;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    auto seg = path.substr(start, end - start);
    if (seg == "." || seg == "..") return {};
    start = end + 1;
  }
  return std::string(path);
}

namespace {

struct SessionBase {
  virtual ~SessionBase() = default;
  virtual void close() = 0;
};

}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::io_context& io_, ServerOptions o, std::vector<Route> r)
      : io(io_), options(std::move(o)), routes(std::move(r)), acceptor(io_) {}

  asio::io_context& io;
  ServerOptions options;
  std::vector<Route> routes;
  tcp::acceptor acceptor;
  std::optional<asio::ssl::context> tls;
  ServerStats stats;
  std::map<std::uint64_t, std::weak_ptr<SessionBase>> sessions;
  std::uint64_t next_id = 0;
  bool stopped = false;

  void accept();
  void dispatch(const Request& req, Response& res);
};

namespace {

Response plain(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body) + "\n";
  return r;
}

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(std::shared_ptr<Server::Impl> server, std::uint64_t id, Args&&... args)
      : server_(std::move(server)),
        id_(id),
        stream_(std::forward<Args>(args)...),
        buffer_(server_->options.max_header_bytes + kLineSlack) {
    ++server_->stats.open;
  }
  ~Session() override {
    if (streaming_) --server_->stats.streams;
    --server_->stats.open;
    server_->sessions.erase(id_);
  }

  void start() {
    if constexpr (std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>) {
      beast::get_lowest_layer(stream_).expires_after(server_->options.request_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) {
                                  if (ec == beast::error::timeout) ++self->server_->stats.timed_out;
                                  self->close();
                                  return;
                                }
                                self->read();
                              });
    } else {
      read();
    }
  }

  void close() override {
    closed_ = true;
    if (write_timer_) write_timer_->cancel();
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(stream_).socket();
    sock.shutdown(tcp::socket::shutdown_both, ec);
    sock.close(ec);
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    // The whole request, headers and body, within the timeout: a client that sends a byte
    // now and then (slow loris) is dropped when it runs out.
    beast::get_lowest_layer(stream_).expires_after(server_->options.request_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                               self->on_header(ec);
                             });
  }

  // Only "chunked" is a transfer coding the parser undoes: with another ("gzip, chunked") the
  // body would be taken still encoded (RFC 9112 6.1: 501), and the connection is not reused.
  // Answered from the header, before any body byte is waited for.
  void on_header(beast::error_code head_ec) {
    if (head_ec) {
      on_read(head_ec);
      return;
    }
    const auto& head = parser_->get();
    if (auto te = head[bhttp::field::transfer_encoding];
        !te.empty() && !beast::iequals(te, "chunked")) {
      ++server_->stats.bad;
      respond(plain(501, "a Transfer-Encoding other than chunked is not supported"), false);
      return;
    }
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->on_read(ec);
                      });
  }

  void on_read(beast::error_code ec) {
    auto& stats = server_->stats;
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == asio::error::eof || ec == asio::error::connection_reset) {
      close();
      return;
    }
    if (ec == beast::error::timeout) {
      ++stats.timed_out;
      close();
      return;
    }
    if (ec) {
      if (ec.category() != bhttp::make_error_code(bhttp::error::bad_method).category()) {
        close();  // a socket or TLS error: nobody to answer
        return;
      }
      ++stats.bad;
      if (ec == bhttp::error::header_limit)
        respond(plain(431, "request headers too large"), false);
      else if (ec == bhttp::error::buffer_overflow)  // a chunk line or trailer without end
        respond(plain(431, "a chunk header or the trailer is longer than " +
                               std::to_string(buffer_.max_size()) + " bytes"),
                false);
      else if (ec == bhttp::error::body_limit)
        respond(plain(413, "request body too large"), false);
      else
        respond(plain(400, "malformed request"), false);
      return;
    }
    auto msg = parser_->release();
    Request req;
    req.method = std::string(msg.method_string());
    auto target = std::string_view(msg.target().data(), msg.target().size());
    req.path = checked_path(target);
    if (auto q = target.find('?'); q != std::string_view::npos)
      req.query = std::string(target.substr(q + 1));
    req.body = std::move(msg.body());
    for (const auto& f : msg) {
      std::string name(f.name_string());
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    req.tls = std::is_same_v<Stream, beast::ssl_stream<beast::tcp_stream>>;
    Response res;
    server_->dispatch(req, res);
    respond(std::move(res), msg.keep_alive());
  }

  // --- Streams (SSE) ---
  class Sink : public StreamSink {
   public:
    explicit Sink(std::weak_ptr<Session> s) : s_(std::move(s)) {}
    bool push(std::string_view text) override {
      auto s = s_.lock();
      return s && s->push(text);
    }
    bool open() const override {
      auto s = s_.lock();
      return s && !s->closed_;
    }
    void close() override {
      if (auto s = s_.lock()) s->close();
    }

   private:
    std::weak_ptr<Session> s_;
  };

  bool push(std::string_view text) {
    if (closed_) return false;
    if (pending_.size() + writing_.size() + text.size() > server_->options.max_stream_buffer) {
      ++server_->stats.streams_dropped;
      close();
      return false;
    }
    pending_.append(text);
    if (writing_.empty()) write_pending();
    return true;
  }

  void write_pending() {
    if (closed_ || pending_.empty()) return;
    writing_.swap(pending_);
    // A write that does not finish in time (the client stopped reading) drops the client. (Not
    // the stream's own timeout: that would also end the read watching for the client leaving.)
    write_timer_->expires_after(server_->options.request_timeout);
    write_timer_->async_wait([w = this->weak_from_this()](const beast::error_code& ec) {
      auto self = w.lock();
      if (ec || !self || self->closed_) return;
      ++self->server_->stats.streams_dropped;
      self->close();
    });
    asio::async_write(stream_, asio::buffer(writing_),
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        self->write_timer_->cancel();
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->writing_.clear();
                        self->write_pending();
                      });
  }

  // Reads (and ignores) what the client sends, to notice when it goes away.
  void watch_stream() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) {
                                self->close();
                                return;
                              }
                              self->watch_stream();
                            });
  }

  void begin_stream(Response r) {
    ++server_->stats.requests;
    streaming_ = true;
    ++server_->stats.streams;
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " +
                       std::string(bhttp::obsolete_reason(static_cast<bhttp::status>(r.status))) +
                       "\r\nContent-Type: " + r.content_type +
                       "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                       "Connection: close\r\n";
    for (auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    head += "\r\n" + r.body;
    beast::get_lowest_layer(stream_).expires_never();
    write_timer_.emplace(stream_.get_executor());
    if (buffer_.size() > 0) buffer_.consume(buffer_.size());
    watch_stream();
    push(head);
    auto on_stream = std::move(r.on_stream);
    on_stream(std::make_shared<Sink>(this->weak_from_this()));
  }

  void respond(Response r, bool keep_alive) {
    if (r.defer && !server_->stopped) {
      auto defer = std::move(r.defer);
      defer([self = this->shared_from_this(), keep_alive,
             done = std::make_shared<bool>(false)](Response later) {
        if (*done) return;
        *done = true;
        if (later.defer) later = plain(500, "internal error");
        self->respond(std::move(later), keep_alive);
      });
      return;
    }
    if (r.on_stream && !server_->stopped) {
      begin_stream(std::move(r));
      return;
    }
    ++server_->stats.requests;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
    res->version(11);
    res->result(static_cast<unsigned>(r.status));
    res->set(bhttp::field::content_type, r.content_type);
    res->set(bhttp::field::cache_control, "no-store");
    res->set("X-Content-Type-Options", "nosniff");
    for (auto& [k, v] : r.headers) res->set(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keep_alive && !server_->stopped);
    res->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(server_->options.request_timeout);
    bhttp::async_write(stream_, *res,
                       [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                         if (ec) {
                           if (ec == beast::error::timeout) ++self->server_->stats.timed_out;
                           self->close();
                           return;
                         }
                         if (res->keep_alive())
                           self->read();
                         else
                           self->close();
                       });
  }

  std::shared_ptr<Server::Impl> server_;
  std::uint64_t id_;
  Stream stream_;
  // Bounded: the parser must hold a whole header, chunk-size line (with its extensions) or
  // trailer in it before it can go on; unbounded, one client sending a chunk line without
  // end grew the daemon by hundreds of MB within the request timeout. The body is taken out
  // as it arrives (body_limit), so it needs no room here.
  static constexpr std::size_t kLineSlack = 8192;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bool closed_ = false, streaming_ = false;
  std::string pending_, writing_;  // a stream's queued output and the write in flight
  char discard_[512];
  std::optional<asio::steady_timer> write_timer_;  // a stream's write deadline
};

}  // namespace

void Server::Impl::dispatch(const Request& req, Response& res) {
  if (req.path.empty()) {
    ++stats.bad;
    res = plain(400, "bad request target");
    return;
  }
  const Route* route = nullptr;
  for (const auto& r : routes)
    if (r.path == req.path) route = &r;
  if (!route) {
    res = plain(404, "not found");
    return;
  }
  bool allowed = false;
  std::string allow;
  for (const auto& m : route->methods) {
    allowed = allowed || m == req.method;
    allow += (allow.empty() ? "" : ", ") + m;
  }
  if (!allowed) {
    res = plain(405, "method not allowed");
    res.headers.emplace_back("Allow", allow);
    return;
  }
  try {
    res = route->handler(req);
  } catch (const std::exception&) {
    ++stats.errors;
    res = plain(500, "internal error");
  } catch (...) {
    ++stats.errors;
    res = plain(500, "internal error");
  }
}

void Server::Impl::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket sock) {
    if (self->stopped || ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (self->stats.open >= self->options.max_connections) {
        ++self->stats.refused;
        beast::error_code ignored;
        sock.close(ignored);
      } else {
        ++self->stats.accepted;
        auto id = self->next_id++;
        beast::error_code ignored;
        sock.set_option(tcp::no_delay(true), ignored);
        if (self->tls) {
          auto s = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
              self, id, std::move(sock), *self->tls);
          self->sessions.emplace(id, s);
          s->start();
        } else {
          auto s = std::make_shared<Session<beast::tcp_stream>>(self, id, std::move(sock));
          self->sessions.emplace(id, s);
          s->start();
        }
      }
    }
    // Out of file descriptors (EMFILE) and the like: try again shortly rather than spin.
    if (ec) {
      auto t = std::make_shared<asio::steady_timer>(self->io, std::chrono::milliseconds(100));
      t->async_wait([self, t](const beast::error_code& e) {
        if (!e && !self->stopped) self->accept();
      });
      return;
    }
    self->accept();
  });
}

Server::Server(asio::io_context& io, ServerOptions options, std::vector<Route> routes)
    : options_(options), impl_(std::make_shared<Impl>(io, std::move(options), std::move(routes))) {}

Server::~Server() { stop(); }

Status Server::start() {
  auto& im = *impl_;
  const auto where = "console.listen " + options_.address + ":" + std::to_string(options_.port);
  if (!options_.tls_cert.empty()) {
    im.tls.emplace(asio::ssl::context::tls_server);
    beast::error_code ec;
    im.tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                            asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                            asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                        ec);
    im.tls->use_certificate_chain_file(options_.tls_cert, ec);
    if (ec) return Error{"console.tls_cert: cannot use " + options_.tls_cert + ": " + ec.message()};
    im.tls->use_private_key_file(options_.tls_key, asio::ssl::context::pem, ec);
    if (ec) return Error{"console.tls_key: cannot use " + options_.tls_key + ": " + ec.message()};
  }
  beast::error_code ec;
  auto addr = asio::ip::make_address(options_.address, ec);
  if (ec) return Error{where + ": not an address: " + ec.message()};
  tcp::endpoint ep(addr, options_.port);
  im.acceptor.open(ep.protocol(), ec);
  if (!ec) im.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) im.acceptor.bind(ep, ec);
  if (!ec) im.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Error{where + ": cannot listen: " + ec.message()};
  im.accept();
  return {};
}

void Server::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  beast::error_code ec;
  impl_->acceptor.close(ec);
  auto sessions = impl_->sessions;
  for (auto& [id, w] : sessions)
    if (auto s = w.lock()) s->close();
}

const ServerStats& Server::stats() const { return impl_->stats; }

std::uint16_t Server::port() const {
  beast::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

}  // namespace depot::http
