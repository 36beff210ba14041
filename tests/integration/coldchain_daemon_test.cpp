// The daemon with zones configured: it starts the probe drivers and ticks its cold chain every
// second (a probe that yields no data goes offline and `depot-agent zones` shows it; a
// simulated probe that drifts out of range raises an alarm that puts the zone's stock on
// hold), applies an acknowledgement the CLI
// asks for within a second (here refused: there is no alarm), audits config changes at start
// and on SIGHUP, and survives SIGKILL. Without zones nothing of this happens.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "agent_process.hpp"
#include "store/coldchain_store.hpp"
#include "store/database.hpp"
#include "test_support.hpp"

namespace depot::test {
namespace {
using ::testing::HasSubstr;
using namespace std::chrono_literals;
using nlohmann::json;

std::string cold_config(const std::string& db, const std::string& log_level = "info") {
  return R"({
  "site": "test-site", "gateway": "gw-1", "database": ")" + db + R"(", "log_level": ")" +
         log_level + R"(",
  "catalog": [{"sku": "VAX", "name": "Vaccine", "barcodes": ["4006381333931"], "zone": "pharma-1"}],
  "zones": [{"id": "pharma-1", "min_c": 2, "max_c": 8}],
  "sensors": [{"id": "p1", "zone": "pharma-1", "driver": "sim", "read_interval_s": 1,
               "offline_after_s": 2,
               "sim": {"failures": [{"start_s": 0, "duration_s": 86400}]}}],
  "retention": {"readings_days": 7}
})";
}

template <class F>
bool wait_for(F f, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return f();
}

std::int64_t audit_count(const std::string& cfg, const std::string& what) {
  auto r = run_agent({"audit", "--json", "-c", cfg});
  if (r.code != 0) return -1;
  std::int64_t n = 0;
  for (const auto& e : json::parse(r.out)) n += e["what"] == what;
  return n;
}

