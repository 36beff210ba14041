#include "base/log_limit.hpp"

namespace depot {

RepeatLimiter::RepeatLimiter(std::chrono::nanoseconds window, std::uint32_t burst,
                             std::size_t max_keys)
    : window_(window), burst_(burst), max_keys_(max_keys) {}

RepeatLimiter::Admission RepeatLimiter::admit(std::string_view key, Time now, int tag) {
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    if (keys_.size() >= max_keys_) {
      (void)expire(now);  // summaries of expired keys are lost only when the table is full
      if (keys_.size() >= max_keys_) return {};
    }
    keys_.emplace(std::string(key), Window{now, 1, 0, tag});
    return {};
  }
  Window& w = it->second;
  w.tag = tag;
  if (now - w.start >= window_) {
    Admission a{true, w.suppressed};
    w = Window{now, 1, 0, tag};
    return a;
  }
  if (w.emitted < burst_) {
    ++w.emitted;
    return {};
  }
  ++w.suppressed;
  return {false, 0};
}

std::vector<RepeatLimiter::Summary> RepeatLimiter::expire(Time now) {
  std::vector<Summary> out;
  for (auto it = keys_.begin(); it != keys_.end();) {
    if (now - it->second.start >= window_) {
      if (it->second.suppressed > 0)
        out.push_back({it->first, it->second.suppressed, it->second.tag});
      it = keys_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

}  // namespace depot
