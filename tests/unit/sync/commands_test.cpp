// Command parsing (pure) and the command desk against a real SQLite file.
#include "sync/commands.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/outbox.hpp"
#include "test_support.hpp"

namespace depot::sync {
namespace {
using nlohmann::json;
using ::testing::HasSubstr;

TEST(ParseCommand, ValidCommandsBecomeActions) {
  auto c = parse_command("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})", "");
  ASSERT_TRUE(c.command) << c.error;
  EXPECT_EQ(c.id, "c1");
  auto* a = std::get_if<StockCount>(&c.command->action);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->sku, "A");
  EXPECT_EQ(a->counted, 7);
  EXPECT_TRUE(parse_command("snapshot.request", R"({"id":"c2"})", "").command);
  EXPECT_TRUE(parse_command("config.get", R"({"id":"c3","args":{}})", "").command);
  auto up =
      parse_command("catalog.upsert",
                    R"({"id":"c4","args":{"sku":"N","name":"New","barcodes":["96385074"]}})", "");
  ASSERT_TRUE(up.command) << up.error;
  EXPECT_EQ(std::get<CatalogUpsert>(up.command->action).item.barcodes[0], "96385074");
}

TEST(ParseCommand, InvalidCommandsAreNamedAndKeepTheirId) {
  struct Case {
    std::string name, payload, error;
  } cases[] = {
      {"stock.count", "not json", "not a JSON object"},
      {"stock.count", R"({"args":{}})", "id: is required"},
      {"stock.count", R"({"id":"c1","args":{"sku":"A","counted":-1}})",
       "args.counted: -1 must be between 0 and"},
      {"stock.count", R"({"id":"c1","args":{"sku":"A"}})", "args.counted: is required"},
      {"stock.count", R"({"id":"c1","args":{"sku":"A","counted":1,"colour":2}})",
       "args.colour: unknown key"},
      {"catalog.upsert", R"({"id":"c1","args":{"sku":"N","barcodes":["4006381333932"]}})",
       "fails the GTIN-13 check digit"},
      {"stock.count", R"({"id":"c1","args":[1]})", "args: [1] must be an object"},
      {"self.destruct", R"({"id":"c1"})", "unknown command \"self.destruct\""},
      {"campaign.start", R"({"id":"c1"})", "\"campaign.start\" is not supported yet"},
      {"alarm.ack", R"({"id":"c1","args":{"zone":"cold-1","who":"Ana"}})",
       "args.comment: is required"},
      {"hold.release", R"({"id":"c1","args":{"hold":0,"who":"Ana","why":"ok"}})",
       "args.hold: 0 must be at least 1"},
      {"hold.place", R"({"id":"c1"})", "not supported yet"},
  };
  for (const auto& c : cases) {
    auto p = parse_command(c.name, c.payload, "");
    EXPECT_FALSE(p.command) << c.payload;
    EXPECT_THAT(p.error, HasSubstr(c.error)) << c.payload;
    if (c.payload.find("\"c1\"") != std::string::npos) {
      EXPECT_EQ(p.id, "c1");
    }
  }
}

TEST(ParseCommand, SignedCommandsAreCheckedWithHmacSha256) {
  // RFC 4231 test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  std::string inner = R"({"id":"c9","args":{"sku":"A","counted":3}})";
  json signed_ok{{"signed", inner}, {"hmac", hmac_sha256_hex("s3cret", inner)}};
  auto ok = parse_command("stock.count", signed_ok.dump(), "s3cret");
  ASSERT_TRUE(ok.command) << ok.error;
  EXPECT_EQ(ok.id, "c9");

  json wrong{{"signed", inner}, {"hmac", hmac_sha256_hex("guess", inner)}};
  auto bad = parse_command("stock.count", wrong.dump(), "s3cret");
  EXPECT_FALSE(bad.command);
  EXPECT_EQ(bad.id, "c9");
  EXPECT_THAT(bad.error, HasSubstr("HMAC does not match"));

  auto unsigned_ = parse_command("stock.count", inner, "s3cret");
  EXPECT_FALSE(unsigned_.command);
  EXPECT_THAT(unsigned_.error, HasSubstr("must be signed"));
}

class Desk : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Database::open(dir_.file("desk.db"), {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    CatalogItem a{.sku = "A", .name = "Item A"};
    a.barcodes = {"4006381333931"};
    ASSERT_TRUE(store::apply_catalog(*db_, {a}, "2026-11-23T00:00:00.000Z").ok());
    ledger_ = std::make_unique<store::Ledger>(*db_);
    DeskHooks h;
    h.wall_now = [] { return std::string("2026-11-23T10:00:00.000Z"); };
    h.mono_now_ns = [] { return std::int64_t{1}; };
    h.new_id = [this] { return "id-" + std::to_string(++ids_); };
    h.catalog_changed = [this] { ++catalog_changes_; };
    h.config_summary = json{{"site", "s1"}};
    desk_ = std::make_unique<CommandDesk>(*db_, *ledger_, "", h);
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
  int ids_ = 0, catalog_changes_ = 0;
};

TEST_F(Desk, StockCountPostsACountMovementOnceAndIsAudited) {
  ASSERT_TRUE(
      ledger_->post(std::vector{test::movement("m1", "A", MovementKind::kReceive, 10)}).ok());
  auto r = desk_->handle("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})");
  EXPECT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["error"], nullptr);
  EXPECT_EQ(r["result"]["variance"], -3);
  EXPECT_EQ(r["result"]["on_hand"], 7);
  auto again = desk_->handle("stock.count", R"({"id":"c1","args":{"sku":"A","counted":7}})");
  EXPECT_EQ(again["ok"], true);
  EXPECT_EQ(again["duplicate"], true);
  EXPECT_EQ(count("SELECT count(*) FROM movements WHERE kind = 'count'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM commands"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE stream = 'audit'"), 1);
  EXPECT_EQ(count("SELECT on_hand FROM stock WHERE sku = 'A'"), 7);
}

// Issue 13 item 3: an exception thrown inside a command's transaction (here by a hook) used
// to leave the connection in BEGIN IMMEDIATE; every later write then failed.
TEST(DeskTxn, AnExceptionInsideACommandLeavesTheConnectionUsable) {
  test::TempDir dir;
  auto db = std::move(store::Database::open(dir.file("desk.db"), {}).value());
  CatalogItem a{.sku = "A", .name = "Item A"};
  ASSERT_TRUE(store::apply_catalog(*db, {a}, "2026-11-23T00:00:00.000Z").ok());
  store::Ledger ledger(*db);
  DeskHooks h;
  int calls = 0;
  h.wall_now = [&calls]() -> std::string {
    if (++calls == 1) throw std::runtime_error("clock exploded");
    return "2026-11-23T10:00:00.000Z";
  };
  h.mono_now_ns = [] { return std::int64_t{1}; };
  h.new_id = [] { return std::string("x"); };
  h.config_summary = json{{"site", "s1"}};
  CommandDesk desk(*db, ledger, "", h);
  auto r = desk.handle("config.get", R"({"id":"g1","args":{}})");
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_TRUE(sqlite3_get_autocommit(db->handle()));
  auto again = desk.handle("config.get", R"({"id":"g2","args":{}})");
  EXPECT_EQ(again["ok"], true) << again.dump();
  std::vector<MovementRequest> m{test::movement("m1", "A", MovementKind::kReceive, 1)};
  auto posted = ledger.post(m);
  ASSERT_TRUE(posted.ok()) << posted.error().message;
}

TEST_F(Desk, AStockCountWithAnOverlongLotIsRefused) {
  auto r = desk_->handle("stock.count", R"({"id":"c9","args":{"sku":"A","counted":7,"lot":")" +
                                            std::string(10000, 'L') + R"("}})");
  EXPECT_EQ(r["ok"], false) << r.dump();
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("GS1 AI (10) allows at most 20"));
  EXPECT_EQ(count("SELECT count(*) FROM movements"), 0);
}