TEST(ColdChainDaemon, TicksPersistsStateAppliesAcksAndAuditsConfigChanges) {
  TempDir dir;
  const auto db = dir.file("agent.db"), cfg = dir.file("agent.json");
  write_file(cfg, cold_config(db));
  {
    AgentProcess agent(cfg, dir.file("agent.log"));
    ASSERT_TRUE(agent.wait_for_log("cold chain: 1 zone(s), 1 probe(s)", 20s)) << agent.log();
    // p1's simulator yields no data: offline after 2 s, seen through `zones`.
    json zones;
    ASSERT_TRUE(wait_for(
        [&] {
          auto r = run_agent({"zones", "--json", "-c", cfg});
          if (r.code != 0) return false;
          zones = json::parse(r.out);
          return zones.size() == 1 && zones[0]["probes"].size() == 1 &&
                 zones[0]["probes"][0]["state"] == "offline";
        },
        20s))
        << zones.dump() << agent.log();
    // The trial: a zone whose only probe is dead said "normal". It is in alarm, with no data,
    // and its probe_failure alarm is open, unacknowledged, holding no stock.
    EXPECT_EQ(zones[0]["level"], "alarm") << zones.dump();
    EXPECT_EQ(zones[0]["no_data"], true);
    ASSERT_EQ(zones[0]["open_excursions"].size(), 1u) << zones.dump();
    EXPECT_EQ(zones[0]["open_excursions"][0]["alarm_type"], "probe_failure");
    EXPECT_EQ(zones[0]["open_excursions"][0]["probe"], "p1");
    EXPECT_TRUE(zones[0]["open_excursions"][0]["acknowledged"].is_null());
    EXPECT_THAT(agent.log(), HasSubstr("probe p1 probe_offline"));
    EXPECT_THAT(agent.log(), HasSubstr("zone pharma-1 alarm (probe_failure: p1)"));
    auto shown = run_agent({"zones", "-c", cfg});
    EXPECT_THAT(shown.out, HasSubstr("zone pharma-1: alarm (NO DATA: every probe is offline)"));
    EXPECT_THAT(shown.out, HasSubstr("PROBE FAILURE p1 since"));
    // An MKT that stands on less than its 24 h says so (the trial saw "MKT 24h" over 11 s).
    EXPECT_THAT(shown.out, HasSubstr("(24 h not yet covered)"));
    auto open = run_agent({"alarms", "--open", "-c", cfg});
    EXPECT_THAT(open.out, HasSubstr("probe failure p1"));
    EXPECT_THAT(open.out, HasSubstr("NOT ACKNOWLEDGED"));
    // The ack goes through the running agent, which answers within its wait.
    auto r = run_agent({"alarms", "ack", "pharma-1", "--who", "Ana", "--comment", "probe unplugged",
                        "--wait-s", "10", "-c", cfg});
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("acknowledged 1 alarm(s) of zone pharma-1"));
    EXPECT_EQ(audit_count(cfg, "alarm.ack"), 1);
    r = run_agent({"alarms", "ack", "pharma-1", "--who", "Ana", "--comment", "checked",
                   "--wait-s", "10", "-c", cfg});
    EXPECT_EQ(r.code, 1);
    EXPECT_THAT(r.err, HasSubstr("refused by the agent: zone pharma-1 has no unacknowledged alarm"));
    EXPECT_EQ(json::parse(run_agent({"holds", "--json", "-c", cfg}).out).size(), 0u);
    EXPECT_EQ(audit_count(cfg, "config.change"), 1);

    // SIGHUP with a changed file: audited; unchanged: not.
    write_file(cfg, cold_config(db, "debug"));
    kill(agent.pid(), SIGHUP);
    EXPECT_TRUE(wait_for([&] { return audit_count(cfg, "config.change") == 2; }, 20s));
    EXPECT_EQ(agent.stop(), 0);
  }
  {
    AgentProcess agent(cfg, dir.file("agent2.log"));
    ASSERT_TRUE(agent.wait_for_log("cold chain: 1 zone(s)", 20s)) << agent.log();
    EXPECT_EQ(audit_count(cfg, "config.change"), 2);  // same config: nothing new
    // SIGKILL: the next start still works and the audit chain is intact.
    ::kill(agent.pid(), SIGKILL);
    agent.wait_exit(10s);
  }
  {
    AgentProcess agent(cfg, dir.file("agent3.log"));
    ASSERT_TRUE(agent.wait_for_log("cold chain: 1 zone(s)", 20s)) << agent.log();
    auto r = run_agent({"audit", "verify", "-c", cfg});
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    EXPECT_EQ(agent.stop(), 0);
  }
}

