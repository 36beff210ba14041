// The driver settings added with the probe drivers: Modbus table/type/word order/offset/
// timeout, the MQTT broker and credentials, and the simulator's drift, script, spikes, noise
// and failure windows, through `parse_config` as an operator writes them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/coldchain/config.hpp"
#include "core/config.hpp"

namespace depot::coldchain {
namespace {
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string doc(const std::string& sensors) {
  return R"({"site":"s1","gateway":"g1","database":"x.db",
    "zones": [{"id": "cold-1", "max_c": 8}], "sensors": [)" +
         sensors + "]}";
}

TEST(SensorSourceConfig, ModbusMqttAndSimSettingsAreRead) {
  auto r = parse_config(doc(R"(
    {"id": "m", "zone": "cold-1", "driver": "modbus", "read_interval_s": 5,
     "modbus": {"host": "10.0.0.5", "register": 8, "table": "input", "type": "int32",
                "word_order": "little", "scale": 0.01, "offset_c": -273.15, "timeout_ms": 400}},
    {"id": "q", "zone": "cold-1", "driver": "mqtt",
     "mqtt": {"broker": "tcp://10.0.0.2:1884", "topic": "zigbee2mqtt/fridge",
              "pointer": "/temperature", "username": "probes", "password_file": "/etc/pw"}},
    {"id": "s", "zone": "cold-1", "driver": "sim",
     "sim": {"profile": "script", "base_c": -20, "repeat": false, "noise_c": 0.3, "seed": 9,
             "script": [{"c": -20, "for_s": 20}, {"to_c": -12, "for_s": 15}, {"for_s": 20}],
             "spikes": {"every_s": 60, "rise_c": 4, "duration_s": 5},
             "failures": [{"start_s": 30, "duration_s": 10, "kind": "crc", "every_s": 100}]}},
    {"id": "d", "zone": "cold-1", "driver": "sim",
     "sim": {"profile": "drift", "base_c": -20, "to_c": -10, "duration_s": 30}})"));
  ASSERT_THAT(r.problems, IsEmpty());
  const auto& s = r.config->sensors;
  ASSERT_EQ(s.size(), 4u);
  const auto& m = s[0].modbus;
  EXPECT_EQ(m.table, ModbusTable::kInput);
  EXPECT_EQ(m.type, ModbusType::kInt32);
  EXPECT_EQ(m.word_order, WordOrder::kLittle);
  EXPECT_DOUBLE_EQ(m.offset_c, -273.15);
  EXPECT_EQ(m.timeout_ms, 400);
  const auto& q = s[1].mqtt;
  EXPECT_EQ(q.broker, "tcp://10.0.0.2:1884");
  EXPECT_EQ(q.username, "probes");
  EXPECT_EQ(q.password_file, "/etc/pw");
  const auto& sim = s[2].sim;
  ASSERT_EQ(sim.script.size(), 3u);
  EXPECT_EQ(sim.script[0], (SimStep{SimStep::Kind::kSteady, -20, 20}));
  EXPECT_EQ(sim.script[1], (SimStep{SimStep::Kind::kRamp, -12, 15}));
  EXPECT_EQ(sim.script[2].kind, SimStep::Kind::kHold);
  EXPECT_FALSE(sim.repeat);
  EXPECT_EQ(sim.spikes, (SimSpikes{60, 4, 5}));
  ASSERT_EQ(sim.failures.size(), 1u);
  EXPECT_EQ(sim.failures[0], (SimFailure{30, 10, 100, true}));
  EXPECT_EQ(s[3].sim.to_c, -10);
  EXPECT_EQ(s[3].sim.duration_s, 30);
}

TEST(SensorSourceConfig, DefaultsAreTheDocumentedOnes) {
  auto r = parse_config(doc(R"(
    {"id": "m", "zone": "cold-1", "driver": "modbus", "modbus": {"host": "h", "register": 1}},
    {"id": "q", "zone": "cold-1", "driver": "mqtt", "mqtt": {"topic": "t"}})"));
  ASSERT_THAT(r.problems, IsEmpty());
  const auto& m = r.config->sensors[0].modbus;
  EXPECT_EQ(m.table, ModbusTable::kHolding);
  EXPECT_EQ(m.type, ModbusType::kInt16);
  EXPECT_EQ(m.word_order, WordOrder::kBig);
  EXPECT_EQ(m.offset_c, 0.0);
  EXPECT_EQ(m.timeout_ms, 1000);
  EXPECT_EQ(r.config->sensors[1].mqtt.broker, "tcp://127.0.0.1:1883");
  EXPECT_EQ(r.config->sensors[1].mqtt.username, "");
}

TEST(SensorSourceConfig, ProblemsNameFieldValueAndRule) {
  auto r = parse_config(doc(R"(
    {"id": "a", "zone": "cold-1", "driver": "modbus", "read_interval_s": 1,
     "modbus": {"host": "h", "register": 65535, "table": "bits", "type": "int32",
                "timeout_ms": 1000}},
    {"id": "b", "zone": "cold-1", "driver": "modbus",
     "modbus": {"host": "h", "register": 1, "word_order": "little", "type": "float"}},
    {"id": "c", "zone": "cold-1", "driver": "mqtt",
     "mqtt": {"broker": "10.0.0.2:1883", "topic": "t", "password_file": "/etc/pw"}},
    {"id": "d", "zone": "cold-1", "driver": "sim", "sim": {"profile": "drift"}},
    {"id": "e", "zone": "cold-1", "driver": "sim",
     "sim": {"profile": "script", "script": [{"c": 1, "to_c": 2, "for_s": 5}, {"for_s": 0}],
             "spikes": {"every_s": 10, "rise_c": 3, "duration_s": 10},
             "failures": [{"duration_s": 5, "every_s": 5, "kind": "smoke"}]}},
    {"id": "f", "zone": "cold-1", "driver": "sim", "sim": {"profile": "script"}})"));
  EXPECT_THAT(
      r.problems,
      ElementsAre(
          "sensors[0].modbus.table: \"bits\" must be one of: holding, input, discrete, coil",
          "sensors[0].modbus.register: 65535 cannot hold a 32-bit value (it needs register and "
          "register + 1)",
          "sensors[0].modbus.timeout_ms: 1000 must be less than read_interval_s (1000 ms)",
          "sensors[1].modbus.type: \"float\" must be one of: int16, uint16, int32, uint32",
          "sensors[1].modbus.word_order: \"little\" applies only to the 32-bit types int32 and "
          "uint32",
          "sensors[2].mqtt.broker: \"10.0.0.2:1883\" must be a broker URI like "
          "\"tcp://127.0.0.1:1883\" (tcp:// or mqtt://; TLS is not supported for probe brokers)",
          "sensors[2].mqtt.password_file: needs username",
          "sensors[3].sim.to_c: is required for profile drift",
          "sensors[4].sim.script[0]: give c (steady) or to_c (ramp), not both",
          "sensors[4].sim.script[1].for_s: 0 must be between 1 and 604800",
          "sensors[4].sim.spikes.duration_s: 10 must be less than every_s 10",
          "sensors[4].sim.failures[0].every_s: 5 must be 0 (once) or greater than duration_s 5",
          "sensors[4].sim.failures[0].kind: \"smoke\" must be one of: no_data, crc",
          "sensors[5].sim.script: is required for profile script"));
}

}  // namespace
}  // namespace depot::coldchain
