#include "core/replenish/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/config.hpp"

namespace depot::replenish {
namespace {
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string config(const std::string& extra) {
  return R"({"site":"s1","gateway":"g1","database":"x.db")" + extra + "}";
}
std::vector<std::string> problems(const std::string& extra) {
  return parse_config(config(extra)).problems;
}

TEST(ReplenishConfig, DefaultsWhenTheSectionsAreAbsent) {
  auto r = parse_config(config(R"(,"catalog":[{"sku":"A"}])"));
  ASSERT_TRUE(r.config) << r.problems[0];
  const auto& s = r.config->replenish;
  EXPECT_TRUE(s.policies.empty());
  EXPECT_TRUE(s.campaigns.empty());
  EXPECT_EQ(s.surge.short_window_minutes, 15);
  EXPECT_EQ(s.surge.long_window_minutes, 60);
  EXPECT_DOUBLE_EQ(s.surge.enter_ratio, 4);
  EXPECT_DOUBLE_EQ(s.surge.exit_ratio, 2);
  EXPECT_EQ(s.surge.min_units, 20);
  EXPECT_EQ(s.surge.exit_hold_minutes, 30);
  EXPECT_EQ(s.surge.half_life_minutes, 240);
  EXPECT_DOUBLE_EQ(s.demand.alpha, 0.1);
  EXPECT_DOUBLE_EQ(s.demand.tsb_beta, 0.1);
  EXPECT_EQ(s.demand.min_history_days, 14);
  EXPECT_DOUBLE_EQ(s.demand.intermittent_zero_share, 0.25);
  // A SKU without a policy is listed, not given a default one.
  EXPECT_THAT(s.skus_without_policy, ElementsAre("A"));
}

TEST(ReplenishConfig, LotsPickFefoByDefaultAndTheirSettingsAreChecked) {
  auto r = parse_config(config(""));
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->replenish.lots.picking, lots::Picking::kFefo);
  EXPECT_EQ(r.config->replenish.lots.short_dated_days, 7);
  r = parse_config(config(R"(,"lots":{"picking":"fifo","short_dated_days":30})"));
  ASSERT_TRUE(r.config) << r.problems[0];
  EXPECT_EQ(r.config->replenish.lots.picking, lots::Picking::kFifo);
  EXPECT_EQ(r.config->replenish.lots.short_dated_days, 30);
  auto p = problems(R"(,"lots":{"picking":"lifo","short_dated_days":-1,"shelf":3})");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_NE(p[0].find("lots.picking: \"lifo\""), std::string::npos) << p[0];
  EXPECT_NE(p[0].find("fefo"), std::string::npos) << p[0];
  EXPECT_NE(p[1].find("lots.short_dated_days: -1"), std::string::npos) << p[1];
  EXPECT_NE(p[2].find("lots.shelf: unknown key"), std::string::npos) << p[2];
}

TEST(ReplenishConfig, ReadsProfilesCampaignsAndSettings) {
  auto r = parse_config(config(R"(,
    "catalog":[{"sku":"TINT","policy":"fast","daily_demand":40,"pin_demand":true},
               {"sku":"MATCHA","policy":"steady"}, {"sku":"LOOSE"}],
    "policies":{
      "fast":{"lead_time_days":3,"lead_time_sd_days":1,"review_period_days":1,
              "service_level":0.98,"moq":24,"case_multiple":12,"max_stock":2000,
              "suppliers":[{"id":"yiwu","lead_time_days":5,"unit_price":1.8},
                           {"id":"express","unit_price":2.6}]},
      "steady":{"lead_time_days":7,"safety_days":5,"suppliers":[{"id":"cold","unit_price":3}]}},
    "campaigns":[{"name":"d11","skus":["TINT"],"policy":"steady","factor":4,
                  "start":"2026-11-11T20:00:00+08:00","end":"2026-11-12T02:00:00+08:00"}],
    "surge":{"short_window_minutes":10,"exit_hold_minutes":45},
    "demand":{"alpha":0.2,"min_history_days":28})"));
  ASSERT_TRUE(r.config) << r.problems[0];
  const auto& s = r.config->replenish;
  ASSERT_EQ(s.policies.size(), 2u);
  const Policy* fast = s.find_policy("fast");
  ASSERT_NE(fast, nullptr);
  EXPECT_EQ(fast->safety, SafetyRule::kServiceLevel);
  EXPECT_DOUBLE_EQ(fast->service_level, 0.98);
  EXPECT_DOUBLE_EQ(fast->lead_time_sd_days, 1);
  EXPECT_EQ(fast->moq, 24);
  EXPECT_EQ(fast->case_multiple, 12);
  EXPECT_EQ(fast->max_stock, 2000);
  ASSERT_EQ(fast->suppliers.size(), 2u);
  EXPECT_DOUBLE_EQ(fast->lead_time_of(fast->suppliers[0]), 5);
  EXPECT_DOUBLE_EQ(fast->lead_time_of(fast->suppliers[1]), 3);  // the profile's
  const Policy* steady = s.find_policy("steady");
  ASSERT_NE(steady, nullptr);
  EXPECT_EQ(steady->safety, SafetyRule::kDaysOfCover);
  EXPECT_DOUBLE_EQ(steady->safety_days, 5);
  EXPECT_DOUBLE_EQ(steady->review_period_days, 7);  // default
  EXPECT_EQ(steady->moq, 1);
  EXPECT_FALSE(steady->max_stock);
  EXPECT_EQ(s.find_policy("none"), nullptr);

  ASSERT_EQ(s.campaigns.size(), 1u);
  EXPECT_DOUBLE_EQ(s.campaigns[0].factor, 4);
  EXPECT_EQ(s.campaigns[0].start_ms, 1794398400000);  // 2026-11-11T12:00Z
  EXPECT_EQ(s.campaigns[0].end_ms - s.campaigns[0].start_ms, 6 * 3600 * 1000);
  EXPECT_TRUE(s.campaigns[0].targets("MATCHA", "steady"));

  EXPECT_EQ(s.surge.short_window_minutes, 10);
  EXPECT_EQ(s.surge.exit_hold_minutes, 45);
  EXPECT_DOUBLE_EQ(s.demand.alpha, 0.2);
  EXPECT_EQ(s.demand.min_history_days, 28);
  EXPECT_THAT(s.skus_without_policy, ElementsAre("LOOSE"));
  EXPECT_TRUE(r.config->catalog[0].pin_demand);
}

TEST(ReplenishConfig, ProfileRulesNameThePathValueAndRule) {
  EXPECT_THAT(
      problems(R"(,"policies":{
      "a":{"lead_time_days":-2,"service_level":1.2,"suppliers":[]},
      "b":{"lead_time_days":5,"safety_days":3,"moq":50,"max_stock":40,"case_multiple":0,
           "suppliers":[{"id":"x","unit_price":1},{"id":"x","lead_time_days":-1}]},
      "c":{"lead_time_days":5,"safety_days":3,"service_level":0.9,"suppliers":[{"id":"y","unit_price":1}]},
      "d":{"lead_time_days":5,"suppliers":[{"id":"y","unit_price":1}]},
      "e":{"lead_time_days":5,"safety_days":1}})"),
      ElementsAre("policies.a.lead_time_days: -2.0 must not be negative",
                  "policies.a.service_level: 1.2 must be between 0 and 1 (exclusive)",
                  "policies.a.suppliers: [] must name at least one supplier",
                  "policies.b.case_multiple: 0 must be between 1 and 1000000000000",
                  "policies.b.moq: 50 must not be above max_stock 40",
                  "policies.b.suppliers[1].id: \"x\" is already used by policies.b.suppliers[0].id",
                  "policies.b.suppliers[1].lead_time_days: -1.0 must not be negative",
                  "policies.b.suppliers[1].unit_price: is required",
                  "policies.c: give safety_days or service_level, not both",
                  "policies.d: needs safety_days (days of cover) or service_level (e.g. 0.95)",
                  "policies.e.suppliers: is required"));
  EXPECT_THAT(problems(R"(,"policies":{"f":{"lead_time_days":1,"safety_days":1,
      "suppliers":[{"id":"s","unit_price":1}],"servce_level":0.9}})"),
              ElementsAre("policies.f.servce_level: unknown key (did you mean "
                          "\"service_level\"?)"));
  // INT64_MAX as max_stock overflowed the room under a backorder: 10^12 at most.
  EXPECT_THAT(problems(R"(,"policies":{"h":{"lead_time_days":1,"safety_days":1,
      "max_stock":9223372036854775807,"suppliers":[{"id":"s","unit_price":1}]}})"),
              ElementsAre(::testing::HasSubstr("policies.h.max_stock: 9223372036854775807")));
  EXPECT_THAT(problems(R"(,"policies":{"g":{"lead_time_days":1,"service_level":0,
      "suppliers":[{"id":"s","unit_price":1}]}})"),
              ElementsAre("policies.g.service_level: 0.0 must be between 0 and 1 (exclusive)"));
}

