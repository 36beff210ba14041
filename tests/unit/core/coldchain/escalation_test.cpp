// Escalation as a pure function of alarm state, time and results: worked timelines (the one
// in docs/coldchain.md, "Alarm outputs and escalation", among them).
#include "core/coldchain/escalation.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/coldchain/config.hpp"
#include "core/json_fields.hpp"

namespace depot::coldchain {
namespace {

constexpr std::int64_t kMin = 60'000;  // ms

Instant at_min(double m) {
  const auto ms = static_cast<std::int64_t>(m * 60'000);
  return Instant{ms * 1'000'000, 1'800'000'000'000 + ms, false};
}

OutputSpec exec_output(std::string name) {
  OutputSpec o;
  o.name = std::move(name);
  o.kind = OutputKind::kExec;
  o.exec.command = {"/bin/true"};
  return o;
}

OutputSpec coil_output(std::string name) {
  OutputSpec o;
  o.name = std::move(name);
  o.kind = OutputKind::kModbus;
  o.modbus.host = "127.0.0.1";
  return o;
}

// The documented default: stack light at once, SMS after 15 min repeating every 30 min.
AlarmOutputs doc_config(ResetOn reset_on = ResetOn::kEither) {
  AlarmOutputs c;
  c.outputs = {coil_output("stacklight"), exec_output("sms")};
  EscalationPolicy p;
  p.temperature = {{0, {"stacklight"}, 0}, {15 * kMin, {"sms"}, 30 * kMin}};
  p.probe_failure = {{0, {"sms"}, 0}};
  p.reset_on = reset_on;
  c.fallback = p;
  return c;
}

AlarmInfo alarm(std::string id, double minute, std::string zone = "freezer-1") {
  AlarmInfo a;
  a.id = std::move(id);
  a.zone = std::move(zone);
  a.type = AlarmType::kTemperature;
  a.side = "high";
  a.value_c = -15.2;
  a.limit_c = -18;
  a.raised = at_min(minute);
  return a;
}

// "output:event:level:repeat" per action.
std::vector<std::string> names(const std::vector<OutputAction>& v) {
  std::vector<std::string> out;
  for (const auto& a : v)
    out.push_back(a.output + ":" + std::string(to_string(a.event)) + ":" + std::to_string(a.level) +
                  ":" + std::to_string(a.repeat));
  return out;
}

using Names = std::vector<std::string>;

TEST(Escalation, TheDocumentedTimelineFiresLevelsRepeatsAndStopsAtAcknowledgement) {
  Escalator e(doc_config());
  e.raise(alarm("x1", 0));
  EXPECT_EQ(names(e.due(at_min(0))), (Names{"stacklight:fire:1:0"}));
  EXPECT_TRUE(names(e.due(at_min(14.9))).empty());
  EXPECT_EQ(names(e.due(at_min(15))), (Names{"sms:fire:2:0"}));
  EXPECT_TRUE(names(e.due(at_min(44.9))).empty());
  EXPECT_EQ(names(e.due(at_min(45))), (Names{"sms:fire:2:1"}));
  EXPECT_EQ(*e.next_due_ns(), at_min(75).mono_ns);
  // Acknowledged at 50 min: no more SMS; "either" resets both outputs at once.
  e.acknowledge("x1", at_min(50));
  EXPECT_EQ(names(e.due(at_min(50))), (Names{"sms:reset:2:0", "stacklight:reset:2:0"}));
  EXPECT_TRUE(names(e.due(at_min(120))).empty());
  EXPECT_EQ(e.active(), 0u);
  auto fired = e.fired("x1");
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].level, 1);
  EXPECT_EQ(fired[1].times, 2);
  EXPECT_EQ(fired[1].last.mono_ns, at_min(45).mono_ns);
}

TEST(Escalation, AnAlarmAcknowledgedBeforeTheNextLevelNeverReachesIt) {
  Escalator e(doc_config());
  e.raise(alarm("x1", 0));
  EXPECT_EQ(names(e.due(at_min(0))).size(), 1u);
  e.acknowledge("x1", at_min(3));
  EXPECT_EQ(names(e.due(at_min(20))), (Names{"stacklight:reset:1:0"}));
  EXPECT_FALSE(e.next_due_ns());
}

TEST(Escalation, ALateTickFiresEveryLevelThatFellDueOnceInTimeOrder) {
  Escalator e(doc_config());
  e.raise(alarm("x1", 0));
  // Nothing ran for 100 minutes: level 1 and 2 once each (not three missed repeats).
  EXPECT_EQ(names(e.due(at_min(100))), (Names{"stacklight:fire:1:0", "sms:fire:2:0"}));
  EXPECT_EQ(*e.next_due_ns(), at_min(105).mono_ns);
}

TEST(Escalation, ResetOnClearKeepsTheLightOnAfterAcknowledgementUntilTheZoneRecovers) {
  Escalator e(doc_config(ResetOn::kClear));
  e.raise(alarm("x1", 0));
  (void)e.due(at_min(0));
  e.acknowledge("x1", at_min(5));
  EXPECT_TRUE(names(e.due(at_min(30))).empty());  // stopped, not reset
  e.clear("x1", at_min(40));
  EXPECT_EQ(names(e.due(at_min(40))), (Names{"stacklight:reset:1:0"}));
  EXPECT_EQ(e.active(), 0u);
}

TEST(Escalation, ResetOnAckKeepsEscalatingAClearedAlarmUntilSomeoneSigns) {
  Escalator e(doc_config(ResetOn::kAck));
  e.raise(alarm("x1", 0));
  (void)e.due(at_min(0));
  e.clear("x1", at_min(5));
  EXPECT_TRUE(names(e.due(at_min(10))).empty());
  EXPECT_EQ(names(e.due(at_min(15))), (Names{"sms:fire:2:0"}));  // nobody signed yet
  e.acknowledge("x1", at_min(16));
  EXPECT_EQ(names(e.due(at_min(16))), (Names{"sms:reset:2:0", "stacklight:reset:2:0"}));
}

TEST(Escalation, ResetOnBothWaitsForClearAndAcknowledgement) {
  Escalator e(doc_config(ResetOn::kBoth));
  e.raise(alarm("x1", 0));
  (void)e.due(at_min(0));
  e.acknowledge("x1", at_min(5));
  EXPECT_TRUE(names(e.due(at_min(20))).empty());  // acknowledged: no level 2; light stays
  e.clear("x1", at_min(25));
  EXPECT_EQ(names(e.due(at_min(25))), (Names{"stacklight:reset:1:0"}));
}

TEST(Escalation, ASharedCoilIsSwitchedOffOnlyByItsLastHolder) {
  Escalator e(doc_config());
  e.raise(alarm("x1", 0));
  e.raise(alarm("x2", 1, "freezer-2"));
  EXPECT_EQ(names(e.due(at_min(1))), (Names{"stacklight:fire:1:0", "stacklight:fire:1:0"}));
  e.acknowledge("x1", at_min(2));
  auto r1 = e.due(at_min(2));
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_FALSE(r1[0].last_holder);  // freezer-2 still holds the light
  e.acknowledge("x2", at_min(3));
  auto r2 = e.due(at_min(3));
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_TRUE(r2[0].last_holder);
}

// freezer-a's alarm holds the stack light since 0; freezer-b alarms at 1 min; freezer-a is
// acknowledged at 0.99 min, before freezer-b's light fires, and the loop's next due() runs at
// 1.01 min. freezer-b's fire (stamped 1.00) sorts before freezer-a's reset (decided when the
// light was freezer-a's alone): that reset must not switch the light off under freezer-b.
TEST(Escalation, AnAckJustBeforeAnotherAlarmFiresDoesNotSwitchOffItsSharedCoil) {
  Escalator e(doc_config());
  e.raise(alarm("a1", 0, "freezer-a"));
  EXPECT_EQ(names(e.due(at_min(0))), (Names{"stacklight:fire:1:0"}));
  e.raise(alarm("b1", 1, "freezer-b"));
  e.acknowledge("a1", at_min(0.99));
  auto r = e.due(at_min(1.01));
  ASSERT_EQ(names(r), (Names{"stacklight:fire:1:0"}));  // freezer-a's reset is void
  EXPECT_EQ(r[0].alarm.id, "b1");
  EXPECT_TRUE(e.due(at_min(1.5)).empty());
  // freezer-b, acknowledged in turn, is the light's last holder: now it goes off.
  e.acknowledge("b1", at_min(2));
  auto off = e.due(at_min(2));
  ASSERT_EQ(names(off), (Names{"stacklight:reset:1:0"}));
  EXPECT_EQ(off[0].alarm.id, "b1");
  EXPECT_TRUE(off[0].last_holder);
  EXPECT_EQ(e.active(), 0u);
}

// A hook (a buzzer) shared the same way gets both actions, in time order; the reset says that
// freezer-b still holds the buzzer, as of when it is handed out.
AlarmOutputs buzzer_config() {
  AlarmOutputs c;
  c.outputs = {exec_output("buzzer")};
  EscalationPolicy p;
  p.temperature = {{0, {"buzzer"}, 0}};
  c.fallback = p;
  return c;
}

TEST(Escalation, AHooksResetSaysWhetherAnotherAlarmHoldsTheOutputWhenHandedOut) {
  Escalator e(buzzer_config());
  e.raise(alarm("a1", 0, "freezer-a"));
  (void)e.due(at_min(0));
  e.raise(alarm("b1", 1, "freezer-b"));
  e.acknowledge("a1", at_min(0.99));
  auto r = e.due(at_min(1.01));
  ASSERT_EQ(names(r), (Names{"buzzer:fire:1:0", "buzzer:reset:1:0"}));
  EXPECT_EQ(r[0].alarm.id, "b1");
  EXPECT_EQ(r[1].alarm.id, "a1");
  EXPECT_FALSE(r[1].last_holder);  // freezer-b holds the buzzer: keep sounding
  e.acknowledge("b1", at_min(2));
  auto off = e.due(at_min(2));
  ASSERT_EQ(off.size(), 1u);
  EXPECT_TRUE(off[0].last_holder);
}

// freezer-a's reset of the buzzer fails at 0.5 min (retry 5 s later, at 0.5833 min); freezer-b
// fires the buzzer at 0.55 min. The retry is judged again: freezer-b holds it now.
TEST(Escalation, ARetriedResetIsJudgedAgainWhenItIsHandedOut) {
  Escalator e(buzzer_config());
  e.raise(alarm("a1", 0, "freezer-a"));
  (void)e.due(at_min(0));
  e.acknowledge("a1", at_min(0.5));
  auto reset = e.due(at_min(0.5));
  ASSERT_EQ(reset.size(), 1u);
  EXPECT_TRUE(reset[0].last_holder);  // nobody else holds it yet
  (void)e.on_result({reset[0], false, "exit status 1"}, at_min(0.5));
  e.raise(alarm("b1", 0.55, "freezer-b"));
  EXPECT_EQ(names(e.due(at_min(0.55))), (Names{"buzzer:fire:1:0"}));
  auto retry = e.due(Instant{at_min(0.5).mono_ns + 5'000'000'000, 0, false});
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].alarm.id, "a1");
  EXPECT_EQ(retry[0].attempt, 2);
  EXPECT_FALSE(retry[0].last_holder);
}

TEST(Escalation, AZonesOwnPolicyReplacesTheDefaultAndProbeFailuresUseTheirOwnLevels) {
  auto c = doc_config();
  EscalationPolicy quiet;
  quiet.temperature = {{5 * kMin, {"sms"}, 0}};
  c.zone_policies["pharma-1"] = quiet;
  Escalator e(c);
  e.raise(alarm("p", 0, "pharma-1"));
  auto pf = alarm("f", 0);
  pf.type = AlarmType::kProbeFailure;
  e.raise(pf);
  EXPECT_EQ(names(e.due(at_min(0))), (Names{"sms:fire:1:0"}));  // the probe failure
  EXPECT_EQ(names(e.due(at_min(5))), (Names{"sms:fire:1:0"}));  // pharma-1's only level
  // A zone whose policy has no level for the type: nothing tracked.
  auto pf2 = alarm("pf2", 6, "pharma-1");
  pf2.type = AlarmType::kProbeFailure;
  e.raise(pf2);
  EXPECT_TRUE(e.due(at_min(60)).empty());
}

TEST(Escalation, FailuresAreRetriedWithBackoffRaiseAndClearTheOutputsFailure) {
  auto c = doc_config();
  c.outputs[1].backoff_s = 10;
  c.outputs[1].max_backoff_s = 25;
  c.outputs[1].attempts = 4;
  Escalator e(c);
  e.raise(alarm("x1", 0));
  (void)e.due(at_min(0));
  auto sms = e.due(at_min(15));
  ASSERT_EQ(sms.size(), 1u);
  const auto t0 = at_min(15);
  auto change = e.on_result({sms[0], false, "exit status 1"}, t0);
  ASSERT_TRUE(change);
  EXPECT_TRUE(change->failing);
  EXPECT_EQ(change->output, "sms");
  EXPECT_TRUE(e.health().at("sms").failing);
  // Retries after 10 s, then 20 s, then 25 s (the cap); attempt 4 is the last.
  std::int64_t t = t0.mono_ns;
  int attempt = 2;
  for (int delay_s : {10, 20, 25}) {
    t += std::int64_t{delay_s} * 1'000'000'000;
    Instant now{t - 1, 0, false};
    EXPECT_TRUE(e.due(now).empty()) << attempt;
    now.mono_ns = t;
    auto retry = e.due(now);
    ASSERT_EQ(retry.size(), 1u) << attempt;
    EXPECT_EQ(retry[0].attempt, attempt);
    EXPECT_FALSE(e.on_result({retry[0], false, "exit status 1"}, now));  // already failing
    ++attempt;
  }
  EXPECT_FALSE(e.next_due_ns() && *e.next_due_ns() < at_min(45).mono_ns);  // gave up
  EXPECT_EQ(e.health().at("sms").failures, 4);
  // The repeat at 45 min succeeds: the failure clears.
  auto rep = e.due(at_min(45));
  ASSERT_EQ(rep.size(), 1u);
  auto cleared = e.on_result({rep[0], true, ""}, at_min(45));
  ASSERT_TRUE(cleared);
  EXPECT_FALSE(cleared->failing);
}

TEST(Escalation, AResetReplacesAPendingFireRetryAndACoilRetriesUntilItWorks) {
  Escalator e(doc_config());
  e.raise(alarm("x1", 0));
  auto fire = e.due(at_min(0));
  ASSERT_EQ(fire.size(), 1u);
  (void)e.on_result({fire[0], false, "Modbus connect failed"}, at_min(0));
  e.acknowledge("x1", at_min(0.05));  // before the retry at 5 s
  auto reset = e.due(at_min(0.05));
  EXPECT_EQ(names(reset), (Names{"stacklight:reset:1:0"}));
  EXPECT_TRUE(e.due(at_min(1)).empty());  // the fire retry is gone
  // The reset fails 7 times: a coil keeps retrying (attempts do not limit it).
  auto r = reset[0];
  Instant now = at_min(1);
  for (int i = 0; i < 7; ++i) {
    (void)e.on_result({r, false, "timeout"}, now);
    now = Instant{*e.next_due_ns(), 0, false};
    auto next = e.due(now);
    ASSERT_EQ(next.size(), 1u);
    r = next[0];
  }
  EXPECT_EQ(r.attempt, 8);
}

TEST(Escalation, AtStartEveryCoilIsResetAndAFailedStartResetIsRetried) {
  Escalator e(doc_config());
  auto resets = e.start_resets(at_min(0));
  EXPECT_EQ(names(resets), (Names{"stacklight:reset:0:0"}));  // the sms hook gets none
  EXPECT_TRUE(resets[0].last_holder);
  (void)e.on_result({resets[0], false, "Modbus connect failed"}, at_min(0));
  auto retry = e.due(Instant{at_min(0).mono_ns + 5'000'000'000, 0, false});
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].attempt, 2);
  // An alarm's fire voids a pending start reset of the same coil.
  (void)e.on_result({retry[0], false, "Modbus connect failed"}, at_min(0.1));
  e.raise(alarm("x1", 0.1));
  EXPECT_EQ(names(e.due(at_min(0.1))), (Names{"stacklight:fire:1:0"}));
  EXPECT_TRUE(e.due(at_min(10)).empty());
}

// --- config ---

AlarmOutputs parse(const std::string& outputs, const std::string& escalation,
                   const std::string& zones, std::vector<std::string>& problems) {
  Problems p;
  AlarmOutputs out;
  auto o = nlohmann::json::parse(outputs), e = nlohmann::json::parse(escalation),
       z = nlohmann::json::parse(zones);
  read_alarm_outputs(o.is_null() ? nullptr : &o, e.is_null() ? nullptr : &e,
                     z.is_null() ? nullptr : &z, p, out);
  problems = p.items();
  return out;
}

TEST(EscalationConfig, ReadsOutputsLevelsInSecondsOrMinutesAndZonePolicies) {
  std::vector<std::string> problems;
  auto c = parse(
      R"([{"name":"stacklight","modbus":{"host":"127.0.0.1","port":1502,"unit":1,"coil":3}},
          {"name":"sms","exec":{"command":["/usr/local/bin/alarm-sms","-v"],"timeout_s":20},
           "backoff_s":3,"attempts":2}])",
      R"({"temperature":[{"after_min":0,"outputs":["stacklight"]},
                         {"after_min":15,"outputs":["sms"],"repeat_min":30}],
          "probe_failure":[{"after_s":0,"outputs":["sms"]}],"reset_on":"clear"})",
      R"([{"id":"pharma-1","escalation":{"temperature":[{"after_s":1.5,"outputs":["sms"]}]}}])",
      problems);
  ASSERT_TRUE(problems.empty()) << problems[0];
  ASSERT_EQ(c.outputs.size(), 2u);
  EXPECT_EQ(c.outputs[0].kind, OutputKind::kModbus);
  EXPECT_EQ(c.outputs[0].modbus.coil, 3);
  EXPECT_EQ(c.outputs[0].modbus.port, 1502);
  EXPECT_EQ(c.outputs[1].exec.command.size(), 2u);
  EXPECT_EQ(c.outputs[1].exec.timeout_s, 20);
  EXPECT_EQ(c.outputs[1].attempts, 2);
  ASSERT_TRUE(c.fallback);
  EXPECT_EQ(c.fallback->temperature[1].after_ms, 15 * kMin);
  EXPECT_EQ(c.fallback->temperature[1].repeat_ms, 30 * kMin);
  EXPECT_EQ(c.fallback->reset_on, ResetOn::kClear);
  EXPECT_EQ(c.policy_for("pharma-1")->temperature[0].after_ms, 1500);
  EXPECT_EQ(c.policy_for("freezer-1"), &*c.fallback);
}

