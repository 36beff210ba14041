// The `zones` and `sensors` sections through `parse_config`, as an operator would write them.
#include "core/coldchain/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/config.hpp"
#include "core/time.hpp"

namespace depot::coldchain {
namespace {
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string doc(const std::string& sections) {
  return R"({"site":"s1","gateway":"g1","database":"x.db",)" + sections + "}";
}

std::vector<std::string> problems(const std::string& sections) {
  return parse_config(doc(sections)).problems;
}

const char* kFull = R"(
  "zones": [
    {"id": "pharma-1", "min_c": 2, "max_c": 8, "warning_band_c": 1, "alarm_delay_s": 1800,
     "cumulative": {"window_s": 86400, "limit_s": 3600}, "hysteresis_c": 0.5,
     "repeat_s": 900, "combine": "mean"},
    {"id": "freezer-1", "max_c": -18}
  ],
  "sensors": [
    {"id": "ph-door", "zone": "pharma-1", "driver": "w1", "read_interval_s": 15,
     "offset_c": -0.25, "plausible_min_c": -10, "plausible_max_c": 40,
     "w1": {"device": "28-0316a2791aff"}},
    {"id": "ph-back", "zone": "pharma-1", "driver": "hwmon", "offline_after_s": 120,
     "hwmon": {"root": "/tmp/sys/class/hwmon", "input": "hwmon2/temp1_input"}},
    {"id": "fz-1", "zone": "freezer-1", "driver": "modbus",
     "modbus": {"device": "/dev/ttyUSB0", "unit": 3, "register": 4, "scale": 0.01}},
    {"id": "fz-2", "zone": "freezer-1", "driver": "mqtt", "mqtt": {"topic": "probes/fz-2"}},
    {"id": "fz-sim", "zone": "freezer-1", "driver": "sim",
     "sim": {"profile": "sine", "base_c": -20, "amplitude_c": 1.5, "period_s": 600}}
  ],
  "catalog": [
    {"sku": "VAX-1", "zone": "pharma-1"}, {"sku": "TINT", "zone": "ambient"}, {"sku": "X"}
  ])";

TEST(ColdchainConfig, ReadsZonesAndSensors) {
  auto r = parse_config(doc(kFull));
  ASSERT_TRUE(r.config) << (r.problems.empty() ? "" : r.problems[0]);
  const auto& zones = r.config->zones;
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(zones[0].id, "pharma-1");
  EXPECT_EQ(zones[0].min_c, 2.0);
  EXPECT_EQ(zones[0].max_c, 8.0);
  EXPECT_EQ(zones[0].warning_band_c, 1.0);
  EXPECT_EQ(zones[0].alarm_delay_s, 1800);
  EXPECT_EQ(zones[0].cumulative, (CumulativeRule{86400, 3600}));
  EXPECT_EQ(zones[0].hysteresis_c, 0.5);
  EXPECT_EQ(zones[0].repeat_s, 900);
  EXPECT_EQ(zones[0].combine, Combine::kMean);

  const auto& s = r.config->sensors;
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].driver, Driver::kW1);
  EXPECT_EQ(s[0].w1.root, "/sys/bus/w1/devices");
  EXPECT_EQ(s[0].w1.device, "28-0316a2791aff");
  EXPECT_EQ(s[0].read_interval_s, 15);
  EXPECT_EQ(s[0].offline_after_s, 45);  // 3 x read_interval_s
  EXPECT_EQ(s[0].check().offset_c, -0.25);
  EXPECT_EQ(s[0].check().plausible_min_c, -10.0);
  EXPECT_EQ(s[0].check().plausible_max_c, 40.0);
  EXPECT_EQ(s[1].hwmon.root, "/tmp/sys/class/hwmon");
  EXPECT_EQ(s[1].hwmon.input, "hwmon2/temp1_input");
  EXPECT_EQ(s[1].offline_after_s, 120);
  EXPECT_EQ(s[2].modbus.device, "/dev/ttyUSB0");
  EXPECT_EQ(s[2].modbus.unit, 3);
  EXPECT_EQ(s[2].modbus.register_address, 4);
  EXPECT_EQ(s[2].modbus.scale, 0.01);
  EXPECT_EQ(s[2].modbus.baud, 9600);
  EXPECT_EQ(s[3].mqtt.topic, "probes/fz-2");
  EXPECT_EQ(s[3].mqtt.pointer, "/temperature_c");
  EXPECT_EQ(s[4].sim.profile, "sine");
  EXPECT_EQ(s[4].sim.base_c, -20.0);

  auto probes = probes_of("freezer-1", s);
  ASSERT_EQ(probes.size(), 3u);
  EXPECT_EQ(probes[0].id, "fz-1");
  EXPECT_EQ(probes[0].offline_after_s, 30);
}

