// The cold-chain CLI commands through the real binary, on real files: a data-logger file
// judged against a zone (the worked example of docs/coldchain.md), holds listed, released and
// written off (changing `available`), the audit trail listed and verified after tampering.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "agent_process.hpp"
#include "store/audit.hpp"
#include "store/coldchain_store.hpp"
#include "store/database.hpp"
#include "store/ledger.hpp"
#include "test_support.hpp"

namespace depot::test {
namespace {
using ::testing::HasSubstr;
using nlohmann::json;

std::string cold_config(const std::string& db) {
  return R"({
  "site": "test-site", "gateway": "gw-1", "database": ")" + db + R"(",
  "catalog": [
    {"sku": "VAX", "name": "Vaccine", "barcodes": ["4006381333931"], "zone": "pharma-1"},
    {"sku": "AMB", "name": "Tea", "barcodes": ["5012345678900"], "zone": "ambient"}
  ],
  "zones": [{"id": "pharma-1", "min_c": 2, "max_c": 8, "warning_band_c": 1,
             "alarm_delay_s": 1800, "hysteresis_c": 0.5, "repeat_s": 0}],
  "sensors": [{"id": "p1", "zone": "pharma-1", "driver": "sim", "read_interval_s": 1,
               "offline_after_s": 2}]
})";
}

// The worked example of docs/coldchain.md ("Lifecycle and thresholds"), one row per 5 min.
const char* kWorkedCsv =
    "timestamp,celsius\n"
    "2026-07-01T08:00:00Z,5.0\n"
    "2026-07-01T08:05:00Z,7.5\n"
    "2026-07-01T08:10:00Z,8.5\n"
    "2026-07-01T08:15:00Z,9.0\n"
    "2026-07-01T08:20:00Z,10.0\n"
    "2026-07-01T08:25:00Z,10.0\n"
    "2026-07-01T08:30:00Z,10.0\n"
    "2026-07-01T08:35:00Z,10.0\n"
    "2026-07-01T08:40:00Z,10.0\n"
    "2026-07-01T08:45:00Z,7.8\n"
    "2026-07-01T08:50:00Z,7.5\n"
    "2026-07-01T08:55:00Z,6.4\n";

class ColdChainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_path_ = dir_.file("agent.db");
    cfg_ = dir_.file("agent.json");
    write_file(cfg_, cold_config(db_path_));
  }
  test::TempDir dir_;
  std::string db_path_, cfg_;
};

