// Cloud sync end to end: the real agent binary, a real mosquitto, a Paho client as the cloud.
// Each test bounds every wait; together they run in well under three minutes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "agent_process.hpp"
#include "core/time.hpp"
#include "harness.hpp"
#include "store/coldchain_store.hpp"
#include "store/database.hpp"
#include "store/outbox.hpp"
#include "sync/commands.hpp"

namespace depot::itest {
namespace {
using nlohmann::json;
using ::testing::HasSubstr;

const std::string kPrefix = "depot/v1/test-site/gw-1/";

std::string mqtt_section(int port, const std::string& extra = "",
                         const std::string& host = "127.0.0.1") {
  return R"({"host": ")" + host + R"(", "port": )" + std::to_string(port) +
         R"(, "backoff_min_s": 1, "backoff_max_s": 2, "drain_per_s": 0, "keepalive_s": 5)" + extra +
         "}";
}

// Every seq 1..n of `stream` arrived; a seq seen twice is the same record (a resend).
void expect_complete(Cloud& cloud, const std::string& stream, std::int64_t n) {
  std::map<std::int64_t, std::string> first;
  for (const auto& r : cloud.records(stream)) {
    auto seq = r["seq"].get<std::int64_t>();
    auto [it, fresh] = first.emplace(seq, r.dump());
    if (!fresh) {
      EXPECT_EQ(it->second, r.dump()) << "seq " << seq << " came twice, differently";
    }
  }
  for (std::int64_t s = 1; s <= n; ++s) {
    EXPECT_TRUE(first.count(s)) << stream << " seq " << s << " missing";
  }
  EXPECT_EQ(first.size(), static_cast<std::size_t>(n)) << "records beyond seq " << n;
}

// The order in which seqs first arrived is strictly increasing.
void expect_in_order(Cloud& cloud, const std::string& stream) {
  std::int64_t high = 0;
  std::set<std::int64_t> seen;
  for (const auto& r : cloud.records(stream)) {
    auto seq = r["seq"].get<std::int64_t>();
    if (seen.insert(seq).second) {
      EXPECT_GT(seq, high) << "seq " << seq << " arrived after " << high;
      high = seq;
    }
  }
}

std::int64_t committed_movements(const std::string& db_path) {
  auto db = store::Database::open(db_path, {.read_only = true});
  if (!db) return -1;
  auto q = (*db)->prepare("SELECT count(*) FROM movements");
  if (!q) return -1;  // not created yet
  if (auto row = (*q)->step(); !row || !*row) return -1;
  auto n = (*q)->int64(0);
  (*q)->reset();
  return n;
}

std::int64_t outbox_left(const std::string& db_path) {
  auto db = store::Database::open(db_path, {.read_only = true});
  if (!db) return -1;
  auto n = store::outbox_depth(**db, "movements");
  return n ? *n : -1;
}

// Validates every message received against docs/schemas with python3-jsonschema.
void expect_schema_valid(Cloud& cloud, const test::TempDir& dir) {
  std::ofstream out(dir.file("messages.jsonl"));
  for (const auto& m : cloud.messages())
    out << json{{"topic", m.topic}, {"payload", json::parse(m.payload)}}.dump() << "\n";
  out.close();
  std::string cmd = "python3 " DEPOT_SOURCE_DIR
                    "/tests/integration/validate_messages.py " DEPOT_SOURCE_DIR "/docs/schemas " +
                    dir.file("messages.jsonl") + " > " + dir.file("validate.log") + " 2>&1";
  int rc = sh(cmd);
  EXPECT_EQ(rc, 0) << read_file(dir.file("validate.log"));
}

// The "online" status messages received. MQTT orders messages only within a topic, so the
// retained status may come after the first movements (aedes stores a retained message before
// it forwards it): wait for it rather than assume it came first.
std::vector<json> online_statuses(Cloud& cloud) {
  std::vector<json> out;
  for (auto& m : cloud.on("/status")) {
    auto j = json::parse(m.payload);
    if (j["state"] == "online") out.push_back(std::move(j));
  }
  return out;
}

class Sync : public ::testing::Test {
 protected:
  std::string write_config(const std::string& mqtt) {
    auto path = dir_.file("agent.json");
    test::write_file(path, agent_config("depot.db", mqtt));
    return path;
  }
  test::TempDir dir_;
};

TEST_F(Sync, NormalFlowMovementsArriveSchemaValidWithOnlineStatus) {
  Broker broker(dir_);
  broker.start();
  Cloud cloud(broker.port());
  Agent agent(dir_, write_config(mqtt_section(broker.port())));
  agent.start();
  for (int i = 0; i < 20; ++i) agent.scan(i % 2 ? "INT-MATCHA" : "14006381333938");
  agent.scan("0000000000000");  // not in the catalog: a reject
  ASSERT_TRUE(wait_for(
      [&] { return cloud.seqs("movements").size() == 20 && !cloud.seqs("rejects").empty(); }, 10s))
      << "cloud got " << cloud.messages().size() << " messages, " << cloud.seqs("movements").size()
      << " movements\n"
      << broker.log();
  expect_complete(cloud, "movements", 20);
  expect_in_order(cloud, "movements");
  auto recs = cloud.records("movements");
  EXPECT_EQ(recs[0]["sku"], "TINT");
  EXPECT_EQ(recs[0]["qty"], 12);
  EXPECT_EQ(recs[1]["sku"], "MATCHA");
  auto envelope = json::parse(cloud.on("/movements")[0].payload);
  EXPECT_EQ(envelope["v"], 1);
  EXPECT_EQ(envelope["site"], "test-site");
  EXPECT_EQ(envelope["gateway"], "gw-1");
  EXPECT_EQ(envelope["stream"], "movements");
  ASSERT_TRUE(wait_for([&] { return !online_statuses(cloud).empty(); }, 5s));
  auto online = online_statuses(cloud).back();
  EXPECT_EQ(online["state"], "online");
  EXPECT_EQ(online["version"], "0.1.0");
  expect_schema_valid(cloud, dir_);

  // Removed from the outbox only after PUBACK: once acknowledged, it empties.
  ASSERT_TRUE(wait_for(
      [&] {
        auto db = store::Database::open(dir_.file("depot.db"), {.read_only = true});
        return db && *store::outbox_depth(**db, "movements") == 0;
      },
      5s));
  agent.stop(SIGTERM);
  EXPECT_THAT(agent.log(), HasSubstr("mqtt: connected"));
  // A clean stop says offline itself (retained).
  ASSERT_TRUE(wait_for(
      [&] { return json::parse(cloud.on("/status").back().payload)["state"] == "offline"; }, 3s));
}

// The whole gateway to the cloud: scans, a simulated freezer probe that goes out of range
// (readings on `telemetry`, the zone's events on `alarms`, the hold as a movement) and a SKU
// received below its reorder point (a proposal on `reorders`), all schema-valid; then the
// cold-chain and replenishment commands (alarm.ack, hold.release, reorder.ack/cancel,
// campaign.set/clear) round trip through the broker.
TEST_F(Sync, ReadingsAlarmsHoldsAndProposalsArriveSchemaValid) {
  Broker broker(dir_);
  broker.start();
  Cloud cloud(broker.port());
  auto cfg = dir_.file("agent.json");
  test::write_file(cfg, R"({
  "site": "test-site", "gateway": "gw-1", "database": "depot.db",
  "durability": {"batch_max_ms": 2},
  "catalog": [
    {"sku": "TINT", "name": "Lip tint", "barcodes": ["4006381333931"], "policy": "fast",
     "daily_demand": 40, "cases": [{"barcode": "14006381333938", "qty": 12}]},
    {"sku": "MATCHA", "name": "Matcha ice cream", "barcodes": ["INT-MATCHA"], "zone": "freezer"}
  ],
  "policies": {"fast": {"lead_time_days": 3, "review_period_days": 1, "safety_days": 2,
                        "suppliers": [{"id": "sz", "lead_time_days": 2, "unit_price": 2.5}]}},
  "zones": [{"id": "freezer", "max_c": -18, "alarm_delay_s": 1}],
  "sensors": [{"id": "fz-1", "zone": "freezer", "driver": "sim", "read_interval_s": 1,
               "sim": {"profile": "script", "repeat": false,
                       "script": [{"c": -21, "for_s": 2}, {"c": -10, "for_s": 600}]}}],
  "scanners": [{"id": "dock", "role": "receive", "driver": "stdin", "double_read_ms": 0}],
  "mqtt": )" + mqtt_section(broker.port()) + R"(
})");
  Agent agent(dir_, cfg);
  agent.start();
  agent.scan("14006381333938");  // 12 TINT: far below its reorder point
  for (int i = 0; i < 5; ++i) agent.scan("INT-MATCHA");
  auto has = [&](const char* stream, const char* key, const char* value) {
    for (auto& r : cloud.records(stream))
      if (r.value(key, json()) == value) return true;
    return false;
  };
  ASSERT_TRUE(wait_for(
      [&] {
        return has("reorders", "event", "proposed") && has("alarms", "kind", "alarm") &&
               !cloud.seqs("telemetry").empty() && cloud.seqs("movements").size() >= 7;
      },
      40s))
      << agent.log();
  // The hold: MATCHA's 5 tubs, as a movement the cloud received.
  bool hold = false;
  for (auto& m : cloud.records("movements")) hold |= m["kind"] == "hold" && m["sku"] == "MATCHA";
  EXPECT_TRUE(hold);
  for (const char* s : {"movements", "telemetry", "alarms", "reorders"}) expect_in_order(cloud, s);