TEST(ColdchainConfig, ZoneDefaults) {
  auto r = parse_config(doc(R"("zones": [{"id": "chilled-1", "max_c": 4}])"));
  ASSERT_TRUE(r.config) << (r.problems.empty() ? "" : r.problems[0]);
  const Zone& z = r.config->zones.at(0);
  EXPECT_FALSE(z.min_c);
  EXPECT_EQ(z.warning_band_c, 0.0);
  EXPECT_EQ(z.alarm_delay_s, 900);
  EXPECT_FALSE(z.cumulative);
  EXPECT_EQ(z.hysteresis_c, 0.5);
  EXPECT_EQ(z.repeat_s, 3600);
  EXPECT_EQ(z.combine, Combine::kWorst);
  EXPECT_TRUE(r.config->sensors.empty());
}

TEST(ColdchainConfig, ZoneRulesNameThePathTheValueAndTheRule) {
  EXPECT_THAT(
      problems(R"("zones": [
        {"id": "frozen", "min_c": -18, "max_c": -25},
        {"id": "frozen", "max_c": -18},
        {"id": "ambient", "max_c": 30},
        {"id": "no-limits", "alarm_delay_s": -1},
        {"id": "p", "min_c": 2, "max_c": 8, "warning_band_c": 2.5, "hysteresis_c": 0.5,
         "cumulative": {"window_s": 3600, "limit_s": 3600}, "repeat_s": 30, "combine": "avg",
         "hysterisis_c": 1},
        {"id": "q", "max_c": 500, "cumulative": {"limit_s": 60}}
      ])"),
      ElementsAre("zones[0].max_c: -25 must be greater than min_c -18",
                  "zones[1].id: \"frozen\" is already used by zones[0]",
                  "zones[2].id: \"ambient\" is reserved for unrefrigerated storage",
                  "zones[3]: needs max_c, min_c or both",
                  "zones[3].alarm_delay_s: -1 must be between 0 and 86400",
                  "zones[4].warning_band_c: 2.5 plus hysteresis_c 0.5 must be less than half of "
                  "max_c - min_c (3)",
                  "zones[4].cumulative.limit_s: 3600 must be less than window_s 3600",
                  "zones[4].repeat_s: 30 must be 0 (never repeat) or between 60 and 86400",
                  "zones[4].combine: \"avg\" must be one of: worst, mean",
                  "zones[4].hysterisis_c: unknown key (did you mean \"hysteresis_c\"?)",
                  "zones[5].max_c: 500 must be between -100 and 100",
                  "zones[5].cumulative.window_s: is required"));
}

