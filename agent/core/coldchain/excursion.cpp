#include "core/coldchain/excursion.hpp"

namespace depot::coldchain {

std::string_view to_string(AlarmCause c) {
  switch (c) {
    case AlarmCause::kContinuous:
      return "continuous";
    case AlarmCause::kCumulative:
      return "cumulative";
    case AlarmCause::kProbeFailure:
      return "probe_failure";
  }
  return "continuous";
}

std::string_view to_string(AlarmType t) {
  switch (t) {
    case AlarmType::kTemperature:
      return "temperature";
    case AlarmType::kProbeFailure:
      return "probe_failure";
    case AlarmType::kHumidity:
      return "humidity";
    case AlarmType::kDoorOpen:
      return "door_open";
  }
  return "temperature";
}

double degrees_beyond(Side side, double limit_c, double celsius) {
  return side == Side::kHigh ? celsius - limit_c : limit_c - celsius;
}

std::int64_t Excursion::duration_ns(std::int64_t now_mono_ns) const {
  return (end ? end->mono_ns : now_mono_ns) - start.mono_ns;
}

void Excursion::observe(double celsius, std::string_view probe) {
  if (degrees_beyond(side, peak_c, celsius) > 0.0) {
    peak_c = celsius;
    peak_probe = std::string(probe);
  }
}

void Excursion::integrate(double celsius, std::int64_t dt_ns) {
  if (dt_ns <= 0) return;
  const double beyond = degrees_beyond(side, limit_c, celsius);
  if (beyond <= 0.0) return;
  degree_minutes += beyond * static_cast<double>(dt_ns) / static_cast<double>(kNsPerMinute);
  out_of_range_ns += dt_ns;
}

}  // namespace depot::coldchain