// An alarm that ended before anyone acknowledged it (here: a probe that failed for a few
// seconds, then came back) stays on the list to acknowledge, and `alarms ack` takes it, with a
// root cause: through the running agent, and directly when no agent runs.
TEST(ColdChainDaemon, AnAlarmThatEndedUnacknowledgedCanStillBeAcknowledged) {
  TempDir dir;
  const auto db = dir.file("agent.db"), cfg = dir.file("agent.json");
  write_file(cfg, R"({
  "site": "test-site", "gateway": "gw-1", "database": ")" + db + R"(",
  "zones": [{"id": "pharma-1", "min_c": 2, "max_c": 8}],
  "sensors": [{"id": "p1", "zone": "pharma-1", "driver": "sim", "read_interval_s": 1,
               "offline_after_s": 2,
               "sim": {"profile": "script", "repeat": false, "script": [{"c": 5, "for_s": 600}],
                       "failures": [{"start_s": 0, "duration_s": 3},
                                    {"start_s": 8, "duration_s": 3}]}}]
})");
  auto ended_unacked = [&] {
    auto r = run_agent({"alarms", "--json", "-c", cfg});
    std::size_t n = 0;
    if (r.code != 0) return n;
    for (const auto& x : json::parse(r.out))
      n += !x["open"].get<bool>() && x["alarm_type"] == "probe_failure" &&
           x["acknowledged"].is_null();
    return n;
  };
  AgentProcess agent(cfg, dir.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("cold chain: 1 zone(s), 1 probe(s)", 20s)) << agent.log();
  ASSERT_TRUE(wait_for([&] { return ended_unacked() >= 1; }, 20s)) << agent.log();
  EXPECT_THAT(run_agent({"alarms", "-c", cfg}).out, HasSubstr("NOT ACKNOWLEDGED"));

  // Through the running agent (the path the cloud's alarm.ack also takes).
  auto r = run_agent({"alarms", "ack", "pharma-1", "--who", "Ana", "--comment", "probe reseated",
                      "--root-cause", "connector loose; replaced", "--wait-s", "10", "-c", cfg});
  ASSERT_EQ(r.code, 0) << r.err << agent.log();
  EXPECT_THAT(r.out, HasSubstr("already ended)"));
  auto list = json::parse(run_agent({"alarms", "--json", "-c", cfg}).out);
  bool found = false;
  for (const auto& x : list)
    if (x["acknowledged"].is_object() && x["acknowledged"].value("late", false)) {
      found = true;
      EXPECT_EQ(x["acknowledged"]["who"], "Ana");
      EXPECT_EQ(x["acknowledged"]["root_cause"], "connector loose; replaced");
    }
  EXPECT_TRUE(found) << list.dump(2);
  EXPECT_THAT(run_agent({"alarms", "-c", cfg}).out,
              HasSubstr("acked by Ana after it ended: probe reseated (root cause: connector loose; "
                        "replaced)"));

  // The second failure ends too; then the agent stops and the CLI acknowledges it directly.
  ASSERT_TRUE(wait_for([&] { return ended_unacked() >= 1; }, 30s)) << agent.log();
  EXPECT_EQ(agent.stop(), 0);
  r = run_agent({"alarms", "ack", "pharma-1", "--who", "Bo", "--comment", "second dropout seen",
                 "-c", cfg});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("acknowledged 1 alarm(s) of zone pharma-1 (1 already ended"));
  EXPECT_EQ(ended_unacked(), 0u);
  r = run_agent({"alarms", "ack", "pharma-1", "--who", "Bo", "--comment", "again", "-c", cfg});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("zone pharma-1 has no unacknowledged alarm"));
  EXPECT_GE(audit_count(cfg, "alarm.ack"), 2);
  r = run_agent({"audit", "verify", "-c", cfg});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
}

TEST(ColdChainDaemon, ASimulatedProbeDriftingWarmRaisesAnAlarmThatHoldsTheZonesStock) {
  TempDir dir;
  const auto db = dir.file("agent.db"), cfg = dir.file("agent.json");
  // 4 °C for 2 s, then 12 °C (above max 8) for 8 s, then back to 4 °C: with a 2 s alarm
  // delay the zone alarms, and clears after the probe is back inside by the hysteresis.
  write_file(cfg, R"({
  "site": "test-site", "gateway": "gw-1", "database": ")" + db + R"(",
  "catalog": [{"sku": "VAX", "name": "Vaccine", "barcodes": ["4006381333931"], "zone": "pharma-1"}],
  "zones": [{"id": "pharma-1", "min_c": 2, "max_c": 8, "alarm_delay_s": 2, "hysteresis_c": 0.5}],
  "sensors": [{"id": "p1", "zone": "pharma-1", "driver": "sim", "read_interval_s": 1,
               "sim": {"profile": "script", "repeat": false,
                       "script": [{"c": 4, "for_s": 2}, {"c": 12, "for_s": 8}, {"c": 4, "for_s": 600}]}}]
})");
  ASSERT_EQ(run_agent({"scan", "-c", cfg, "--kind", "receive", "--code", "4006381333931",
                       "--qty", "10"}).code, 0);
  AgentProcess agent(cfg, dir.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("cold chain: 1 zone(s), 1 probe(s)", 20s)) << agent.log();
  json holds;
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = run_agent({"holds", "--json", "-c", cfg});
        if (r.code != 0) return false;
        holds = json::parse(r.out);
        return holds.size() == 1;
      },
      30s))
      << agent.log();
  EXPECT_EQ(holds[0]["sku"], "VAX");
  EXPECT_EQ(holds[0]["qty"], 10);
  auto stock = json::parse(run_agent({"stock", "--json", "--sku", "VAX", "-c", cfg}).out);
  ASSERT_EQ(stock.size(), 1u);
  EXPECT_EQ(stock[0]["on_hand"], 10);
  EXPECT_EQ(stock[0]["held"], 10);
  EXPECT_EQ(stock[0]["available"], 0);
  // The alarm clears once the probe reads 4 °C again; its excursion is recorded.
  json alarms;
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = run_agent({"alarms", "--json", "-c", cfg});
        if (r.code != 0) return false;
        alarms = json::parse(r.out);
        return alarms.size() == 1 && alarms[0].value("open", true) == false;
      },
      30s))
      << alarms.dump() << agent.log();
  EXPECT_GE(alarms[0]["peak_c"].get<double>(), 12.0);
  EXPECT_THAT(agent.log(), HasSubstr("alarm"));
  // The quality manager releases the hold: available again.
  auto r = run_agent({"holds", "release", std::to_string(holds[0]["id"].get<int>()), "--who",
                      "qa", "--why", "product checked", "-c", cfg});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  stock = json::parse(run_agent({"stock", "--json", "--sku", "VAX", "-c", cfg}).out);
  EXPECT_EQ(stock[0]["available"], 10);
  EXPECT_EQ(run_agent({"audit", "verify", "-c", cfg}).code, 0);
  EXPECT_EQ(agent.stop(), 0);
}

