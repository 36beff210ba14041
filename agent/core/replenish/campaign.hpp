// Campaigns and the demand curve over the coming days.
//
// A campaign multiplies a SKU's daily demand by `factor` (4 = +300 %) over [start, end). It
// targets SKUs by name (`skus`) and/or every SKU whose policy profile is `policy`: the
// profile name stands in for a category, so give a product line its own profile when a
// campaign must reach it as a group. Where campaigns overlap, the largest factor applies
// (they are not multiplied). Factors are at least 1: a campaign only raises demand.
//
// The demand curve is the expected rate t days from now:
//     rate(t) = max(d * campaign(t), d + excess * 2^(-t / half_life))
// where d is the daily demand, campaign(t) the factor in force (1 outside campaigns) and the
// second term a surge fading with its half-life (surge.hpp). Taking the larger of the two
// keeps a surge that a campaign caused from being counted twice. `units(a, b)` integrates it
// in closed form piece by piece between campaign boundaries, so a campaign that starts
// inside the lead time raises the lead-time demand by the overlapping part only - and the
// reorder point rises before the campaign starts.
// Pure; the curve borrows its campaigns and allocates nothing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.hpp"
#include "core/replenish/surge.hpp"
#include "core/tz.hpp"

namespace depot::replenish {

struct Campaign {
  std::string name;
  std::vector<std::string> skus;  // targeted SKUs
  std::string policy;             // targets every SKU with this policy profile ("" = none)
  double factor = 1;              // >= 1
  std::int64_t start_ms = 0;      // unix ms, inclusive
  std::int64_t end_ms = 0;        // unix ms, exclusive
  // Set when start/end were written as a date without a time ("2026-11-11"): the site-local
  // day (days since 1970-01-01). A start date starts at that day's local midnight; an end
  // date is included, so the campaign ends at the next local midnight (localize()).
  std::optional<std::int64_t> start_day, end_day;

  bool targets(std::string_view sku, std::string_view sku_policy) const;
};

// A campaign's start or end as written: an RFC 3339 time, or a date (YYYY-MM-DD) whose
// instant is settled by localize(); until then a date reads as UTC (an end date: the UTC
// midnight after it). nullopt when the text is neither.
struct CampaignTime {
  std::int64_t ms = 0;
  std::optional<std::int64_t> day;
};
std::optional<CampaignTime> campaign_time(std::string_view text, bool is_end);

// Settles the date-only start and end of `c` in the site's time zone.
void localize(Campaign& c, const tz::Zone& site);

// Which campaigns target which SKU, resolved once for the whole catalog so that a
// recompute over every SKU does not scan every campaign's SKU list per SKU.
// REQUIRES: `campaigns` outlives the index and is not modified while it is in use.
class CampaignIndex {
 public:
  CampaignIndex() = default;
  CampaignIndex(std::span<const Campaign> campaigns, std::span<const CatalogItem> catalog);
  // The same built one SKU at a time: the campaigns naming SKUs first, then each SKU with
  // its policy (for campaigns that target a policy).
  explicit CampaignIndex(std::span<const Campaign> campaigns);
  void add_sku(std::string_view sku, std::string_view policy);
  std::span<const Campaign* const> for_sku(std::string_view sku) const;

 private:
  void add(std::string_view sku, const Campaign* c);
  std::span<const Campaign> campaigns_;
  std::map<std::string, std::vector<const Campaign*>, std::less<>> by_sku_;
};

class DemandCurve {
 public:
  // `campaigns` are the ones targeting the SKU (others must not be passed).
  DemandCurve(double daily, SurgeProjection surge, std::span<const Campaign* const> campaigns,
              std::int64_t now_ms);

  // Expected units sold between `from_days` and `to_days` from now (0 <= from <= to).
  double units(double from_days, double to_days) const;
  // The campaign factor averaged over [from_days, to_days] (the factor at `from` when empty).
  double campaign_factor(double from_days, double to_days) const;
  // Days until `units` are sold: +infinity when the curve never sells that many.
  double days_to_sell(double units) const;

 private:
  double factor_at(double t_days) const;
  double next_boundary_after(double t_days) const;  // +infinity when none
  double segment_units(double factor, double a, double b) const;

  double daily_;
  double excess_;
  double decay_;  // ln 2 / half-life, per day (0: no surge)
  std::span<const Campaign* const> campaigns_;
  std::int64_t now_ms_;
};

}  // namespace depot::replenish
