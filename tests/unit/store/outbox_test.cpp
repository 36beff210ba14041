#include "store/outbox.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <map>

#include "store/coldchain_store.hpp"
#include "store/rejects.hpp"
#include "store/schema.hpp"
#include "old_database.hpp"
#include "test_support.hpp"

namespace depot::store {
namespace {
using nlohmann::json;

class OutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Database::open(dir_.file("outbox.db"), {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
  }
  // `n` records of `stream`, each padded with `bytes` bytes of `unit` repeated.
  void append(const std::string& stream, int n, std::size_t bytes = 10,
              const std::string& unit = "x") {
    std::string pad;
    while (pad.size() + unit.size() <= bytes) pad += unit;
    ASSERT_TRUE(db_->begin_immediate().ok());
    for (int i = 0; i < n; ++i) {
      auto seq = outbox_append(*db_, stream, stream + std::to_string(next_++),
                               "2026-11-23T10:00:00.000Z", json{{"pad", pad}});
      ASSERT_TRUE(seq.ok()) << seq.error().message;
    }
    ASSERT_TRUE(db_->commit().ok());
  }
  std::vector<std::int64_t> seqs(const std::string& stream) {
    std::vector<std::int64_t> out;
    auto r = outbox_read(*db_, stream, 0, 1000000);
    EXPECT_TRUE(r.ok());
    for (const auto& rec : *r) out.push_back(rec.seq);
    return out;
  }
  test::TempDir dir_;
  std::unique_ptr<Database> db_;
  int next_ = 0;
};

TEST_F(OutboxTest, DeliveryMarkThenCompactionAndSeqNeverReused) {
  append("movements", 5);
  auto r = outbox_read(*db_, "movements", 2, 2);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].seq, 3);
  EXPECT_EQ(json::parse((*r)[1].payload)["seq"], 4);
  // Delivered up to 3: no longer waiting, still stored until compaction.
  ASSERT_TRUE(outbox_acknowledge(*db_, {{"movements", 3}}).ok());
  ASSERT_TRUE(outbox_acknowledge(*db_, {{"movements", 2}}).ok());  // a mark never moves back
  EXPECT_EQ(outbox_marks(*db_)->at("movements").acked_seq, 3);
  EXPECT_EQ(*outbox_depth(*db_, "movements"), 2);
  EXPECT_EQ(seqs("movements"), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  // Compaction deletes delivered records, oldest first, at most as many as asked.
  EXPECT_EQ(*outbox_compact(*db_, 2), 2);
  EXPECT_EQ(seqs("movements"), (std::vector<std::int64_t>{3, 4, 5}));
  EXPECT_EQ(*outbox_compact(*db_, 100), 1);
  EXPECT_EQ(*outbox_compact(*db_, 100), 0);
  EXPECT_EQ(seqs("movements"), (std::vector<std::int64_t>{4, 5}));
  append("movements", 1);
  EXPECT_EQ(seqs("movements"), (std::vector<std::int64_t>{4, 5, 6}));
  EXPECT_EQ(outbox_marks(*db_)->at("movements").last_seq, 6);
  EXPECT_EQ(outbox_depths(*db_)->at("movements"), 3);
}

// The seq is taken inside the appending transaction (a SELECT, then an UPDATE or INSERT): two
// connections to one file (the daemon and a CLI) appending in turn share one gap-free sequence;
// a rolled-back append gives its seq back; an append outside a transaction takes the seq in a
// transaction of its own.
TEST_F(OutboxTest, TwoConnectionsAppendingInTurnShareOneGapFreeSequence) {
  auto other = Database::open(dir_.file("outbox.db"), {});
  ASSERT_TRUE(other.ok()) << other.error().message;
  auto append_on = [](Database& db, const std::string& id,
                      const std::string& stream = "movements") {
    return db.transaction([&]() {
      return outbox_append(db, stream, id, "2026-11-23T10:00:00.000Z", json{{"n", id}});
    });
  };
  std::vector<std::int64_t> got;
  for (int i = 0; i < 6; ++i) {
    auto seq = append_on(i % 2 ? **other : *db_, "m" + std::to_string(i));
    ASSERT_TRUE(seq.ok()) << seq.error().message;
    got.push_back(*seq);
  }
  EXPECT_EQ(got, (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6}));
  // Rolled back: neither the record nor its seq stays.
  ASSERT_TRUE((*other)->begin_immediate().ok());
  const char* ts = "2026-11-23T10:00:00.000Z";
  auto gone = outbox_append(**other, "movements", "gone", ts, json::object());
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  EXPECT_EQ(*gone, 7);
  (*other)->rollback();
  // Outside a transaction: the seq is still the next one, and the record is stored.
  auto seq = outbox_append(*db_, "movements", "m6", ts, json::object());
  ASSERT_TRUE(seq.ok()) << seq.error().message;
  EXPECT_EQ(*seq, 7);
  EXPECT_EQ(seqs("movements"), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(outbox_marks(**other)->at("movements").last_seq, 7);
  // A new stream starts at 1 on either connection.
  EXPECT_EQ(*append_on(**other, "a0", "alarms"), 1);
  EXPECT_EQ(*append_on(*db_, "a1", "alarms"), 2);
  auto r = outbox_read(*db_, "movements", 6, 10);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(json::parse((*r)[0].payload)["seq"], 7);
}

// A reject's seq is its row's: the outbox record's id names it.
TEST_F(OutboxTest, ARejectsIdNamesItsRow) {
  for (int i = 0; i < 3; ++i) {
    auto seq = record_reject(*db_, Reject{0, "dock", "BAD" + std::to_string(i), "unknown barcode",
                                          "2026-11-23T10:00:00.000Z", 1});
    ASSERT_TRUE(seq.ok()) << seq.error().message;
    EXPECT_EQ(*seq, i + 1);
  }
  auto r = outbox_read(*db_, "rejects", 0, 10);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    auto p = json::parse((*r)[i].payload);
    EXPECT_EQ(p["id"], "reject-" + std::to_string(i + 1));
    EXPECT_EQ(p["raw"], "BAD" + std::to_string(i));
  }
}

