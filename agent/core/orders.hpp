// Customer orders and their reservations: the arithmetic, pure (no I/O, no clock), so that it
// can be tested with worked numbers; store/orders_store applies it in the transaction that
// records the change (docs/replenishment.md, "Orders and reservations").
//
// An order line asks for `qty` units of one SKU. What is available (on hand - held -
// reserved) is reserved for it up to `qty`; the rest is backordered and waits for stock:
// stock that becomes available later (a receipt, a return, a released hold) goes to the
// SKU's backordered lines oldest first. A pick with the order's id takes from its
// reservation; releasing or shipping an order returns what it still reserves.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace depot::orders {

// Bounds on what the cloud may send (order.reserve): enough for a live stream's basket.
inline constexpr std::size_t kMaxLines = 200;
inline constexpr std::int64_t kMaxLineQty = 1'000'000;
inline constexpr std::size_t kMaxOrderIdBytes = 64;
inline constexpr std::size_t kMaxChannelBytes = 64;

// Why `id` is not a valid order id (1-64 printable ASCII characters, no spaces), or "".
std::string order_id_problem(std::string_view id);

// A line a customer just ordered: `qty` units of `sku`, one event of order intake (the demand
// signal a live stream shows before anyone picks; docs/replenishment.md, "Surge").
struct Intake {
  std::string sku;
  std::int64_t qty = 0;
};
// What an order command changed, for the replenishment: the SKUs whose stock line moved and
// the lines new to the gateway.
struct Change {
  std::vector<std::string> skus;
  std::vector<Intake> intake;
};

enum class LineState { kOpen, kReleased, kShipped };
std::string_view to_string(LineState s);

struct Split {
  std::int64_t reserved = 0;
  std::int64_t backordered = 0;
};

// How an order line of `qty` (> 0) splits when `available` units may be promised: reserved
// min(qty, max(available, 0)), backordered the rest.
Split reserve(std::int64_t qty, std::int64_t available);

// How `available` units (made free by a receipt, a return, ...) go to backordered lines
// (their backordered quantities, oldest first): each line gets up to what it still waits
// for. Returns the units each line gets, in the input's order.
std::vector<std::int64_t> fill_backorders(std::span<const std::int64_t> backordered,
                                          std::int64_t available);

// How much of a line's `reserved` a pick of `qty` units takes: min(qty, reserved).
std::int64_t take_reservation(std::int64_t reserved, std::int64_t qty);

}  // namespace depot::orders