  // The cold-chain and replenishment commands round trip through the broker as well.
  auto command = [&](const std::string& name, const std::string& payload) {
    auto before = cloud.on("/cmd/" + name + "/reply").size();
    cloud.publish(kPrefix + "cmd/" + name, payload);
    // Generous bounds (they end as soon as the answer is there): this test failed once under
    // the full suite's -j2 load, with no output kept to say which wait it was.
    EXPECT_TRUE(wait_for([&] { return cloud.on("/cmd/" + name + "/reply").size() > before; }, 15s))
        << name << " got no reply";
    // The first reply after `before` answers this command: a queued command's outcome (a
    // second reply on the same topic) may already have arrived behind it.
    auto r = cloud.on("/cmd/" + name + "/reply");
    return r.size() > before ? json::parse(r[before].payload) : json();
  };
  std::string proposal;
  for (auto& r : cloud.records("reorders"))
    if (r["event"] == "proposed") proposal = r["proposal_id"];
  auto r = command("alarm.ack",
                   R"({"id":"k-1","args":{"zone":"freezer","who":"qa","comment":"door closed"}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  r = command("hold.release", R"({"id":"k-2","args":{"hold":1,"who":"qa","why":"checked"}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  r = command("reorder.ack", R"({"id":"k-3","args":{"proposal_id":")" + proposal +
                                 R"(","order_number":"PO-1","who":"buyer-1"}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  r = command("reorder.cancel", R"({"id":"k-4","args":{"proposal_id":")" + proposal +
                                    R"(","reason":"supplier out of stock","who":"buyer-1"}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  r = command("campaign.set",
              R"({"id":"k-5","args":{"name":"live-1","skus":["TINT"],"factor":4,)"
              R"("start":"2026-12-01T00:00:00Z","end":"2026-12-02T00:00:00Z"}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  r = command("campaign.clear", R"({"id":"k-6","args":{"name":"live-1"}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  r = command("reorder.ack", R"({"id":"k-7","args":{"proposal_id":"no-such","order_number":"PO-2","who":"buyer-1"}})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("args.proposal_id"));
  // The acknowledgement reaches the zone monitor (an `acknowledged` event); the release is a
  // movement.
  ASSERT_TRUE(wait_for([&] { return has("alarms", "kind", "acknowledged"); }, 20s)) << agent.log();
  EXPECT_TRUE(wait_for(
      [&] {
        for (auto& m : cloud.records("movements"))
          if (m["kind"] == "release") return true;
        return false;
      },
      15s))
      << agent.log();
  // The outcome of a queued alarm.ack reaches the cloud as a second reply: applied for k-1;
  // refused (nothing left to acknowledge) for k-8, which used to be lost.
  auto outcome = [&](const std::string& id) {
    json found;
    wait_for(
        [&] {
          for (auto& m : cloud.on("/cmd/alarm.ack/reply")) {
            auto j = json::parse(m.payload);
            if (j["id"] == id && j.contains("result") && j["result"]["status"] != "queued")
              found = j;
          }
          return !found.is_null();
        },
        20s);
    return found;
  };
  auto applied = outcome("k-1");
  EXPECT_EQ(applied["ok"], true) << applied.dump();
  EXPECT_EQ(applied["result"]["status"], "applied");
  r = command("alarm.ack", R"({"id":"k-8","args":{"zone":"freezer","who":"qa","comment":"again"}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["status"], "queued");
  auto refused = outcome("k-8");
  EXPECT_EQ(refused["ok"], false) << refused.dump() << agent.log();
  EXPECT_EQ(refused["result"]["status"], "rejected");
  EXPECT_TRUE(refused["error"].is_string());
  EXPECT_TRUE(wait_for([&] { return has("audit", "event", "command.outcome"); }, 15s));
  expect_schema_valid(cloud, dir_);
  agent.stop(SIGTERM);
}

// Issue 17 end to end: a live stream's orders arrive as cloud commands through mosquitto,
// reservations cut availability (and backorder what is not there), the surge is raised from
// order intake before any pick and its proposal says so; a pick scanned for an order takes
// its reservation; the bulk-pick case (one scan of 120 of a 10/day SKU) stays quiet.
TEST_F(Sync, ALiveStreamsOrdersReserveStockAndRaiseTheSurgeBeforeAnyPick) {
  Broker broker(dir_);
  broker.start();
  Cloud cloud(broker.port());
  auto cfg = dir_.file("agent.json");
  test::write_file(cfg, R"({
  "site": "test-site", "gateway": "gw-1", "database": "depot.db",
  "durability": {"batch_max_ms": 2},
  "catalog": [
    {"sku": "TINT", "name": "Lip tint", "barcodes": ["4006381333931"], "policy": "fast", "daily_demand": 48},
    {"sku": "TEA", "name": "Tea", "barcodes": ["INT-TEA"], "policy": "fast", "daily_demand": 10},
    {"sku": "MASK", "name": "Sheet mask", "barcodes": ["INT-MASK"], "policy": "fast", "daily_demand": 10}
  ],
  "policies": {"fast": {"lead_time_days": 3, "review_period_days": 1, "safety_days": 1,
                        "suppliers": [{"id": "sz", "lead_time_days": 3, "unit_price": 2.5}]}},
  "scanners": [{"id": "dock", "role": "receive", "driver": "stdin", "double_read_ms": 0}],
  "mqtt": )" + mqtt_section(broker.port()) + R"(
})");
  Agent agent(dir_, cfg);
  agent.start();
  // Commands are not retained: send them once the agent has subscribed (it says online after).
  ASSERT_TRUE(wait_for([&] { return !online_statuses(cloud).empty(); }, 15s)) << agent.log();
  auto command = [&](const std::string& name, const json& payload) {
    auto before = cloud.on("/cmd/" + name + "/reply").size();
    cloud.publish(kPrefix + "cmd/" + name, payload.dump());
    EXPECT_TRUE(wait_for([&] { return cloud.on("/cmd/" + name + "/reply").size() > before; }, 15s))
        << name << " got no reply\n" << agent.log();
    auto r = cloud.on("/cmd/" + name + "/reply");
    return r.size() > before ? json::parse(r[before].payload) : json();
  };
  // 600 tints, 300 teas and 300 masks on the shelf, far above their reorder points (192, 40).
  auto r = command("stock.count", {{"id", "n-1"}, {"args", {{"sku", "TINT"}, {"counted", 600}}}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  r = command("stock.count", {{"id", "n-2"}, {"args", {{"sku", "TEA"}, {"counted", 300}}}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  r = command("stock.count", {{"id", "n-3"}, {"args", {{"sku", "MASK"}, {"counted", 300}}}});
  ASSERT_EQ(r["ok"], true) << r.dump();

  // The stream: ten orders of 3 tints, one a few hundred ms after the other.
  for (int i = 0; i < 10; ++i) {
    r = command("order.reserve", {{"id", "o-" + std::to_string(i)},
                                  {"args", {{"order_id", "TT-" + std::to_string(i)},
                                            {"channel", "live:room-42"},
                                            {"lines", {{{"sku", "TINT"}, {"qty", 3}}}}}}});
    ASSERT_EQ(r["ok"], true) << r.dump();
    EXPECT_EQ(r["result"]["reserved"], 3);
  }
  // An order larger than what is available: reserved up to it, the rest backordered.
  r = command("order.reserve", {{"id", "o-big"},
                                {"args", {{"order_id", "TT-BIG"},
                                          {"lines", {{{"sku", "TEA"}, {"qty", 350}}}}}}});
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["lines"][0]["reserved"], 300);
  EXPECT_EQ(r["result"]["lines"][0]["backordered"], 50);

  // The surge, from order intake, before any pick: an alarm and an urgent proposal that say so.
  auto surge_from_orders = [&] {
    for (auto& a : cloud.records("alarms"))
      if (a["sku"] == "TINT" && a["alarm"] == "demand_surge" && a["state"] == "raised" &&
          a["details"]["signal"] == "orders")
        return true;
    return false;
  };
  ASSERT_TRUE(wait_for(surge_from_orders, 20s)) << agent.log();
  json proposal;
  ASSERT_TRUE(wait_for(
      [&] {
        for (auto& p : cloud.records("reorders"))
          if (p["sku"] == "TINT" && p["numbers"]["surge_signal"] == "orders") proposal = p;
        return !proposal.is_null();
      },
      20s))
      << agent.log();
  EXPECT_EQ(proposal["urgent"], true) << proposal.dump();
  EXPECT_GE(proposal["numbers"]["reserved"].get<int>(), 21) << proposal.dump();
  for (auto& m : cloud.records("movements")) EXPECT_NE(m["kind"], "pick") << m.dump();

  // Every order is on the orders stream, in order; stock says what is reserved.
  ASSERT_TRUE(wait_for([&] { return cloud.seqs("orders").size() >= 11; }, 15s));
  expect_in_order(cloud, "orders");
  auto stock = test::run_agent({"stock", "-c", cfg, "--sku", "TINT", "--json"});
  ASSERT_EQ(stock.code, 0) << stock.err;
  auto row = json::parse(stock.out)[0];
  EXPECT_EQ(row["on_hand"], 600);
  EXPECT_EQ(row["reserved"], 30);
  EXPECT_EQ(row["available"], 570);

  // A pick for TT-0 takes its reservation: reserved 27, available still 570.
  auto pick = test::run_agent({"scan", "-c", cfg, "--kind", "pick", "--code", "4006381333931",
                               "--qty", "3", "--order", "TT-0", "--json"});
  ASSERT_EQ(pick.code, 0) << pick.err;
  auto picked = json::parse(pick.out);
  EXPECT_EQ(picked["reservation_taken"], 3);
  EXPECT_EQ(picked["reserved"], 27);
  EXPECT_EQ(picked["available"], 570);
  r = command("order.ship", {{"id", "s-0"}, {"args", {{"order_id", "TT-0"}}}});
  EXPECT_EQ(r["ok"], true) << r.dump();

  // The bulk pick: one scan of 120 masks (10/day) is one event, not a surge; 180 left is
  // far above the reorder point: no proposal either.
  auto bulk = test::run_agent({"scan", "-c", cfg, "--kind", "pick", "--code", "INT-MASK",
                               "--qty", "120"});
  ASSERT_EQ(bulk.code, 0) << bulk.err;
  // The daemon sees another process's movements within its 2 s re-check; give it three.
  ASSERT_TRUE(wait_for(
      [&] {
        for (auto& m : cloud.records("movements"))
          if (m["sku"] == "MASK" && m["kind"] == "pick") return true;
        return false;
      },
      15s));
  std::this_thread::sleep_for(6s);
  for (auto& a : cloud.records("alarms"))
    EXPECT_FALSE(a["sku"] == "MASK" && a["alarm"] == "demand_surge") << a.dump();
  for (auto& p : cloud.records("reorders")) EXPECT_NE(p["sku"], "MASK") << p.dump();
  expect_schema_valid(cloud, dir_);
  agent.stop(SIGTERM);
}

TEST_F(Sync, BrokerDownAtStartTheAgentQueuesThenDeliversEverythingInOrder) {
  Broker broker(dir_);
  Agent agent(dir_, write_config(mqtt_section(broker.port())));
  agent.start();
  for (int i = 0; i < 40; ++i) agent.scan("INT-MATCHA");
  ASSERT_TRUE(wait_for([&] { return committed_movements(dir_.file("depot.db")) == 40; }, 10s))
      << agent.log();
  EXPECT_TRUE(agent.running());
  EXPECT_TRUE(
      wait_for([&] { return agent.log().find("records stay queued") != std::string::npos; }, 5s))
      << agent.log();
  broker.start();
  Cloud cloud(broker.port());
  ASSERT_TRUE(wait_for([&] { return cloud.seqs("movements").size() == 40; }, 10s)) << agent.log();
  expect_complete(cloud, "movements", 40);
  expect_in_order(cloud, "movements");
}

TEST_F(Sync, BrokerRestartedMidStreamLosesNothing) {
  Broker broker(dir_);
  broker.start();
  auto cloud = std::make_unique<Cloud>(broker.port());
  Agent agent(dir_, write_config(mqtt_section(broker.port(), R"(, "batch_records": 5)")));
  agent.start();
  std::atomic<bool> done{false};
  std::thread feeder([&] {
    for (int i = 0; i < 300; ++i) {
      agent.scan("INT-MATCHA");
      std::this_thread::sleep_for(15ms);
    }
    done = true;
  });
  // The cloud's session (and what the broker queued for it) survives each restart in the
  // broker's persistence file; the cloud client reconnects to it after each restart.
  std::vector<Message> earlier;
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(700ms);
    cloud->disconnect();
    auto got = cloud->messages();  // everything it acknowledged
    earlier.insert(earlier.end(), got.begin(), got.end());
    cloud.reset();
    broker.stop(SIGTERM);
    std::this_thread::sleep_for(400ms);
    broker.start();
    cloud = std::make_unique<Cloud>(broker.port());
  }
  cloud->add(earlier);
  feeder.join();
  ASSERT_TRUE(wait_for([&] { return committed_movements(dir_.file("depot.db")) == 300; }, 10s));
  ASSERT_TRUE(wait_for([&] { return cloud->seqs("movements").size() == 300; }, 20s))
      << cloud->seqs("movements").size() << " of 300 (missing " <<
      [&] {
        std::string m;
        auto got = cloud->seqs("movements");
        for (int i = 1; i <= 300; ++i)
          if (!got.count(i)) m += std::to_string(i) + " ";
        return m;
      }()
      << "), outbox " << outbox_left(dir_.file("depot.db")) << "\n"
      << agent.log() << broker.log();
  expect_complete(*cloud, "movements", 300);
}

TEST_F(Sync, AgentKilledMidStreamResumesSeqAndTheLastWillIsSeen) {
  Broker broker(dir_);
  broker.start();
  Cloud cloud(broker.port());
  auto cfg = write_config(mqtt_section(broker.port()));
  Agent agent(dir_, cfg);
  agent.start();
  std::thread feeder([&] {
    for (int i = 0; i < 60; ++i) {
      agent.scan("INT-MATCHA");
      std::this_thread::sleep_for(10ms);
    }
  });
  // A last will needs a connection: on a loaded machine the agent may take longer than the
  // feeder to connect, so wait for it to be online before killing it.
  EXPECT_TRUE(wait_for([&] { return !cloud.on("/status").empty(); }, 5s)) << agent.log();
  std::this_thread::sleep_for(100ms);
  agent.kill9();  // mid-stream: the feeder keeps writing into a pipe nobody reads any more
  feeder.join();
  agent.stop(SIGKILL);
  ASSERT_TRUE(wait_for(
      [&] {
        auto s = cloud.on("/status");
        return !s.empty() && json::parse(s.back().payload)["state"] == "offline";
      },
      5s))
      << "no last will\n" << agent.log() << broker.log();
  auto before = committed_movements(dir_.file("depot.db"));
  ASSERT_GT(before, 0);

  Agent again(dir_, cfg);
  again.start();
  for (int i = 0; i < 20; ++i) again.scan("14006381333938");
  auto total = before + 20;
  ASSERT_TRUE(wait_for([&] { return committed_movements(dir_.file("depot.db")) == total; }, 10s));
  ASSERT_TRUE(wait_for(
      [&] { return static_cast<std::int64_t>(cloud.seqs("movements").size()) == total; }, 10s))
      << again.log();
  expect_complete(cloud, "movements", total);
  EXPECT_TRUE(wait_for(
      [&] { return json::parse(cloud.on("/status").back().payload)["state"] == "online"; }, 5s));
  again.stop(SIGTERM);
}

// scripts/sign-command's output for `command` (its extra arguments in `args`).
std::string sign_command(const test::TempDir& dir, const std::string& name,
                         const std::string& command, const std::string& args = "") {
  test::write_file(dir.file("command.json"), command);
  const auto out = dir.file("signed.json");
  std::string cmd = "python3 " DEPOT_SOURCE_DIR "/scripts/sign-command --secret-file " +
                    dir.file("hmac.secret") + " --site test-site --gateway gw-1 --name " + name +
                    " " + args + " < " + dir.file("command.json") + " > " + out;
  EXPECT_EQ(sh(cmd), 0) << cmd;
  auto text = read_file(out);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

class Commands : public Sync {
 protected:
  json command(Cloud& cloud, const std::string& name, const std::string& payload) {
    auto before = cloud.on("/cmd/" + name + "/reply").size();
    cloud.publish(kPrefix + "cmd/" + name, payload);
    EXPECT_TRUE(wait_for([&] { return cloud.on("/cmd/" + name + "/reply").size() > before; }, 5s))
        << name << " got no reply";
    // The first reply after `before` answers this command: a queued command's outcome (a
    // second reply on the same topic) may already have arrived behind it.
    auto r = cloud.on("/cmd/" + name + "/reply");
    return r.size() > before ? json::parse(r[before].payload) : json();
  }
};

TEST_F(Commands, EachCommandRoundTripsInvalidAndReplayedOnesChangeNothing) {
  Broker broker(dir_);
  broker.start();
  Cloud cloud(broker.port());
  Agent agent(dir_, write_config(mqtt_section(broker.port(), R"(, "protocol": "5")")));
  agent.start();
  ASSERT_TRUE(wait_for([&] { return !cloud.on("/status").empty(); }, 5s)) << agent.log();
  agent.scan("INT-MATCHA");
  agent.scan("INT-MATCHA");
  ASSERT_TRUE(wait_for([&] { return committed_movements(dir_.file("depot.db")) == 2; }, 5s));

  auto r = command(cloud, "stock.count", R"({"id":"c-1","args":{"sku":"MATCHA","counted":9}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["id"], "c-1");
  EXPECT_EQ(r["result"]["on_hand"], 9);
  EXPECT_EQ(r["result"]["variance"], 7);
  auto again = command(cloud, "stock.count", R"({"id":"c-1","args":{"sku":"MATCHA","counted":9}})");
  EXPECT_EQ(again["duplicate"], true);

  r = command(cloud, "stock.count", R"({"id":"c-2","args":{"sku":"MATCHA","counted":-4}})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("args.counted: -4 must be between"));
  // A name the agent does not know is refused, never answered as another command.
  r = command(cloud, "reorder.approve", R"({"id":"c-3","args":{}})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("unknown command \"reorder.approve\""));
  EXPECT_FALSE(r.contains("result"));
  r = command(cloud, "snapshot.request", R"({"id":"c-4"})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  r = command(cloud, "config.get", R"({"id":"c-5"})");
  EXPECT_EQ(r["result"]["mqtt"]["protocol"], "5");
  // A command over 256 KiB is refused by its size, with a reply on the response topic.
  cloud.publish(kPrefix + "cmd/stock.count",
                R"({"id":"c-300k","args":{"pad":")" + std::string(300 * 1024, 'x') + R"("}})",
                "cloud/replies/300k", "corr-300k");
  ASSERT_TRUE(wait_for([&] { return !cloud.on("cloud/replies/300k").empty(); }, 5s));
  EXPECT_EQ(cloud.on("cloud/replies/300k")[0].correlation.value_or(""), "corr-300k");
  EXPECT_THAT(cloud.on("cloud/replies/300k")[0].payload,
              HasSubstr("more than the 262144 a command may have"));
  // MQTT 5: the agent's CONNECT sets a Maximum Packet Size of 1 MiB, so the broker never
  // sends it a larger command (one of 100 MB was received whole and held 400 MB): the next
  // one is answered and the big one never was, nor was it logged.
  const auto pad = std::string(1 << 20, 'x');
  cloud.publish(kPrefix + "cmd/stock.count", R"({"id":"c-big","args":{"pad":")" + pad + R"("}})");
  r = command(cloud, "stock.count", R"({"id":"c-big2","args":{"sku":"MATCHA","counted":-1}})");
  EXPECT_EQ(r["id"], "c-big2") << r.dump();
  // (Had the broker sent it, the agent would have refused it unread, id null, by its size.)
  for (const auto& m : cloud.on("/cmd/stock.count/reply"))
    EXPECT_EQ(m.payload.find("the command is 1048"), std::string::npos) << m.payload.substr(0, 200);
  EXPECT_EQ(agent.log().find("the command is 1048"), std::string::npos);
  r = command(cloud, "catalog.upsert",
              R"({"id":"c-6","args":{"sku":"COOLER","barcodes":["96385074"]}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  agent.scan("96385074");  // the new barcode scans at once
  r = command(cloud, "catalog.remove", R"({"id":"c-7","args":{"sku":"TINT"}})");
  EXPECT_EQ(r["ok"], true) << r.dump();

  // MQTT 5: the reply goes to the response topic with the correlation data.
  cloud.publish(kPrefix + "cmd/config.get", R"({"id":"c-8"})", "cloud/replies/42", "corr-42");
  ASSERT_TRUE(wait_for([&] { return !cloud.on("cloud/replies/42").empty(); }, 5s));
  EXPECT_EQ(cloud.on("cloud/replies/42")[0].correlation.value_or(""), "corr-42");

  // Another gateway's commands are not ours.
  cloud.publish("depot/v1/test-site/gw-2/cmd/stock.count",
                R"({"id":"c-9","args":{"sku":"MATCHA","counted":0}})");

  ASSERT_TRUE(wait_for(
      [&] { return cloud.seqs("stock").size() == 2 && cloud.seqs("movements").size() == 4; }, 5s))
      << agent.log();
  auto stock = cloud.records("stock");
  std::map<std::string, json> by_sku;
  for (auto& s : stock) by_sku[s["sku"]] = s;
  EXPECT_EQ(by_sku["MATCHA"]["on_hand"], 9);
  // Audit: one record per applied command (c-1, c-4, c-5, c-6, c-7, c-8), besides the
  // audit-trail entry of the agent's first start with this config.
  auto commands_audited = [&] {
    std::vector<std::string> ids;
    for (auto& a : cloud.records("audit"))
      if (a["event"] == "command") ids.push_back(a["command_id"]);
    return ids;
  };
  ASSERT_TRUE(wait_for([&] { return commands_audited().size() == 6; }, 5s));
  EXPECT_EQ(commands_audited(), (std::vector<std::string>{"c-1", "c-4", "c-5", "c-6", "c-7", "c-8"}));
  auto movements = cloud.records("movements");
  EXPECT_EQ(movements.back()["sku"], "COOLER");
  EXPECT_EQ(movements[2]["kind"], "count");
  EXPECT_TRUE(cloud.on("gw-2/cmd/stock.count/reply").empty());
  expect_schema_valid(cloud, dir_);
}

// A command subscription the broker refuses (an ACL) is tried again: the gateway was connected,
// published and looked healthy, and received no command until its next reconnect. aedes
// refuses it while a file exists (tests/brokers/aedes/broker.js); mosquitto 2.0 grants any
// subscription and filters what it delivers, so this runs under aedes only.
TEST_F(Commands, ARefusedCommandSubscriptionIsTriedAgainUntilTheBrokerTakesIt) {
  if (!aedes_broker()) GTEST_SKIP() << "needs the aedes broker (tests/brokers/aedes/run.sh)";
  const auto deny = dir_.file("deny-cmd");
  test::write_file(deny, "");
  ASSERT_EQ(::setenv("DEPOT_AEDES_DENY_CMD", deny.c_str(), 1), 0);
  Broker broker(dir_);
  broker.start();
  ::unsetenv("DEPOT_AEDES_DENY_CMD");
  Cloud cloud(broker.port());
  Agent agent(dir_, write_config(mqtt_section(broker.port(), R"(, "protocol": "3.1.1")")));
  agent.start();
  ASSERT_TRUE(wait_for([&] { return !cloud.on("/status").empty(); }, 5s)) << agent.log();
  ASSERT_TRUE(wait_for(
      [&] {
        return agent.log().find("subscribing to " + kPrefix + "cmd/# failed") != std::string::npos;
      },
      5s))
      << agent.log();
  EXPECT_THAT(agent.log(), HasSubstr("commands are not received: trying again in 1 s"));
  std::filesystem::remove(deny);  // the operator mends the ACL
  bool answered = false;
  for (int i = 0; i < 30 && !answered; ++i) {
    cloud.publish(kPrefix + "cmd/config.get", R"({"id":"g-)" + std::to_string(i) + R"("})");
    answered = wait_for([&] { return !cloud.on("/cmd/config.get/reply").empty(); }, 500ms);
  }
  EXPECT_TRUE(answered) << agent.log();
  agent.stop(SIGTERM);
}

TEST_F(Commands, SignedCommandsAWrongHmacIsRefused) {
  Broker broker(dir_);
  broker.start();
  Cloud cloud(broker.port());
  test::write_file(dir_.file("hmac.secret"), "s3cret\n");
  Agent agent(dir_,
              write_config(mqtt_section(broker.port(), R"(, "hmac_secret_file": "hmac.secret")")));
  agent.start();
  ASSERT_TRUE(wait_for([&] { return !cloud.on("/status").empty(); }, 5s)) << agent.log();
  std::string inner = R"({"id":"h-1","args":{"sku":"MATCHA","counted":5}})";
  auto good = json::parse(sign_command(dir_, "stock.count", inner));
  auto wrong = good;
  wrong["hmac"] = sync::hmac_sha256_hex("wrong", good["signed"].get<std::string>());
  auto r = command(cloud, "stock.count", wrong.dump());
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["id"], "h-1");
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("HMAC does not match"));
  r = command(cloud, "stock.count", inner);
  EXPECT_EQ(r["ok"], false);
  r = command(cloud, "stock.count", good.dump());
  EXPECT_EQ(r["ok"], true) << r.dump();
  ASSERT_TRUE(wait_for([&] { return cloud.seqs("movements").size() == 1; }, 5s));
  EXPECT_EQ(committed_movements(dir_.file("depot.db")), 1);
}

// The issue's cloud-command findings, through a real mosquitto, signed by the reference
// signer: a signature moved to another command name, a 60,000-deep signed command sent
// retained (it killed the agent at every restart), a reused id under another name, wildcard
// and own-topic response topics, and RabbitMQ's cmd/config/get spelling.
TEST_F(Commands, SignedCommandsAreBoundToTheirNameAndHostileOnesAreRefusedWithAReply) {
  Broker broker(dir_);
  broker.start();
  Cloud cloud(broker.port());
  test::write_file(dir_.file("hmac.secret"), "s3cret\n");
  const auto config = write_config(
      mqtt_section(broker.port(), R"(, "protocol": "5", "hmac_secret_file": "hmac.secret")"));
  Agent agent(dir_, config);
  agent.start();
  ASSERT_TRUE(wait_for([&] { return !cloud.on("/status").empty(); }, 5s)) << agent.log();

  auto r = command(
      cloud, "stock.count",
      sign_command(dir_, "stock.count", R"({"id":"s-1","args":{"sku":"MATCHA","counted":5}})"));
  EXPECT_EQ(r["ok"], true) << r.dump();
  // The same signed text published under another command name: refused.
  auto moved = sign_command(dir_, "catalog.upsert", R"({"id":"s-2","args":{"sku":"MATCHA"}})");
  r = command(cloud, "catalog.remove", moved);
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("HMAC does not match"));
  // A reused id under another name: refused, nothing changes.
  r = command(cloud, "catalog.remove",
              sign_command(dir_, "catalog.remove", R"({"id":"s-1","args":{"sku":"MATCHA"}})"));
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("already used by a \"stock.count\""));
  // Expired.
  r = command(cloud, "config.get",
              sign_command(dir_, "config.get", R"({"id":"s-3"})",
                           "--issued-at 2020-01-01T00:00:00Z --expires-at 2020-01-01T00:05:00Z"));
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("expired"));

  // 60,000 levels, correctly signed, retained: refused with a reply, at start and again
  // after a restart; the agent stays up.
  const std::string deep =
      R"({"id":"deep-1","args":)" + std::string(60000, '[') + std::string(60000, ']') +
      R"(,"issued_at":"2020-01-01T00:00:00Z","expires_at":"2099-01-01T00:00:00Z"})";
  const auto deep_signed =
      sign_command(dir_, "config.get", deep,
                   "--raw --id deep-1 --issued-at 2020-01-01T00:00:00Z --expires-at "
                   "2099-01-01T00:00:00Z");
  auto before = cloud.on("/cmd/config.get/reply").size();
  cloud.publish(kPrefix + "cmd/config.get", deep_signed, std::nullopt, std::nullopt, true);
  ASSERT_TRUE(wait_for([&] { return cloud.on("/cmd/config.get/reply").size() > before; }, 5s));
  auto deep_reply = json::parse(cloud.on("/cmd/config.get/reply").back().payload);
  EXPECT_EQ(deep_reply["ok"], false);
  EXPECT_THAT(deep_reply["error"].get<std::string>(), HasSubstr("nested deeper than 16 levels"));
  agent.stop(SIGTERM);
  before = cloud.on("/cmd/config.get/reply").size();
  agent.start();
  ASSERT_TRUE(wait_for([&] { return cloud.on("/cmd/config.get/reply").size() > before; }, 8s))
      << agent.log();
  EXPECT_TRUE(agent.running());

  // Response topics: a wildcard and the gateway's own stream are refused on the default
  // reply topic, with the correlation data; the agent stays connected and answers the next.
  before = cloud.on("/cmd/config.get/reply").size();
  cloud.publish(kPrefix + "cmd/config.get", sign_command(dir_, "config.get", R"({"id":"t-1"})"),
                "cloud/+/bad", "corr-1");
  cloud.publish(kPrefix + "cmd/config.get", sign_command(dir_, "config.get", R"({"id":"t-2"})"),
                kPrefix + "movements", "corr-2");
  ASSERT_TRUE(wait_for([&] { return cloud.on("/cmd/config.get/reply").size() >= before + 2; }, 5s));
  auto replies = cloud.on("/cmd/config.get/reply");
  auto t1 = json::parse(replies[before].payload), t2 = json::parse(replies[before + 1].payload);
  EXPECT_EQ(t1["id"], "t-1");
  EXPECT_EQ(t1["ok"], false);
  EXPECT_THAT(t1["error"].get<std::string>(), HasSubstr("wildcard"));
  EXPECT_EQ(replies[before].correlation.value_or(""), "corr-1");
  EXPECT_THAT(t2["error"].get<std::string>(), HasSubstr("own topics"));
  EXPECT_TRUE(cloud.on("/movements").empty() ||
              json::parse(cloud.on("/movements").back().payload).contains("records"));

  // RabbitMQ's spelling: cmd/config/get is config.get (and config.get answers the real
  // number of SKUs: the daemon frees the parsed catalog).
  before = cloud.on("/cmd/config.get/reply").size();
  cloud.publish(kPrefix + "cmd/config/get", sign_command(dir_, "config.get", R"({"id":"r-1"})"));
  ASSERT_TRUE(wait_for([&] { return cloud.on("/cmd/config.get/reply").size() > before; }, 5s))
      << agent.log();
  r = json::parse(cloud.on("/cmd/config.get/reply").back().payload);
  EXPECT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["id"], "r-1");
  EXPECT_GT(r["result"]["catalog_skus"].get<int>(), 0);
  EXPECT_TRUE(agent.running());

  // stream.replay: the delivered movement comes again (kept for keep_delivered_h).
  ASSERT_TRUE(wait_for([&] { return cloud.seqs("movements").size() == 1; }, 5s));
  const auto movements_before = cloud.records("movements").size();
  r = command(cloud, "stream.replay",
              sign_command(dir_, "stream.replay",
                           R"({"id":"rp-1","args":{"stream":"movements","from_seq":1}})"));
  EXPECT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["resent"], 1);
  EXPECT_TRUE(wait_for([&] { return cloud.records("movements").size() > movements_before; }, 5s));
  expect_schema_valid(cloud, dir_);
}

// stream.replay of 1,500 records in 1,500 messages: published all at once they overran Paho's
// buffer part way (MQTT error -12: the reply ok=false, the rest never sent, the publisher's
// own sends failing with it). They go a window at a time as the broker acknowledges them.
TEST_F(Commands, AReplayOfManyMessagesGoesAWindowAtATimeAndArrivesWhole) {
  constexpr int kRecords = 1500;
  // Delivered records are kept keep_delivered_h (24) hours from their time: written now.
  const auto now = timefmt::rfc3339_from_unix_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
  {
    auto db = store::Database::open(dir_.file("depot.db"), {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->begin_immediate().ok());
    for (int i = 0; i < kRecords; ++i)
      ASSERT_TRUE(store::outbox_append(**db, "movements", "m" + std::to_string(i),
                                       now, json{{"sku", "MATCHA"}, {"kind", "receive"}, {"qty", 1}})
                      .ok());
    ASSERT_TRUE((*db)->commit().ok());
  }
  Broker broker(dir_);
  broker.start();
  Cloud cloud(broker.port());
  Agent agent(dir_, write_config(mqtt_section(broker.port(), R"(, "batch_records": 1)")));
  agent.start();
  ASSERT_TRUE(wait_for([&] { return cloud.seqs("movements").size() == kRecords; }, 30s))
      << cloud.seqs("movements").size() << "\n" << agent.log();
  const auto before = cloud.records("movements").size();
  auto r = command(cloud, "stream.replay",
                   R"({"id":"rp-1","args":{"stream":"movements","from_seq":1,"to_seq":1500}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["resent"], kRecords) << r.dump();
  EXPECT_TRUE(wait_for(
      [&] { return cloud.records("movements").size() >= before + kRecords; }, 30s))
      << cloud.records("movements").size() - before << " of " << kRecords << " came again\n"
      << agent.log();
  EXPECT_THAT(agent.log(), ::testing::Not(HasSubstr("No more messages can be buffered")));
}

TEST_F(Sync, OverTheDiskBudgetTelemetryIsDroppedWithADataLossRecordMovementsNever) {
  // An outbox that grew while offline: 3 MB of telemetry and 50 movements' worth of records.
  auto cfg = write_config("");
  {
    auto db = store::Database::open(dir_.file("depot.db"), {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->begin_immediate().ok());
    for (int i = 0; i < 3000; ++i)
      ASSERT_TRUE(store::outbox_append(
                      **db, "telemetry", "t" + std::to_string(i), "2026-11-23T10:00:00.000Z",
                      json{{"probe", "p1"}, {"c", 4.5}, {"pad", std::string(1000, 'x')}})
                      .ok());
    ASSERT_TRUE((*db)->commit().ok());
  }
  Broker broker(dir_);
  Agent offline(dir_, cfg);
  offline.start();
  for (int i = 0; i < 50; ++i) offline.scan("INT-MATCHA");
  ASSERT_TRUE(wait_for([&] { return committed_movements(dir_.file("depot.db")) == 50; }, 10s));
  offline.stop(SIGTERM);

  write_config(mqtt_section(broker.port(), R"(, "outbox_budget_mb": 1)"));
  Agent agent(dir_, cfg);
  agent.start();
  ASSERT_TRUE(
      wait_for([&] { return agent.log().find("over its budget") != std::string::npos; }, 5s))
      << agent.log();
  broker.start();
  Cloud cloud(broker.port());
  auto data_loss = [&] {
    for (auto& a : cloud.records("audit"))
      if (a["event"] == "data_loss") return a;
    return json();
  };
  ASSERT_TRUE(wait_for(
      [&] { return cloud.seqs("movements").size() == 50 && !data_loss().is_null(); }, 10s))
      << agent.log();
  expect_complete(cloud, "movements", 50);
  auto loss = data_loss();
  EXPECT_EQ(loss["event"], "data_loss");
  EXPECT_EQ(loss["stream"], "telemetry");
  auto dropped = loss["thinned"].get<std::int64_t>() + loss["dropped"].get<std::int64_t>();
  EXPECT_GT(dropped, 1000);
  ASSERT_TRUE(wait_for(
      [&] { return cloud.records("telemetry").size() == static_cast<std::size_t>(3000 - dropped); },
      10s))
      << cloud.records("telemetry").size() << " records (" << cloud.seqs("telemetry").size()
      << " distinct), want " << 3000 - dropped << "; outbox " <<
      [&] {
        auto db = store::Database::open(dir_.file("depot.db"), {.read_only = true});
        if (!db) return std::int64_t{-1};
        auto n = store::outbox_depth(**db, "telemetry");
        return n ? std::int64_t{*n} : std::int64_t{-1};
      }()
      << "; missing " <<
      [&] {
        std::string m;
        auto got = cloud.seqs("telemetry");
        if (got.empty()) return std::string("all");
        for (std::int64_t i = *got.begin(); i <= 3000; ++i)
          if (!got.count(i)) m += std::to_string(i) + " ";
        return m;
      }()
      << "\n"
      << agent.log() << broker.log();
  EXPECT_EQ(*cloud.seqs("telemetry").rbegin(), 3000);  // the newest are kept
}

TEST_F(Sync, MutualTlsAcceptsTheRightClientCertAndRefusesNone) {
  auto certs = make_certs(dir_);
  Broker broker(dir_, certs);
  broker.start();
  Cloud cloud(broker.port());
  {
    test::TempDir run;
    auto cfg = run.file("agent.json");
    test::write_file(
        cfg, agent_config(run.file("depot.db"),
                          mqtt_section(broker.tls_port(),
                                       R"(, "tls": {"ca": ")" + certs.ca + R"("})", "localhost")));
    Agent agent(run, cfg);
    agent.start();
    agent.scan("INT-MATCHA");
    EXPECT_FALSE(wait_for([&] { return !cloud.on("/status").empty(); }, 3s));
    EXPECT_TRUE(cloud.seqs("movements").empty());
    agent.stop(SIGTERM);
    EXPECT_THAT(agent.log(), HasSubstr("failed"));
  }
  Agent agent(dir_, write_config(mqtt_section(broker.tls_port(),
                                              R"(, "tls": {"ca": ")" + certs.ca +
                                                  R"(", "cert": ")" + certs.client_cert +
                                                  R"(", "key": ")" + certs.client_key + R"("})",
                                              "localhost")));
  agent.start();
  agent.scan("INT-MATCHA");
  ASSERT_TRUE(wait_for([&] { return cloud.seqs("movements").size() == 1; }, 8s)) << agent.log();
  EXPECT_THAT(agent.log(), HasSubstr("TLS with client cert"));
}


// A TLS failure used to segfault the daemon (exit 139 about 10 ms after ready: Paho C++ 1.2.0
// called the ssl error handler through a pointer to a destroyed ssl_options). A CA that did not
// sign the broker's certificate: the agent stays up, keeps scanning offline and retries.
TEST_F(Sync, TlsWithTheWrongCaTheAgentStaysUpScansOfflineAndRetries) {
  auto certs = make_certs(dir_);
  // A CA of another name that did not sign the broker's certificate.
  ASSERT_EQ(sh("cd " + dir_.path().string() +
               " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=another-ca "
               "-keyout other-ca.key -out other-ca.pem >/dev/null 2>&1"),
            0);
  TlsFiles wrong{dir_.file("other-ca.pem"), "", "", "", ""};
  Broker broker(dir_, certs);
  broker.start();
  Agent agent(dir_, write_config(mqtt_section(
                        broker.tls_port(),
                        R"(, "tls": {"ca": ")" + wrong.ca + R"(", "cert": ")" + certs.client_cert +
                            R"(", "key": ")" + certs.client_key + R"("})",
                        "localhost")));
  agent.start();
  ASSERT_TRUE(wait_for([&] { return agent.log().find("ready") != std::string::npos; }, 5s))
      << agent.log();
  for (int i = 0; i < 5; ++i) agent.scan("INT-MATCHA");
  // Two attempts at least (backoff 1-2 s), and alive all along.
  ASSERT_TRUE(wait_for(
      [&] {
        auto log = agent.log();
        std::size_t n = 0;
        for (auto at = log.find("next attempt in"); at != std::string::npos;
             at = log.find("next attempt in", at + 1))
          ++n;
        return n >= 2 || !agent.running();
      },
      8s))
      << agent.log();
  EXPECT_TRUE(agent.running()) << agent.log();
  EXPECT_EQ(committed_movements(dir_.file("depot.db")), 5);
  // The reason in OpenSSL's words (mosquitto sends its CA along: then the chain ends in a
  // self-signed certificate this agent does not trust).
  EXPECT_THAT(agent.log(), ::testing::AnyOf(HasSubstr("unable to get local issuer certificate"),
                                            HasSubstr("self-signed certificate in certificate chain")));
  agent.stop(SIGTERM);
}

TEST_F(Sync, TlsWithAnExpiredServerCertificateSaysSoAndStaysUp) {
  auto certs = make_certs(dir_);
  // The same CA signs a server certificate that expired yesterday.
  ASSERT_EQ(sh("cd " + dir_.path().string() +
               " && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
               "-days -1 -extfile san.ext -out expired.pem >/dev/null 2>&1"),
            0);
  auto expired = certs;
  expired.server_cert = dir_.file("expired.pem");
  Broker broker(dir_, expired);
  broker.start();
  Agent agent(dir_, write_config(mqtt_section(
                        broker.tls_port(),
                        R"(, "tls": {"ca": ")" + certs.ca + R"(", "cert": ")" + certs.client_cert +
                            R"(", "key": ")" + certs.client_key + R"("})",
                        "localhost")));
  agent.start();
  agent.scan("INT-MATCHA");
  ASSERT_TRUE(wait_for(
      [&] {
        return agent.log().find("certificate has expired") != std::string::npos ||
               !agent.running();
      },
      8s))
      << agent.log();
  EXPECT_TRUE(agent.running()) << agent.log();
  EXPECT_EQ(committed_movements(dir_.file("depot.db")), 1);
  agent.stop(SIGTERM);
}