TEST(ColdchainConfig, SensorRules) {
  EXPECT_THAT(
      problems(R"("zones": [{"id": "cold-1", "max_c": 4}, {"id": "bad zone", "max_c": 4}],
      "sensors": [
        {"id": "a", "zone": "freezer-9", "driver": "sim"},
        {"id": "a", "zone": "cold-1", "driver": "sim"},
        {"id": "b", "zone": "cold-1", "driver": "w1"},
        {"id": "c", "zone": "cold-1", "driver": "w1", "w1": {"device": "28-XYZ"},
         "hwmon": {"input": "hwmon0/temp1_input"}},
        {"id": "d", "zone": "cold-1", "driver": "hwmon", "read_interval_s": 10,
         "offline_after_s": 5, "hwmon": {"input": "../hwmon0/in1_input"}},
        {"id": "e", "zone": "cold-1", "driver": "mqtt", "plausible_min_c": 20,
         "plausible_max_c": 10, "mqtt": {"topic": "probes/+/t", "pointer": "temp"}},
        {"id": "f", "zone": "cold-1", "driver": "modbus",
         "modbus": {"device": "/dev/ttyUSB0", "host": "10.0.0.5", "register": 70000}},
        {"id": "g", "zone": "cold-1", "driver": "serial", "offset_c": 25}
      ])"),
      ElementsAre(
          "zones[1].id: \"bad zone\" must be 1-64 characters of letters, digits, '_', '-' or '.'",
          "sensors[0].zone: \"freezer-9\" is not a configured zone (configured: cold-1)",
          "sensors[1].id: \"a\" is already used by sensors[0]",
          "sensors[2].w1: is required for driver w1",
          "sensors[3].w1.device: \"28-XYZ\" must be a 1-Wire id like \"28-0316a2791aff\" "
          "(family, '-', 12 lower-case hex digits)",
          "sensors[3].hwmon: settings for driver hwmon, but driver is \"w1\"",
          "sensors[4].offline_after_s: 5 must be at least read_interval_s 10",
          "sensors[4].hwmon.input: \"../hwmon0/in1_input\" must be a relative path to a "
          "temp<N>_input file, e.g. \"hwmon0/temp1_input\"",
          "sensors[5].plausible_max_c: 10 must be greater than plausible_min_c 20",
          "sensors[5].mqtt.topic: \"probes/+/t\" must name one topic, without the wildcards + "
          "and #",
          "sensors[5].mqtt.pointer: \"temp\" must be a JSON pointer (\"\" or starting with '/')",
          "sensors[6].modbus: needs device (Modbus RTU) or host (Modbus TCP), not both",
          "sensors[6].modbus.register: 70000 must be between 0 and 65535",
          "sensors[7].driver: \"serial\" must be one of: w1, hwmon, modbus, mqtt, sim",
          "sensors[7].offset_c: 25 must be between -20 and 20"));
}

// Calibration records (issue 15 item 6): certificate, date and due date per probe; a probe
// past due (or without a record while others have one) is a warning, for check and the log.
TEST(ColdchainConfig, CalibrationRecordsAndOverdueWarnings) {
  auto r = parse_config(doc(R"("zones": [{"id": "cold-1", "max_c": 4}, {"id": "empty", "max_c": 4}],
      "sensors": [
        {"id": "a", "zone": "cold-1", "driver": "sim", "offset_c": -0.2,
         "calibration": {"certificate": "CAL-2026-0412", "date": "2026-03-01", "due": "2026-12-01"}},
        {"id": "b", "zone": "cold-1", "driver": "sim"}])"));
  ASSERT_TRUE(r.config) << (r.problems.empty() ? "" : r.problems[0]);
  const auto& a = r.config->sensors[0];
  ASSERT_TRUE(a.calibration);
  EXPECT_EQ(a.calibration->certificate, "CAL-2026-0412");
  EXPECT_EQ(a.calibration->date_ms, *timefmt::parse_rfc3339_ms("2026-03-01"));
  EXPECT_EQ(a.calibration->due_ms, *timefmt::parse_rfc3339_ms("2026-12-01"));
  const auto& cfg = *r.config;
  // On the due day itself the calibration is still in time; the next day it is past due.
  const auto due_day = *timefmt::parse_rfc3339_ms("2026-12-01T23:59:59Z");
  EXPECT_THAT(zone_warnings(cfg.zones, cfg.sensors, due_day),
              ::testing::UnorderedElementsAre("zones: \"empty\" has no probe (no sensor names it in \"zone\"): it is "
                          "never judged and can raise no alarm, not even probe_failure",
                          "sensors[1]: probe \"b\" has no calibration record while other probes "
                          "have one"));
  EXPECT_THAT(zone_warnings(cfg.zones, cfg.sensors, due_day + 1000),
              ::testing::Contains("sensors[0].calibration.due: probe \"a\" was due for calibration "
                                  "on 2026-12-01 (certificate CAL-2026-0412)"));

  EXPECT_THAT(problems(R"("zones": [{"id": "cold-1", "max_c": 4}], "sensors": [
        {"id": "a", "zone": "cold-1", "driver": "sim",
         "calibration": {"certificate": "", "date": "2026-03-01", "due": "2026-02-01"}},
        {"id": "b", "zone": "cold-1", "driver": "sim",
         "calibration": {"certificate": "C1", "date": "1 March", "due": "2026-02-30"}}])"),
              ElementsAre("sensors[0].calibration.certificate: \"\" must not be empty",
                          "sensors[0].calibration.due: must be after calibration.date",
                          "sensors[1].calibration.date: \"1 March\" must be a date YYYY-MM-DD",
                          "sensors[1].calibration.due: \"2026-02-30\" must be a date YYYY-MM-DD"));
}

