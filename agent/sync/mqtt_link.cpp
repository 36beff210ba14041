#include "sync/mqtt_link.hpp"

#include <mqtt/async_client.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "base/log.hpp"
#include "sync/commands.hpp"
#include "sync/tls_check.hpp"

namespace depot::sync {


class MqttLink::Listener : public mqtt::iaction_listener {
 public:
  using Fn = std::function<void(const mqtt::token&, bool ok)>;
  explicit Listener(Fn fn) : fn_(std::move(fn)) {}
  void on_success(const mqtt::token& t) override { fn_(t, true); }
  void on_failure(const mqtt::token& t) override { fn_(t, false); }

 private:
  Fn fn_;
};

namespace {

std::string token_error(const mqtt::token& t) {
  std::string s = "return code " + std::to_string(t.get_return_code());
  auto rc = t.get_reason_code();
  if (rc != mqtt::ReasonCode::SUCCESS) s += ", reason " + std::to_string(static_cast<int>(rc));
  return s;
}

}  // namespace

template <class F>
void MqttLink::post(F f) {
  std::weak_ptr<bool> alive = weak_alive_;  // never alive_: the destructor resets that
  boost::asio::post(io_, [alive, f = std::move(f)]() mutable {
    if (alive.lock()) f();
  });
}

MqttLink::MqttLink(boost::asio::io_context& io, LinkOptions options, Handlers handlers)
    : io_(io),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      backoff_(std::chrono::seconds(options_.mqtt.backoff_min_s),
               std::chrono::seconds(options_.mqtt.backoff_max_s)),
      random_(std::random_device{}()),
      retry_(io),
      resubscribe_(io) {
  // Paho threads call these; each only posts onto the loop.
  connect_listener_ = std::make_unique<Listener>([this](const mqtt::token& t, bool ok) {
    auto attempt = reinterpret_cast<std::uintptr_t>(t.get_user_context());
    auto why = ok ? std::string() : token_error(t);
    std::uint32_t max_packet = 0;  // MQTT 5: the CONNACK's Maximum Packet Size, when it has one
    if (ok) {
      try {
        const auto props = t.get_connect_response().get_properties();
        if (props.contains(mqtt::property::MAXIMUM_PACKET_SIZE))
          max_packet = mqtt::get<std::uint32_t>(props, mqtt::property::MAXIMUM_PACKET_SIZE);
      } catch (const std::exception&) {  // no connect response (3.1.1): no limit from it
      }
    }
    post([this, attempt, ok, why, max_packet] {
      if (attempt != attempt_ || stopping_) return;
      connecting_ = false;
      if (!ok) {
        auto failed = "connecting to " + options_.mqtt.host + ":" +
                      std::to_string(options_.mqtt.port) + " failed (" + why + ")";
        if (options_.mqtt.tls)
          diagnose_tls(failed);
        else
          schedule_reconnect(failed);
        return;
      }
      connected_ = true;
      ++connects_;
      broker_max_packet_ = max_packet;
      if (max_packet)
        log::info("mqtt: the broker takes packets of at most " + std::to_string(max_packet) +
                  " bytes; messages carry at most " + std::to_string(payload_limit()) +
                  " bytes of payload");
      problem_.clear();
      connected_at_ = std::chrono::steady_clock::now();
      resubscribe_.cancel();
      subscribe_delay_ = std::chrono::seconds(options_.mqtt.backoff_min_s);
      subscribe();
      if (handlers_.connected) handlers_.connected();
    });
  });
  publish_listener_ = std::make_unique<Listener>([this](const mqtt::token& t, bool ok) {
    auto cookie = reinterpret_cast<std::uintptr_t>(t.get_user_context());
    auto why = ok ? std::string() : token_error(t);
    post([this, cookie, ok, why] {
      auto it = pending_.find(cookie);
      if (it == pending_.end()) return;
      auto done = std::move(it->second);
      pending_.erase(it);
      done(ok, why);
    });
  });
  subscribe_listener_ = std::make_unique<Listener>([this](const mqtt::token& t, bool ok) {
    std::string why = ok ? std::string() : token_error(t);
    // An MQTT 5 SUBACK may still refuse it (0x80 and up: an ACL, a quota); over 3.1.1 Paho
    // fails the token for a 0x80 (the response's codes read as garbage there).
    if (ok && options_.mqtt.protocol == MqttProtocol::kV5) {
      try {
        const auto response = t.get_subscribe_response();  // (a temporary's codes would dangle)
        for (auto rc : response.get_reason_codes())
          if (static_cast<int>(rc) >= 0x80)
            why = "the broker refused it (reason code " + std::to_string(static_cast<int>(rc)) + ")";
      } catch (const std::exception&) {
      }
    }
    if (why.empty()) return;
    post([this, why] { subscribe_failed(why); });
  });
}

void MqttLink::subscribe() {
  try {
    client_->subscribe(options_.subscribe, 1, nullptr, *subscribe_listener_);
  } catch (const mqtt::exception& e) {
    subscribe_failed(e.what());
  }
}

// Connected without its subscription, the gateway published and looked healthy but never
// received a command until the next reconnect: it is tried again, the delays doubling from
// backoff_min_s to backoff_max_s.
void MqttLink::subscribe_failed(const std::string& why) {
  if (stopping_ || !connected_) return;  // the next connection subscribes again
  log::error("mqtt: subscribing to " + options_.subscribe + " failed: " + why +
             "; commands are not received: trying again in " +
             std::to_string(subscribe_delay_.count()) + " s");
  resubscribe_.expires_after(subscribe_delay_);
  subscribe_delay_ =
      std::min(subscribe_delay_ * 2, std::chrono::seconds(options_.mqtt.backoff_max_s));
  resubscribe_.async_wait([this, alive = weak_alive_](const boost::system::error_code& ec) {
    if (ec || !alive.lock() || stopping_ || !connected_) return;
    subscribe();
  });
}

MqttLink::~MqttLink() {
  alive_.reset();  // handlers still queued on the loop will not run
  if (diagnosis_.joinable()) diagnosis_.join();  // bounded by its timeout
  if (client_) {
    try {
      if (client_->is_connected()) client_->disconnect(0)->wait_for(std::chrono::seconds(1));
    } catch (const std::exception&) {
    }
  }
}

Status MqttLink::start() {
  const auto& m = options_.mqtt;
  std::string uri =
      std::string(m.tls ? "ssl://" : "tcp://") + m.host + ":" + std::to_string(m.port);
  try {
    mqtt::create_options create(m.protocol == MqttProtocol::kV5 ? MQTTVERSION_5
                                                                : MQTTVERSION_3_1_1);
    client_ = std::make_unique<mqtt::async_client>(uri, m.client_id, create);
    client_->set_connection_lost_handler([this](const std::string& cause) {
      post([this, cause] {
        if (!connected_) return;
        connected_ = false;
        schedule_reconnect("connection lost" + (cause.empty() ? "" : ": " + cause));
      });
    });
    client_->set_disconnected_handler([this](const mqtt::properties&, mqtt::ReasonCode rc) {
      post([this, rc] {
        if (!connected_) return;
        connected_ = false;
        schedule_reconnect("the broker disconnected us (reason " +
                           std::to_string(static_cast<int>(rc)) + ")");
      });
    });
    client_->set_message_callback([this](mqtt::const_message_ptr msg) {
      // cmd/# also brings this gateway's own replies back (MQTT 3.1.1 has no "no local"):
      // dropped here, before they take a place in the queue a command flood competes for.
      const auto& topic = msg->get_topic();
      if (topic.size() > 6 && topic.compare(topic.size() - 6, 6, "/reply") == 0) return;
      Inbound in;
      in.topic = topic;
      // Refused by its size before it is copied: MQTT 3.1.1 has no receive limit, and a
      // 100 MB command was copied once more here (410 MB resident) and then dropped by the
      // queue's byte bound without a reply.
      const auto& payload = msg->get_payload_str();  // a reference, not a copy
      if (payload.size() > kMaxCommandBytes)
        in.oversized = payload.size();
      else
        in.payload = payload;
      const auto& props = msg->get_properties();
      if (props.contains(mqtt::property::RESPONSE_TOPIC))
        in.response_topic = mqtt::get<std::string>(props, mqtt::property::RESPONSE_TOPIC);
      if (props.contains(mqtt::property::CORRELATION_DATA))
        in.correlation = mqtt::get<std::string>(props, mqtt::property::CORRELATION_DATA);
      if (inbound_.push(std::move(in))) post([this] { take_inbound(); });
    });
  } catch (const std::exception& e) {
    return Error{"mqtt: creating the client for " + uri + ": " + e.what()};
  }
  connect();
  return {};
}

namespace {
// The largest packet the link accepts (MQTT 5): four times a command's kMaxCommandBytes.
// A command up to that size is refused with a reply that says it is too large; a larger one
// the broker drops without telling either side (MQTT 5, 3.1.2.11.4).
constexpr std::uint32_t kMaxInboundPacket = 4 * kMaxCommandBytes;
}  // namespace

void MqttLink::take_inbound() {
  auto slice = inbound_.take();
  // The next turn first: it queues behind the timers and sockets ready now, and a handler
  // that throws loses nothing that waits.
  if (slice.more) post([this] { take_inbound(); });
  inbound_dropped_ += slice.dropped;
  if (slice.dropped > 0)
    log::write_limited(log::Level::kWarning, "mqtt: inbound dropped",
                       "mqtt: " + std::to_string(slice.dropped) +
                           " message(s) dropped: more than " +
                           std::to_string(InboundQueue::kMaxMessages) + " messages or " +
                           std::to_string(InboundQueue::kMaxBytes / (1024 * 1024)) +
                           " MiB were waiting to be handled (a command among them got no "
                           "reply: resend it)");
  for (auto& in : slice.messages)
    if (handlers_.message) handlers_.message(std::move(in));
}

void MqttLink::connect() {
  if (stopping_ || connecting_ || connected_) return;
  const auto& m = options_.mqtt;
  try {
    mqtt::connect_options opts;
    if (m.protocol == MqttProtocol::kV5) {
      opts.set_mqtt_version(MQTTVERSION_5);
      opts.set_clean_start(true);
      // The broker sends nothing larger (MQTT 5, 3.1.2.11.4): a 100 MB message on the command
      // topic was received whole, copied twice and refused after, 400 MB at its peak.
      opts.set_properties(
          mqtt::properties{{mqtt::property::MAXIMUM_PACKET_SIZE, kMaxInboundPacket}});
    } else {
      opts.set_mqtt_version(MQTTVERSION_3_1_1);
      opts.set_clean_session(true);
    }
    opts.set_keep_alive_interval(static_cast<int>(m.keepalive_s));
    opts.set_connect_timeout(10);
    opts.set_max_inflight(static_cast<int>(m.max_inflight) + 8);
    opts.set_automatic_reconnect(false);
    if (!m.username.empty()) opts.set_user_name(m.username);
    if (!options_.password.empty()) opts.set_password(options_.password);
    mqtt::will_options will(options_.will_topic, options_.will_payload, 1, true);
    opts.set_will(will);
    if (m.tls) {
      mqtt::ssl_options ssl;
      ssl.set_trust_store(m.tls->ca);
      if (!m.tls->cert.empty()) {
        ssl.set_key_store(m.tls->cert);
        ssl.set_private_key(m.tls->key);
      }
      ssl.set_enable_server_cert_auth(true);
      ssl.set_verify(true);
      // No ssl.set_error_handler: Paho C++ 1.2.0 hands Paho C a pointer to this local
      // ssl_options as the callback's context, and its receive thread called it after the
      // object was gone (a segfault on every TLS failure). A failed handshake comes back as a
      // failed connect like any other and is retried with the backoff.
      opts.set_ssl(ssl);
    }
    ++attempt_;
    connecting_ = true;
    client_->connect(opts, reinterpret_cast<void*>(static_cast<std::uintptr_t>(attempt_)),
                     *connect_listener_);
  } catch (const std::exception& e) {
    connecting_ = false;
    schedule_reconnect(std::string("connecting: ") + e.what());
  }
}

void MqttLink::diagnose_tls(const std::string& failed) {
  if (diagnosing_) return;
  diagnosing_ = true;
  if (diagnosis_.joinable()) diagnosis_.join();  // finished: it posted its result
  const auto& m = options_.mqtt;
  diagnosis_ = std::thread([this, host = m.host, port = static_cast<int>(m.port), tls = *m.tls,
                            failed] {
    std::string reason;
    try {
      reason = tls_failure_reason(host, port, tls, std::chrono::milliseconds(3000));
    } catch (const std::exception& e) {
      reason = e.what();
    }
    post([this, failed, reason] {
      diagnosing_ = false;
      if (stopping_) return;
      schedule_reconnect(reason.empty() ? failed : failed + ": TLS: " + reason);
    });
  });
}

void MqttLink::schedule_reconnect(const std::string& why) {
  if (stopping_) return;
  problem_ = why;
  // Paho fails whatever was in flight on the lost connection; the outbox still has it.
  auto failed = std::move(pending_);
  pending_.clear();
  for (auto& [cookie, done] : failed) done(false, why);
  // The delays start again from the minimum only after a connection that lasted: one the
  // broker drops right after its CONNACK (a client id in use twice, an ACL) was retried every
  // `backoff_min_s` for ever.
  if (connected_at_ && std::chrono::steady_clock::now() - *connected_at_ >= kBackoffResetAfter)
    backoff_.reset();
  connected_at_.reset();
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  last_delay_ = backoff_.next(unit(random_));
  if (handlers_.lost) handlers_.lost(why);
  retry_.expires_after(last_delay_);
  retry_.async_wait(
      [this, alive = weak_alive_](const boost::system::error_code& ec) {
        if (ec || !alive.lock()) return;
        connect();
      });
}

std::size_t MqttLink::payload_limit() const {
  auto packet = static_cast<std::uint64_t>(options_.mqtt.max_packet_bytes);
  if (broker_max_packet_ > 0) packet = std::min<std::uint64_t>(packet, broker_max_packet_);
  // A broker that takes less than kMinPayloadLimit is not supported: records up to that size
  // are still sent (and would cost the connection), rather than given up.
  const auto overhead = static_cast<std::uint64_t>(kMqttPacketOverhead);
  const auto floor = static_cast<std::uint64_t>(kMinPayloadLimit);
  return static_cast<std::size_t>(packet > overhead + floor ? packet - overhead : floor);
}

Status MqttLink::publish(const std::string& topic, std::string payload, int qos,
                         bool retained, Done done, const std::optional<std::string>& correlation) {
  if (!connected_) return Error{"not connected"};
  if (payload.size() > payload_limit())
    return Error{"a message of " + std::to_string(payload.size()) + " bytes to " + topic +
                 " is over the broker's maximum packet (" + std::to_string(payload_limit()) +
                 " bytes of payload): not sent"};
  auto cookie = next_cookie_++;
  try {
    auto msg = mqtt::make_message(topic, std::move(payload), qos, retained);
    if (correlation && options_.mqtt.protocol == MqttProtocol::kV5) {
      mqtt::properties props;
      props.add(mqtt::property(mqtt::property::CORRELATION_DATA, *correlation));
      msg->set_properties(props);
    }
    pending_.emplace(cookie, std::move(done));
    client_->publish(msg, reinterpret_cast<void*>(static_cast<std::uintptr_t>(cookie)),
                     *publish_listener_);
  } catch (const std::exception& e) {
    pending_.erase(cookie);
    return Error{std::string("publishing to ") + topic + ": " + e.what()};
  }
  return {};
}

void MqttLink::stop(std::chrono::milliseconds timeout) {
  stopping_ = true;
  retry_.cancel();
  resubscribe_.cancel();
  if (!client_) return;
  try {
    if (client_->is_connected())
      client_->disconnect(static_cast<int>(timeout.count()))->wait_for(timeout);
  } catch (const std::exception& e) {
    log::warning(std::string("mqtt: disconnecting: ") + e.what());
  }
  connected_ = false;
}

}  // namespace depot::sync
