// Mean kinetic temperature (MKT) per USP <1079>: the single constant temperature that would
// degrade a product as much as the fluctuating temperatures it actually saw.
//
//   MKT = (ΔH/R) / ( -ln( Σ wᵢ·exp(-(ΔH/R)/Tᵢ) / Σ wᵢ ) )      Tᵢ in kelvin = °C + 273.15
//
// with ΔH/R = 10,000 K (ΔH = 83.144 kJ/mol) and wᵢ the time reading i stands for. Results are
// in °C. The sums are kept relative to a fixed 25 °C reference so they stay well scaled and
// can be added bucket by bucket. `RollingMkt` keeps them over a rolling window (24 hours and
// 30 days per zone in `ZoneMkt`); each temperature stands from its time until the next one,
// at most `max_hold`. Pure: times are passed in (monotonic nanoseconds).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace depot::coldchain {

inline constexpr double kMktActivationOverR = 10000.0;  // ΔH/R in kelvin
inline constexpr double kKelvinOffset = 273.15;

struct WeightedTemperature {
  double celsius = 0.0;
  double weight = 0.0;  // the time this temperature stands for, any unit (seconds here)
};

// The weighted sums behind one MKT. Adding is exact and order-independent, so sums of
// disjoint periods can be merged.
class MktSum {
 public:
  // REQUIRES: weight >= 0 and celsius above absolute zero (ignored otherwise).
  void add(double celsius, double weight);
  void merge(const MktSum& other);
  double weight() const { return weight_; }
  // The MKT in °C, or nullopt when nothing (no weight) was added.
  std::optional<double> celsius() const;

 private:
  double weight_ = 0.0;
  double scaled_ = 0.0;  // Σ wᵢ·exp((ΔH/R)·(1/T_ref − 1/Tᵢ)), T_ref = 298.15 K
};

// MKT of weighted temperatures in °C; nullopt when the total weight is zero.
std::optional<double> mean_kinetic_temperature(const std::vector<WeightedTemperature>& samples);

// MKT over a rolling window. The window is kept in `bucket_ns` buckets on the monotonic time
// line, so it covers between `window_ns - bucket_ns` and `window_ns`: the oldest partial
// bucket is left out (exact when `now` is a multiple of `bucket_ns`).
// REQUIRES: times passed to add/gap/celsius never decrease.
class RollingMkt {
 public:
  RollingMkt(std::int64_t window_ns, std::int64_t bucket_ns, std::int64_t max_hold_ns);

  // `celsius` stands from `mono_ns` until the next add or gap, or for `max_hold_ns`.
  void add(double celsius, std::int64_t mono_ns);
  // No temperature from `mono_ns` on (the zone lost all its probes).
  void gap(std::int64_t mono_ns);

  // The MKT over the window ending at `now_mono_ns`, or nullopt with no data in it.
  std::optional<double> celsius(std::int64_t now_mono_ns) const;
  // How many seconds of temperature the window ending at `now_mono_ns` holds.
  double covered_s(std::int64_t now_mono_ns) const;

 private:
  struct Bucket {
    std::int64_t index = 0;
    MktSum sum;
  };
  MktSum window_sum(std::int64_t now_mono_ns) const;
  std::int64_t window_start(std::int64_t now_mono_ns) const;
  void spread(double celsius, std::int64_t from_ns, std::int64_t to_ns);
  void prune(std::int64_t now_mono_ns);

  std::int64_t window_ns_, bucket_ns_, max_hold_ns_;
  std::deque<Bucket> buckets_;
  std::optional<double> last_c_;  // the temperature standing since last_ns_, if any
  std::int64_t last_ns_ = 0;
};

// The two MKT windows a zone reports: 24 hours (2-minute buckets) and 30 days (1-hour buckets).
class ZoneMkt {
 public:
  explicit ZoneMkt(std::int64_t max_hold_ns);
  void add(double celsius, std::int64_t mono_ns);
  void gap(std::int64_t mono_ns);
  std::optional<double> last_24h_c(std::int64_t now_mono_ns) const {
    return day_.celsius(now_mono_ns);
  }
  std::optional<double> last_30d_c(std::int64_t now_mono_ns) const {
    return month_.celsius(now_mono_ns);
  }
  const RollingMkt& day() const { return day_; }
  const RollingMkt& month() const { return month_; }

 private:
  RollingMkt day_, month_;
};

}  // namespace depot::coldchain
