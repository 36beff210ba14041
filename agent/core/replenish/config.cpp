#include "core/replenish/config.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "core/time.hpp"

namespace depot::replenish {
namespace {

using nlohmann::json;

// A number that must pass `ok`; otherwise "<value> <rule>" is recorded and nothing returned.
std::optional<double> number_where(ObjectReader& r, std::string_view key, bool required,
                                   bool (*ok)(double), std::string_view rule) {
  auto v = r.number(key, required);
  if (!v) return std::nullopt;
  if (!ok(*v)) {
    r.problems().add(r.path_of(key), describe(*v) + " " + std::string(rule));
    return std::nullopt;
  }
  return v;
}

bool not_negative(double v) { return v >= 0; }
bool open_unit(double v) { return v > 0 && v < 1; }
bool half_open_unit(double v) { return v > 0 && v <= 1; }
bool closed_unit(double v) { return v >= 0 && v <= 1; }

// Quantities and counts in a profile: 10^12 at most (INT64_MAX as max_stock overflowed the
// room under a backorder, and the SKU was never proposed for).
constexpr std::int64_t kMax = 1'000'000'000'000;

std::string list_of(const std::vector<Policy>& policies) {
  std::string s;
  for (const auto& p : policies) s += (s.empty() ? "" : ", ") + p.name;
  return s.empty() ? "none" : s;
}

void read_supplier(const json& j, const std::string& path, Problems& p,
                   std::map<std::string, std::string>& id_at, Policy& policy) {
  ObjectReader r(j, path, p);
  if (!r.is_object()) return;
  Supplier s;
  if (auto id = r.identifier("id", true)) {
    s.id = *id;
    if (auto [it, fresh] = id_at.emplace(*id, r.path_of("id")); !fresh)
      p.add(r.path_of("id"), describe(*id) + " is already used by " + it->second);
  }
  s.lead_time_days = number_where(r, "lead_time_days", false, not_negative, "must not be negative");
  if (auto price = number_where(r, "unit_price", true, not_negative, "must not be negative"))
    s.unit_price = *price;
  if (auto kind = r.one_of("kind", false, {"purchase", "transfer"}))
    s.kind = *kind == "transfer" ? SourceKind::kTransfer : SourceKind::kPurchase;
  if (auto f = number_where(r, "freight_per_unit", false, not_negative, "must not be negative"))
    s.freight_per_unit = *f;
  s.moq = r.integer("moq", false, 1, kMax);
  s.case_multiple = r.integer("case_multiple", false, 1, kMax);
  if (const auto* breaks = r.array("price_breaks", false)) {
    for (std::size_t i = 0; i < breaks->size(); ++i) {
      ObjectReader b((*breaks)[i], r.path_of("price_breaks") + "[" + std::to_string(i) + "]", p);
      PriceBreak pb;
      if (auto q = b.integer("min_qty", true, 1, kMax)) pb.min_qty = *q;
      if (auto v = number_where(b, "unit_price", true, not_negative, "must not be negative"))
        pb.unit_price = *v;
      if (!s.price_breaks.empty() && pb.min_qty <= s.price_breaks.back().min_qty)
        p.add(b.path_of("min_qty"), std::to_string(pb.min_qty) +
                                        " must be above the previous break's min_qty " +
                                        std::to_string(s.price_breaks.back().min_qty));
      b.finish();
      s.price_breaks.push_back(pb);
    }
  }
  policy.suppliers.push_back(std::move(s));
}

std::optional<Policy> read_policy(const json& j, const std::string& path, const std::string& name,
                                  Problems& p) {
  ObjectReader r(j, path, p);
  if (!r.is_object()) return std::nullopt;
  const auto before = p.items().size();
  Policy pol;
  pol.name = name;
  if (!is_identifier(name))
    p.add(path, describe(name) + " must be 1-64 characters of letters, digits, '_', '-' or '.'");
  if (auto v = number_where(r, "lead_time_days", true, not_negative, "must not be negative"))
    pol.lead_time_days = *v;
  if (auto v = number_where(r, "lead_time_sd_days", false, not_negative, "must not be negative"))
    pol.lead_time_sd_days = *v;
  if (auto v = number_where(r, "review_period_days", false, not_negative, "must not be negative"))
    pol.review_period_days = *v;
  const bool has_days = r.get("safety_days", false) != nullptr;
  const bool has_level = r.get("service_level", false) != nullptr;
  if (auto v = number_where(r, "safety_days", false, not_negative, "must not be negative"))
    pol.safety_days = *v;
  if (auto v =
          number_where(r, "service_level", false, open_unit, "must be between 0 and 1 (exclusive)"))
    pol.service_level = *v;
  if (has_days && has_level)
    p.add(path, "give safety_days or service_level, not both");
  else if (!has_days && !has_level)
    p.add(path, "needs safety_days (days of cover) or service_level (e.g. 0.95)");
  pol.safety = has_level ? SafetyRule::kServiceLevel : SafetyRule::kDaysOfCover;
  pol.moq = r.integer_or("moq", pol.moq, 1, kMax);
  pol.case_multiple = r.integer_or("case_multiple", pol.case_multiple, 1, kMax);
  pol.max_stock = r.integer("max_stock", false, 1, kMax);
  if (auto v = number_where(r, "max_cover_days", false, not_negative, "must not be negative"))
    pol.max_cover_days = *v;
  if (auto v = number_where(r, "revise_threshold", false, not_negative, "must not be negative"))
    pol.revise_threshold = *v;
  if (auto v =
          number_where(r, "cancel_cooldown_hours", false, not_negative, "must not be negative"))
    pol.cancel_cooldown_hours = *v;
  if (auto v = number_where(r, "cancel_margin", false, not_negative, "must not be negative"))
    pol.cancel_margin = *v;
  if (pol.max_stock && pol.moq > *pol.max_stock)
    p.add(r.path_of("moq"), std::to_string(pol.moq) + " must not be above max_stock " +
                                std::to_string(*pol.max_stock));
  if (const auto* a = r.array("suppliers", true)) {
    if (a->empty()) p.add(r.path_of("suppliers"), "[] must name at least one supplier");
    std::map<std::string, std::string> id_at;
    for (std::size_t i = 0; i < a->size(); ++i)
      read_supplier((*a)[i], r.path_of("suppliers") + "[" + std::to_string(i) + "]", p, id_at, pol);
  }
  r.finish();
  if (p.items().size() != before) return std::nullopt;
  return pol;
}

std::optional<CampaignTime> time_ms(ObjectReader& r, std::string_view key) {
  auto s = r.string(key, true);
  if (!s) return std::nullopt;
  auto t = campaign_time(*s, key == "end");
  if (!t)
    r.problems().add(r.path_of(key),
                     describe(*s) + " must be an RFC 3339 time, e.g. 2026-11-11T20:00:00+08:00, "
                                    "or a site-local date, e.g. 2026-11-11");
  return t;
}

std::optional<Campaign> read_campaign(const json& j, const std::string& path, Problems& p,
                                      const std::vector<Policy>& policies,
                                      const std::set<std::string, std::less<>>& skus,
                                      std::map<std::string, std::string>& name_at) {
  ObjectReader r(j, path, p);
  if (!r.is_object()) return std::nullopt;
  const auto before = p.items().size();
  Campaign c;
  if (auto name = r.identifier("name", true)) {
    c.name = *name;
    if (auto [it, fresh] = name_at.emplace(*name, r.path_of("name")); !fresh)
      p.add(r.path_of("name"), describe(*name) + " is already used by " + it->second);
  }
  if (const auto* a = r.array("skus", false)) {
    for (std::size_t i = 0; i < a->size(); ++i) {
      const auto sp = r.path_of("skus") + "[" + std::to_string(i) + "]";
      const auto& v = (*a)[i];
      if (!v.is_string())
        p.add(sp, describe(v) + " must be a string");
      else if (!skus.count(v.get<std::string>()))
        p.add(sp, describe(v) + " is not in the catalog");
      else
        c.skus.push_back(v.get<std::string>());
    }
  }
  if (auto pol = r.string("policy", false)) {
    c.policy = *pol;
    const bool known = std::any_of(policies.begin(), policies.end(),
                                   [&](const Policy& x) { return x.name == *pol; });
    if (!known)
      p.add(r.path_of("policy"),
            describe(*pol) + " names no profile in policies (known: " + list_of(policies) + ")");
  }
  if (c.skus.empty() && c.policy.empty() && p.items().size() == before)
    p.add(path, "needs skus or policy to say which SKUs it lifts");
  if (auto f = number_where(
          r, "factor", true, [](double v) { return v >= 1 && v <= 1000; },
          "must be between 1 and 1000 (a factor of 4 is +300 %)"))
    c.factor = *f;
  auto start = time_ms(r, "start");
  auto end = time_ms(r, "end");
  if (start) c.start_ms = start->ms, c.start_day = start->day;
  if (end) c.end_ms = end->ms, c.end_day = end->day;
  if (start && end && end->ms <= start->ms)
    p.add(r.path_of("end"),
          describe(j.at("end")) + " must be after start " + describe(j.at("start")));
  r.finish();
  if (p.items().size() != before) return std::nullopt;
  return c;
}

void read_surge(const json& j, Problems& p, SurgeSettings& s) {
  ObjectReader r(j, "surge", p);
  s.short_window_minutes = r.integer_or("short_window_minutes", s.short_window_minutes, 1, 1440);
  s.long_window_minutes = r.integer_or("long_window_minutes", s.long_window_minutes, 1, 1440);
  if (s.long_window_minutes <= s.short_window_minutes)
    p.add(r.path_of("long_window_minutes"), std::to_string(s.long_window_minutes) +
                                                " must be longer than short_window_minutes " +
                                                std::to_string(s.short_window_minutes));
  if (auto v = number_where(
          r, "enter_ratio", false, [](double x) { return x > 1; }, "must be above 1"))
    s.enter_ratio = *v;
  if (auto v = number_where(
          r, "exit_ratio", false, [](double x) { return x >= 1; }, "must be at least 1"))
    s.exit_ratio = *v;
  if (s.exit_ratio >= s.enter_ratio)
    p.add(r.path_of("exit_ratio"), describe(s.exit_ratio) + " must be below enter_ratio " +
                                       describe(s.enter_ratio) + " (hysteresis)");
  s.min_units = r.integer_or("min_units", s.min_units, 1, kMax);
  s.min_events = r.integer_or("min_events", s.min_events, 1, kMax);
  if (auto v = number_where(
          r, "max_ratio", false, [](double x) { return x > 1 && x <= 1000; },
          "must be above 1 and at most 1000"))
    s.max_ratio = *v;
  if (s.max_ratio < s.enter_ratio)
    p.add(r.path_of("max_ratio"), describe(s.max_ratio) + " must be at least enter_ratio " +
                                      describe(s.enter_ratio));
  s.exit_hold_minutes = r.integer_or("exit_hold_minutes", s.exit_hold_minutes, 0, 1440);
  s.half_life_minutes = r.integer_or("half_life_minutes", s.half_life_minutes, 1, 10080);
}

void read_demand(const json& j, Problems& p, DemandSettings& d) {
  ObjectReader r(j, "demand", p);
  if (auto v = number_where(r, "alpha", false, half_open_unit, "must be above 0 and at most 1"))
    d.alpha = *v;
  if (auto v = number_where(r, "tsb_beta", false, half_open_unit, "must be above 0 and at most 1"))
    d.tsb_beta = *v;
  d.min_history_days = r.integer_or("min_history_days", d.min_history_days, 1, 365);
  if (auto v =
          number_where(r, "intermittent_zero_share", false, closed_unit, "must be between 0 and 1"))
    d.intermittent_zero_share = *v;
}

void read_lots(const json& j, Problems& p, LotSettings& l) {
  ObjectReader r(j, "lots", p);
  if (auto s = r.one_of("picking", false, {"fefo", "fifo", "none"}))
    l.picking = *lots::parse_picking(*s);
  l.short_dated_days = r.integer_or("short_dated_days", l.short_dated_days, 0, 3650);
}

}  // namespace

const Policy* Settings::find_policy(std::string_view name) const {
  for (const auto& p : policies)
    if (p.name == name) return &p;
  return nullptr;
}

void read_settings(ObjectReader& top, const std::vector<CatalogEntryRefs>& entries,
                   const std::vector<CatalogItem>& catalog, Settings& out) {
  Problems& p = top.problems();
  if (const auto* j = top.object("policies", false)) {
    for (const auto& [name, value] : j->items()) {
      if (auto pol = read_policy(value, top.path_of("policies") + "." + name, name, p))
        out.policies.push_back(std::move(*pol));
    }
  }
  if (const auto* a = top.array("campaigns", false)) {
    std::set<std::string, std::less<>> skus;  // only for campaigns: a copy of every SKU
    for (const auto& item : catalog) skus.insert(item.sku);
    std::map<std::string, std::string> name_at;
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (auto c = read_campaign((*a)[i], "campaigns[" + std::to_string(i) + "]", p, out.policies,
                                 skus, name_at))
        out.campaigns.push_back(std::move(*c));
    }
  }
  if (const auto* j = top.object("surge", false)) read_surge(*j, p, out.surge);
  if (const auto* j = top.object("demand", false)) read_demand(*j, p, out.demand);
  if (const auto* j = top.object("lots", false)) read_lots(*j, p, out.lots);

  for (const auto& entry : entries) {
    const auto path = "catalog[" + std::to_string(entry.index) + "]";
    if (!entry.policy.empty() && !out.find_policy(entry.policy))
      p.add(path + ".policy", describe(json(entry.policy)) + " names no profile in policies (known: " +
                                  list_of(out.policies) + ")");
    if (entry.pin_without_demand)
      p.add(path + ".pin_demand", "true needs daily_demand (the figure to pin)");
  }
  for (const auto& item : catalog)
    if (item.policy.empty()) out.skus_without_policy.push_back(item.sku);
}

}  // namespace depot::replenish
