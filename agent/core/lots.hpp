// Lots and expiry: which lots a movement changes, pure (no I/O, no clock) so it can be tested
// with worked numbers; store/ledger applies it in the transaction that records the movement
// (docs/replenishment.md, "Lots and expiry").
//
// Stock is kept per (SKU, lot) beside the SKU's total. A movement that names its lot changes
// that lot. One that does not and takes stock out (a pick, a negative adjust or count, a hold)
// takes it from the SKU's lots in the configured order: FEFO (first expiry first, lots
// without an expiry after those with one), FIFO (first received first) or none (the lots are
// left alone: stock leaves the unlotted remainder). An expired lot is never chosen: expired
// stock is not available, and taking it must name its lot. What the lots cannot cover comes
// from the unlotted remainder (SKU total minus the lots). Stock put in without a lot is
// unlotted. An UNDO reverses exactly the lot changes of the movement it undoes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/movement.hpp"

namespace depot::lots {

enum class Picking { kFefo, kFifo, kNone };
std::string_view to_string(Picking p);
std::optional<Picking> parse_picking(std::string_view s);

// One lot of one SKU as stock keeps it. `expiry` is an ISO date (YYYY-MM-DD): the last day
// the lot may be used. `first_seq` orders lots by first receipt (FIFO).
struct Lot {
  std::string lot;
  std::optional<std::string> expiry;
  std::int64_t on_hand = 0, held = 0;
  std::int64_t first_seq = 0;
  std::int64_t free() const { return on_hand > held ? on_hand - held : 0; }
};

// Whether `lot` is past its expiry on `today` (ISO date, the site's calendar day).
bool expired(const Lot& lot, std::string_view today);
// Units of `lots` that are on hand, not held and expired on `today`: not available.
std::int64_t expired_units(std::span<const Lot> lots, std::string_view today);
// Whole days from `today` to `expiry` (0: it expires at the end of today; negative: expired);
// nullopt when either is not an ISO date.
std::optional<std::int64_t> days_left(std::string_view expiry, std::string_view today);

// The ISO date `days` after `date` (ISO); `date` itself when it is not one.
std::string add_days(std::string_view date, std::int64_t days);

// A signed change to one lot (a movement's part in it).
struct Delta {
  std::string lot;
  std::optional<std::string> expiry;
  std::int64_t on_hand = 0, held = 0;
  bool operator==(const Delta&) const = default;
};

// The lot changes of a movement of `kind` that changes on hand by `on_hand_delta` and held by
// `held_delta` (its Posting), against the SKU's `lots` now.
//  - `lot` named: all of it goes to that lot (a count's variance is against the lot: the
//    caller computes it with count_variance); `expiry` is kept when the lot had none.
//  - `undoing`: the deltas of the movement it undoes, negated (`lot` is ignored).
//  - otherwise: decreases of free stock (pick, adjust, count, writeoff's on hand) and holds
//    come from the lots in `picking` order, unexpired only; releases and writeoffs take held
//    units from the lots that hold them in the same order; increases are unlotted. A count or
//    adjust (what is really on the shelf) takes from expired lots last; a pick never does.
// Lots with no change are left out; what the lots cannot cover is unlotted (no delta).
std::vector<Delta> deltas(MovementKind kind, std::int64_t on_hand_delta, std::int64_t held_delta,
                          const std::optional<std::string>& lot,
                          const std::optional<std::string>& expiry, std::span<const Lot> lots,
                          Picking picking, std::string_view today,
                          const std::vector<Delta>* undoing = nullptr);

// A count of `lot`: the variance against what the lot has on hand (0 when unknown).
std::int64_t lot_on_hand(std::span<const Lot> lots, std::string_view lot);

// The lots in the order stock is taken from them (unexpired only).
std::vector<const Lot*> taking_order(std::span<const Lot> lots, Picking picking,
                                     std::string_view today);

}  // namespace depot::lots