TEST_F(Desk, InvalidOrUnknownChangesNothing) {
  auto r = desk_->handle("stock.count", R"({"id":"c2","args":{"sku":"NOPE","counted":1}})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("\"NOPE\" is not an active SKU"));
  r = desk_->handle("hold.place", R"({"id":"c3","args":{}})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_EQ(r["id"], "c3");
  EXPECT_EQ(count("SELECT count(*) FROM movements"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM commands"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM outbox"), 0);
}

TEST_F(Desk, SnapshotPutsEverySkuOnTheStockStream) {
  auto r = desk_->handle("snapshot.request", R"({"id":"s1"})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(r["result"]["skus"], 1);
  auto recs = store::outbox_read(*db_, "stock", 0, 10);
  ASSERT_TRUE(recs.ok());
  ASSERT_EQ(recs->size(), 1u);
  auto j = json::parse((*recs)[0].payload);
  EXPECT_EQ(j["sku"], "A");
  EXPECT_EQ(j["on_hand"], 0);
  EXPECT_EQ(j["seq"], 1);
  EXPECT_EQ(j["snapshot"], "snap-s1");
}

TEST_F(Desk, CatalogUpsertAndRemove) {
  auto r = desk_->handle("catalog.upsert",
                         R"({"id":"u1","args":{"sku":"N","name":"New","barcodes":["96385074"]}})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  EXPECT_EQ(catalog_changes_, 1);
  auto cat = store::load_catalog(*db_);
  ASSERT_TRUE(cat.ok());
  ASSERT_TRUE(cat->find_barcode("96385074"));
  EXPECT_EQ(cat->find_barcode("96385074")->sku, "N");

  r = desk_->handle("catalog.upsert",
                    R"({"id":"u2","args":{"sku":"M","barcodes":["4006381333931"]}})");
  EXPECT_EQ(r["ok"], false);
  EXPECT_THAT(r["error"].get<std::string>(), HasSubstr("already belongs to SKU \"A\""));

  r = desk_->handle("catalog.remove", R"({"id":"r1","args":{"sku":"N"}})");
  ASSERT_EQ(r["ok"], true) << r.dump();
  cat = store::load_catalog(*db_);
  EXPECT_FALSE(cat->contains("N"));
  EXPECT_EQ(count("SELECT count(*) FROM skus WHERE sku = 'N'"), 1);  // kept, inactive
  r = desk_->handle("config.get", R"({"id":"g1"})");
  EXPECT_EQ(r["result"]["site"], "s1");
  EXPECT_EQ(count("SELECT count(*) FROM commands"), 3);
}

}  // namespace
}  // namespace depot::sync
