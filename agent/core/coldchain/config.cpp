#include "core/coldchain/config.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/json_fields.hpp"
#include "core/json_parse.hpp"
#include "core/time.hpp"

namespace depot::coldchain {
namespace {

using nlohmann::json;

std::string index_path(std::string_view array, std::size_t i) {
  return std::string(array) + "[" + std::to_string(i) + "]";
}

// A number in [lo, hi], or nullopt (absent, or a problem recorded).
std::optional<double> number_between(ObjectReader& r, std::string_view key, double lo, double hi) {
  auto v = r.number(key, false);
  if (!v) return std::nullopt;
  if (!std::isfinite(*v) || *v < lo || *v > hi) {
    r.problems().add(r.path_of(key), format_celsius(*v) + " must be between " + format_celsius(lo) +
                                         " and " + format_celsius(hi));
    return std::nullopt;
  }
  return v;
}

std::string configured_zones(const std::set<std::string>& ids) {
  if (ids.empty()) return " (no zones are configured)";
  std::string s;
  for (const auto& id : ids) s += (s.empty() ? "" : ", ") + id;
  return " (configured: " + s + ")";
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// "28-0316a2791aff": a family code, '-', the 12-digit serial (lower-case hex, as sysfs names it).
bool is_w1_device(std::string_view s) {
  if (s.size() != 15 || s[2] != '-') return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != 2 && !is_hex(s[i])) return false;
  return true;
}

// "hwmon2/temp1_input": relative, no "..", naming a temp<N>_input file.
bool is_hwmon_input(std::string_view s) {
  if (s.empty() || s.front() == '/' || s.find("..") != std::string_view::npos) return false;
  auto slash = s.rfind('/');
  auto name = slash == std::string_view::npos ? s : s.substr(slash + 1);
  if (name.size() < 11 || name.substr(0, 4) != "temp" || name.substr(name.size() - 6) != "_input")
    return false;
  auto n = name.substr(4, name.size() - 10);
  for (char c : n)
    if (c < '0' || c > '9') return false;
  return !n.empty();
}

// --- zones --------------------------------------------------------------------------------

std::optional<Zone> read_zone(const json& j, const std::string& path, Problems& p,
                              std::optional<std::string>& id_out) {
  ObjectReader r(j, path, p);
  if (!r.is_object()) return std::nullopt;
  const auto before = p.items().size();
  Zone z;
  if (auto id = r.identifier("id", true)) {
    id_out = *id;
    if (*id == kAmbientZone) {
      p.add(r.path_of("id"), "\"ambient\" is reserved for unrefrigerated storage");
    }
    z.id = *id;
  }
  z.min_c = number_between(r, "min_c", -100, 100);
  z.max_c = number_between(r, "max_c", -100, 100);
  if (!j.contains("min_c") && !j.contains("max_c")) p.add(path, "needs max_c, min_c or both");
  if (z.min_c && z.max_c && *z.max_c <= *z.min_c) {
    p.add(r.path_of("max_c"),
          format_celsius(*z.max_c) + " must be greater than min_c " + format_celsius(*z.min_c));
  }
  if (auto v = number_between(r, "warning_band_c", 0, 20)) z.warning_band_c = *v;
  if (auto v = number_between(r, "hysteresis_c", 0, 10)) z.hysteresis_c = *v;
  if (z.min_c && z.max_c && *z.max_c > *z.min_c) {
    const double span = *z.max_c - *z.min_c;
    if (z.warning_band_c + z.hysteresis_c >= span / 2) {
      p.add(r.path_of("warning_band_c"), format_celsius(z.warning_band_c) + " plus hysteresis_c " +
                                             format_celsius(z.hysteresis_c) +
                                             " must be less than half of max_c - min_c (" +
                                             format_celsius(span / 2) + ")");
    }
  }
  z.alarm_delay_s = r.integer_or("alarm_delay_s", z.alarm_delay_s, 0, 86400);
  if (const auto* c = r.object("cumulative", false)) {
    ObjectReader cr(*c, r.path_of("cumulative"), p);
    auto window = cr.integer("window_s", true, 60, 30 * 86400);
    auto limit = cr.integer("limit_s", true, 1, 30 * 86400);
    if (window && limit && *limit >= *window) {
      p.add(cr.path_of("limit_s"),
            std::to_string(*limit) + " must be less than window_s " + std::to_string(*window));
    } else if (window && limit) {
      z.cumulative = CumulativeRule{*window, *limit};
    }
  }
  if (auto v = r.integer("repeat_s", false)) {
    if (*v != 0 && (*v < 60 || *v > 86400)) {
      p.add(r.path_of("repeat_s"),
            std::to_string(*v) + " must be 0 (never repeat) or between 60 and 86400");
    } else {
      z.repeat_s = *v;
    }
  }
  if (auto c = r.one_of("combine", false, {"worst", "mean"}))
    z.combine = *c == "mean" ? Combine::kMean : Combine::kWorst;
  // Relative humidity: the same rules, in %RH.
  z.min_rh = number_between(r, "min_rh", 0, 100);
  z.max_rh = number_between(r, "max_rh", 0, 100);
  if (z.min_rh && z.max_rh && *z.max_rh <= *z.min_rh)
    p.add(r.path_of("max_rh"),
          format_celsius(*z.max_rh) + " must be greater than min_rh " + format_celsius(*z.min_rh));
  if (auto v = number_between(r, "rh_warning_band", 0, 50)) z.rh_warning_band = *v;
  if (auto v = number_between(r, "rh_hysteresis", 0, 20)) z.rh_hysteresis = *v;
  if (z.min_rh && z.max_rh && *z.max_rh > *z.min_rh &&
      z.rh_warning_band + z.rh_hysteresis >= (*z.max_rh - *z.min_rh) / 2)
    p.add(r.path_of("rh_warning_band"),
          format_celsius(z.rh_warning_band) + " plus rh_hysteresis " +
              format_celsius(z.rh_hysteresis) + " must be less than half of max_rh - min_rh (" +
              format_celsius((*z.max_rh - *z.min_rh) / 2) + ")");
  if (auto v = r.integer("rh_alarm_delay_s", false, 0, 86400)) z.rh_alarm_delay_s = *v;
  z.door_open_alarm_s = r.integer_or("door_open_alarm_s", z.door_open_alarm_s, 1, 86400);
  (void)r.get("escalation", false);  // read by read_alarm_outputs
  r.finish();
  if (p.items().size() != before) return std::nullopt;
  return z;
}

// --- sensors ------------------------------------------------------------------------------

constexpr std::string_view kDriverNames[] = {"w1", "hwmon", "modbus", "mqtt", "sim"};

void read_w1(ObjectReader& r, W1Source& s) {
  s.root = r.string_or("root", s.root);
  if (auto d = r.string("device", true)) {
    if (is_w1_device(*d)) {
      s.device = *d;
    } else {
      r.problems().add(r.path_of("device"),
                       describe(*d) +
                           " must be a 1-Wire id like \"28-0316a2791aff\" (family, "
                           "'-', 12 lower-case hex digits)");
    }
  }
}

void read_hwmon(ObjectReader& r, HwmonSource& s) {
  s.root = r.string_or("root", s.root);
  if (auto in = r.string("input", true)) {
    if (is_hwmon_input(*in)) {
      s.input = *in;
    } else {
      r.problems().add(r.path_of("input"),
                       describe(*in) +
                           " must be a relative path to a temp<N>_input file, e.g. "
                           "\"hwmon0/temp1_input\"");
    }
  }
}

void read_modbus(ObjectReader& r, ModbusSource& s, std::int64_t read_interval_s) {
  s.device = r.string_or("device", "");
  s.host = r.string_or("host", "");
  if (s.device.empty() == s.host.empty()) {
    r.problems().add(r.path(), s.device.empty() ? "needs device (Modbus RTU) or host (Modbus TCP)"
                                                : "needs device (Modbus RTU) or host (Modbus "
                                                  "TCP), not both");
  }
  s.port = r.integer_or("port", s.port, 1, 65535);
  s.baud = r.integer_or("baud", s.baud, 1200, 115200);
  s.unit = r.integer_or("unit", s.unit, 1, 247);
  if (auto t = r.one_of("table", false, {"holding", "input", "discrete", "coil"}))
    s.table = *t == "input"      ? ModbusTable::kInput
              : *t == "discrete" ? ModbusTable::kDiscrete
              : *t == "coil"     ? ModbusTable::kCoil
                                 : ModbusTable::kHolding;
  if (auto t = r.one_of("type", false, {"int16", "uint16", "int32", "uint32"})) {
    s.type = *t == "uint16"   ? ModbusType::kUint16
             : *t == "int32"  ? ModbusType::kInt32
             : *t == "uint32" ? ModbusType::kUint32
                              : ModbusType::kInt16;
  }
  const bool wide = s.type == ModbusType::kInt32 || s.type == ModbusType::kUint32;
  if (auto w = r.one_of("word_order", false, {"big", "little"})) {
    if (!wide) {
      r.problems().add(r.path_of("word_order"),
                       describe(*w) + " applies only to the 32-bit types int32 and uint32");
    }
    s.word_order = *w == "little" ? WordOrder::kLittle : WordOrder::kBig;
  }
  if (auto reg = r.integer("register", true, 0, 65535)) {
    if (wide && *reg == 65535) {
      r.problems().add(r.path_of("register"),
                       "65535 cannot hold a 32-bit value (it needs register and register + 1)");
    }
    s.register_address = *reg;
  }
  if (auto scale = r.number("scale", false)) {
    if (*scale == 0.0 || !std::isfinite(*scale)) {
      r.problems().add(r.path_of("scale"), format_celsius(*scale) + " must not be zero");
    } else {
      s.scale = *scale;
    }
  }
  if (auto v = number_between(r, "offset_c", -1000, 1000)) s.offset_c = *v;
  if (auto t = r.integer("timeout_ms", false, 50, 10000)) {
    if (*t >= read_interval_s * 1000) {
      r.problems().add(r.path_of("timeout_ms"),
                       std::to_string(*t) + " must be less than read_interval_s (" +
                           std::to_string(read_interval_s * 1000) + " ms)");
    } else {
      s.timeout_ms = *t;
    }
  }
}

void read_mqtt(ObjectReader& r, MqttSource& s) {
  if (auto b = r.string("broker", false)) {
    // Plain MQTT only: the probes' broker is local (TLS settings are not supported here).
    const bool known = b->rfind("tcp://", 0) == 0 || b->rfind("mqtt://", 0) == 0;
    if (!known || b->find("://") + 3 >= b->size()) {
      r.problems().add(r.path_of("broker"),
                       describe(*b) +
                           " must be a broker URI like \"tcp://127.0.0.1:1883\" (tcp:// or "
                           "mqtt://; TLS is not supported for probe brokers)");
    } else {
      s.broker = *b;
    }
  }
  if (auto t = r.string("topic", true)) {
    if (t->empty() || t->find_first_of("+#") != std::string::npos) {
      r.problems().add(r.path_of("topic"),
                       describe(*t) + " must name one topic, without the wildcards + and #");
    } else {
      s.topic = *t;
    }
  }
  if (auto ptr = r.string("pointer", false)) {
    if (!ptr->empty() && ptr->front() != '/') {
      r.problems().add(r.path_of("pointer"),
                       describe(*ptr) + " must be a JSON pointer (\"\" or starting with '/')");
    } else {
      s.pointer = *ptr;
    }
  }
  s.username = r.string_or("username", "");
  if (auto pf = r.string("password_file", false)) {
    if (s.username.empty()) {
      r.problems().add(r.path_of("password_file"), "needs username");
    } else if (pf->empty()) {
      r.problems().add(r.path_of("password_file"), "must name a file");
    } else {
      s.password_file = *pf;
    }
  }
}

void read_sim_step(const json& j, const std::string& path, Problems& p, SimStep& step) {
  ObjectReader r(j, path, p);
  if (!r.is_object()) return;
  if (auto f = r.integer("for_s", true, 1, 7 * 86400)) step.for_s = *f;
  const bool has_c = j.contains("c"), has_to = j.contains("to_c");
  if (has_c && has_to) p.add(path, "give c (steady) or to_c (ramp), not both");
  if (auto v = number_between(r, "c", -100, 100)) step.kind = SimStep::Kind::kSteady, step.c = *v;
  if (auto v = number_between(r, "to_c", -100, 100)) step.kind = SimStep::Kind::kRamp, step.c = *v;
}

void read_sim(ObjectReader& r, SimSource& s) {
  if (auto pr = r.one_of("profile", false, {"constant", "sine", "excursion", "drift", "script"}))
    s.profile = *pr;
  if (auto v = number_between(r, "base_c", -100, 100)) s.base_c = *v;
  if (auto v = number_between(r, "amplitude_c", -100, 100)) s.amplitude_c = *v;
  s.period_s = r.integer_or("period_s", s.period_s, 1, 7 * 86400);
  if (auto v = number_between(r, "to_c", -100, 100)) {
    s.to_c = *v;
  } else if (s.profile == "drift" && !r.get("to_c", false)) {
    r.problems().add(r.path_of("to_c"), "is required for profile drift");
  }
  s.duration_s = r.integer_or("duration_s", s.duration_s, 1, 7 * 86400);
  if (const auto* steps = r.array("script", false)) {
    if (steps->empty()) r.problems().add(r.path_of("script"), "needs at least one step");
    for (std::size_t i = 0; i < steps->size(); ++i) {
      SimStep step;
      read_sim_step((*steps)[i], r.path_of("script") + "[" + std::to_string(i) + "]", r.problems(),
                    step);
      s.script.push_back(step);
    }
  } else if (s.profile == "script" && !r.get("script", false)) {
    r.problems().add(r.path_of("script"), "is required for profile script");
  }
  if (auto rep = r.boolean("repeat", false)) s.repeat = *rep;
  if (auto v = number_between(r, "noise_c", 0, 20)) s.noise_c = *v;
  s.seed = r.integer_or("seed", s.seed, 0, std::numeric_limits<std::int64_t>::max());
  if (const auto* sp = r.object("spikes", false)) {
    ObjectReader sr(*sp, r.path_of("spikes"), r.problems());
    if (auto e = sr.integer("every_s", true, 1, 7 * 86400)) s.spikes.every_s = *e;
    if (auto v = number_between(sr, "rise_c", -100, 100))
      s.spikes.rise_c = *v;
    else if (!sr.get("rise_c", false))
      sr.problems().add(sr.path_of("rise_c"), "is required");
    if (auto d = sr.integer("duration_s", true, 1, 7 * 86400)) {
      if (s.spikes.every_s && *d >= s.spikes.every_s) {
        sr.problems().add(
            sr.path_of("duration_s"),
            std::to_string(*d) + " must be less than every_s " + std::to_string(s.spikes.every_s));
      }
      s.spikes.duration_s = *d;
    }
  }
  if (const auto* fs = r.array("failures", false)) {
    for (std::size_t i = 0; i < fs->size(); ++i) {
      ObjectReader fr((*fs)[i], r.path_of("failures") + "[" + std::to_string(i) + "]",
                      r.problems());
      if (!fr.is_object()) continue;
      SimFailure f;
      f.start_s = fr.integer_or("start_s", 0, 0, 7 * 86400);
      if (auto d = fr.integer("duration_s", true, 1, 7 * 86400)) f.duration_s = *d;
      if (auto e = fr.integer("every_s", false, 0, 7 * 86400)) {
        if (*e != 0 && *e <= f.duration_s) {
          fr.problems().add(fr.path_of("every_s"),
                            std::to_string(*e) + " must be 0 (once) or greater than duration_s " +
                                std::to_string(f.duration_s));
        }
        f.every_s = *e;
      }
      if (auto k = fr.one_of("kind", false, {"no_data", "crc"})) f.crc = *k == "crc";
      s.failures.push_back(f);
    }
  }
}

std::optional<SensorConfig> read_sensor(const json& j, const std::string& path,
                                        const std::set<std::string>& zone_ids, Problems& p,
                                        std::optional<std::string>& id_out) {
  ObjectReader r(j, path, p);
  if (!r.is_object()) return std::nullopt;
  const auto before = p.items().size();
  SensorConfig s;
  if (auto id = r.identifier("id", true)) s.id = *id, id_out = *id;
  if (auto z = r.identifier("zone", true)) {
    if (!zone_ids.count(*z)) {
      p.add(r.path_of("zone"),
            describe(*z) + " is not a configured zone" + configured_zones(zone_ids));
    }
    s.zone = *z;
  }
  auto driver = r.one_of("driver", true, {"w1", "hwmon", "modbus", "mqtt", "sim"});
  if (auto m = r.one_of("measures", false, {"temperature", "humidity", "door"}))
    s.measures = *m == "humidity" ? Measure::kHumidity
                 : *m == "door"   ? Measure::kDoor
                                  : Measure::kTemperature;
  if (s.measures == Measure::kHumidity) s.plausible_min_c = 0, s.plausible_max_c = 100;
  if (s.measures == Measure::kDoor) {
    if (auto v = number_between(r, "open_value", -1e9, 1e9)) s.open_value = *v;
  } else if (j.contains("open_value")) {
    p.add(r.path_of("open_value"), "only a door probe (\"measures\": \"door\") has an open_value");
    (void)r.get("open_value", false);
  }
  s.read_interval_s = r.integer_or("read_interval_s", s.read_interval_s, 1, 3600);
  if (auto v = number_between(r, "offset_c", -20, 20)) s.offset_c = *v;
  if (auto v = number_between(r, "plausible_min_c", -100, 200)) s.plausible_min_c = *v;
  if (auto v = number_between(r, "plausible_max_c", -100, 200)) s.plausible_max_c = *v;
  if (s.plausible_max_c <= s.plausible_min_c) {
    p.add(r.path_of("plausible_max_c"), format_celsius(s.plausible_max_c) +
                                            " must be greater than plausible_min_c " +
                                            format_celsius(s.plausible_min_c));
  }
  s.offline_after_s = 3 * s.read_interval_s;
  if (auto v = r.integer("offline_after_s", false, 1, 86400)) {
    if (*v < s.read_interval_s) {
      p.add(r.path_of("offline_after_s"), std::to_string(*v) +
                                              " must be at least read_interval_s " +
                                              std::to_string(s.read_interval_s));
    } else {
      s.offline_after_s = *v;
    }
  }
  if (const json* cal = r.object("calibration", false)) {
    ObjectReader cr(*cal, r.path_of("calibration"), p);
    Calibration c;
    if (auto cert = cr.string("certificate", true)) {
      if (cert->empty() || cert->size() > 64 || !valid_utf8(*cert) ||
          std::any_of(cert->begin(), cert->end(),
                      [](char ch) { return static_cast<unsigned char>(ch) < 0x20; }))
        p.add(cr.path_of("certificate"),
              describe(*cert) + " must be 1-64 characters without control characters");
      else
        c.certificate = *cert;
    }
    auto day = [&](const char* key) -> std::optional<std::int64_t> {
      auto text = cr.string(key, true);
      if (!text) return std::nullopt;
      auto ms = text->size() == 10 ? timefmt::parse_rfc3339_ms(*text) : std::nullopt;
      if (!ms) p.add(cr.path_of(key), describe(*text) + " must be a date YYYY-MM-DD");
      return ms;
    };
    auto date = day("date"), due = day("due");
    if (date && due) {
      if (*due <= *date) {
        p.add(cr.path_of("due"), "must be after calibration.date");
      } else {
        c.date_ms = *date;
        c.due_ms = *due;
        if (!c.certificate.empty()) s.calibration = c;
      }
    }
  }
  // The driver's own settings live under a key named after it.
  for (std::string_view name : kDriverNames) {
    const json* settings = r.get(name, false);
    if (!settings) {
      if (driver && *driver == name && name != "sim")
        p.add(r.path_of(name), "is required for driver " + std::string(name));
      continue;
    }
    if (!driver) continue;
    if (*driver != name) {
      p.add(r.path_of(name),
            "settings for driver " + std::string(name) + ", but driver is " + describe(*driver));
      continue;
    }
    ObjectReader dr(*settings, r.path_of(name), p);
    if (!dr.is_object()) continue;
    if (name == "w1") read_w1(dr, s.w1);
    if (name == "hwmon") read_hwmon(dr, s.hwmon);
    if (name == "modbus") {
      read_modbus(dr, s.modbus, s.read_interval_s);
      const bool bit = s.modbus.table == ModbusTable::kDiscrete || s.modbus.table == ModbusTable::kCoil;
      if (bit && s.measures != Measure::kDoor)
        p.add(dr.path_of("table"),
              std::string(s.modbus.table == ModbusTable::kCoil ? "\"coil\"" : "\"discrete\"") +
                  " reads one bit: only a door probe (\"measures\": \"door\") can use it");
    }
    if (name == "mqtt") read_mqtt(dr, s.mqtt);
    if (name == "sim") read_sim(dr, s.sim);
  }
  if (driver) {
    s.driver = *driver == "w1"       ? Driver::kW1
               : *driver == "hwmon"  ? Driver::kHwmon
               : *driver == "modbus" ? Driver::kModbus
               : *driver == "mqtt"   ? Driver::kMqtt
                                     : Driver::kSim;
  }
  r.finish();
  if (p.items().size() != before) return std::nullopt;
  return s;
}

}  // namespace

std::string_view to_string(Driver d) {
  switch (d) {
    case Driver::kW1:
      return "w1";
    case Driver::kHwmon:
      return "hwmon";
    case Driver::kModbus:
      return "modbus";
    case Driver::kMqtt:
      return "mqtt";
    case Driver::kSim:
      return "sim";
  }
  return "sim";
}

void read_retention(const json* j, Problems& p, Retention& out) {
  if (!j) return;
  ObjectReader r(*j, "retention", p);
  out.readings_days = r.integer_or("readings_days", out.readings_days, 1, 3650);
  out.summary_days = r.integer_or("summary_days", out.summary_days, 1, 36500);
  out.excursion_margin_min =
      r.integer_or("excursion_margin_min", out.excursion_margin_min, 0, 1440);
  out.raw_every_s = r.integer_or("raw_every_s", out.raw_every_s, 1, 3600);
  r.finish();
}

void read_coldchain(const json* zones_json, const json* sensors_json,
                    const std::vector<CatalogEntryRefs>& catalog, Problems& p,
                    std::vector<Zone>& zones, std::vector<SensorConfig>& sensors) {
  // Every id a zone entry declared, valid or not, so a sensor naming a zone that had its
  // own problems is not reported a second time.
  std::set<std::string> zone_ids;
  if (zones_json) {
    std::map<std::string, std::string> first_use;
    for (std::size_t i = 0; i < zones_json->size(); ++i) {
      const std::string path = index_path("zones", i);
      std::optional<std::string> id;
      auto z = read_zone((*zones_json)[i], path, p, id);
      if (!id) continue;
      zone_ids.insert(*id);
      if (auto [it, fresh] = first_use.emplace(*id, path); !fresh) {
        p.add(path + ".id", describe(*id) + " is already used by " + it->second);
        continue;
      }
      if (z) zones.push_back(std::move(*z));
    }
  }
  if (sensors_json) {
    std::map<std::string, std::string> first_use;
    for (std::size_t i = 0; i < sensors_json->size(); ++i) {
      const std::string path = index_path("sensors", i);
      std::optional<std::string> id;
      auto s = read_sensor((*sensors_json)[i], path, zone_ids, p, id);
      if (!id) continue;
      if (auto [it, fresh] = first_use.emplace(*id, path); !fresh) {
        p.add(path + ".id", describe(*id) + " is already used by " + it->second);
        continue;
      }
      if (s) sensors.push_back(std::move(*s));
    }
  }
  // Catalog items stored in a zone must name a configured one (once zones are configured).
  if (zones_json) {
    for (const auto& entry : catalog) {
      const auto& zone = entry.zone;
      if (zone.empty() || zone == kAmbientZone || zone_ids.count(zone)) continue;
      p.add(index_path("catalog", entry.index) + ".zone", describe(zone) + " is not a configured zone" +
                                                    configured_zones(zone_ids) +
                                                    "; use \"ambient\" for unrefrigerated storage");
    }
  }
}

std::vector<std::string> retention_warnings(const Retention& r,
                                            const std::vector<SensorConfig>& sensors) {
  if (r.raw_every_s <= 1) return {};
  std::vector<std::string> slow;
  for (const auto& s : sensors)  // an MQTT probe reads when its messages come: not judged
    if (s.driver != Driver::kMqtt && s.read_interval_s >= r.raw_every_s)
      slow.push_back("\"" + s.id + "\"");
  if (slow.empty()) return {};
  std::string names;
  for (std::size_t i = 0; i < slow.size() && i < 5; ++i) names += (i ? ", " : "") + slow[i];
  if (slow.size() > 5) names += " and " + std::to_string(slow.size() - 5) + " more";
  const auto n = std::to_string(r.raw_every_s);
  return {"retention.raw_every_s: " + n + " thins nothing for " +
          (slow.size() == sensors.size() ? std::string("any probe") : std::string("some probes")) +
          ": " + names + " read every " + n +
          " s or less often (read_interval_s), so each of their readings is stored"};
}

std::vector<std::string> zone_warnings(const std::vector<Zone>& zones,
                                       const std::vector<SensorConfig>& sensors,
                                       std::int64_t now_ms) {
  std::vector<std::string> out;
  const bool any_calibrated = std::any_of(sensors.begin(), sensors.end(),
                                          [](const SensorConfig& s) { return s.calibration; });
  for (std::size_t i = 0; i < sensors.size(); ++i) {
    const auto& s = sensors[i];
    const std::string path = "sensors[" + std::to_string(i) + "]";
    if (s.calibration && calibration_overdue(*s.calibration, now_ms))
      out.push_back(path + ".calibration.due: probe \"" + s.id + "\" was due for calibration on " +
                    timefmt::rfc3339_from_unix_ms(s.calibration->due_ms).substr(0, 10) +
                    " (certificate " + s.calibration->certificate + ")");
    else if (!s.calibration && any_calibrated)
      out.push_back(path + ": probe \"" + s.id +
                    "\" has no calibration record while other probes have one");
  }
  for (const auto& z : zones) {
    const bool any_probe = std::any_of(sensors.begin(), sensors.end(),
                                       [&](const SensorConfig& s) { return s.zone == z.id; });
    if (!any_probe)
      out.push_back("zones: \"" + z.id +
                    "\" has no probe (no sensor names it in \"zone\"): it is never judged and "
                    "can raise no alarm, not even probe_failure");
    else if (probes_of(z.id, sensors).empty())
      out.push_back("zones: \"" + z.id +
                    "\" has no temperature probe (only humidity or door probes): its temperature "
                    "is never judged");
    const bool rh_probes = !probes_of(z.id, sensors, Measure::kHumidity).empty();
    if ((z.min_rh || z.max_rh) && !rh_probes)
      out.push_back("zones: \"" + z.id +
                    "\" has humidity limits but no humidity probe (\"measures\": \"humidity\"): "
                    "they are never judged");
    if (rh_probes && !z.min_rh && !z.max_rh)
      out.push_back("zones: \"" + z.id +
                    "\" has a humidity probe but no min_rh or max_rh: its readings are recorded, "
                    "never judged");
  }
  return out;
}

namespace {

// A duration given in seconds (`<base>_s`) or minutes (`<base>_min`, may be fractional),
// as milliseconds; not both.
std::optional<std::int64_t> duration_ms(ObjectReader& r, const std::string& base, double max_s) {
  const auto ks = base + "_s", km = base + "_min";
  const json* s = r.get(ks, false);
  const json* m = r.get(km, false);
  if (s && m) {
    r.problems().add(r.path_of(ks), "give " + ks + " or " + km + ", not both");
    return std::nullopt;
  }
  if (!s && !m) return std::nullopt;
  const json& v = s ? *s : *m;
  const auto& key = s ? ks : km;
  if (!v.is_number()) {
    r.problems().add(r.path_of(key), describe(v) + " must be a number");
    return std::nullopt;
  }
  const double secs = v.get<double>() * (s ? 1.0 : 60.0);
  if (!std::isfinite(secs) || secs < 0 || secs > max_s) {
    r.problems().add(r.path_of(key), describe(v) + " must be between 0 and " +
                                         (s ? std::to_string(static_cast<std::int64_t>(max_s))
                                            : std::to_string(static_cast<std::int64_t>(max_s / 60))));
    return std::nullopt;
  }
  return static_cast<std::int64_t>(std::llround(secs * 1000.0));
}

std::vector<EscalationLevel> read_levels(const json& arr, const std::string& path,
                                         const std::set<std::string>& names, Problems& p) {
  std::vector<EscalationLevel> out;
  if (!arr.is_array()) {
    p.add(path, describe(arr) + " must be an array of levels");
    return out;
  }
  if (arr.size() > 16) p.add(path, "has " + std::to_string(arr.size()) + " levels; at most 16");
  for (std::size_t i = 0; i < arr.size() && i < 16; ++i) {
    const auto lp = index_path(path, i);
    ObjectReader r(arr[i], lp, p);
    if (!r.is_object()) continue;
    EscalationLevel l;
    l.after_ms = duration_ms(r, "after", 7 * 86400.0).value_or(0);
    if (auto rep = duration_ms(r, "repeat", 86400.0)) {
      if (*rep != 0 && *rep < 1000)
        p.add(r.path_of(r.get("repeat_s", false) ? "repeat_s" : "repeat_min"),
              "must be 0 (fire once) or at least 1 second");
      else
        l.repeat_ms = *rep;
    }
    if (const json* outs = r.array("outputs", true)) {
      if (outs->empty()) p.add(r.path_of("outputs"), "needs at least one output name");
      for (std::size_t k = 0; k < outs->size(); ++k) {
        const auto& o = (*outs)[k];
        const auto op = index_path(r.path_of("outputs"), k);
        if (!o.is_string()) {
          p.add(op, describe(o) + " must be an output name");
        } else if (!names.count(o.get<std::string>())) {
          std::string known;
          for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
          p.add(op, describe(o) + " is not a configured output" +
                        (known.empty() ? std::string(" (no outputs are configured)")
                                       : " (configured: " + known + ")"));
        } else if (std::find(l.outputs.begin(), l.outputs.end(), o.get<std::string>()) ==
                   l.outputs.end()) {
          l.outputs.push_back(o.get<std::string>());
        }
      }
    }
    if (!out.empty() && l.after_ms <= out.back().after_ms)
      p.add(lp, "after " + std::to_string(l.after_ms) + " ms must be later than level " +
                    std::to_string(out.size()) + "'s " + std::to_string(out.back().after_ms) +
                    " ms");
    out.push_back(std::move(l));
  }
  return out;
}

std::optional<EscalationPolicy> read_policy(const json& j, const std::string& path,
                                            const std::set<std::string>& names, Problems& p) {
  ObjectReader r(j, path, p);
  if (!r.is_object()) return std::nullopt;
  const auto before = p.items().size();
  EscalationPolicy pol;
  if (const json* t = r.get("temperature", false))
    pol.temperature = read_levels(*t, r.path_of("temperature"), names, p);
  if (const json* t = r.get("probe_failure", false))
    pol.probe_failure = read_levels(*t, r.path_of("probe_failure"), names, p);
  if (const json* t = r.get("humidity", false))
    pol.humidity = read_levels(*t, r.path_of("humidity"), names, p);
  if (const json* t = r.get("door_open", false))
    pol.door_open = read_levels(*t, r.path_of("door_open"), names, p);
  if (auto v = r.one_of("reset_on", false, {"clear", "ack", "either", "both"}))
    pol.reset_on = *v == "clear" ? ResetOn::kClear
                   : *v == "ack" ? ResetOn::kAck
                   : *v == "both" ? ResetOn::kBoth
                                  : ResetOn::kEither;
  r.finish();
  if (p.items().size() != before) return std::nullopt;
  return pol;
}

bool bad_arg(const std::string& s) {
  return !valid_utf8(s) || s.find('\0') != std::string::npos || s.size() > 4096;
}

std::optional<OutputSpec> read_output(const json& j, const std::string& path, Problems& p,
                                      std::optional<std::string>& name_out) {
  ObjectReader r(j, path, p);
  if (!r.is_object()) return std::nullopt;
  const auto before = p.items().size();
  OutputSpec o;
  if (auto n = r.identifier("name", true)) o.name = *n, name_out = *n;
  const json* mb = r.get("modbus", false);
  const json* ex = r.get("exec", false);
  if (!mb == !ex) p.add(path, mb ? "give modbus or exec, not both" : "needs modbus (a coil) or exec (a command)");
  if (mb) {
    o.kind = OutputKind::kModbus;
    ObjectReader m(*mb, r.path_of("modbus"), p);
    if (m.is_object()) {
      if (auto h = m.string("host", true)) {
        if (h->empty() || bad_arg(*h))
          p.add(m.path_of("host"), describe(*h) + " must name a host (Modbus TCP)");
        o.modbus.host = *h;
      }
      o.modbus.port = m.integer_or("port", o.modbus.port, 1, 65535);
      o.modbus.unit = m.integer_or("unit", o.modbus.unit, 0, 255);
      if (auto c = m.integer("coil", true, 0, 65535)) o.modbus.coil = *c;
      o.modbus.timeout_ms = m.integer_or("timeout_ms", o.modbus.timeout_ms, 50, 10000);
    }
  } else if (ex) {
    o.kind = OutputKind::kExec;
    ObjectReader e(*ex, r.path_of("exec"), p);
    if (e.is_object()) {
      if (const json* cmd = e.array("command", true)) {
        if (cmd->empty() || cmd->size() > 64)
          p.add(e.path_of("command"), "needs 1-64 strings: the program and its arguments");
        for (std::size_t i = 0; i < cmd->size() && i < 64; ++i) {
          const auto& a = (*cmd)[i];
          const auto ap = index_path(e.path_of("command"), i);
          if (!a.is_string() || bad_arg(a.get<std::string>())) {
            p.add(ap, describe(a) + " must be a UTF-8 string (no NUL, at most 4096 bytes)");
            continue;
          }
          if (i == 0 && (a.get<std::string>().empty() || a.get<std::string>().front() != '/'))
            p.add(ap, describe(a) + " must be an absolute path (no shell, no PATH search)");
          o.exec.command.push_back(a.get<std::string>());
        }
      }
      o.exec.timeout_s = e.integer_or("timeout_s", o.exec.timeout_s, 1, 3600);
    }
  }
  o.backoff_s = r.integer_or("backoff_s", o.backoff_s, 1, 3600);
  o.max_backoff_s = r.integer_or("max_backoff_s", o.max_backoff_s, 1, 86400);
  if (o.max_backoff_s < o.backoff_s)
    p.add(r.path_of("max_backoff_s"), std::to_string(o.max_backoff_s) +
                                          " must be at least backoff_s " +
                                          std::to_string(o.backoff_s));
  o.attempts = r.integer_or("attempts", o.attempts, 1, 100);
  r.finish();
  if (p.items().size() != before) return std::nullopt;
  return o;
}

}  // namespace

void read_alarm_outputs(const json* outputs_json, const json* escalation_json,
                        const json* zones_json, Problems& p, AlarmOutputs& out) {
  std::set<std::string> names;  // every name declared, valid or not (no second report)
  if (outputs_json) {
    std::map<std::string, std::string> first_use;
    for (std::size_t i = 0; i < outputs_json->size(); ++i) {
      const auto path = index_path("outputs", i);
      std::optional<std::string> name;
      auto o = read_output((*outputs_json)[i], path, p, name);
      if (!name) continue;
      names.insert(*name);
      if (auto [it, fresh] = first_use.emplace(*name, path); !fresh) {
        p.add(path + ".name", describe(*name) + " is already used by " + it->second);
        continue;
      }
      if (o) out.outputs.push_back(std::move(*o));
    }
  }
  if (escalation_json) out.fallback = read_policy(*escalation_json, "escalation", names, p);
  if (zones_json && zones_json->is_array()) {
    for (std::size_t i = 0; i < zones_json->size(); ++i) {
      const json& z = (*zones_json)[i];
      if (!z.is_object() || !z.contains("escalation")) continue;
      auto id = z.find("id");
      if (id == z.end() || !id->is_string()) continue;
      if (auto pol = read_policy(z["escalation"], index_path("zones", i) + ".escalation", names, p))
        out.zone_policies[id->get<std::string>()] = std::move(*pol);
    }
  }
}

std::vector<std::string> output_warnings(const AlarmOutputs& outputs,
                                         const std::vector<Zone>& zones) {
  std::vector<std::string> out;
  std::set<std::string> used;
  auto use = [&](const EscalationPolicy& pol) {
    for (const auto* levels : {&pol.temperature, &pol.probe_failure, &pol.humidity, &pol.door_open})
      for (const auto& l : *levels) used.insert(l.outputs.begin(), l.outputs.end());
  };
  if (outputs.fallback) use(*outputs.fallback);
  for (const auto& [z, pol] : outputs.zone_policies) use(pol);
  for (std::size_t i = 0; i < outputs.outputs.size(); ++i)
    if (!used.count(outputs.outputs[i].name))
      out.push_back("outputs[" + std::to_string(i) + "]: \"" + outputs.outputs[i].name +
                    "\" is used by no escalation level: it never fires");
  if (!outputs.outputs.empty())
    for (const auto& z : zones) {
      const auto* pol = outputs.policy_for(z.id);
      if (!pol || pol->temperature.empty())
        out.push_back("zones: \"" + z.id +
                      "\" has no escalation for temperature alarms: they reach no output");
      if (!pol || pol->probe_failure.empty())
        out.push_back("zones: \"" + z.id +
                      "\" has no escalation for probe_failure alarms: they reach no output");
    }
  for (const auto& entry : outputs.zone_policies) {
    const auto& zone = entry.first;  // not a structured binding: clang 14 cannot capture one
    if (std::none_of(zones.begin(), zones.end(), [&](const Zone& z) { return z.id == zone; }))
      out.push_back("zones: \"" + zone + "\" escalation ignored (zone has problems)");
  }
  return out;
}

std::vector<std::string> config_warnings(const std::vector<Zone>& zones,
                                         const std::vector<SensorConfig>& sensors,
                                         const AlarmOutputs& outputs, const Retention& retention,
                                         std::int64_t now_ms) {
  auto all = zone_warnings(zones, sensors, now_ms);
  for (auto& w : output_warnings(outputs, zones)) all.push_back(std::move(w));
  for (auto& w : retention_warnings(retention, sensors)) all.push_back(std::move(w));
  return all;
}

std::vector<ProbeSpec> probes_of(std::string_view zone_id,
                                 const std::vector<SensorConfig>& sensors, Measure measure) {
  std::vector<ProbeSpec> out;
  for (const auto& s : sensors)
    if (s.zone == zone_id && s.measures == measure) out.push_back(s.spec());
  return out;
}

const Zone* find_zone(const std::vector<Zone>& zones, std::string_view id) {
  for (const auto& z : zones)
    if (z.id == id) return &z;
  return nullptr;
}

std::string unknown_zone(std::string_view id, const std::vector<std::string>& configured) {
  return describe(std::string(id)) + " is not a configured zone" +
         configured_zones(std::set<std::string>(configured.begin(), configured.end()));
}

std::string unknown_zone(std::string_view id, const std::vector<Zone>& zones) {
  std::vector<std::string> ids;
  for (const auto& z : zones) ids.push_back(z.id);
  return unknown_zone(id, ids);
}

}  // namespace depot::coldchain