TEST(ReplenishConfig, SourcesReadKindFreightMoqCasesAndAscendingPriceBreaks) {
  auto r = parse_config(config(R"(,"policies":{"p":{"lead_time_days":5,"safety_days":1,
    "suppliers":[{"id":"factory","unit_price":2.5,"freight_per_unit":0.4,"moq":240,
                  "case_multiple":24,"price_breaks":[{"min_qty":200,"unit_price":2.3},
                                                     {"min_qty":1000,"unit_price":2.0}]},
                 {"id":"central","kind":"transfer","lead_time_days":3,"unit_price":2.6}]}})"));
  ASSERT_TRUE(r.config) << r.problems[0];
  const auto& s = r.config->replenish.policies[0].suppliers;
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].kind, SourceKind::kPurchase);
  EXPECT_DOUBLE_EQ(s[0].freight_per_unit, 0.4);
  EXPECT_EQ(s[0].moq, 240);
  EXPECT_EQ(s[0].case_multiple, 24);
  EXPECT_DOUBLE_EQ(s[0].price_at(199), 2.5);
  EXPECT_DOUBLE_EQ(s[0].price_at(200), 2.3);
  EXPECT_DOUBLE_EQ(s[0].price_at(5000), 2.0);
  EXPECT_EQ(s[1].kind, SourceKind::kTransfer);
  EXPECT_FALSE(s[1].moq.has_value());
  auto bad = problems(R"(,"policies":{"p":{"lead_time_days":5,"safety_days":1,
    "suppliers":[{"id":"f","unit_price":1,"kind":"gift","freight_per_unit":-1,
                  "price_breaks":[{"min_qty":100,"unit_price":1},{"min_qty":50,"unit_price":0.9}]}]}})");
  std::string joined;
  for (const auto& b : bad) joined += b + "\n";
  EXPECT_THAT(joined, ::testing::HasSubstr("policies.p.suppliers[0].kind"));
  EXPECT_THAT(joined, ::testing::HasSubstr("policies.p.suppliers[0].freight_per_unit"));
  EXPECT_THAT(joined, ::testing::HasSubstr(
                          "policies.p.suppliers[0].price_breaks[1].min_qty: 50 must be above"));
}

