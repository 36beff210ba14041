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
