// Customer orders in SQLite (schema v13, table order_lines): reserving, releasing and
// shipping them, and what the ledger does for them when stock moves (a pick with an order
// id takes its reservation; stock that becomes available fills backorders oldest first).
// Every change writes its `orders` outbox record in the caller's transaction. The arithmetic
// is core/orders. Thread-safety: use from the thread that owns the Database.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/movement.hpp"
#include "core/orders.hpp"
#include "core/tz.hpp"
#include "store/database.hpp"

namespace depot::store {

struct OrderLineRequest {
  std::string sku;
  std::int64_t qty = 0;
};
struct OrderRequest {
  std::string order_id, channel;
  std::vector<OrderLineRequest> lines;
};

struct OrderLine {
  std::string order_id, sku, channel;
  std::int64_t qty = 0, reserved = 0, backordered = 0, picked = 0;
  orders::LineState state = orders::LineState::kOpen;
  std::string created_at, updated_at;
  bool unchanged = false;  // reserve: this line was reserved before, as asked (idempotent)
};
nlohmann::json order_line_json(const OrderLine& l);

// Reserves each line (core/orders reserve) against the SKU's availability, in order. A line
// already recorded for this (order, SKU) with the same quantity is left as it is (marked
// `unchanged`): the cloud may send an order again. An Error (a SKU not active, a line
// recorded with another quantity, an order already closed) changes nothing once the
// caller's guard rolls back.
// `cause` makes the `orders` record's id unique: the command's id. Expired lots are not
// available: `zone` is the site's calendar (what "today" is).
Expected<std::vector<OrderLine>> reserve_order(const Txn& txn, const OrderRequest& request,
                                               std::string_view now, std::string_view cause,
                                               const tz::Zone& zone = tz::utc());
// Closes every open line of `order_id` as released (cancelled) or shipped: what the lines
// still reserve goes back to available, what they wait for is no longer backordered. Error
// when the order has no open line (never seen, or closed before: the error says which).
Expected<std::vector<OrderLine>> close_order(const Txn& txn, std::string_view order_id,
                                             orders::LineState to, std::string_view now,
                                             std::string_view cause,
                                             const tz::Zone& zone = tz::utc());

// For the ledger, inside its transaction. A pick of `qty` for `order_id` takes the line's
// reservation (up to `qty`) and, past it, what the line waited for (a line never waits for
// more than it has still to pick). Zero for both when the order has no open line for the SKU.
struct PickTaken {
  std::int64_t reserved = 0, backordered = 0;
  bool line = false;  // the order had an open line for the SKU
};
Expected<PickTaken> take_for_pick(Database& db, std::string_view order_id, std::string_view sku,
                                  std::int64_t qty, std::string_view now);
// UNDO of a pick for `order_id` that took `reserved` of its reservation and picked `picked`:
// the line (when still open) gets them back. Returns the units reserved again.
Expected<std::int64_t> give_back(Database& db, std::string_view order_id, std::string_view sku,
                                 std::int64_t reserved, std::int64_t picked, std::string_view now);
// `available` units of `sku` are free: they go to its backordered lines oldest first. Returns
// the units so reserved (the caller moves them from backordered to reserved in stock).
// `cause` (the movement's id, or the closing command's) makes each record's id unique.
Expected<std::int64_t> fill_backorders(Database& db, std::string_view sku, std::int64_t available,
                                       std::string_view now, std::string_view cause);

struct OrderFilter {
  std::optional<std::string> order_id;
  std::optional<std::string> sku;
  bool open_only = true;
  std::int64_t limit = 0;  // the newest this many; 0 = all
};
Expected<std::vector<OrderLine>> order_lines(Database& db, const OrderFilter& filter);

}  // namespace depot::store
