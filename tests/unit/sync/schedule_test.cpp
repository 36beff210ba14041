#include "sync/schedule.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sync/backoff.hpp"
#include "sync/envelope.hpp"

namespace depot::sync {
namespace {

TEST(Backoff, GrowsExponentiallyToTheCapWithFullJitter) {
  Backoff b(std::chrono::milliseconds(1000), std::chrono::milliseconds(300000));
  // jitter 0.999...: the ceiling; 0: the floor.
  std::vector<double> tops;
  for (int i = 0; i < 12; ++i) tops.push_back(static_cast<double>(b.next(0.999999).count()));
  // The first retry is jittered too, over [1 s, 2 s]: it came exactly `min` after a broker
  // restart dropped the fleet, every gateway in the same instant.
  EXPECT_NEAR(tops[0], 2000, 1);
  EXPECT_NEAR(tops[1], 4000, 1);
  EXPECT_NEAR(tops[2], 8000, 1);
  EXPECT_NEAR(tops[7], 256000, 1);
  EXPECT_NEAR(tops[8], 300000, 1);  // capped at 5 min
  EXPECT_NEAR(tops[11], 300000, 1);
  EXPECT_EQ(b.next(0.0).count(), 1000);  // jitter 0: the floor, never below it
  EXPECT_EQ(b.next(0.5).count(), 1000 + 149500);
  b.reset();
  EXPECT_EQ(b.next(0.5).count(), 1500);
}

TEST(DrainOrder, UrgentStreamsFirstTelemetryLastRoundRobinWithinAClass) {
  DrainOrder o;
  EXPECT_FALSE(o.next({}));
  EXPECT_EQ(*o.next({"telemetry", "movements", "alarms"}), "alarms");
  EXPECT_EQ(*o.next({"telemetry", "movements", "alarms", "reorders"}), "reorders");
  EXPECT_EQ(*o.next({"telemetry", "movements", "alarms", "reorders"}), "alarms");
  // Turns go by name after the last stream chosen ("alarms"): audit, movements, audit, ...
  EXPECT_EQ(*o.next({"telemetry", "movements", "audit"}), "audit");
  EXPECT_EQ(*o.next({"telemetry", "movements", "audit"}), "movements");
  EXPECT_EQ(*o.next({"telemetry", "movements", "audit"}), "audit");
  EXPECT_EQ(*o.next({"telemetry"}), "telemetry");
  EXPECT_EQ(stream_priority("stock"), 1);
  EXPECT_EQ(stream_priority("rejects"), 1);
}

TEST(DrainRate, ATokenBucketInRecordsPerSecond) {
  DrainRate r(100, 50);  // 100/s, bucket of 50
  const std::int64_t s = 1'000'000'000;
  EXPECT_EQ(r.available(0), 50);
  r.take(50);
  EXPECT_EQ(r.available(0), 0);
  EXPECT_EQ(r.wait_ns(10, 0), s / 10 + 1);
  EXPECT_EQ(r.available(s / 10), 10);
  EXPECT_EQ(r.available(10 * s), 50);  // never more than the bucket
  DrainRate unlimited(0, 1);
  EXPECT_TRUE(unlimited.unlimited());
  EXPECT_EQ(unlimited.wait_ns(1000000, 0), 0);
}

TEST(Envelope, WrapsRecordsVerbatimAndIsValidJson) {
  std::vector<std::string> recs{R"({"seq":1,"id":"a","ts":"t"})", R"({"seq":2,"id":"b","ts":"t"})"};
  auto e = envelope("s1", "g1", "movements", recs);
  auto j = nlohmann::json::parse(e);
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["site"], "s1");
  EXPECT_EQ(j["gateway"], "g1");
  EXPECT_EQ(j["stream"], "movements");
  ASSERT_EQ(j["records"].size(), 2u);
  EXPECT_EQ(j["records"][1]["seq"], 2);
  EXPECT_EQ(envelope_bytes("s1", "g1", "movements", recs) + recs[0].size() + recs[1].size(),
            e.size());
  EXPECT_EQ(nlohmann::json::parse(envelope("s1", "g1", "audit", {}))["records"].size(), 0u);
}

TEST(Envelope, BatchFitKeepsBothLimitsButAlwaysTakesOne) {
  std::vector<std::string> recs(10, std::string(100, 'x'));
  EXPECT_EQ(batch_fit("s", "g", "movements", recs, 4, 1 << 20), 4u);
  auto head = envelope_bytes("s", "g", "movements", std::span(recs).first(1));
  EXPECT_EQ(batch_fit("s", "g", "movements", recs, 100, head + 100 + 101 + 101), 3u);
  EXPECT_EQ(batch_fit("s", "g", "movements", recs, 100, head + 100 + 101 + 100), 2u);
  EXPECT_EQ(batch_fit("s", "g", "movements", recs, 100, 10), 1u);  // too big: travels alone
  EXPECT_EQ(batch_fit("s", "g", "movements", {}, 100, 10), 0u);
}

TEST(Envelope, TheBuilderKeepsBothLimitsAndWritesValidJson) {
  std::vector<std::string> recs;
  for (int i = 0; i < 10; ++i)
    recs.push_back(R"({"seq":)" + std::to_string(i) + "}" + std::string(i * 7, ' '));
  const auto head = envelope_bytes("s", "g", "movements", std::span(recs).first(1));
  for (std::size_t max_records : {1u, 3u, 100u})
    for (std::size_t max_bytes : {std::size_t{10}, head + 40, head + 150, std::size_t{1} << 20}) {
      EnvelopeBuilder b("s", "g", "movements", max_records, max_bytes);
      std::size_t taken = 0;
      for (const auto& r : recs) {
        if (!b.add(r)) break;
        ++taken;
      }
      const auto where = std::to_string(max_records) + " records, " + std::to_string(max_bytes);
      ASSERT_GE(taken, 1u) << where;  // the first record always travels
      EXPECT_LE(taken, max_records) << where;
      EXPECT_EQ(b.records(), taken);
      const auto text = b.finish();
      if (taken > 1) {
        EXPECT_LE(text.size(), max_bytes) << where;
      }
      if (taken < recs.size() && taken < max_records) {  // stopped by bytes: the next did not fit
        EXPECT_GT(text.size() + 1 + recs[taken].size(), max_bytes) << where;
      }
      auto j = nlohmann::json::parse(text);
      ASSERT_EQ(j["records"].size(), taken) << where;
      for (std::size_t i = 0; i < taken; ++i) EXPECT_EQ(j["records"][i]["seq"], i);
    }
}

TEST(Topics, CommandsOnlyUnderThisGatewaysOwnPrefix) {
  Topics t("s1", "g1");
  EXPECT_EQ(t.status(), "depot/v1/s1/g1/status");
  EXPECT_EQ(t.stream("alarms"), "depot/v1/s1/g1/alarms");
  EXPECT_EQ(t.commands(), "depot/v1/s1/g1/cmd/#");
  EXPECT_EQ(t.reply("stock.count"), "depot/v1/s1/g1/cmd/stock.count/reply");
  EXPECT_EQ(t.command_of("depot/v1/s1/g1/cmd/stock.count"), "stock.count");
  EXPECT_EQ(t.command_of("depot/v1/s1/g2/cmd/stock.count"), "");
  EXPECT_EQ(t.command_of("depot/v1/s1/g1/cmd/stock.count/reply"), "");
  EXPECT_EQ(t.command_of("depot/v1/s1/g1/status"), "");
  EXPECT_EQ(t.command_of("depot/v1/s1/g1/cmd/"), "");
}

TEST(Status, OnlineAndOfflineBodies) {
  StatusFacts f{
      "0.1.0", "2026-11-23T10:00:00.000Z", "2026-11-23T10:00:05.000Z", "5", {{"movements", 3}}};
  auto on = nlohmann::json::parse(status_online("s1", "g1", f));
  EXPECT_EQ(on["state"], "online");
  EXPECT_EQ(on["queue"]["movements"], 3);
  EXPECT_EQ(on["boot_time"], "2026-11-23T10:00:00.000Z");
  EXPECT_EQ(nlohmann::json::parse(status_offline("s1", "g1", false))["state"], "offline");
  EXPECT_EQ(nlohmann::json::parse(status_offline("s1", "g1", false))["clean"], false);
  auto clean = nlohmann::json::parse(status_offline("s1", "g1", true, "2026-01-02T03:04:05Z"));
  EXPECT_EQ(clean["clean"], true);
  EXPECT_EQ(clean["ts"], "2026-01-02T03:04:05Z");
}

}  // namespace
}  // namespace depot::sync