// From the trials: `alarms ack ZONE --who $'qa\xff'` with an alarm open killed the daemon
// (nlohmann type_error 316 thrown out of a loop handler), lost the acknowledgement and closed
// the excursion as "restart"; a config number 1e400 aborted it on SIGHUP. Now the CLI refuses
// the text, a request row with bad text written by anything else is refused by the daemon,
// a bad reload keeps the running config, and the daemon stays up throughout.
TEST(ColdChainDaemon, BadTextAndABadReloadNeverKillTheDaemon) {
  TempDir dir;
  const auto db = dir.file("agent.db"), cfg = dir.file("agent.json");
  const std::string config = R"({
  "site": "test-site", "gateway": "gw-1", "database": ")" + db + R"(",
  "catalog": [{"sku": "VAX", "name": "Vaccine", "barcodes": ["4006381333931"], "zone": "pharma-1"}],
  "zones": [{"id": "pharma-1", "min_c": 2, "max_c": 8, "alarm_delay_s": 1}],
  "sensors": [{"id": "p1", "zone": "pharma-1", "driver": "sim", "read_interval_s": 1,
               "sim": {"profile": "script", "repeat": false, "script": [{"c": 12, "for_s": 600}]}}]
})";
  write_file(cfg, config);
  AgentProcess agent(cfg, dir.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("cold chain: 1 zone(s), 1 probe(s)", 20s)) << agent.log();
  ASSERT_TRUE(wait_for(
      [&] {
        auto r = run_agent({"alarms", "--json", "-c", cfg});
        return r.code == 0 && json::parse(r.out).size() == 1;
      },
      30s))
      << agent.log();

  auto r = run_agent({"alarms", "ack", "pharma-1", "--who", "qa\xff", "--comment", "checked",
                      "-c", cfg});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("\"qa\\xff\" is not valid UTF-8 (the value of --who)"));
  r = run_agent({"alarms", "ack", "pharma-1", "--who", "qa", "--comment", "a\nb", "-c", cfg});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--comment: \"a\\x0ab\" contains a control character"));

  // A request row written by something else than this CLI: refused, named, nothing applied.
  std::int64_t id = 0;
  {
    auto opened = store::Database::open(db, {});
    ASSERT_TRUE(opened) << opened.error().message;
    auto req = store::request_ack(**opened, "pharma-1", "qa\xff", "checked", "cli",
                                  "2026-12-04T10:00:00Z");
    ASSERT_TRUE(req) << req.error().message;
    id = *req;
    std::optional<store::AckRequest> done;
    ASSERT_TRUE(wait_for(
        [&] {
          auto f = store::find_ack(**opened, id);
          if (!f || !*f || (*f)->status == "pending") return false;
          done = **f;
          return true;
        },
        20s))
        << agent.log();
    EXPECT_EQ(done->status, "rejected");
    EXPECT_EQ(done->result.value_or(""), "who: \"qa\\xff\" is not valid UTF-8");
  }
  // Still alive, and a proper acknowledgement goes through.
  r = run_agent({"alarms", "ack", "pharma-1", "--who", "qa", "--comment", "door closed",
                 "--wait-s", "10", "-c", cfg});
  EXPECT_EQ(r.code, 0) << r.out << r.err << agent.log();

  // A reload with a number that overflows: refused, the running config kept, still alive.
  std::string bad = config;
  bad.replace(bad.find("\"alarm_delay_s\": 1"), 18, "\"alarm_delay_s\": 1e400");
  write_file(cfg, bad);
  ::kill(agent.pid(), SIGHUP);
  EXPECT_TRUE(agent.wait_for_log("reload refused", 20s)) << agent.log();
  EXPECT_THAT(agent.log(), HasSubstr("out of range"));
  write_file(cfg, config);
  EXPECT_EQ(run_agent({"zones", "--json", "-c", cfg}).code, 0);
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