TEST_F(ColdChainCli, ALoggerFileGivesTheWorkedExcursionAlarmAndMkt) {
  write_file(dir_.file("log.csv"), kWorkedCsv);
  auto r = run_agent({"coldchain", "-c", cfg_, "--zone", "pharma-1", "--csv", dir_.file("log.csv"),
                      "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["readings"], 12);
  EXPECT_EQ(j["alarms"], 1);
  ASSERT_EQ(j["excursions"].size(), 1u);
  const auto& x = j["excursions"][0];
  EXPECT_EQ(x["start"], "2026-07-01T08:10:00.000Z");
  EXPECT_EQ(x["end"], "2026-07-01T08:50:00.000Z");
  EXPECT_EQ(x["alarm_at"], "2026-07-01T08:40:00.000Z");
  EXPECT_EQ(x["cause"], "continuous");
  EXPECT_DOUBLE_EQ(x["peak_c"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(x["degree_minutes"].get<double>(), 57.5);  // 0.5·5 + 1·5 + 2·25
  ASSERT_TRUE(j["mkt_c"].is_number());
  EXPECT_GT(j["mkt_c"].get<double>(), 8.0);  // above the arithmetic mean of the rows (8.4)...
  EXPECT_LT(j["mkt_c"].get<double>(), 10.0);  // ...and below the peak
  auto text = run_agent({"coldchain", "-c", cfg_, "--zone", "pharma-1", "--csv", dir_.file("log.csv")});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("excursions: 1, alarms: 1"));
  EXPECT_THAT(text.out, HasSubstr("ALARM at 2026-07-01T08:40:00.000Z (continuous)"));
}

TEST_F(ColdChainCli, BadLinesZonesAndFilesAreNamed) {
  write_file(dir_.file("bad.csv"), std::string(kWorkedCsv) + "2026-07-01T09:00:00Z,abc\n");
  auto r = run_agent({"coldchain", "-c", cfg_, "--zone", "pharma-1", "--csv", dir_.file("bad.csv")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.csv:14: "));
  EXPECT_THAT(r.err, HasSubstr("abc"));
  EXPECT_THAT(r.out, HasSubstr("excursions: 1, alarms: 1"));  // the good rows still count
  r = run_agent({"coldchain", "-c", cfg_, "--zone", "freezer-9", "--csv", dir_.file("bad.csv")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--zone: \"freezer-9\" is not a configured zone (configured: pharma-1)"));
  r = run_agent({"coldchain", "-c", cfg_, "--zone", "pharma-1", "--csv", dir_.file("nope.csv")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("cannot read"));
  write_file(dir_.file("empty.csv"), "timestamp,celsius\nyesterday,4\n");
  r = run_agent({"coldchain", "-c", cfg_, "--zone", "pharma-1", "--csv", dir_.file("empty.csv")});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("no readings"));
}

TEST_F(ColdChainCli, AHoldIsListedReleasedAndWrittenOffChangingAvailable) {
  {
    auto db = store::Database::open(db_path_, {});
    ASSERT_TRUE(db.ok());
    CatalogItem vax{.sku = "VAX", .name = "Vaccine"};
    vax.zone = "pharma-1";
    ASSERT_TRUE(store::apply_catalog(**db, {vax}, "2026-11-23T00:00:00.000Z").ok());
    store::Ledger ledger(**db);
    auto m = movement("r1", "VAX", MovementKind::kReceive, 10);
    ASSERT_TRUE(ledger.post(std::span(&m, 1)).ok());
    auto placed = (*db)->transaction([&](const store::Txn& txn) {
      return store::place_holds(txn, ledger, "pharma-1", "pharma-1/high/run/1", "hold-x",
                                {"2026-11-23T10:00:00.000Z", 1, "agent", "coldchain"});
    });
    ASSERT_TRUE(placed.ok()) << placed.error().message;
    ASSERT_EQ(placed->size(), 1u);
  }
  auto r = run_agent({"holds", "--open", "--json", "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto holds = json::parse(r.out);
  ASSERT_EQ(holds.size(), 1u);
  EXPECT_EQ(holds[0]["sku"], "VAX");
  EXPECT_EQ(holds[0]["remaining"], 10);
  const auto id = std::to_string(holds[0]["id"].get<int>());
  auto stock = json::parse(run_agent({"stock", "--sku", "VAX", "--json", "-c", cfg_}).out);
  EXPECT_EQ(stock[0]["held"], 10);
  EXPECT_EQ(stock[0]["available"], 0);

  r = run_agent({"holds", "release", id, "--who", "Ana", "--why", "core temperature fine",
                 "--qty", "4", "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("remaining on hold 6"));
  EXPECT_THAT(r.out, HasSubstr("VAX: on hand 10, held 6, available 4"));
  stock = json::parse(run_agent({"stock", "--sku", "VAX", "--json", "-c", cfg_}).out);
  EXPECT_EQ(stock[0]["available"], 4);

  r = run_agent({"holds", "writeoff", id, "--who", "Ana", "--why", "x", "--qty", "99", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("qty: 99 must be 1 to 6"));
  r = run_agent({"holds", "release", id, "--who", "Ana", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--why: required"));
  r = run_agent({"holds", "release", "abc", "--who", "Ana", "--why", "x", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("HOLD_ID: \"abc\" must be a hold id"));

  r = run_agent({"holds", "writeoff", id, "--who", "Bo", "--why", "vials warm for 2 h", "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  stock = json::parse(run_agent({"stock", "--sku", "VAX", "--json", "-c", cfg_}).out);
  EXPECT_EQ(stock[0]["on_hand"], 4);
  EXPECT_EQ(stock[0]["held"], 0);
  EXPECT_EQ(stock[0]["available"], 4);
  r = run_agent({"holds", "--open", "-c", cfg_});
  EXPECT_THAT(r.out, HasSubstr("no open holds"));

  // The audit trail: hold, release, write-off; verified; then tampered with.
  r = run_agent({"audit", "--json", "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  auto audit = json::parse(r.out);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0]["what"], "hold");
  EXPECT_EQ(audit[1]["what"], "hold.release");
  EXPECT_EQ(audit[1]["why"], "core temperature fine");
  EXPECT_EQ(audit[2]["who"], "Bo");
  r = run_agent({"audit", "verify", "-c", cfg_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("audit trail ok: 3 entries"));
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "DROP TRIGGER audit_log_no_update;"
                         "UPDATE audit_log SET who = 'Nobody' WHERE seq = 2;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  r = run_agent({"audit", "verify", "-c", cfg_});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("AUDIT TRAIL BROKEN at entry 2: altered"));
}

// With accounts, a hold is released by a quality (or admin) account whose password is
// re-entered; an operator may not, a typed --who no longer signs, and the trail names the
// account.
TEST_F(ColdChainCli, WithAccountsAHoldIsReleasedByAQualityAccount) {
  {
    auto db = store::Database::open(db_path_, {});
    ASSERT_TRUE(db.ok());
    CatalogItem vax{.sku = "VAX", .name = "Vaccine"};
    vax.zone = "pharma-1";
    ASSERT_TRUE(store::apply_catalog(**db, {vax}, "2026-11-23T00:00:00.000Z").ok());
    store::Ledger ledger(**db);
    auto m = movement("r1", "VAX", MovementKind::kReceive, 10);
    ASSERT_TRUE(ledger.post(std::span(&m, 1)).ok());
    auto placed = (*db)->transaction([&](const store::Txn& txn) {
      return store::place_holds(txn, ledger, "pharma-1", "pharma-1/high/run/1", "hold-x",
                                {"2026-11-23T10:00:00.000Z", 1, "agent", "coldchain"});
    });
    ASSERT_TRUE(placed.ok()) << placed.error().message;
  }
  const auto pw = dir_.file("pw");
  test::write_file(pw, "cold-123456\n");
  for (auto [id, role] : {std::pair{"qa.lee", "quality"}, std::pair{"op.kim", "operator"}})
    ASSERT_EQ(run_agent({"users", "add", id, "--role", role, "--name", id, "--password-file", pw,
                         "-c", cfg_})
                  .code,
              0);
  const auto hold = std::to_string(
      json::parse(run_agent({"holds", "--open", "--json", "-c", cfg_}).out)[0]["id"].get<int>());
  auto r = run_agent({"holds", "release", hold, "--who", "Ana", "--why", "fine", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--who: this gateway has accounts"));
  r = run_agent({"holds", "release", hold, "--user", "op.kim", "--password-file", pw, "--why",
                 "fine", "-c", cfg_});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("(role operator) may not sign hold.release"));
  EXPECT_EQ(json::parse(run_agent({"stock", "--sku", "VAX", "--json", "-c", cfg_}).out)[0]["held"],
            10);
  r = run_agent({"holds", "release", hold, "--user", "qa.lee", "--password-file", pw, "--why",
                 "core temperature fine", "-c", cfg_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(run_agent({"stock", "--sku", "VAX", "--json", "-c", cfg_}).out)[0]["held"],
            0);
  auto audit = json::parse(run_agent({"audit", "--json", "-c", cfg_}).out);
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.back()["what"], "hold.release");
  EXPECT_EQ(audit.back()["who"], "qa.lee");
  // An alarm acknowledgement is signed the same way (no agent runs: nothing to acknowledge,
  // but the signature is checked first).
  r = run_agent({"alarms", "ack", "pharma-1", "--user", "qa.lee", "--password-file", dir_.file("nope"),
                 "--comment", "x", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--password-file: \"" + dir_.file("nope") +
                               "\" cannot be read: No such file or directory"));
}

// The audit key through the config: an unkeyed trail is keyed at the first write with the key
// (an audit.keyed entry), verify uses the key, and without it the keyed trail is refused.
TEST_F(ColdChainCli, AnAuditKeyFileKeysTheTrailAndIsThenRequired) {
  {
    auto db = store::Database::open(db_path_, {});
    ASSERT_TRUE(db.ok());
    CatalogItem vax{.sku = "VAX", .name = "Vaccine"};
    vax.zone = "pharma-1";
    ASSERT_TRUE(store::apply_catalog(**db, {vax}, "2026-11-23T00:00:00.000Z").ok());
    store::Ledger ledger(**db);
    auto m = movement("r1", "VAX", MovementKind::kReceive, 10);
    ASSERT_TRUE(ledger.post(std::span(&m, 1)).ok());
    auto placed = (*db)->transaction([&](const store::Txn& txn) {
      return store::place_holds(txn, ledger, "pharma-1", "pharma-1/high/run/1", "hold-x",
                                {"2026-11-23T10:00:00.000Z", 1, "agent", "coldchain"});
    });
    ASSERT_TRUE(placed.ok()) << placed.error().message;
  }
  write_file(dir_.file("audit.key"), "k3y-of-this-gateway-0123456789\n");
  const auto keyed_cfg = dir_.file("keyed.json");
  auto text = cold_config(db_path_);
  text.insert(text.find('{') + 1, R"( "audit_key_file": "audit.key",)");
  write_file(keyed_cfg, text);
  auto r = run_agent({"holds", "release", "1", "--who", "Ana", "--why", "fine", "-c", keyed_cfg});
  ASSERT_EQ(r.code, 0) << r.err;
  auto audit = json::parse(run_agent({"audit", "--json", "-c", keyed_cfg}).out);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0]["what"], "hold");          // unkeyed, kept as it was
  EXPECT_EQ(audit[1]["what"], "audit.keyed");   // keying starts here
  EXPECT_EQ(audit[2]["what"], "hold.release");  // keyed
  r = run_agent({"audit", "verify", "-c", keyed_cfg});
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_THAT(r.out, HasSubstr("audit trail ok: 3 entries"));
  // Without the key: no writes, no verification.
  r = run_agent({"holds", "writeoff", "1", "--who", "Bo", "--why", "x", "-c", cfg_});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("is keyed (from entry 2): set audit_key_file"));
  r = run_agent({"audit", "verify", "-c", cfg_});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("needs the gateway's audit key"));
  // A key file that cannot be read is named.
  std::filesystem::remove(dir_.file("audit.key"));
  r = run_agent({"audit", "verify", "-c", keyed_cfg});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("audit_key_file: \""));
  EXPECT_THAT(r.err, HasSubstr("audit.key\" cannot be read: No such file or directory"));
}

TEST_F(ColdChainCli, AlarmsAndZonesWithoutARunningAgent) {
  auto r = run_agent({"alarms", "ack", "pharma-1", "--who", "Ana", "--comment", "x", "-c", cfg_});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("no agent is running"));
  r = run_agent({"alarms", "ack", "freezer-9", "--who", "Ana", "--comment", "x", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("ZONE: \"freezer-9\" is not a configured zone (configured: pharma-1)"));
  r = run_agent({"alarms", "ack", "pharma-1", "--comment", "x", "-c", cfg_});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--user ID: required"));
  r = run_agent({"alarms", "-c", cfg_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("no alarms recorded"));
  r = run_agent({"zones", "-c", cfg_});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("zone pharma-1: no state yet"));
}

}  // namespace
}  // namespace depot::test
