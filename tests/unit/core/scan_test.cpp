// resolve_scan on GS1 labels: which GTIN names the item, how many units one scan moves
// (pack quantity, AI 37 on a logistic unit, AI 30 on a variable-count item), and lot, expiry
// and serial taken from the label. The plain-code cases live in catalog_test.cpp.
#include "core/scan.hpp"

#include <gtest/gtest.h>

#include "core/barcode.hpp"

namespace depot {
namespace {

const std::string GS(1, barcode::kGs);

Catalog sample() {
  CatalogItem tint{.sku = "TINT", .name = "Lip tint"};
  tint.barcodes = {"4006381333931"};
  tint.cases = {{"14006381333938", 12}};
  CatalogItem fish{.sku = "FISH", .name = "Salmon portions, variable count"};
  fish.barcodes = {"95012345678903", "INT-FISH"};
  auto c = Catalog::build({tint, fish});
  EXPECT_TRUE(c.ok());
  return std::move(c).value();
}

ScanIntent intent(std::string code, std::int64_t count = 1) {
  return {.code = std::move(code), .count = count, .reference_year = 2026};
}

TEST(ResolveGs1, UnitGtinWithLotExpiryAndSerial) {
  auto r = resolve_scan(sample(), intent("]C1"
                                         "0104006381333931"
                                         "17261200"
                                         "10L-42" +
                                             GS + "21SN9",
                                         3));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sku, "TINT");
  EXPECT_EQ(r->pack_qty, 1);
  EXPECT_EQ(r->quantity, 3);
  EXPECT_EQ(r->lot, "L-42");
  EXPECT_EQ(r->expiry, "2026-12-31");
  EXPECT_EQ(r->serial, "SN9");
}

TEST(ResolveGs1, CaseGtinMovesItsPack) {
  auto r = resolve_scan(sample(), intent("(01)14006381333938(10)B7", 2));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sku, "TINT");
  EXPECT_EQ(r->pack_qty, 12);
  EXPECT_EQ(r->quantity, 24);
  EXPECT_EQ(r->lot, "B7");
  EXPECT_FALSE(r->expiry);
}

TEST(ResolveGs1, LogisticUnitCountTimesPackOfTheContainedGtin) {
  // A pallet label: SSCC, content GTIN = the case of 12, 40 cases.
  auto r = resolve_scan(sample(), intent("]C1"
                                         "00106141411234567897"
                                         "0214006381333938"
                                         "3740" +
                                         GS + "10P1"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sku, "TINT");
  EXPECT_EQ(r->pack_qty, 480);
  EXPECT_EQ(r->quantity, 480);
  EXPECT_EQ(r->lot, "P1");
  // Content given as unit GTIN: 40 units.
  auto u = resolve_scan(sample(), intent("(02)04006381333931(37)40", 2));
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->quantity, 80);
}

TEST(ResolveGs1, VariableCountIsUnits) {
  auto r = resolve_scan(sample(), intent("(01)95012345678903(30)7(3103)002150"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sku, "FISH");
  EXPECT_EQ(r->pack_qty, 7);
  EXPECT_EQ(r->quantity, 7);
}

TEST(ResolveGs1, OperatorLotMustAgreeWithTheLabel) {
  auto c = sample();
  auto i = intent("(01)04006381333931(10)L1");
  i.lot = "L1";
  EXPECT_EQ(resolve_scan(c, i)->lot, "L1");
  i.lot = "L2";
  EXPECT_EQ(resolve_scan(c, i).error().message,
            "lot \"L2\" given with the scan differs from lot \"L1\" on the label, AI (10)");
  auto plain = intent("4006381333931");
  plain.lot = "L9";
  EXPECT_EQ(resolve_scan(c, plain)->lot, "L9");  // a label without a lot takes the operator's
}

TEST(ResolveGs1, InternalCodeAndSymbologyPrefix) {
  auto r = resolve_scan(sample(), intent("]C0INT-FISH"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->sku, "FISH");
  EXPECT_EQ(resolve_scan(sample(), intent("]E04006381333931"))->sku, "TINT");
}

TEST(ResolveGs1, RejectionsNameTheRule) {
  auto c = sample();
  struct Case {
    std::string code;
    std::string message;
  } cases[] = {
      {"(00)106141411234567897",
       "GS1 data \"(00)106141411234567897\" names no item: it has no GTIN, AI (01) or (02) (an "
       "SSCC identifies a logistic unit, not its contents)"},
      {"(10)L1", "GS1 data \"(10)L1\" names no item: it has no GTIN, AI (01) or (02)"},
      {"(02)14006381333938(10)L1",
       "AI (02) names the items inside a logistic unit but the label has no count, AI (37)"},
      {"(00)106141411234567897(37)5",
       "GS1 data \"(00)106141411234567897(37)5\" names no item: it has no GTIN, AI (01) or (02) "
       "(an SSCC identifies a logistic unit, not its contents)"},
      {"(02)14006381333938(37)0", "AI (37): count 0 must be positive"},
      {"(02)14006381333938(37)99999999", "AI (37): 99999999 x pack of 12 is more than 1000000000"},
      {"(01)95012345678903(30)0", "AI (30): count 0 must be positive"},
      {"(01)14006381333938(30)5",
       "AI (30): variable count 5 on GTIN 14006381333938 from AI (01), which the catalog lists "
       "as a case of 12: ambiguous, units or cases?"},
      {"(01)05012345678900", "GTIN 05012345678900 from AI (01) is not in the catalog"},
      {"(01)04006381333932", "AI (01): \"04006381333932\" fails the GTIN check digit (expected 1)"},
      {"(17)261331(01)04006381333931", "AI (17): \"261331\" is not a valid date: month 13"},
      {"DA:QTY:5", "\"DA:QTY:5\" is an operator control code, not an item"},
      {"]C0DA:UNDO", "\"]C0DA:UNDO\" is an operator control code, not an item"},
  };
  for (const auto& cs : cases) {
    auto r = resolve_scan(c, intent(cs.code));
    ASSERT_FALSE(r.ok()) << cs.code;
    EXPECT_EQ(r.error().message, cs.message) << cs.code;
  }
}

TEST(ResolveGs1, DatesNeedTheReferenceYear) {
  ScanIntent i{.code = "(01)04006381333931(17)261231"};  // reference_year left at 0
  EXPECT_EQ(resolve_scan(sample(), i).error().message,
            "AI (17): \"261231\": the century of year 26 needs the current year (reference year 0 "
            "is not 1..9999)");
  i.reference_year = 2026;
  EXPECT_EQ(resolve_scan(sample(), i)->expiry, "2026-12-31");
}

}  // namespace
}  // namespace depot
