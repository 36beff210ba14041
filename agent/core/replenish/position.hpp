// Where a SKU stands for replenishment. `on_hand` is what the ledger counts on the shelf,
// `held` the part of it under a quality hold, `reserved` the part promised to open customer
// orders, `expired` the units of expired lots on the shelf and not held (StockLine::unusable),
// `available` = on_hand - held - reserved - expired what may still be sold, `backordered` what
// orders asked for beyond it, `on_order` what suppliers have acknowledged and not yet
// delivered, and `position` = available - backordered + on_order the figure a reorder decision
// compares with the reorder point (the textbook inventory position: on hand + on order -
// committed - backorders).
// A receipt that does not name its order is matched to the SKU's open orders oldest first.
// Pure values and functions; no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/movement.hpp"

namespace depot::replenish {

// An order a supplier has acknowledged and not yet fully delivered.
struct OpenOrder {
  std::string order_number;          // the supplier's
  std::int64_t acknowledged_ms = 0;  // unix ms; orders are matched oldest first
  std::int64_t quantity = 0;         // as acknowledged
  std::int64_t received = 0;         // delivered so far

  std::int64_t outstanding() const { return quantity > received ? quantity - received : 0; }
};

struct Position {
  std::int64_t on_hand = 0;
  std::int64_t held = 0;
  std::int64_t on_order = 0;
  std::int64_t reserved = 0;
  std::int64_t backordered = 0;
  std::int64_t expired = 0;

  std::int64_t available() const { return on_hand - held - reserved - expired; }
  std::int64_t position() const { return available() - backordered + on_order; }
};

// The sum of what `orders` still owe.
std::int64_t on_order_of(std::span<const OpenOrder> orders);

Position position_of(const StockLine& stock, std::int64_t on_order);

// How one receipt of `quantity` units is spread over open orders.
struct ReceiptMatch {
  std::vector<std::int64_t> applied;  // units credited to each order, in the input's order
  std::int64_t unmatched = 0;         // units beyond everything outstanding (over-delivery or
                                      // a receipt no order asked for)
};

// Credits `quantity` (REQUIRES: >= 0) to `orders` oldest acknowledgement first (ties in the
// order given), each up to its outstanding quantity.
ReceiptMatch match_receipt(std::span<const OpenOrder> orders, std::int64_t quantity);

}  // namespace depot::replenish
