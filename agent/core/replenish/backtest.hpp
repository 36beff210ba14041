// Backtesting a policy: replay a demand history through the same demand tracker, `evaluate`
// and proposal transitions the agent uses, with simulated lead times, and report what a
// buyer tunes a policy by - fill rate, stockout days, average on hand, orders placed.
//
// The history is CSV text, one line per (date, sku, quantity):
//     date,sku,quantity          <- optional header
//     2026-11-01,LIPTINT-07,12
// Blank lines and lines starting with '#' are skipped; several lines for one SKU and day
// add up. A bad line is reported with its line number and reason and left out.
//
// Simulation, day by day over the history's dates (first to last date in the file):
//  1. deliveries due that day arrive (received in full) before trading;
//  2. the day's demand is filled from on hand; what cannot be filled is lost (no
//     backorders), and a day with lost demand is a stockout day;
//  3. the demand tracker learns the units actually picked (as the agent would: it never
//     sees demand it could not fill);
//  4. at the end of the day the policy is evaluated; a proposal is placed and acknowledged
//     at once with the ETA its supplier promises (its lead time rounded up to whole days),
//     and arrives at the start of day D + 1 + that lead time + the next entry of
//     `extra_delay_days` (cycled; empty: none) - lateness the policy does not see coming,
//     so a buyer can ask what late deliveries would do.
// Pure.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.hpp"
#include "core/replenish/campaign.hpp"
#include "core/replenish/demand.hpp"
#include "core/replenish/policy.hpp"

namespace depot::replenish {

struct DemandRow {
  std::int64_t day = 0;  // days since 1970-01-01
  std::string sku;
  std::int64_t quantity = 0;
};

struct DemandHistoryText {
  std::vector<DemandRow> rows;        // in file order
  std::vector<std::string> problems;  // "line 4: ..." for each line left out
};

DemandHistoryText parse_demand_csv(std::string_view text);

struct BacktestOptions {
  std::int64_t initial_on_hand = 0;
  DemandSettings demand;
  std::vector<std::int64_t> extra_delay_days;  // per order, cycled
  std::span<const Campaign* const> campaigns;  // targeting this SKU, if any
};

struct BacktestReport {
  std::int64_t days = 0;
  std::int64_t demand_units = 0;
  std::int64_t filled_units = 0;
  std::int64_t lost_units = 0;
  double fill_rate = 1;            // filled / demand (1 when there was no demand)
  std::int64_t stockout_days = 0;  // days with lost demand
  double average_on_hand = 0;      // end-of-day on hand, averaged over the days
  std::int64_t orders_placed = 0;
  std::int64_t urgent_orders = 0;
  std::int64_t units_ordered = 0;
  std::int64_t ending_on_hand = 0;
};

// Replays `rows` for `item.sku` (whose catalog figures stand in for demand while history is
// short) under `policy`.
BacktestReport backtest(std::span<const DemandRow> rows, const CatalogItem& item,
                        const Policy& policy, const BacktestOptions& options);

}  // namespace depot::replenish