TEST(ColdChainDaemon, AnExcursionOpenWhenTheAgentWasKilledIsRecordedAtTheNextStart) {
  TempDir dir;
  const auto db = dir.file("agent.db"), cfg = dir.file("agent.json");
  write_file(cfg, cold_config(db));
  {
    // What a run SIGKILLed during an alarm leaves: its last zone state, with the excursion.
    AgentProcess first(cfg, dir.file("first.log"));
    ASSERT_TRUE(first.wait_for_log("cold chain: 1 zone(s)", 20s)) << first.log();
    ::kill(first.pid(), SIGKILL);
    first.wait_exit(10s);
    auto d = store::Database::open(db, {});
    ASSERT_TRUE(d.ok()) << d.error().message;
    coldchain::Excursion x;
    x.seq = 1;
    x.zone = "pharma-1";
    x.limit_c = 8;
    x.start = {1'000'000'000'000, 1'795'000'020'000, false};
    x.peak_c = 11.5;
    x.peak_probe = "p1";
    x.degree_minutes = 42;
    x.alarmed = true;
    x.alarm_at = coldchain::Instant{1'900'000'000'000, 1'795'000'920'000, false};
    x.cause = coldchain::AlarmCause::kContinuous;
    json state{{"zone", "pharma-1"}, {"level", "alarm"}, {"probes", json::array()},
               {"open_excursions", json::array({store::excursion_json(x, "pharma-1/high/old/1",
                                                                       2'000'000'000'000)})}};
    ASSERT_TRUE((*d)->transaction([&] {
                     return store::save_zone_state(**d, "pharma-1", state, 1'795'001'020'000);
                   }).ok());
  }
  AgentProcess agent(cfg, dir.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("cold chain: 1 zone(s)", 20s)) << agent.log();
  auto r = run_agent({"alarms", "--json", "-c", cfg});
  ASSERT_EQ(r.code, 0) << r.err;
  auto alarms = json::parse(r.out);
  ASSERT_EQ(alarms.size(), 1u) << r.out;
  EXPECT_EQ(alarms[0]["id"], "pharma-1/high/old/1");
  EXPECT_EQ(alarms[0]["ended"], "restart");
  EXPECT_EQ(alarms[0]["open"], false);
  EXPECT_EQ(alarms[0]["end"], "2026-11-18T11:23:40.000Z");  // the killed run's last state
  EXPECT_DOUBLE_EQ(alarms[0]["peak_c"].get<double>(), 11.5);
  EXPECT_EQ(audit_count(cfg, "excursion"), 1);
  EXPECT_EQ(agent.stop(), 0);
}

