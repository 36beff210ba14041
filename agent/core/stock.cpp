#include "core/stock.hpp"

#include <string>

#include "core/orders.hpp"

namespace depot::stock {
namespace {
Error rule(const MovementRequest& r, const char* what) {
  auto kind = std::string(to_string(r.kind));
  const bool vowel = kind.find_first_of("aeiou") == 0;
  return Error{"quantity " + std::to_string(r.quantity) + " " + what + (vowel ? " for an " : " for a ") + kind};
}
}  // namespace

Expected<Posting> post(const StockLine& before, const MovementRequest& r,
                       std::optional<std::int64_t> lot_on_hand) {
  Posting p;
  if (r.lot) {
    if (auto why = lot_problem(*r.lot); !why.empty()) return Error{why};
  }
  if (r.order_id) {
    if (r.kind != MovementKind::kPick)
      return Error{"an order id goes with a pick, not a " + std::string(to_string(r.kind))};
    if (auto why = orders::order_id_problem(*r.order_id); !why.empty())
      return Error{"order id \"" + *r.order_id + "\" " + why};
  }
  switch (r.kind) {
    case MovementKind::kReceive:
    case MovementKind::kReturn:
      if (r.quantity <= 0) return rule(r, "must be positive");
      p.on_hand_delta = r.quantity;
      break;
    case MovementKind::kPick:
      if (r.quantity <= 0) return rule(r, "must be positive");
      p.on_hand_delta = -r.quantity;
      break;
    case MovementKind::kAdjust:
      if (r.quantity == 0) return rule(r, "must not be zero");
      p.on_hand_delta = r.quantity;
      break;
    case MovementKind::kCount:
      if (r.quantity < 0) return rule(r, "must not be negative");
      p.counted = r.quantity;
      p.on_hand_delta = r.quantity - (r.lot && lot_on_hand ? *lot_on_hand : before.on_hand);
      // Held units leave only by their hold's release or write-off: a count under them left
      // `held` above on hand, and the write-off then took the same units off a second time.
      // (A count that confirms or raises on hand is taken, whatever is held.)
      if (before.held > 0 && p.on_hand_delta < 0 && before.on_hand + p.on_hand_delta < before.held)
        return Error{"count " + std::to_string(r.quantity) + " leaves " +
                     std::to_string(before.on_hand + p.on_hand_delta) + " on hand, below the " +
                     std::to_string(before.held) +
                     " under quality hold: write off (or release) the held units first "
                     "(holds writeoff), then count"};
      break;
    case MovementKind::kHold:
      if (r.quantity <= 0) return rule(r, "must be positive");
      p.held_delta = r.quantity;
      break;
    case MovementKind::kRelease:
      if (r.quantity <= 0) return rule(r, "must be positive");
      if (r.quantity > before.held)
        return Error{"quantity " + std::to_string(r.quantity) + " exceeds the " +
                     std::to_string(before.held) + " held for a release"};
      p.held_delta = -r.quantity;
      break;
    case MovementKind::kWriteoff:
      if (r.quantity <= 0) return rule(r, "must be positive");
      if (r.quantity > before.held)
        return Error{"quantity " + std::to_string(r.quantity) + " exceeds the " +
                     std::to_string(before.held) + " held for a writeoff"};
      p.held_delta = -r.quantity;
      p.on_hand_delta = -r.quantity;
      break;
  }
  p.negative = before.on_hand + p.on_hand_delta < 0;
  return p;
}

StockLine apply(StockLine before, const Posting& posting) {
  before.on_hand += posting.on_hand_delta;
  before.held += posting.held_delta;
  return before;
}

}  // namespace depot::stock
