// The MQTT probe driver against a real mosquitto (started on a free loopback port by each
// test, stopped by PID): Zigbee2MQTT, Tasmota and Shelly payloads through one shared client,
// rejected payloads with their reasons, a broker restart and a broker that comes up late.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <algorithm>
#include <thread>

#include "drivers/sensor_test_support.hpp"
#include "harness.hpp"
#include "sensor/mqtt/mqtt_sensor.hpp"

namespace depot::drivers {
namespace {

using coldchain::Quality;
using coldchain::Reading;
using itest::Broker;
using test::SensorRig;
using test::TempDir;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Publishes as a probe would.
class Probe {
 public:
  explicit Probe(int port)
      : client_("tcp://127.0.0.1:" + std::to_string(port), "probe-" + std::to_string(::getpid())) {
    mqtt::connect_options o;
    o.set_clean_session(true);
    client_.connect(o)->wait_for(5s);
  }
  ~Probe() {
    try {
      client_.disconnect()->wait_for(2s);
    } catch (...) {
    }
  }
  void publish(const std::string& topic, const std::string& payload, bool retained = false) {
    client_.publish(mqtt::make_message(topic, payload, 1, retained))->wait_for(5s);
  }

 private:
  mqtt::async_client client_;
};

coldchain::MqttSource source(int port, std::string topic, std::string pointer) {
  coldchain::MqttSource s;
  s.broker = "tcp://127.0.0.1:" + std::to_string(port);
  s.topic = std::move(topic);
  s.pointer = std::move(pointer);
  return s;
}

long find(SensorRig& rig, const std::string& probe, std::size_t from = 0,
          std::chrono::milliseconds limit = 10s) {
  return rig.wait_reading(
      from, [&](const Reading& r) { return r.probe == probe; }, limit);
}

TEST(MqttSensorTest, ZigbeeTasmotaAndShellyPayloadsThroughOneClient) {
  TempDir dir;
  Broker broker(dir);
  broker.start();
  Probe probe(broker.port());
  // Retained, so the readings arrive whenever the driver's subscription lands.
  probe.publish("zigbee2mqtt/fridge", R"({"temperature":4.2,"humidity":61,"linkquality":120})",
                true);
  probe.publish(
      "tele/freezer/SENSOR",
      R"({"Time":"2026-11-23T10:00:00","DS18B20":{"Id":"0316A2791AFF","Temperature":-19.4},"TempUnit":"C"})",
      true);
  probe.publish("shellies/ext-1/status", R"({"tC":7.5,"tF":45.5})", true);
  SensorRig rig;
  MqttSensor z(rig.io, rig.options("zb"),
               source(broker.port(), "zigbee2mqtt/fridge", "/temperature"), rig.events());
  MqttSensor t(rig.io, rig.options("tas"),
               source(broker.port(), "tele/freezer/SENSOR", "/DS18B20/Temperature"), rig.events());
  MqttSensor s(rig.io, rig.options("sh"), source(broker.port(), "shellies/ext-1/status", "/tC"),
               rig.events());
  z.start(), t.start(), s.start();
  auto iz = find(rig, "zb"), it = find(rig, "tas"), is = find(rig, "sh");
  ASSERT_GE(iz, 0);
  ASSERT_GE(it, 0);
  ASSERT_GE(is, 0);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(iz)].celsius, 4.2);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(it)].celsius, -19.4);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(is)].celsius, 7.5);
  for (auto i : {iz, it, is})
    EXPECT_EQ(rig.readings[static_cast<std::size_t>(i)].quality, Quality::kGood);
  // One client for the three probes.
  EXPECT_FALSE(z.client_id().empty());
  EXPECT_EQ(z.client_id(), t.client_id());
  EXPECT_EQ(z.client_id(), s.client_id());
  // A new message is a new reading (not a timer: as messages arrive).
  const auto mark = rig.readings.size();
  probe.publish("shellies/ext-1/status", R"({"tC":8.25})");
  auto next = find(rig, "sh", mark);
  ASSERT_GE(next, 0);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(next)].celsius, 8.25);
}

TEST(MqttSensorTest, BadPayloadsAreRejectedReadingsWithTheReason) {
  TempDir dir;
  Broker broker(dir);
  broker.start();
  Probe probe(broker.port());
  probe.publish("zigbee2mqtt/fridge", "warm", true);
  SensorRig rig;
  MqttSensor z(rig.io, rig.options("zb"),
               source(broker.port(), "zigbee2mqtt/fridge", "/temperature"), rig.events());
  z.start();
  ASSERT_GE(find(rig, "zb"), 0);
  EXPECT_EQ(rig.readings[0].quality, Quality::kNoData);
  EXPECT_EQ(rig.readings[0].reason, "payload is not JSON: \"warm\"");
  probe.publish("zigbee2mqtt/fridge", R"({"temperature":"cold"})");
  ASSERT_GE(find(rig, "zb", 1), 0);
  EXPECT_EQ(rig.readings[1].reason, "not a number at JSON pointer /temperature: \"cold\"");
  probe.publish("zigbee2mqtt/fridge", R"({"humidity":40})");
  ASSERT_GE(find(rig, "zb", 2), 0);
  EXPECT_EQ(rig.readings[2].reason, "JSON pointer /temperature missing in payload");
  probe.publish("zigbee2mqtt/fridge", R"({"temperature":3})");
  ASSERT_GE(find(rig, "zb", 3), 0);
  EXPECT_EQ(rig.readings[3].quality, Quality::kGood);
  EXPECT_EQ(rig.errors(), 1u);  // one outage of good readings, reported once
}

