// The repeat limiter with time passed in: what passes, what is counted, and the one summary
// line that reports what was suppressed. Then the real daemon: a scanner sending noise is
// rate limited in the log while every reject is still recorded.
#include "base/log_limit.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "test_support.hpp"

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

// Rows in the daemon's rejects table, read through a separate read-only connection (WAL).
std::int64_t rejects_in(const std::string& db_path) {
  sqlite3* db = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM rejects", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

TEST(RepeatLimiterInTheDaemon, NoiseFromAScannerIsLimitedInTheLogButEveryRejectIsKept) {
  test::TempDir dir;
  auto cfg = nlohmann::json::parse(test::sample_config("depot.db"));
  cfg["scanners"] = {{{"id", "dock1"}, {"role", "receive"}, {"driver", "stdin"}}};
  test::write_file(dir.file("agent.json"), cfg.dump());
  int in[2];
  ASSERT_EQ(pipe(in), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(in[0], 0);
    close(in[0]), close(in[1]);
    int err = open(dir.file("stderr.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(err, 2);
    test::exec_agent({"run", "-c", dir.file("agent.json")});
  }
  close(in[0]);
  constexpr int kNoise = 20;
  std::string noise;
  for (int i = 0; i < kNoise; ++i) noise += "NOISE-" + std::to_string(i) + "\n";
  ASSERT_EQ(write(in[1], noise.data(), noise.size()), static_cast<ssize_t>(noise.size()));
  // Wait (bounded) until all of them are recorded.
  std::int64_t recorded = -1;
  for (int i = 0; i < 300 && recorded < kNoise; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    recorded = rejects_in(dir.file("depot.db"));
  }
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  close(in[1]);
  EXPECT_EQ(recorded, kNoise);
  std::ifstream f(dir.file("stderr.log"));
  std::stringstream log;
  log << f.rdbuf();
  int lines = 0;
  for (std::string line; std::getline(log, line);)
    if (line.find("scanner dock1: rejected \"NOISE-") != std::string::npos) ++lines;
  EXPECT_EQ(lines, 3) << log.str();  // the burst; the rest are counted for the summary line
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log.str();
}

}  // namespace
}  // namespace depot::app
