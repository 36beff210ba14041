#include "core/replenish/position.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace depot::replenish {
namespace {
using ::testing::ElementsAre;

TEST(Position, AvailableExcludesHeldAndPositionAddsOnOrder) {
  // 120 on hand, 20 of them on quality hold, 300 acknowledged and not yet delivered:
  // available = 120 - 20 = 100, position = 100 + 300 = 400.
  const auto p = position_of(StockLine{120, 20}, 300);
  EXPECT_EQ(p.available(), 100);
  EXPECT_EQ(p.position(), 400);
}

TEST(Position, ExpiredUnitsAreNeitherAvailableNorInThePosition) {
  // 120 on hand, 20 held, 30 of an expired lot on the shelf, 10 reserved, 5 backordered, 300
  // on order: available = 120 - 20 - 10 - 30 = 60, position = 60 - 5 + 300 = 355.
  const auto p = position_of(StockLine{120, 20, 10, 5, 30}, 300);
  EXPECT_EQ(p.available(), 60);
  EXPECT_EQ(p.position(), 355);
  // Expired units count at most what is on hand and not held (StockLine::unusable).
  EXPECT_EQ(position_of(StockLine{50, 20, 0, 0, 45}, 0).position(), 0);
}

TEST(Position, OnOrderCountsOnlyWhatIsStillOutstanding) {
  const std::vector<OpenOrder> orders{{"PO-1", 100, 30, 10},
                                      {"PO-2", 200, 50, 0},
                                      {"PO-3", 300, 40, 45}};  // over-delivered: owes nothing
  EXPECT_EQ(on_order_of(orders), 20 + 50 + 0);
}

TEST(Position, ReceiptFillsTheOldestOrderFirst) {
  // Listed newest first on purpose: PO-2 (acknowledged at 200) then PO-1 (at 100).
  const std::vector<OpenOrder> orders{{"PO-2", 200, 50, 0}, {"PO-1", 100, 30, 10}};
  // 40 units: PO-1 owes 20 and takes them, the other 20 go to PO-2.
  auto m = match_receipt(orders, 40);
  EXPECT_THAT(m.applied, ElementsAre(20, 20));
  EXPECT_EQ(m.unmatched, 0);
  // 100 units: 20 + 50 are owed, 30 match no order.
  m = match_receipt(orders, 100);
  EXPECT_THAT(m.applied, ElementsAre(50, 20));
  EXPECT_EQ(m.unmatched, 30);
  // 5 units stay with the oldest.
  EXPECT_THAT(match_receipt(orders, 5).applied, ElementsAre(0, 5));
}

TEST(Position, ReceiptWithoutOpenOrdersIsUnmatched) {
  auto m = match_receipt({}, 12);
  EXPECT_TRUE(m.applied.empty());
  EXPECT_EQ(m.unmatched, 12);
}

}  // namespace
}  // namespace depot::replenish
