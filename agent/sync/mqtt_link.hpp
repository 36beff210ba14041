// The one place that talks to Paho MQTT: an async client connected to the configured broker
// (MQTT 3.1.1 or 5, TCP or TLS with optional client certificate, username and password),
// with a retained last will, reconnecting with exponential backoff and full jitter after
// every loss or failed attempt, and subscribed to this gateway's command topic.
//
// Threading: Paho runs its own threads; every Paho callback only `post`s onto the io_context
// given here, so handlers and `Done` callbacks run on the loop thread. Paho exceptions are
// caught here and come back as `Status`. Use MqttLink only from the loop thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "core/mqtt_config.hpp"
#include "sync/backoff.hpp"
#include "sync/inbound_queue.hpp"

namespace mqtt {
class async_client;
}

namespace depot::sync {

// A connection must last this long before the reconnect delays start again from the minimum.
inline constexpr std::chrono::seconds kBackoffResetAfter{30};

struct LinkOptions {
  MqttSettings mqtt;
  std::string password;    // already read from mqtt.password_file
  std::string will_topic;  // retained last will (QoS 1)
  std::string will_payload;
  std::string subscribe;  // topic filter subscribed at QoS 1 after each connection
};

class MqttLink {
 public:
  struct Handlers {
    std::function<void()> connected;                   // after CONNACK (and SUBSCRIBE sent)
    std::function<void(const std::string& why)> lost;  // a connection lost or attempt failed
    std::function<void(Inbound)> message;
  };
  // Runs on the loop when the broker acknowledged (ok) or the publish failed (error text).
  using Done = std::function<void(bool ok, const std::string& error)>;

  MqttLink(boost::asio::io_context& io, LinkOptions options, Handlers handlers);
  ~MqttLink();
  MqttLink(const MqttLink&) = delete;
  MqttLink& operator=(const MqttLink&) = delete;

  // Creates the client and makes the first connection attempt (further attempts follow on
  // their own). An Error only for settings Paho refuses outright.
  Status start();
  bool connected() const { return connected_; }
  // Connections made so far (the first one included): reconnects are this less one.
  std::uint64_t connects() const { return connects_; }
  // The delay before the next attempt, when one is scheduled (for logs).
  std::chrono::milliseconds last_delay() const { return last_delay_; }
  // Why the last attempt failed or the connection was lost; "" while connected.
  const std::string& problem() const { return problem_; }

  // Messages dropped because too many were waiting to be handled (sync/inbound_queue.hpp).
  std::uint64_t inbound_dropped() const { return inbound_dropped_; }

  // The broker's Maximum Packet Size from its MQTT 5 CONNACK on this connection; 0 when it
  // gave none (MQTT 3.1.1, or a broker without a limit).
  std::uint32_t broker_max_packet() const { return broker_max_packet_; }
  // The largest payload a message may carry on this connection: the smaller of
  // mqtt.max_packet_bytes and broker_max_packet(), less kMqttPacketOverhead for the topic,
  // properties and headers.
  std::size_t payload_limit() const;

  // Publishes one message. REQUIRES: connected(). `done` runs exactly once, on the loop,
  // unless the link is destroyed first. An Error when Paho refused it, or when the payload is
  // over payload_limit() (a broker drops the connection for such a packet; then `done` never
  // runs). The payload is moved into the message (a drain sends ~40 KB messages back to back).
  Status publish(const std::string& topic, std::string payload, int qos, bool retained,
                 Done done, const std::optional<std::string>& correlation = std::nullopt);

  // Stops reconnecting and disconnects cleanly, waiting at most `timeout` (blocks the loop;
  // for shutdown only). A clean disconnect does not send the last will.
  void stop(std::chrono::milliseconds timeout);

 private:
  class Listener;
  void connect();
  void schedule_reconnect(const std::string& why);
  void subscribe();
  void subscribe_failed(const std::string& why);
  // After a failed TLS connect: names the reason off the loop (sync/tls_check), then retries.
  void diagnose_tls(const std::string& failed);
  template <class F>
  void post(F f);
  // On the loop: hands a slice of the inbound messages to the handler (sync/inbound_queue).
  void take_inbound();

  boost::asio::io_context& io_;
  LinkOptions options_;
  Handlers handlers_;
  Backoff backoff_;
  std::mt19937_64 random_;
  boost::asio::steady_timer retry_;
  boost::asio::steady_timer resubscribe_;  // a failed command subscription, tried again
  std::chrono::seconds subscribe_delay_{1};
  // Handlers posted by Paho threads run only while this link lives: they hold `weak_alive_`
  // (written once, here, and only read afterwards), which expires when `alive_` is dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  const std::weak_ptr<bool> weak_alive_ = alive_;
  // Inbound messages, from Paho's threads to the loop (declared before client_: outlives it).
  InboundQueue inbound_;
  std::unique_ptr<Listener> connect_listener_, publish_listener_, subscribe_listener_;
  std::unique_ptr<mqtt::async_client> client_;  // after the listeners: destroyed first
  std::map<std::uint64_t, Done> pending_;
  std::uint64_t next_cookie_ = 1;
  std::uint64_t attempt_ = 0;  // connection attempt counter: stale Paho reports are ignored
  bool connected_ = false;
  std::uint64_t connects_ = 0;
  std::uint64_t inbound_dropped_ = 0;
  std::uint32_t broker_max_packet_ = 0;
  bool connecting_ = false;
  bool stopping_ = false;
  std::chrono::milliseconds last_delay_{0};
  std::optional<std::chrono::steady_clock::time_point> connected_at_;  // while connected
  std::string problem_;
  std::thread diagnosis_;  // joined before the next one and in the destructor
  bool diagnosing_ = false;
};

}  // namespace depot::sync
