// Humidity and doors through the real binary (issue 15 item 9): one Zigbee2MQTT device on a
// real mosquitto publishes temperature, humidity and its door contact in one payload; three
// sensors of one zone read it (measures temperature, humidity, door). A door left open raises
// door_open and humidity past max_rh raises a humidity alarm, both seen by `zones` and
// `alarms`, acknowledged with the zone, holding no stock; closing the door and drier air clear
// them; a short opening is recorded without an alarm; the report shows the door openings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <mqtt/async_client.h>

#include <nlohmann/json.hpp>

#include "agent_process.hpp"
#include "harness.hpp"
#include "test_support.hpp"

namespace depot::itest {
namespace {

using nlohmann::json;
using test::AgentProcess;
using test::run_agent;
using test::TempDir;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

class Device {
 public:
  explicit Device(int port)
      : client_("tcp://127.0.0.1:" + std::to_string(port), "z2m-" + std::to_string(::getpid())) {
    mqtt::connect_options o;
    o.set_clean_session(true);
    client_.connect(o)->wait_for(5s);
  }
  ~Device() {
    try {
      client_.disconnect()->wait_for(2s);
    } catch (...) {
    }
  }
  void state(double c, double rh, bool contact) {
    client_
        .publish(mqtt::make_message("zigbee2mqtt/cold-room",
                                    "{\"temperature\":" + std::to_string(c) +
                                        ",\"humidity\":" + std::to_string(rh) +
                                        ",\"contact\":" + (contact ? "true" : "false") +
                                        ",\"linkquality\":90}",
                                    1, true))
        ->wait_for(5s);
  }

 private:
  mqtt::async_client client_;
};

std::string config(const std::string& db, int port) {
  const std::string src = R"("driver": "mqtt", "offline_after_s": 30, "mqtt": {"broker": "tcp://127.0.0.1:)" +
                          std::to_string(port) + R"(", "topic": "zigbee2mqtt/cold-room", "pointer": )";
  return R"({
  "site": "test-site", "gateway": "gw-1", "database": ")" + db + R"(",
  "catalog": [{"sku": "KALE", "name": "Kale", "barcodes": ["4006381333931"], "zone": "produce-1"}],
  "zones": [{"id": "produce-1", "min_c": 0, "max_c": 8, "alarm_delay_s": 60,
             "max_rh": 95, "rh_alarm_delay_s": 2, "rh_hysteresis": 3, "door_open_alarm_s": 2}],
  "sensors": [
    {"id": "room-t", "zone": "produce-1", )" + src + R"("/temperature"}},
    {"id": "room-rh", "zone": "produce-1", "measures": "humidity", )" + src + R"("/humidity"}},
    {"id": "room-door", "zone": "produce-1", "measures": "door", )" + src + R"("/contact"}}
  ]
})";
}

json cli_json(const std::vector<std::string>& args) {
  auto r = run_agent(args);
  if (r.code != 0) return json();
  return json::parse(r.out, nullptr, false);
}

json open_alarm(const std::string& cfg, const std::string& type) {
  for (const auto& z : cli_json({"zones", "--json", "-c", cfg}))
    for (const auto& x : z["open_excursions"])
      if (x["alarm_type"] == type && x["alarmed"] == true) return x;
  return json();
}