// A credential file that cannot be read (a folder here: root reads any file) or is missing:
// `run` stops at start naming it with exit 2, `check` calls it an error (exit 2).
TEST_F(Sync, AnUnreadableOrMissingCredentialFileStopsTheStartAndFailsCheck) {
  auto certs = make_certs(dir_);
  for (const auto& tls : {R"({"ca": ")" + dir_.path().string() + R"("})",
                          R"({"ca": ")" + certs.ca + R"(", "cert": ")" + certs.client_cert +
                              R"(", "key": ")" + dir_.file("missing.key") + R"("})"}) {
    auto cfg = write_config(mqtt_section(1883, R"(, "tls": )" + tls, "localhost"));
    auto run = test::run_program(DEPOT_AGENT_BIN, {"run", "-c", cfg});
    EXPECT_EQ(run.code, 2) << run.err;
    EXPECT_THAT(run.err, HasSubstr("cannot be read"));
    EXPECT_THAT(run.err, ::testing::AnyOf(HasSubstr("missing.key"),
                                          HasSubstr("mqtt.tls.ca: \"" + dir_.path().string())));
    auto check = test::run_program(DEPOT_AGENT_BIN, {"check", "-c", cfg});
    EXPECT_EQ(check.code, 2) << check.err;
    EXPECT_THAT(check.err, HasSubstr("error: mqtt.tls."));
    EXPECT_EQ(check.out, "");  // no "ok" line for a config the agent would refuse to start on
  }
}


