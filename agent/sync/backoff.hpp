// Reconnect delays: exponential growth from `min` to `max` with full jitter, so that two
// hundred gateways that lost the same broker do not all knock again in the same second.
// The n-th delay (n = 0, 1, ...) is drawn uniformly from [min, min(max, min * 2^(n+1))]: the
// first too (a broker restart dropped a whole fleet at once, and every gateway knocked again
// exactly `min` later). The random draw is handed in (`jitter` in [0, 1)), so the arithmetic
// is pure and testable.
// Thread-safety: a plain value; use from one thread.
#pragma once

#include <chrono>

namespace depot::sync {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max) : min_(min), max_(max) {}

  // The delay before the next attempt. REQUIRES: 0 <= jitter < 1.
  std::chrono::milliseconds next(double jitter);
  // The ceiling the next draw would use (for logs and tests).
  std::chrono::milliseconds ceiling() const;
  // After a connection that lasted (MqttLink: kBackoffResetAfter): start again from `min`.
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  std::chrono::milliseconds min_, max_;
  int attempt_ = 0;
};

}  // namespace depot::sync
