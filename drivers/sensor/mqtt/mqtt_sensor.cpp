#include "sensor/mqtt/mqtt_sensor.hpp"

#include <mqtt/async_client.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "base/inbound_queue.hpp"
#include "base/log.hpp"
#include "base/secret_file.hpp"

namespace depot::drivers {

// One Paho client for every probe on one broker. Lives on the loop; Paho's callbacks post.
class MqttHub : public std::enable_shared_from_this<MqttHub> {
 public:
  // `oversized`: the payload's size when it was more than kMaxProbePayloadBytes (then
  // `payload` is empty: it was not copied), else 0. `retained`: the broker's stored copy,
  // sent at a subscribe, not a message the device published now.
  using Handler =
      std::function<void(const std::string& payload, std::size_t oversized, bool retained)>;
  using Status = std::function<void(bool is_error, std::string message)>;

  MqttHub(boost::asio::io_context& io, std::string broker, std::string username,
          std::string password_file)
      : io_(io),
        broker_(std::move(broker)),
        username_(std::move(username)),
        password_file_(std::move(password_file)),
        retry_(io) {}

  ~MqttHub() {
    *alive_ = false;
    retry_.cancel();
    if (!client_) return;
    try {
      if (client_->is_connected()) client_->disconnect(0)->wait_for(std::chrono::seconds(1));
    } catch (const std::exception&) {
    }
    client_.reset();  // joins Paho's threads while every member is still alive
  }

  static std::shared_ptr<MqttHub> get(boost::asio::io_context& io, const coldchain::MqttSource& s) {
    static std::mutex mu;
    static std::map<std::tuple<void*, std::string, std::string>, std::weak_ptr<MqttHub>> hubs;
    std::lock_guard<std::mutex> lock(mu);
    auto key = std::make_tuple(static_cast<void*>(&io), s.broker, s.username);
    if (auto h = hubs[key].lock()) return h;
    auto h = std::make_shared<MqttHub>(io, s.broker, s.username, s.password_file);
    hubs[key] = h;
    return h;
  }

  std::uint64_t subscribe(const std::string& topic, Handler h, Status status) {
    auto id = ++next_id_;
    subs_.emplace(id, Sub{topic, std::move(h), std::move(status)});
    if (!client_) {
      start();
    } else if (connected_) {
      subscribe_topic(topic);
    }
    return id;
  }

  void unsubscribe(std::uint64_t id) { subs_.erase(id); }
  const std::string& client_id() const { return client_id_; }

 private:
  struct Sub {
    std::string topic;
    Handler handler;
    Status status;
  };

  // Runs `f` on the loop if the hub still exists then.
  void post(std::function<void(MqttHub&)> f) {
    boost::asio::post(io_, [alive = alive_, weak = weak_from_this(), f = std::move(f)] {
      if (!*alive) return;
      if (auto self = weak.lock()) f(*self);
    });
  }

  // A few messages per loop turn (base/inbound_queue.hpp): a flood of probe messages does not
  // run ahead of the loop's timers, and what exceeds the queue is dropped and counted.
  void take_inbound() {
    auto slice = inbound_.take();
    if (slice.more) post([](MqttHub& h) { h.take_inbound(); });
    if (slice.dropped > 0)
      log::write_limited(log::Level::kWarning, "mqtt probes " + broker_ + ": dropped",
                         "mqtt " + broker_ + ": " + std::to_string(slice.dropped) +
                             " probe message(s) dropped: more than " +
                             std::to_string(decltype(inbound_)::kMaxMessages) +
                             " messages or " +
                             std::to_string(decltype(inbound_)::kMaxBytes / (1024 * 1024)) +
                             " MiB were waiting to be handled");
    for (auto& m : slice.messages) deliver(m);
  }

  void tell(bool is_error, const std::string& msg) {
    for (auto& [id, s] : subs_)
      if (s.status) s.status(is_error, "mqtt " + broker_ + ": " + msg);
  }

  void start() {
    static std::atomic<unsigned> counter{0};
    client_id_ = "depot-probes-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    try {
      client_ = std::make_unique<mqtt::async_client>(broker_, client_id_,
                                                     mqtt::create_options(MQTTVERSION_3_1_1));
    } catch (const std::exception& e) {
      tell(true, std::string("cannot create the client: ") + e.what());
      return;
    }
    client_->set_message_callback([this](mqtt::const_message_ptr m) {
      // A payload over the limit is refused by its size here, on Paho's thread, before it is
      // copied: a 5 MB one would otherwise be copied and then dropped by the queue's bound
      // without a reading to say so.
      const auto& payload = m->get_payload_str();  // a reference, not a copy
      Message msg{m->get_topic(), {}, 0, m->is_retained()};
      if (payload.size() > kMaxProbePayloadBytes)
        msg.oversized = payload.size();
      else
        msg.payload = payload;
      if (inbound_.push(std::move(msg))) post([](MqttHub& h) { h.take_inbound(); });
    });
    client_->set_connected_handler(
        [this](const std::string&) { post([](MqttHub& h) { h.on_connected(); }); });
    client_->set_connection_lost_handler([this](const std::string& cause) {
      post([cause](MqttHub& h) {
        h.connected_ = false;
        h.tell(true, "connection lost" + (cause.empty() ? "" : ": " + cause) + "; reconnecting");
      });
    });
    connect();
  }

  void connect() {
    mqtt::connect_options opts;
    opts.set_clean_session(true);
    opts.set_keep_alive_interval(30);
    opts.set_connect_timeout(10);
    opts.set_automatic_reconnect(1, 30);
    if (!username_.empty()) opts.set_user_name(username_);
    if (!password_file_.empty()) {
      // The reader and rule `depot-agent check` applies (base/secret_file.hpp).
      if (auto pw = read_secret_file(password_file_, "password_file", kPasswordRule); !pw)
        tell(true, pw.error().message);
      else
        opts.set_password(*pw);
    }
    try {
      client_->connect(opts, nullptr, listener_);
    } catch (const std::exception& e) {
      retry(std::string("connecting: ") + e.what());
    }
  }