// A replaced database starts every stream at seq 1 again: before incarnations a cloud deduping
// by (site, gateway, stream, seq) dropped the new records as resends (5 of 5 lost). Each
// database has its own incarnation, in every envelope and in the status.
TEST_F(Sync, ADatabaseMovedAsideStartsANewIncarnationCarriedInEveryEnvelope) {
  Broker broker(dir_);
  broker.start();
  Cloud cloud(broker.port());
  auto cfg = write_config(mqtt_section(broker.port()));
  auto incarnations = [&] {
    std::vector<std::string> out;
    for (auto& m : cloud.on("/movements")) out.push_back(json::parse(m.payload)["incarnation"]);
    return out;
  };
  {
    Agent agent(dir_, cfg);
    agent.start();
    for (int i = 0; i < 3; ++i) agent.scan("INT-MATCHA");
    ASSERT_TRUE(wait_for([&] { return cloud.seqs("movements").size() == 3; }, 10s)) << agent.log();
    ASSERT_TRUE(wait_for([&] { return !online_statuses(cloud).empty(); }, 5s));
    agent.stop(SIGTERM);
  }
  auto first = incarnations();
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(first[0].empty());
  for (auto& i : first) EXPECT_EQ(i, first[0]);
  auto status = online_statuses(cloud).front();
  EXPECT_EQ(status["incarnation"]["id"], first[0]);
  EXPECT_EQ(status["incarnation"]["reason"], "new database");

  // The operator moves the database aside; the agent starts on a new one.
  for (std::string ext : {"", "-wal", "-shm"})
    std::rename(dir_.file("depot.db" + ext).c_str(), dir_.file("old.db" + ext).c_str());
  cloud.clear();
  Agent again(dir_, cfg);
  again.start();
  for (int i = 0; i < 2; ++i) again.scan("INT-MATCHA");
  ASSERT_TRUE(wait_for([&] { return cloud.seqs("movements").size() == 2; }, 10s)) << again.log();
  auto second = incarnations();
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second[0], first[0]);
  EXPECT_EQ(cloud.records("movements")[0]["seq"], 1);  // seq 1 again, under a new incarnation
  EXPECT_TRUE(wait_for([&] { return !online_statuses(cloud).empty(); }, 5s));
  bool online = false;
  for (auto& m : cloud.on("/status")) {
    auto j = json::parse(m.payload);
    if (j["state"] != "online") continue;
    online = true;
    EXPECT_EQ(j["incarnation"]["id"], second[0]);
  }
  EXPECT_TRUE(online);
  expect_schema_valid(cloud, dir_);
  again.stop(SIGTERM);
  // A restart keeps the incarnation.
  cloud.clear();
  Agent third(dir_, cfg);
  third.start();
  third.scan("INT-MATCHA");
  ASSERT_TRUE(wait_for([&] { return cloud.seqs("movements").size() == 1; }, 10s)) << third.log();
  EXPECT_EQ(incarnations().back(), second[0]);
  third.stop(SIGTERM);
}

