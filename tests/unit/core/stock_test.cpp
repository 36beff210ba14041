#include "core/stock.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace depot {
namespace {
using test::movement;

TEST(StockPost, ReceivePickReturnMoveOnHand) {
  StockLine line{10, 0};
  auto p = stock::post(line, movement("a", "S", MovementKind::kReceive, 5));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->on_hand_delta, 5);
  line = stock::apply(line, *p);
  p = stock::post(line, movement("b", "S", MovementKind::kPick, 3));
  line = stock::apply(line, *p);
  p = stock::post(line, movement("c", "S", MovementKind::kReturn, 1));
  line = stock::apply(line, *p);
  EXPECT_EQ(line.on_hand, 13);
  EXPECT_EQ(line.available(), 13);
}

// Issue 13 item 14: the ledger itself refuses a lot GS1 would not allow (a cloud stock.count
// or any other door).
TEST(StockPost, ALotLongerThanTwentyCharactersIsRefused) {
  auto m = movement("a", "S", MovementKind::kCount, 5);
  m.lot = std::string(10000, 'x');
  auto p = stock::post(StockLine{}, m);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("GS1 AI (10) allows at most 20"), std::string::npos);
  m.lot = "LOT 1";
  EXPECT_FALSE(stock::post(StockLine{}, m).ok());
  m.lot = std::string(20, 'x');
  EXPECT_TRUE(stock::post(StockLine{}, m).ok());
}

TEST(StockPost, CountRecordsTheVariance) {
  StockLine line{40, 0};
  auto p = stock::post(line, movement("c", "S", MovementKind::kCount, 37));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->counted, 37);
  EXPECT_EQ(p->on_hand_delta, -3);
  EXPECT_EQ(stock::apply(line, *p).on_hand, 37);
  // A count above the book is a positive variance; a count of zero empties the location.
  EXPECT_EQ(stock::post(line, movement("d", "S", MovementKind::kCount, 45))->on_hand_delta, 5);
  EXPECT_EQ(stock::post(line, movement("e", "S", MovementKind::kCount, 0))->on_hand_delta, -40);
}

// A freezer alarm held lot L (10 on hand, 10 held); QA threw the units away and a stock-taker
// counted L at 0: on hand 0, held still 10, and the write-off then took on hand to -10.
// Held units leave by their hold's write-off or release; a count may not go under them.
TEST(StockPost, ACountBelowWhatIsHeldIsRefused) {
  StockLine line{10, 10};
  auto lot_count = movement("c", "S", MovementKind::kCount, 0);
  lot_count.lot = "L";
  auto p = stock::post(line, lot_count, 10);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message,
            "count 0 leaves 0 on hand, below the 10 under quality hold: write off (or release) "
            "the held units first (holds writeoff), then count");
  // 30 on hand, 10 of them held: a count of 10 keeps the held units, one of 9 does not.
  EXPECT_TRUE(stock::post(StockLine{30, 10}, movement("d", "S", MovementKind::kCount, 10)).ok());
  EXPECT_FALSE(stock::post(StockLine{30, 10}, movement("e", "S", MovementKind::kCount, 9)).ok());
  // On hand already below held (a mistaken pick of held units): a count that confirms or
  // raises it is taken; one that lowers it further is not.
  EXPECT_TRUE(stock::post(StockLine{7, 10}, movement("f", "S", MovementKind::kCount, 7)).ok());
  EXPECT_TRUE(stock::post(StockLine{7, 10}, movement("g", "S", MovementKind::kCount, 9)).ok());
  EXPECT_FALSE(stock::post(StockLine{7, 10}, movement("h", "S", MovementKind::kCount, 6)).ok());
}

TEST(StockPost, PickBelowZeroIsRecordedAndFlagged) {
  StockLine line{2, 0};
  auto p = stock::post(line, movement("p", "S", MovementKind::kPick, 5));
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->negative);
  EXPECT_EQ(stock::apply(line, *p).on_hand, -3);
}

TEST(StockPost, HoldReleaseAndWriteoffMoveHeld) {
  StockLine line{20, 0};
  line = stock::apply(line, *stock::post(line, movement("h", "S", MovementKind::kHold, 20)));
  EXPECT_EQ(line.available(), 0);
  line = stock::apply(line, *stock::post(line, movement("r", "S", MovementKind::kRelease, 5)));
  EXPECT_EQ(line.held, 15);
  line = stock::apply(line, *stock::post(line, movement("w", "S", MovementKind::kWriteoff, 15)));
  EXPECT_EQ(line.on_hand, 5);
  EXPECT_EQ(line.held, 0);
  EXPECT_EQ(line.available(), 5);
}

TEST(StockPost, QuantityRulesAreNamed) {
  StockLine line{1, 0};
  auto p = stock::post(line, movement("x", "S", MovementKind::kPick, -3));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message, "quantity -3 must be positive for a pick");
  EXPECT_EQ(stock::post(line, movement("x", "S", MovementKind::kAdjust, 0)).error().message,
            "quantity 0 must not be zero for an adjust");
  EXPECT_EQ(stock::post(line, movement("x", "S", MovementKind::kCount, -1)).error().message,
            "quantity -1 must not be negative for a count");
  EXPECT_EQ(stock::post(line, movement("x", "S", MovementKind::kRelease, 2)).error().message,
            "quantity 2 exceeds the 0 held for a release");
}

}  // namespace
}  // namespace depot
