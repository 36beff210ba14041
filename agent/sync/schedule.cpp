#include "sync/schedule.hpp"

#include <algorithm>
#include <limits>

namespace depot::sync {

const std::vector<std::string>& stream_names() {
  static const std::vector<std::string> kNames{"alarms", "reorders",  "movements", "orders",
                                               "stock",  "rejects",   "audit",     "telemetry"};
  return kNames;
}

bool is_stream(std::string_view s) {
  const auto& n = stream_names();
  return std::find(n.begin(), n.end(), s) != n.end();
}

int stream_priority(std::string_view s) {
  if (s == "alarms" || s == "reorders") return 0;
  if (s == "telemetry") return 2;
  return 1;
}

std::optional<std::string> DrainOrder::next(const std::vector<std::string>& ready) {
  if (ready.empty()) return std::nullopt;
  int best = std::numeric_limits<int>::max();
  for (const auto& s : ready) best = std::min(best, stream_priority(s));
  std::vector<std::string> cls;
  for (const auto& s : ready)
    if (stream_priority(s) == best) cls.push_back(s);
  std::sort(cls.begin(), cls.end());
  // Round robin: the first stream (by name) after the last one chosen, wrapping around.
  auto it = std::upper_bound(cls.begin(), cls.end(), last_);
  last_ = it == cls.end() ? cls.front() : *it;
  return last_;
}

DrainRate::DrainRate(std::int64_t per_s, std::int64_t burst)
    : per_s_(per_s),
      burst_(std::max<std::int64_t>(burst, 1)),
      tokens_(static_cast<double>(burst_)) {}

void DrainRate::refill(std::int64_t now_ns) {
  if (last_ns_ && now_ns > *last_ns_)
    tokens_ =
        std::min(static_cast<double>(burst_), tokens_ + static_cast<double>(now_ns - *last_ns_) *
                                                            1e-9 * static_cast<double>(per_s_));
  if (!last_ns_ || now_ns > *last_ns_) last_ns_ = now_ns;
}

std::int64_t DrainRate::available(std::int64_t now_ns) {
  if (per_s_ == 0) return std::numeric_limits<std::int64_t>::max();
  refill(now_ns);
  return static_cast<std::int64_t>(tokens_ + 1e-6);  // not 9 for 9.9999999 of rounding
}

void DrainRate::take(std::int64_t records) {
  if (per_s_ != 0) tokens_ -= static_cast<double>(records);
}

std::int64_t DrainRate::wait_ns(std::int64_t records, std::int64_t now_ns) {
  if (per_s_ == 0) return 0;
  refill(now_ns);
  double missing = static_cast<double>(std::min(records, burst_)) - tokens_;
  if (missing <= 0) return 0;
  return static_cast<std::int64_t>(missing * 1e9 / static_cast<double>(per_s_)) + 1;
}

}  // namespace depot::sync
