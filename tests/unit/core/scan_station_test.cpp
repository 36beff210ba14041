#include "core/scan_station.hpp"

#include <gtest/gtest.h>

namespace depot {
namespace {

constexpr std::int64_t kMs = 1'000'000;

Catalog catalog() {
  CatalogItem tint{.sku = "TINT"};
  tint.barcodes = {"4006381333931"};
  tint.cases = {{"14006381333938", 12}};
  CatalogItem vc{.sku = "VC"};
  vc.barcodes = {"INT-VC-001"};
  return std::move(Catalog::build({tint, vc})).value();
}

ScanPost post(const ScanDecision& d) {
  EXPECT_TRUE(std::holds_alternative<ScanPost>(d)) << "expected a movement";
  return std::holds_alternative<ScanPost>(d) ? std::get<ScanPost>(d) : ScanPost{};
}
std::string reject(const ScanDecision& d) {
  return std::holds_alternative<ScanReject>(d) ? std::get<ScanReject>(d).reason : "(not a reject)";
}

TEST(ScanStation, TheRoleGivesTheDefaultKind) {
  auto c = catalog();
  ScanStation dock(MovementKind::kReceive, 300);
  auto p = post(dock.on_scan(c, "14006381333938", 0, 2026));
  EXPECT_EQ(p.kind, MovementKind::kReceive);
  EXPECT_EQ(p.item.sku, "TINT");
  EXPECT_EQ(p.item.quantity, 12);
}

TEST(ScanStation, AGs1LabelCarriesLotExpiryAndSerial) {
  auto c = catalog();
  ScanStation pack(MovementKind::kPick, 300);
  auto p = post(pack.on_scan(c, "]C10104006381333931\x1d" "10LT42\x1d" "17270331" "21SN9", 0, 2026));
  EXPECT_EQ(p.item.sku, "TINT");
  EXPECT_EQ(p.item.lot, "LT42");
  EXPECT_EQ(p.item.expiry, "2027-03-31");
  EXPECT_EQ(p.item.serial, "SN9");
}

TEST(ScanStation, DoubleReadsInsideTheWindowAreOneScan) {
  auto c = catalog();
  ScanStation s(MovementKind::kPick, 300);
  post(s.on_scan(c, "4006381333931", 0, 2026));
  EXPECT_EQ(reject(s.on_scan(c, "4006381333931", 120 * kMs, 2026)),
            "double read: the same data 120 ms after the previous scan (double_read_ms 300)");
  // A scanner firing continuously stays one scan: the window restarts at each read.
  EXPECT_NE(reject(s.on_scan(c, "4006381333931", 400 * kMs, 2026)), "(not a reject)");
  // Once quiet for longer than the window, the same item scans again.
  post(s.on_scan(c, "4006381333931", 800 * kMs, 2026));
  // Different data inside the window is a different scan.
  post(s.on_scan(c, "INT-VC-001", 810 * kMs, 2026));
}

TEST(ScanStation, AWindowOfZeroCountsEveryRead) {
  auto c = catalog();
  ScanStation s(MovementKind::kPick, 0);
  post(s.on_scan(c, "4006381333931", 0, 2026));
  post(s.on_scan(c, "4006381333931", 1, 2026));
}

TEST(ScanStation, AnOrderCodeMarksTheFollowingPicksUntilClearOrAnotherMode) {
  auto c = catalog();
  ScanStation pack(MovementKind::kPick, 0);
  EXPECT_FALSE(post(pack.on_scan(c, "4006381333931", 0, 2026)).order_id);
  EXPECT_TRUE(std::holds_alternative<ScanControl>(pack.on_scan(c, "DA:ORDER:Tt-42", 1, 2026)));
  EXPECT_EQ(post(pack.on_scan(c, "4006381333931", 2, 2026)).order_id, "Tt-42");
  EXPECT_EQ(post(pack.on_scan(c, "INT-VC-001", 3, 2026)).order_id, "Tt-42");  // still
  pack.on_scan(c, "DA:ORDER:Tt-43", 4, 2026);
  EXPECT_EQ(post(pack.on_scan(c, "4006381333931", 5, 2026)).order_id, "Tt-43");
  pack.on_scan(c, "DA:CLEAR", 6, 2026);
  EXPECT_FALSE(post(pack.on_scan(c, "4006381333931", 7, 2026)).order_id);
  // Another mode drops it; an order in receive mode is refused.
  pack.on_scan(c, "DA:ORDER:Tt-44", 8, 2026);
  pack.on_scan(c, "DA:MODE:RETURN", 9, 2026);
  EXPECT_FALSE(post(pack.on_scan(c, "4006381333931", 10, 2026)).order_id);
  EXPECT_NE(reject(pack.on_scan(c, "DA:ORDER:Tt-45", 11, 2026)).find("an order goes with picks"),
            std::string::npos);
  EXPECT_NE(reject(pack.on_scan(c, "DA:ORDER:has space", 12, 2026)).find("order id"),
            std::string::npos);
}

TEST(ScanStation, ModeAndQuantityControlCodes) {
  auto c = catalog();
  ScanStation s(MovementKind::kPick, 300);
  EXPECT_EQ(std::get<ScanControl>(s.on_scan(c, "DA:MODE:RETURN", 0, 2026)).message, "mode return");
  EXPECT_EQ(std::get<ScanControl>(s.on_scan(c, "DA:QTY:5", 1000 * kMs, 2026)).message,
            "quantity 5 for the next scan");
  auto p = post(s.on_scan(c, "4006381333931", 2000 * kMs, 2026));
  EXPECT_EQ(p.kind, MovementKind::kReturn);
  EXPECT_EQ(p.item.quantity, 5);
  // The quantity applied once; the mode stays until CLEAR.
  auto q = post(s.on_scan(c, "INT-VC-001", 3000 * kMs, 2026));
  EXPECT_EQ(q.kind, MovementKind::kReturn);
  EXPECT_EQ(q.item.quantity, 1);
  EXPECT_EQ(std::get<ScanControl>(s.on_scan(c, "DA:CLEAR", 4000 * kMs, 2026)).message,
            "cleared: mode pick");
  EXPECT_EQ(post(s.on_scan(c, "4006381333931", 5000 * kMs, 2026)).kind, MovementKind::kPick);
}

TEST(ScanStation, CountModeNeedsAQuantity) {
  auto c = catalog();
  ScanStation s(MovementKind::kCount, 300);
  EXPECT_EQ(reject(s.on_scan(c, "4006381333931", 0, 2026)),
            "count mode needs the counted quantity: scan a QTY code before the item");
  s.on_scan(c, "DA:QTY:3", 1000 * kMs, 2026);
  auto p = post(s.on_scan(c, "14006381333938", 2000 * kMs, 2026));
  EXPECT_EQ(p.kind, MovementKind::kCount);
  EXPECT_EQ(p.item.quantity, 36);  // 3 cases of 12 counted
}

TEST(ScanStation, UndoReversesTheLastRecordedMovementOnce) {
  auto c = catalog();
  ScanStation s(MovementKind::kPick, 300);
  EXPECT_EQ(reject(s.on_scan(c, "DA:UNDO", 0, 2026)), "UNDO: nothing to undo at this scanner");
  post(s.on_scan(c, "4006381333931", 1000 * kMs, 2026));
  s.recorded("M1");
  EXPECT_EQ(std::get<ScanUndo>(s.on_scan(c, "DA:UNDO", 2000 * kMs, 2026)).movement_id, "M1");
  EXPECT_EQ(reject(s.on_scan(c, "DA:UNDO", 3000 * kMs, 2026)),
            "UNDO: nothing to undo at this scanner");
}

TEST(ScanStation, RejectsNameTheRule) {
  auto c = catalog();
  ScanStation s(MovementKind::kPick, 300);
  EXPECT_EQ(reject(s.on_scan(c, "4006381333932", 0, 2026)),
            "barcode \"4006381333932\" fails the GTIN-13 check digit (expected 1)");
  EXPECT_EQ(reject(s.on_scan(c, "INT-NOPE", 1000 * kMs, 2026)),
            "barcode \"INT-NOPE\" is not in the catalog");
  EXPECT_NE(reject(s.on_scan(c, "DA:QTY:0", 2000 * kMs, 2026)), "(not a reject)");
}

TEST(EscapeBytes, KeepsEveryByteReadable) {
  EXPECT_EQ(escape_bytes("0104006381333931\x1d" "10A"), "0104006381333931\\x1d10A");
  EXPECT_EQ(escape_bytes(std::string("a\\b\0\xff", 5)), "a\\\\b\\x00\\xff");
}

}  // namespace
}  // namespace depot