// A message over 64 KiB is refused by its size before it is copied: a 5 MB one was copied, then
// dropped by the inbound queue's 4 MiB bound, and the probe showed no reading saying why.
TEST(MqttSensorTest, AnOversizedPayloadIsARejectedReadingNamingItsSize) {
  TempDir dir;
  Broker broker(dir);
  broker.start();
  Probe probe(broker.port());
  probe.publish("zigbee2mqtt/fridge", R"({"temperature":3})", true);
  SensorRig rig;
  MqttSensor z(rig.io, rig.options("zb"),
               source(broker.port(), "zigbee2mqtt/fridge", "/temperature"), rig.events());
  z.start();
  ASSERT_GE(find(rig, "zb"), 0);
  const std::string big = R"({"temperature": 4.2, "pad": ")" + std::string(5 << 20, 'x') + "\"}";
  probe.publish("zigbee2mqtt/fridge", big);
  const auto at = find(rig, "zb", 1);
  ASSERT_GE(at, 0);
  const auto& r = rig.readings[static_cast<std::size_t>(at)];
  EXPECT_EQ(r.quality, Quality::kNoData);
  EXPECT_EQ(r.reason, "payload refused: it is " + std::to_string(big.size()) +
                          " bytes; at most 65536 are accepted");
  probe.publish("zigbee2mqtt/fridge", R"({"temperature":5})");
  const auto next = find(rig, "zb", static_cast<std::size_t>(at) + 1);
  ASSERT_GE(next, 0);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(next)].celsius, 5);
}

// A probe publishing far more often than any probe reads (a looping device): at most 10 of its
// messages a second become readings, the rest are dropped with a warning; a probe sharing the
// client is not held back, and the flooding probe's next message after the second is taken.
TEST(MqttSensorTest, AFloodingProbeIsCappedAtTenReadingsASecond) {
  TempDir dir;
  Broker broker(dir);
  broker.start();
  SensorRig rig;
  MqttSensor loud(rig.io, rig.options("loud"), source(broker.port(), "loud/t", "/t"),
                  rig.events());
  MqttSensor quiet(rig.io, rig.options("quiet"), source(broker.port(), "quiet/t", "/t"),
                   rig.events());
  loud.start(), quiet.start();
  Probe probe(broker.port());
  // Until the subscriptions are in place (a message before them is not delivered).
  probe.publish("quiet/t", R"({"t":1})", true);
  ASSERT_GE(find(rig, "quiet"), 0);
  probe.publish("loud/t", R"({"t":2})", true);
  ASSERT_GE(find(rig, "loud"), 0);
  rig.run_until([] { return false; }, 1100ms);  // a new second for "loud"
  const auto mark = rig.readings.size();
  const auto flood_start = std::chrono::steady_clock::now();
  ::testing::internal::CaptureStderr();  // the agent's log
  std::thread flood([&] {
    for (int i = 0; i < 200; ++i) probe.publish("loud/t", R"({"t":3})");
    probe.publish("quiet/t", R"({"t":4})");
  });
  const auto quiet_at = find(rig, "quiet", mark);
  flood.join();
  ASSERT_GE(quiet_at, 0);
  rig.run_until([] { return false; }, 300ms);
  // The seconds the flood's deliveries can span (the publishes take well under one here).
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - flood_start).count() + 1;
  const auto loud_readings = std::count_if(rig.readings.begin() + static_cast<long>(mark),
                                  rig.readings.end(),
                                  [](const Reading& r) { return r.probe == "loud"; });
  EXPECT_GE(loud_readings, MqttSensor::kMaxReadingsPerSecond);
  EXPECT_LE(loud_readings, seconds * MqttSensor::kMaxReadingsPerSecond) << "over " << seconds << " s";
  EXPECT_LT(loud_readings, 200);
  // The warning: once per second of flood at most (the log limiter's burst let three through in
  // one millisecond).
  const auto log = ::testing::internal::GetCapturedStderr();
  std::size_t warnings = 0;
  for (auto at = log.find("messages in one second on loud/t"); at != std::string::npos;
       at = log.find("messages in one second on loud/t", at + 1))
    ++warnings;
  EXPECT_GE(warnings, 1u) << log;
  EXPECT_LE(warnings, static_cast<std::size_t>(seconds)) << log;
  rig.run_until([] { return false; }, 1100ms);
  const auto later = rig.readings.size();
  probe.publish("loud/t", R"({"t":5})");
  const auto next = find(rig, "loud", later);
  ASSERT_GE(next, 0);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(next)].celsius, 5);
}