TEST(ReplenishConfig, CatalogPoliciesMustExistAndNoneIsNotDefaulted) {
  EXPECT_THAT(problems(R"(,"catalog":[{"sku":"A","policy":"fats"},{"sku":"B","pin_demand":true}],
        "policies":{"fast":{"lead_time_days":1,"safety_days":1,
                            "suppliers":[{"id":"s","unit_price":1}]}})"),
              ElementsAre("catalog[0].policy: \"fats\" names no profile in policies (known: fast)",
                          "catalog[1].pin_demand: true needs daily_demand (the figure to pin)"));
  EXPECT_THAT(problems(R"(,"catalog":[{"sku":"A","policy":"fast"}])"),
              ElementsAre("catalog[0].policy: \"fast\" names no profile in policies (known: "
                          "none)"));
}

TEST(ReplenishConfig, CampaignRules) {
  EXPECT_THAT(
      problems(R"(,"catalog":[{"sku":"A"}],"campaigns":[
        {"name":"c1","skus":["A","Z",7],"factor":0.5,"start":"2026-11-12","end":"2026-11-11"},
        {"name":"c1","policy":"flash","factor":2,"start":"soon","end":"2026-11-11"},
        {"name":"c3","factor":2,"start":"2026-11-10","end":"2026-11-11"}])"),
      ElementsAre(
          "campaigns[0].skus[1]: \"Z\" is not in the catalog",
          "campaigns[0].skus[2]: 7 must be a string",
          "campaigns[0].factor: 0.5 must be between 1 and 1000 (a factor of 4 is +300 %)",
          "campaigns[0].end: \"2026-11-11\" must be after start \"2026-11-12\"",
          "campaigns[1].name: \"c1\" is already used by campaigns[0].name",
          "campaigns[1].policy: \"flash\" names no profile in policies (known: none)",
          "campaigns[1].start: \"soon\" must be an RFC 3339 time, e.g. 2026-11-11T20:00:00+08:00, or a site-local date, e.g. 2026-11-11",
          "campaigns[2]: needs skus or policy to say which SKUs it lifts"));
}

TEST(ReplenishConfig, SurgeAndDemandRules) {
  EXPECT_THAT(
      problems(R"(,"surge":{"short_window_minutes":60,"long_window_minutes":30,"enter_ratio":3,
                  "exit_ratio":3,"min_units":0},
               "demand":{"alpha":0,"intermittent_zero_share":1.5,"min_history_days":0})"),
      ElementsAre("surge.long_window_minutes: 30 must be longer than short_window_minutes 60",
                  "surge.exit_ratio: 3.0 must be below enter_ratio 3.0 (hysteresis)",
                  "surge.min_units: 0 must be between 1 and 1000000000000",
                  "demand.alpha: 0.0 must be above 0 and at most 1",
                  "demand.min_history_days: 0 must be between 1 and 365",
                  "demand.intermittent_zero_share: 1.5 must be between 0 and 1"));
}

TEST(ReplenishConfig, SkusWithAKnownProfileAreNotListedAsUnmanaged) {
  auto r = parse_config(R"({"site":"s","gateway":"g","database":"d",
    "catalog":[{"sku":"A","policy":"p"}],
    "policies":{"p":{"lead_time_days":2,"safety_days":1,"suppliers":[{"id":"s","unit_price":1}]}}})");
  ASSERT_TRUE(r.config);
  EXPECT_THAT(r.config->replenish.skus_without_policy, IsEmpty());
}

}  // namespace
}  // namespace depot::replenish