TEST(ColdchainConfig, SensorsNeedZones) {
  EXPECT_THAT(problems(R"("sensors": [{"id": "a", "zone": "cold-1", "driver": "sim"}])"),
              ElementsAre("sensors[0].zone: \"cold-1\" is not a configured zone (no zones are "
                          "configured)"));
}

// Once zones are configured, a catalog item's zone must be one of them or "ambient"; without
// a `zones` section the catalog's zones are not checked (configs written before issue 4).
TEST(ColdchainConfig, CatalogZonesMustBeConfiguredOnceZonesAre) {
  const std::string catalog = R"("catalog": [
      {"sku": "A", "zone": "cold-1"}, {"sku": "B", "zone": "ambient"}, {"sku": "C", "zone": ""},
      {"sku": "D"}, {"sku": "E", "zone": "freezer-1"}])";
  EXPECT_THAT(problems(catalog), IsEmpty());
  EXPECT_THAT(problems(R"("zones": [{"id": "cold-1", "max_c": 4}], )" + catalog),
              ElementsAre("catalog[4].zone: \"freezer-1\" is not a configured zone (configured: "
                          "cold-1); use \"ambient\" for unrefrigerated storage"));
}

TEST(ColdchainConfig, SectionsMustBeArrays) {
  EXPECT_THAT(problems(R"("zones": {}, "sensors": 3)"),
              ElementsAre("zones: {} must be an array, not an object",
                          "sensors: 3 must be an array, not an integer"));
}

