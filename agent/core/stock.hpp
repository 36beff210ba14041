// The stock projection: how one movement changes one SKU's on hand and held quantities.
// This is the arithmetic of the ledger, kept pure so it can be tested with worked numbers;
// store/ledger applies it inside the SQLite transaction that records the movement.
#pragma once

#include "core/error.hpp"
#include "core/movement.hpp"

namespace depot::stock {

// Validates `request` against its kind's quantity rule and computes its posting against the
// SKU's current line. Errors name the rule broken (e.g. "quantity -3 must be positive for a
// pick"). A pick below zero is NOT an error: it is posted and flagged `negative`.
// A count that names its lot counts that lot: `lot_on_hand` is what the lot had, and the
// variance is against it (the SKU's on hand changes by the same variance).
Expected<Posting> post(const StockLine& before, const MovementRequest& request,
                       std::optional<std::int64_t> lot_on_hand = std::nullopt);

// `before` with `posting` applied.
StockLine apply(StockLine before, const Posting& posting);

}  // namespace depot::stock
