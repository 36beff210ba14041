#include "store/orders_store.hpp"

#include <sqlite3.h>

#include <algorithm>

#include "store/ledger.hpp"
#include "store/outbox.hpp"

namespace depot::store {
namespace {

using nlohmann::json;

constexpr const char* kLineColumns =
    "order_id, sku, channel, qty, reserved, backordered, picked, state, created_at, updated_at";

orders::LineState parse_state(std::string_view s) {
  if (s == "released") return orders::LineState::kReleased;
  if (s == "shipped") return orders::LineState::kShipped;
  return orders::LineState::kOpen;
}

OrderLine read_line(Statement& q) {
  OrderLine l;
  l.order_id = q.text(0);
  l.sku = q.text(1);
  l.channel = q.text(2);
  l.qty = q.int64(3);
  l.reserved = q.int64(4);
  l.backordered = q.int64(5);
  l.picked = q.int64(6);
  l.state = parse_state(q.text_view(7));
  l.created_at = q.text(8);
  l.updated_at = q.text(9);
  return l;
}

Expected<std::optional<OrderLine>> find_line(Database& db, std::string_view order_id,
                                             std::string_view sku) {
  auto q = db.prepare(std::string("SELECT ") + kLineColumns +
                      " FROM order_lines WHERE order_id = ?1 AND sku = ?2");
  if (!q) return q.error();
  auto row = (*q)->bind(1, order_id).bind(2, sku).step();
  if (!row) return row.error();
  std::optional<OrderLine> out;
  if (*row) out = read_line(**q);
  (*q)->reset();
  return out;
}

Status write_line(Database& db, const OrderLine& l, std::int64_t seq) {
  auto q = db.prepare(
      "INSERT INTO order_lines(order_id, sku, channel, qty, reserved, backordered, picked, state,"
      " seq, created_at, updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
      " ON CONFLICT(order_id, sku) DO UPDATE SET reserved = excluded.reserved,"
      " backordered = excluded.backordered, picked = excluded.picked, state = excluded.state,"
      " updated_at = excluded.updated_at");
  if (!q) return q.error();
  return (*q)
      ->bind(1, l.order_id)
      .bind(2, l.sku)
      .bind(3, l.channel)
      .bind(4, l.qty)
      .bind(5, l.reserved)
      .bind(6, l.backordered)
      .bind(7, l.picked)
      .bind(8, orders::to_string(l.state))
      .bind(9, seq)
      .bind(10, l.created_at)
      .bind(11, l.updated_at)
      .run();
}

// The SKU's stock line (created at zero when it has none), for a change of its totals.
Expected<StockLine> stock_line(Database& db, std::string_view sku, std::string_view now,
                               const tz::Zone& zone) {
  auto ins = db.prepare(
      "INSERT INTO stock(sku, on_hand, held, updated_at) VALUES(?1, 0, 0, ?2)"
      " ON CONFLICT(sku) DO NOTHING");
  if (!ins) return ins.error();
  if (auto st = (*ins)->bind(1, sku).bind(2, now).run(); !st) return st.error();
  auto q = db.prepare("SELECT on_hand, held, reserved, backordered FROM stock WHERE sku = ?1");
  if (!q) return q.error();
  auto row = (*q)->bind(1, sku).step();
  if (!row) return row.error();
  StockLine s{(*q)->int64(0), (*q)->int64(1), (*q)->int64(2), (*q)->int64(3)};
  (*q)->reset();
  auto expired = expired_units(db, sku, site_date(zone, now));
  if (!expired) return expired.error();
  s.expired = *expired;
  return s;
}

Status add_to_stock(Database& db, std::string_view sku, std::int64_t reserved,
                    std::int64_t backordered, std::string_view now) {
  auto q = db.prepare(
      "UPDATE stock SET reserved = reserved + ?2, backordered = backordered + ?3,"
      " updated_at = ?4 WHERE sku = ?1");
  if (!q) return q.error();
  return (*q)->bind(1, sku).bind(2, reserved).bind(3, backordered).bind(4, now).run();
}

Expected<std::int64_t> next_order_seq(Database& db) {
  auto cur = db.meta("order_line_seq");
  if (!cur) return cur.error();
  std::int64_t next = 1;
  if (*cur) next = std::stoll(**cur) + 1;
  if (auto st = db.set_meta("order_line_seq", std::to_string(next)); !st) return st.error();
  return next;
}

// One `orders` record: the order's event and the lines it changed, as they are now. Its id,
// `{order}:{event}:{cause}` (for allocated `{order}:allocated:{sku}:{cause}`), is unique: the
// cause is the command's or the movement's id.
Status append_record(Database& db, std::string_view order_id, std::string_view event,
                     const std::vector<OrderLine>& lines, std::string_view now,
                     std::string_view cause) {
  json rec{{"order_id", order_id}, {"event", event}, {"lines", json::array()}};
  if (!lines.empty()) rec["channel"] = lines.front().channel;
  for (const auto& l : lines) rec["lines"].push_back(order_line_json(l));
  std::string id = std::string(order_id) + ":" + std::string(event) + ":";
  if (event == "allocated" && !lines.empty()) id += lines.front().sku + ":";
  id += cause;
  if (auto seq = outbox_append(db, "orders", id, now, std::move(rec)); !seq) return seq.error();
  return {};
}

}  // namespace

json order_line_json(const OrderLine& l) {
  return json{{"sku", l.sku},           {"qty", l.qty},
              {"reserved", l.reserved}, {"backordered", l.backordered},
              {"picked", l.picked},     {"state", orders::to_string(l.state)}};
}

Expected<std::vector<OrderLine>> reserve_order(const Txn& txn, const OrderRequest& r,
                                               std::string_view now, std::string_view cause,
                                               const tz::Zone& zone) {
  Database& db = txn.db();
  // A closed order's id is not reused, whichever SKUs the new lines name.
  auto closed = db.prepare(
      "SELECT state FROM order_lines WHERE order_id = ?1 AND state <> 'open' LIMIT 1");
  if (!closed) return closed.error();
  auto was = (*closed)->bind(1, r.order_id).step();
  if (!was) return was.error();
  if (*was) {
    auto state = (*closed)->text(0);
    (*closed)->reset();
    return Error{"args.order_id: order \"" + r.order_id + "\" was " + state +
                 " already: an order id is not reused (send a new order)"};
  }
  (*closed)->reset();
  auto active = db.prepare("SELECT active FROM skus WHERE sku = ?1");
  if (!active) return active.error();
  std::vector<OrderLine> out;
  std::vector<OrderLine> changed;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    const auto& req = r.lines[i];
    const std::string where = "args.lines[" + std::to_string(i) + "]";
    auto old = find_line(db, r.order_id, req.sku);
    if (!old) return old.error();
    if (*old) {
      const auto& l = **old;
      if (l.state != orders::LineState::kOpen)
        return Error{where + ": order \"" + r.order_id + "\" was " +
                     std::string(orders::to_string(l.state)) +
                     " already: an order id is not reused (send a new order)"};
      if (l.qty != req.qty)
        return Error{where + ".qty: " + std::to_string(req.qty) + " differs from the " +
                     std::to_string(l.qty) + " already reserved for order \"" + r.order_id +
                     "\" and SKU \"" + req.sku +
                     "\" (a line is reserved once: release the order and send a new one)"};
      OrderLine same = l;
      same.unchanged = true;
      out.push_back(std::move(same));
      continue;
    }
    auto hit = (*active)->bind(1, req.sku).step();
    if (!hit) return hit.error();
    const bool ok = *hit && (*active)->int64(0) != 0;
    (*active)->reset();
    if (!ok) return Error{where + ".sku: \"" + req.sku + "\" is not an active SKU of this gateway"};
    auto stock = stock_line(db, req.sku, now, zone);
    if (!stock) return stock.error();
    const auto split = orders::reserve(req.qty, stock->available());
    OrderLine l;
    l.order_id = r.order_id;
    l.sku = req.sku;
    l.channel = r.channel;
    l.qty = req.qty;
    l.reserved = split.reserved;
    l.backordered = split.backordered;
    l.created_at = l.updated_at = std::string(now);
    auto seq = next_order_seq(db);
    if (!seq) return seq.error();
    if (auto st = write_line(db, l, *seq); !st) return st.error();
    if (auto st = add_to_stock(db, l.sku, l.reserved, l.backordered, now); !st) return st.error();
    changed.push_back(l);
    out.push_back(std::move(l));
  }
  if (!changed.empty())
    if (auto st = append_record(db, r.order_id, "reserved", changed, now, cause); !st)
      return st.error();
  return out;
}

