#include "sync/inbound_queue.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

namespace depot::sync {
namespace {

Inbound msg(const std::string& payload) { return Inbound{"depot/v1/s/g/cmd/x", payload, {}, {}}; }

// An MQTT 5 command's response topic and correlation data count against the byte bound (64
// KiB each: 1,000 queued commands held ~128 MB against 4 MiB).
TEST(InboundQueue, ResponseTopicAndCorrelationDataCountAgainstTheByteBound) {
  InboundQueue q;
  const std::string big(64 * 1024, 'c');
  std::size_t kept = 0;
  for (int i = 0; i < 100; ++i) {
    q.push(Inbound{"depot/v1/s/g/cmd/x", "{}", big, big});
  }
  for (bool more = true; more;) {
    auto s = q.take();
    kept += s.messages.size();
    more = s.more;
  }
  // 4 MiB / (128 KiB + a few bytes) = 31 messages.
  EXPECT_EQ(kept, 31u);
}

// A burst is taken kSlice at a time, in order; one take is scheduled at a time; what arrives
// past the bounds is counted, not kept, and said once by the next take.
TEST(InboundQueue, ABurstIsTakenASliceAtATimeInOrderAndTheExcessIsCountedNotKept) {
  InboundQueue q;
  EXPECT_TRUE(q.push(msg("0")));   // the first schedules a take
  EXPECT_FALSE(q.push(msg("1")));  // one is scheduled already
  for (std::size_t i = 2; i < InboundQueue::kMaxMessages + 5; ++i)
    EXPECT_FALSE(q.push(msg(std::to_string(i))));
  std::size_t next = 0;
  std::uint64_t dropped = 0;
  int takes = 0;
  for (bool more = true; more; ++takes) {
    auto s = q.take();
    ASSERT_LE(s.messages.size(), InboundQueue::kSlice);
    for (auto& m : s.messages) EXPECT_EQ(m.payload, std::to_string(next++));
    dropped += s.dropped;
    more = s.more;
  }
  EXPECT_EQ(next, InboundQueue::kMaxMessages);  // the first 1,000, in order
  EXPECT_EQ(dropped, 5u);
  EXPECT_EQ(takes, static_cast<int>(InboundQueue::kMaxMessages / InboundQueue::kSlice));
  // Empty again: the next push schedules a take, and nothing is counted twice.
  EXPECT_TRUE(q.push(msg("again")));
  auto s = q.take();
  ASSERT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.dropped, 0u);
  EXPECT_FALSE(s.more);
}

TEST(InboundQueue, BytesAreBoundedTooAndAnOversizedMessageAloneIsDroppedButStillSaid) {
  InboundQueue q;
  // Alone and too big (an MQTT 3.1.1 link has no Maximum Packet Size): dropped, but a take is
  // scheduled so the drop is logged.
  EXPECT_TRUE(q.push(msg(std::string(InboundQueue::kMaxBytes + 1, 'x'))));
  auto s = q.take();
  EXPECT_TRUE(s.messages.empty());
  EXPECT_EQ(s.dropped, 1u);
  EXPECT_FALSE(s.more);
  // Four of 1.5 MiB: two fit under 4 MiB, the others are dropped until some are taken.
  const std::string big(1536 * 1024, 'y');
  for (int i = 0; i < 4; ++i) q.push(msg(big));
  s = q.take();
  EXPECT_EQ(s.messages.size(), 2u);
  EXPECT_EQ(s.dropped, 2u);
  q.push(msg(big));  // room again
  s = q.take();
  EXPECT_EQ(s.messages.size(), 1u);
  EXPECT_EQ(s.dropped, 0u);
}

// Pushed from another thread (Paho's) while the loop takes: every message arrives once, in
// order, and exactly one take is ever scheduled at a time.
TEST(InboundQueue, PushesFromAnotherThreadArriveOnceInOrder) {
  InboundQueue q;
  constexpr int kN = 900;  // under the bound: nothing dropped
  std::atomic<int> scheduled{0};
  std::thread paho([&] {
    for (int i = 0; i < kN; ++i)
      if (q.push(msg(std::to_string(i)))) ++scheduled;
  });
  int next = 0;
  while (next < kN) {
    if (scheduled.load() == 0) {
      std::this_thread::yield();
      continue;
    }
    --scheduled;
    for (bool more = true; more;) {
      auto s = q.take();
      for (auto& m : s.messages) ASSERT_EQ(m.payload, std::to_string(next++));
      EXPECT_EQ(s.dropped, 0u);
      more = s.more;
    }
  }
  paho.join();
  EXPECT_EQ(next, kN);
  EXPECT_LE(scheduled.load(), 1);
}

}  // namespace
}  // namespace depot::sync