// A broker that takes packets of at most 20,000 bytes (mosquitto `max_packet_size`; AWS IoT
// Core takes 131,072). Before the agent knew of broker limits, a 64 KB batch cost the
// connection, was resent after the reconnect, cost it again, and the stream never moved.
class PacketLimit : public Sync {
 protected:
  static constexpr int kRecords = 200, kOversize = 100;
  // An outbox that grew while offline: 200 telemetry records of about 1.5 KB (300 KB, many
  // messages' worth) with, at seq 100, one record of 30 KB that no message can carry.
  void seed_outbox() {
    auto db = store::Database::open(dir_.file("depot.db"), {});
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->begin_immediate().ok());
    for (int i = 1; i <= kRecords; ++i) {
      // 15 readings make about 1.5 KB; 300 of them, 30 KB in one record (the agent itself cuts
      // its records at 16 KB: this one comes from an older agent, or a larger limit).
      std::vector<store::StoredReading> rs(i == kOversize ? 300 : 15);
      for (std::size_t k = 0; k < rs.size(); ++k) {
        auto& r = rs[k].reading;
        r.probe = "probe-" + std::to_string(k);
        r.celsius = 4.5;
        r.wall_ms = 1795000000000 + i * 1000;
        r.mono_ns = static_cast<std::int64_t>(i) * 1000000000;
        rs[k].zone = "chiller";
      }
      ASSERT_TRUE(store::insert_readings(**db, rs, true, "t" + std::to_string(i),
                                         "2026-11-23T10:00:00.000Z", SIZE_MAX)
                      .ok());
    }
    ASSERT_TRUE((*db)->commit().ok());
  }
  // Everything but the oversized record arrives, in messages the broker took; that one is
  // given up with a data_loss record naming it; the connection was never lost.
  void expect_delivered_but_the_oversized(Cloud& cloud, Broker& broker, Agent& agent) {
    auto data_loss = [&] {
      for (auto& a : cloud.records("audit"))
        if (a["event"] == "data_loss") return a;
      return json();
    };
    ASSERT_TRUE(wait_for(
        [&] {
          return cloud.seqs("telemetry").size() == kRecords - 1 && !data_loss().is_null() &&
                 cloud.seqs("movements").size() == 1;
        },
        20s))
        << cloud.seqs("telemetry").size() << " telemetry records\n"
        << agent.log() << broker.log();
    EXPECT_FALSE(cloud.seqs("telemetry").count(kOversize));
    auto loss = data_loss();
    EXPECT_EQ(loss["stream"], "telemetry");
    EXPECT_EQ(loss["first_seq"], kOversize);
    EXPECT_EQ(loss["last_seq"], kOversize);
    EXPECT_EQ(loss["dropped"], 1);
    EXPECT_GT(loss["bytes"].get<std::int64_t>(), 30000);
    EXPECT_THAT(loss["reason"].get<std::string>(), HasSubstr("maximum packet"));
    for (const auto& m : cloud.messages()) EXPECT_LE(m.payload.size(), 20000u - 1024u) << m.topic;
    EXPECT_THAT(agent.log(), HasSubstr("seq 100"));
    EXPECT_EQ(agent.log().find("connection lost"), std::string::npos) << agent.log();
    EXPECT_EQ(broker.log().find("oversize"), std::string::npos) << broker.log();
    expect_schema_valid(cloud, dir_);
  }
};

