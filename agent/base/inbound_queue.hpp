// Messages from a client library's threads (Paho's) to the loop, bounded, and handed over a
// few at a time. Each message posted as its own loop handler let a burst of 20,000 cloud
// commands (each a durable transaction) run ahead of every timer: the loop stalled 25-105 s
// (the watchdog is 30 s) and healthy probes were declared offline. Now the loop takes at most
// kSlice messages per turn, then queues its next turn behind the timers and sockets; and what
// arrives while kMaxMessages or kMaxBytes wait is dropped and counted. Used by the cloud link
// (sync/mqtt_link) and the MQTT probes' client (drivers/sensor/mqtt).
// `Message` has `topic` and `payload` strings (their sizes are what is counted).
// Thread-safety: push from any thread; take from the loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

namespace depot {

template <class Message>
class InboundQueue {
 public:
  static constexpr std::size_t kMaxMessages = 1000;
  static constexpr std::size_t kMaxBytes = 4 * 1024 * 1024;
  static constexpr std::size_t kSlice = 8;

  // Keeps `in` (or counts it dropped). True when the caller must schedule a take() on the
  // loop: none is scheduled yet.
  bool push(Message in) {
    std::lock_guard lock(mu_);
    const auto size = size_of(in);
    if (queue_.size() >= kMaxMessages || bytes_ + size > kMaxBytes) {
      ++dropped_;
    } else {
      bytes_ += size;
      queue_.push_back(std::move(in));
    }
    if (scheduled_) return false;
    scheduled_ = true;
    return true;
  }

  struct Slice {
    std::vector<Message> messages;  // at most kSlice, in arrival order
    std::uint64_t dropped = 0;      // dropped since the last take
    bool more = false;              // messages are left: schedule another take() (first)
  };
  Slice take() {
    Slice s;
    std::lock_guard lock(mu_);
    while (s.messages.size() < kSlice && !queue_.empty()) {
      bytes_ -= size_of(queue_.front());
      s.messages.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    s.dropped = std::exchange(dropped_, 0);
    s.more = !queue_.empty();
    scheduled_ = s.more;  // else the next push schedules
    return s;
  }

 private:
  // Everything a message holds: an MQTT 5 command's response topic and correlation data
  // (64 KiB each) too, or 1,000 queued commands could hold ~128 MB against the 4 MiB bound.
  static std::size_t size_of(const Message& m) {
    std::size_t n = m.topic.size() + m.payload.size();
    if constexpr (requires { m.response_topic; m.correlation; })
      n += (m.response_topic ? m.response_topic->size() : 0) +
           (m.correlation ? m.correlation->size() : 0);
    return n;
  }

  std::mutex mu_;
  std::deque<Message> queue_;
  std::size_t bytes_ = 0;
  std::uint64_t dropped_ = 0;
  bool scheduled_ = false;
};

}  // namespace depot