Expected<std::vector<OrderLine>> close_order(const Txn& txn, std::string_view order_id,
                                             orders::LineState to, std::string_view now,
                                             std::string_view cause, const tz::Zone& zone) {
  Database& db = txn.db();
  auto lines = order_lines(db, {.order_id = std::string(order_id), .open_only = false});
  if (!lines) return lines.error();
  if (lines->empty()) return Error{"args.order_id: no order \"" + std::string(order_id) + "\" is known here"};
  std::vector<OrderLine> closed;
  for (auto l : *lines) {
    if (l.state != orders::LineState::kOpen) continue;
    if (auto st = add_to_stock(db, l.sku, -l.reserved, -l.backordered, now); !st) return st.error();
    l.state = to;
    l.updated_at = std::string(now);
    // The line keeps what it reserved and waited for at closing, as the record says; stock's
    // totals no longer count it (state is not open).
    if (auto st = write_line(db, l, 0); !st) return st.error();
    closed.push_back(std::move(l));
  }
  if (closed.empty())
    return Error{"args.order_id: order \"" + std::string(order_id) + "\" is " +
                 std::string(orders::to_string(lines->front().state)) + " already"};
  if (auto st = append_record(db, order_id, orders::to_string(to), closed, now, cause); !st)
    return st.error();
  // Released stock may fill other orders' backorders.
  for (const auto& l : closed) {
    if (l.reserved <= 0) continue;
    auto stock = stock_line(db, l.sku, now, zone);
    if (!stock) return stock.error();
    if (stock->backordered <= 0 || stock->available() <= 0) continue;
    auto filled = fill_backorders(db, l.sku, stock->available(), now, cause);
    if (!filled) return filled.error();
    if (auto st = add_to_stock(db, l.sku, *filled, -*filled, now); !st) return st.error();
  }
  return closed;
}