// A crash-looping agent must not postpone an alarm forever: killed while a warm zone was in
// alarm and started again (here with a 10-minute delay), it alarms at the first reading that
// finds the zone still beyond its limit, not 10 minutes later.
TEST(ColdChainDaemon, AZoneInAlarmWhenTheAgentWasKilledAlarmsAgainAtOnceIfStillOut) {
  TempDir dir;
  const auto db = dir.file("agent.db"), cfg = dir.file("agent.json");
  auto config = [&](int delay_s) {
    return R"({"site": "test-site", "gateway": "gw-1", "database": ")" + db + R"(",
  "zones": [{"id": "pharma-1", "min_c": 2, "max_c": 8, "alarm_delay_s": )" +
           std::to_string(delay_s) + R"(}],
  "sensors": [{"id": "p1", "zone": "pharma-1", "driver": "sim", "read_interval_s": 1,
               "sim": {"base_c": 12}}]})";
  };
  auto open_alarms = [&] {
    auto r = run_agent({"alarms", "--open", "--json", "-c", cfg});
    return r.code == 0 ? json::parse(r.out) : json::array();
  };
  write_file(cfg, config(1));
  {
    AgentProcess first(cfg, dir.file("first.log"));
    ASSERT_TRUE(first.wait_for_log("zone pharma-1 alarm (high)", 20s)) << first.log();
    // The zone state (what a restart reads) is saved at the event's commit.
    ASSERT_TRUE(wait_for([&] { return open_alarms().size() == 1; }, 10s));
    ::kill(first.pid(), SIGKILL);
    first.wait_exit(10s);
  }
  // With no agent running, `alarms` lists it open and unacknowledged: `alarms ack` queues the
  // acknowledgement for the next start (it was refused: "none is open").
  auto acked = run_agent({"alarms", "ack", "pharma-1", "--who", "Ana", "--comment",
                          "fridge door shut", "-c", cfg});
  EXPECT_EQ(acked.code, 0) << acked.err;
  EXPECT_THAT(acked.out, HasSubstr("is queued for the alarm of zone pharma-1 open when the agent "
                                   "stopped: its next start applies it (by Ana)"));
  write_file(cfg, config(600));
  AgentProcess agent(cfg, dir.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("zone pharma-1 alarm (high)", 15s)) << agent.log();
  // The record its start closed carries that acknowledgement.
  auto restart_record_acked = [&] {
    auto r = run_agent({"alarms", "--json", "-c", cfg});
    if (r.code != 0) return false;
    for (const auto& x : json::parse(r.out))
      if (x.value("ended", "") == "restart" && x["acknowledged"].is_object() &&
          x["acknowledged"].value("who", "") == "Ana")
        return true;
    return false;
  };
  EXPECT_TRUE(wait_for(restart_record_acked, 10s)) << run_agent({"alarms", "--json", "-c", cfg}).out;
  EXPECT_THAT(agent.log(), HasSubstr("open at the last stop continues if the zone is still "
                                     "beyond its limit (it had alarmed: at once)"));
  json open;
  ASSERT_TRUE(wait_for([&] { return (open = open_alarms()).size() == 1; }, 10s)) << open.dump();
  EXPECT_EQ(open[0]["cause"], "continuous");
  // The queued acknowledgement was for the alarm of the last run, not this one: it must be
  // acknowledged again (it went silent: no repeat, no escalation).
  EXPECT_TRUE(!open[0].contains("acknowledged") || open[0]["acknowledged"].is_null())
      << open.dump();
  EXPECT_EQ(agent.stop(), 0);
}

TEST(ColdChainDaemon, WithoutZonesNothingColdChainHappens) {
  TempDir dir;
  const auto db = dir.file("agent.db"), cfg = dir.file("agent.json");
  write_file(cfg, sample_config(db));
  AgentProcess agent(cfg, dir.file("agent.log"));
  ASSERT_TRUE(agent.wait_for_log("ready:", 20s)) << agent.log();
  EXPECT_EQ(agent.stop(), 0);
  EXPECT_THAT(agent.log(), ::testing::Not(HasSubstr("cold chain")));
  // The audit trail has the config's first use (every gateway records config changes).
  auto r = run_agent({"audit", "--json", "-c", cfg});
  auto entries = json::parse(r.out);
  ASSERT_EQ(entries.size(), 1u) << r.out;
  EXPECT_EQ(entries[0]["what"], "config.change");
  r = run_agent({"zones", "-c", cfg});
  EXPECT_THAT(r.out, HasSubstr("no zones configured"));
}

}  // namespace
}  // namespace depot::test
