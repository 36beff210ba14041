// Which outbox stream drains next, and how fast. After an outage the backlog leaves by
// priority: alarms and reorders first, then movements, stock, rejects and audit, then
// telemetry. Within a priority class the streams take turns; within a stream the order is
// always seq order (the publisher reads each stream in seq order). `DrainRate` is a token
// bucket in records per second that keeps a reconnecting fleet from flooding the cloud.
// Pure: times are handed in. Thread-safety: plain values; use from one thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace depot::sync {

// The streams the agent publishes, highest priority first.
const std::vector<std::string>& stream_names();
// True for a stream this protocol version defines.
bool is_stream(std::string_view stream);
// 0 = alarms, reorders; 1 = movements, stock, rejects, audit (and any stream not listed);
// 2 = telemetry. Lower drains first.
int stream_priority(std::string_view stream);

class DrainOrder {
 public:
  // The stream to send from next among `ready` (streams with records not yet in flight):
  // the highest priority class present, and within it the stream after the one chosen last
  // time (round robin). nullopt when `ready` is empty.
  std::optional<std::string> next(const std::vector<std::string>& ready);

 private:
  std::string last_;
};

class DrainRate {
 public:
  // `per_s` records per second (0 = unlimited); the bucket holds at most `burst` records.
  DrainRate(std::int64_t per_s, std::int64_t burst);

  // Records that may leave now, at monotonic time `now_ns`.
  std::int64_t available(std::int64_t now_ns);
  void take(std::int64_t records);
  // Nanoseconds from `now_ns` until `records` may leave (0 when they may leave now).
  std::int64_t wait_ns(std::int64_t records, std::int64_t now_ns);
  bool unlimited() const { return per_s_ == 0; }

 private:
  void refill(std::int64_t now_ns);
  std::int64_t per_s_, burst_;
  double tokens_;
  std::optional<std::int64_t> last_ns_;
};

}  // namespace depot::sync
