// The replenishment cloud commands (reorder.ack, reorder.cancel, campaign.set, campaign.clear):
// parsing names every bad field; the desk applies each in one transaction with its command row
// and audit record, once per command id, against a real SQLite file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/time.hpp"
#include "store/outbox.hpp"
#include "store/replenish_store.hpp"
#include "sync/commands.hpp"
#include "test_support.hpp"

namespace depot::sync {
namespace {
using nlohmann::json;
using ::testing::HasSubstr;

TEST(ParseReplenishCommand, BadArgumentsAreNamed) {
  struct Case {
    std::string name, payload, error;
  } cases[] = {
      {"reorder.ack", R"({"id":"c1","args":{"order_number":"PO-1","who":"bo"}})",
       "args.proposal_id: is required"},
      {"reorder.ack", R"({"id":"c1","args":{"proposal_id":"P1","order_number":"PO-1"}})",
       "args.who: is required"},
      {"reorder.cancel", R"({"id":"c1","args":{"proposal_id":"P1","reason":"dup","who":""}})",
       "args.who: \"\" must not be empty"},
      {"reorder.ack", R"({"id":"c1","args":{"proposal_id":"P1","who":"bo"}})",
       "args.order_number: is required"},
      {"reorder.ack", R"({"id":"c1","args":{"proposal_id":"P1","order_number":"PO","quantity":0,"who":"bo"}})",
       "args.quantity: 0 must be between 1 and"},
      {"reorder.ack",
       R"({"id":"c1","args":{"proposal_id":"P1","order_number":"PO","eta":"2026-02-30","who":"bo"}})",
       "args.eta: \"2026-02-30\" must be an RFC 3339 time"},
      {"reorder.cancel", R"({"id":"c1","args":{"proposal_id":"P1","reason":"","who":"bo"}})",
       "args.reason: \"\" must not be empty"},
      {"campaign.set",
       R"({"id":"c1","args":{"name":"x","skus":["A"],"factor":0.5,"start":"2026-11-11","end":"2026-11-12"}})",
       "args.factor: 0.5 must be between 1 and 1000"},
      {"campaign.set",
       R"({"id":"c1","args":{"name":"x","skus":["A"],"factor":2,"start":"2026-11-12","end":"2026-11-11"}})",
       "args.end: must be after args.start"},
      {"campaign.set",
       R"({"id":"c1","args":{"name":"x","factor":2,"start":"2026-11-11","end":"2026-11-12"}})",
       "needs skus or policy"},
      {"campaign.clear", R"({"id":"c1","args":{"name":"x","colour":1}})",
       "args.colour: unknown key"},
  };
  for (const auto& c : cases) {
    auto p = parse_command(c.name, c.payload, "");
    EXPECT_FALSE(p.command) << c.payload;
    EXPECT_THAT(p.error, HasSubstr(c.error)) << c.payload;
    EXPECT_EQ(p.id, "c1");
  }
}

class ReplenishDesk : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Database::open(dir_.file("desk.db"), {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    CatalogItem a{.sku = "A", .name = "Item A", .policy = "fast"};
    ASSERT_TRUE(store::apply_catalog(*db_, {a}, "2026-11-23T00:00:00.000Z").ok());
    ledger_ = std::make_unique<store::Ledger>(*db_);
    DeskHooks h;
    h.wall_now = [] { return std::string("2026-11-23T10:00:00.000Z"); };
    h.mono_now_ns = [] { return std::int64_t{1}; };
    h.new_id = [this] { return "id-" + std::to_string(++ids_); };
    h.replenish_changed = [this] { ++changes_; };
    desk_ = std::make_unique<CommandDesk>(*db_, *ledger_, "", h);
    // A proposal, as the daemon would have made it.
    replenish::Decision d;
    d.reason = replenish::Reason::kReorderPointReached;
    d.quantity = 100;
    d.expected_arrival_ms = *timefmt::parse_rfc3339_ms("2026-11-26T09:00:00Z");
    auto p =
        replenish::make_proposal(d, "P1", "A", *timefmt::parse_rfc3339_ms("2026-11-23T09:00:00Z"));
    p.supplier = "s1";
    ASSERT_TRUE(db_->transaction([&]() -> Status {
                     return store::insert_proposal(*db_, p, "2026-11-23T09:00:00.000Z");
                   })
                    .ok());
  }
  std::int64_t count(const std::string& sql) {
    auto s = db_->prepare(sql);
    EXPECT_TRUE(*(*s)->step());
    auto n = (*s)->int64(0);
    (*s)->reset();
    return n;
  }
  test::TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<store::Ledger> ledger_;
  std::unique_ptr<CommandDesk> desk_;
  int ids_ = 0, changes_ = 0;
};

TEST_F(ReplenishDesk, ReorderAckIsAppliedOnceWithItsReorderRecord) {
  // An ETA a year and more away (a typo in the year) is refused, naming the argument.
  auto far = desk_->handle(
      "reorder.ack",
      R"({"id":"k0","args":{"proposal_id":"P1","order_number":"PO-77","eta":"9999-12-31","who":"bo.chen"}})");
  EXPECT_EQ(far["ok"], false);
  EXPECT_EQ(far["error"], "args.eta: ETA 9999-12-31T00:00:00.000Z is more than 365 days away: "
                          "check the date") << far.dump();
  const char* cmd =
      R"({"id":"k1","args":{"proposal_id":"P1","order_number":"PO-77","quantity":96,"eta":"2026-11-27","who":"bo.chen"}})";
  auto r = desk_->handle("reorder.ack", cmd);
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["state"], "acknowledged");
  EXPECT_EQ(r["result"]["quantity"], 96);
  EXPECT_EQ(r["result"]["eta"], "2026-11-27T00:00:00.000Z");
  auto again = desk_->handle("reorder.ack", cmd);
  EXPECT_EQ(again["duplicate"], true);
  EXPECT_EQ(changes_, 1);
  EXPECT_EQ(count("SELECT ordered_qty FROM proposals WHERE id='P1'"), 96);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream='reorders'"), 2);  // proposed, acked
  // The command's audit entry and the buyer's reorder.ack entry, who = the desk's user.
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream='audit'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM audit_log WHERE what='reorder.ack' AND who='bo.chen' AND "
                  "json_extract(details,'$.source')='cloud:k1'"),
            1);
  // Acknowledging it again under another command id is refused, and changes nothing.
  auto twice = desk_->handle("reorder.ack",
                             R"({"id":"k2","args":{"proposal_id":"P1","order_number":"PO-78","who":"bo.chen"}})");
  EXPECT_EQ(twice["ok"], false);
  EXPECT_THAT(twice["error"].get<std::string>(), HasSubstr("it is acknowledged"));
  EXPECT_EQ(count("SELECT count(*) FROM commands"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream='reorders'"), 2);

  auto cancel = desk_->handle(
      "reorder.cancel", R"({"id":"k3","args":{"proposal_id":"P1","reason":"duplicate order","who":"bo.chen"}})");
  ASSERT_EQ(cancel["ok"], true) << cancel.dump();
  EXPECT_EQ(count("SELECT count(*) FROM proposals WHERE state='cancelled'"), 1);
  auto unknown =
      desk_->handle("reorder.cancel", R"({"id":"k4","args":{"proposal_id":"NOPE","reason":"x","who":"bo.chen"}})");
  EXPECT_EQ(unknown["ok"], false);
  EXPECT_THAT(unknown["error"].get<std::string>(), HasSubstr("no proposal with id \"NOPE\""));
}

TEST_F(ReplenishDesk, CampaignSetAndClear) {
  auto bad = desk_->handle(
      "campaign.set",
      R"({"id":"m0","args":{"name":"live","skus":["ZZZ"],"factor":4,"start":"2026-11-25T12:00:00Z","end":"2026-11-25T18:00:00Z"}})");
  EXPECT_EQ(bad["ok"], false);
  EXPECT_THAT(bad["error"].get<std::string>(),
              HasSubstr("args.skus[0]: \"ZZZ\" is not an active SKU"));
  auto nopol = desk_->handle(
      "campaign.set",
      R"({"id":"m00","args":{"name":"live","policy":"slow","factor":4,"start":"2026-11-25T12:00:00Z","end":"2026-11-25T18:00:00Z"}})");
  EXPECT_EQ(nopol["ok"], false);
  EXPECT_THAT(nopol["error"].get<std::string>(),
              HasSubstr("\"slow\" is the policy of no active SKU"));
  EXPECT_EQ(count("SELECT count(*) FROM campaigns"), 0);

  auto r = desk_->handle(
      "campaign.set",
      R"({"id":"m1","args":{"name":"live","skus":["A"],"factor":4,"start":"2026-11-25T12:00:00+08:00","end":"2026-11-25T18:00:00+08:00"}})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  auto cs = store::load_campaigns(*db_);
  ASSERT_TRUE(cs.ok());
  ASSERT_EQ(cs->size(), 1u);
  EXPECT_EQ((*cs)[0].skus, std::vector<std::string>{"A"});
  EXPECT_DOUBLE_EQ((*cs)[0].factor, 4);
  EXPECT_EQ((*cs)[0].start_ms, *timefmt::parse_rfc3339_ms("2026-11-25T04:00:00Z"));
  EXPECT_EQ(changes_, 1);

  auto clr = desk_->handle("campaign.clear", R"({"id":"m2","args":{"name":"live"}})");
  ASSERT_EQ(clr["ok"], true) << clr.dump();
  EXPECT_EQ(count("SELECT count(*) FROM campaigns"), 0);
  auto gone = desk_->handle("campaign.clear", R"({"id":"m3","args":{"name":"live"}})");
  EXPECT_EQ(gone["ok"], false);
  EXPECT_THAT(gone["error"].get<std::string>(),
              HasSubstr("no campaign \"live\" was set by the cloud"));
  EXPECT_EQ(changes_, 2);
}

}  // namespace
}  // namespace depot::sync
