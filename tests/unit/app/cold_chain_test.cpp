// ColdChain against a real SQLite file: readings buffered and committed with their telemetry
// record, zone events with their outbox records, quality holds placed when a zone alarms and
// ended by release/write-off, acknowledgements through the ack_requests table, a wall-clock
// step during an excursion, restart handling and retention. Times are hand-picked so every
// expected value below follows from the zone's rules (docs/coldchain.md).
#include "app/cold_chain.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/config.hpp"
#include "store/audit.hpp"
#include "store/coldchain_store.hpp"
#include "store/outbox.hpp"
#include "sync/commands.hpp"
#include "test_support.hpp"

namespace depot::app {
namespace {
using ::testing::HasSubstr;
namespace cc = coldchain;
using nlohmann::json;

constexpr std::int64_t kWall0 = 1'795'000'020'000;  // a whole minute (2026-11-18T...)

cc::Zone cold_zone() {
  cc::Zone z;
  z.id = "cold-1";
  z.min_c = 2;
  z.max_c = 8;
  z.warning_band_c = 1;
  z.alarm_delay_s = 60;
  z.hysteresis_c = 0.5;
  z.repeat_s = 120;
  return z;
}

cc::SensorConfig probe(std::string id) {
  cc::SensorConfig s;
  s.id = std::move(id);
  s.zone = "cold-1";
  s.read_interval_s = 10;
  s.offline_after_s = 60;
  return s;
}

class ColdChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Database::open(dir_.file("cold.db"), {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    CatalogItem vax{.sku = "VAX", .name = "Vaccine"};
    vax.zone = "cold-1";
    CatalogItem empty{.sku = "SERUM", .name = "Serum"};
    empty.zone = "cold-1";
    CatalogItem amb{.sku = "AMB", .name = "Ambient goods"};
    amb.zone = "ambient";
    ASSERT_TRUE(store::apply_catalog(*db_, {vax, empty, amb}, "2026-11-18T00:00:00.000Z").ok());
    ledger_ = std::make_unique<store::Ledger>(*db_);
    auto r = ledger_->post(std::vector<MovementRequest>{
        test::movement("r1", "VAX", MovementKind::kReceive, 10),
        test::movement("r2", "AMB", MovementKind::kReceive, 5)});
    ASSERT_TRUE(r.ok());
  }

  std::unique_ptr<ColdChain> make(ColdChainSettings s = {}) {
    if (s.zones.empty()) s.zones = {cold_zone()};
    if (s.sensors.empty()) s.sensors = {probe("p1")};
    ColdChainHooks h;
    h.new_id = [this] { return "id" + std::to_string(++ids_); };
    h.before_stock_change = [this] { ++stock_changes_; };
    h.cloud_ack_outcome = [this](const std::string& id, bool applied, const json& result,
                                 const std::string& error) {
      outcomes_.push_back(sync::make_reply(id, applied, error, result));
    };
    return std::make_unique<ColdChain>(*db_, *ledger_, std::move(s), std::move(h));
  }

  // The instant `s` seconds into the test (monotonic from boot_ns_), wall shifted by shift_ms.
  cc::Instant at(double s, std::int64_t shift_ms = 0, bool unsync = false) const {
    return {boot_ns_ + static_cast<std::int64_t>(s * 1e9),
            kWall0 + static_cast<std::int64_t>(s * 1000) + shift_ms, unsync};
  }
  cc::Reading reading(std::string p, double c, double s, std::int64_t shift_ms = 0,
                      bool unsync = false) const {
    cc::Reading r;
    r.probe = std::move(p);
    r.celsius = c;
    auto i = at(s, shift_ms, unsync);
    r.wall_ms = i.wall_ms;
    r.mono_ns = i.mono_ns;
    r.flags.clock_unsynchronized = unsync;
    return r;
  }
  // One reading of p1 and a tick at the same instant.
  void feed(ColdChain& c, double celsius, double s, std::int64_t shift_ms = 0) {
    c.on_reading(reading("p1", celsius, s, shift_ms));
    c.tick(at(s, shift_ms));
  }

  std::int64_t count(const std::string& sql) {
    auto s = db_->prepare(sql);
    EXPECT_TRUE(s.ok()) << sql;
    auto row = (*s)->step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    auto n = (*s)->int64(0);
    (*s)->reset();
    return n;
  }
  std::string text(const std::string& sql) {
    auto s = db_->prepare(sql);
    EXPECT_TRUE(s.ok()) << sql;
    auto row = (*s)->step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    auto t = (*s)->text(0);
    (*s)->reset();
    return t;
  }
  StockLine line(const std::string& sku) { return (*ledger_->stock(sku))[0].line; }

  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Ledger> ledger_;
  int ids_ = 0;
  std::vector<json> outcomes_;  // what cloud_ack_outcome handed on
  int stock_changes_ = 0;
  std::int64_t boot_ns_ = 5'000'000'000;
};

TEST_F(ColdChainTest, ReadingsAreCommittedOnTickWithOneTelemetryRecord) {
  auto c = make();
  ASSERT_TRUE(c->start(at(0)).ok());
  c->on_reading(reading("p1", 4.0, 0));
  c->on_reading(reading("p1", 200.0, 1));  // beyond the plausible 125
  auto crc = reading("p1", 0, 2, 0, true);
  crc.quality = cc::Quality::kCrcFailed;
  crc.reason = "CRC mismatch (crc=a3 NO)";
  c->on_reading(crc);
  c->on_reading(reading("nobody", 4.0, 2));
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 0);  // buffered until the tick
  c->tick(at(2));
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 3);
  EXPECT_EQ(c->counters().unknown_probe, 1);
  EXPECT_EQ(text("SELECT quality FROM readings WHERE wall_ms = " + std::to_string(kWall0 + 1000)),
            "implausible");
  EXPECT_THAT(text("SELECT reason FROM readings WHERE wall_ms = " + std::to_string(kWall0 + 1000)),
              HasSubstr("outside the plausible range"));
  EXPECT_EQ(count("SELECT clock_unsynchronized FROM readings WHERE quality = 'crc_failed'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM readings WHERE quality = 'crc_failed' AND celsius IS NULL"), 1);
  auto tel = store::outbox_read(*db_, "telemetry", 0, 10);
  ASSERT_TRUE(tel.ok());
  ASSERT_EQ(tel->size(), 1u);
  auto j = json::parse((*tel)[0].payload);
  EXPECT_EQ(j["type"], "readings");
  ASSERT_EQ(j["readings"].size(), 3u);
  EXPECT_EQ(j["readings"][0]["celsius"], 4.0);
  EXPECT_EQ(j["readings"][0]["zone"], "cold-1");
  EXPECT_FALSE(j["readings"][0].contains("clock_unsynchronized"));
  EXPECT_EQ(j["readings"][2]["clock_unsynchronized"], true);
  EXPECT_EQ(j["readings"][2]["quality"], "crc_failed");
  EXPECT_FALSE(j["readings"][2].contains("celsius"));
}

