// Live updates for the console (docs/api.md, "GET /api/events"): a hub of Server-Sent Events
// clients the daemon publishes to, and a watcher that turns what the daemon keeps in memory into
// events (a zone's readings and level, stock changed, alarms opened or closed) once a second.
// The hub keeps at most `max_clients` streams, sends a heartbeat comment every `heartbeat`, and
// relies on http::Server to drop a client that does not read (bounded output per stream).
// Thread-safety: the loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.hpp"

namespace depot::app {

struct ConsoleSources;

class EventHub {
 public:
  EventHub(boost::asio::io_context& io, std::size_t max_clients = 8,
           std::chrono::milliseconds heartbeat = std::chrono::seconds(15));
  void start();
  void stop();
  // False when `max_clients` streams are open already.
  bool add(std::shared_ptr<http::StreamSink> sink);
  bool full();
  // `event: <event>\ndata: <data as one line of JSON>\n\n` to every client.
  void publish(std::string_view event, const nlohmann::json& data);
  std::size_t clients();

 private:
  void prune();
  void arm();
  boost::asio::steady_timer timer_;
  std::size_t max_clients_;
  std::chrono::milliseconds heartbeat_;
  std::vector<std::shared_ptr<http::StreamSink>> sinks_;
  bool stopped_ = false;
};

// Publishes to `hub` what changed since the last tick (1 s): `zone` (a zone's level and probes,
// every change and at least every 10 s while a client listens, so charts move), `stock` (scans
// recorded movements) and `alarm` (the count of open alarms changed).
class ConsoleWatcher {
 public:
  ConsoleWatcher(boost::asio::io_context& io, const ConsoleSources& sources,
                 std::shared_ptr<EventHub> hub);
  void start();
  void stop() { timer_.cancel(); }
  // One tick (the tests call it).
  void tick();

 private:
  void arm();
  boost::asio::steady_timer timer_;
  const ConsoleSources& s_;
  std::shared_ptr<EventHub> hub_;
  std::map<std::string, std::string> zone_print_;  // zone -> its last published fingerprint
  std::map<std::string, int> zone_quiet_;          // zone -> ticks since it was published
  std::uint64_t posted_ = 0;
  std::int64_t open_alarms_ = -1;
};

// A zone's live state as the `zone` event carries it.
nlohmann::json zone_event(const ConsoleSources& s, std::string_view zone, std::int64_t wall_ms);

}  // namespace depot::app
