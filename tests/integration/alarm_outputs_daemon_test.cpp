// Alarm outputs through the real daemon: a simulated probe warms past its limit; level 1 sets
// a coil on a real Modbus TCP server (read back), level 2 runs a hook after its seconds and
// repeats, a failing hook raises the output_failure system alarm (in `alarms`, `zones` and
// the outbox) that clears once the hook succeeds; acknowledgement stops the escalation and,
// with reset_on "ack", resets the coil and tells the hook. Every wait is bounded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent_process.hpp"
#include "drivers/coil_server.hpp"
#include "store/database.hpp"
#include "store/outbox.hpp"
#include "test_support.hpp"

namespace depot::test {
namespace {
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using nlohmann::json;

template <class F>
bool wait_for(F f, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return f();
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

std::string script(const TempDir& dir, const std::string& name, const std::string& body) {
  const auto path = dir.file(name);
  write_file(path, "#!/bin/sh\n" + body);
  ::chmod(path.c_str(), 0755);
  return path;
}

TEST(AlarmOutputsDaemon, LevelsFireCoilThenHookAFailingHookIsASystemAlarmAckResets) {
  TempDir dir;
  const int port = free_port();
  CoilServer server(port);
  ASSERT_TRUE(server.listening());
  const auto db = dir.file("agent.db"), cfg = dir.file("agent.json");
  const auto calls = dir.file("sms-calls.txt"), flag = dir.file("pager-broken");
  const auto sms = script(
      dir, "sms.sh", "{ env | grep '^DEPOT_' | sort; cat; echo; echo '--- end'; } >> \"$1\"\n");
  const auto pager = script(dir, "pager.sh", "cat > /dev/null\n[ -e \"$1\" ] && exit 1\nexit 0\n");
  const auto siren = script(dir, "siren.sh", "sleep 30\n");  // hangs: killed at 1 s
  write_file(flag, "");
  write_file(cfg, R"({
  "site": "test-site", "gateway": "gw-1", "database": ")" +
                      db + R"(",
  "zones": [{"id": "pharma-1", "min_c": 2, "max_c": 8, "alarm_delay_s": 0}],
  "sensors": [{"id": "p1", "zone": "pharma-1", "driver": "sim", "read_interval_s": 1,
               "sim": {"profile": "script", "repeat": false,
                       "script": [{"c": 5, "for_s": 2}, {"c": 12, "for_s": 3600}]}}],
  "outputs": [
    {"name": "stacklight", "modbus": {"host": "127.0.0.1", "port": )" +
                      std::to_string(port) + R"(,
                                      "unit": 1, "coil": 3, "timeout_ms": 500}},
    {"name": "sms", "exec": {"command": [")" +
                      sms + R"(", ")" + calls + R"("], "timeout_s": 5}},
    {"name": "pager", "exec": {"command": [")" +
                      pager + R"(", ")" + flag + R"("], "timeout_s": 5},
     "backoff_s": 1, "attempts": 2},
    {"name": "siren", "exec": {"command": [")" +
                      siren + R"("], "timeout_s": 1}, "attempts": 1}],
  "escalation": {
    "temperature": [{"after_s": 0, "outputs": ["stacklight"]},
                    {"after_s": 3, "outputs": ["sms"], "repeat_s": 2},
                    {"after_s": 4, "outputs": ["pager", "siren"], "repeat_s": 2}],
    "reset_on": "ack"}
})");
  auto check = run_agent({"check", "-c", cfg});
  ASSERT_EQ(check.code, 0) << check.out << check.err;
  EXPECT_THAT(check.err, HasSubstr("\"pharma-1\" has no escalation for probe_failure alarms"));
  server.set_coil(3, 1);  // left on by a previous run: the start switches it off
  AgentProcess agent(cfg, dir.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("4 alarm output(s)", 20s)) << agent.log();

  ASSERT_TRUE(wait_for([&] { return server.coil(3) == 0; }, 5s)) << agent.log();
  // Level 1: the coil, at once; level 2 (the hook) not yet.
  ASSERT_TRUE(wait_for([&] { return server.coil(3) == 1; }, 20s)) << agent.log();
  EXPECT_EQ(read(calls), "") << "level 2 fired together with level 1";
  // Level 2 after its 3 s: the hook with the alarm in its environment and on stdin; it repeats.
  ASSERT_TRUE(wait_for([&] { return count(read(calls), "DEPOT_EVENT=fire") >= 2; }, 15s))
      << agent.log();
  const auto text = read(calls);
  EXPECT_THAT(text, HasSubstr("DEPOT_ZONE=pharma-1\n"));
  EXPECT_THAT(text, HasSubstr("DEPOT_KIND=temperature\n"));
  EXPECT_THAT(text, HasSubstr("DEPOT_LEVEL=2\n"));
  EXPECT_THAT(text, HasSubstr("DEPOT_LIMIT=8"));
  EXPECT_THAT(text, HasSubstr("\"zone\":\"pharma-1\""));

