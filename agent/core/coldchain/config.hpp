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

#include "core/catalog.hpp"
#include "core/coldchain/escalation.hpp"
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

// One register (or register pair) of a Modbus RTU (serial `device`) or Modbus TCP (`host`)
// probe: the count read as `type` (32-bit types span `register` and `register + 1`, in
// `word_order`), times `scale`, plus `offset_c`.
// kDiscrete (discrete inputs, function 2) and kCoil (coils, function 1) read one bit, 0 or 1
// (no type, scale or offset): door contacts.
enum class ModbusTable { kHolding, kInput, kDiscrete, kCoil };
enum class ModbusType { kInt16, kUint16, kInt32, kUint32 };
enum class WordOrder { kBig, kLittle };  // kBig: the first register holds the high word

struct ModbusSource {
  std::string device;  // RTU: serial device, e.g. "/dev/ttyUSB0" (8 data bits, no parity, 1 stop)
  std::string host;    // TCP: host name or address
  std::int64_t port = 502;
  std::int64_t baud = 9600;
  std::int64_t unit = 1;
  std::int64_t register_address = 0;  // JSON key "register"
  ModbusTable table = ModbusTable::kHolding;
  ModbusType type = ModbusType::kInt16;
  WordOrder word_order = WordOrder::kBig;
  double scale = 0.1;     // °C per count
  double offset_c = 0.0;  // added after scale (the transmitter's own zero; not calibration)
  std::int64_t timeout_ms = 1000;  // per request
  bool operator==(const ModbusSource&) const = default;
};

// A probe that publishes JSON over MQTT: the value at JSON pointer `pointer` on `topic`,
// received from the broker at `broker` (one client per broker, shared by its probes).
struct MqttSource {
  std::string broker = "tcp://127.0.0.1:1883";
  std::string topic;
  std::string pointer = "/temperature_c";
  std::string username;       // empty: anonymous
  std::string password_file;  // read when the client connects; empty: no password
  bool booleans = false;      // true/false read as 1/0 (set for door probes, not configured)
  bool operator==(const MqttSource&) const = default;
};

// One step of a simulator script: for `for_s` seconds hold `c`, ramp linearly from the previous
// step's end value to `to_c`, or (neither given) hold the previous value.
struct SimStep {
  enum class Kind { kSteady, kRamp, kHold };
  Kind kind = Kind::kHold;
  double c = 0.0;  // kSteady: the value; kRamp: the end value
  std::int64_t for_s = 1;
  bool operator==(const SimStep&) const = default;
};

// Door-open spikes: every `every_s` seconds (first at `every_s`) the value rises by `rise_c`
// for `duration_s` seconds.
struct SimSpikes {
  std::int64_t every_s = 0;  // 0: no spikes
  double rise_c = 0.0;
  std::int64_t duration_s = 0;
  bool operator==(const SimSpikes&) const = default;
};

// A failure window: from `start_s` for `duration_s` seconds (again every `every_s` seconds when
// non-zero) every read is rejected: "no_data" (kNoData) or "crc" (kCrcFailed).
struct SimFailure {
  std::int64_t start_s = 0;
  std::int64_t duration_s = 0;
  std::int64_t every_s = 0;
  bool crc = false;
  bool operator==(const SimFailure&) const = default;
};

// A simulated probe for demos and tests. Deterministic: the value is a function of the time
// since the driver started and `seed` only (drivers/sensor/sim/sim_profile.hpp).
struct SimSource {
  // constant | sine | excursion | drift | script
  std::string profile = "constant";
  double base_c = 4.0;
  double amplitude_c = 0.0;  // sine: peak deviation; excursion: the rise in the second half
  std::int64_t period_s = 3600;
  double to_c = 0.0;  // drift: ramp from base_c to to_c over duration_s, then hold
  std::int64_t duration_s = 60;
  std::vector<SimStep> script;  // script: the steps, from base_c
  bool repeat = true;           // script: start over after the last step (else hold its value)
  double noise_c = 0.0;         // uniform noise in [-noise_c, +noise_c], one draw per second
  std::int64_t seed = 1;
  SimSpikes spikes;
  std::vector<SimFailure> failures;
  bool operator==(const SimSource&) const = default;
};

// A probe's calibration record (config `sensors[].calibration`): the certificate, when it was
// calibrated and when the next calibration is due. The correction itself is `offset_c`.
struct Calibration {
  std::string certificate;  // certificate id, 1-64 printable characters
  std::int64_t date_ms = 0;  // calibration date (UTC midnight)
  std::int64_t due_ms = 0;   // next calibration due (UTC midnight), after date_ms
  bool operator==(const Calibration&) const = default;
};

// Whether `c` is past due at `now_ms` (the due day itself is still in time).
inline bool calibration_overdue(const Calibration& c, std::int64_t now_ms) {
  return now_ms >= c.due_ms + 86'400'000;
}

