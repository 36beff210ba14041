// A stock movement: one physical event (a receipt, a pick, a count, ...) as the ledger
// records it. Movements are append-only; a correction is a new movement, never an edit.
// Plain values; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace depot {

enum class MovementKind {
  kReceive,   // goods in: +quantity on hand
  kPick,      // goods out: -quantity on hand (may go negative: physical reality wins)
  kReturn,    // customer return: +quantity on hand
  kAdjust,    // signed correction of on hand
  kCount,     // cycle count: sets on hand to the counted quantity; the variance is the movement
  kHold,      // quality hold: +quantity held (stays on hand, leaves available)
  kRelease,   // hold released: -quantity held
  kWriteoff,  // held stock destroyed: -quantity held and -quantity on hand
};

std::string_view to_string(MovementKind kind);

// A lot (batch) number as GS1 AI (10) allows it: 1 to 20 characters of printable ASCII. The
// same rule for scanned labels, the CLI (`scan --lot`), cloud commands and the ledger.
inline constexpr std::size_t kMaxLotLength = 20;
// Why `lot` is not a valid lot number, or "" when it is.
std::string lot_problem(std::string_view lot);
std::optional<MovementKind> parse_movement_kind(std::string_view s);

// What a caller asks the ledger to record. `quantity` is a magnitude (> 0) for every kind but
// `adjust` (signed, non-zero) and `count` (the counted quantity, >= 0).
struct MovementRequest {
  std::string id;      // stable and unique: the same id posted twice changes stock once
  std::string sku;
  MovementKind kind = MovementKind::kReceive;
  std::int64_t quantity = 0;
  std::string source;  // scanner id, "cli" or "cloud"
  std::optional<std::string> lot;
  std::optional<std::string> expiry;  // ISO date YYYY-MM-DD
  std::optional<std::string> serial;
  std::string wall_time;   // RFC 3339 UTC, e.g. 2026-11-23T14:34:00.123Z
  std::int64_t mono_ns = 0;  // CLOCK_MONOTONIC at capture, for ordering within a boot
  std::optional<std::string> reverses;  // for a compensating movement (UNDO): the id it undoes
  std::optional<std::string> order_id;  // a pick for this customer order: takes its reservation
  // No lot named and none to be chosen: the unlotted remainder only (a quality hold's part
  // outside every lot, and the end of such a hold; core/lots).
  bool unlotted = false;
};

// The per-SKU stock projection the ledger keeps beside its movements. `reserved` is stock
// promised to open customer orders (still on hand, no longer available); `backordered` what
// open orders asked for beyond what was available, waiting for stock (core/orders.hpp).
struct StockLine {
  std::int64_t on_hand = 0;
  std::int64_t held = 0;
  std::int64_t reserved = 0;
  std::int64_t backordered = 0;
  // Units of expired lots still on hand and not held (core/lots): on the shelf, not available.
  // Computed for the site's day when read, never stored.
  std::int64_t expired = 0;
  // Expired units count at most what is on hand and not held (lots recorded beyond the SKU's
  // total, e.g. picks of a lot scanned without it, never make available go below that).
  std::int64_t unusable() const {
    const auto free = on_hand - held;
    return free <= 0 ? 0 : (expired < free ? expired : free);
  }
  std::int64_t available() const { return on_hand - held - reserved - unusable(); }
};

// What a movement does to a StockLine, computed before it is written.
struct Posting {
  std::int64_t on_hand_delta = 0;  // the signed quantity stored on the movement
  std::int64_t held_delta = 0;
  std::optional<std::int64_t> counted;  // for a count: the quantity counted
  bool negative = false;  // on hand is below zero after this movement (flagged, not refused)
  bool serial_repeat = false;  // a pick of a serial that was already picked (flagged)
  std::int64_t reservation_taken = 0;  // a pick for an order: units of its reservation it took
  // A pick for an order with no open line for its SKU on this gateway (an order id mistyped,
  // or one the cloud has not sent): recorded as picked, it took nothing reserved, so the
  // real order's reservation still holds its units. Flagged to the operator, not refused.
  bool order_unmatched = false;
};

}  // namespace depot
