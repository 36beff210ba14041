#include "core/replenish/demand.hpp"

#include <algorithm>
#include <cmath>

namespace depot::replenish {

std::string_view to_string(DemandSource s) {
  switch (s) {
    case DemandSource::kNone:
      return "none";
    case DemandSource::kShortHistory:
      return "short_history";
    case DemandSource::kCatalog:
      return "catalog";
    case DemandSource::kPinned:
      return "pinned";
    case DemandSource::kSmoothed:
      return "smoothed";
    case DemandSource::kIntermittent:
      return "intermittent";
  }
  return "none";
}

void DemandTracker::add_day(const DemandSettings& s, double picked, double returned) {
  ++days_;
  const auto n = static_cast<double>(days_);
  if (days_ <= s.min_history_days) {
    const double delta = picked - mean_;
    mean_ += delta / n;
    var_ += delta * (picked - mean_);
    returns_ += (returned - returns_) / n;
    if (picked > 0) {
      nonzero_days_ += 1;
      nonzero_units_ += picked;
    }
    if (days_ == s.min_history_days) {  // warm-up done: hand over to the smoothed figures
      var_ = days_ > 1 ? var_ / (n - 1) : 0;
      tsb_p_ = nonzero_days_ / n;
      tsb_size_ = nonzero_days_ > 0 ? nonzero_units_ / nonzero_days_ : 0;
    }
    return;
  }
  const double delta = picked - mean_;
  mean_ += s.alpha * delta;
  var_ = (1 - s.alpha) * (var_ + s.alpha * delta * delta);
  returns_ += s.alpha * (returned - returns_);
  tsb_p_ += s.tsb_beta * ((picked > 0 ? 1.0 : 0.0) - tsb_p_);
  if (picked > 0) tsb_size_ += s.alpha * (picked - tsb_size_);
}

DemandEstimate DemandTracker::estimate(const DemandSettings& s, const DemandPrior& item) const {
  DemandEstimate e;
  e.history_days = days_;
  e.returns_daily = returns_;
  const bool warm = days_ >= s.min_history_days;
  const auto n = static_cast<double>(days_);
  e.zero_share = warm ? 1 - tsb_p_ : (days_ > 0 ? 1 - nonzero_days_ / n : 0);

  auto from_catalog = [&](DemandSource source) {
    e.daily = *item.daily_demand;
    e.sd = item.daily_demand_sd.value_or(std::sqrt(e.daily));
    e.source = source;
  };
  if (item.daily_demand && item.pin_demand) {
    from_catalog(DemandSource::kPinned);
  } else if (!warm && item.daily_demand) {
    from_catalog(DemandSource::kCatalog);
  } else if (!warm) {
    e.daily = mean_;
    e.sd = days_ > 1 ? std::sqrt(var_ / (n - 1)) : 0;
    e.source = days_ > 0 ? DemandSource::kShortHistory : DemandSource::kNone;
  } else {
    e.sd = std::sqrt(std::max(var_, 0.0));
    if (e.zero_share >= s.intermittent_zero_share) {
      e.daily = tsb_p_ * tsb_size_;
      e.source = DemandSource::kIntermittent;
    } else {
      e.daily = mean_;
      e.source = DemandSource::kSmoothed;
    }
  }
  return e;
}

}  // namespace depot::replenish