  // The first connect failed: Paho's automatic reconnect only covers lost connections.
  void retry(const std::string& why) {
    const auto delay = delay_;
    delay_ = std::min(delay_ * 2, std::chrono::milliseconds(30000));
    tell(true, why + "; retrying in " + std::to_string(delay.count()) + " ms");
    retry_.expires_after(delay);
    retry_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      if (auto self = weak.lock()) self->connect();
    });
  }

  void on_connected() {
    connected_ = true;
    delay_ = std::chrono::milliseconds(100);
    tell(false, "connected");
    std::set<std::string> topics;
    for (auto& [id, s] : subs_) topics.insert(s.topic);
    for (const auto& t : topics) subscribe_topic(t);
  }

  void subscribe_topic(const std::string& topic) {
    try {
      client_->subscribe(topic, 0);
    } catch (const std::exception& e) {
      tell(true, "subscribing to " + topic + ": " + e.what());
    }
  }

  struct Message {
    std::string topic, payload;
    std::size_t oversized = 0;
    bool retained = false;
  };

  void deliver(const Message& m) {
    std::vector<Handler> hs;  // a handler may unsubscribe
    for (auto& [id, s] : subs_)
      if (s.topic == m.topic) hs.push_back(s.handler);
    for (auto& h : hs) h(m.payload, m.oversized, m.retained);
  }

  class Listener : public mqtt::iaction_listener {
   public:
    explicit Listener(MqttHub& hub) : hub_(hub) {}
    void on_failure(const mqtt::token& tok) override {
      const auto rc = tok.get_return_code();
      hub_.post([rc](MqttHub& h) {
        if (!h.connected_) h.retry("connect failed (code " + std::to_string(rc) + ")");
      });
    }
    void on_success(const mqtt::token&) override {}

   private:
    MqttHub& hub_;
  };

  boost::asio::io_context& io_;
  std::string broker_, username_, password_file_;
  std::string client_id_;
  Listener listener_{*this};
  std::unique_ptr<mqtt::async_client> client_;
  boost::asio::steady_timer retry_;
  std::chrono::milliseconds delay_{100};
  std::map<std::uint64_t, Sub> subs_;
  InboundQueue<Message> inbound_;  // from Paho's threads
  std::uint64_t next_id_ = 0;
  bool connected_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

MqttSensor::MqttSensor(boost::asio::io_context& io, SensorOptions options,
                       coldchain::MqttSource source, SensorEvents events)
    : io_(io),
      options_(std::move(options)),
      source_(std::move(source)),
      events_(std::move(events)) {}

MqttSensor::~MqttSensor() { stop(); }

void MqttSensor::start() {
  if (hub_) return;
  hub_ = MqttHub::get(io_, source_);
  if (events_.status)
    events_.status(false, "probe " + options_.probe + ": subscribing to " + source_.topic + " on " +
                              source_.broker + ", value at " + source_.pointer);
  subscription_ = hub_->subscribe(
      source_.topic,
      [this](const std::string& payload, std::size_t oversized, bool retained) {
        message(payload, oversized, retained);
      },
      [this](bool is_error, std::string msg) {
        if (events_.status) events_.status(is_error, "probe " + options_.probe + ": " + msg);
      });
}

std::string MqttSensor::client_id() const { return hub_ ? hub_->client_id() : std::string(); }

void MqttSensor::stop() {
  if (!hub_) return;
  hub_->unsubscribe(subscription_);
  hub_.reset();
}

void MqttSensor::message(const std::string& payload, std::size_t oversized, bool retained) {
  // A probe publishes once per reading: more than kMaxReadingsPerSecond in one second is a
  // looping device or a bridge gone wrong, and each message would be a stored reading.
  const auto now = std::chrono::steady_clock::now();
  if (now - second_start_ >= std::chrono::seconds(1)) {
    second_start_ = now;
    in_second_ = 0;
  }
  if (++in_second_ > kMaxReadingsPerSecond) {
    if (in_second_ != kMaxReadingsPerSecond + 1) return;  // said once per second at most
    log::write_limited(log::Level::kWarning, "probe " + options_.probe + ": too many messages",
                       "probe " + options_.probe + ": more than " +
                           std::to_string(kMaxReadingsPerSecond) + " messages in one second on " +
                           source_.topic + ": the rest of that second are dropped");
    return;
  }
  // A retained message is the broker's copy of the last one the device published, sent again
  // at every subscribe. At a reconnect, the copy of the message this probe last had says
  // nothing new: taken as a reading, a dead device's last value came back "online" after each
  // broker restart and cleared its probe_failure alarm. Ignored (no reading: the probe's
  // offline clock goes on). A retained message that differs was published while the link was
  // down, and one at the start is the device's last word (a door's state): both are read.
  if (retained && had_message_ && oversized == 0 && payload == last_payload_) {
    log::debug("probe " + options_.probe + ": the retained copy of its last message on " +
               source_.topic + " ignored (not a new reading)");
    return;
  }
  had_message_ = true;
  if (oversized == 0) last_payload_ = payload;
  auto value = oversized > 0 ? oversized_value(oversized)
                             : mqtt_value(payload, source_.pointer, source_.booleans);
  auto reading = coldchain::make_reading(options_.probe, std::move(value), options_.clock());
  health_.update(reading, events_);
  if (events_.reading) events_.reading(std::move(reading));
}

}  // namespace depot::drivers