// The example in docs/coldchain.md must stay a valid config.
TEST(ColdchainConfig, TheDocumentedExampleIsValid) {
  std::ifstream in(std::string(DEPOT_SOURCE_DIR) + "/docs/coldchain.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string md = text.str();
  const auto start = md.find("```json\n");
  ASSERT_NE(start, std::string::npos);
  const auto end = md.find("```", start + 8);
  ASSERT_NE(end, std::string::npos);
  auto r = parse_config(doc(md.substr(start + 8, end - start - 8)));
  ASSERT_TRUE(r.config) << (r.problems.empty() ? "" : r.problems[0]);
  EXPECT_EQ(r.config->zones.size(), 2u);
  EXPECT_EQ(r.config->sensors.size(), 2u);
}

// The alarm-outputs example in docs/coldchain.md ("Alarm outputs and escalation") must stay a
// valid config, with the levels it describes.
TEST(ColdchainConfig, TheDocumentedAlarmOutputsExampleIsValid) {
  std::ifstream in(std::string(DEPOT_SOURCE_DIR) + "/docs/coldchain.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string md = text.str();
  const auto section = md.find("## Alarm outputs and escalation");
  ASSERT_NE(section, std::string::npos);
  const auto start = md.find("```json\n", section);
  ASSERT_NE(start, std::string::npos);
  const auto end = md.find("```", start + 8);
  auto r = parse_config(doc(md.substr(start + 8, end - start - 8)));
  ASSERT_TRUE(r.config) << (r.problems.empty() ? "" : r.problems[0]);
  const auto& o = r.config->alarm_outputs;
  ASSERT_EQ(o.outputs.size(), 3u);
  EXPECT_EQ(o.outputs[0].kind, OutputKind::kModbus);
  ASSERT_TRUE(o.fallback);
  ASSERT_EQ(o.fallback->temperature.size(), 3u);
  EXPECT_EQ(o.fallback->temperature[1].after_ms, 15 * 60'000);
  EXPECT_EQ(o.fallback->temperature[1].repeat_ms, 30 * 60'000);
  EXPECT_EQ(o.policy_for("pharma-1")->temperature.size(), 1u);
}

TEST(ColdchainConfig, HumidityLimitsAndDoorProbes) {
  auto r = parse_config(doc(R"(
  "zones": [{"id": "produce-1", "min_c": 0, "max_c": 8, "min_rh": 85, "max_rh": 95,
             "rh_warning_band": 2, "rh_alarm_delay_s": 600, "rh_hysteresis": 2.5,
             "door_open_alarm_s": 180}],
  "sensors": [
    {"id": "t", "zone": "produce-1", "driver": "mqtt", "mqtt": {"topic": "z/room", "pointer": "/temperature"}},
    {"id": "rh", "zone": "produce-1", "driver": "mqtt", "measures": "humidity",
     "mqtt": {"topic": "z/room", "pointer": "/humidity"}},
    {"id": "door", "zone": "produce-1", "driver": "mqtt", "measures": "door", "offline_after_s": 7200,
     "mqtt": {"topic": "z/room", "pointer": "/contact"}},
    {"id": "dock", "zone": "produce-1", "driver": "modbus", "measures": "door", "open_value": 1,
     "modbus": {"host": "10.0.0.5", "register": 7, "scale": 1}}
  ])"));
  ASSERT_TRUE(r.config) << (r.problems.empty() ? "" : r.problems[0]);
  const auto& z = r.config->zones[0];
  EXPECT_EQ(z.min_rh, 85.0);
  EXPECT_EQ(z.max_rh, 95.0);
  EXPECT_EQ(z.rh_warning_band, 2.0);
  EXPECT_EQ(z.rh_alarm_delay_s, 600);
  EXPECT_EQ(z.rh_hysteresis, 2.5);
  EXPECT_EQ(z.door_open_alarm_s, 180);
  const auto& s = r.config->sensors;
  EXPECT_EQ(s[0].measures, Measure::kTemperature);
  EXPECT_EQ(s[1].measures, Measure::kHumidity);
  EXPECT_EQ(s[1].plausible_min_c, 0.0) << "%RH range by default";
  EXPECT_EQ(s[1].plausible_max_c, 100.0);
  EXPECT_EQ(s[2].measures, Measure::kDoor);
  EXPECT_EQ(s[2].check().open_value, 0.0) << "Zigbee2MQTT: contact false means open";
  EXPECT_EQ(s[3].check().open_value, 1.0);
  EXPECT_FALSE(s[0].check().open_value);
  EXPECT_THAT(probes_of("produce-1", s, Measure::kDoor).size(), 2u);
  EXPECT_THAT(zone_warnings(r.config->zones, s, 0), IsEmpty());

  EXPECT_THAT(problems(R"("zones": [{"id": "z", "max_c": 8, "min_rh": 90, "max_rh": 80,
                        "door_open_alarm_s": 0}])"),
              ElementsAre("zones[0].max_rh: 80 must be greater than min_rh 90",
                          "zones[0].door_open_alarm_s: 0 must be between 1 and 86400"));
  EXPECT_THAT(problems(R"("zones": [{"id": "z", "max_c": 8, "min_rh": 80, "max_rh": 90,
                        "rh_warning_band": 3, "rh_hysteresis": 2}])"),
              ElementsAre("zones[0].rh_warning_band: 3 plus rh_hysteresis 2 must be less than half "
                          "of max_rh - min_rh (5)"));
  EXPECT_THAT(problems(R"("zones": [{"id": "z", "max_c": 8, "max_rh": 101}])"),
              ElementsAre("zones[0].max_rh: 101 must be between 0 and 100"));
  auto p = problems(R"("zones": [{"id": "z", "max_c": 8}], "sensors": [
      {"id": "a", "zone": "z", "driver": "sim", "measures": "pressure"},
      {"id": "b", "zone": "z", "driver": "sim", "open_value": 1}])");
  ASSERT_EQ(p.size(), 2u) << ::testing::PrintToString(p);
  EXPECT_THAT(p[0], ::testing::StartsWith("sensors[0].measures: \"pressure\" must be one of"));
  EXPECT_EQ(p[1], "sensors[1].open_value: only a door probe (\"measures\": \"door\") has an open_value");

  EXPECT_THAT(problems(R"("zones": [{"id": "z", "max_c": 8}], "sensors": [
      {"id": "a", "zone": "z", "driver": "modbus", "modbus": {"host": "h", "register": 1, "table": "discrete"}}])"),
              ElementsAre("sensors[0].modbus.table: \"discrete\" reads one bit: only a door probe "
                          "(\"measures\": \"door\") can use it"));
  // A table of the wrong JSON type is a problem named like any other, never an exception.
  auto t = problems(R"("zones": [{"id": "z", "max_c": 8}], "sensors": [
      {"id": "a", "zone": "z", "driver": "modbus", "modbus": {"host": "h", "register": 1, "table": 5}}])");
  ASSERT_EQ(t.size(), 1u) << ::testing::PrintToString(t);
  EXPECT_THAT(t[0], ::testing::StartsWith("sensors[0].modbus.table: 5 must be"));
  // Humidity limits without a humidity probe, or the other way round: valid, but said.
  auto w = parse_config(doc(R"("zones": [{"id": "a", "max_c": 8, "max_rh": 90},
                                         {"id": "b", "max_c": 8}],
      "sensors": [{"id": "ta", "zone": "a", "driver": "sim"}, {"id": "tb", "zone": "b", "driver": "sim"},
                  {"id": "rb", "zone": "b", "driver": "sim", "measures": "humidity"}])"));
  ASSERT_TRUE(w.config);
  EXPECT_THAT(zone_warnings(w.config->zones, w.config->sensors, 0),
              ElementsAre("zones: \"a\" has humidity limits but no humidity probe (\"measures\": "
                          "\"humidity\"): they are never judged",
                          "zones: \"b\" has a humidity probe but no min_rh or max_rh: its readings "
                          "are recorded, never judged"));
}