TEST_F(PacketLimit, MqttV311MessagesAreCutToTheConfiguredLimitAndAnOversizedRecordIsGivenUp) {
  seed_outbox();
  Broker broker(dir_, std::nullopt, "max_packet_size 20000\n");
  broker.start();
  Cloud cloud(broker.port());
  auto cfg = write_config(
      mqtt_section(broker.port(), R"(, "max_packet_bytes": 20000, "batch_bytes": 16384)"));
  Agent agent(dir_, cfg);
  agent.start();
  agent.scan("INT-MATCHA");
  expect_delivered_but_the_oversized(cloud, broker, agent);
  agent.stop(SIGTERM);
  // Given up once: a restart does not send it, nor a second data_loss.
  cloud.clear();
  Agent again(dir_, cfg);
  again.start();
  again.scan("INT-MATCHA");
  ASSERT_TRUE(wait_for([&] { return cloud.seqs("movements").size() == 1; }, 10s)) << again.log();
  EXPECT_TRUE(cloud.records("telemetry").empty());
  for (auto& a : cloud.records("audit")) EXPECT_NE(a["event"], "data_loss") << a.dump();
  again.stop(SIGTERM);
}

TEST_F(PacketLimit, MqttV5TheBrokersMaximumPacketSizeFromConnackIsHonoured) {
  seed_outbox();
  Broker broker(dir_, std::nullopt, "max_packet_size 20000\n");
  broker.start();
  Cloud cloud(broker.port());
  // The configured limit is the default (131072) and batches are 64 KB: only the CONNACK says
  // 20000.
  auto cfg = write_config(mqtt_section(broker.port(), R"(, "protocol": "5")"));
  Agent agent(dir_, cfg);
  agent.start();
  agent.scan("INT-MATCHA");
  expect_delivered_but_the_oversized(cloud, broker, agent);
  EXPECT_THAT(agent.log(), HasSubstr("takes packets of at most 20000 bytes"));
  agent.stop(SIGTERM);
}

}  // namespace
}  // namespace depot::itest