TEST_F(ColdChainTest, ABufferOfNReadingsCommitsWithoutWaitingForTheTick) {
  ColdChainSettings s;
  s.flush_max_readings = 4;
  auto c = make(s);
  ASSERT_TRUE(c->start(at(0)).ok());
  for (int i = 0; i < 3; ++i) c->on_reading(reading("p1", 4.0, i));
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 0);
  c->on_reading(reading("p1", 4.0, 3));
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 4);
}

// Flash wear (issue 18): readings are committed every readings_commit_s, not every tick; a
// zone event commits the readings buffered so far at once, with it.
TEST_F(ColdChainTest, ReadingsAreCommittedEveryCommitIntervalAndAtOnceWithAnEvent) {
  ColdChainSettings s;
  s.readings_commit_s = 10;
  auto c = make(s);
  ASSERT_TRUE(c->start(at(0)).ok());
  feed(*c, 4.0, 1);  // the first tick saves the zone states, and the reading with them
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 1);
  for (int t = 2; t <= 10; ++t) feed(*c, 4.0, t);
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 1);
  feed(*c, 4.0, 11);  // 10 s after the last commit
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 11);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'telemetry'"), 2);
  // Beyond the limit: the warning is an event, committed at once with the readings before it.
  feed(*c, 9.5, 12);
  ASSERT_GE(count("SELECT count(*) FROM zone_events"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 12);
  // A stop flushes what is buffered.
  feed(*c, 4.0, 13);
  ASSERT_TRUE(c->flush().ok());
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 13);
}

