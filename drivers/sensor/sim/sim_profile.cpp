#include "sensor/sim/sim_profile.hpp"

#include <cmath>
#include <cstdint>
#include <numbers>

namespace depot::drivers {
namespace {

double script_value(const coldchain::SimSource& s, double t) {
  std::int64_t total = 0;
  for (const auto& step : s.script) total += step.for_s;
  if (s.script.empty() || total <= 0) return s.base_c;
  if (s.repeat) {
    t = std::fmod(t, static_cast<double>(total));
  } else if (t >= static_cast<double>(total)) {
    t = static_cast<double>(total);  // hold the end value of the last step
  }
  double value = s.base_c;  // the end value of the previous step
  double start = 0;
  for (const auto& step : s.script) {
    const double len = static_cast<double>(step.for_s);
    const bool inside = t < start + len;
    const double into = inside ? t - start : len;
    double end = value;
    switch (step.kind) {
      case coldchain::SimStep::Kind::kSteady:
        end = step.c;
        if (inside) return step.c;
        break;
      case coldchain::SimStep::Kind::kRamp:
        end = step.c;
        if (inside) return value + (step.c - value) * into / len;
        break;
      case coldchain::SimStep::Kind::kHold:
        if (inside) return value;
        break;
    }
    value = end;
    start += len;
  }
  return value;
}

bool in_window(double t, std::int64_t start, std::int64_t duration, std::int64_t every) {
  if (t < static_cast<double>(start)) return false;
  double into = t - static_cast<double>(start);
  if (every > 0) into = std::fmod(into, static_cast<double>(every));
  return into < static_cast<double>(duration);
}

}  // namespace

double sim_noise_unit(std::int64_t seed, std::int64_t second) {
  // splitmix64 of (seed, second): fixed across platforms and library versions.
  std::uint64_t z =
      static_cast<std::uint64_t>(seed) * 0x9E3779B97F4A7C15ull ^ static_cast<std::uint64_t>(second);
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  // 53 random bits to [0, 1), then to [-1, 1).
  const double u = static_cast<double>(z >> 11) / static_cast<double>(1ull << 53);
  return 2.0 * u - 1.0;
}

double sim_base_value(const coldchain::SimSource& s, double t) {
  const auto period = static_cast<double>(s.period_s);
  if (s.profile == "sine")
    return s.base_c + s.amplitude_c * std::sin(2 * std::numbers::pi * t / period);
  if (s.profile == "excursion")
    return std::fmod(t, period) < period / 2 ? s.base_c : s.base_c + s.amplitude_c;
  if (s.profile == "drift") {
    const auto d = static_cast<double>(s.duration_s);
    return t >= d ? s.to_c : s.base_c + (s.to_c - s.base_c) * t / d;
  }
  if (s.profile == "script") return script_value(s, t);
  return s.base_c;
}

coldchain::SensorValue sim_value(const coldchain::SimSource& s, double t) {
  if (t < 0) t = 0;
  for (const auto& f : s.failures) {
    if (!in_window(t, f.start_s, f.duration_s, f.every_s)) continue;
    return f.crc ? coldchain::SensorValue::rejected(coldchain::Quality::kCrcFailed,
                                                    "simulated failure: CRC mismatch")
                 : coldchain::SensorValue::rejected(coldchain::Quality::kNoData,
                                                    "simulated failure: no data");
  }
  double v = sim_base_value(s, t);
  if (s.spikes.every_s > 0 && t >= static_cast<double>(s.spikes.every_s) &&
      in_window(t, s.spikes.every_s, s.spikes.duration_s, s.spikes.every_s))
    v += s.spikes.rise_c;
  if (s.noise_c > 0)
    v += s.noise_c * sim_noise_unit(s.seed, static_cast<std::int64_t>(std::floor(t)));
  // Keep to millidegrees, like the real probes.
  return coldchain::SensorValue::good(std::round(v * 1000) / 1000);
}

}  // namespace depot::drivers
