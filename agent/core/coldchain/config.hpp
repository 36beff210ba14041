// The cold-chain sections of the agent's config: `zones` (what each storage zone must stay
// within) and `sensors` (which probe, read how, belongs to which zone). `read_coldchain`
// is called by `parse_config` and records every problem with its JSON path, value and rule,
// e.g. "zones[1].max_c: -25 must be greater than min_c -18". docs/coldchain.md documents
// every key and its default. Pure: paths are kept as written; drivers open them later.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/coldchain/reading.hpp"
#include "core/coldchain/zone.hpp"
#include "core/coldchain/zone_monitor.hpp"

namespace depot {
class Problems;
}

namespace depot::coldchain {

enum class Driver { kW1, kHwmon, kModbus, kMqtt, kSim };
std::string_view to_string(Driver d);

// 1-Wire DS18B20 through the kernel's w1_therm: <root>/<device>/w1_slave.
struct W1Source {
  std::string root = "/sys/bus/w1/devices";
  std::string device;  // e.g. "28-0316a2791aff"
  bool operator==(const W1Source&) const = default;
};

// A kernel hwmon sensor: <root>/<input>, e.g. /sys/class/hwmon + hwmon2/temp1_input.
struct HwmonSource {
  std::string root = "/sys/class/hwmon";
  std::string input;
  bool operator==(const HwmonSource&) const = default;
};

// One holding register of a Modbus RTU (serial `device`) or Modbus TCP (`host`) probe, read
// as a signed 16-bit count times `scale`.
struct ModbusSource {
  std::string device;  // RTU: serial device, e.g. "/dev/ttyUSB0"
  std::string host;    // TCP: host name or address
  std::int64_t port = 502;
  std::int64_t baud = 9600;
  std::int64_t unit = 1;
  std::int64_t register_address = 0;  // JSON key "register"
  double scale = 0.1;                 // °C per count
  bool operator==(const ModbusSource&) const = default;
};

// A probe that publishes JSON over MQTT: the value at JSON pointer `pointer` on `topic`.
struct MqttSource {
  std::string topic;
  std::string pointer = "/temperature_c";
  bool operator==(const MqttSource&) const = default;
};

// A simulated probe for demos and soak tests.
struct SimSource {
  std::string profile = "constant";  // constant | sine | excursion
  double base_c = 4.0;
  double amplitude_c = 0.0;
  std::int64_t period_s = 3600;
  bool operator==(const SimSource&) const = default;
};

struct SensorConfig {
  std::string id;
  std::string zone;
  Driver driver = Driver::kSim;
  std::int64_t read_interval_s = 10;
  double offset_c = 0.0;
  double plausible_min_c = -55.0;
  double plausible_max_c = 125.0;
  std::int64_t offline_after_s = 30;  // default: 3 x read_interval_s
  // Only the member for `driver` is meaningful.
  W1Source w1;
  HwmonSource hwmon;
  ModbusSource modbus;
  MqttSource mqtt;
  SimSource sim;

  ProbeCheck check() const { return {offset_c, plausible_min_c, plausible_max_c}; }
  ProbeSpec spec() const { return {id, offline_after_s}; }
  bool operator==(const SensorConfig&) const = default;
};

// The zone id catalog items use for unrefrigerated storage; it cannot be configured.
inline constexpr std::string_view kAmbientZone = "ambient";

// Reads the `zones` and `sensors` arrays (either may be null: absent or not an array) into
// `zones` and `sensors`, recording problems in `p`. Only entries without problems are kept.
// When `zones` is given, each catalog item's non-empty `zone` other than "ambient" must name
// a configured zone (`catalog` may be null).
void read_coldchain(const nlohmann::json* zones_json, const nlohmann::json* sensors_json,
                    const nlohmann::json* catalog_json, Problems& p, std::vector<Zone>& zones,
                    std::vector<SensorConfig>& sensors);

// How long the agent keeps cold-chain data locally (config `retention`, docs/coldchain.md).
struct Retention {
  std::int64_t readings_days = 30;         // raw readings
  std::int64_t summary_days = 400;         // per-minute summaries
  std::int64_t excursion_margin_min = 60;  // raw readings this close to an excursion stay
  bool operator==(const Retention&) const = default;
};

// Reads the `retention` object (`j` may be null: absent) into `r`.
void read_retention(const nlohmann::json* j, Problems& p, Retention& r);

// The probes of `zone_id`, in config order, for a ZoneMonitor.
std::vector<ProbeSpec> probes_of(std::string_view zone_id,
                                 const std::vector<SensorConfig>& sensors);

}  // namespace depot::coldchain
