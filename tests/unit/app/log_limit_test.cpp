// The repeat limiter with time passed in: what passes, what is counted, and the one summary
// line that reports what was suppressed.
#include "app/log_limit.hpp"

#include <gtest/gtest.h>

namespace depot::app {
namespace {
using namespace std::chrono_literals;
using Time = RepeatLimiter::Time;

const Time t0{};

TEST(RepeatLimiter, TheFirstBurstPassesThenLinesAreCounted) {
  RepeatLimiter limit(60s, 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limit.admit("scanner dock-1", t0 + i * 1s).emit);
  for (int i = 3; i < 10; ++i) EXPECT_FALSE(limit.admit("scanner dock-1", t0 + i * 1s).emit);
  // The first line after the window passes and carries the count of what was suppressed.
  auto a = limit.admit("scanner dock-1", t0 + 60s);
  EXPECT_TRUE(a.emit);
  EXPECT_EQ(a.suppressed, 7u);
  // A new window has begun: nothing left to report.
  EXPECT_EQ(limit.admit("scanner dock-1", t0 + 61s).suppressed, 0u);
}

TEST(RepeatLimiter, KeysAreLimitedSeparately) {
  RepeatLimiter limit(10s, 1);
  EXPECT_TRUE(limit.admit("scanner a", t0).emit);
  EXPECT_FALSE(limit.admit("scanner a", t0 + 1s).emit);
  EXPECT_TRUE(limit.admit("scanner b", t0 + 1s).emit);
  EXPECT_FALSE(limit.admit("scanner b", t0 + 2s).emit);
}

TEST(RepeatLimiter, ExpireReportsWindowsThatEndedWithSuppressedLines) {
  RepeatLimiter limit(10s, 1);
  (void)limit.admit("scanner a", t0, 4);
  (void)limit.admit("scanner a", t0 + 1s, 4);
  (void)limit.admit("scanner a", t0 + 2s, 4);
  (void)limit.admit("notify", t0 + 5s);        // alone in its window: nothing to report
  EXPECT_TRUE(limit.expire(t0 + 9s).empty());  // no window has ended yet
  auto done = limit.expire(t0 + 10s);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].key, "scanner a");
  EXPECT_EQ(done[0].suppressed, 2u);
  EXPECT_EQ(done[0].tag, 4);
  EXPECT_EQ(limit.tracked(), 1u);  // "notify" still in its window
  EXPECT_TRUE(limit.expire(t0 + 15s).empty());
  EXPECT_EQ(limit.tracked(), 0u);
  // After expiry the key starts afresh, with no count carried over.
  auto a = limit.admit("scanner a", t0 + 20s);
  EXPECT_TRUE(a.emit);
  EXPECT_EQ(a.suppressed, 0u);
}

TEST(RepeatLimiter, MemoryStaysBoundedWhateverTheKeys) {
  RepeatLimiter limit(60s, 1, 4);
  for (int i = 0; i < 100; ++i)
    EXPECT_TRUE(limit.admit("key " + std::to_string(i), t0 + i * 1ms).emit);
  EXPECT_EQ(limit.tracked(), 4u);
  // Once the tracked windows have ended, room is made for new keys.
  EXPECT_TRUE(limit.admit("late", t0 + 61s).emit);
  EXPECT_FALSE(limit.admit("late", t0 + 62s).emit);
}

}  // namespace
}  // namespace depot::app
