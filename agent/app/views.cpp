#include "app/views.hpp"
#include "app/store_access.hpp"

#include <charconv>

#include "app/replenish_cli.hpp"
#include "core/json_parse.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "store/audit.hpp"
#include "store/coldchain_store.hpp"
#include "store/ledger.hpp"
#include "store/output_store.hpp"
#include "store/rejects.hpp"
#include "store/replenish_store.hpp"

namespace depot::app::views {

using nlohmann::json;

std::optional<std::string> parse_since(std::string_view text, std::int64_t now_ms) {
  std::optional<std::int64_t> ms;
  if (auto age = timefmt::parse_age_seconds(text))
    ms = now_ms - *age * 1000;
  else
    ms = timefmt::parse_rfc3339_ms(text);
  if (!ms) return std::nullopt;
  return timefmt::rfc3339_from_unix_ms(*ms);
}

std::optional<std::int64_t> parse_limit(std::string_view text) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

namespace {

// One `stock --json` row (docs/cli.md), written directly: 100,000 rows must stay fast.
void append_stock_json(std::string& out, const store::StockRow& s, const StockFigures* figures) {
  JsonObjectWriter w(out);
  w.field("sku", s.sku)
      .field("name", s.name)
      .field("unit", s.unit)
      .field("zone", s.zone)
      .field("on_hand", s.line.on_hand)
      .field("held", s.line.held)
      .field("reserved", s.line.reserved)
      .field("available", s.line.available())
      .field("backordered", s.line.backordered)
      .field("expired", s.line.expired)
      .field("negative", s.line.on_hand < 0)
      .field("active", s.active)
      .field("updated_at", s.updated_at);
  if (figures)
    figures->append_json(w, s.sku);
  else
    append_null_figures(w);
  w.close();
}

json opt(const std::optional<std::string>& v) { return v ? json(*v) : json(); }
json opt(const std::optional<std::int64_t>& v) { return v ? json(*v) : json(); }

}  // namespace

Status write_stock(std::ostream& out, store::Database& db, const Config& cfg, const StockQuery& q,
                   std::ostream& err) {
  // Read in pages of SKUs (100,000 rows never stand in memory, and no read snapshot stays open
  // while the text is written: a reader blocked on a pipe would keep the daemon's WAL growing).
  constexpr std::int64_t kPage = 4096;
  store::Ledger ledger(db, lot_rules(cfg));
  auto page_size = [&](std::int64_t done) {
    return q.limit > 0 ? std::min(kPage, q.limit - done) : kPage;
  };
  auto rows = ledger.stock(q.sku, page_size(0), q.after);
  if (!rows) return rows.error();
  if (q.sku && rows->empty())  // refused before the replenishment figures are computed
    return Error{"unknown sku \"" + printable(*q.sku, 100) + "\"", ErrorKind::kBadInput};
  // Replenishment figures (replenish_cli.cpp): computed read-only from the same database.
  auto figures = StockFigures::compute(db, cfg.replenish, cfg.catalog, err);
  // Written without a JSON DOM, in 256 KiB pieces: 100,000 SKUs are some 40 MB of text. A read
  // that fails part-way returns its error after the pieces already written.
  std::string text = "[";
  text.reserve(256 * 1024 + 1024);
  std::int64_t n = 0;
  for (;;) {
    for (const auto& row : *rows) {
      text += n++ ? ",\n" : "\n";
      append_stock_json(text, row, figures.get());
      if (text.size() >= 256 * 1024) {
        out << text;
        text.clear();
      }
    }
    const auto asked = page_size(n - static_cast<std::int64_t>(rows->size()));
    if (q.sku || static_cast<std::int64_t>(rows->size()) < asked || (q.limit > 0 && n >= q.limit))
      break;
    const auto last = rows->back().sku;
    rows = ledger.stock(std::nullopt, page_size(n), last);
    if (!rows) return rows.error();
  }
  text += n == 0 ? "]\n" : "\n]\n";
  out << text;
  return {};
}

Expected<std::vector<LotLine>> lot_lines(store::Database& db, const Config& cfg,
                                         const std::optional<std::string>& sku) {
  store::Ledger ledger(db, lot_rules(cfg));
  auto rows = ledger.stock(sku);
  if (!rows) return rows.error();
  if (sku && rows->empty())
    return Error{"unknown sku \"" + printable(*sku, 100) + "\"", ErrorKind::kBadInput};
  auto lots = ledger.lots(sku);
  if (!lots) return lots.error();
  const auto days = cfg.replenish.lots.short_dated_days;
  std::vector<LotLine> out;
  auto l = lots->begin();
  for (const auto& s : *rows) {
    std::int64_t in_lots = 0, held_in_lots = 0;
    for (; l != lots->end() && l->sku < s.sku; ++l) {}
    for (; l != lots->end() && l->sku == s.sku; ++l) {
      LotLine x{s.sku, l->lot.lot, l->lot.expiry, l->lot.on_hand, l->lot.held,
                l->expired ? 0 : l->lot.free(), l->expired, l->days_left,
                days > 0 && l->days_left && *l->days_left <= days && l->lot.free() > 0};
      in_lots += l->lot.on_hand, held_in_lots += l->lot.held;
      out.push_back(std::move(x));
    }
    // What is outside every lot (stock received or counted without one).
    const auto rest = s.line.on_hand - in_lots, rest_held = s.line.held - held_in_lots;
    if ((rest != 0 || rest_held != 0) && (in_lots != 0 || held_in_lots != 0 || sku))
      out.push_back({s.sku, std::nullopt, std::nullopt, rest, rest_held,
                     std::max<std::int64_t>(0, rest - rest_held), false, std::nullopt, false});
  }
  return out;
}

Status write_lots(std::ostream& out, store::Database& db, const Config& cfg,
                  const std::optional<std::string>& sku) {
  auto rows = lot_lines(db, cfg, sku);
  if (!rows) return rows.error();
  out << "[";
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const auto& r = (*rows)[i];
    json j{{"sku", r.sku},         {"lot", opt(r.lot)},        {"expiry", opt(r.expiry)},
           {"on_hand", r.on_hand}, {"held", r.held},           {"available", r.available},
           {"expired", r.expired}, {"days_left", opt(r.days_left)},
           {"short_dated", r.short_dated}};
    out << (i ? ",\n" : "\n") << j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  out << (rows->empty() ? "]\n" : "\n]\n");
  return {};
}

Status write_movements(std::ostream& out, store::Database& db, const MovementsQuery& q) {
  store::Ledger ledger(db);
  store::MovementFilter f;
  f.sku = q.sku;
  f.since = q.since;
  f.limit = q.limit;
  auto rows = ledger.movements(f);
  if (!rows) return rows.error();
  out << "[";
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const auto& m = (*rows)[i];
    json j{{"seq", m.seq},
           {"id", m.id},
           {"sku", m.sku},
           {"kind", m.kind},
           {"qty", m.qty},
           {"held_qty", m.held_qty},
           {"on_hand_after", m.on_hand_after},
           {"source", m.source},
           {"ts", m.wall_time},
           {"mono_ns", m.mono_ns},
           {"negative", m.negative}};
    j["counted"] = opt(m.counted);
    j["lot"] = opt(m.lot);
    j["expiry"] = opt(m.expiry);
    j["serial"] = opt(m.serial);
    j["reverses"] = opt(m.reverses);
    j["serial_repeat"] = m.serial_repeat;
    j["order_id"] = opt(m.order_id);
    if (!m.lots.empty()) {
      j["lots"] = json::array();
      for (const auto& d : m.lots)
        j["lots"].push_back({{"lot", d.lot}, {"expiry", opt(d.expiry)}, {"qty", d.on_hand},
                             {"held_qty", d.held}});
    }
    out << (i ? ",\n" : "\n") << j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  out << (rows->empty() ? "]\n" : "\n]\n");
  return {};
}

Status write_rejects(std::ostream& out, store::Database& db, const RejectsQuery& q) {
  auto rows = store::list_rejects(db, q.since, q.limit);
  if (!rows) return rows.error();
  out << "[";
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const auto& r = (*rows)[i];
    json j{{"seq", r.seq},       {"source", r.source}, {"raw", r.raw},
           {"reason", r.reason}, {"ts", r.wall_time},  {"mono_ns", r.mono_ns}};
    out << (i ? ",\n" : "\n") << j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  out << (rows->empty() ? "]\n" : "\n]\n");
  return {};
}

Status write_reorders(std::ostream& out, store::Database& db, const ReordersQuery& q) {
  store::ProposalFilter f;
  f.open_only = q.open;
  f.sku = q.sku;
  f.limit = q.limit;
  auto props = store::load_proposals(db, f);
  if (!props) return props.error();
  auto arr = json::array();
  for (const auto& p : *props) arr.push_back(store::proposal_json(p));
  out << arr.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return {};
}

Expected<json> zones_json(store::Database& db, const Config& cfg, std::int64_t now) {
  auto states = store::load_zone_states(db);
  if (!states) return states.error();
  json list = json::array();
  for (const auto& z : cfg.zones) {
    json entry;
    for (const auto& [s, updated] : *states)
      if (s.value("zone", "") == z.id) {
        entry = s;
        entry["state_age_s"] = (now - updated) / 1000;
      }
    if (entry.is_null())
      entry = {{"zone", z.id},
               {"level", nullptr},
               {"probes", json::array()},
               {"open_excursions", json::array()},
               {"mkt_24h_c", nullptr},
               {"mkt_30d_c", nullptr},
               {"updated_at", nullptr}};
    for (auto& p : entry["probes"])
      if (p.contains("last") && p["last"].is_object())
        p["last"]["age_s"] = (now - p["last"].value("wall_ms", now)) / 1000;
    entry.erase("run");
    list.push_back(std::move(entry));
  }
  return list;
}

Status write_zones(std::ostream& out, store::Database& db, const Config& cfg, std::int64_t now) {
  auto list = zones_json(db, cfg, now);
  if (!list) return list.error();
  out << list->dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return {};
}

Expected<json> alarms_json(store::Database& db, const AlarmsQuery& q) {
  json list = json::array();
  auto states = store::load_zone_states(db);
  if (!states) return states.error();
  for (const auto& [s, updated] : *states)
    for (auto x : s.value("open_excursions", json::array()))
      if (x.value("alarmed", false)) {
        x["open"] = true;
        list.push_back(std::move(x));
      }
  if (!q.open) {
    auto closed = store::list_excursions(db, true, q.limit);
    if (!closed) return closed.error();
    for (auto& x : *closed) {
      x["open"] = false;
      list.push_back(std::move(x));
    }
  }
  // What each alarm's outputs did (levels fired, attempts), and the outputs' own failures.
  auto firings = store::output_firings(db);
  if (!firings) return firings.error();
  auto out_failures = store::list_output_failures(db, q.open);
  if (!out_failures) return out_failures.error();
  for (auto& x : list)
    if (auto it = firings->find(x.value("id", "")); it != firings->end()) x["outputs"] = it->second;
  for (auto& f : *out_failures) list.push_back(std::move(f));
  return list;
}

Status write_alarms(std::ostream& out, store::Database& db, const AlarmsQuery& q) {
  auto list = alarms_json(db, q);
  if (!list) return list.error();
  out << list->dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return {};
}

Status write_holds(std::ostream& out, store::Database& db, const HoldsQuery& q) {
  auto holds = store::list_holds(db, q.open, q.limit);
  if (!holds) return holds.error();
  json list = json::array();
  for (const auto& h : *holds) list.push_back(store::hold_json(h));
  out << list.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return {};
}

Status write_audit(std::ostream& out, store::Database& db, const AuditQuery& q) {
  auto list = store::audit_list(db, q.since, q.limit);
  if (!list) return list.error();
  json arr = json::array();
  for (const auto& r : *list) {
    auto parsed = parse_json(r.details);  // stored text: read as outside input
    json d = parsed ? std::move(*parsed) : json(printable(r.details, 1000));
    arr.push_back({{"seq", r.seq},
                   {"at", r.at},
                   {"who", r.who},
                   {"what", r.what},
                   {"why", r.why},
                   {"details", d},
                   {"prev_hash", r.prev_hash},
                   {"hash", r.hash}});
  }
  out << arr.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  return {};
}

}  // namespace depot::app::views
