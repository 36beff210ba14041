// A probe that publishes JSON over MQTT (Zigbee2MQTT `{"temperature":4.2}`, Tasmota
// `{"DS18B20":{"Temperature":4.2}}`, Shelly `{"tC":4.2}`): the driver subscribes to `topic`
// and takes the number at JSON pointer `pointer` from each message. Readings arrive when
// messages do; `read_interval_s` is only the expected rate (the intake's offline timeout
// handles silence). All probes on one broker (same URI and username, same io_context) share
// one Paho async client, which reconnects by itself and resubscribes; Paho's callbacks only
// post to the loop. A payload that is not JSON, a pointer that is not there, or a value
// there that is not a number is a kNoData reading naming that. A flood is bounded: the client
// hands the loop a few messages per turn from a bounded queue (base/inbound_queue.hpp), and a
// probe's messages beyond kMaxReadingsPerSecond in one second are dropped with a warning.
#pragma once

#include <string_view>

#include "sensor/mqtt/mqtt_value.hpp"
#include "sensor/sensor.hpp"

namespace depot::drivers {

class MqttHub;  // one Paho client per broker

class MqttSensor : public Sensor {
 public:
  // Messages of one probe taken as readings in one second; the rest are dropped (logged).
  static constexpr int kMaxReadingsPerSecond = 10;

  MqttSensor(boost::asio::io_context& io, SensorOptions options, coldchain::MqttSource source,
             SensorEvents events);
  ~MqttSensor() override;
  void start() override;
  void stop() override;
  // The MQTT client id of the broker connection this probe uses ("" when stopped): probes on
  // the same broker share one.
  std::string client_id() const;

 private:
  void message(const std::string& payload, std::size_t oversized, bool retained);

  boost::asio::io_context& io_;
  SensorOptions options_;
  coldchain::MqttSource source_;
  SensorEvents events_;
  std::shared_ptr<MqttHub> hub_;
  std::uint64_t subscription_ = 0;
  ProbeHealth health_;
  std::chrono::steady_clock::time_point second_start_;
  int in_second_ = 0;
  // The last message's payload: its retained copy at a reconnect is not a new reading.
  std::string last_payload_;
  bool had_message_ = false;
};

}  // namespace depot::drivers
