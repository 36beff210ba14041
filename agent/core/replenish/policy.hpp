// Replenishment policy profiles and the arithmetic of one reorder decision.
//
//   reorder point  = expected demand over the lead time L + safety stock
//   safety stock   = safety_days x d                                    (days of cover), or
//                    z x sqrt(L x sd_d^2 + d^2 x sd_L^2),  z = Phi^-1(service level)
//   order-up-to    = reorder point + expected demand over the review period R (after L)
//   order when       position <= reorder point
//   quantity       = order-up-to - position, at least the MOQ, rounded up to the case
//                    multiple, and never above max stock - position (rounded down to whole
//                    cases; below the MOQ there is no order and the decision says why)
// d and sd_d are the baseline daily demand and its standard deviation (demand.hpp): a
// campaign or surge raises the expected demand, not the safety stock. L is the profile's
// planning lead time; each supplier's own lead time (the profile's when it names none)
// decides when its delivery arrives. Supplier choice: the cheapest whose delivery arrives
// no later than the projected stockout; if none can, the fastest, and the order is urgent.
// Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace depot::replenish {

struct Supplier {
  std::string id;
  std::optional<double> lead_time_days;  // nullopt: the profile's lead time
  double unit_price = 0;
};

enum class SafetyRule { kDaysOfCover, kServiceLevel };

struct Policy {
  std::string name;               // the profile name catalog items refer to
  double lead_time_days = 0;      // planning lead time L
  double lead_time_sd_days = 0;   // sd_L
  double review_period_days = 7;  // R
  SafetyRule safety = SafetyRule::kDaysOfCover;
  double safety_days = 0;                 // kDaysOfCover
  double service_level = 0.95;            // kServiceLevel: probability of no stockout in a cycle
  std::int64_t moq = 1;                   // minimum order quantity
  std::int64_t case_multiple = 1;         // orders are whole cases
  std::optional<std::int64_t> max_stock;  // position after ordering never exceeds this
  // Nor more than this many days of the baseline demand (d x max_cover_days units), whatever a
  // surge or campaign projects: one window's extrapolation cannot order months of stock.
  // 0: no such cap.
  double max_cover_days = 90;
  std::vector<Supplier> suppliers;        // at least one (config enforces it)

  double lead_time_of(const Supplier& s) const { return s.lead_time_days.value_or(lead_time_days); }
};

// The standard normal quantile: z such that Phi(z) = p. Acklam's rational approximation
// (relative error < 1.15e-9) refined by one Halley step on std::erfc, which brings it to
// about double precision. REQUIRES: 0 < p < 1.
double inverse_normal_cdf(double p);

// Safety stock of `policy` for daily demand `daily` with standard deviation `daily_sd`.
double safety_stock(const Policy& policy, double daily, double daily_sd);

struct OrderQuantity {
  std::int64_t quantity = 0;  // 0 when nothing can be ordered within max stock
  std::int64_t room = -1;     // ceiling - position (-1: no ceiling)
  bool capped_by_max_stock = false;
  bool capped_by_cover = false;  // the days-of-cover cap was the lower ceiling and it bound
  bool room_below_moq = false;   // the room under the ceiling cannot take the MOQ: no order
};

// What to order to bring `position` up to `order_up_to` under the policy's MOQ, case
// multiple and ceiling: max stock, or `cover_cap` units (the days-of-cover cap) when lower.
OrderQuantity order_quantity(const Policy& policy, double order_up_to, std::int64_t position,
                             std::optional<std::int64_t> cover_cap = std::nullopt);

struct SupplierChoice {
  const Supplier* supplier = nullptr;  // into policy.suppliers; null when it has none
  double lead_time_days = 0;
  bool urgent = false;  // no supplier arrives by the projected stockout
};

// Cheapest supplier (then shortest lead time, then first listed) whose lead time is at most
// `days_to_stockout` (+infinity when demand never empties the shelf); otherwise the fastest
// (then cheapest, then first listed), urgent.
SupplierChoice choose_supplier(const Policy& policy, double days_to_stockout);

// The shortest supplier lead time (the profile's lead time when there are no suppliers).
double fastest_lead_time(const Policy& policy);

}  // namespace depot::replenish