  // Level 3's pager fails: the output_failure system alarm, in `alarms`, `zones` and the log.
  auto failure = [&](const std::string& output, bool open) {
    auto r = run_agent({"alarms", "--json", "-c", cfg});
    if (r.code != 0) return json();
    for (const auto& x : json::parse(r.out))
      if (x["alarm_type"] == "output_failure" && x["output"] == output && x["open"] == open)
        return x;
    return json();
  };
  auto open_failure = [&](bool open) { return !failure("pager", open).is_null(); };
  ASSERT_TRUE(wait_for([&] { return open_failure(true); }, 15s)) << agent.log();
  // The hanging siren is killed at its timeout: a failure alarm of its own.
  ASSERT_TRUE(wait_for([&] { return !failure("siren", true).is_null(); }, 15s)) << agent.log();
  EXPECT_EQ(failure("siren", true)["reason"], "timed out after 1 s (killed)");
  EXPECT_THAT(run_agent({"zones", "-c", cfg}).out, HasSubstr("OUTPUT FAILURE pager"));
  EXPECT_THAT(run_agent({"alarms", "-c", cfg}).out, HasSubstr("output pager FAILING"));
  EXPECT_THAT(agent.log(), HasSubstr("alarm output pager: fire level 3"));
  EXPECT_THAT(agent.log(), HasSubstr("exit status 1"));
  // The pager works again: its next repeat succeeds and the failure clears.
  std::filesystem::remove(flag);
  ASSERT_TRUE(wait_for([&] { return open_failure(false) && !open_failure(true); }, 15s))
      << agent.log();

  // Both reached the `alarms` outbox stream (what goes to MQTT), joined by `failure`.
  {
    store::OpenOptions ro;
    ro.read_only = true;
    auto d = store::Database::open(db, ro);
    ASSERT_TRUE(d) << d.error().message;
    auto recs = store::outbox_read(**d, "alarms", 0, 10000);
    ASSERT_TRUE(recs);
    std::map<std::string, std::string> states;  // failure -> states seen
    for (const auto& rec : *recs) {
      auto j = json::parse(rec.payload);
      if (j["type"] == "output_failure" && j["output"] == "pager")
        states[j["failure"].get<std::string>()] += j["state"].get<std::string>() + ";";
    }
    ASSERT_FALSE(states.empty());
    EXPECT_EQ(states.begin()->second, "raised;cleared;");
  }

  // Acknowledged: escalation stops; reset_on "ack" switches the coil off and tells the hook.
  auto r = run_agent({"alarms", "ack", "pharma-1", "--who", "Ana", "--comment", "door shut",
                      "--wait-s", "10", "-c", cfg});
  ASSERT_EQ(r.code, 0) << r.err << agent.log();
  ASSERT_TRUE(wait_for([&] { return server.coil(3) == 0; }, 10s)) << agent.log();
  ASSERT_TRUE(wait_for([&] { return count(read(calls), "DEPOT_EVENT=reset") == 1; }, 10s))
      << agent.log();
  const auto fires = count(read(calls), "DEPOT_EVENT=fire");
  std::this_thread::sleep_for(4500ms);  // two repeat intervals
  EXPECT_EQ(count(read(calls), "DEPOT_EVENT=fire"), fires) << "escalation went on after the ack";
  EXPECT_EQ(server.coil(3), 0);

  // `alarms` shows which levels fired.
  auto listing = run_agent({"alarms", "-c", cfg}).out;
  EXPECT_THAT(listing, HasSubstr("L1 stacklight fire"));
  EXPECT_THAT(listing, HasSubstr("L2 sms fire"));
  EXPECT_THAT(listing, HasSubstr("L3 pager fire"));
  EXPECT_THAT(listing, HasSubstr("stacklight reset"));
  EXPECT_EQ(agent.stop(), 0);
}

}  // namespace
}  // namespace depot::test
