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
#include <string_view>
#include <vector>

namespace depot::replenish {

// Where replenishment comes from: a supplier (a purchase) or the parent / central warehouse
// (a transfer). Its landed cost per unit is its unit price for the quantity (price breaks)
// plus freight per unit; its MOQ and case size, when given, replace the profile's.
enum class SourceKind { kPurchase, kTransfer };
std::string_view to_string(SourceKind k);

struct PriceBreak {
  std::int64_t min_qty = 1;  // from this many units on
  double unit_price = 0;
};

struct Supplier {
  std::string id;
  std::optional<double> lead_time_days;  // nullopt: the profile's lead time
  double unit_price = 0;
  SourceKind kind = SourceKind::kPurchase;
  double freight_per_unit = 0;
  std::optional<std::int64_t> moq, case_multiple;  // nullopt: the profile's
  std::vector<PriceBreak> price_breaks;            // ascending min_qty (config checks it)

  // The unit price for an order of `qty`: the last break at or below it, else unit_price.
  double price_at(std::int64_t qty) const;
  double landed_cost(std::int64_t qty) const { return price_at(qty) + freight_per_unit; }
};

// What a transfer source can spare of one SKU, as the cloud last said (source.stock).
struct SourceStock {
  std::string source;
  std::int64_t qty = 0;
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
  // A proposal still `proposed` is revised when a fresh decision's quantity differs from it by
  // more than this fraction of it.
  double revise_threshold = 0.2;
  // After a proposal is cancelled, no new one for this many hours, unless the position has
  // fallen a further `cancel_margin` x the reorder point below the cancelled one's position.
  double cancel_cooldown_hours = 24;
  double cancel_margin = 0.25;
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
                             std::optional<std::int64_t> cover_cap = std::nullopt,
                             const Supplier* source = nullptr);

struct SupplierChoice {
  const Supplier* supplier = nullptr;  // into policy.suppliers; null when it has none
  double lead_time_days = 0;
  bool urgent = false;  // no supplier arrives by the projected stockout
  OrderQuantity sizing;     // the quantity under this source's MOQ and case size
  double landed_unit_cost = 0;
  std::string why;          // which source and why, in words and numbers
};

// The source for an order bringing `position` up to `order_up_to` (under the ceilings of
// order_quantity, with each source's own MOQ and case size). A source can take the order when
// its quantity is not 0 and, for a transfer source the cloud has reported on (`spare`), when
// it can spare that quantity. Among those whose lead time is at most `days_to_stockout`
// (+infinity when demand never empties the shelf): the lowest landed cost per unit (then the
// shortest lead time, then the first listed). When none arrives in time: the fastest (then
// the lowest landed cost, then the first listed), urgent. Pure.
SupplierChoice choose_source(const Policy& policy, double order_up_to, std::int64_t position,
                             std::optional<std::int64_t> cover_cap, double days_to_stockout,
                             std::span<const SourceStock> spare = {});

// The shortest supplier lead time (the profile's lead time when there are no suppliers).
double fastest_lead_time(const Policy& policy);

}  // namespace depot::replenish