// Flash wear (issue 18): with retention.raw_every_s a quiet probe's raw reading is stored once
// every N seconds; a bad reading, a reading with an event and every reading while the zone is
// not normal are stored; the minute summary counts every reading.
TEST_F(ColdChainTest, RawEverySecondsThinsOutQuietReadingsButKeepsEveryOneAroundAnEvent) {
  ColdChainSettings s;
  s.retention.raw_every_s = 10;
  s.readings_commit_s = 1;
  auto c = make(s);
  ASSERT_TRUE(c->start(at(0)).ok());
  for (int t = 0; t < 25; ++t) feed(*c, 4.0, t);  // quiet: stored at 0, 10, 20
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM readings WHERE wall_ms = " + std::to_string(kWall0 + 10'000)), 1);
  EXPECT_EQ(c->counters().raw_not_stored, 22);
  auto crc = reading("p1", 0, 25.5);  // not good: stored though 5.5 s after the last stored
  crc.quality = cc::Quality::kCrcFailed;
  crc.reason = "CRC mismatch";
  c->on_reading(crc);
  c->tick(at(25.5));
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 4);
  feed(*c, 4.0, 26.5);  // quiet again: not stored
  // Out of order (older than the latest reading): the monitor drops it; its row is the only
  // record of it, so it is stored.
  feed(*c, 4.25, 26.0);
  EXPECT_EQ(count("SELECT count(*) FROM readings WHERE celsius = 4.25"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 5);
  for (int t = 27; t < 31; ++t) feed(*c, 4.0, t);  // not due before 35
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 5);
  // Above the limit from 31 s: the warning's reading and every one while not normal.
  for (int t = 31; t < 36; ++t) feed(*c, 9.5, t);
  ASSERT_GE(count("SELECT count(*) FROM zone_events"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM readings WHERE celsius = 9.5"), 5);
  // Back within the limits (below the hysteresis): the reading of the recovery is stored, then
  // quiet ones are thinned again.
  for (int t = 36; t < 50; ++t) feed(*c, 4.0, t);
  EXPECT_EQ(count("SELECT count(*) FROM readings WHERE wall_ms = " + std::to_string(kWall0 + 36'000)),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM readings WHERE celsius = 4.0 AND wall_ms > " +
                  std::to_string(kWall0 + 36'000)),
            1);  // at 46 s
  // The telemetry sent carries the stored readings only.
  std::int64_t sent = 0;
  auto tel = store::outbox_read(*db_, "telemetry", 0, 1000);
  ASSERT_TRUE(tel.ok());
  for (const auto& rec : *tel) sent += static_cast<std::int64_t>(json::parse(rec.payload)["readings"].size());
  EXPECT_EQ(sent, count("SELECT count(*) FROM readings"));
  // The minute summary counts every reading (25 + crc + 26.5 + 26.0 + 4 + 5 + 14).
  c->tick(at(61));
  EXPECT_EQ(count("SELECT count FROM reading_minutes WHERE minute_ms = " + std::to_string(kWall0)),
            51);
}

TEST_F(ColdChainTest, MinuteSummariesHoldMinMaxMeanOfGoodReadings) {
  auto c = make();
  ASSERT_TRUE(c->start(at(0)).ok());
  c->on_reading(reading("p1", 3.0, 0));
  c->on_reading(reading("p1", 5.0, 20));
  c->on_reading(reading("p1", 200.0, 40));  // implausible: counted, not in min/max/mean
  c->on_reading(reading("p1", 4.5, 61));    // the next minute
  c->tick(at(61));
  EXPECT_EQ(count("SELECT count(*) FROM reading_minutes"), 1);
  auto q = db_->prepare("SELECT min_c, max_c, mean_c, count, good, minute_ms FROM reading_minutes");
  ASSERT_TRUE(*(*q)->step());
  EXPECT_DOUBLE_EQ((*q)->real(0), 3.0);
  EXPECT_DOUBLE_EQ((*q)->real(1), 5.0);
  EXPECT_DOUBLE_EQ((*q)->real(2), 4.0);
  EXPECT_EQ((*q)->int64(3), 3);
  EXPECT_EQ((*q)->int64(4), 2);
  EXPECT_EQ((*q)->int64(5), kWall0);
  (*q)->reset();
  c->tick(at(125));  // the second minute ends without a later reading: closed by the tick
  EXPECT_EQ(count("SELECT count(*) FROM reading_minutes"), 2);
}

TEST_F(ColdChainTest, AnAlarmHoldsTheZonesAvailableStockAndAReleaseBringsItBack) {
  auto c = make();
  ASSERT_TRUE(c->start(at(0)).ok());
  for (int s = 0; s <= 30; s += 10) feed(*c, 5.0, s);
  for (int s = 40; s <= 90; s += 10) feed(*c, 10.0, s);
  // Beyond 8 since t=40 for 50 s: a warning, no alarm yet, nothing held.
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'warning'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'alarm'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM holds"), 0);
  feed(*c, 10.0, 100);  // 60 s beyond the limit: alarm
  ASSERT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'alarm'"), 1);
  EXPECT_EQ(count("SELECT wall_ms FROM zone_events WHERE kind = 'alarm'"), kWall0 + 100'000);
  EXPECT_EQ(stock_changes_, 1);  // scans gathered so far were committed first

  // Only VAX: in the zone with stock. SERUM has none, AMB is ambient.
  EXPECT_EQ(count("SELECT count(*) FROM holds"), 1);
  EXPECT_EQ(text("SELECT sku FROM holds"), "VAX");
  EXPECT_EQ(count("SELECT qty FROM holds"), 10);
  auto xid = text("SELECT excursion FROM zone_events WHERE kind = 'alarm'");
  EXPECT_EQ(text("SELECT excursion FROM holds"), xid);
  EXPECT_THAT(xid, HasSubstr("cold-1/high/"));
  EXPECT_EQ(text("SELECT kind FROM movements WHERE id = (SELECT movement_id FROM holds)"), "hold");
  EXPECT_EQ(line("VAX").on_hand, 10);
  EXPECT_EQ(line("VAX").held, 10);
  EXPECT_EQ(line("VAX").available(), 0);
  EXPECT_EQ(line("AMB").held, 0);
  // Outbox: the alarm on `alarms`, the hold movement on `movements`, the hold on `audit`.
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'alarms' AND payload LIKE '%\"kind\":\"alarm\"%'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'movements' AND payload LIKE '%\"kind\":\"hold\"%'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE what = 'hold'"), 1);
  // The audit trail's hold entry names what was held (the trial had to join the details).
  EXPECT_THAT(text("SELECT why FROM audit_log WHERE what = 'hold'"),
              HasSubstr("10 x VAX held: zone cold-1 in alarm"));

  // Release 4 (stock fine), write off the rest (destroyed).
  const auto hold_id = count("SELECT id FROM holds");
  store::HoldContext ctx{"2026-11-18T12:00:00.000Z", 1, "Ana", "cli"};
  auto rel = db_->transaction([&](const store::Txn& txn) {
    return store::end_hold(txn, *ledger_, hold_id, store::HoldEnd::kRelease, 4, "Ana",
                           "probe next to the door; product core temperature fine", "rel-1", ctx);
  });
  ASSERT_TRUE(rel.ok()) << rel.error().message;
  EXPECT_EQ(rel->remaining(), 6);
  EXPECT_EQ(line("VAX").available(), 4);
  EXPECT_EQ(line("VAX").held, 6);
  auto too_many = db_->transaction([&](const store::Txn& txn) {
    return store::end_hold(txn, *ledger_, hold_id, store::HoldEnd::kWriteoff, 7, "Ana", "x", "wo-0",
                           ctx);
  });
  ASSERT_FALSE(too_many.ok());
  EXPECT_THAT(too_many.error().message, HasSubstr("qty: 7 must be 1 to 6"));
  auto no_why = db_->transaction([&](const store::Txn& txn) {
    return store::end_hold(txn, *ledger_, hold_id, store::HoldEnd::kWriteoff, std::nullopt, "Ana",
                           "", "wo-0", ctx);
  });
  EXPECT_FALSE(no_why.ok());
  EXPECT_EQ(line("VAX").held, 6);  // refused ones changed nothing
  auto wo = db_->transaction([&](const store::Txn& txn) {
    return store::end_hold(txn, *ledger_, hold_id, store::HoldEnd::kWriteoff, std::nullopt, "Ana",
                           "vials above 8 C for 2 h", "wo-1", ctx);
  });
  ASSERT_TRUE(wo.ok()) << wo.error().message;
  EXPECT_TRUE(wo->closed_at.has_value());
  EXPECT_EQ(line("VAX").on_hand, 4);  // the 6 written off left on hand
  EXPECT_EQ(line("VAX").held, 0);
  EXPECT_EQ(line("VAX").available(), 4);
  auto again = db_->transaction([&](const store::Txn& txn) {
    return store::end_hold(txn, *ledger_, hold_id, store::HoldEnd::kRelease, std::nullopt, "Ana",
                           "x", "rel-2", ctx);
  });
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message, HasSubstr("already closed"));
  EXPECT_EQ(text("SELECT why FROM audit_log WHERE what = 'hold.writeoff'"), "vials above 8 C for 2 h");
  EXPECT_EQ(text("SELECT who FROM audit_log WHERE what = 'hold.release'"), "Ana");
  auto v = store::audit_verify(*db_);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->problem;
}

TEST_F(ColdChainTest, AnAlarmAndItsHoldsCommitTogetherOrNotAtAllAndAreRetried) {
  auto c = make();
  ASSERT_TRUE(c->start(at(0)).ok());
  for (int s = 0; s <= 50; s += 10) feed(*c, 10.0, s);
  // The holds table refuses writes (as a full disk would): the alarm's transaction fails.
  ASSERT_TRUE(db_->exec("CREATE TEMP TRIGGER fail_holds BEFORE INSERT ON holds"
                        " BEGIN SELECT RAISE(ABORT, 'no space (test)'); END").ok());
  feed(*c, 10.0, 60);
  EXPECT_GT(c->counters().store_errors, 0);
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'alarm'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM movements WHERE kind = 'hold'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'alarms' AND payload LIKE '%\"kind\":\"alarm\"%'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE what <> 'coldchain.limits'"), 0);
  EXPECT_EQ(line("VAX").held, 0);
  ASSERT_TRUE(db_->exec("DROP TRIGGER temp.fail_holds").ok());
  feed(*c, 10.0, 61);  // retried at the next tick: all of it, once
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'alarm'"), 1);
  EXPECT_EQ(count("SELECT wall_ms FROM zone_events WHERE kind = 'alarm'"), kWall0 + 60'000);
  EXPECT_EQ(count("SELECT count(*) FROM movements WHERE kind = 'hold'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM holds"), 1);
  EXPECT_EQ(line("VAX").held, 10);
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 8);  // none lost meanwhile
}

// A live request acknowledges the open alarm whatever its wall time says: after NTP stepped a
// gateway's clock back hours, a request stamped "before" the alarm was refused ("no
// unacknowledged alarm") while the alarm kept repeating. (Only a request queued before the
// run started is limited to the alarms raised by its time.)
TEST_F(ColdChainTest, ALiveAcknowledgementCoversTheOpenAlarmAfterTheClockSteppedBack) {
  auto c = make();
  ASSERT_TRUE(c->start(at(0)).ok());
  for (int s = 0; s <= 30; s += 10) feed(*c, 5.0, s);
  for (int s = 40; s <= 120; s += 10) feed(*c, 10.0, s);  // alarm at 100
  auto req = store::request_ack(*db_, "cold-1", "Ana", "checked", "cli", "2000-01-01T00:00:00.000Z");
  ASSERT_TRUE(req.ok());
  feed(*c, 10.0, 130);
  auto a = store::find_ack(*db_, *req);
  ASSERT_TRUE(a.ok() && *a);
  EXPECT_EQ((*a)->status, "applied") << (*a)->result.value_or("");
}

TEST_F(ColdChainTest, RepeatsUntilAcknowledgedThroughARequestRowThenTheExcursionIsRecorded) {
  auto c = make();
  ASSERT_TRUE(c->start(at(0)).ok());
  for (int s = 0; s <= 30; s += 10) feed(*c, 5.0, s);
  for (int s = 40; s <= 220; s += 10) feed(*c, 10.0, s);
  // Alarm at 100, repeat 120 s later at 220.
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'alarm_repeat'"), 1);
  EXPECT_EQ(count("SELECT wall_ms FROM zone_events WHERE kind = 'alarm_repeat'"), kWall0 + 220'000);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'alarms' AND payload LIKE '%alarm_repeat%'"), 1);

  auto req = store::request_ack(*db_, "cold-1", "Ana", "door was open; closed it", "cli", "t");
  ASSERT_TRUE(req.ok());
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'acknowledged'"), 0);
  feed(*c, 10.0, 230);  // the next tick applies it
  auto a = store::find_ack(*db_, *req);
  ASSERT_TRUE(a.ok() && *a);
  EXPECT_EQ((*a)->status, "applied");
  EXPECT_THAT((*a)->result.value_or(""), HasSubstr("acknowledged 1 alarm"));
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'acknowledged' AND who = 'Ana'"), 1);
  EXPECT_EQ(text("SELECT why FROM audit_log WHERE what = 'alarm.ack'"), "door was open; closed it");
  EXPECT_EQ(text("SELECT who FROM audit_log WHERE what = 'alarm.ack'"), "Ana");
  for (int s = 240; s <= 400; s += 10) feed(*c, 10.0, s);
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'alarm_repeat'"), 1);  // stopped

  auto twice = store::request_ack(*db_, "cold-1", "Bo", "again", "cli", "t");
  auto nowhere = store::request_ack(*db_, "freezer-9", "Bo", "x", "cli", "t");
  feed(*c, 10.0, 410);
  EXPECT_EQ((*store::find_ack(*db_, *twice))->status, "rejected");
  EXPECT_THAT((*store::find_ack(*db_, *twice))->result.value_or(""),
              HasSubstr("has no unacknowledged alarm"));
  EXPECT_THAT((*store::find_ack(*db_, *nowhere))->result.value_or(""),
              HasSubstr("\"freezer-9\" is not a configured zone"));

  EXPECT_EQ(count("SELECT count(*) FROM excursions"), 0);
  auto open = store::load_zone_states(*db_);
  ASSERT_TRUE(open.ok() && open->size() == 1);
  EXPECT_EQ((*open)[0].first["level"], "alarm");
  ASSERT_EQ((*open)[0].first["open_excursions"].size(), 1u);
  EXPECT_EQ((*open)[0].first["open_excursions"][0]["acknowledged"]["who"], "Ana");

  feed(*c, 5.0, 420);  // back inside by the hysteresis: cleared, excursion closed
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'cleared'"), 1);
  ASSERT_EQ(count("SELECT count(*) FROM excursions"), 1);
  EXPECT_EQ(text("SELECT ended FROM excursions"), "closed");
  EXPECT_EQ(text("SELECT ack_who FROM excursions"), "Ana");
  EXPECT_EQ(count("SELECT start_wall_ms FROM excursions"), kWall0 + 40'000);
  EXPECT_EQ(count("SELECT end_wall_ms FROM excursions"), kWall0 + 420'000);
  EXPECT_EQ(count("SELECT CAST(duration_s AS INTEGER) FROM excursions"), 380);
  // 2 °C beyond for 380 s = 12.667 °C·min.
  EXPECT_EQ(count("SELECT CAST(round(degree_minutes * 1000) AS INTEGER) FROM excursions"), 12667);
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE what = 'excursion'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'alarms' AND payload LIKE '%\"type\":\"excursion\"%'"), 1);
  // The excursion record joins its events: its `excursion` is the id they carry.
  auto record =
      json::parse(text("SELECT payload FROM outbox WHERE stream = 'alarms' AND payload LIKE "
                       "'%\"type\":\"excursion\"%'"));
  const auto excursion = record["excursion"].get<std::string>();
  EXPECT_EQ(record["id"], "excursion-" + excursion);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'alarms' AND "
                  "json_extract(payload, '$.type') = 'event' AND "
                  "json_extract(payload, '$.excursion') = '" +
                  excursion + "'"),
            count("SELECT count(*) FROM zone_events WHERE excursion = '" + excursion + "'"));
  EXPECT_GT(count("SELECT count(*) FROM zone_events WHERE excursion = '" + excursion + "'"), 0);
  auto after = store::load_zone_states(*db_);
  EXPECT_EQ((*after)[0].first["level"], "normal");  // 5 <= 8 - 1 - 0.5: warning cleared too
}

TEST_F(ColdChainTest, AWallClockStepDuringAnExcursionNeitherFiresNorHidesTheAlarm) {
  for (std::int64_t step : {-7'200'000LL, 7'200'000LL}) {
    SCOPED_TRACE(step);
    ASSERT_TRUE(db_->exec("DELETE FROM zone_state").ok());
    boot_ns_ += 1'000'000'000'000;  // a fresh monitor's time line
    auto c = make();
    ASSERT_TRUE(c->start(at(0)).ok());
    const auto before = count("SELECT count(*) FROM zone_events WHERE kind = 'alarm'");
    for (int s = 0; s <= 20; s += 10) feed(*c, 10.0, s);
    for (int s = 30; s <= 50; s += 10) feed(*c, 10.0, s, step);  // the clock steps at 30 s
    EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'alarm'"), before);
    feed(*c, 10.0, 60, step);  // 60 s on the monotonic clock
    ASSERT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'alarm'"), before + 1);
    EXPECT_EQ(count("SELECT mono_ns FROM zone_events WHERE kind = 'alarm' ORDER BY seq DESC LIMIT 1"),
              at(60).mono_ns);
    EXPECT_EQ(count("SELECT wall_ms FROM zone_events WHERE kind = 'alarm' ORDER BY seq DESC LIMIT 1"),
              kWall0 + 60'000 + step);
    feed(*c, 5.0, 100, step);
    // The record's duration is monotonic (100 s), whatever the wall clock did.
    EXPECT_EQ(count("SELECT CAST(round(duration_s) AS INTEGER) FROM excursions ORDER BY start_wall_ms DESC LIMIT 1"), 100);
  }
}

// A probe gone silent stores no readings, while its zone's state is still written every 10 s
// with the record open: the record closed at a restart ends at that last write, not at the
// last reading (a failure that lasted days ended where it began: 0 s).
TEST_F(ColdChainTest, ARestartEndsAnOpenRecordNoEarlierThanTheStatesLastWrite) {
  {
    auto c = make();
    ASSERT_TRUE(c->start(at(0)).ok());
    for (int s = 0; s <= 70; s += 10) feed(*c, 10.0, s);
  }
  ASSERT_EQ(count("SELECT updated_ms FROM zone_state"), kWall0 + 70'000);
  ASSERT_TRUE(db_->exec("UPDATE zone_state SET updated_ms = updated_ms + 50000").ok());
  boot_ns_ = 2'000'000'000;
  auto c = make();
  ASSERT_TRUE(c->start(at(200)).ok());
  EXPECT_EQ(count("SELECT end_wall_ms FROM excursions"), kWall0 + 120'000);
  EXPECT_EQ(count("SELECT CAST(duration_s AS INTEGER) FROM excursions"), 120);
}

TEST_F(ColdChainTest, ARestartClosesTheOpenExcursionAndKeepsItsHolds) {
  {
    auto c = make();
    ASSERT_TRUE(c->start(at(0)).ok());
    for (int s = 0; s <= 70; s += 10) feed(*c, 10.0, s);
    ASSERT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'alarm'"), 1);
    ASSERT_EQ(line("VAX").held, 10);
    // Gone without a word, as after SIGKILL: only what was committed remains.
  }
  const auto last_seen = count("SELECT updated_ms FROM zone_state");
  EXPECT_EQ(last_seen, kWall0 + 70'000);
  // The state is written every 10 s, readings every second: the trial's SIGKILL found the
  // state seconds older than the last reading, and the excursion ended that much early. The
  // recorded end is the last committed reading.
  ASSERT_TRUE(db_->exec("UPDATE zone_state SET updated_ms = updated_ms - 8000").ok());
  boot_ns_ = 2'000'000'000;  // a new boot: the monotonic clock starts over
  auto c = make();
  ASSERT_TRUE(c->start(at(200)).ok());
  ASSERT_EQ(count("SELECT count(*) FROM excursions"), 1);
  EXPECT_EQ(text("SELECT ended FROM excursions"), "restart");
  EXPECT_EQ(count("SELECT end_wall_ms FROM excursions"), last_seen);
  EXPECT_EQ(count("SELECT CAST(duration_s AS INTEGER) FROM excursions"), 70);
  EXPECT_EQ(count("SELECT alarmed FROM excursions"), 1);
  EXPECT_THAT(text("SELECT why FROM audit_log WHERE what = 'excursion'"), HasSubstr("restart"));
  EXPECT_EQ(count("SELECT count(*) FROM holds WHERE closed_at IS NULL"), 1);
  EXPECT_EQ(line("VAX").held, 10);
  // Still too warm: a new excursion and, after the delay, a new alarm; nothing left to hold.
  for (int s = 200; s <= 260; s += 10) feed(*c, 10.0, s);
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'alarm'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM holds"), 1);
  // A second start does not record the restart twice.
  auto c2 = make();
  ASSERT_TRUE(c2->start(at(300)).ok());
  EXPECT_EQ(count("SELECT count(*) FROM excursions WHERE ended = 'restart'"), 2);
}

// From the trials: saved state from an earlier run is outside input. A zone_state row whose
// open excursion lacks a field (or is not JSON, or is nested without end) made every start
// crash in insert_excursion; now such a record is discarded with a warning and the start goes on.
TEST_F(ColdChainTest, SavedStateThatIsDamagedNeverStopsAStart) {
  ASSERT_TRUE(db_->exec("INSERT INTO zone_state(zone, state, updated_ms) VALUES"
                        "('cold-1', '{\"open_excursions\":[{\"id\":\"x1\",\"zone\":\"cold-1\"},"
                        "{\"id\":7},3,{\"id\":\"x2\",\"zone\":\"cold-1\",\"side\":\"high\","
                        "\"limit_c\":8,\"start_wall_ms\":1e300}]}', 1),"
                        "('ghost', 'not json', 2),"
                        "('deep', '" + std::string(5000, '[') + "', 3),"
                        "('array', '[1,2]', 4),"
                        "('odd', '{\"open_excursions\":{\"id\":\"x3\"}}', 5)")
                  .ok());
  auto c = make();
  auto st = c->start(at(0));
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(count("SELECT count(*) FROM excursions"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM zone_state"), 1);  // rewritten for the one zone
  // And it runs: a warm spell still alarms.
  for (int s = 0; s <= 70; s += 10) feed(*c, 10.0, s);
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'alarm'"), 1);
}

TEST_F(ColdChainTest, RetentionKeepsExcursionReadingsAndSkipsAnUnsynchronisedClock) {
  constexpr std::int64_t kDay = 86'400'000;
  const std::int64_t now = kWall0;
  std::vector<store::StoredReading> old;
  auto add = [&](std::int64_t wall_ms) {
    cc::Reading r;
    r.probe = "p1";
    r.celsius = 4;
    r.wall_ms = wall_ms;
    old.push_back({r, "cold-1"});
  };
  add(now - 40 * kDay);                // old: removed
  add(now - 35 * kDay);                // old, but inside the excursion below: kept
  add(now - 35 * kDay - 50 * 60'000);  // 50 min before it: within the 60 min margin, kept
  add(now - 35 * kDay - 2 * 3'600'000);  // 2 h before: removed
  add(now - 1 * kDay);                 // recent: kept
  cc::Excursion x;
  x.zone = "cold-1";
  x.start = {0, now - 35 * kDay - 600'000, false};
  x.end = cc::Instant{600'000'000'000, now - 35 * kDay + 600'000, false};
  x.peak_c = 9;
  x.limit_c = 8;
  std::vector<store::MinuteSummary> mins{{"p1", "cold-1", now - 500 * kDay, 1, 2, 1.5, 2, 2},
                                         {"p1", "cold-1", now - 10 * kDay, 1, 2, 1.5, 2, 2}};
  ASSERT_TRUE(db_->transaction([&]() -> Status {
                    if (auto s = store::insert_readings(*db_, old, false, "x", "t"); !s) return s;
                    if (auto s = store::insert_minutes(*db_, mins); !s) return s;
                    return store::insert_excursion(*db_, store::excursion_json(x, "x1", 0), "closed", "t");
                  }).ok());
  ColdChainSettings s;
  s.prune_batch_rows = 1;  // small steps: one row per tick
  auto c = make(s);
  ASSERT_TRUE(c->start(at(0)).ok());
  for (int i = 0; i < 5; ++i) c->tick(at(i, 0, true));  // clock not synchronised: no pruning
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 5);
  for (int i = 5; i < 10; ++i) c->tick(at(i));
  EXPECT_EQ(count("SELECT count(*) FROM readings"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM readings WHERE wall_ms = " + std::to_string(now - 35 * kDay)), 1);
  EXPECT_EQ(count("SELECT count(*) FROM readings WHERE wall_ms = " +
                  std::to_string(now - 35 * kDay - 50 * 60'000)), 1);
  EXPECT_EQ(count("SELECT count(*) FROM reading_minutes"), 1);
  EXPECT_EQ(c->counters().pruned_readings, 2);
  EXPECT_EQ(c->counters().pruned_minutes, 1);
}

TEST_F(ColdChainTest, CloudCommandsReleaseAHoldOnceAndQueueAnAckTheTickApplies) {
  auto c = make();
  ASSERT_TRUE(c->start(at(0)).ok());
  for (int s = 0; s <= 60; s += 10) feed(*c, 10.0, s);
  ASSERT_EQ(line("VAX").held, 10);
  sync::DeskHooks h;
  h.wall_now = [] { return std::string("2026-11-18T12:00:00.000Z"); };
  h.mono_now_ns = [] { return std::int64_t{1}; };
  h.new_id = [this] { return "d" + std::to_string(++ids_); };
  h.zones = {"cold-1"};
  sync::CommandDesk desk(*db_, *ledger_, "", h);
  const auto hold = std::to_string(count("SELECT id FROM holds"));
  auto r = desk.handle("hold.release",
                       R"({"id":"c1","args":{"hold":)" + hold + R"(,"qty":3,"who":"QA Lee","why":"core temp fine"}})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["remaining"], 7);
  EXPECT_EQ(line("VAX").available(), 3);
  auto again = desk.handle("hold.release",
                           R"({"id":"c1","args":{"hold":)" + hold + R"(,"qty":3,"who":"QA Lee","why":"core temp fine"}})");
  EXPECT_EQ(again["duplicate"], true);
  EXPECT_EQ(line("VAX").available(), 3);  // applied once
  EXPECT_EQ(text("SELECT source FROM movements WHERE id = 'cmd-c1'"), "cloud");
  EXPECT_EQ(text("SELECT who FROM audit_log WHERE what = 'hold.release'"), "QA Lee");
  auto bad = desk.handle("hold.writeoff", R"({"id":"c2","args":{"hold":999,"who":"x","why":"y"}})");
  EXPECT_EQ(bad["ok"], false);
  EXPECT_THAT(bad["error"].get<std::string>(), HasSubstr("hold 999 does not exist"));
  auto nozone = desk.handle("alarm.ack", R"({"id":"c3","args":{"zone":"f-9","who":"x","comment":"y"}})");
  EXPECT_EQ(nozone["ok"], false);
  EXPECT_THAT(nozone["error"].get<std::string>(), HasSubstr("args.zone: \"f-9\" is not a configured zone (configured: cold-1)"));
  auto ack = desk.handle("alarm.ack", R"({"id":"c4","args":{"zone":"cold-1","who":"QA Lee","comment":"on it"}})");
  ASSERT_EQ(ack["ok"], true) << ack.dump();
  EXPECT_EQ(ack["result"]["status"], "queued");
  feed(*c, 10.0, 70);
  EXPECT_EQ(count("SELECT count(*) FROM zone_events WHERE kind = 'acknowledged' AND who = 'QA Lee'"), 1);
  EXPECT_EQ(text("SELECT status FROM ack_requests"), "applied");
  EXPECT_EQ(text("SELECT source FROM ack_requests"), "cloud:c4");
  // Each applied command is in the audit trail, its record the desk's own; the ack's
  // outcome is an entry and a record too, and was handed on as a second reply.
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE what = 'command'"), 2);  // c1, c4
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'audit' AND id LIKE 'command:%'"), 3);
  ASSERT_EQ(outcomes_.size(), 1u);
  EXPECT_EQ(outcomes_[0]["id"], "c4");
  EXPECT_EQ(outcomes_[0]["ok"], true);
  EXPECT_EQ(outcomes_[0]["result"]["status"], "applied");

  // Nothing left to acknowledge: the queued command is refused at the tick, and the refusal
  // reaches the cloud (it never did): a reply with ok:false and an `audit` record.
  auto late = desk.handle(
      "alarm.ack", R"({"id":"c5","args":{"zone":"cold-1","who":"QA Lee","comment":"again"}})");
  ASSERT_EQ(late["ok"], true) << late.dump();
  feed(*c, 10.0, 80);
  EXPECT_EQ(text("SELECT status FROM ack_requests WHERE source = 'cloud:c5'"), "rejected");
  ASSERT_EQ(outcomes_.size(), 2u);
  EXPECT_EQ(outcomes_[1]["id"], "c5");
  EXPECT_EQ(outcomes_[1]["ok"], false);
  EXPECT_EQ(outcomes_[1]["result"]["status"], "rejected");
  EXPECT_FALSE(outcomes_[1]["error"].get<std::string>().empty());
  auto rec = json::parse(text("SELECT payload FROM outbox WHERE id = 'command:c5:outcome'"));
  EXPECT_EQ(rec["event"], "command.outcome");
  EXPECT_EQ(rec["ok"], false);
  EXPECT_EQ(rec["command_id"], "c5");
  auto v = store::audit_verify(*db_);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->problem;
}

// Alarm outputs through ColdChain: a probe_failure alarm escalates by its own levels; the
// first attempt of `siren` fails (output_failure raised, on the alarms stream) and its retry
// clears it; with reset_on "ack" the alarm keeps escalating after it ended, until the
// acknowledgement of the ended alarm (through a request row) stops it and resets the outputs.
// The I/O side is replaced by a recorder here (drivers/output has its own tests with a real
// Modbus server and real hooks; the daemon test joins both).
TEST_F(ColdChainTest, AProbeFailureEscalatesUntilItsLateAcknowledgementAndFailuresAreAlarms) {
  cc::OutputSpec siren, pager;
  siren.name = "siren";
  siren.exec.command = {"/bin/true"};
  pager.name = "pager";
  pager.exec.command = {"/bin/true"};
  cc::EscalationPolicy pol;
  pol.probe_failure = {{0, {"siren"}, 0}, {200'000, {"pager"}, 0}};
  pol.reset_on = cc::ResetOn::kAck;
  // The output hooks record the actions and answer them at the next tick.
  std::vector<cc::OutputAction> ran;
  std::vector<cc::OutputResult> answers;
  int siren_fails = 1;
  ColdChainHooks h;
  h.new_id = [this] { return "id" + std::to_string(++ids_); };
  h.run_output = [&](cc::OutputAction a) {
    const bool fail = a.output == "siren" && a.event == cc::OutputEvent::kFire && siren_fails-- > 0;
    ran.push_back(a);
    answers.push_back({std::move(a), !fail, fail ? "exit status 1" : ""});
  };
  h.output_results = [&] { return std::exchange(answers, {}); };
  ColdChainSettings s2;
  s2.zones = {cold_zone()};
  s2.sensors = {probe("p1")};
  s2.outputs.outputs = {siren, pager};
  s2.outputs.fallback = pol;
  auto c = std::make_unique<ColdChain>(*db_, *ledger_, std::move(s2), std::move(h));
  ASSERT_TRUE(c->start(at(0)).ok());
  for (int t = 0; t <= 30; t += 10) feed(*c, 5.0, t);
  for (int t = 31; t <= 100; ++t) c->tick(at(t));  // p1 silent: offline at 90
  ASSERT_GE(ran.size(), 2u);
  EXPECT_EQ(ran[0].output, "siren");
  EXPECT_EQ(ran[0].alarm.type, cc::AlarmType::kProbeFailure);
  EXPECT_EQ(ran[0].alarm.probe, "p1");
  EXPECT_EQ(ran[1].output, "siren");  // the retry, 5 s after the failure came back
  EXPECT_EQ(ran[1].attempt, 2);
  EXPECT_EQ(count("SELECT count(*) FROM output_failures WHERE output = 'siren'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM output_failures WHERE cleared_ms IS NOT NULL"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'alarms' AND payload LIKE "
                  "'%\"type\":\"output_failure\"%'"),
            2);  // raised, cleared
  EXPECT_EQ(count("SELECT count(*) FROM output_log WHERE output = 'siren' AND ok = 0"), 1);
  // The probe is back at 150: the alarm ends unacknowledged, and still escalates (reset_on ack).
  for (int t = 150; t <= 300; t += 10) feed(*c, 5.0, t);
  ASSERT_EQ(ran.size(), 3u);
  EXPECT_EQ(ran[2].output, "pager");
  EXPECT_EQ(ran[2].level, 2);
  // Acknowledged after it ended: escalation stops, both outputs are reset.
  ASSERT_TRUE(store::request_ack(*db_, "cold-1", "Ana", "probe reseated", "cli", "t").ok());
  for (int t = 310; t <= 600; t += 10) feed(*c, 5.0, t);
  ASSERT_EQ(ran.size(), 5u);
  EXPECT_EQ(ran[3].event, cc::OutputEvent::kReset);
  EXPECT_EQ(ran[4].event, cc::OutputEvent::kReset);
  EXPECT_EQ(count("SELECT count(*) FROM output_log WHERE event = 'reset' AND ok = 1"), 2);
}

TEST_F(ColdChainTest, AConfigChangeIsAuditedOnceUntilItChangesAgain) {
  auto first = audit_config_change(*db_, "/etc/a.json", store::sha256_hex("{\"a\":1}"), "started", "t1");
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  EXPECT_FALSE(*audit_config_change(*db_, "/etc/a.json", store::sha256_hex("{\"a\":1}"), "started", "t2"));
  EXPECT_TRUE(*audit_config_change(*db_, "/etc/a.json", store::sha256_hex("{\"a\":2}"), "reloaded", "t3"));
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE what = 'config.change'"), 2);
  auto d = json::parse(text("SELECT details FROM audit_log WHERE seq = 2"));
  EXPECT_EQ(d["previous_sha256"], store::sha256_hex("{\"a\":1}"));
}

// Zone limits and probe offsets apply at a start (a reload says "at the next restart"); the
// audit trail records them with the previous values when they take effect, once per change.
TEST_F(ColdChainTest, ChangedLimitsAndOffsetsAreAuditedWithOldAndNewWhenTheyApply) {
  auto limits = [&] { return count("SELECT count(*) FROM audit_log WHERE what = 'coldchain.limits'"); };
  ASSERT_TRUE(make()->start(at(0)).ok());
  EXPECT_EQ(limits(), 1);  // the first start: what is in force
  ASSERT_TRUE(make()->start(at(10)).ok());
  EXPECT_EQ(limits(), 1);  // unchanged: nothing new
  ColdChainSettings s;
  s.zones = {cold_zone()};
  s.zones[0].max_c = 6;
  s.sensors = {probe("p1")};
  s.sensors[0].offset_c = -0.3;
  s.sensors[0].calibration = cc::Calibration{"CAL-7", kWall0 - 86'400'000, kWall0 + 86'400'000};
  ASSERT_TRUE(make(s)->start(at(20)).ok());
  ASSERT_EQ(limits(), 2);
  auto details = json::parse(text(
      "SELECT details FROM audit_log WHERE what = 'coldchain.limits' ORDER BY seq DESC LIMIT 1"));
  EXPECT_EQ(details["old"]["zones"]["cold-1"]["max_c"], 8.0);
  EXPECT_EQ(details["new"]["zones"]["cold-1"]["max_c"], 6.0);
  EXPECT_EQ(details["old"]["probes"]["p1"]["offset_c"], 0.0);
  EXPECT_EQ(details["new"]["probes"]["p1"]["offset_c"], -0.3);
  EXPECT_TRUE(details["old"]["probes"]["p1"]["calibration"].is_null());
  EXPECT_EQ(details["new"]["probes"]["p1"]["calibration"]["certificate"], "CAL-7");
  EXPECT_FALSE(details["new"].contains("retention"));  // raw_every_s 1: nothing thinned
  // Thinning the raw readings (retention.raw_every_s) is a change of the evidence kept.
  s.retention.raw_every_s = 60;
  ASSERT_TRUE(make(s)->start(at(30)).ok());
  ASSERT_EQ(limits(), 3);
  details = json::parse(text(
      "SELECT details FROM audit_log WHERE what = 'coldchain.limits' ORDER BY seq DESC LIMIT 1"));
  EXPECT_FALSE(details["old"].contains("retention"));
  EXPECT_EQ(details["new"]["retention"]["raw_every_s"], 60);
  auto v = store::audit_verify(*db_);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->ok) << v->problem;
}

}  // namespace
}  // namespace depot::app

namespace depot {
namespace {

TEST(RetentionConfig, DefaultsAndProblemsNameTheKeyValueAndRule) {
  auto base = nlohmann::json::parse(test::sample_config("x.db"));
  auto ok = parse_config(base.dump());
  ASSERT_TRUE(ok.config) << ok.problems.size();
  EXPECT_EQ(ok.config->retention.readings_days, 30);
  EXPECT_EQ(ok.config->retention.summary_days, 400);
  EXPECT_EQ(ok.config->retention.excursion_margin_min, 60);
  EXPECT_EQ(ok.config->retention.raw_every_s, 1);
  base["retention"] = {{"readings_days", 7}, {"summary_days", 90}, {"raw_every_s", 10}};
  auto set = parse_config(base.dump());
  ASSERT_TRUE(set.config);
  EXPECT_EQ(set.config->retention.readings_days, 7);
  EXPECT_EQ(set.config->retention.summary_days, 90);
  EXPECT_EQ(set.config->retention.raw_every_s, 10);
  base["retention"] = {{"raw_every_s", 0}};
  EXPECT_THAT(parse_config(base.dump()).problems,
              ::testing::Contains(::testing::HasSubstr(
                  "retention.raw_every_s: 0 must be between 1 and 3600")));
  base["retention"] = {{"readings_days", 0}, {"keep", true}};
  auto bad = parse_config(base.dump());
  EXPECT_FALSE(bad.config);
  EXPECT_THAT(bad.problems, ::testing::Contains(::testing::HasSubstr(
                                "retention.readings_days: 0 must be between 1 and 3650")));
  EXPECT_THAT(bad.problems, ::testing::Contains(::testing::HasSubstr("retention.keep")));
}

}  // namespace
}  // namespace depot