struct SensorConfig {
  std::string id;
  std::string zone;
  Driver driver = Driver::kSim;
  std::int64_t read_interval_s = 10;
  double offset_c = 0.0;
  double plausible_min_c = -55.0;
  double plausible_max_c = 125.0;
  std::int64_t offline_after_s = 30;  // default: 3 x read_interval_s
  // temperature (°C), humidity (%RH: offset_c and plausible_*_c are in %RH, range 0-100 by
  // default) or door (the raw value `open_value` means open, anything else closed; a JSON
  // true/false reads as 1/0; no offset or range).
  Measure measures = Measure::kTemperature;
  double open_value = 0.0;  // Zigbee2MQTT's `contact`: false (0) when the door is open
  std::optional<Calibration> calibration;
  // Only the member for `driver` is meaningful.
  W1Source w1;
  HwmonSource hwmon;
  ModbusSource modbus;
  MqttSource mqtt;
  SimSource sim;

  ProbeCheck check() const {
    ProbeCheck c{offset_c, plausible_min_c, plausible_max_c, std::nullopt};
    if (measures == Measure::kDoor) c.open_value = open_value;
    return c;
  }
  ProbeSpec spec() const { return {id, offline_after_s}; }
  bool operator==(const SensorConfig&) const = default;
};

// The zone id catalog items use for unrefrigerated storage; it cannot be configured.
inline constexpr std::string_view kAmbientZone = "ambient";

// Reads the `zones` and `sensors` arrays (either may be null: absent or not an array) into
// `zones` and `sensors`, recording problems in `p`. Only entries without problems are kept.
// When `zones` is given, each catalog entry's non-empty `zone` other than "ambient" must name
// a configured zone (`catalog`: what the entries named).
void read_coldchain(const nlohmann::json* zones_json, const nlohmann::json* sensors_json,
                    const std::vector<CatalogEntryRefs>& catalog, Problems& p,
                    std::vector<Zone>& zones, std::vector<SensorConfig>& sensors);

// How long the agent keeps cold-chain data locally (config `retention`, docs/coldchain.md).
struct Retention {
  std::int64_t readings_days = 30;         // raw readings
  std::int64_t summary_days = 400;         // per-minute summaries
  std::int64_t excursion_margin_min = 60;  // raw readings this close to an excursion stay
  // Flash wear: a probe's *quiet* reading is stored (and sent) only when at least this many
  // seconds have passed since that probe's last stored one. Quiet: good, not older than the
  // probe's previous reading, inside the limits less the warning band, bringing no zone event,
  // read while the whole zone (temperature, humidity, doors) is normal. Every other reading is
  // stored; alarms, minute summaries and `zones` use every reading (docs/coldchain.md).
  std::int64_t raw_every_s = 1;
  bool operator==(const Retention&) const = default;
};

// Reads the `retention` object (`j` may be null: absent) into `r`.
void read_retention(const nlohmann::json* j, Problems& p, Retention& r);

// Valid but likely a mistake, for `check` and the start-up log: `raw_every_s` above 1 thins
// nothing for a probe read every `raw_every_s` seconds or less often (each of its readings is
// that far apart already). Names at most five such probes and how many more. Not MQTT probes:
// their read_interval_s is only the expected rate.
std::vector<std::string> retention_warnings(const Retention& r,
                                            const std::vector<SensorConfig>& sensors);

// What is valid but likely a mistake, for `depot-agent check` (warnings, not problems): a
// zone with no probe assigned is never judged (no reading, so no alarm, not even probe_failure).
// Also: a probe whose calibration is past due at `now_ms` (or has no calibration record, when
// another probe has one: a mixed fleet is usually an oversight).
std::vector<std::string> zone_warnings(const std::vector<Zone>& zones,
                                       const std::vector<SensorConfig>& sensors,
                                       std::int64_t now_ms);

// Reads the alarm outputs (`outputs`, top-level `escalation` and each `zones[i].escalation`;
// any may be absent: null) into `out`, recording problems in `p` (docs/coldchain.md, "Alarm
// outputs and escalation"). Every output an escalation level names must be configured.
void read_alarm_outputs(const nlohmann::json* outputs_json, const nlohmann::json* escalation_json,
                        const nlohmann::json* zones_json, Problems& p, AlarmOutputs& out);

// Valid but likely a mistake, for `check`: an output no escalation level uses; a zone with
// no escalation for an alarm type while outputs are configured.
std::vector<std::string> output_warnings(const AlarmOutputs& outputs,
                                         const std::vector<Zone>& zones);

// The three lists above in one, zone warnings first: what `check` prints and the daemon logs
// at every start, so the two never drift apart.
std::vector<std::string> config_warnings(const std::vector<Zone>& zones,
                                         const std::vector<SensorConfig>& sensors,
                                         const AlarmOutputs& outputs, const Retention& retention,
                                         std::int64_t now_ms);

// The probes of `zone_id`, in config order, for a ZoneMonitor.
std::vector<ProbeSpec> probes_of(std::string_view zone_id,
                                 const std::vector<SensorConfig>& sensors,
                                 Measure measure = Measure::kTemperature);

// The configured zone with `id`, or null.
const Zone* find_zone(const std::vector<Zone>& zones, std::string_view id);
// Why `id` is refused: "\"ID\" is not a configured zone (configured: a, b)" (or "(no zones
// are configured)"), `id` printable. Every door (config, CLI, console, cloud desk) says it so.
std::string unknown_zone(std::string_view id, const std::vector<std::string>& configured);
std::string unknown_zone(std::string_view id, const std::vector<Zone>& zones);

}  // namespace depot::coldchain
