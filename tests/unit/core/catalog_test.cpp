#include "core/catalog.hpp"

#include <gtest/gtest.h>

#include "core/scan.hpp"

namespace depot {
namespace {

Catalog sample() {
  CatalogItem tint{.sku = "TINT", .name = "Lip tint"};
  tint.barcodes = {"4006381333931"};
  tint.cases = {{"14006381333938", 12}};
  CatalogItem vc{.sku = "VC", .name = "Vaccine carrier"};
  vc.barcodes = {"96385074", "INT-VC-001"};
  auto c = Catalog::build({tint, vc});
  EXPECT_TRUE(c.ok());
  return std::move(c).value();
}

TEST(Catalog, FindsAGtinInAnyOfItsForms) {
  auto c = sample();
  ASSERT_TRUE(c.find_barcode("4006381333931"));
  EXPECT_EQ(c.find_barcode("4006381333931")->sku, "TINT");
  EXPECT_EQ(c.find_barcode("04006381333931")->sku, "TINT");  // as a GTIN-14
  EXPECT_EQ(c.find_barcode("00000096385074")->sku, "VC");    // EAN-8 padded
  EXPECT_EQ(c.find_barcode("INT-VC-001")->sku, "VC");        // internal alias
  EXPECT_FALSE(c.find_barcode("INT-VC-002"));
}

TEST(Catalog, CaseBarcodeCarriesItsPackQuantity) {
  auto c = sample();
  auto m = c.find_barcode("14006381333938");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pack_qty, 12);
  EXPECT_EQ(c.find_barcode("4006381333931")->pack_qty, 1);
}

// The loader (the database's rows, one by one) answers as the built catalog does; codes of an
// SKU it was not given (inactive) are left out, whatever order the rows come in.
TEST(CatalogLoader, GivesTheSameIndexAsBuildAndLeavesOutInactiveSkus) {
  Catalog::Loader l({"VC", "TINT"});
  ASSERT_TRUE(l.add("INT-VC-001", "VC", 1).ok());
  ASSERT_TRUE(l.add("14006381333938", "TINT", 12).ok());
  ASSERT_TRUE(l.add("4006381333931", "TINT", 1).ok());
  ASSERT_TRUE(l.add("INT-OLD", "GONE", 1).ok());
  ASSERT_TRUE(l.add("96385074", "VC", 1).ok());
  auto c = std::move(l).finish();
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto built = sample();
  EXPECT_EQ(c->size(), built.size());
  for (const char* code : {"4006381333931", "04006381333931", "14006381333938", "00000096385074",
                           "INT-VC-001"}) {
    ASSERT_TRUE(c->find_barcode(code)) << code;
    EXPECT_EQ(c->find_barcode(code)->sku, built.find_barcode(code)->sku) << code;
    EXPECT_EQ(c->find_barcode(code)->pack_qty, built.find_barcode(code)->pack_qty) << code;
  }
  EXPECT_FALSE(c->find_barcode("INT-OLD"));
  EXPECT_FALSE(c->contains("GONE"));
  EXPECT_TRUE(c->contains("TINT"));
}

// What the database's keys should make impossible, in a hand-edited file: refused by name.
TEST(CatalogLoader, RefusesAPackQuantityItCannotHoldAndAKeyHeldTwice) {
  Catalog::Loader big({"A"});
  EXPECT_EQ(big.add("INT-PALLET", "A", 5'000'000'000).error().message,
            "barcode \"INT-PALLET\" of sku \"A\": pack quantity 5000000000 is outside 1..1000000000");
  EXPECT_EQ(big.add("INT-NONE", "A", 0).error().message,
            "barcode \"INT-NONE\" of sku \"A\": pack quantity 0 is outside 1..1000000000");
  Catalog::Loader gtin({"A", "B"});
  ASSERT_TRUE(gtin.add("4006381333931", "A", 1).ok());
  ASSERT_TRUE(gtin.add("04006381333931", "B", 1).ok());
  EXPECT_EQ(std::move(gtin).finish().error().message,
            "barcode key \"04006381333931\" is held by sku \"A\" and by sku \"B\"");
  Catalog::Loader other({"A", "B"});
  ASSERT_TRUE(other.add("INT-9", "B", 1).ok());
  ASSERT_TRUE(other.add("INT-9", "A", 1).ok());
  EXPECT_EQ(std::move(other).finish().error().message,
            "barcode key \"INT-9\" is held by sku \"B\" and by sku \"A\"");
}

TEST(Catalog, RefusesABarcodeClaimedTwice) {
  CatalogItem a{.sku = "A"}, b{.sku = "B"};
  a.barcodes = {"4006381333931"};
  b.barcodes = {"04006381333931"};  // the same GTIN written as GTIN-14
  auto c = Catalog::build({a, b});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message,
            "barcode \"04006381333931\" of sku \"B\" is already used by sku \"A\"");
}

TEST(Catalog, RefusesASkuListedTwice) {
  CatalogItem a{.sku = "A"}, b{.sku = "B"};
  auto c = Catalog::build({a, b, a});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message, "sku \"A\" appears twice in the catalog");
}