// Issue 13 item 12: 20,000 rejects made 11 MB of database outside any budget. Rejects (and
// readings) count against it: over it, telemetry is thinned and the check says so.
TEST_F(OutboxTest, RejectsCountAgainstTheDiskBudget) {
  append("telemetry", 100, 1000);
  for (int i = 0; i < 300; ++i)
    ASSERT_TRUE(record_reject(*db_, Reject{0, "dock", std::string(900, 'j'), "unknown barcode",
                                           "2026-11-23T10:00:00.000Z", 1})
                    .ok());
  // The rejects' own outbox records were delivered: only the table remains.
  ASSERT_TRUE(outbox_acknowledge(*db_, {{"rejects", 300}}).ok());
  auto r = outbox_enforce_budget(*db_, 200 * 1000, "2026-11-23T11:00:00.000Z", "loss-r");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GT(r->rejects_readings_bytes, 300 * 900);
  EXPECT_GT(r->dropped + r->thinned, 0);  // telemetry gave way to what cannot be dropped
  EXPECT_TRUE(r->over_budget_after);
}

TEST_F(OutboxTest, OverBudgetTelemetryIsThinnedThenDroppedOthersNever) {
  append("movements", 200, 1000);
  append("alarms", 20, 1000);
  append("telemetry", 400, 1000);
  // Within budget: nothing happens.
  auto ok = outbox_enforce_budget(*db_, 100 << 20, "2026-11-23T11:00:00.000Z", "loss-0");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->thinned + ok->dropped, 0);

  // Budget for about 420 records of ~1 KB: thinning half of the old telemetry (100) is not
  // enough, the oldest are dropped next.
  auto r = outbox_enforce_budget(*db_, 420 * 1060, "2026-11-23T11:00:00.000Z", "loss-1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->thinned, 100);
  EXPECT_GT(r->dropped, 0);
  EXPECT_LE(r->bytes_after, 420 * 1060);
  EXPECT_EQ(seqs("movements").size(), 200u);
  EXPECT_EQ(seqs("alarms").size(), 20u);
  auto tele = seqs("telemetry");
  EXPECT_EQ(tele.size(), 400u - 100u - static_cast<std::size_t>(r->dropped));
  EXPECT_EQ(tele.back(), 400);  // the newest are kept
  auto audit = outbox_read(*db_, "audit", 0, 10);
  ASSERT_EQ(audit->size(), 1u);
  auto loss = json::parse((*audit)[0].payload);
  EXPECT_EQ(loss["event"], "data_loss");
  EXPECT_EQ(loss["stream"], "telemetry");
  EXPECT_EQ(loss["thinned"], 100);
  EXPECT_EQ(loss["id"], "loss-1");

  // Nothing droppable left: movements and alarms stay even far over budget.
  append("telemetry", 0);
  auto r2 = outbox_enforce_budget(*db_, 1024, "2026-11-23T11:00:01.000Z", "loss-2");
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(r2->over_budget_after);
  EXPECT_EQ(seqs("movements").size(), 200u);
  EXPECT_EQ(seqs("alarms").size(), 20u);
  EXPECT_TRUE(seqs("telemetry").empty());
}