// retention.raw_every_s thins nothing for a probe read that seldom: `check` says so, naming
// at most five probes.
TEST(RetentionWarnings, RawEverySecondsAtOrBelowAProbesReadIntervalIsAWarning) {
  std::vector<SensorConfig> s(7);
  for (int i = 0; i < 7; ++i) {
    s[static_cast<std::size_t>(i)].id = "p" + std::to_string(i);
    s[static_cast<std::size_t>(i)].read_interval_s = i < 6 ? 60 : 1;
  }
  s.push_back({});  // an MQTT probe reads when its messages come: never named
  s.back().id = "m";
  s.back().driver = Driver::kMqtt;
  s.back().read_interval_s = 60;
  Retention r;  // raw_every_s 1: nothing is thinned, nothing to say
  EXPECT_THAT(retention_warnings(r, s), IsEmpty());
  r.raw_every_s = 60;
  EXPECT_THAT(retention_warnings(r, s),
              ElementsAre("retention.raw_every_s: 60 thins nothing for some probes: \"p0\", "
                          "\"p1\", \"p2\", \"p3\", \"p4\" and 1 more read every 60 s or less "
                          "often (read_interval_s), so each of their readings is stored"));
  r.raw_every_s = 61;
  EXPECT_THAT(retention_warnings(r, s), IsEmpty());
  s.resize(1);  // p0 alone
  r.raw_every_s = 30;
  EXPECT_THAT(retention_warnings(r, s),
              ElementsAre("retention.raw_every_s: 30 thins nothing for any probe: \"p0\" read "
                          "every 30 s or less often (read_interval_s), so each of their readings "
                          "is stored"));
}

}  // namespace
}  // namespace depot::coldchain
