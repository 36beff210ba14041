#include "core/replenish/policy.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>
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

std::string_view to_string(SourceKind k) {
  return k == SourceKind::kTransfer ? "transfer" : "purchase";
}

double Supplier::price_at(std::int64_t qty) const {
  double price = unit_price;
  for (const auto& b : price_breaks)
    if (qty >= b.min_qty) price = b.unit_price;
  return price;
}

OrderQuantity order_quantity(const Policy& policy, double order_up_to, std::int64_t position,
                             std::optional<std::int64_t> cover_cap, const Supplier* source) {
  OrderQuantity q;
  const std::int64_t cases = std::max<std::int64_t>(
      source && source->case_multiple ? *source->case_multiple : policy.case_multiple, 1);
  const std::int64_t moq =
      std::max<std::int64_t>(source && source->moq ? *source->moq : policy.moq, 1);
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

namespace {
std::string money(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}
std::string days(double v) {
  if (!std::isfinite(v)) return "never";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f d", v);
  return buf;
}
}  // namespace

SupplierChoice choose_source(const Policy& policy, double order_up_to, std::int64_t position,
                             std::optional<std::int64_t> cover_cap, double days_to_stockout,
                             std::span<const SourceStock> spare) {
  struct Candidate {
    const Supplier* s;
    OrderQuantity sizing;
    double lead, landed;
  };
  std::vector<Candidate> able;
  std::string passed;  // sources that could not take the order, and why
  for (const auto& s : policy.suppliers) {
    auto sizing = order_quantity(policy, order_up_to, position, cover_cap, &s);
    if (sizing.quantity <= 0) {
      passed += "; " + s.id + " cannot take it (its MOQ does not fit under the ceiling)";
      continue;
    }
    if (s.kind == SourceKind::kTransfer) {
      auto it = std::find_if(spare.begin(), spare.end(),
                             [&](const SourceStock& x) { return x.source == s.id; });
      if (it != spare.end() && it->qty < sizing.quantity) {
        passed += "; " + s.id + " can spare " + std::to_string(it->qty) + " of " +
                  std::to_string(sizing.quantity);
        continue;
      }
    }
    able.push_back({&s, sizing, policy.lead_time_of(s), s.landed_cost(sizing.quantity)});
  }
  SupplierChoice c;
  const Candidate* best = nullptr;
  for (const auto& k : able)
    if (k.lead <= days_to_stockout &&
        (!best || k.landed < best->landed || (k.landed == best->landed && k.lead < best->lead)))
      best = &k;
  if (!best) {
    for (const auto& k : able)
      if (!best || k.lead < best->lead || (k.lead == best->lead && k.landed < best->landed))
        best = &k;
    c.urgent = best != nullptr || days_to_stockout < policy.lead_time_days;
  }
  if (!best) {
    c.lead_time_days = policy.lead_time_days;
    c.sizing = order_quantity(policy, order_up_to, position, cover_cap);
    c.why = policy.suppliers.empty() ? "no source configured"
                                     : "no source can take the order" + passed;
    if (policy.suppliers.empty()) c.urgent = days_to_stockout < policy.lead_time_days;
    return c;
  }
  c.supplier = best->s;
  c.lead_time_days = best->lead;
  c.sizing = best->sizing;
  c.landed_unit_cost = best->landed;
  const auto& s = *best->s;
  c.why = std::string(to_string(s.kind)) + " from " + s.id + ": landed " + money(best->landed) +
          "/unit (" + money(s.price_at(best->sizing.quantity)) +
          (s.freight_per_unit ? " + freight " + money(s.freight_per_unit) : std::string()) +
          ") for " + std::to_string(best->sizing.quantity) + ", arrives in " + days(best->lead) +
          (c.urgent ? ": the fastest; none arrives before the projected stockout in "
                    : ", before the projected stockout in ") +
          days(days_to_stockout);
  for (const auto& k : able) {
    if (&k == best) continue;
    c.why += "; " + k.s->id + " (" + std::string(to_string(k.s->kind)) + ") " +
             money(k.landed) + "/unit in " + days(k.lead) +
             (k.lead > days_to_stockout ? ", too late" : "");
  }
  c.why += passed;
  return c;
}

double fastest_lead_time(const Policy& policy) {
  if (policy.suppliers.empty()) return policy.lead_time_days;
  double best = policy.lead_time_of(policy.suppliers.front());
  for (const auto& s : policy.suppliers) best = std::min(best, policy.lead_time_of(s));
  return best;
}

}  // namespace depot::replenish
