// Daily demand of one SKU, estimated from its picks. The tracker is fed one complete day at a
// time (units picked, units returned); returns are their own figure, never negative demand.
//
//  * Warm-up: for the first `min_history_days` days (default 14) the tracker keeps the plain
//    mean and sample variance. Until then the catalog's `daily_demand`/`daily_demand_sd`
//    stand in (when given); without them the warm-up figures are used as they are.
//  * Smoothed rate: from then on an exponentially weighted mean and variance over the daily
//    buckets, both with `alpha` (default 0.1, i.e. a memory of roughly 2/alpha - 1 = 19
//    days): delta = x - mean; mean += alpha*delta; var = (1 - alpha)*(var + alpha*delta^2).
//  * Intermittent demand: TSB (Teunter-Syntetos-Babai) runs beside it. Every day the
//    probability of a demand day moves toward 1 (demand) or 0 (none) with `tsb_beta`; on a
//    demand day the size moves toward the day's units with `alpha`; the rate is p * size.
//    A SKU is intermittent when its share of zero-demand days, 1 - p, is at least
//    `intermittent_zero_share` (default 0.25, i.e. an average demand interval of 1.33 days,
//    next to the Syntetos-Boylan cut-off 1.32); its rate is then TSB's. Unlike Croston, TSB
//    decays while a SKU stops selling, so dead stock is not reordered on old sales.
//  * Variability: the EW standard deviation of the daily buckets, zero days included, for
//    smooth and intermittent SKUs alike.
//  * A catalog entry with `pin_demand` uses its catalog figures whatever the history says.
//    A catalog figure without a standard deviation gets sqrt(daily_demand) (Poisson).
// Pure; the tracker is a small value the store can keep per SKU.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/catalog.hpp"

namespace depot::replenish {

struct DemandSettings {
  double alpha = 0.1;                     // EW weight of a new day for the mean, sd and size
  double tsb_beta = 0.1;                  // EW weight for the probability of a demand day
  std::int64_t min_history_days = 14;     // days before the history replaces the catalog
  double intermittent_zero_share = 0.25;  // at or above: the SKU is intermittent (TSB)
};

enum class DemandSource {
  kNone,          // no history and no catalog figure: demand unknown (0)
  kShortHistory,  // fewer than min_history_days and no catalog figure: warm-up mean and sd
  kCatalog,       // fewer than min_history_days: the catalog's figures stand in
  kPinned,        // the catalog entry pins its figures
  kSmoothed,      // EW mean and sd of the daily buckets
  kIntermittent,  // TSB rate, EW sd
};
std::string_view to_string(DemandSource s);

struct DemandEstimate {
  double daily = 0;          // expected units per day
  double sd = 0;             // standard deviation of one day's units
  double returns_daily = 0;  // returned units per day (EW mean), reported on its own
  double zero_share = 0;     // share of days without demand (TSB's 1 - p once warmed up)
  std::int64_t history_days = 0;
  DemandSource source = DemandSource::kNone;
};

// The catalog's stand-in or pinned figures for one SKU: all the estimate needs of its entry.
struct DemandPrior {
  std::optional<double> daily_demand;
  std::optional<double> daily_demand_sd;
  bool pin_demand = false;
  DemandPrior() = default;
  DemandPrior(const CatalogItem& item)  // NOLINT(google-explicit-constructor): an item is one
      : daily_demand(item.daily_demand),
        daily_demand_sd(item.daily_demand_sd),
        pin_demand(item.pin_demand) {}
};

class DemandTracker {
 public:
  // Adds one complete day. REQUIRES: picked >= 0, returned >= 0; days in order, none skipped
  // (a day without picks is a 0).
  void add_day(const DemandSettings& s, double picked, double returned = 0);

  // The estimate after the days added so far; `prior` supplies the stand-in or pinned figures.
  DemandEstimate estimate(const DemandSettings& s, const DemandPrior& prior) const;

  std::int64_t days() const { return days_; }

 private:
  std::int64_t days_ = 0;
  double mean_ = 0;  // warm-up: running mean; then the EW mean
  double var_ = 0;   // warm-up: Welford's sum of squared deviations; then the EW variance
  double nonzero_days_ = 0, nonzero_units_ = 0;  // warm-up only, to start TSB
  double tsb_p_ = 0, tsb_size_ = 0;
  double returns_ = 0;  // warm-up: running mean; then EW mean
};

}  // namespace depot::replenish
