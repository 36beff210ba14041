#include "core/replenish/campaign.hpp"

#include "core/time.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace depot::replenish {

std::optional<CampaignTime> campaign_time(std::string_view text, bool is_end) {
  auto ms = timefmt::parse_rfc3339_ms(text);
  if (!ms) return std::nullopt;
  CampaignTime t{*ms, std::nullopt};
  if (text.size() == 10) {  // YYYY-MM-DD (parse_rfc3339_ms took it as UTC midnight)
    t.day = *ms / 86'400'000;
    if (is_end) t.ms += 86'400'000;
  }
  return t;
}

void localize(Campaign& c, const tz::Zone& site) {
  if (c.start_day) c.start_ms = tz::day_start_ms(site, *c.start_day);
  if (c.end_day) c.end_ms = tz::day_start_ms(site, *c.end_day + 1);
}

namespace {
constexpr double kDayMs = 86'400'000.0;
constexpr double kInf = std::numeric_limits<double>::infinity();
}  // namespace

bool Campaign::targets(std::string_view sku, std::string_view sku_policy) const {
  if (!policy.empty() && policy == sku_policy) return true;
  return std::find(skus.begin(), skus.end(), sku) != skus.end();
}

CampaignIndex::CampaignIndex(std::span<const Campaign> campaigns) : campaigns_(campaigns) {
  for (const auto& c : campaigns)
    for (const auto& sku : c.skus) add(sku, &c);
}

CampaignIndex::CampaignIndex(std::span<const Campaign> campaigns,
                             std::span<const CatalogItem> catalog)
    : CampaignIndex(campaigns) {
  for (const auto& item : catalog) add_sku(item.sku, item.policy);
}

void CampaignIndex::add_sku(std::string_view sku, std::string_view policy) {
  if (policy.empty()) return;
  for (const auto& c : campaigns_)
    if (c.policy == policy) add(sku, &c);
}

void CampaignIndex::add(std::string_view sku, const Campaign* c) {
  auto it = by_sku_.find(sku);
  if (it == by_sku_.end()) it = by_sku_.emplace(std::string(sku), std::vector<const Campaign*>{}).first;
  if (std::find(it->second.begin(), it->second.end(), c) == it->second.end()) it->second.push_back(c);
}

std::span<const Campaign* const> CampaignIndex::for_sku(std::string_view sku) const {
  auto it = by_sku_.find(sku);
  if (it == by_sku_.end()) return {};
  return it->second;
}

DemandCurve::DemandCurve(double daily, SurgeProjection surge,
                         std::span<const Campaign* const> campaigns, std::int64_t now_ms)
    : daily_(std::max(daily, 0.0)),
      excess_(surge.excess_per_day > 0 && surge.half_life_days > 0 ? surge.excess_per_day : 0),
      decay_(excess_ > 0 ? std::log(2.0) / surge.half_life_days : 0),
      campaigns_(campaigns),
      now_ms_(now_ms) {}

double DemandCurve::factor_at(double t) const {
  double f = 1;
  for (const Campaign* c : campaigns_) {
    const double start = static_cast<double>(c->start_ms - now_ms_) / kDayMs;
    const double end = static_cast<double>(c->end_ms - now_ms_) / kDayMs;
    if (start <= t && t < end) f = std::max(f, c->factor);
  }
  return f;
}

double DemandCurve::next_boundary_after(double t) const {
  double next = kInf;
  for (const Campaign* c : campaigns_) {
    for (std::int64_t ms : {c->start_ms, c->end_ms}) {
      const double b = static_cast<double>(ms - now_ms_) / kDayMs;
      if (b > t) next = std::min(next, b);
    }
  }
  return next;
}

// Units over [a, b] (finite) at a constant campaign factor `f`.
double DemandCurve::segment_units(double f, double a, double b) const {
  const double base = daily_ * f;
  if (excess_ <= 0) return base * (b - a);
  // The surge term d + excess*e^(-decay*t) is above the campaign rate d*f until `cross`.
  const double gap = daily_ * (f - 1);
  double cross = kInf;
  if (gap > 0) cross = excess_ <= gap ? -kInf : std::log(excess_ / gap) / decay_;
  const double m = std::clamp(cross, a, b);
  const double surge_units =
      daily_ * (m - a) + excess_ / decay_ * (std::exp(-decay_ * a) - std::exp(-decay_ * m));
  return surge_units + base * (b - m);
}

double DemandCurve::units(double from, double to) const {
  if (!(to > from)) return 0;
  if (campaigns_.empty()) return segment_units(1, from, to);
  double total = 0;
  for (double t = from; t < to;) {
    const double next = std::min(to, next_boundary_after(t));
    total += segment_units(factor_at(t), t, next);
    t = next;
  }
  return total;
}

double DemandCurve::campaign_factor(double from, double to) const {
  if (!(to > from)) return factor_at(from);
  double weighted = 0;
  for (double t = from; t < to;) {
    const double next = std::min(to, next_boundary_after(t));
    weighted += factor_at(t) * (next - t);
    t = next;
  }
  return weighted / (to - from);
}

double DemandCurve::days_to_sell(double wanted) const {
  if (wanted <= 0) return 0;
  double sold = 0;
  for (double t = 0;;) {
    const double f = factor_at(t);
    const double next = next_boundary_after(t);
    if (std::isfinite(next)) {
      const double here = segment_units(f, t, next);
      if (sold + here < wanted) {
        sold += here;
        t = next;
        continue;
      }
    }
    const double need = wanted - sold;
    const double base = daily_ * f;
    if (excess_ <= 0) return base > 0 ? t + need / base : kInf;
    double hi = next;
    if (!std::isfinite(hi)) {
      if (base > 0) {
        hi = t + need / base;  // the rate never drops below `base`, so `need` is sold by then
      } else {  // no baseline: only the fading surge sells, and it sells a bounded amount
        const double left = std::exp(-decay_ * t) - need * decay_ / excess_;
        return left > 0 ? -std::log(left) / decay_ : kInf;
      }
    }
    double lo = t;
    for (int i = 0; i < 200 && hi - lo > 1e-9; ++i) {
      const double mid = 0.5 * (lo + hi);
      (segment_units(f, t, mid) < need ? lo : hi) = mid;
    }
    return hi;
  }
}

}  // namespace depot::replenish
