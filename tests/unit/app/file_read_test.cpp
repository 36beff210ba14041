// base/file_read against real files, FIFOs, pipes, a folder and a device: what each reads as,
// and that nothing waits longer than its bound.
#include "base/file_read.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>

#include "test_support.hpp"

namespace depot {
namespace {

using namespace std::chrono_literals;
using O = FileRead::Outcome;

TEST(FileRead, AFileAFolderADeviceAndASizeBound) {
  test::TempDir dir;
  test::write_file(dir.file("a.txt"), "hello");
  auto r = read_file_bounded(dir.file("a.txt"), {16});
  EXPECT_EQ(r.outcome, O::kRead);
  EXPECT_EQ(r.text, "hello");
  r = read_file_bounded(dir.file("a.txt"), {4});  // by its size, nothing read
  EXPECT_EQ(r.outcome, O::kTooLarge);
  EXPECT_EQ(r.size, 5u);
  r = read_file_bounded(dir.path().string(), {16});
  EXPECT_EQ(r.outcome, O::kCannotRead);
  EXPECT_EQ(r.err, EISDIR);
  r = read_file_bounded(dir.file("none"), {16});
  EXPECT_EQ(r.outcome, O::kCannotRead);
  EXPECT_EQ(r.err, ENOENT);
  r = read_file_bounded("/dev/zero", {16, true});  // a device, even where pipes are read
  EXPECT_EQ(r.outcome, O::kNotRegular);
  EXPECT_STREQ(not_regular_text({16, true}), "is not a regular file or a pipe (a device or socket)");
}

TEST(FileRead, AFifoWithoutAWriterIsEmptyAtOnceOrRefused) {
  test::TempDir dir;
  const auto fifo = dir.file("f");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = read_file_bounded(fifo, {16, true});
  EXPECT_EQ(r.outcome, O::kRead);
  EXPECT_EQ(r.text, "");
  r = read_file_bounded(fifo, {16});  // pipes not taken: refused unread
  EXPECT_EQ(r.outcome, O::kNotRegular);
}

// A pipe is read to its end; one whose writer drips a byte every 50 ms and never closes it is
// stopped at `pipe_wait` in all (not per wait), and one longer than the bound says so.
TEST(FileRead, APipeIsReadToItsEndWithinItsWaitInAll) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const auto path = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fds[0]);
  std::thread writer([&] {
    for (int i = 0; i < 3; ++i) {
      std::this_thread::sleep_for(30ms);
      ASSERT_EQ(::write(fds[1], "ab", 2), 2);
    }
    ::close(fds[1]);
  });
  auto r = read_file_bounded(path, {64, true, 2000ms});
  writer.join();
  EXPECT_EQ(r.outcome, O::kRead);
  EXPECT_EQ(r.text, "ababab");
  ::close(fds[0]);

  ASSERT_EQ(::pipe(fds), 0);
  const auto drip = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fds[0]);
  std::atomic<bool> stop{false};
  std::thread dripper([&] {
    while (!stop) {
      (void)::write(fds[1], "x", 1);
      std::this_thread::sleep_for(50ms);
    }
  });
  r = read_file_bounded(drip, {1 << 20, true, 300ms});
  stop = true;
  dripper.join();
  EXPECT_EQ(r.outcome, O::kPipeSilent);  // (per wait, each 50 ms byte would have reset it)
  ::close(fds[0]);
  ::close(fds[1]);

  ASSERT_EQ(::pipe(fds), 0);
  const auto big = "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fds[0]);
  ASSERT_EQ(::write(fds[1], "0123456789", 10), 10);
  ::close(fds[1]);
  r = read_file_bounded(big, {4, true});
  EXPECT_EQ(r.outcome, O::kTooLarge);
  EXPECT_EQ(r.text, "01234");  // max_bytes + 1
  ::close(fds[0]);
}

}  // namespace
}  // namespace depot