TEST(HumidityAndDoors, AZigbeeDevicesHumidityAndDoorContactRaiseClearAndAreReported) {
  TempDir dir;
  Broker broker(dir);
  broker.start();
  Device device(broker.port());
  const auto db = dir.file("agent.db"), cfg = dir.file("agent.json");
  test::write_file(cfg, config(db, broker.port()));
  auto check = run_agent({"check", "-c", cfg});
  ASSERT_EQ(check.code, 0) << check.err;

  AgentProcess agent(cfg, dir.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("cold chain: 1 zone(s), 3 probe(s)", 20s)) << agent.log();
  device.state(4.0, 90.0, true);  // closed, 90 %RH
  ASSERT_TRUE(wait_for(
      [&] {
        auto z = cli_json({"zones", "--json", "-c", cfg});
        return z.size() == 1 && z[0].contains("doors") && z[0]["level"] == "normal" &&
               z[0]["humidity"]["high_rh"] == 90.0;
      },
      15s))
      << run_agent({"zones", "-c", cfg}).out << agent.log();

  // A 1 s opening: recorded as a door_open record that did not alarm.
  device.state(4.0, 90.0, false);
  ASSERT_TRUE(wait_for(
      [&] {
        auto z = cli_json({"zones", "--json", "-c", cfg});
        return z.size() == 1 && z[0]["doors"]["open"] == json::array({"room-door"});
      },
      10s))
      << run_agent({"zones", "-c", cfg}).out;
  device.state(4.0, 90.0, true);
  ASSERT_TRUE(agent.wait_for_log("door room-door closed", 10s)) << agent.log();

  // Left open, and the air wetter than max_rh: door_open and humidity alarms after 2 s each.
  device.state(5.0, 97.0, false);
  ASSERT_TRUE(wait_for(
      [&] { return !open_alarm(cfg, "door_open").is_null() && !open_alarm(cfg, "humidity").is_null(); },
      15s))
      << run_agent({"zones", "-c", cfg}).out << agent.log();
  const auto door = open_alarm(cfg, "door_open");
  EXPECT_EQ(door["probe"], "room-door");
  EXPECT_EQ(door["cause"], "continuous");
  const auto rh = open_alarm(cfg, "humidity");
  EXPECT_EQ(rh["side"], "high");
  EXPECT_EQ(rh["limit_c"], 95.0);
  EXPECT_EQ(rh["unit"], "%RH");
  auto text = run_agent({"zones", "-c", cfg}).out;
  EXPECT_THAT(text, HasSubstr("doors alarm: OPEN room-door since"));
  EXPECT_THAT(text, HasSubstr("humidity alarm: 97 %RH"));
  EXPECT_THAT(text, HasSubstr("DOOR OPEN room-door since"));
  EXPECT_THAT(text, HasSubstr("OPEN HUMIDITY EXCURSION high"));
  EXPECT_THAT(agent.log(), HasSubstr("door room-door open too long: door_open alarm"));
  EXPECT_THAT(agent.log(), HasSubstr("zone produce-1 humidity alarm (high) at 97 %RH"));
  // Neither puts the zone's stock on hold: a person looks at the goods.
  EXPECT_THAT(run_agent({"holds", "--json", "-c", cfg}).out, ::testing::Not(HasSubstr("KALE")));

  // One acknowledgement covers both (the zone's alarms).
  auto ack = run_agent({"alarms", "ack", "produce-1", "--who", "qa.lee", "--comment",
                        "door wedged by a pallet; moved", "-c", cfg});
  ASSERT_EQ(ack.code, 0) << ack.err << ack.out;
  EXPECT_THAT(ack.out, HasSubstr("acknowledged 2 alarm(s) of zone produce-1"));

  // Closed, and dry again below 95 - 3: both clear.
  device.state(4.0, 91.0, true);
  ASSERT_TRUE(wait_for(
      [&] {
        auto z = cli_json({"zones", "--json", "-c", cfg});
        return z.size() == 1 && z[0]["level"] != "alarm" && z[0]["open_excursions"].empty();
      },
      15s))
      << run_agent({"zones", "-c", cfg}).out << agent.log();

  auto alarms = cli_json({"alarms", "--json", "-c", cfg});
  int door_alarms = 0, rh_alarms = 0;
  for (const auto& x : alarms) {
    if (x["alarm_type"] == "door_open") {
      ++door_alarms;
      EXPECT_TRUE(x["acknowledged"].is_object()) << x.dump();
      EXPECT_FALSE(x["end"].is_null());
    }
    if (x["alarm_type"] == "humidity") ++rh_alarms;
  }
  EXPECT_EQ(door_alarms, 1) << alarms.dump(1);
  EXPECT_EQ(rh_alarms, 1) << alarms.dump(1);
  EXPECT_THAT(run_agent({"alarms", "-c", cfg}).out, HasSubstr("door open room-door from"));

  // The report: two door openings (the short one and the alarmed one), the humidity alarm.
  const auto html = dir.file("report.html");
  auto rep = run_agent({"report", "--zone", "produce-1", "--from", "1h", "--to", "now", "--out",
                        html, "-c", cfg});
  ASSERT_EQ(rep.code, 0) << rep.err;
  const auto page = read_file(html);
  EXPECT_THAT(page, HasSubstr("<h2>Door openings</h2>"));
  EXPECT_THAT(page, HasSubstr("2 opening(s)"));
  EXPECT_THAT(page, HasSubstr("data-type=\"door_open\""));
  EXPECT_THAT(page, HasSubstr("humidity high (limit 95.00 %RH)"));
  // Humidity values are not temperatures: the temperature statistics see only room-t.
  EXPECT_THAT(page, ::testing::Not(HasSubstr("data-probe=\"room-rh\"")));

  // The readings stored say what they measured.
  auto csv = run_agent({"readings", "--zone", "produce-1", "--from", "1h", "--to", "now", "--csv",
                        "-c", cfg});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_THAT(csv.out, ::testing::ContainsRegex(",room-rh,produce-1,97,good,,[01],humidity"));
  EXPECT_THAT(csv.out, ::testing::ContainsRegex(",room-door,produce-1,1,good,,[01],door"));
}

}  // namespace
}  // namespace depot::itest
