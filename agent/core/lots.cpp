#include "core/lots.hpp"

#include <algorithm>

#include "core/time.hpp"

namespace depot::lots {
namespace {

// An ISO date (exactly YYYY-MM-DD, a real day) as days since 1970-01-01.
std::optional<std::int64_t> iso_day(std::string_view s) {
  if (s.size() != 10) return std::nullopt;
  auto ms = timefmt::parse_rfc3339_ms(s);
  if (!ms) return std::nullopt;
  return *ms / 86'400'000;  // midnight UTC: an exact multiple
}

// Takes up to `qty` from `from` (each with at most `room(lot)`), in order; appends deltas of
// `sign` x taken to on hand and/or held.
template <class Room>
void take(std::vector<Delta>& out, const std::vector<const Lot*>& from, std::int64_t qty,
          Room room, bool on_hand, bool held, std::int64_t held_sign) {
  for (const Lot* l : from) {
    if (qty <= 0) break;
    const std::int64_t n = std::min(qty, room(*l));
    if (n <= 0) continue;
    out.push_back({l->lot, l->expiry, on_hand ? -n : 0, held ? held_sign * n : 0});
    qty -= n;
  }
}

}  // namespace

std::string_view to_string(Picking p) {
  switch (p) {
    case Picking::kFefo: return "fefo";
    case Picking::kFifo: return "fifo";
    case Picking::kNone: return "none";
  }
  return "fefo";
}

std::optional<Picking> parse_picking(std::string_view s) {
  if (s == "fefo") return Picking::kFefo;
  if (s == "fifo") return Picking::kFifo;
  if (s == "none") return Picking::kNone;
  return std::nullopt;
}

bool expired(const Lot& lot, std::string_view today) {
  return lot.expiry && !lot.expiry->empty() && *lot.expiry < today;
}

std::int64_t expired_units(std::span<const Lot> lots, std::string_view today) {
  std::int64_t n = 0;
  for (const auto& l : lots)
    if (expired(l, today)) n += l.free();
  return n;
}

std::optional<std::int64_t> days_left(std::string_view expiry, std::string_view today) {
  auto e = iso_day(expiry), t = iso_day(today);
  if (!e || !t) return std::nullopt;
  return *e - *t;
}

std::string add_days(std::string_view date, std::int64_t days) {
  auto d = iso_day(date);
  return d ? timefmt::iso_date(*d + days) : std::string(date);
}

std::int64_t lot_on_hand(std::span<const Lot> lots, std::string_view lot) {
  for (const auto& l : lots)
    if (l.lot == lot) return l.on_hand;
  return 0;
}

std::vector<const Lot*> taking_order(std::span<const Lot> lots, Picking picking,
                                     std::string_view today) {
  std::vector<const Lot*> out;
  if (picking == Picking::kNone) return out;
  for (const auto& l : lots)
    if (!expired(l, today)) out.push_back(&l);
  auto fifo = [](const Lot* a, const Lot* b) {
    return a->first_seq != b->first_seq ? a->first_seq < b->first_seq : a->lot < b->lot;
  };
  if (picking == Picking::kFifo) {
    std::sort(out.begin(), out.end(), fifo);
  } else {
    std::sort(out.begin(), out.end(), [&](const Lot* a, const Lot* b) {
      const bool ea = a->expiry && !a->expiry->empty(), eb = b->expiry && !b->expiry->empty();
      if (ea != eb) return ea;  // dated lots first
      if (ea && *a->expiry != *b->expiry) return *a->expiry < *b->expiry;
      return fifo(a, b);
    });
  }
  return out;
}

std::vector<Delta> deltas(MovementKind kind, std::int64_t on_hand_delta, std::int64_t held_delta,
                          const std::optional<std::string>& lot,
                          const std::optional<std::string>& expiry, std::span<const Lot> lots,
                          Picking picking, std::string_view today,
                          const std::vector<Delta>* undoing) {
  std::vector<Delta> out;
  if (undoing) {
    for (const auto& d : *undoing) out.push_back({d.lot, d.expiry, -d.on_hand, -d.held});
    return out;
  }
  if (on_hand_delta == 0 && held_delta == 0) return out;
  if (lot) {
    std::optional<std::string> e = expiry;
    for (const auto& l : lots)
      if (l.lot == *lot && l.expiry) e = l.expiry;  // the lot's first known expiry stays
    out.push_back({*lot, e, on_hand_delta, held_delta});
    return out;
  }
  const auto order = taking_order(lots, picking, today);
  switch (kind) {
    case MovementKind::kHold:
      take(out, order, held_delta, [](const Lot& l) { return l.free(); }, false, true, +1);
      break;
    case MovementKind::kRelease:
    case MovementKind::kWriteoff: {
      // Held units may be in expired lots too: a hold is ended where it is.
      std::vector<const Lot*> holding;
      for (const Lot* l : order) holding.push_back(l);
      for (const auto& l : lots)
        if (expired(l, today) && picking != Picking::kNone) holding.push_back(&l);
      take(out, holding, -held_delta, [](const Lot& l) { return l.held; },
           kind == MovementKind::kWriteoff, true, -1);
      break;
    }
    default:
      if (on_hand_delta < 0) {
        // A count or correction says what is on the shelf: after the lots in order, expired
        // lots shrink too (a pick never chooses them).
        auto from = order;
        if (kind != MovementKind::kPick && picking != Picking::kNone)
          for (const auto& l : lots)
            if (expired(l, today)) from.push_back(&l);
        take(out, from, -on_hand_delta, [](const Lot& l) { return l.free(); }, true, false, 0);
      }
      break;
  }
  return out;
}

}  // namespace depot::lots
