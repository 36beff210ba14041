// Lots and expiry, worked numbers (docs/replenishment.md, "Lots and expiry").
#include "core/lots.hpp"

#include <gtest/gtest.h>

namespace depot::lots {
namespace {

constexpr const char* kToday = "2026-12-05";

// Three lots of one SKU: A expires first, C has no expiry, OLD expired yesterday.
std::vector<Lot> shelf() {
  return {{"C", std::nullopt, 10, 0, 1},
          {"B", "2027-03-01", 8, 0, 2},
          {"A", "2026-12-10", 5, 2, 3},  // 2 of A held: 3 free
          {"OLD", "2026-12-04", 4, 0, 0}};
}

TEST(LotPicking, FefoTakesTheFirstExpiryFirstSkipsHeldAndExpiredThenLotsWithoutExpiry) {
  // A pick of 15: A's 3 free (expires 12-10), then B's 8 (03-01), then 4 of C (no expiry).
  // OLD (expired) is never chosen.
  auto d = deltas(MovementKind::kPick, -15, 0, std::nullopt, std::nullopt, shelf(), Picking::kFefo,
                  kToday);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0], (Delta{"A", "2026-12-10", -3, 0}));
  EXPECT_EQ(d[1], (Delta{"B", "2027-03-01", -8, 0}));
  EXPECT_EQ(d[2], (Delta{"C", std::nullopt, -4, 0}));
}

TEST(LotPicking, WhatTheLotsCannotCoverIsLeftToTheUnlottedRemainder) {
  // 3 + 8 + 10 = 21 free in unexpired lots: a pick of 25 leaves 4 outside every lot.
  auto d = deltas(MovementKind::kPick, -25, 0, std::nullopt, std::nullopt, shelf(), Picking::kFefo,
                  kToday);
  std::int64_t from_lots = 0;
  for (const auto& x : d) from_lots += x.on_hand;
  EXPECT_EQ(from_lots, -21);
  for (const auto& x : d) EXPECT_NE(x.lot, "OLD");
}

TEST(LotPicking, ACountWithoutALotShrinksExpiredLotsLastAPickNever) {
  // 21 free in unexpired lots; a count 25 below the book takes them, then OLD's 4.
  auto d = deltas(MovementKind::kCount, -25, 0, std::nullopt, std::nullopt, shelf(),
                  Picking::kFefo, kToday);
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[3], (Delta{"OLD", "2026-12-04", -4, 0}));
  // Expired units never make available go below zero, whatever the lots say.
  StockLine line{5, 0, 0, 0, 9};
  EXPECT_EQ(line.unusable(), 5);
  EXPECT_EQ(line.available(), 0);
  line.reserved = 2;
  EXPECT_EQ(line.available(), -2) << "reservations made before it expired are kept";
}

TEST(LotPicking, FifoTakesTheFirstReceivedAndNoneLeavesTheLotsAlone) {
  // FIFO by first receipt: OLD (seq 0) is expired, so C (seq 1) first, then B.
  auto d = deltas(MovementKind::kPick, -12, 0, std::nullopt, std::nullopt, shelf(), Picking::kFifo,
                  kToday);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], (Delta{"C", std::nullopt, -10, 0}));
  EXPECT_EQ(d[1], (Delta{"B", "2027-03-01", -2, 0}));
  EXPECT_TRUE(deltas(MovementKind::kPick, -12, 0, std::nullopt, std::nullopt, shelf(),
                     Picking::kNone, kToday)
                  .empty());
}

