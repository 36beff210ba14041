#include "sync/backoff.hpp"

#include <algorithm>

namespace depot::sync {

std::chrono::milliseconds Backoff::ceiling() const {
  auto c = min_.count();
  for (int i = 0; i <= attempt_ && c < max_.count(); ++i) c *= 2;
  return std::chrono::milliseconds(std::min(c, max_.count()));
}

std::chrono::milliseconds Backoff::next(double jitter) {
  auto top = ceiling().count();
  jitter = std::clamp(jitter, 0.0, 1.0);
  auto span = static_cast<double>(top - min_.count());
  ++attempt_;
  return std::chrono::milliseconds(min_.count() + static_cast<std::int64_t>(span * jitter));
}

}  // namespace depot::sync
