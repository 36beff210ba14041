// The alarm-output runner against real parts: a Modbus TCP server run by the test with
// libmodbus (coil states read back from its mapping), and real hook scripts through
// posix_spawn — one that records its environment and stdin, one that hangs (killed at its
// timeout, with its child), one that exits 1. Every wait is bounded.
#include "output/alarm_output_runner.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <modbus.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/json_parse.hpp"
#include "drivers/coil_server.hpp"
#include "test_support.hpp"

namespace depot::drivers {
namespace {

namespace cc = coldchain;
using test::CoilServer;
using test::free_port;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

cc::OutputAction action(std::string output, cc::OutputEvent ev, int level = 1) {
  cc::OutputAction a;
  a.output = std::move(output);
  a.event = ev;
  a.level = level;
  a.alarm.id = "freezer-1/high/run1/1";
  a.alarm.zone = "freezer-1";
  a.alarm.type = cc::AlarmType::kTemperature;
  a.alarm.side = "high";
  a.alarm.value_c = -15.25;
  a.alarm.limit_c = -18;
  a.alarm.raised = {1, 1'800'000'000'000, false};
  return a;
}

std::vector<cc::OutputResult> wait_results(AlarmOutputRunner& r, std::size_t n,
                                           std::chrono::milliseconds limit) {
  std::vector<cc::OutputResult> all;
  const auto end = std::chrono::steady_clock::now() + limit;
  while (all.size() < n && std::chrono::steady_clock::now() < end) {
    for (auto& x : r.take_results()) all.push_back(std::move(x));
    std::this_thread::sleep_for(10ms);
  }
  return all;
}

std::string script(const test::TempDir& dir, const std::string& name, const std::string& body) {
  const auto path = dir.file(name);
  test::write_file(path, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
  return path;
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

cc::OutputSpec coil(int port, int coil_no) {
  cc::OutputSpec o;
  o.name = "stacklight";
  o.kind = cc::OutputKind::kModbus;
  o.modbus.host = "127.0.0.1";
  o.modbus.port = port;
  o.modbus.coil = coil_no;
  o.modbus.timeout_ms = 300;
  return o;
}

cc::OutputSpec hook(std::string name, std::vector<std::string> cmd, std::int64_t timeout_s = 10) {
  cc::OutputSpec o;
  o.name = std::move(name);
  o.kind = cc::OutputKind::kExec;
  o.exec.command = std::move(cmd);
  o.exec.timeout_s = timeout_s;
  return o;
}

TEST(AlarmOutputRunner, SetsAndResetsARealModbusCoil) {
  const int port = free_port();
  CoilServer server(port);
  ASSERT_TRUE(server.listening());
  AlarmOutputRunner r({coil(port, 3)});
  r.submit(action("stacklight", cc::OutputEvent::kFire));
  auto res = wait_results(r, 1, 5s);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_TRUE(res[0].ok) << res[0].reason;
  EXPECT_EQ(server.coil(3), 1);
  EXPECT_EQ(server.coil(2), 0);
  // A reset while another alarm still holds the light writes nothing.
  auto held = action("stacklight", cc::OutputEvent::kReset);
  held.last_holder = false;
  const int writes = server.writes();
  r.submit(held);
  res = wait_results(r, 1, 5s);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_TRUE(res[0].ok);
  EXPECT_EQ(server.writes(), writes);
  EXPECT_EQ(server.coil(3), 1);
  r.submit(action("stacklight", cc::OutputEvent::kReset));
  res = wait_results(r, 1, 5s);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_TRUE(res[0].ok) << res[0].reason;
  EXPECT_EQ(server.coil(3), 0);
}

TEST(AlarmOutputRunner, ACoilWithNoServerFailsWithinItsTimeoutAndSaysWhere) {
  const int port = free_port();  // nothing listens
  AlarmOutputRunner r({coil(port, 1)});
  const auto t0 = std::chrono::steady_clock::now();
  r.submit(action("stacklight", cc::OutputEvent::kFire));
  auto res = wait_results(r, 1, 5s);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_FALSE(res[0].ok);
  EXPECT_THAT(res[0].reason, HasSubstr("Modbus connect to 127.0.0.1:" + std::to_string(port)));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(AlarmOutputRunner, AHookGetsTheAlarmInItsEnvironmentAndAsJsonOnStdin) {
  test::TempDir dir;
  const auto log = dir.file("calls.txt");
  const auto rec = script(dir, "record.sh",
                          "{ env | grep '^DEPOT_' | sort; echo \"ARGS=$*\"; echo '--- stdin';"
                          " cat; echo '--- end'; } >> \"$1\"\n");
  AlarmOutputRunner r({hook("sms", {rec, log, "second arg"})});
  auto a = action("sms", cc::OutputEvent::kFire, 2);
  a.repeat = 1;
  r.submit(a);
  auto res = wait_results(r, 1, 5s);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_TRUE(res[0].ok) << res[0].reason;
  const auto text = read(log);
  EXPECT_THAT(text, HasSubstr("DEPOT_EVENT=fire\n"));
  EXPECT_THAT(text, HasSubstr("DEPOT_ALARM_ID=freezer-1/high/run1/1\n"));
  EXPECT_THAT(text, HasSubstr("DEPOT_ZONE=freezer-1\n"));
  EXPECT_THAT(text, HasSubstr("DEPOT_KIND=temperature\n"));
  EXPECT_THAT(text, HasSubstr("DEPOT_LEVEL=2\n"));
  EXPECT_THAT(text, HasSubstr("DEPOT_REPEAT=1\n"));
  EXPECT_THAT(text, HasSubstr("DEPOT_VALUE=-15.2"));
  EXPECT_THAT(text, HasSubstr("DEPOT_LIMIT=-18"));
  EXPECT_THAT(text, HasSubstr("DEPOT_STARTED_AT=2027-01-15T08:00:00"));
  EXPECT_THAT(text, HasSubstr("DEPOT_OUTPUT=sms\n"));
  EXPECT_THAT(text, HasSubstr("ARGS=" + log + " second arg\n"));  // argv as given, no shell
  const auto from = text.find("--- stdin\n") + 10, to = text.find("--- end");
  auto j = parse_json(text.substr(from, to - from), JsonLimits{1 << 16, 8});
  ASSERT_TRUE(j) << text;
  EXPECT_EQ((*j)["event"], "fire");
  EXPECT_EQ((*j)["level"], 2);
  EXPECT_EQ((*j)["alarm"]["zone"], "freezer-1");
  EXPECT_EQ((*j)["alarm"]["type"], "temperature");
  EXPECT_EQ((*j)["alarm"]["limit_c"], -18.0);
  // The reset reaches the hook too.
  r.submit(action("sms", cc::OutputEvent::kReset, 2));
  ASSERT_EQ(wait_results(r, 1, 5s).size(), 1u);
  EXPECT_THAT(read(log), HasSubstr("DEPOT_EVENT=reset\n"));
}

TEST(AlarmOutputRunner, AHookInheritsNoDescriptorOfTheAgentBeyondStdio) {
  test::TempDir dir;
  const auto out = dir.file("fds.txt");
  // An fd without O_CLOEXEC, as a library might leave one.
  const int opened = ::open(dir.file("held").c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(opened, 0);
  const int leaky = ::dup2(opened, 57);  // far above what `ls` itself opens
  ::close(opened);
  ASSERT_EQ(leaky, 57);
  const auto list = script(dir, "fds.sh", "cat > /dev/null\nls /proc/self/fd > \"$1\"\n");
  AlarmOutputRunner r({hook("sms", {list, out})});
  r.submit(action("sms", cc::OutputEvent::kFire));
  auto res = wait_results(r, 1, 5s);
  ::close(leaky);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_TRUE(res[0].ok) << res[0].reason;
  // 0, 1, 2 and the one `ls` opens to read /proc/self/fd; never 57.
  std::istringstream in(read(out));
  int n = 0;
  for (std::string fd; in >> fd; ++n) EXPECT_NE(std::stoi(fd), leaky);
  EXPECT_GE(n, 3);
}

TEST(AlarmOutputRunner, AHangingHookIsKilledWithItsChildrenAtItsTimeout) {
  test::TempDir dir;
  const auto pidfile = dir.file("child.pid");
  const auto hang = script(dir, "hang.sh", "sleep 60 &\necho $! > \"$1\"\nwait\n");
  AlarmOutputRunner r({hook("sms", {hang, pidfile}, 1)});
  const auto t0 = std::chrono::steady_clock::now();
  r.submit(action("sms", cc::OutputEvent::kFire));
  auto res = wait_results(r, 1, 10s);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_FALSE(res[0].ok);
  EXPECT_EQ(res[0].reason, "timed out after 1 s (killed)");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  // Its `sleep` went with it (the hook's process group is killed).
  const auto child = std::stoi(read(pidfile));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = ::kill(child, 0) != 0;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone);
}

TEST(AlarmOutputRunner, AFailingHookReportsItsExitStatusAndAMissingOneSaysSo) {
  test::TempDir dir;
  const auto fail = script(dir, "fail.sh", "echo 'modem not answering' >&2\nexit 1\n");
  AlarmOutputRunner r({hook("sms", {fail}), hook("mail", {dir.file("absent")})});
  r.submit(action("sms", cc::OutputEvent::kFire));
  r.submit(action("mail", cc::OutputEvent::kFire));
  r.submit(action("unknown", cc::OutputEvent::kFire));
  auto res = wait_results(r, 3, 5s);
  ASSERT_EQ(res.size(), 3u);
  for (const auto& x : res) {
    EXPECT_FALSE(x.ok);
    if (x.action.output == "sms") {
      EXPECT_EQ(x.reason, "exit status 1");
    } else if (x.action.output == "mail") {
      EXPECT_THAT(x.reason, HasSubstr("cannot start"));
    } else {
      EXPECT_THAT(x.reason, HasSubstr("no output named"));
    }
  }
}

TEST(AlarmOutputRunner, ActionsQueuedBehindASlowHookAreCoalescedPerAlarmAndEvent) {
  test::TempDir dir;
  const auto log = dir.file("calls.txt");
  const auto slow = script(dir, "slow.sh", "echo \"$DEPOT_REPEAT\" >> \"$1\"\nsleep 1\n");
  AlarmOutputRunner r({hook("sms", {slow, log})});
  for (int i = 0; i < 5; ++i) {
    auto a = action("sms", cc::OutputEvent::kFire);
    a.repeat = i;
    r.submit(a);
    if (i == 0) std::this_thread::sleep_for(300ms);  // the first is running before the rest
  }
  auto res = wait_results(r, 2, 6s);
  ASSERT_EQ(res.size(), 2u);
  EXPECT_EQ(read(log), "0\n4\n");  // the running one, then only the newest waiting one
}

// The documented smstools hook (config/examples/hooks/alarm-sms-smstools) writes one
// complete message file per recipient into the spool smsd reads.
TEST(AlarmOutputRunner, TheSmstoolsExampleHookQueuesOneMessagePerRecipient) {
  test::TempDir dir;
  const auto spool = dir.file("outgoing");
  ::mkdir(spool.c_str(), 0755);
  const std::string hook_path =
      std::string(DEPOT_SOURCE_DIR) + "/config/examples/hooks/alarm-sms-smstools";
  AlarmOutputRunner r(
      {hook("sms", {"/bin/sh", hook_path, "--spool", spool, "491701234567", "491709876543"})});
  r.submit(action("sms", cc::OutputEvent::kFire, 2));
  auto res = wait_results(r, 1, 5s);
  ASSERT_EQ(res.size(), 1u);
  ASSERT_TRUE(res[0].ok) << res[0].reason;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(spool))
    files.push_back(e.path().filename().string());
  ASSERT_EQ(files.size(), 2u);
  for (const auto& f : files) {
    EXPECT_NE(f.front(), '.');  // renamed into place
    const auto text = read(spool + "/" + f);
    EXPECT_THAT(text, ::testing::StartsWith("To: 49170"));
    EXPECT_THAT(text, HasSubstr("\n\nALARM freezer-1: temperature alarm (high) at -15.25 C, "
                                "limit -18 C, since 2027-01-15T08:00:00.000Z; level 2\n"));
  }
}

// Each alarm kind in its own words and unit: a door left open and a humid room went to the QA
// phone as "temperature alarm ... at 1 C" / "at 96 C".
TEST(AlarmOutputRunner, DoorAndHumidityAlarmsAreNamedWithTheirUnits) {
  auto door = action("sms", cc::OutputEvent::kFire);
  door.alarm.type = cc::AlarmType::kDoorOpen;
  door.alarm.side.clear();
  door.alarm.value_c = 1;
  door.alarm.limit_c.reset();
  door.alarm.probe = "dock-door";
  EXPECT_EQ(output_action_text(door),
            "freezer-1: door open alarm (door dock-door open), since 2027-01-15T08:00:00.000Z; "
            "level 1");
  auto rh = action("sms", cc::OutputEvent::kFire);
  rh.alarm.type = cc::AlarmType::kHumidity;
  rh.alarm.value_c = 96;
  rh.alarm.limit_c = 90;
  EXPECT_EQ(output_action_text(rh),
            "freezer-1: humidity alarm (high) at 96 %RH, limit 90 %RH, since "
            "2027-01-15T08:00:00.000Z; level 1");
}

// A reset tells the hook whether another alarm still holds the output (DEPOT_LAST_HOLDER and
// "last_holder"); a fire carries neither.
TEST(AlarmOutputRunner, AResetTellsTheHookWhetherItWasTheLastHolder) {
  auto has = [](const std::vector<std::string>& env, const std::string& v) {
    return std::find(env.begin(), env.end(), v) != env.end();
  };
  auto held = action("buzzer", cc::OutputEvent::kReset);
  held.last_holder = false;
  EXPECT_TRUE(has(output_action_env(held), "DEPOT_LAST_HOLDER=0"));
  EXPECT_EQ(output_action_json(held)["last_holder"], false);
  auto last = action("buzzer", cc::OutputEvent::kReset);
  EXPECT_TRUE(has(output_action_env(last), "DEPOT_LAST_HOLDER=1"));
  EXPECT_EQ(output_action_json(last)["last_holder"], true);
  const auto fire_env = output_action_env(action("buzzer", cc::OutputEvent::kFire));
  EXPECT_FALSE(std::any_of(fire_env.begin(), fire_env.end(), [](const std::string& v) {
    return v.rfind("DEPOT_LAST_HOLDER=", 0) == 0;
  }));
  EXPECT_FALSE(
      output_action_json(action("buzzer", cc::OutputEvent::kFire)).contains("last_holder"));
}

// The documented GPIO buzzer hook leaves the line alone on a reset while another alarm holds
// the buzzer: it exits 0 without running gpioset (not installed here, nor a gpiochip; a
// reset that tried to silence the line would fail).
TEST(AlarmOutputRunner, TheGpioBuzzerExampleHookKeepsSoundingWhileAnotherAlarmHoldsIt) {
  const std::string hook_path =
      std::string(DEPOT_SOURCE_DIR) + "/config/examples/hooks/alarm-gpio-buzzer";
  AlarmOutputRunner r({hook("buzzer", {"/bin/sh", hook_path, "depot-test-no-chip", "0"})});
  auto a = action("buzzer", cc::OutputEvent::kReset);
  a.last_holder = false;
  r.submit(a);
  auto res = wait_results(r, 1, 5s);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_TRUE(res[0].ok) << res[0].reason;
}

TEST(AlarmOutputRunner, OneOutputsHangingHookDoesNotDelayAnother) {
  test::TempDir dir;
  const auto hang = script(dir, "hang.sh", "sleep 5\n");
  const auto ok = script(dir, "ok.sh", "cat > /dev/null\n");
  AlarmOutputRunner r({hook("slow", {hang}, 3), hook("fast", {ok})});
  r.submit(action("slow", cc::OutputEvent::kFire));
  r.submit(action("fast", cc::OutputEvent::kFire));
  auto res = wait_results(r, 1, 2s);
  ASSERT_EQ(res.size(), 1u);
  EXPECT_EQ(res[0].action.output, "fast");
  EXPECT_TRUE(res[0].ok);
}

}  // namespace
}  // namespace depot::drivers
