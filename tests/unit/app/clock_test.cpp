// depot::instant_now: both clocks of one instant and the kernel's NTP sync state.
#include "base/clock.hpp"

#include <gtest/gtest.h>
#include <sys/timex.h>

#include <chrono>

namespace depot::app {
namespace {

TEST(InstantNow, ReadsTheMonotonicAndWallClocks) {
  const auto wall_before = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const auto mono_before = mono_now_ns();
  const auto at = instant_now();
  const auto mono_after = mono_now_ns();
  const auto wall_after = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  EXPECT_GE(at.mono_ns, mono_before);
  EXPECT_LE(at.mono_ns, mono_after);
  EXPECT_GE(at.wall_ms, wall_before);
  EXPECT_LE(at.wall_ms, wall_after);
}

// The flag is what the kernel says (adjtimex, read-only): STA_UNSYNC or an error state.
TEST(InstantNow, FlagsAnUnsynchronisedClockAsTheKernelReportsIt) {
  timex tx{};
  const int state = ::adjtimex(&tx);
  const bool kernel_unsync = state < 0 || state == TIME_ERROR || (tx.status & STA_UNSYNC) != 0;
  EXPECT_EQ(clock_unsynchronized(), kernel_unsync);
  EXPECT_EQ(instant_now().clock_unsynchronized, kernel_unsync);
}

}  // namespace
}  // namespace depot::app
