// The agent's HTTP server (the console's door; docs/api.md): Boost.Beast on the daemon's own
// event loop, plain or TLS. Routes are a table, one handler per exact path; anything else is
// refused before a handler runs (404 for an unknown path, 405 for a method the route does not
// take, 400 for a target that is not a plain absolute path: "..", "%", "\\", NUL...).
// A slow or hostile client cannot stall the loop or grow the process: a whole request must
// arrive within `request_timeout` (a slow-loris client is dropped), headers and bodies are
// bounded, at most `max_connections` are open (more are closed at accept), one request is
// handled at a time per connection, and no exception leaves a handler (500 instead).
// Thread-safety: lives on the loop thread; handlers run there, so they must be quick.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace depot::http {

struct Request {
  std::string method;  // "GET", ...
  std::string path;    // the target without its query, checked (see above)
  std::string query;   // after '?', undecoded; "" when none
  std::string body;
  // Every header as received, the name lower-cased, in order.
  std::vector<std::pair<std::string, std::string>> headers;
  bool tls = false;  // arrived over TLS
  // The first header named `name` (lower case), or nullptr.
  const std::string* header(std::string_view name) const {
    for (const auto& [k, v] : headers)
      if (k == name) return &v;
    return nullptr;
  }
};

// A response that stays open (Server-Sent Events): text pushed to it is written to the client
// as it comes. A client that does not read is dropped once its queued output would pass
// `max_stream_buffer` or a write takes longer than `request_timeout`: memory stays bounded and
// the loop never waits for it.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Queues `text`; false when the stream is closed (now or by this push: too much queued).
  virtual bool push(std::string_view text) = 0;
  virtual bool open() const = 0;
  virtual void close() = 0;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: a stream. The head and `body` are sent, then the connection stays open (past
  // request_timeout, "Connection: close" semantics) and this gets the handle to push to it.
  std::function<void(std::shared_ptr<StreamSink>)> on_stream;
  // Set: the answer comes later, from work done off the loop (a password hash, say). Called at
  // once with `reply`, which must then be called on the loop thread (post to it), at most once,
  // with the real response; dropping `reply` uncalled closes the connection.
  std::function<void(std::function<void(Response)> reply)> defer;
};

using Handler = std::function<Response(const Request&)>;

struct Route {
  std::string path;                  // exact, e.g. "/metrics"
  std::vector<std::string> methods;  // e.g. {"GET"}; HEAD is answered for GET routes
  Handler handler;
};

struct ServerOptions {
  std::string address;  // numeric IPv4 or IPv6
  std::uint16_t port = 0;
  std::string tls_cert, tls_key;  // PEM files; both empty = plain HTTP
  std::size_t max_connections = 16;
  std::chrono::milliseconds request_timeout{10000};
  std::size_t max_header_bytes = 8192;
  std::size_t max_body_bytes = 65536;
  std::size_t max_stream_buffer = 65536;  // queued output per stream before it is dropped
};

struct ServerStats {
  std::uint64_t accepted = 0;   // connections taken
  std::uint64_t refused = 0;    // closed at accept: max_connections open
  std::uint64_t timed_out = 0;  // dropped: a request (or TLS handshake) did not arrive in time
  std::uint64_t requests = 0;   // answered, any status
  std::uint64_t bad = 0;        // refused as malformed, oversized, traversal (4xx before routing)
  std::uint64_t errors = 0;     // a handler threw (answered 500)
  std::size_t open = 0;         // connections open now
  std::size_t streams = 0;      // streams (SSE) open now
  std::uint64_t streams_dropped = 0;  // streams closed for not reading their output
};

class Server {
 public:
  Server(boost::asio::io_context& io, ServerOptions options, std::vector<Route> routes);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS files (when given), binds and starts accepting. An Error names the file or
  // the address.
  Status start();
  // Stops accepting and closes every connection.
  void stop();
  const ServerStats& stats() const;
  bool tls() const { return !options_.tls_cert.empty(); }
  // The bound port (useful when options.port was 0).
  std::uint16_t port() const;

  struct Impl;

 private:
  ServerOptions options_;
  std::shared_ptr<Impl> impl_;
};

// Checks a request target: the path (without the query) when it is a plain absolute path of
// printable ASCII with no "." or ".." segment, no '%', '\\' or "//"; "" otherwise.
std::string checked_path(std::string_view target);

}  // namespace depot::http
