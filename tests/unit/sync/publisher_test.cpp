// The publisher against a real SQLite outbox and a real io_context; only the MQTT client is
// replaced, by a sender that records what would go out and lets the test play the broker
// (PUBACK or not).
#include "sync/publisher.hpp"

#include <gtest/gtest.h>

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
  std::unique_ptr<Publisher> make(std::int64_t inflight, std::int64_t batch) {
    PublisherOptions o;
    o.site = "s1";
    o.gateway = "g1";
    o.max_inflight = inflight;
    o.batch_records = batch;
    o.drain_per_s = 0;
    o.poll = std::chrono::milliseconds(5);
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

}  // namespace
}  // namespace depot::sync
