#include "core/replenish/policy.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>

namespace depot::replenish {
namespace {

// Acklam's coefficients: central region |p - 0.5| <= 0.47575, and the tails.
constexpr std::array<double, 6> kA{-3.969683028665376e+01, 2.209460984245205e+02,
                                   -2.759285104469687e+02, 1.383577518672690e+02,
                                   -3.066479806614716e+01, 2.506628277459239e+00};
constexpr std::array<double, 5> kB{-5.447609879822406e+01, 1.615858368580409e+02,
                                   -1.556989798598866e+02, 6.680131188771972e+01,
                                   -1.328068155288572e+01};
constexpr std::array<double, 6> kC{-7.784894002430293e-03, -3.223964580411365e-01,
                                   -2.400758277161838e+00, -2.549732539343734e+00,
                                   4.374664141464968e+00,  2.938163982698783e+00};
constexpr std::array<double, 4> kD{7.784695709041462e-03, 3.224671290700398e-01,
                                   2.445134137142996e+00, 3.754408661907416e+00};
constexpr double kLowTail = 0.02425;

// The lower-tail rational approximation for p < kLowTail (negative z).
double lower_tail(double p) {
  const double q = std::sqrt(-2 * std::log(p));
  return (((((kC[0] * q + kC[1]) * q + kC[2]) * q + kC[3]) * q + kC[4]) * q + kC[5]) /
         ((((kD[0] * q + kD[1]) * q + kD[2]) * q + kD[3]) * q + 1);
}

}  // namespace

double inverse_normal_cdf(double p) {
  double x;
  if (p < kLowTail) {
    x = lower_tail(p);
  } else if (p > 1 - kLowTail) {
    x = -lower_tail(1 - p);
  } else {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((kA[0] * r + kA[1]) * r + kA[2]) * r + kA[3]) * r + kA[4]) * r + kA[5]) * q /
        (((((kB[0] * r + kB[1]) * r + kB[2]) * r + kB[3]) * r + kB[4]) * r + 1);
  }
  // One Halley step on f(x) = Phi(x) - p, with Phi(x) = erfc(-x / sqrt 2) / 2.
  const double e = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double safety_stock(const Policy& policy, double daily, double daily_sd) {
  if (policy.safety == SafetyRule::kDaysOfCover) return policy.safety_days * daily;
  const double z = inverse_normal_cdf(policy.service_level);
  const double l = policy.lead_time_days;
  const double sl = policy.lead_time_sd_days;
  return z * std::sqrt(l * daily_sd * daily_sd + daily * daily * sl * sl);
}

OrderQuantity order_quantity(const Policy& policy, double order_up_to, std::int64_t position,
                             std::optional<std::int64_t> cover_cap) {
  OrderQuantity q;
  const std::int64_t cases = std::max<std::int64_t>(policy.case_multiple, 1);
  const std::int64_t moq = std::max<std::int64_t>(policy.moq, 1);
  // The gap, in whole units; the epsilon keeps 2500.0000000001 from becoming 2501.
  const double gap = order_up_to - static_cast<double>(position);
  auto wanted = std::max<std::int64_t>(static_cast<std::int64_t>(std::ceil(gap - 1e-9)), 0);
  wanted = std::max(wanted, moq);
  wanted = (wanted + cases - 1) / cases * cases;
  q.quantity = wanted;
  auto ceiling = policy.max_stock;
  const bool by_cover = cover_cap && (!ceiling || *cover_cap < *ceiling);
  if (by_cover) ceiling = cover_cap;
  if (!ceiling) return q;
  q.room = *ceiling - position;
  if (q.quantity <= q.room) return q;
  (by_cover ? q.capped_by_cover : q.capped_by_max_stock) = true;
  q.quantity = std::max<std::int64_t>(q.room, 0) / cases * cases;
  if (q.quantity < moq) {
    q.room_below_moq = true;
    q.quantity = 0;
  }
  return q;
}

SupplierChoice choose_supplier(const Policy& policy, double days_to_stockout) {
  const Supplier* cheapest = nullptr;
  const Supplier* fastest = nullptr;
  for (const auto& s : policy.suppliers) {
    const double lead = policy.lead_time_of(s);
    if (lead <= days_to_stockout &&
        (!cheapest || s.unit_price < cheapest->unit_price ||
         (s.unit_price == cheapest->unit_price && lead < policy.lead_time_of(*cheapest))))
      cheapest = &s;
    if (!fastest || lead < policy.lead_time_of(*fastest) ||
        (lead == policy.lead_time_of(*fastest) && s.unit_price < fastest->unit_price))
      fastest = &s;
  }
  if (cheapest) return {cheapest, policy.lead_time_of(*cheapest), false};
  if (fastest) return {fastest, policy.lead_time_of(*fastest), true};
  return {nullptr, policy.lead_time_days, days_to_stockout < policy.lead_time_days};
}

double fastest_lead_time(const Policy& policy) {
  if (policy.suppliers.empty()) return policy.lead_time_days;
  double best = policy.lead_time_of(policy.suppliers.front());
  for (const auto& s : policy.suppliers) best = std::min(best, policy.lead_time_of(s));
  return best;
}

}  // namespace depot::replenish
