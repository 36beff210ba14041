#include "store/ledger.hpp"

#include <unordered_map>
#include <unordered_set>

#include <algorithm>
#include <chrono>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/json_parse.hpp"
#include "core/json_writer.hpp"
#include "core/stock.hpp"
#include "core/time.hpp"
#include "store/orders_store.hpp"
#include "store/outbox.hpp"

namespace depot::store {
namespace {

std::string lots_json(const std::vector<lots::Delta>& ds);

// The movement's outbox record (docs/protocol.md, stream "movements"), written directly:
// this runs once per movement inside the commit.
// `lot`/`expiry`: as recorded (the request's, or the one lot the agent chose); `chosen`: the
// lots the agent chose for a movement that named none.
std::string movement_record(const MovementRequest& r, const Posting& p, const StockLine& after,
                            const std::optional<std::string>& lot,
                            const std::optional<std::string>& expiry,
                            const std::vector<lots::Delta>& chosen,
                            const std::optional<std::pair<std::string, std::int64_t>>& returned) {
  std::string out;
  out.reserve(256);
  JsonObjectWriter w(out);
  w.field("sku", r.sku)
      .field("kind", to_string(r.kind))
      .field("qty", p.on_hand_delta)
      .field("held_qty", p.held_delta)
      .field("on_hand_after", after.on_hand)
      .field("held_after", after.held)
      .field("source", r.source)
      .field("negative", p.negative);
  if (p.counted) w.field("counted", *p.counted);
  if (lot) w.field("lot", *lot);
  if (expiry) w.field("expiry", *expiry);
  if (!chosen.empty()) w.raw("lots", lots_json(chosen));
  if (after.unusable()) w.field("expired_after", after.unusable());
  if (r.serial) w.field("serial", *r.serial);
  if (r.reverses) w.field("reverses", *r.reverses);
  if (r.order_id) w.field("order_id", *r.order_id).field("reservation_taken", p.reservation_taken);
  // An UNDO of a pick for an order: the reservation it gave back (the cloud's copy of the
  // order's line moves with it; no `orders` record says so).
  if (returned)
    w.field("order_id", returned->first).field("reservation_returned", returned->second);
  if (after.reserved || after.backordered)
    w.field("reserved_after", after.reserved).field("backordered_after", after.backordered);
  if (p.serial_repeat) w.field("serial_repeat", true);
  w.close();
  return out;
}

std::string lots_json(const std::vector<lots::Delta>& ds) {
  auto a = nlohmann::json::array();
  for (const auto& d : ds) {
    nlohmann::json j{{"lot", d.lot}, {"qty", d.on_hand}, {"held_qty", d.held}};
    if (d.expiry) j["expiry"] = *d.expiry;
    a.push_back(std::move(j));
  }
  return a.dump();
}

std::vector<lots::Delta> parse_lots(std::string_view text) {
  std::vector<lots::Delta> out;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return out;
  for (const auto& e : j) {
    if (!e.is_object()) continue;
    auto lot = e.find("lot"), qty = e.find("qty"), held = e.find("held_qty"), exp = e.find("expiry");
    if (lot == e.end() || !lot->is_string() || qty == e.end() || !qty->is_number_integer() ||
        held == e.end() || !held->is_number_integer())
      continue;
    lots::Delta d{lot->get<std::string>(), std::nullopt, qty->get<std::int64_t>(),
                  held->get<std::int64_t>()};
    if (exp != e.end() && exp->is_string()) d.expiry = exp->get<std::string>();
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<lots::Lot> applied(std::vector<lots::Lot> ls, std::span<const lots::Delta> ds) {
  for (const auto& d : ds) {
    auto it = std::find_if(ls.begin(), ls.end(), [&](const lots::Lot& l) { return l.lot == d.lot; });
    if (it == ls.end()) {
      ls.push_back({d.lot, d.expiry, 0, 0, 0});
      it = ls.end() - 1;
    }
    it->on_hand += d.on_hand;
    it->held += d.held;
  }
  return ls;
}

std::string fingerprint(const std::vector<CatalogItem>& items) {
  // FNV-1a 64 over the canonical dump of the catalog as one JSON array of one array per item:
  // stable across builds and platforms. Hashed item by item (the dump of [a,b] is "[" a ","
  // b "]"): 100,000 SKUs never stand in memory as one JSON document.
  std::uint64_t h = 1469598103934665603ULL;
  auto hash = [&h](std::string_view text) {
    for (unsigned char c : text) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  hash("[");
  for (std::size_t n = 0; n < items.size(); ++n) {
    const auto& i = items[n];
    nlohmann::json cases = nlohmann::json::array();
    for (const auto& c : i.cases) cases.push_back({c.barcode, c.pack_qty});
    nlohmann::json j = {i.sku, i.name, i.unit, i.barcodes, cases, i.zone, i.policy,
                        i.daily_demand ? nlohmann::json(*i.daily_demand) : nlohmann::json(),
                        i.daily_demand_sd ? nlohmann::json(*i.daily_demand_sd) : nlohmann::json()};
    if (i.pin_demand) j.push_back("pin_demand");
    if (n) hash(",");
    hash(j.dump());
  }
  hash("]");
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace

std::string site_date(const tz::Zone& zone, std::int64_t unix_ms) {
  return timefmt::iso_date(tz::local_day(zone, unix_ms));
}

std::string site_date(const tz::Zone& zone, std::string_view rfc3339) {
  if (auto ms = timefmt::parse_rfc3339_ms(rfc3339)) return site_date(zone, *ms);
  return std::string(rfc3339.substr(0, std::min<std::size_t>(10, rfc3339.size())));
}

Expected<std::int64_t> expired_units(Database& db, std::string_view sku, std::string_view today) {
  auto q = db.prepare(
      "SELECT COALESCE(SUM(MAX(on_hand - held, 0)), 0) FROM lot_stock WHERE sku = ?1"
      " AND expiry IS NOT NULL AND expiry <> '' AND expiry < ?2");
  if (!q) return q.error();
  auto row = (*q)->bind(1, sku).bind(2, today).step();
  if (!row) return row.error();
  const auto n = *row ? (*q)->int64(0) : 0;
  (*q)->reset();
  return n;
}

std::string Ledger::today() const {
  // The store reads no clock of its own elsewhere; what is expired is a fact of today.
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return site_date(rules_.zone, static_cast<std::int64_t>(ms));
}

Expected<std::vector<lots::Lot>> Ledger::read_lots(std::string_view sku) {
  auto q = db_.prepare(
      "SELECT lot, expiry, on_hand, held, first_seq FROM lot_stock WHERE sku = ?1");
  if (!q) return q.error();
  (*q)->bind(1, sku);
  std::vector<lots::Lot> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    out.push_back({(*q)->text(0), (*q)->opt_text(1), (*q)->int64(2), (*q)->int64(3),
                   (*q)->int64(4)});
  }
  (*q)->reset();
  return out;
}

Expected<std::vector<lots::Delta>> Ledger::undone_lots(std::string_view movement_id) {
  auto q = db_.prepare("SELECT lot, expiry, qty, held_qty, lots FROM movements WHERE id = ?1");
  if (!q) return q.error();
  auto row = (*q)->bind(1, movement_id).step();
  if (!row) return row.error();
  std::vector<lots::Delta> out;
  if (*row) {
    if (auto chosen = (*q)->opt_text(4))
      out = parse_lots(*chosen);
    else if (auto lot = (*q)->opt_text(0))
      out.push_back({*lot, (*q)->opt_text(1), (*q)->int64(2), (*q)->int64(3)});
  }
  (*q)->reset();
  return out;
}

Status Ledger::apply_lots(std::string_view sku, std::span<const lots::Delta> deltas,
                          std::int64_t seq, std::string_view now) {
  if (deltas.empty()) return {};
  auto up = db_.prepare(
      "INSERT INTO lot_stock(sku, lot, expiry, on_hand, held, first_seq, updated_at)"
      " VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(sku, lot) DO UPDATE SET"
      " on_hand = on_hand + excluded.on_hand, held = held + excluded.held,"
      " expiry = COALESCE(expiry, excluded.expiry), updated_at = excluded.updated_at");
  if (!up) return up.error();
  auto gone = db_.prepare(
      "DELETE FROM lot_stock WHERE sku = ?1 AND lot = ?2 AND on_hand = 0 AND held = 0");
  if (!gone) return gone.error();
  for (const auto& d : deltas) {
    if (auto st = (*up)->bind(1, sku).bind(2, d.lot).bind(3, d.expiry).bind(4, d.on_hand)
                      .bind(5, d.held).bind(6, seq).bind(7, now).run();
        !st)
      return st;
    if (auto st = (*gone)->bind(1, sku).bind(2, d.lot).run(); !st) return st;
  }
  return {};
}

Expected<std::vector<PostResult>> Ledger::post(std::span<const MovementRequest> requests) {
  return db_.transaction([&](const Txn& txn) { return post(txn, requests); });
}

Expected<std::vector<PostResult>> Ledger::post(const Txn& txn,
                                               std::span<const MovementRequest> requests) {
  std::vector<PostResult> results;
  results.reserve(requests.size());
  std::vector<OutboxText> records;
  records.reserve(requests.size());
  for (const auto& r : requests) {
    auto res = post_one(txn, r, &records);
    if (!res) return res.error();  // the caller's guard rolls back
    results.push_back(std::move(*res));
  }
  // The batch's records, in the order of its movements, with one read and one write of the
  // stream's row.
  if (auto st = outbox_append_texts(db_, "movements", records); !st) return st.error();
  return results;
}

Expected<PostResult> Ledger::post_one(const Txn&, const MovementRequest& r,
                                      std::vector<OutboxText>* records) {
  PostResult res;
  auto line_q = db_.prepare(
      "SELECT s.on_hand, s.held, s.reserved, s.backordered FROM skus k"
      " LEFT JOIN stock s ON s.sku = k.sku WHERE k.sku = ?1");
  if (!line_q) return line_q.error();
  auto found = (*line_q)->bind(1, r.sku).step();
  if (!found) return found.error();
  if (!*found) {
    (*line_q)->reset();
    res.error = "unknown sku \"" + r.sku + "\"";
    return res;
  }
  StockLine before{(*line_q)->opt_int64(0).value_or(0), (*line_q)->opt_int64(1).value_or(0),
                   (*line_q)->opt_int64(2).value_or(0), (*line_q)->opt_int64(3).value_or(0)};
  (*line_q)->reset();

  // Lots (core/lots): read when the movement names one, undoes one, or may take from them.
  const std::string today = site_date(rules_.zone, r.wall_time);
  // Every movement reads them (one lookup; no row for a SKU without lots): what is expired
  // after it is part of its record.
  auto sku_lots = read_lots(r.sku);
  if (!sku_lots) return sku_lots.error();

  auto posting = stock::post(
      before, r, r.lot ? std::optional(lots::lot_on_hand(*sku_lots, *r.lot)) : std::nullopt);
  if (!posting) {
    res.error = posting.error().message;
    return res;
  }
  StockLine after = stock::apply(before, *posting);
  if (r.serial && r.kind == MovementKind::kPick) {
    auto again = db_.prepare(
        "SELECT 1 FROM movements WHERE sku = ?1 AND serial = ?2 AND kind = 'pick' LIMIT 1");
    if (!again) return again.error();
    auto seen_serial = (*again)->bind(1, r.sku).bind(2, *r.serial).step();
    if (!seen_serial) return seen_serial.error();
    posting->serial_repeat = *seen_serial;
    (*again)->reset();
  }

  // A pick for an order takes its reservation before the movement is written (the movement
  // keeps how much it took, for an UNDO); so it asks first whether the id was seen.
  if (r.order_id) {
    auto seen = db_.prepare("SELECT 1 FROM movements WHERE id = ?1");
    if (!seen) return seen.error();
    auto hit = (*seen)->bind(1, r.id).step();
    if (!hit) return hit.error();
    (*seen)->reset();
    if (*hit) {
      res.outcome = PostOutcome::kDuplicate;
      return res;
    }
    auto taken = take_for_pick(db_, *r.order_id, r.sku, r.quantity, r.wall_time);
    if (!taken) return taken.error();
    posting->reservation_taken = taken->reserved;
    posting->order_unmatched = !taken->line;
    after.reserved -= taken->reserved;
    after.backordered -= taken->backordered;
  }
  // UNDO of a pick for an order: the order gets back the reservation the pick took.
  std::optional<std::pair<std::string, std::int64_t>> returned;
  if (r.reverses) {
    auto orig = db_.prepare(
        "SELECT order_id, reservation_taken, qty FROM movements WHERE id = ?1"
        " AND order_id IS NOT NULL AND reservation_taken > 0");
    if (!orig) return orig.error();
    auto hit = (*orig)->bind(1, *r.reverses).step();
    if (!hit) return hit.error();
    std::optional<std::string> order;
    std::int64_t taken = 0, picked = 0;
    if (*hit) order = (*orig)->text(0), taken = (*orig)->int64(1), picked = -(*orig)->int64(2);
    (*orig)->reset();
    if (order) {
      // Not for an UNDO seen before (the insert below would do nothing).
      auto seen = db_.prepare("SELECT 1 FROM movements WHERE id = ?1");
      if (!seen) return seen.error();
      auto dup = (*seen)->bind(1, r.id).step();
      if (!dup) return dup.error();
      (*seen)->reset();
      if (!*dup) {
        auto back = give_back(db_, *order, r.sku, taken, picked, r.wall_time);
        if (!back) return back.error();
        after.reserved += *back;
        returned.emplace(*order, *back);
      }
    }
  }

  // Which lots it changes: the one it names, those of the movement it undoes, or the ones the
  // picking order chooses; the movement records a chosen lot as its own when there is one.
  std::vector<lots::Delta> lot_deltas;
  if (!r.unlotted) {
    std::optional<std::vector<lots::Delta>> undoing;
    if (r.reverses) {
      auto u = undone_lots(*r.reverses);
      if (!u) return u.error();
      undoing = std::move(*u);
    }
    lot_deltas = lots::deltas(r.kind, posting->on_hand_delta, posting->held_delta, r.lot, r.expiry,
                              *sku_lots, rules_.picking, today, undoing ? &*undoing : nullptr);
  }
  const bool chosen = !r.lot && !lot_deltas.empty();
  std::optional<std::string> lot = r.lot, expiry = r.expiry;
  if (chosen && lot_deltas.size() == 1) lot = lot_deltas[0].lot, expiry = lot_deltas[0].expiry;
  static const std::vector<lots::Delta> kNone;
  const auto& chosen_lots = chosen ? lot_deltas : kNone;

  // The id is UNIQUE: a movement seen before inserts nothing, and nothing else happens.
  auto ins = db_.prepare(
      "INSERT INTO movements(id, sku, kind, qty, held_qty, counted, source, lot, expiry, serial,"
      " wall_time, mono_ns, on_hand_after, negative, reverses, serial_repeat, order_id,"
      " reservation_taken, lots) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,"
      "?17,?18,?19) ON CONFLICT(id) DO NOTHING");
  if (!ins) return ins.error();
  (*ins)
      ->bind(1, r.id)
      .bind(2, r.sku)
      .bind(3, to_string(r.kind))
      .bind(4, posting->on_hand_delta)
      .bind(5, posting->held_delta)
      .bind(6, posting->counted)
      .bind(7, r.source)
      .bind(8, lot)
      .bind(9, expiry)
      .bind(10, r.serial)
      .bind(11, r.wall_time)
      .bind(12, r.mono_ns)
      .bind(13, after.on_hand)
      .bind(14, static_cast<std::int64_t>(posting->negative))
      .bind(15, r.reverses)
      .bind(16, static_cast<std::int64_t>(posting->serial_repeat))
      .bind(17, r.order_id)
      .bind(18, posting->reservation_taken)
      .bind(19, chosen ? std::optional(lots_json(lot_deltas)) : std::nullopt);
  if (auto st = (*ins)->run(); !st) return st.error();
  if (sqlite3_changes(db_.handle()) == 0) {
    res.outcome = PostOutcome::kDuplicate;
    return res;
  }
  if (auto st = apply_lots(r.sku, lot_deltas, sqlite3_last_insert_rowid(db_.handle()), r.wall_time);
      !st)
    return st.error();
  // Expired stock is on hand but not available (for the backorders below and the record).
  after.expired = lots::expired_units(applied(*sku_lots, lot_deltas), today);

  // Customer orders (store/orders_store): stock that is available while orders wait for it
  // is reserved for them, oldest first.
  if (after.backordered > 0 && after.available() > 0) {
    auto filled = fill_backorders(db_, r.sku, after.available(), r.wall_time, r.id);
    if (!filled) return filled.error();
    after.reserved += *filled;
    after.backordered -= *filled;
  }

  auto up = db_.prepare(
      "INSERT INTO stock(sku, on_hand, held, reserved, backordered, updated_at)"
      " VALUES(?1,?2,?3,?4,?5,?6) ON CONFLICT(sku) DO UPDATE SET on_hand = excluded.on_hand,"
      " held = excluded.held, reserved = excluded.reserved, backordered = excluded.backordered,"
      " updated_at = excluded.updated_at");
  if (!up) return up.error();
  if (auto st = (*up)->bind(1, r.sku).bind(2, after.on_hand).bind(3, after.held)
                    .bind(4, after.reserved).bind(5, after.backordered)
                    .bind(6, r.wall_time).run();
      !st)
    return st.error();

  auto record = movement_record(r, *posting, after, lot, expiry, chosen_lots, returned);
  if (records) {
    records->push_back(OutboxText{r.id, r.wall_time, std::move(record)});
  } else if (auto seq = outbox_append_text(db_, "movements", r.id, r.wall_time, record); !seq) {
    return seq.error();
  }

  res.outcome = PostOutcome::kPosted;
  res.posting = *posting;
  res.after = after;
  res.lots = std::move(lot_deltas);
  return res;
}

Expected<std::vector<StockRow>> Ledger::stock(const std::optional<std::string>& sku,
                                              std::int64_t limit,
                                              const std::optional<std::string>& after) {
  // The SKU and page conditions are written only when given: "?2 IS NULL OR k.sku > ?2" made
  // SQLite scan the SKU index from its start for every page (quadratic in the pages), and
  // "?1 IS NULL OR k.sku = ?1" scanned it for one SKU.
  std::string sql =
      "SELECT k.sku, k.name, k.unit, k.zone, k.active, s.on_hand, s.held, s.updated_at,"
      " s.reserved, s.backordered, x.expired FROM skus k LEFT JOIN stock s ON s.sku = k.sku"
      " LEFT JOIN (SELECT sku, SUM(MAX(on_hand - held, 0)) AS expired FROM lot_stock"
      "   WHERE expiry IS NOT NULL AND expiry <> '' AND expiry < ?4 GROUP BY sku) x"
      "   ON x.sku = k.sku"
      " WHERE (k.active OR s.on_hand <> 0 OR s.held <> 0 OR s.reserved <> 0"
      " OR s.backordered <> 0)";
  if (sku) sql += " AND k.sku = ?1";
  if (after) sql += " AND k.sku > ?2";
  sql += " ORDER BY k.sku LIMIT ?3";
  auto q = db_.prepare(sql);
  if (!q) return q.error();
  if (sku) (*q)->bind(1, *sku);
  if (after) (*q)->bind(2, *after);
  (*q)->bind(3, limit > 0 ? limit : std::int64_t{-1});
  (*q)->bind(4, today());
  std::vector<StockRow> rows;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    StockRow row;
    row.sku = (*q)->text(0);
    row.name = (*q)->text(1);
    row.unit = (*q)->text(2);
    row.zone = (*q)->text(3);
    row.active = (*q)->int64(4) != 0;
    row.line.on_hand = (*q)->opt_int64(5).value_or(0);
    row.line.held = (*q)->opt_int64(6).value_or(0);
    row.updated_at = (*q)->opt_text(7);
    row.line.reserved = (*q)->opt_int64(8).value_or(0);
    row.line.backordered = (*q)->opt_int64(9).value_or(0);
    row.line.expired = (*q)->opt_int64(10).value_or(0);
    rows.push_back(std::move(row));
  }
  (*q)->reset();
  return rows;
}

Expected<std::vector<LotRow>> Ledger::lots(const std::optional<std::string>& sku,
                                           std::string today) {
  if (today.empty()) today = this->today();
  auto q = db_.prepare(
      "SELECT sku, lot, expiry, on_hand, held, first_seq FROM lot_stock"
      " WHERE (?1 IS NULL OR sku = ?1) ORDER BY sku");
  if (!q) return q.error();
  (*q)->bind(1, sku);
  std::vector<LotRow> out;
  std::vector<lots::Lot> one;  // the current SKU's lots
  std::string current;
  auto flush = [&] {
    if (one.empty()) return;
    auto order = lots::taking_order(
        one, rules_.picking == lots::Picking::kFifo ? lots::Picking::kFifo : lots::Picking::kFefo,
        today);
    for (const auto& l : one)  // then the expired ones
      if (lots::expired(l, today)) order.push_back(&l);
    for (const auto* l : order) {
      LotRow row{current, *l, lots::expired(*l, today), std::nullopt};
      if (l->expiry) row.days_left = lots::days_left(*l->expiry, today);
      out.push_back(std::move(row));
    }
    one.clear();
  };
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    if ((*q)->text_view(0) != current) {
      flush();
      current = (*q)->text(0);
    }
    one.push_back({(*q)->text(1), (*q)->opt_text(2), (*q)->int64(3), (*q)->int64(4),
                   (*q)->int64(5)});
  }
  (*q)->reset();
  flush();
  return out;
}

Expected<std::vector<MovementRecord>> Ledger::movements(const MovementFilter& f) {
  auto q = db_.prepare(
      "SELECT seq, id, sku, kind, qty, held_qty, counted, source, lot, expiry, serial, wall_time,"
      " mono_ns, on_hand_after, negative, reverses, serial_repeat, order_id, lots FROM movements"
      " WHERE (?1 IS NULL OR sku = ?1) AND (?2 IS NULL OR wall_time >= ?2)"
      " AND (?4 IS NULL OR id = ?4) ORDER BY seq DESC LIMIT ?3");
  if (!q) return q.error();
  (*q)->bind(1, f.sku).bind(2, f.since).bind(3, f.limit > 0 ? f.limit : std::int64_t{-1});
  (*q)->bind(4, f.id);
  std::vector<MovementRecord> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    MovementRecord m;
    m.seq = (*q)->int64(0);
    m.id = (*q)->text(1);
    m.sku = (*q)->text(2);
    m.kind = (*q)->text(3);
    m.qty = (*q)->int64(4);
    m.held_qty = (*q)->int64(5);
    m.counted = (*q)->opt_int64(6);
    m.source = (*q)->text(7);
    m.lot = (*q)->opt_text(8);
    m.expiry = (*q)->opt_text(9);
    m.serial = (*q)->opt_text(10);
    m.wall_time = (*q)->text(11);
    m.mono_ns = (*q)->int64(12);
    m.on_hand_after = (*q)->int64(13);
    m.negative = (*q)->int64(14) != 0;
    m.reverses = (*q)->opt_text(15);
    m.serial_repeat = (*q)->int64(16) != 0;
    m.order_id = (*q)->opt_text(17);
    if (auto chosen = (*q)->opt_text(18)) m.lots = parse_lots(*chosen);
    out.push_back(std::move(m));
  }
  (*q)->reset();
  std::reverse(out.begin(), out.end());  // read newest first (for the limit), shown in seq order
  if (out.empty() && f.sku) {  // none: say so when the SKU is not one of the catalog's at all
    auto known = db_.prepare("SELECT 1 FROM skus WHERE sku = ?1");
    if (!known) return known.error();
    auto hit = (*known)->bind(1, *f.sku).step();
    if (!hit) return hit.error();
    (*known)->reset();
    if (!*hit) return Error{"unknown sku \"" + printable(*f.sku, 100) + "\"", ErrorKind::kBadInput};
  }
  return out;
}

Expected<std::optional<MovementRecord>> Ledger::find(std::string_view id) {
  MovementFilter f;
  f.id = std::string(id);
  auto rows = movements(f);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<MovementRecord>();
  return std::optional<MovementRecord>(std::move(rows->front()));
}

std::string SkuLeft::describe() const {
  std::string out;
  auto add = [&](std::int64_t n, std::string_view what, std::string_view plural = "") {
    if (n == 0) return;
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + std::string(what) +
           std::string(n == 1 ? "" : plural);
  };
  add(on_hand, "on hand");
  add(held, "held");
  add(reserved, "reserved");
  add(backordered, "backordered");
  add(open_proposals, "open proposal", "s");
  return out;
}

Expected<SkuLeft> sku_left(Database& db, const std::string& sku) {
  auto q = db.prepare(
      "SELECT coalesce(s.on_hand, 0), coalesce(s.held, 0), coalesce(s.reserved, 0),"
      " coalesce(s.backordered, 0), (SELECT count(*) FROM proposals p WHERE p.sku = ?1"
      " AND p.state IN ('proposed','acknowledged'))"
      " FROM (SELECT 1) LEFT JOIN stock s ON s.sku = ?1");
  if (!q) return q.error();
  auto row = (*q)->bind(1, sku).step();
  if (!row) return row.error();
  SkuLeft left{sku, (*q)->int64(0), (*q)->int64(1), (*q)->int64(2), (*q)->int64(3),
               (*q)->int64(4)};
  (*q)->reset();
  return left;
}

Expected<CatalogApplied> apply_catalog(Database& db, const std::vector<CatalogItem>& items,
                                       std::string_view now) {
  CatalogApplied out;
  auto fp = fingerprint(items);
  auto old = db.meta("catalog_fingerprint");
  if (!old) return old.error();
  if (*old == fp) return out;
  out.changed = true;

  auto txn = Txn::begin(db);
  if (!txn) return txn.error();
  auto body = [&]() -> Status {
    // The config's SKUs listed last time: those it no longer lists are checked for what they
    // leave behind.
    std::vector<std::string> dropped;
    {
      std::unordered_set<std::string_view> listed;
      for (const auto& i : items) listed.insert(i.sku);
      auto q = db.prepare("SELECT sku FROM skus WHERE origin = 'config' AND active");
      if (!q) return q.error();
      for (;;) {
        auto more = (*q)->step();
        if (!more) return more.error();
        if (!*more) break;
        if (!listed.count((*q)->text_view(0))) dropped.push_back((*q)->text(0));
      }
      (*q)->reset();
    }
    for (const auto& sku : dropped) {
      auto left = sku_left(db, sku);
      if (!left) return left.error();
      if (!left->empty()) out.left.push_back(std::move(*left));
    }
    if (auto st = db.exec("UPDATE skus SET active = 0 WHERE origin = 'config'"); !st) return st;
    if (auto st = db.exec("DELETE FROM barcodes WHERE sku IN (SELECT sku FROM skus WHERE origin = 'config')"); !st)
      return st;
    // What is left belongs to the cloud's SKUs: a code the config lists among them is taken.
    std::unordered_map<std::string, std::string> cloud_owned;
    {
      auto q = db.prepare(
          "SELECT b.code_key, b.sku FROM barcodes b JOIN skus k ON k.sku = b.sku WHERE k.active");
      if (!q) return q.error();
      for (;;) {
        auto more = (*q)->step();
        if (!more) return more.error();
        if (!*more) break;
        cloud_owned.emplace((*q)->text(0), (*q)->text(1));
      }
      (*q)->reset();
    }
    auto note_taken = [&](const std::string& code, const std::string& sku) {
      if (cloud_owned.empty()) return;
      auto it = cloud_owned.find(barcode_key(code));
      if (it != cloud_owned.end() && it->second != sku)
        out.taken.push_back({code, it->second, sku});
    };
    auto up = db.prepare(
        "INSERT INTO skus(sku, name, unit, zone, policy, daily_demand, daily_demand_sd, origin,"
        " active, updated_at, pin_demand) VALUES(?1,?2,?3,?4,?5,?6,?7,'config',1,?8,?9)"
        " ON CONFLICT(sku) DO UPDATE SET name=excluded.name, unit=excluded.unit,"
        " zone=excluded.zone, policy=excluded.policy, daily_demand=excluded.daily_demand,"
        " daily_demand_sd=excluded.daily_demand_sd, origin='config', active=1,"
        " updated_at=excluded.updated_at, pin_demand=excluded.pin_demand");
    if (!up) return up.error();
    auto bc = db.prepare(
        "INSERT INTO barcodes(code_key, code, sku, pack_qty) VALUES(?1,?2,?3,?4)"
        " ON CONFLICT(code_key) DO UPDATE SET code=excluded.code, sku=excluded.sku,"
        " pack_qty=excluded.pack_qty");
    if (!bc) return bc.error();
    for (const auto& i : items) {
      if (auto st = (*up)->bind(1, i.sku).bind(2, i.name).bind(3, i.unit).bind(4, i.zone)
                        .bind(5, i.policy).bind(6, i.daily_demand).bind(7, i.daily_demand_sd)
                        .bind(8, now).bind(9, std::int64_t{i.pin_demand ? 1 : 0}).run();
          !st)
        return st;
      for (const auto& b : i.barcodes) note_taken(b, i.sku);
      for (const auto& c : i.cases) note_taken(c.barcode, i.sku);
      for (const auto& b : i.barcodes)
        if (auto st = (*bc)->bind(1, barcode_key(b)).bind(2, b).bind(3, i.sku)
                          .bind(4, std::int64_t{1}).run();
            !st)
          return st;
      for (const auto& c : i.cases)
        if (auto st = (*bc)->bind(1, barcode_key(c.barcode)).bind(2, c.barcode).bind(3, i.sku)
                          .bind(4, c.pack_qty).run();
            !st)
          return st;
    }
    return db.set_meta("catalog_fingerprint", fp);
  };
  if (auto st = body(); !st)  // the guard rolls back
    return Error{"applying the catalog: " + st.error().message};
  if (auto st = txn->commit(); !st) return st.error();
  return out;
}

Expected<Catalog> load_catalog(Database& db) {
  // Only what the barcode index needs: the active SKUs and their codes.
  std::vector<std::string> skus;
  auto q = db.prepare("SELECT sku FROM skus WHERE active ORDER BY sku");
  if (!q) return q.error();
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    skus.push_back((*q)->text(0));
  }
  (*q)->reset();
  Catalog::Loader loader(std::move(skus));
  auto b = db.prepare("SELECT code, sku, pack_qty FROM barcodes ORDER BY code_key");
  if (!b) return b.error();
  for (;;) {
    auto more = (*b)->step();
    if (!more) return more.error();
    if (!*more) break;
    if (auto st = loader.add((*b)->text_view(0), (*b)->text_view(1), (*b)->int64(2)); !st) {
      (*b)->reset();  // a cached statement left stepping would hold its read snapshot
      return st.error();
    }
  }
  (*b)->reset();
  return std::move(loader).finish();
}

}  // namespace depot::store