TEST(Catalog, NamesTheFirstProblemInCatalogOrderWhateverItsKind) {
  CatalogItem a{.sku = "A"}, b{.sku = "B"};
  a.barcodes = b.barcodes = {"4006381333931"};
  // B's code clashes (item 2) before A's id repeats (item 3).
  EXPECT_EQ(Catalog::build({a, b, CatalogItem{.sku = "A"}}).error().message,
            "barcode \"4006381333931\" of sku \"B\" is already used by sku \"A\"");
  // B repeats (item 3) before A does (item 4), though A sorts first.
  CatalogItem plain_a{.sku = "A"}, plain_b{.sku = "B"};
  EXPECT_EQ(Catalog::build({plain_b, plain_a, plain_b, plain_a}).error().message,
            "sku \"B\" appears twice in the catalog");
}

TEST(Catalog, RefusesAPackQuantityItCannotHold) {
  CatalogItem a{.sku = "A"};
  a.cases = {{"INT-PALLET", 5'000'000'000}};
  EXPECT_EQ(Catalog::build({a}).error().message,
            "barcode \"INT-PALLET\" of sku \"A\": pack quantity 5000000000 is outside 1..1000000000");
}

TEST(Catalog, NamesTheFirstClashInCatalogOrder) {
  // Read one by one, C's "INT-9" clashes first (with A), before B's GTIN clashes with A's.
  CatalogItem a{.sku = "A"}, b{.sku = "B"}, c{.sku = "C"};
  a.barcodes = {"4006381333931", "INT-9"};
  c.barcodes = {"INT-9"};
  b.cases = {{"04006381333931", 6}};
  auto built = Catalog::build({a, c, b});
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().message, "barcode \"INT-9\" of sku \"C\" is already used by sku \"A\"");
}

TEST(Catalog, AFourteenDigitInternalCodeIsNotAGtin) {
  CatalogItem a{.sku = "A"}, b{.sku = "B"};
  a.barcodes = {"12345678901234"};  // 14 digits, wrong check digit (a GTIN-14 ends in 1)
  b.barcodes = {"12345678901231"};  // the valid GTIN-14 with the same first 13 digits
  auto c = Catalog::build({a, b});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->find_barcode("12345678901234")->sku, "A");
  EXPECT_EQ(c->find_barcode("12345678901231")->sku, "B");
  EXPECT_FALSE(c->find_barcode("1234567890123"));  // 13 digits, bad check digit: no match
  EXPECT_TRUE(c->contains("A"));
  EXPECT_FALSE(c->contains("Z"));
  EXPECT_EQ(c->size(), 2u);
}

TEST(ResolveScan, CaseScanMovesThePackQuantity) {
  auto c = sample();
  auto r = resolve_scan(c, {.code = "14006381333938", .kind = MovementKind::kReceive, .count = 2});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sku, "TINT");
  EXPECT_EQ(r->quantity, 24);
}

TEST(ResolveScan, RejectionsNameTheCodeAndTheRule) {
  auto c = sample();
  EXPECT_EQ(resolve_scan(c, {.code = "4006381333932"}).error().message,
            "barcode \"4006381333932\" fails the GTIN-13 check digit (expected 1)");
  EXPECT_EQ(resolve_scan(c, {.code = "5012345678900"}).error().message,
            "barcode \"5012345678900\" is not in the catalog");
  EXPECT_EQ(resolve_scan(c, {.code = "4006381333931", .count = 0}).error().message,
            "quantity 0 must be positive");
  EXPECT_EQ(resolve_scan(c, {.code = "", .count = 1}).error().message, "empty scan");
}

}  // namespace
}  // namespace depot
