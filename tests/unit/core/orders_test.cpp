// Orders and reservations: the arithmetic with worked numbers (docs/replenishment.md,
// "Orders and reservations").
#include "core/orders.hpp"

#include <gtest/gtest.h>

#include "core/replenish/position.hpp"

namespace depot::orders {
namespace {

TEST(OrderArithmetic, AnOrderIsReservedUpToWhatIsAvailableAndBackorderedForTheRest) {
  // 30 available, an order for 12: all reserved.
  EXPECT_EQ(reserve(12, 30).reserved, 12);
  EXPECT_EQ(reserve(12, 30).backordered, 0);
  // 8 available, an order for 12: 8 reserved, 4 backordered.
  EXPECT_EQ(reserve(12, 8).reserved, 8);
  EXPECT_EQ(reserve(12, 8).backordered, 4);
  // Nothing (or less than nothing: an oversold SKU) available: all backordered.
  EXPECT_EQ(reserve(5, 0).backordered, 5);
  EXPECT_EQ(reserve(5, -3).reserved, 0);
  EXPECT_EQ(reserve(5, -3).backordered, 5);
}

TEST(OrderArithmetic, FreedStockFillsBackordersOldestFirst) {
  // Three orders wait for 4, 10 and 3; a receipt frees 9: the first gets 4, the second 5,
  // the third nothing.
  const std::int64_t waiting[] = {4, 10, 3};
  EXPECT_EQ(fill_backorders(waiting, 9), (std::vector<std::int64_t>{4, 5, 0}));
  EXPECT_EQ(fill_backorders(waiting, 100), (std::vector<std::int64_t>{4, 10, 3}));
  EXPECT_EQ(fill_backorders(waiting, 0), (std::vector<std::int64_t>{0, 0, 0}));
}

TEST(OrderArithmetic, APickTakesItsOrdersReservationUpToWhatIsReserved) {
  EXPECT_EQ(take_reservation(12, 5), 5);
  EXPECT_EQ(take_reservation(3, 5), 3);  // picked more than reserved: the rest is unreserved stock
  EXPECT_EQ(take_reservation(0, 5), 0);
}

TEST(OrderArithmetic, OrderIdsAreBoundedPrintableAscii) {
  EXPECT_EQ(order_id_problem("TT-20261111-000042"), "");
  EXPECT_NE(order_id_problem(""), "");
  EXPECT_NE(order_id_problem("has space"), "");
  EXPECT_NE(order_id_problem(std::string(65, 'x')), "");
  EXPECT_NE(order_id_problem("caf\xc3\xa9"), "");
}

TEST(OrderArithmetic, ReservationsAndBackordersComeOffAvailableAndPosition) {
  // On hand 100, held 10, reserved 30, backordered 5, on order 40:
  // available = 100 - 10 - 30 = 60; position = 60 - 5 + 40 = 95.
  StockLine s{100, 10, 30, 5};
  EXPECT_EQ(s.available(), 60);
  auto p = replenish::position_of(s, 40);
  EXPECT_EQ(p.available(), 60);
  EXPECT_EQ(p.position(), 95);
}

}  // namespace
}  // namespace depot::orders
