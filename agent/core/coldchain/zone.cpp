#include "core/coldchain/zone.hpp"

namespace depot::coldchain {

std::string_view to_string(Combine c) {
  switch (c) {
    case Combine::kWorst:
      return "worst";
    case Combine::kMean:
      return "mean";
  }
  return "worst";
}

std::string_view to_string(Measure m) {
  switch (m) {
    case Measure::kTemperature:
      return "temperature";
    case Measure::kHumidity:
      return "humidity";
    case Measure::kDoor:
      return "door";
  }
  return "temperature";
}

Zone humidity_rules(const Zone& z) {
  Zone h;
  h.id = z.id;
  h.min_c = z.min_rh;
  h.max_c = z.max_rh;
  h.warning_band_c = z.rh_warning_band;
  h.alarm_delay_s = z.rh_alarm_delay_s.value_or(z.alarm_delay_s);
  h.hysteresis_c = z.rh_hysteresis;
  h.repeat_s = z.repeat_s;
  h.combine = z.combine;
  return h;
}

Zone door_rules(const Zone& z) {
  Zone d;
  d.id = z.id;
  d.max_c = 0.5;
  d.warning_band_c = 0.0;
  d.alarm_delay_s = z.door_open_alarm_s;
  d.hysteresis_c = 0.0;
  d.repeat_s = z.repeat_s;
  d.combine = Combine::kWorst;
  return d;
}

std::string_view to_string(Side s) { return s == Side::kHigh ? "high" : "low"; }

ZoneTemperature combine_probes(Combine rule, const std::vector<ProbeTemperature>& probes) {
  ZoneTemperature t;
  if (probes.empty()) return t;
  if (rule == Combine::kMean) {
    double sum = 0.0;
    for (const auto& p : probes) sum += p.celsius;
    const double mean = sum / static_cast<double>(probes.size());
    t.high_c = mean;
    t.low_c = mean;
    return t;
  }
  for (const auto& p : probes) {
    if (!t.high_c || p.celsius > *t.high_c) t.high_c = p.celsius, t.high_probe = p.probe;
    if (!t.low_c || p.celsius < *t.low_c) t.low_c = p.celsius, t.low_probe = p.probe;
  }
  return t;
}

}  // namespace depot::coldchain
