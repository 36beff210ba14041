// The publisher against a real SQLite outbox and a real io_context; only the MQTT client is
// replaced, by a sender that records what would go out and lets the test play the broker
// (PUBACK or not).
#include "sync/publisher.hpp"

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cstdio>
#include <filesystem>

#include "store/audit.hpp"
#include "test_support.hpp"

namespace depot::sync {
namespace {
using nlohmann::json;

struct Sent {
  std::string topic;
  json body;
  Publisher::Done done;
};

class PublisherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Database::open(dir_.file("pub.db"), {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
  }
  void append(const std::string& stream, int n) {
    ASSERT_TRUE(db_->begin_immediate().ok());
    for (int i = 0; i < n; ++i)
      ASSERT_TRUE(store::outbox_append(*db_, stream, stream + std::to_string(++ids_),
                                       "2026-11-23T10:00:00.000Z", json{{"n", i}})
                      .ok());
    ASSERT_TRUE(db_->commit().ok());
  }
  std::unique_ptr<Publisher> make(std::int64_t inflight, std::int64_t batch,
                                  std::chrono::milliseconds removal_delay =
                                      std::chrono::milliseconds(20),
                                  std::chrono::milliseconds poll = std::chrono::milliseconds(5)) {
    PublisherOptions o;
    o.removal_delay = removal_delay;
    o.site = "s1";
    o.gateway = "g1";
    o.max_inflight = inflight;
    o.batch_records = batch;
    o.drain_per_s = 0;
    o.poll = poll;
    return std::make_unique<Publisher>(
        io_, *db_, o,
        [this](const std::string& topic, const std::string& payload, Publisher::Done done) {
          sent_.push_back({topic, json::parse(payload), std::move(done)});
          return Status{};
        },
        [] { return std::int64_t{0}; }, [] { return std::string("2026-11-23T10:00:00.000Z"); },
        [] { return std::string("loss-1"); });
  }
  void run(int ms = 60) { io_.run_for(std::chrono::milliseconds(ms)); io_.restart(); }
  // 1 MB of readings (2,000 rows) and 3 movements: over a 64 KB budget with nothing droppable.
  void readings_over_budget() {
    ASSERT_TRUE(db_->exec("BEGIN").ok());
    for (int i = 0; i < 2000; ++i)
      ASSERT_TRUE(db_->exec("INSERT INTO readings(probe, zone, wall_ms, mono_ns, celsius, quality,"
                            " reason) VALUES('p1', 'z1', " + std::to_string(i) + ", " +
                            std::to_string(i) + ", 4.5, 'good', '" + std::string(500, 'r') + "')")
                      .ok());
    ASSERT_TRUE(db_->exec("COMMIT").ok());
    append("movements", 3);
  }
  static PublisherOptions budget_options() {
    PublisherOptions o;
    o.site = "s1";
    o.gateway = "g1";
    o.budget_bytes = 64 * 1024;
    o.budget_every = std::chrono::milliseconds(20);
    return o;
  }
  std::int64_t depth(const std::string& stream) { return *store::outbox_depth(*db_, stream); }
  std::vector<std::int64_t> seqs(const Sent& s) {
    std::vector<std::int64_t> out;
    for (const auto& r : s.body["records"]) out.push_back(r["seq"].get<std::int64_t>());
    return out;
  }

  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  boost::asio::io_context io_;
  std::vector<Sent> sent_;
  int ids_ = 0;
};

TEST_F(PublisherTest, UrgentFirstWindowBoundedRemovedOnlyAfterPuback) {
  append("telemetry", 3);
  append("movements", 5);
  append("alarms", 2);
  auto pub = make(/*inflight=*/2, /*batch=*/2);
  pub->start();
  pub->online();
  run();
  ASSERT_EQ(sent_.size(), 2u);  // the window
  EXPECT_EQ(sent_[0].topic, "depot/v1/s1/g1/alarms");
  EXPECT_EQ(seqs(sent_[0]), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(sent_[1].topic, "depot/v1/s1/g1/movements");
  EXPECT_EQ(seqs(sent_[1]), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(depth("alarms"), 2);  // sent is not delivered
  EXPECT_EQ(depth("movements"), 5);

  sent_[0].done(true, "");  // PUBACK for the alarms
  run();
  EXPECT_EQ(depth("alarms"), 0);
  EXPECT_EQ(depth("movements"), 5);
  ASSERT_EQ(sent_.size(), 3u);  // the freed slot went to movements, not telemetry
  EXPECT_EQ(seqs(sent_[2]), (std::vector<std::int64_t>{3, 4}));

  sent_[1].done(true, "");
  sent_[2].done(true, "");
  run();
  ASSERT_EQ(sent_.size(), 5u);
  EXPECT_EQ(seqs(sent_[3]), (std::vector<std::int64_t>{5}));
  EXPECT_EQ(sent_[4].topic, "depot/v1/s1/g1/telemetry");  // telemetry last
  EXPECT_EQ(depth("movements"), 1);
  EXPECT_FALSE(pub->drained());
}

// Delivery marks are saved together (a window's worth of PUBACKs, or removal_delay after the
// first), except when the PUBACK leaves nothing in flight: no other is coming to share the save.
TEST_F(PublisherTest, TheMarkWaitsForOtherPubacksButIsSavedAtOnceWhenNothingIsLeftInFlight) {
  append("movements", 3);
  auto pub = make(/*inflight=*/4, /*batch=*/2, /*removal_delay=*/std::chrono::hours(1));
  pub->start();
  pub->online();
  run();
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(seqs(sent_[1]), (std::vector<std::int64_t>{3}));

  sent_[0].done(true, "");  // one still in flight: the mark waits (here for an hour)
  run();
  EXPECT_EQ(depth("movements"), 3);
  EXPECT_FALSE(pub->drained());

  sent_[1].done(true, "");  // the last one: saved now
  run();
  EXPECT_EQ(depth("movements"), 0);
  EXPECT_TRUE(pub->drained());
  ASSERT_EQ(sent_.size(), 2u);
}

// A message fails on a live connection (an MQTT 5 negative PUBACK): it and the ones after it
// are sent again. A late PUBACK of a forgotten message must not count for its resend, which
// starts at the same seq but carries more: the mark would move past records never delivered.
TEST_F(PublisherTest, ALatePubackOfAForgottenMessageDoesNotCountForItsResend) {
  append("movements", 3);
  auto pub = make(/*inflight=*/3, /*batch=*/2);
  pub->start();
  pub->online();
  run();
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(seqs(sent_[1]), (std::vector<std::int64_t>{3}));
  append("movements", 1);  // seq 4: the resend of 3 carries it too
  // (the forgotten message still holds its slot in the window until its PUBACK comes)
  sent_[0].done(false, "negative PUBACK");
  run();
  ASSERT_EQ(sent_.size(), 4u);
  EXPECT_EQ(seqs(sent_[2]), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(seqs(sent_[3]), (std::vector<std::int64_t>{3, 4}));
  sent_[1].done(true, "");  // the forgotten message's PUBACK, late
  sent_[2].done(true, "");
  run();
  EXPECT_EQ(depth("movements"), 2);  // 3 and 4 wait for their own PUBACK
  sent_[3].done(true, "");
  run();
  EXPECT_EQ(depth("movements"), 0);
  EXPECT_TRUE(pub->drained());
}

// A forgotten message's late PUBACK (or failure) frees its slot in the window: the next
// message goes out at once, not at the next poll (here an hour away).
TEST_F(PublisherTest, AForgottenMessagesLatePubackFreesItsSlotAtOnce) {
  append("movements", 3);
  auto pub = make(/*inflight=*/2, /*batch=*/1, std::chrono::milliseconds(20),
                  /*poll=*/std::chrono::hours(1));
  pub->start();
  pub->online();
  run();
  ASSERT_EQ(sent_.size(), 2u);  // seqs 1 and 2: the window is full
  sent_[0].done(false, "negative PUBACK");
  run();
  ASSERT_EQ(sent_.size(), 3u);  // 1 again; 2 is forgotten but still holds its slot
  EXPECT_EQ(seqs(sent_[2]), (std::vector<std::int64_t>{1}));
  sent_[1].done(false, "late failure of the forgotten message");
  run();
  ASSERT_EQ(sent_.size(), 4u);
  EXPECT_EQ(seqs(sent_[3]), (std::vector<std::int64_t>{2}));
  sent_[2].done(true, "");
  run();
  ASSERT_EQ(sent_.size(), 5u);
  EXPECT_EQ(seqs(sent_[4]), (std::vector<std::int64_t>{3}));
  sent_[3].done(true, "");
  sent_[4].done(true, "");
  run();
  EXPECT_EQ(depth("movements"), 0);
  EXPECT_TRUE(pub->drained());
}

// After a PUBACK the next message goes out from the streams' last seqs as known, without
// reading them again; but a record committed through the same connection since (the daemon's
// own alarm) is seen at that PUBACK, not at the next poll (here an hour away).
TEST_F(PublisherTest, ARecordCommittedOnTheSameConnectionGoesOutAtTheNextPuback) {
  append("movements", 4);
  auto pub = make(/*inflight=*/1, /*batch=*/2, std::chrono::milliseconds(20),
                  /*poll=*/std::chrono::hours(1));
  pub->start();
  pub->online();
  run();
  ASSERT_EQ(sent_.size(), 1u);
  append("alarms", 1);
  sent_[0].done(true, "");
  run();
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].topic, "depot/v1/s1/g1/alarms");  // before the movements left
  sent_[1].done(true, "");
  run();
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(seqs(sent_[2]), (std::vector<std::int64_t>{3, 4}));
}

// The rejects' and readings' bytes count against the disk budget, but reading them walks
// both tables: the publisher measures them on a thread of its own and the budget check on the
// loop uses the last figure. Here 1 MB of readings and nothing droppable: the first check has
// no figure yet; a later one has it and finds the outbox over its budget.
TEST_F(PublisherTest, TheReadingsBytesAreMeasuredOffTheLoopAndCountAgainstTheBudget) {
  readings_over_budget();
  auto o = budget_options();
  Publisher pub(
      io_, *db_, o, [](const std::string&, const std::string&, Publisher::Done) { return Status{}; },
      [] { return std::int64_t{0}; }, [] { return std::string("2026-11-23T10:00:00.000Z"); },
      [] { return std::string("loss-1"); });
  pub.start();
  io_.run_for(std::chrono::milliseconds(5));
  io_.restart();
  EXPECT_FALSE(pub.over_budget());  // the first check: no figure yet, the outbox alone is within
  for (int i = 0; i < 100 && !pub.over_budget(); ++i) run(20);
  EXPECT_TRUE(pub.over_budget());
  EXPECT_EQ(*store::outbox_depth(*db_, "movements"), 3);  // never dropped
  pub.stop();
}

// The figure is measured again only when due (sizing_every on the publisher's clock): the
// readings deleted below leave the outbox over the budget by the last figure until the clock
// passes sizing_every, and within it after the next measurement. The log says "still over"
// when it starts and every 10 minutes, not at every check, and says when it is back within.
TEST_F(PublisherTest, TheReadingsBytesAreMeasuredAgainOnlyWhenDueAndTheLogSaysOverOnce) {
  readings_over_budget();
  auto o = budget_options();
  o.sizing_every = std::chrono::seconds(60);
  std::int64_t now_ns = 0;
  constexpr std::int64_t kS = 1'000'000'000;
  Publisher pub(
      io_, *db_, o, [](const std::string&, const std::string&, Publisher::Done) { return Status{}; },
      [&now_ns] { return now_ns; }, [] { return std::string("2026-11-23T10:00:00.000Z"); },
      [] { return std::string("loss-1"); });
  auto count = [](const std::string& log, const std::string& what) {
    int n = 0;
    for (auto at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  testing::internal::CaptureStderr();
  pub.start();
  for (int i = 0; i < 100 && !pub.over_budget(); ++i) run(20);
  const bool over = pub.over_budget();
  for (int i = 0; i < 10; ++i) run(20);  // ten more checks
  now_ns = 11 * 60 * kS;  // a measurement and a repeat of the line are due
  for (int i = 0; i < 10; ++i) run(20);
  const bool over_later = pub.over_budget();
  ASSERT_TRUE(db_->exec("DELETE FROM readings").ok());
  now_ns += 59 * kS;  // the next measurement is not yet due: the last figure stands
  for (int i = 0; i < 10; ++i) run(20);
  const bool over_before_due = pub.over_budget();
  now_ns += 61 * kS;  // due (well past 60 s, and 60 x any measurement's time): measured again
  for (int i = 0; i < 100 && pub.over_budget(); ++i) run(20);
  const bool over_after_due = pub.over_budget();
  for (int i = 0; i < 5; ++i) run(20);
  const std::string log = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(over);
  EXPECT_TRUE(over_later);
  EXPECT_TRUE(over_before_due);
  EXPECT_FALSE(over_after_due);
  EXPECT_EQ(count(log, "outbox still over its budget"), 2) << log;  // at the start, 10 min on
  EXPECT_EQ(count(log, "outbox back within its budget"), 1) << log;
  EXPECT_EQ(*store::outbox_depth(*db_, "movements"), 3);
  pub.stop();
}

TEST_F(PublisherTest, MessagesAreCutAtThePayloadLimitAndARecordLargerThanItIsGivenUpOnce) {
  // Records of about 3 KB; seq 3 of 12 KB, more than any message may carry.
  ASSERT_TRUE(db_->begin_immediate().ok());
  for (int i = 1; i <= 6; ++i)
    ASSERT_TRUE(store::outbox_append(*db_, "movements", "m" + std::to_string(i),
                                     "2026-11-23T10:00:00.000Z",
                                     json{{"pad", std::string(i == 3 ? 12000 : 3000, 'x')}})
                    .ok());
  ASSERT_TRUE(db_->commit().ok());
  auto pub = make(/*inflight=*/16, /*batch=*/100);
  pub->set_payload_limit(9000);
  pub->start();
  pub->online();
  run();
  std::vector<std::int64_t> got;
  std::vector<std::size_t> per_message;
  for (auto& s : sent_) {
    if (s.topic != "depot/v1/s1/g1/movements") continue;
    EXPECT_LE(s.body.dump().size(), 9000u);
    per_message.push_back(s.body["records"].size());
    for (auto seq : seqs(s)) got.push_back(seq);
  }
  EXPECT_EQ(got, (std::vector<std::int64_t>{1, 2, 4, 5, 6}));
  EXPECT_EQ(per_message, (std::vector<std::size_t>{2, 2, 1}));  // cut at the limit
  // Below the floor a limit is raised to it: a data_loss record is never given up itself.
  pub->set_payload_limit(100);
  EXPECT_EQ(pub->counters().undeliverable, 1u);
  // Gone from the outbox, with a data_loss record on the audit stream naming it.
  auto left = store::outbox_read(*db_, "movements", 0, 100);
  ASSERT_TRUE(left.ok());
  for (const auto& r : *left) EXPECT_NE(r.seq, 3);
  auto audit = store::outbox_read(*db_, "audit", 0, 10);
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 1u);
  auto loss = json::parse((*audit)[0].payload);
  EXPECT_EQ(loss["event"], "data_loss");
  EXPECT_EQ(loss["stream"], "movements");
  EXPECT_EQ(loss["first_seq"], 3);
  EXPECT_EQ(loss["last_seq"], 3);
  EXPECT_EQ(loss["dropped"], 1);
  EXPECT_GT(loss["bytes"].get<std::int64_t>(), 12000);
  auto verdict = store::audit_verify(*db_);
  ASSERT_TRUE(verdict.ok());
  EXPECT_TRUE(verdict->ok) << verdict->problem;
  // Acknowledged, then the connection comes back: nothing is sent again, nor given up twice.
  for (auto& s : sent_) s.done(true, "");
  run();
  pub->offline();
  sent_.clear();
  pub->online();
  run();
  for (auto& s : sent_) EXPECT_NE(s.topic, "depot/v1/s1/g1/movements") << s.body.dump();
  EXPECT_EQ(pub->counters().undeliverable, 1u);
}

TEST_F(PublisherTest, AfterALostConnectionEverythingUnacknowledgedIsSentAgainInSeqOrder) {
  append("movements", 6);
  auto pub = make(/*inflight=*/3, /*batch=*/2);
  pub->start();
  pub->online();
  run();
  ASSERT_EQ(sent_.size(), 3u);
  sent_[0].done(true, "");  // seq 1-2 acknowledged...
  run();
  pub->offline();           // ...then the connection drops with 3-6 unacknowledged
  sent_[1].done(false, "connection lost");
  sent_[2].done(false, "connection lost");
  run();
  EXPECT_EQ(depth("movements"), 4);
  sent_.clear();
  pub->online();
  run();
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(seqs(sent_[0]), (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(seqs(sent_[1]), (std::vector<std::int64_t>{5, 6}));
  for (auto& s : sent_) s.done(true, "");
  run();
  EXPECT_EQ(depth("movements"), 0);
  EXPECT_TRUE(pub->drained());
  append("movements", 1);  // a new record continues the sequence
  run();
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(seqs(sent_[2]), (std::vector<std::int64_t>{7}));
}

// A small real filesystem (tmpfs) for a true disk-full: needs the right to mount (root in CI
// containers and here); skipped otherwise.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& dir) : dir_(dir) {
    std::filesystem::create_directories(dir_);
    mounted_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=4m") == 0;
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  // Writes a filler file until the filesystem is full.
  void fill() {
    std::FILE* f = std::fopen((dir_ + "/filler").c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::string block(4096, 'f');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size() && std::fflush(f) == 0) {
    }
    std::fclose(f);
  }
  void free() { std::filesystem::remove(dir_ + "/filler"); }

 private:
  std::string dir_;
  bool mounted_ = false;
};

// Issue 13 item 13: on a full disk "deleting delivered records: disk is full" was logged every
// 100 ms, and the WAL stayed large after space came back. It is logged once when it starts
// failing and once when it works again, and the WAL is checkpointed then.
TEST(PublisherDiskFull, LoggedOncePerStateChangeAndCheckpointedWhenSpaceReturns) {
  test::TempDir dir;
  SmallDisk disk(dir.file("small"));
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (not root)";
  auto db = std::move(store::Database::open(dir.file("small/pub.db"), {}).value());
  ASSERT_TRUE(db->begin_immediate().ok());
  for (int i = 0; i < 3000; ++i)
    ASSERT_TRUE(store::outbox_append(*db, "telemetry", "t" + std::to_string(i),
                                     "2026-11-23T10:00:00.000Z", json{{"n", i}})
                    .ok());
  ASSERT_TRUE(db->commit().ok());
  ASSERT_TRUE(store::outbox_acknowledge(*db, {{"telemetry", 3000}}).ok());  // all delivered
  ASSERT_TRUE(db->exec("PRAGMA wal_checkpoint(TRUNCATE)").ok());
  disk.fill();

  boost::asio::io_context io;
  PublisherOptions o;
  o.site = "s1";
  o.gateway = "g1";
  o.poll = std::chrono::milliseconds(10);
  o.compact_chunk = 100;
  Publisher pub(
      io, *db, o, [](const std::string&, const std::string&, Publisher::Done) { return Status{}; },
      [] { return std::int64_t{0}; }, [] { return std::string("2026-11-23T10:00:00.000Z"); },
      [] { return std::string("loss-1"); });
  ::testing::internal::CaptureStderr();
  pub.start();
  io.run_for(std::chrono::milliseconds(500));  // some 50 polls, each failing
  auto full = ::testing::internal::GetCapturedStderr();
  auto count = [](const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(full, "deleting delivered records: "), 1u) << full;
  EXPECT_NE(full.find("full"), std::string::npos) << full;
  auto rows = [&] {
    auto q = db->prepare("SELECT count(*) FROM outbox");
    EXPECT_TRUE(*(*q)->step());
    auto n = (*q)->int64(0);
    (*q)->reset();
    return n;
  };
  EXPECT_EQ(rows(), 3000);  // nothing deleted while the disk was full

  disk.free();
  ::testing::internal::CaptureStderr();
  io.restart();
  io.run_for(std::chrono::milliseconds(1500));
  pub.stop();
  auto back = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(count(back, "deleting delivered records: works again"), 1u) << back;
  EXPECT_EQ(count(back, "error"), 0u) << back;
  EXPECT_LT(rows(), 3000);  // compaction resumed by itself
  EXPECT_TRUE(db->set_meta("after", "full").ok());
}

}  // namespace
}  // namespace depot::sync
