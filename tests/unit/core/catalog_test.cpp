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
  EXPECT_EQ(c.find_barcode("4006381333931")->item->sku, "TINT");
  EXPECT_EQ(c.find_barcode("04006381333931")->item->sku, "TINT");  // as a GTIN-14
  EXPECT_EQ(c.find_barcode("00000096385074")->item->sku, "VC");    // EAN-8 padded
  EXPECT_EQ(c.find_barcode("INT-VC-001")->item->sku, "VC");        // internal alias
  EXPECT_FALSE(c.find_barcode("INT-VC-002"));
}

TEST(Catalog, CaseBarcodeCarriesItsPackQuantity) {
  auto c = sample();
  auto m = c.find_barcode("14006381333938");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->pack_qty, 12);
  EXPECT_EQ(c.find_barcode("4006381333931")->pack_qty, 1);
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
