#include "core/replenish/position.hpp"

#include <algorithm>
#include <numeric>

namespace depot::replenish {

std::int64_t on_order_of(std::span<const OpenOrder> orders) {
  std::int64_t sum = 0;
  for (const auto& o : orders) sum += o.outstanding();
  return sum;
}

Position position_of(const StockLine& stock, std::int64_t on_order) {
  return Position{stock.on_hand,  stock.held,        on_order,
                  stock.reserved, stock.backordered, stock.unusable()};
}

ReceiptMatch match_receipt(std::span<const OpenOrder> orders, std::int64_t quantity) {
  ReceiptMatch m;
  m.applied.assign(orders.size(), 0);
  std::vector<std::size_t> oldest_first(orders.size());
  std::iota(oldest_first.begin(), oldest_first.end(), std::size_t{0});
  std::stable_sort(oldest_first.begin(), oldest_first.end(), [&](std::size_t a, std::size_t b) {
    return orders[a].acknowledged_ms < orders[b].acknowledged_ms;
  });
  std::int64_t left = quantity;
  for (std::size_t i : oldest_first) {
    if (left <= 0) break;
    const std::int64_t take = std::min(left, orders[i].outstanding());
    m.applied[i] = take;
    left -= take;
  }
  m.unmatched = std::max<std::int64_t>(left, 0);
  return m;
}

}  // namespace depot::replenish