// (stream, n) rows of `sql`, as a map.
std::map<std::string, std::int64_t> per_stream(Database& db, const char* sql) {
  std::map<std::string, std::int64_t> out;
  auto q = db.prepare(sql);
  EXPECT_TRUE(q.ok());
  while (*(*q)->step()) out[(*q)->text(0)] = (*q)->int64(1);
  (*q)->reset();
  return out;
}
// What outbox_depths used to do: count the rows after each stream's mark.
std::map<std::string, std::int64_t> counted_depths(Database& db) {
  return per_stream(db,
                    "SELECT o.stream, count(*) FROM outbox o JOIN outbox_streams s ON s.stream ="
                    " o.stream WHERE o.seq > s.acked_seq GROUP BY o.stream");
}
// What the disk budget used to sum, per stream: the payload bytes of its rows.
std::map<std::string, std::int64_t> summed_bytes(Database& db) {
  return per_stream(
      db, "SELECT stream, sum(length(CAST(payload AS BLOB))) FROM outbox GROUP BY stream");
}
std::map<std::string, std::int64_t> kept_bytes(Database& db) {
  return per_stream(db, "SELECT stream, bytes FROM outbox_streams WHERE bytes > 0");
}

// The depth and the bytes are kept, not counted (store/outbox.hpp): the seqs after each mark
// less the holes that records removed before delivery left; the payload bytes of the rows
// there. Checked against a count and a sum after every step that moves them: appends (with
// text that is not ASCII), marks, a telemetry backlog thinned and dropped over the disk budget,
// an undeliverable record given up, marks that pass holes, compaction, a mark that moves back.
TEST_F(OutboxTest, TheDepthAndBytesKeptWithoutCountingMatchACountAfterEveryStep) {
  auto check = [&](const std::string& step) {
    const auto kept = outbox_depths(*db_);
    ASSERT_TRUE(kept.ok()) << step << ": " << kept.error().message;
    EXPECT_EQ(*kept, counted_depths(*db_)) << step;
    for (const auto& [stream, n] : *kept) EXPECT_EQ(*outbox_depth(*db_, stream), n) << step;
    EXPECT_EQ(kept_bytes(*db_), summed_bytes(*db_)) << step;
    // Never a negative depth or count of holes, and none above a mark at the last seq (the
    // depths above leave out streams with nothing waiting).
    auto bad = db_->prepare(
        "SELECT count(*) FROM outbox_streams WHERE holes < 0 OR next_seq - 1 - acked_seq - holes < 0"
        " OR (acked_seq = next_seq - 1 AND holes != 0)");
    ASSERT_TRUE(bad.ok());
    ASSERT_TRUE(*(*bad)->step());
    EXPECT_EQ((*bad)->int64(0), 0) << step;
    (*bad)->reset();
  };
  ASSERT_TRUE(db_->begin_immediate().ok());
  ASSERT_TRUE(outbox_append(*db_, "alarms", "a1", "2026-11-23T10:00:00.000Z",
                            json{{"zone", "Kühlraum ❄"}}).ok());
  ASSERT_TRUE(outbox_append_text(*db_, "alarms", "a2", "2026-11-23T10:00:00.000Z",
                                 R"({"zone":"冷库"})").ok());
  // A batch (a group commit's movements): the next seqs in its order, its bytes kept.
  const std::vector<OutboxText> batch{{"a3", "2026-11-23T10:00:01.000Z", R"({"zone":"c"})"},
                                      {"a4", "2026-11-23T10:00:02.000Z", "{}"},
                                      {"a5", "2026-11-23T10:00:03.000Z", R"({"n":[1,2]})"}};
  ASSERT_TRUE(outbox_append_texts(*db_, "alarms", batch).ok());
  ASSERT_TRUE(outbox_append_texts(*db_, "alarms", {}).ok());
  ASSERT_TRUE(outbox_append_texts(*db_, "batched", batch).ok());  // a stream's first records
  ASSERT_TRUE(db_->commit().ok());
  check("a batch appended");
  for (const std::string stream : {"alarms", "batched"}) {
    auto recs = outbox_read(*db_, stream, 0, 100);
    ASSERT_TRUE(recs.ok());
    ASSERT_EQ(recs->size(), stream == "alarms" ? 5u : 3u);
    const auto off = stream == "alarms" ? 2 : 0;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const auto& rec = (*recs)[i + off];
      EXPECT_EQ(rec.seq, static_cast<std::int64_t>(i + off + 1)) << stream;
      const auto j = json::parse(rec.payload);
      EXPECT_EQ(j["seq"], rec.seq);
      EXPECT_EQ(j["id"], batch[i].id);
      EXPECT_EQ(j["ts"], batch[i].ts);
    }
  }
  EXPECT_EQ(json::parse((*outbox_read(*db_, "alarms", 0, 100))[4].payload)["n"], json({1, 2}));
  EXPECT_EQ(outbox_marks(*db_)->at("alarms").last_seq, 5);
  append("movements", 50, 1000);
  append("telemetry", 400, 1000, "é");  // 1,000 bytes, 500 characters each
  check("appended");
  EXPECT_EQ(outbox_depths(*db_)->at("telemetry"), 400);
  ASSERT_TRUE(outbox_acknowledge(*db_, {{"telemetry", 20}, {"movements", 10}}).ok());
  check("first marks");

  // About 120 of the 380 undelivered telemetry records over: the oldest half thinned (95),
  // then the oldest dropped, some thinned ones left.
  auto r = outbox_enforce_budget(*db_, 300 * 1060, "2026-11-23T11:00:00.000Z", "loss-1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_GT(r->thinned, 0);
  ASSERT_GT(r->dropped, 0);
  check("thinned and dropped");
  EXPECT_EQ(outbox_depths(*db_)->at("telemetry"), 380 - r->thinned - r->dropped);

  auto gone = outbox_drop_undeliverable(*db_, "movements", 11, 300000, 131072,
                                        "2026-11-23T11:00:01.000Z", "loss-2");
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  check("an undeliverable record given up");
  EXPECT_EQ(outbox_depths(*db_)->at("movements"), 39);

  // Marks that pass holes: one that stops among them, one that would move back while holes
  // are left above it, then one past the rest.
  const auto tele = seqs("telemetry");
  ASSERT_GE(tele.size(), 4u);
  ASSERT_GT(tele[1] - tele[0], 1);  // the thinning left holes between the first records left
  const auto among = tele[1];
  ASSERT_TRUE(outbox_acknowledge(*db_, {{"telemetry", among}, {"movements", 11}}).ok());
  check("marks among the holes");
  ASSERT_GT(outbox_depths(*db_)->at("telemetry"), 0);
  auto holes_left = db_->prepare("SELECT holes FROM outbox_streams WHERE stream = 'telemetry'");
  ASSERT_TRUE(*(*holes_left)->step());
  EXPECT_GT((*holes_left)->int64(0), 0);  // the rest are still above the mark
  (*holes_left)->reset();
  ASSERT_TRUE(outbox_acknowledge(*db_, {{"telemetry", among - 3}}).ok());  // never back
  check("a mark that would move back, holes above it");
  const auto middle = tele[tele.size() / 2];
  ASSERT_TRUE(outbox_acknowledge(*db_, {{"telemetry", middle}}).ok());
  check("a mark past the rest of the holes");
  ASSERT_TRUE(*(*holes_left)->step());
  EXPECT_EQ((*holes_left)->int64(0), 0);
  (*holes_left)->reset();
  std::int64_t delivered = 0;
  const auto marks = outbox_marks(*db_);
  ASSERT_TRUE(marks.ok());
  for (const auto& [stream, m] : *marks)
    for (auto seq : seqs(stream)) delivered += seq <= m.acked_seq;
  ASSERT_GT(delivered, 0);
  EXPECT_EQ(*outbox_compact(*db_, 100000), delivered);
  check("compacted");
  append("telemetry", 10, 1000, "é");
  check("appended after the holes");
  ASSERT_TRUE(outbox_acknowledge(*db_, {{"telemetry", outbox_marks(*db_)->at("telemetry").last_seq},
                                        {"movements", 50}}).ok());
  check("everything delivered");
  EXPECT_EQ(outbox_depths(*db_)->count("telemetry"), 0u);
  EXPECT_EQ(outbox_depths(*db_)->count("movements"), 0u);
  EXPECT_EQ(*outbox_depth(*db_, "telemetry"), 0);
  EXPECT_EQ(*outbox_depth(*db_, "no-such-stream"), 0);
}