TEST(EscalationConfig, EveryProblemNamesItsPathValueAndRule) {
  std::vector<std::string> problems;
  (void)parse(
      R"([{"name":"a","modbus":{"host":"h","coil":70000}},
          {"name":"b","exec":{"command":["alarm-sms"]}},
          {"name":"c"},
          {"name":"a","exec":{"command":["/bin/true"]}}])",
      R"({"temperature":[{"after_min":5,"outputs":["nope"]},{"after_s":60,"outputs":["b"]}],
          "reset_on":"never"})",
      R"([{"id":"z","escalation":{"temperature":[{"after_s":1,"after_min":1,"outputs":["a"]}]}}])",
      problems);
  auto has = [&](const std::string& s) {
    for (const auto& p : problems)
      if (p.find(s) != std::string::npos) return true;
    return false;
  };
  std::string all;
  for (const auto& p : problems) all += p + "\n";
  EXPECT_TRUE(has("outputs[0].modbus.coil: 70000 must be between 0 and 65535")) << all;
  EXPECT_TRUE(has("outputs[1].exec.command[0]: \"alarm-sms\" must be an absolute path")) << all;
  EXPECT_TRUE(has("outputs[2]: needs modbus (a coil) or exec (a command)")) << all;
  EXPECT_TRUE(has("outputs[3].name: \"a\" is already used by outputs[0]")) << all;
  EXPECT_TRUE(has("escalation.temperature[0].outputs[0]: \"nope\" is not a configured output"))
      << all;
  EXPECT_TRUE(
      has("escalation.temperature[1]: after 60000 ms must be later than level 1's 300000 ms"))
      << all;
  EXPECT_TRUE(has("escalation.reset_on")) << all;
  EXPECT_TRUE(
      has("zones[0].escalation.temperature[0].after_s: give after_s or after_min, not both"))
      << all;
}

TEST(EscalationConfig, CheckWarnsAboutUnusedOutputsAndZonesWithoutEscalation) {
  std::vector<std::string> problems;
  auto c = parse(R"([{"name":"light","modbus":{"host":"h","coil":1}},
                     {"name":"spare","exec":{"command":["/bin/true"]}}])",
                 R"({"temperature":[{"after_s":0,"outputs":["light"]}]})", "null", problems);
  ASSERT_TRUE(problems.empty());
  Zone z;
  z.id = "freezer-1";
  auto w = output_warnings(c, {z});
  std::string all;
  for (const auto& s : w) all += s + "\n";
  EXPECT_NE(all.find("outputs[1]: \"spare\" is used by no escalation level"), std::string::npos)
      << all;
  EXPECT_NE(all.find("\"freezer-1\" has no escalation for probe_failure alarms"), std::string::npos)
      << all;
}

}  // namespace
}  // namespace depot::coldchain
