// The replenishment sections of the agent's config: `policies` (an object of named
// profiles), `campaigns` (an array), `surge` and `demand` (settings objects). Each reader
// records every problem it finds in `Problems`, naming the JSON path, the value and the
// rule, e.g.
//   policies.fast.service_level: 1.2 must be between 0 and 1 (exclusive)
//   catalog[2].policy: "fats" names no profile in policies (known: fast, steady)
// A catalog item without a policy is not replenished and not defaulted to some profile: it is
// listed in `Settings::skus_without_policy`. docs/replenishment.md documents every key.
// Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.hpp"
#include "core/json_fields.hpp"
#include "core/lots.hpp"
#include "core/replenish/campaign.hpp"
#include "core/replenish/demand.hpp"
#include "core/replenish/policy.hpp"
#include "core/replenish/surge.hpp"

namespace depot::replenish {

// `lots`: how picks without a lot choose theirs, and when a lot is short-dated
// (docs/replenishment.md, "Lots and expiry").
struct LotSettings {
  lots::Picking picking = lots::Picking::kFefo;
  std::int64_t short_dated_days = 7;  // 0: no short_dated alarm
};

struct Settings {
  std::vector<Policy> policies;  // in name order
  std::vector<Campaign> campaigns;
  SurgeSettings surge;
  DemandSettings demand;
  LotSettings lots;
  std::vector<std::string> skus_without_policy;  // catalog order
  tz::Zone site_zone;  // demand days are its calendar days (Config::site_zone)

  const Policy* find_policy(std::string_view name) const;
};

// Reads `policies`, `campaigns`, `surge`, `demand` and `lots` from the top-level object `top`, then
// checks the catalog against them: a policy a catalog entry names must exist, `pin_demand`
// needs a `daily_demand`, a campaign's SKUs must be in the catalog. `entries` is what each
// entry of the config's `catalog` named (problems name an entry's place in it); `catalog`
// holds the entries that were read.
void read_settings(ObjectReader& top, const std::vector<CatalogEntryRefs>& entries,
                   const std::vector<CatalogItem>& catalog, Settings& out);

}  // namespace depot::replenish