Expected<PickTaken> take_for_pick(Database& db, std::string_view order_id, std::string_view sku,
                                  std::int64_t qty, std::string_view now) {
  auto line = find_line(db, order_id, sku);
  if (!line) return line.error();
  if (!*line || (*line)->state != orders::LineState::kOpen) return PickTaken{};
  auto l = **line;
  PickTaken t;
  t.line = true;
  t.reserved = orders::take_reservation(l.reserved, qty);
  // Picked beyond its reservation (the books were short): it no longer waits for those units.
  t.backordered = orders::take_reservation(l.backordered, qty - t.reserved);
  l.reserved -= t.reserved;
  l.backordered -= t.backordered;
  l.picked += qty;
  l.updated_at = std::string(now);
  if (auto st = write_line(db, l, 0); !st) return st.error();
  return t;
}

Expected<std::int64_t> give_back(Database& db, std::string_view order_id, std::string_view sku,
                                 std::int64_t reserved, std::int64_t picked, std::string_view now) {
  auto line = find_line(db, order_id, sku);
  if (!line) return line.error();
  if (!*line || (*line)->state != orders::LineState::kOpen) return std::int64_t{0};
  auto l = **line;
  l.reserved += reserved;
  l.picked = std::max<std::int64_t>(l.picked - picked, 0);
  l.updated_at = std::string(now);
  if (auto st = write_line(db, l, 0); !st) return st.error();
  return reserved;
}

Expected<std::int64_t> fill_backorders(Database& db, std::string_view sku, std::int64_t available,
                                       std::string_view now, std::string_view cause) {
  auto q = db.prepare(std::string("SELECT ") + kLineColumns +
                      " FROM order_lines WHERE sku = ?1 AND backordered > 0 AND state = 'open'"
                      " ORDER BY seq");
  if (!q) return q.error();
  (*q)->bind(1, sku);
  std::vector<OrderLine> waiting;
  std::vector<std::int64_t> wants;
  for (std::int64_t left = available; left > 0;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    waiting.push_back(read_line(**q));
    wants.push_back(waiting.back().backordered);
    left -= waiting.back().backordered;
  }
  (*q)->reset();
  const auto got = orders::fill_backorders(wants, available);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    if (got[i] <= 0) continue;
    auto& l = waiting[i];
    l.reserved += got[i];
    l.backordered -= got[i];
    l.updated_at = std::string(now);
    if (auto st = write_line(db, l, 0); !st) return st.error();
    if (auto st = append_record(db, l.order_id, "allocated", {l}, now, cause); !st)
      return st.error();
    total += got[i];
  }
  return total;
}

Expected<std::vector<OrderLine>> order_lines(Database& db, const OrderFilter& f) {
  auto q = db.prepare(std::string("SELECT ") + kLineColumns +
                      " FROM order_lines WHERE (?1 IS NULL OR order_id = ?1)"
                      " AND (?2 IS NULL OR sku = ?2) AND (?3 = 0 OR state = 'open')"
                      " ORDER BY seq DESC LIMIT ?4");
  if (!q) return q.error();
  (*q)->bind(1, f.order_id).bind(2, f.sku).bind(3, std::int64_t{f.open_only ? 1 : 0});
  (*q)->bind(4, f.limit > 0 ? f.limit : std::int64_t{-1});
  std::vector<OrderLine> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    out.push_back(read_line(**q));
  }
  (*q)->reset();
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace depot::store
