#include "store/ledger.hpp"

#include <gtest/gtest.h>

#include "store/outbox.hpp"
#include "test_support.hpp"

namespace depot::store {
namespace {
using test::movement;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Database::open(dir_.file("ledger.db"), {});
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
    CatalogItem a{.sku = "A", .name = "Item A"};
    a.barcodes = {"4006381333931"};
    CatalogItem b{.sku = "B", .name = "Item B"};
    ASSERT_TRUE(apply_catalog(*db_, {a, b}, "2026-11-23T00:00:00.000Z").ok());
    ledger_ = std::make_unique<Ledger>(*db_);
  }

  std::vector<PostResult> post(std::vector<MovementRequest> ms) {
    auto r = ledger_->post(ms);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::vector<PostResult>{};
  }
  StockLine line(const std::string& sku) {
    auto rows = ledger_->stock(sku);
    EXPECT_TRUE(rows.ok() && rows->size() == 1);
    return (*rows)[0].line;
  }
  std::int64_t count(const std::string& sql) {
    auto s = db_->prepare(sql);
    EXPECT_TRUE(*(*s)->step());
    auto n = (*s)->int64(0);
    (*s)->reset();
    return n;
  }

  test::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(LedgerTest, TheSameIdPostedTwiceChangesStockOnce) {
  auto r = post({movement("m1", "A", MovementKind::kReceive, 10)});
  EXPECT_EQ(r[0].outcome, PostOutcome::kPosted);
  r = post({movement("m1", "A", MovementKind::kReceive, 10),
            movement("m1", "A", MovementKind::kReceive, 10)});
  EXPECT_EQ(r[0].outcome, PostOutcome::kDuplicate);
  EXPECT_EQ(r[1].outcome, PostOutcome::kDuplicate);
  EXPECT_EQ(line("A").on_hand, 10);
  EXPECT_EQ(count("SELECT count(*) FROM movements"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox"), 1);
}

TEST_F(LedgerTest, CountSetsOnHandAndRecordsTheVariance) {
  post({movement("r", "A", MovementKind::kReceive, 40), movement("p", "A", MovementKind::kPick, 2),
        movement("c", "A", MovementKind::kCount, 35)});
  EXPECT_EQ(line("A").on_hand, 35);
  auto ms = ledger_->movements({.sku = "A"});
  ASSERT_TRUE(ms.ok());
  ASSERT_EQ(ms->size(), 3u);
  EXPECT_EQ((*ms)[2].kind, "count");
  EXPECT_EQ((*ms)[2].counted, 35);
  EXPECT_EQ((*ms)[2].qty, -3);  // 38 on the books, 35 on the shelf
  // The ledger always sums to on hand.
  EXPECT_EQ(count("SELECT sum(qty) FROM movements WHERE sku='A'"), 35);
}

TEST_F(LedgerTest, NegativeStockIsRecordedAndFlagged) {
  auto r = post({movement("p", "B", MovementKind::kPick, 3)});
  EXPECT_EQ(r[0].outcome, PostOutcome::kPosted);
  EXPECT_TRUE(r[0].posting.negative);
  EXPECT_EQ(line("B").on_hand, -3);
  EXPECT_EQ(count("SELECT negative FROM movements WHERE id='p'"), 1);
}

TEST_F(LedgerTest, RejectionsChangeNothingAndDoNotStopTheBatch) {
  auto r = post({movement("x1", "NOPE", MovementKind::kReceive, 1),
                 movement("x2", "A", MovementKind::kPick, 0),
                 movement("ok", "A", MovementKind::kReceive, 4)});
  EXPECT_EQ(r[0].outcome, PostOutcome::kRejected);
  EXPECT_EQ(r[0].error, "unknown sku \"NOPE\"");
  EXPECT_EQ(r[1].outcome, PostOutcome::kRejected);
  EXPECT_EQ(r[1].error, "quantity 0 must be positive for a pick");
  EXPECT_EQ(r[2].outcome, PostOutcome::kPosted);
  EXPECT_EQ(count("SELECT count(*) FROM movements"), 1);
  EXPECT_EQ(line("A").on_hand, 4);
}

TEST_F(LedgerTest, EachMovementHasItsOutboxRecordWithAGapFreeSeq) {
  post({movement("a", "A", MovementKind::kReceive, 1), movement("b", "B", MovementKind::kReceive, 2)});
  post({movement("c", "A", MovementKind::kPick, 1)});
  auto s = db_->prepare("SELECT seq, id, payload FROM outbox WHERE stream='movements' ORDER BY seq");
  std::vector<std::string> ids;
  std::int64_t expect_seq = 1;
  while (*(*s)->step()) {
    EXPECT_EQ((*s)->int64(0), expect_seq++);
    ids.push_back((*s)->text(1));
    auto payload = nlohmann::json::parse((*s)->text(2));
    EXPECT_EQ(payload["id"], (*s)->text(1));
    EXPECT_EQ(payload["seq"], (*s)->int64(0));
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(LedgerTest, AFailedBatchRecordsNothing) {
  // Make the outbox insert fail mid-batch: the movement and stock change must roll back too.
  ASSERT_TRUE(db_->exec("CREATE TRIGGER boom BEFORE INSERT ON outbox WHEN NEW.id = 'bad'"
                        " BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
                  .ok());
  std::vector<MovementRequest> batch{movement("good", "A", MovementKind::kReceive, 5),
                                     movement("bad", "A", MovementKind::kReceive, 5)};
  auto r = ledger_->post(batch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(count("SELECT count(*) FROM movements"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM outbox"), 0);
  EXPECT_EQ(line("A").on_hand, 0);
}

// The catalog's fingerprint decides whether a start rewrites 100,000 SKUs: it must not change
// between versions for the same catalog (this value is the one 0.x databases hold).
TEST_F(LedgerTest, TheCatalogFingerprintIsStableAcrossVersions) {
  CatalogItem a{.sku = "A", .name = "Item A", .barcodes = {"4006381333931"},
                .cases = {{"14006381333938", 12}}, .zone = "chill", .policy = "steady",
                .daily_demand = 2.5, .daily_demand_sd = 0.5, .pin_demand = true};
  CatalogItem b{.sku = "B", .unit = "kg"};
  ASSERT_TRUE(apply_catalog(*db_, {a, b}, "2026-11-24T00:00:00.000Z").ok());
  EXPECT_EQ(db_->meta("catalog_fingerprint").value().value_or(""), "1cf105b2a3bc3747");
  ASSERT_TRUE(apply_catalog(*db_, {}, "2026-11-24T00:00:00.000Z").ok());
  EXPECT_EQ(db_->meta("catalog_fingerprint").value().value_or(""), "9b8a3e00c63ea86f");
}

TEST_F(LedgerTest, CatalogIsAppliedOnceAndRetiredSkusAreKept) {
  post({movement("r", "B", MovementKind::kReceive, 3)});
  CatalogItem a{.sku = "A", .name = "Item A renamed"};
  auto applied = apply_catalog(*db_, {a}, "2026-11-24T00:00:00.000Z");
  ASSERT_TRUE(applied.ok());
  // What B leaves behind is reported for the caller to warn about (app/store_access.cpp).
  EXPECT_EQ(applied->left, (std::vector<SkuLeft>{{.sku = "B", .on_hand = 3}}));
  EXPECT_EQ(applied->left[0].describe(), "3 on hand");
  auto cat = load_catalog(*db_);
  ASSERT_TRUE(cat.ok());
  EXPECT_EQ(cat->size(), 1u);
  EXPECT_TRUE(cat->contains("A"));
  // B left the catalog but still has stock: it is listed, marked inactive.
  auto rows = ledger_->stock(std::nullopt);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].sku, "A");
  EXPECT_EQ((*rows)[0].name, "Item A renamed");
  EXPECT_EQ((*rows)[1].sku, "B");
  EXPECT_FALSE((*rows)[1].active);
  EXPECT_EQ((*rows)[1].line.on_hand, 3);
  // A leaves with nothing: no report; B, already retired, is not reported again.
  auto empty = apply_catalog(*db_, {}, "2026-11-24T00:00:00.000Z");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->changed);
  EXPECT_TRUE(empty->left.empty());
  SkuLeft many{.sku = "C", .on_hand = 2, .held = 1, .reserved = 5, .backordered = 3,
               .open_proposals = 2};
  EXPECT_EQ(many.describe(), "2 on hand, 1 held, 5 reserved, 3 backordered, 2 open proposals");
}

TEST_F(LedgerTest, MovementsFilterBySkuAndTime) {
  auto early = movement("e", "A", MovementKind::kReceive, 1);
  early.wall_time = "2026-11-22T09:00:00.000Z";
  auto late = movement("l", "A", MovementKind::kReceive, 1);
  late.wall_time = "2026-11-23T09:00:00.000Z";
  post({early, late, movement("b", "B", MovementKind::kReceive, 1)});
  auto ms = ledger_->movements({.sku = "A", .since = "2026-11-23T00:00:00.000Z"});
  ASSERT_EQ(ms->size(), 1u);
  EXPECT_EQ((*ms)[0].id, "l");
  EXPECT_EQ(ledger_->movements({.limit = 2})->size(), 2u);
}

}  // namespace
}  // namespace depot::store
