#include "core/coldchain/mkt.hpp"

#include <algorithm>
#include <cmath>

#include "core/coldchain/reading.hpp"

namespace depot::coldchain {
namespace {

constexpr double kReferenceKelvin = 298.15;  // 25 °C; any fixed value gives the same MKT

// Floor division for possibly negative monotonic times.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

void MktSum::add(double celsius, double weight) {
  const double kelvin = celsius + kKelvinOffset;
  if (!(weight > 0.0) || !(kelvin > 0.0) || !std::isfinite(celsius)) return;
  weight_ += weight;
  scaled_ += weight * std::exp(kMktActivationOverR * (1.0 / kReferenceKelvin - 1.0 / kelvin));
}

void MktSum::merge(const MktSum& other) {
  weight_ += other.weight_;
  scaled_ += other.scaled_;
}

std::optional<double> MktSum::celsius() const {
  if (!(weight_ > 0.0) || !(scaled_ > 0.0)) return std::nullopt;
  // -ln(Σ w·exp(-(ΔH/R)/T) / Σ w) = (ΔH/R)/T_ref - ln(scaled / Σ w)
  const double neg_ln_mean = kMktActivationOverR / kReferenceKelvin - std::log(scaled_ / weight_);
  return kMktActivationOverR / neg_ln_mean - kKelvinOffset;
}

std::optional<double> mean_kinetic_temperature(const std::vector<WeightedTemperature>& samples) {
  MktSum sum;
  for (const auto& s : samples) sum.add(s.celsius, s.weight);
  return sum.celsius();
}

RollingMkt::RollingMkt(std::int64_t window_ns, std::int64_t bucket_ns, std::int64_t max_hold_ns)
    : window_ns_(std::max<std::int64_t>(window_ns, 1)),
      bucket_ns_(std::clamp<std::int64_t>(bucket_ns, 1, std::max<std::int64_t>(window_ns, 1))),
      max_hold_ns_(std::max<std::int64_t>(max_hold_ns, 0)) {}

std::int64_t RollingMkt::window_start(std::int64_t now_ns) const {
  // The first bucket boundary at or after now - window.
  const std::int64_t from = now_ns - window_ns_;
  return -floor_div(-from, bucket_ns_) * bucket_ns_;
}

void RollingMkt::spread(double celsius, std::int64_t from_ns, std::int64_t to_ns) {
  while (from_ns < to_ns) {
    const std::int64_t index = floor_div(from_ns, bucket_ns_);
    const std::int64_t bucket_end = (index + 1) * bucket_ns_;
    const std::int64_t until = std::min(to_ns, bucket_end);
    if (buckets_.empty() || buckets_.back().index != index) buckets_.push_back({index, {}});
    buckets_.back().sum.add(celsius, static_cast<double>(until - from_ns) / 1e9);
    from_ns = until;
  }
}

void RollingMkt::prune(std::int64_t now_ns) {
  const std::int64_t start = window_start(now_ns);
  while (!buckets_.empty() && buckets_.front().index * bucket_ns_ < start) buckets_.pop_front();
}

void RollingMkt::add(double celsius, std::int64_t mono_ns) {
  gap(mono_ns);
  last_c_ = celsius;
  last_ns_ = mono_ns;
}

void RollingMkt::gap(std::int64_t mono_ns) {
  if (last_c_) {
    spread(*last_c_, last_ns_, std::min(mono_ns, last_ns_ + max_hold_ns_));
    last_c_.reset();
  }
  prune(mono_ns);
}

MktSum RollingMkt::window_sum(std::int64_t now_ns) const {
  const std::int64_t start = window_start(now_ns);
  MktSum sum;
  for (const auto& b : buckets_) {
    if (b.index * bucket_ns_ >= start) sum.merge(b.sum);
  }
  if (last_c_) {
    const std::int64_t from = std::max(last_ns_, start);
    const std::int64_t to = std::min(now_ns, last_ns_ + max_hold_ns_);
    if (to > from) sum.add(*last_c_, static_cast<double>(to - from) / 1e9);
  }
  return sum;
}

std::optional<double> RollingMkt::celsius(std::int64_t now_ns) const {
  return window_sum(now_ns).celsius();
}

double RollingMkt::covered_s(std::int64_t now_ns) const { return window_sum(now_ns).weight(); }

ZoneMkt::ZoneMkt(std::int64_t max_hold_ns)
    : day_(24 * 60 * kNsPerMinute, 2 * kNsPerMinute, max_hold_ns),
      month_(30LL * 24 * 60 * kNsPerMinute, 60 * kNsPerMinute, max_hold_ns) {}

void ZoneMkt::add(double celsius, std::int64_t mono_ns) {
  day_.add(celsius, mono_ns);
  month_.add(celsius, mono_ns);
}

void ZoneMkt::gap(std::int64_t mono_ns) {
  day_.gap(mono_ns);
  month_.gap(mono_ns);
}

}  // namespace depot::coldchain
