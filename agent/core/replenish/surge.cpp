#include "core/replenish/surge.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace depot::replenish {
namespace {
constexpr std::int64_t kMinuteMs = 60'000;

std::int64_t minute_of(std::int64_t ms) {
  return ms >= 0 ? ms / kMinuteMs : (ms - kMinuteMs + 1) / kMinuteMs;
}
}  // namespace

std::string_view SurgeEvent::name() const {
  return kind == Kind::kStarted ? "demand_surge" : "demand_surge_ended";
}

SurgeDetector::SurgeDetector(const SurgeSettings& settings)
    : settings_(settings),
      minutes_(static_cast<std::size_t>(std::max(
                   {settings.short_window_minutes, settings.long_window_minutes, std::int64_t{1}})),
               0),
      events_(minutes_.size(), 0) {}

void SurgeDetector::advance_to(std::int64_t minute) {
  const auto size = static_cast<std::int64_t>(minutes_.size());
  if (latest_minute_ < 0) {
    latest_minute_ = minute;
    return;
  }
  if (minute <= latest_minute_) return;
  const std::int64_t first = std::max(latest_minute_ + 1, minute - size + 1);
  for (std::int64_t m = first; m <= minute; ++m) {
    minutes_[static_cast<std::size_t>(m % size)] = 0;
    events_[static_cast<std::size_t>(m % size)] = 0;
  }
  latest_minute_ = minute;
}

namespace {
std::int64_t sum_last(const std::vector<std::int64_t>& ring, std::int64_t latest,
                      std::int64_t minutes) {
  if (latest < 0) return 0;
  const auto size = static_cast<std::int64_t>(ring.size());
  std::int64_t sum = 0;
  for (std::int64_t m = latest - std::min(minutes, size) + 1; m <= latest; ++m)
    if (m >= 0) sum += ring[static_cast<std::size_t>(m % size)];
  return sum;
}
}  // namespace

std::int64_t SurgeDetector::units_in_last(std::int64_t minutes) const {
  return sum_last(minutes_, latest_minute_, minutes);
}

std::int64_t SurgeDetector::events_in_last(std::int64_t minutes) const {
  return sum_last(events_, latest_minute_, minutes);
}

double SurgeDetector::rate_per_hour(std::int64_t mono_ms, double expected_per_hour) const {
  if (!in_surge_) return expected_per_hour;
  const double excess = std::max(peak_per_hour_ - expected_per_hour, 0.0);
  const double elapsed_min = static_cast<double>(std::max(mono_ms - peak_ms_, std::int64_t{0})) /
                             static_cast<double>(kMinuteMs);
  return expected_per_hour +
         excess * std::exp2(-elapsed_min / static_cast<double>(settings_.half_life_minutes));
}

SurgeProjection SurgeDetector::projection(std::int64_t mono_ms, double expected_per_hour) const {
  if (!in_surge_) return {};
  return {(rate_per_hour(mono_ms, expected_per_hour) - expected_per_hour) * 24,
          static_cast<double>(settings_.half_life_minutes) / 1440.0};
}

std::optional<SurgeEvent> SurgeDetector::pick(std::int64_t mono_ms, std::int64_t wall_ms,
                                              std::int64_t quantity, double expected_per_hour) {
  return update(mono_ms, wall_ms, quantity, expected_per_hour);
}

std::optional<SurgeEvent> SurgeDetector::tick(std::int64_t mono_ms, std::int64_t wall_ms,
                                              double expected_per_hour) {
  return update(mono_ms, wall_ms, 0, expected_per_hour);
}

std::optional<SurgeEvent> SurgeDetector::update(std::int64_t mono_ms, std::int64_t wall_ms,
                                                std::int64_t quantity, double expected_per_hour) {
  const std::int64_t t = latest_minute_ < 0 ? mono_ms : std::max(mono_ms, latest_ms_);
  latest_ms_ = t;
  advance_to(minute_of(t));
  const auto size = static_cast<std::int64_t>(minutes_.size());
  minutes_[static_cast<std::size_t>(latest_minute_ % size)] += std::max<std::int64_t>(quantity, 0);
  if (quantity > 0) ++events_[static_cast<std::size_t>(latest_minute_ % size)];

  struct Window {
    std::int64_t minutes, units, events;
    double rate;
  };
  const std::array<std::int64_t, 2> lengths{settings_.short_window_minutes,
                                            settings_.long_window_minutes};
  std::array<Window, 2> w{};
  for (std::size_t i = 0; i < w.size(); ++i) {
    const std::int64_t units = units_in_last(lengths[i]);
    w[i] = {lengths[i], units, events_in_last(lengths[i]),
            static_cast<double>(units) * 60.0 / static_cast<double>(lengths[i])};
  }
  auto counts = [&](const Window& x) {
    return x.units >= settings_.min_units && x.events >= settings_.min_events;
  };
  auto event = [&](SurgeEvent::Kind kind, const Window& x) {
    return SurgeEvent{kind, wall_ms, x.minutes, x.units, x.rate, expected_per_hour};
  };

  double observed = 0;  // the highest rate among windows holding enough units and picks
  for (const auto& x : w)
    if (counts(x)) observed = std::max(observed, x.rate);
  // How far one window may be extrapolated: at most max_ratio x the expected rate.
  if (expected_per_hour > 0) observed = std::min(observed, settings_.max_ratio * expected_per_hour);

  if (!in_surge_) {
    for (const auto& x : w) {
      if (counts(x) && x.rate >= settings_.enter_ratio * expected_per_hour) {
        in_surge_ = true;
        peak_per_hour_ = observed;
        peak_ms_ = t;
        calm_since_ms_.reset();
        return event(SurgeEvent::Kind::kStarted, x);
      }
    }
    return std::nullopt;
  }

  if (observed > rate_per_hour(t, expected_per_hour)) {
    peak_per_hour_ = observed;
    peak_ms_ = t;
  }
  const bool calm = std::all_of(w.begin(), w.end(), [&](const Window& x) {
    return !counts(x) || x.rate < settings_.exit_ratio * expected_per_hour;
  });
  if (!calm) {
    calm_since_ms_.reset();
    return std::nullopt;
  }
  if (!calm_since_ms_) calm_since_ms_ = t;
  if (t - *calm_since_ms_ < settings_.exit_hold_minutes * kMinuteMs) return std::nullopt;
  in_surge_ = false;
  peak_per_hour_ = 0;
  calm_since_ms_.reset();
  return event(SurgeEvent::Kind::kEnded, w.back());
}

}  // namespace depot::replenish