TEST(MqttSensorTest, ResubscribesAfterABrokerRestart) {
  TempDir dir;
  Broker broker(dir);
  broker.start();
  SensorRig rig;
  MqttSensor z(rig.io, rig.options("zb"), source(broker.port(), "zigbee2mqtt/cold", "/temperature"),
               rig.events());
  z.start();
  {
    Probe probe(broker.port());
    probe.publish("zigbee2mqtt/cold", R"({"temperature":2.5})", true);
    ASSERT_GE(find(rig, "zb"), 0);
  }
  broker.stop();
  ASSERT_TRUE(rig.run_until(
      [&] {
        for (auto& [e, m] : rig.statuses)
          if (e && m.find("connection lost") != std::string::npos) return true;
        return false;
      },
      10s));
  broker.start();
  const auto mark = rig.readings.size();
  // The retained 2.5 may come back with the resubscription; wait for the new value.
  long got = -1;
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (got < 0 && std::chrono::steady_clock::now() < until) {
    Probe probe(broker.port());
    probe.publish("zigbee2mqtt/cold", R"({"temperature":3.5})", true);
    got = rig.wait_reading(
        mark, [](const Reading& r) { return r.celsius == 3.5; }, 2s);
  }
  ASSERT_GE(got, 0);
}

// A device that died after publishing a retained message: at every reconnect the broker sends
// the copy again, and it was a new good reading (the probe back "online", its probe_failure
// alarm cleared by a broker restart). The copy of the last message is ignored; a retained
// message published while the link was down is read.
TEST(MqttSensorTest, TheRetainedCopyOfTheLastMessageIsNotANewReadingAfterAReconnect) {
  TempDir dir;
  Broker broker(dir);  // with persistence: the retained message survives its restart
  broker.start();
  {
    Probe probe(broker.port());
    probe.publish("zigbee2mqtt/dead", R"({"temperature":-20.5})", true);
  }
  SensorRig rig;
  MqttSensor z(rig.io, rig.options("zb"), source(broker.port(), "zigbee2mqtt/dead", "/temperature"),
               rig.events());
  z.start();
  ASSERT_GE(find(rig, "zb"), 0);  // at the start, the device's last word is read
  auto restart = [&] {
    const auto lost = rig.statuses.size();
    broker.stop();
    ASSERT_TRUE(rig.run_until(
        [&] {
          for (auto i = lost; i < rig.statuses.size(); ++i)
            if (rig.statuses[i].first && rig.statuses[i].second.find("connection lost") !=
                                             std::string::npos)
              return true;
          return false;
        },
        10s));
    const auto mark = rig.statuses.size();
    broker.start();
    ASSERT_TRUE(rig.run_until(
        [&] {
          for (auto i = mark; i < rig.statuses.size(); ++i)
            if (!rig.statuses[i].first) return true;
          return false;
        },
        20s));
  };
  restart();
  // Subscribed again: the copy arrives within moments, and is no reading.
  rig.run_until([] { return false; }, 2s);
  EXPECT_EQ(rig.readings.size(), 1u);
  // Published (retained) while the agent's link is down: a new message, read at the reconnect.
  broker.stop();
  rig.run_until([] { return false; }, 500ms);
  broker.start();
  {
    Probe probe(broker.port());
    probe.publish("zigbee2mqtt/dead", R"({"temperature":-19})", true);
  }
  const auto at = find(rig, "zb", 1, 20s);
  ASSERT_GE(at, 0);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(at)].celsius, -19);
}

TEST(MqttSensorTest, ABrokerThatComesUpLateIsConnectedToWhenItDoes) {
  TempDir dir;
  Broker broker(dir);  // configured, not started
  SensorRig rig;
  MqttSensor z(rig.io, rig.options("zb"), source(broker.port(), "late/t", "/t"), rig.events());
  z.start();
  ASSERT_TRUE(rig.run_until([&] {
    for (auto& [e, m] : rig.statuses)
      if (e && m.find("retrying in") != std::string::npos) return true;
    return false;
  }));
  broker.start();
  {
    Probe probe(broker.port());
    probe.publish("late/t", R"({"t":-1.5})", true);
  }
  auto i = find(rig, "zb", 0, 20s);
  ASSERT_GE(i, 0);
  EXPECT_DOUBLE_EQ(rig.readings[static_cast<std::size_t>(i)].celsius, -1.5);
}

}  // namespace
}  // namespace depot::drivers