// A database from before the kept depth and bytes (v15) gets them counted once by the migration.
TEST(OutboxMigration, TheHolesAndBytesOfAnOlderDatabaseAreCountedOnce) {
  test::TempDir dir;
  const auto file = dir.file("v15.db");
  // telemetry 1..10: 1-3 delivered, 5 and 8 removed before delivery; movements 1..4, none
  // delivered; audit delivered in full.
  std::vector<std::string> rows;
  for (int seq : {1, 2, 3, 4, 6, 7, 9, 10})
    rows.push_back("INSERT INTO outbox VALUES('telemetry'," + std::to_string(seq) + ",'t" +
                   std::to_string(seq) + "','x','{}')");
  for (int seq : {1, 2, 3, 4})
    rows.push_back("INSERT INTO outbox VALUES('movements'," + std::to_string(seq) + ",'m" +
                   std::to_string(seq) + "','x','{}')");
  rows.push_back("INSERT INTO outbox_streams(stream, next_seq, acked_seq) VALUES('telemetry', 11, 3),"
                 "('movements', 5, 0), ('audit', 3, 2)");
  test::write_old_database(file, 15, rows);
  auto db = Database::open(file, {});
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto depths = outbox_depths(**db);
  ASSERT_TRUE(depths.ok());
  EXPECT_EQ(*depths, (std::map<std::string, std::int64_t>{{"movements", 4}, {"telemetry", 5}}));
  EXPECT_EQ(*depths, counted_depths(**db));
  EXPECT_EQ(kept_bytes(**db), (std::map<std::string, std::int64_t>{{"movements", 8}, {"telemetry", 16}}));
}

