// Messages from Paho's threads to the loop, bounded, and handed over a few at a time.
// Each message posted as its own loop handler let a burst of 20,000 commands (each a durable
// transaction) run ahead of every timer: the loop stalled 25-105 s (the watchdog is 30 s) and
// healthy probes were declared offline. Now the loop takes at most kSlice messages per turn,
// then queues its next turn behind the timers and sockets; and what arrives while kMaxMessages
// or kMaxBytes wait is dropped and counted (its sender gets no reply and resends).
// Thread-safety: push from any thread; take from the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "sync/mqtt_link_types.hpp"

namespace depot::sync {

class InboundQueue {
 public:
  static constexpr std::size_t kMaxMessages = 1000;
  static constexpr std::size_t kMaxBytes = 4 * 1024 * 1024;
  static constexpr std::size_t kSlice = 8;

  // Keeps `in` (or counts it dropped). True when the caller must schedule a take() on the
  // loop: none is scheduled yet.
  bool push(Inbound in);

  struct Slice {
    std::vector<Inbound> messages;  // at most kSlice, in arrival order
    std::uint64_t dropped = 0;      // dropped since the last take
    bool more = false;              // messages are left: schedule another take() (first)
  };
  Slice take();

 private:
  std::mutex mu_;
  std::deque<Inbound> queue_;
  std::size_t bytes_ = 0;
  std::uint64_t dropped_ = 0;
  bool scheduled_ = false;
};

}  // namespace depot::sync