TEST(LotPicking, ANamedLotTakesItAllEvenAnExpiredOneAndKeepsItsFirstExpiry) {
  auto d = deltas(MovementKind::kPick, -4, 0, std::string("OLD"), std::nullopt, shelf(),
                  Picking::kFefo, kToday);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0], (Delta{"OLD", "2026-12-04", -4, 0}));
  // A receipt of a known lot with another expiry on its label keeps the lot's expiry.
  d = deltas(MovementKind::kReceive, 6, 0, std::string("B"), std::string("2027-09-09"), shelf(),
             Picking::kFefo, kToday);
  EXPECT_EQ(d[0], (Delta{"B", "2027-03-01", 6, 0}));
  // A new lot takes the label's.
  d = deltas(MovementKind::kReceive, 6, 0, std::string("N"), std::string("2027-09-09"), shelf(),
             Picking::kFefo, kToday);
  EXPECT_EQ(d[0], (Delta{"N", "2027-09-09", 6, 0}));
  // Stock in without a lot is unlotted: no delta.
  EXPECT_TRUE(deltas(MovementKind::kReceive, 6, 0, std::nullopt, std::nullopt, shelf(),
                     Picking::kFefo, kToday)
                  .empty());
}

TEST(LotPicking, HoldsTakeFreeUnitsAndReleasesAndWriteoffsTakeHeldUnits) {
  // Hold 5: A's 3 free, then 2 of B.
  auto d = deltas(MovementKind::kHold, 0, 5, std::nullopt, std::nullopt, shelf(), Picking::kFefo,
                  kToday);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], (Delta{"A", "2026-12-10", 0, 3}));
  EXPECT_EQ(d[1], (Delta{"B", "2027-03-01", 0, 2}));
  // Write off 2: A holds 2; the writeoff takes them from held and from on hand.
  d = deltas(MovementKind::kWriteoff, -2, -2, std::nullopt, std::nullopt, shelf(), Picking::kFefo,
             kToday);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0], (Delta{"A", "2026-12-10", -2, -2}));
  d = deltas(MovementKind::kRelease, 0, -1, std::nullopt, std::nullopt, shelf(), Picking::kFefo,
             kToday);
  EXPECT_EQ(d[0], (Delta{"A", "2026-12-10", 0, -1}));
}

TEST(LotPicking, AnUndoReversesExactlyTheLotsOfTheMovementItUndoes) {
  std::vector<Delta> picked{{"A", "2026-12-10", -3, 0}, {"B", "2027-03-01", -2, 0}};
  auto d = deltas(MovementKind::kAdjust, 5, 0, std::string("IGNORED"), std::nullopt, shelf(),
                  Picking::kFefo, kToday, &picked);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0], (Delta{"A", "2026-12-10", 3, 0}));
  EXPECT_EQ(d[1], (Delta{"B", "2027-03-01", 2, 0}));
}

TEST(LotExpiry, ExpiredFromTheDayAfterItsDateAndNotAvailable) {
  Lot l{"X", "2026-12-05", 10, 3, 0};
  EXPECT_FALSE(expired(l, "2026-12-05")) << "usable through its expiry date";
  EXPECT_TRUE(expired(l, "2026-12-06"));
  EXPECT_EQ(expired_units(shelf(), kToday), 4) << "OLD's 4";
  EXPECT_EQ(expired_units(shelf(), "2026-12-11"), 4 + 3) << "and A's 3 free (2 are held)";
  EXPECT_EQ(days_left("2026-12-10", kToday), 5);
  EXPECT_EQ(days_left("2026-12-04", kToday), -1);
  EXPECT_EQ(days_left("2027-03-01", kToday), 86);
  EXPECT_FALSE(days_left("2026-02-30", kToday)) << "no such day";
  EXPECT_FALSE(days_left("soon", kToday));
  EXPECT_EQ(add_days("2026-12-30", 7), "2027-01-06");
  EXPECT_EQ(add_days("2028-02-28", 1), "2028-02-29");
}

TEST(LotPicking, PickingNamesRoundTrip) {
  for (auto p : {Picking::kFefo, Picking::kFifo, Picking::kNone})
    EXPECT_EQ(parse_picking(to_string(p)), p);
  EXPECT_FALSE(parse_picking("lifo"));
}

}  // namespace
}  // namespace depot::lots
