// The sd_notify protocol: the pure helpers, then the real `depot-agent run` talking to a real
// unix datagram socket that the test binds (as systemd would) — READY, STATUS, periodic
// WATCHDOG, RELOADING on SIGHUP, STOPPING on SIGTERM — and proof that the watchdog pings stop
// while the process cannot run its event loop (SIGSTOP), and resume after SIGCONT.
#include "app/notify.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "store/database.hpp"
#include "test_support.hpp"

namespace depot::app {
namespace {
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

TEST(NotifySocket, APathIsUsedAsIsWithItsTerminatingNul) {
  auto a = parse_notify_socket("/run/systemd/notify");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_STREQ(a->addr.sun_path, "/run/systemd/notify");
  EXPECT_EQ(a->length, offsetof(sockaddr_un, sun_path) + std::strlen("/run/systemd/notify") + 1);
}

TEST(NotifySocket, AnAtSignMeansTheAbstractNamespace) {
  auto a = parse_notify_socket("@depot/notify");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->addr.sun_path[0], '\0');
  EXPECT_EQ(std::string(a->addr.sun_path + 1, 12), "depot/notify");
  EXPECT_EQ(a->length, offsetof(sockaddr_un, sun_path) + 13);  // no trailing NUL counted
}

TEST(NotifySocket, UnusableValuesAreNamed) {
  EXPECT_THAT(parse_notify_socket("").error().message, HasSubstr("empty"));
  EXPECT_THAT(parse_notify_socket("run/notify").error().message,
              HasSubstr("\"run/notify\": must be an absolute path"));
  EXPECT_THAT(parse_notify_socket("/" + std::string(200, 'x')).error().message,
              HasSubstr("longer than a unix socket address allows"));
}

TEST(WatchdogInterval, HalfOfWatchdogUsecForThisProcess) {
  EXPECT_EQ(watchdog_ping_interval("30000000", nullptr, 42), 15s);
  EXPECT_EQ(watchdog_ping_interval("30000000", "42", 42), 15s);
  EXPECT_EQ(watchdog_ping_interval("30000000", "", 42), 15s);
  EXPECT_EQ(watchdog_ping_interval("1", nullptr, 42), 1us);
}

TEST(WatchdogInterval, NoneWhenUnsetZeroGarbageOrForAnotherProcess) {
  EXPECT_EQ(watchdog_ping_interval(nullptr, nullptr, 42), std::nullopt);
  EXPECT_EQ(watchdog_ping_interval("0", nullptr, 42), std::nullopt);
  EXPECT_EQ(watchdog_ping_interval("30s", nullptr, 42), std::nullopt);
  EXPECT_EQ(watchdog_ping_interval("-5", nullptr, 42), std::nullopt);
  EXPECT_EQ(watchdog_ping_interval("30000000", "43", 42), std::nullopt);
  EXPECT_EQ(watchdog_ping_interval("30000000", "x", 42), std::nullopt);
}

TEST(StatusLine, SaysScansOutboxAndConnectionWhenKnown) {
  StatusFacts f{.skus = 120, .scans = 57, .posted = 55, .rejected = 2, .outbox = 55};
  EXPECT_EQ(status_line(f), "120 SKUs; 57 scans (55 posted, 2 rejected); outbox 55");
  f.connected = false;
  EXPECT_THAT(status_line(f), HasSubstr("; cloud not connected"));
  f.connected = true;
  f.outbox.reset();
  EXPECT_EQ(status_line(f),
            "120 SKUs; 57 scans (55 posted, 2 rejected); outbox unknown; cloud connected");
}

TEST(Notifier, DisabledIsANoOpThatSucceeds) {
  Notifier n;
  EXPECT_FALSE(n.enabled());
  EXPECT_TRUE(n.send("READY=1").ok());
}

// The service manager's end: a datagram socket bound in a temp dir (or an abstract name).
class SystemdNotify : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_ = dir_.file("agent.json");
    test::write_file(cfg_, test::sample_config("depot.db"));
    sock_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(sock_, 0);
  }
  void TearDown() override {
    if (pid_ > 0) {  // a failed assertion must not leave the agent behind
      kill(pid_, SIGCONT);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(sock_);
  }

  void bind_path() {
    notify_socket_ = dir_.file("notify.sock");
    auto a = parse_notify_socket(notify_socket_);
    ASSERT_TRUE(a.ok());
    ASSERT_EQ(bind(sock_, reinterpret_cast<const sockaddr*>(&a->addr), a->length), 0)
        << std::strerror(errno);
  }
  void bind_abstract() {
    notify_socket_ =
        "@depot-test-" + std::to_string(getpid()) + "-" + dir_.path().filename().string();
    auto a = parse_notify_socket(notify_socket_);
    ASSERT_TRUE(a.ok());
    ASSERT_EQ(bind(sock_, reinterpret_cast<const sockaddr*>(&a->addr), a->length), 0)
        << std::strerror(errno);
  }

  // Starts `depot-agent run` as systemd would with WatchdogSec=`watchdog_usec`.
  void start(const std::string& watchdog_usec) {
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      int err = open(dir_.file("stderr.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(err, 2);
      setenv("NOTIFY_SOCKET", notify_socket_.c_str(), 1);
      if (!watchdog_usec.empty()) setenv("WATCHDOG_USEC", watchdog_usec.c_str(), 1);
      unsetenv("WATCHDOG_PID");  // the pid is the agent's (or qemu's), not known before exec
      test::exec_agent({"run", "-c", cfg_});
    }
  }
  std::string agent_log() {
    std::ifstream f(dir_.file("stderr.log"));
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  }

  // The next datagram, or nothing after `timeout`.
  std::optional<std::string> next(std::chrono::milliseconds timeout) {
    pollfd p{sock_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buf[4096];
    ssize_t n = recv(sock_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }
  // Datagrams until one contains `what` (returned), or nothing once `timeout` has passed.
  std::optional<std::string> await(const std::string& what, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto d = next(std::max(left, 1ms));
      if (!d) return std::nullopt;
      seen_.push_back(*d);
      if (d->find(what) != std::string::npos) return d;
    }
    return std::nullopt;
  }
  // How many WATCHDOG=1 datagrams arrive within `span`.
  int pings_within(std::chrono::milliseconds span) {
    int pings = 0;
    auto deadline = Clock::now() + span;
    while (Clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      auto d = next(std::max(left, 1ms));
      if (!d) break;
      seen_.push_back(*d);
      if (d->find("WATCHDOG=1") != std::string::npos) ++pings;
    }
    return pings;
  }
  int drain_now() {
    int n = 0;
    while (next(0ms)) ++n;
    return n;
  }
  std::string seen() {
    std::string s;
    for (auto& d : seen_) s += "[" + d + "] ";
    return s + "\nagent stderr:\n" + agent_log();
  }
  int wait_exit() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  test::TempDir dir_;
  std::string cfg_, notify_socket_;
  int sock_ = -1;
  pid_t pid_ = -1;
  std::vector<std::string> seen_;
};

// Generous bounds: the same test runs an ARM binary under qemu-user in the cross build.
constexpr auto kStartup = 20s;

TEST_F(SystemdNotify, ReadyStatusWatchdogAndStopping) {
  bind_path();
  start("200000");  // WatchdogSec=200ms: a ping every 100 ms
  auto ready = await("READY=1", kStartup);
  ASSERT_TRUE(ready) << seen();
  // outbox 1: the audit-trail record of the agent's first start with this config.
  EXPECT_THAT(*ready, HasSubstr("STATUS=2 SKUs; 0 scans (0 posted, 0 rejected); outbox 1"));
  EXPECT_GE(pings_within(1500ms), 5) << seen();
  EXPECT_THAT(agent_log(), HasSubstr("watchdog ping every 100 ms"));

  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  auto stopping = await("STOPPING=1", 10s);
  ASSERT_TRUE(stopping) << seen();
  EXPECT_EQ(wait_exit(), 0) << seen();
}

TEST_F(SystemdNotify, PingsStopWhileTheEventLoopCannotRunAndResumeAfter) {
  bind_path();
  start("200000");
  ASSERT_TRUE(await("READY=1", kStartup)) << seen();
  ASSERT_GE(pings_within(1000ms), 3) << seen();

  ASSERT_EQ(kill(pid_, SIGSTOP), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid_, &status, WUNTRACED), pid_);
  ASSERT_TRUE(WIFSTOPPED(status));
  drain_now();  // what was sent before the stop
  // Ten ping intervals, two and a half watchdog timeouts: systemd would restart the agent.
  EXPECT_EQ(pings_within(1000ms), 0) << seen();

  ASSERT_EQ(kill(pid_, SIGCONT), 0);
  EXPECT_TRUE(await("WATCHDOG=1", 5s)) << "pings did not resume: " << seen();
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  EXPECT_EQ(wait_exit(), 0) << seen();
}

TEST_F(SystemdNotify, ReloadSaysReloadingThenReadyAgain) {
  bind_path();
  start("");  // no watchdog: no pings at all
  ASSERT_TRUE(await("READY=1", kStartup)) << seen();
  ASSERT_EQ(kill(pid_, SIGHUP), 0);
  auto reloading = await("RELOADING=1", 10s);
  ASSERT_TRUE(reloading) << seen();
  EXPECT_THAT(*reloading, HasSubstr("MONOTONIC_USEC="));
  EXPECT_TRUE(await("READY=1", 10s)) << seen();
  EXPECT_THAT(agent_log(), HasSubstr("reloaded"));
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  EXPECT_TRUE(await("STOPPING=1", 10s)) << seen();
  EXPECT_EQ(wait_exit(), 0);
  for (const auto& d : seen_) EXPECT_THAT(d, ::testing::Not(HasSubstr("WATCHDOG=1")));
}

// Issue 13 item 6: a TCP scanner whose port was taken never listened, and the agent still
// said ready with a healthy status. Now STATUS= says the scanner is DOWN until the port is
// free, the listener retries by itself, and a reload that changes scanners says that a
// restart is needed.
TEST_F(SystemdNotify, AScannerThatCannotListenMakesTheStatusUnhealthyUntilItDoes) {
  int blocker = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(blocker, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(blocker, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(blocker, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(blocker, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const auto port = std::to_string(ntohs(addr.sin_port));
  auto with_scanners = [&](const std::string& scanners) {
    auto text = test::sample_config("depot.db");
    auto at = text.find("\"gateway\": \"gw-1\",");
    text.insert(at, "\"scanners\": [" + scanners + "], ");
    test::write_file(cfg_, text);
  };
  with_scanners(R"({"id": "dock", "role": "pick", "driver": "tcp", "port": )" + port + "}");
  bind_path();
  start("200000");
  auto ready = await("READY=1", kStartup);
  ASSERT_TRUE(ready) << seen();
  EXPECT_THAT(*ready,
              HasSubstr("STATUS=UNHEALTHY: scanner dock DOWN: cannot listen on 127.0.0.1:" + port));
  close(blocker);  // the port comes free: the listener retries and the status clears
  auto healthy = await("STATUS=2 SKUs", 40s);
  ASSERT_TRUE(healthy) << seen();
  EXPECT_THAT(agent_log(), HasSubstr("scanner dock: listening on 127.0.0.1:" + port));

  with_scanners(R"({"id": "dock", "role": "receive", "driver": "tcp", "port": )" + port + "}");
  ASSERT_EQ(kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(await("READY=1", 10s)) << seen();
  EXPECT_THAT(agent_log(), HasSubstr("scanner changes are NOT applied by a reload: restart"));
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  EXPECT_EQ(wait_exit(), 0) << seen();
}

// Issue 13 items 4 and 13, end to end on a real full filesystem (a 4 MB tmpfs; skipped where
// mounting is not allowed): scans arriving while the disk is full are held and retried, the
// agent says UNHEALTHY instead of pretending, nothing committed before is lost, and once space
// comes back everything commits and the status clears by itself.
TEST_F(SystemdNotify, AFullDiskMakesTheAgentUnhealthyAndItRecoversByItself) {
  const auto small = dir_.file("small");
  std::filesystem::create_directories(small);
  if (mount("tmpfs", small.c_str(), "tmpfs", 0, "size=4m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  struct Unmount {
    std::string path;
    ~Unmount() { umount2(path.c_str(), MNT_DETACH); }
  } unmount{small};
  int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(probe, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  close(probe);
  const auto port = ntohs(addr.sin_port);
  auto text = test::sample_config(small + "/depot.db");
  text.insert(text.find("\"gateway\": \"gw-1\","),
              R"("scanners": [{"id": "dock", "role": "receive", "driver": "tcp", "port": )" +
                  std::to_string(port) + "}], ");
  test::write_file(cfg_, text);
  bind_path();
  start("200000");
  ASSERT_TRUE(await("READY=1", kStartup)) << seen();
  int scanner = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(scanner, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  auto scan = [&] { ASSERT_EQ(write(scanner, "4006381333931\n", 14), 14); };
  scan();
  ASSERT_TRUE(await("1 posted", 10s)) << seen();

  // The disk fills up.
  {
    std::FILE* f = std::fopen((small + "/filler").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::string block(4096, 'f');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size() && std::fflush(f) == 0) {
    }
    std::fclose(f);
  }
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(400ms);  // past the double-read window
    scan();
  }
  auto unhealthy = await("STATUS=UNHEALTHY: DATABASE FAILING", 10s);
  ASSERT_TRUE(unhealthy) << seen();
  EXPECT_THAT(*unhealthy, HasSubstr("full"));
  EXPECT_THAT(agent_log(), HasSubstr("database: writes are failing"));

  // Space comes back: the held scans commit and the status clears, with nobody's help.
  std::filesystem::remove(small + "/filler");
  auto healthy = await("STATUS=2 SKUs; 6 scans (6 posted", 30s);
  ASSERT_TRUE(healthy) << seen();
  EXPECT_THAT(agent_log(), HasSubstr("database: writes succeed again"));
  close(scanner);
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  EXPECT_EQ(wait_exit(), 0) << seen();
  auto db = store::Database::open(small + "/depot.db", {});
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto q = (*db)->prepare("SELECT on_hand FROM stock WHERE sku = 'TINT'");
  ASSERT_TRUE(*(*q)->step());
  EXPECT_EQ((*q)->int64(0), 6);
  (*q)->reset();
}

TEST_F(SystemdNotify, AnAbstractSocketNameWorks) {
  bind_abstract();
  start("");
  ASSERT_TRUE(await("READY=1", kStartup)) << seen();
  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  EXPECT_TRUE(await("STOPPING=1", 10s)) << seen();
  EXPECT_EQ(wait_exit(), 0);
}

}  // namespace
}  // namespace depot::app