// 1,000 probes in one commit made one telemetry record of 150-300 KB, more than brokers take
// (AWS IoT Core: 128 KB): they are cut into records of at most the given size, in order.
TEST_F(OutboxTest, ManyReadingsMakeSeveralTelemetryRecordsEachWithinTheLimit) {
  std::vector<StoredReading> rs(1000);
  for (std::size_t i = 0; i < rs.size(); ++i) {
    rs[i].reading.probe = "probe-" + std::to_string(i);
    rs[i].reading.celsius = -18.25;
    rs[i].reading.wall_ms = 1795000000000;
    rs[i].reading.mono_ns = 5000000000;
    rs[i].zone = "freezer-1";
  }
  ASSERT_TRUE(db_->begin_immediate().ok());
  ASSERT_TRUE(insert_readings(*db_, rs, true, "readings-1", "2026-11-23T10:00:00.000Z").ok());
  ASSERT_TRUE(db_->commit().ok());
  auto recs = outbox_read(*db_, "telemetry", 0, 1000);
  ASSERT_TRUE(recs.ok());
  ASSERT_GT(recs->size(), 5u);  // about 100 bytes a reading: 100 KB in 16 KB records
  std::size_t total = 0;
  std::vector<std::string> ids, probes;
  for (const auto& r : *recs) {
    EXPECT_LE(r.payload.size(), kMaxTelemetryRecordBytes + 200) << r.seq;  // + seq, id, ts
    auto j = json::parse(r.payload);
    EXPECT_EQ(j["count"].get<std::size_t>(), j["readings"].size());
    total += j["readings"].size();
    ids.push_back(j["id"].get<std::string>());
    for (const auto& x : j["readings"]) {
      probes.push_back(x["probe"].get<std::string>());
      EXPECT_EQ(x["celsius"], -18.25);
      EXPECT_EQ(x["zone"], "freezer-1");
    }
  }
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(ids[0], "readings-1");
  EXPECT_EQ(ids[1], "readings-1.2");
  for (std::size_t i = 0; i < probes.size(); ++i) EXPECT_EQ(probes[i], "probe-" + std::to_string(i));
  // A few readings stay one record.
  ASSERT_TRUE(db_->begin_immediate().ok());
  ASSERT_TRUE(insert_readings(*db_, std::span(rs).first(3), true, "readings-2", "t").ok());
  ASSERT_TRUE(db_->commit().ok());
  auto more = outbox_read(*db_, "telemetry", recs->back().seq, 10);
  ASSERT_EQ(more->size(), 1u);
  EXPECT_EQ(json::parse((*more)[0].payload)["count"], 3);
}

}  // namespace
}  // namespace depot::store
