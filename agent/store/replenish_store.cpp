#include "store/replenish_store.hpp"

#include "store/audit.hpp"

#include <cmath>
#include <limits>

#include "core/json_parse.hpp"
#include "core/time.hpp"
#include "store/outbox.hpp"

namespace depot::store {
namespace {

using nlohmann::json;
using replenish::Proposal;
using replenish::ProposalState;

json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

double number_or(const json& j, const char* key, double dflt) {
  auto it = j.find(key);
  if (it == j.end()) return dflt;
  if (it->is_null()) return std::numeric_limits<double>::infinity();
  return it->is_number() ? it->get<double>() : dflt;
}

// JSON written by this or an earlier run, read back as outside input: bounded; null when it
// cannot be read (the readers above take null for "nothing stored").
json stored_json(std::string_view text) {
  auto j = parse_json(text, JsonLimits{1 << 20, 16});
  return j ? std::move(*j) : json(nullptr);
}

std::int64_t int_or(const json& j, const char* key, std::int64_t dflt) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : dflt;
}

std::optional<replenish::Reason> parse_reason(std::string_view s) {
  using replenish::Reason;
  for (auto r : {Reason::kNoPolicy, Reason::kNoDemand, Reason::kAboveReorderPoint,
                 Reason::kOpenProposal, Reason::kMaxStockBelowMoq, Reason::kCoverCapReached, Reason::kNoSourceCanTake, Reason::kCancelledRecently,
                 Reason::kReorderPointReached,
                 Reason::kTopUpBelowSafetyStock, Reason::kTopUpStockoutBeforeEta})
    if (replenish::to_string(r) == s) return r;
  return std::nullopt;
}

replenish::DemandSource parse_source(std::string_view s) {
  using replenish::DemandSource;
  for (auto d : {DemandSource::kNone, DemandSource::kShortHistory, DemandSource::kCatalog,
                 DemandSource::kPinned, DemandSource::kSmoothed, DemandSource::kIntermittent})
    if (replenish::to_string(d) == s) return d;
  return DemandSource::kNone;
}

}  // namespace

json numbers_json(const replenish::Numbers& n) {
  json j{{"on_hand", n.on_hand},
         {"held", n.held},
         {"available", n.available},
         {"reserved", n.reserved},
         {"backordered", n.backordered},
         {"on_order", n.on_order},
         {"awaiting", n.awaiting},
         {"position", n.position},
         {"daily_demand", n.daily_demand},
         {"daily_demand_sd", n.daily_demand_sd},
         {"demand_source", replenish::to_string(n.demand_source)},
         {"lead_time_days", n.lead_time_days},
         {"lead_time_sd_days", n.lead_time_sd_days},
         {"review_period_days", n.review_period_days},
         {"surge_factor", n.surge_factor},
         {"surge_signal", n.surge_signal.empty() ? json(nullptr) : json(n.surge_signal)},
         {"source_kind", n.source_kind.empty() ? json(nullptr) : json(n.source_kind)},
         {"landed_unit_cost", n.landed_unit_cost},
         {"source_why", n.source_why},
         {"campaign_factor", n.campaign_factor},
         {"lead_time_demand", n.lead_time_demand},
         {"safety_stock", n.safety_stock},
         {"reorder_point", n.reorder_point},
         {"review_demand", n.review_demand},
         {"order_up_to", n.order_up_to},
         {"days_of_cover", finite_or_null(n.days_of_cover)},
         {"projected_stockout", n.projected_stockout_ms
                                    ? json(timefmt::rfc3339_from_unix_ms(*n.projected_stockout_ms))
                                    : json(nullptr)},
         {"earliest_arrival", timefmt::rfc3339_from_unix_ms(n.earliest_arrival_ms)},
         {"stockout_risk", n.stockout_risk},
         {"trigger", replenish::to_string(n.trigger)},
         {"max_cover_days", n.max_cover_days},
         {"cover_cap", n.cover_cap ? json(*n.cover_cap) : json(nullptr)},
         {"reorder_point_above_max_stock", n.reorder_point_above_max_stock}};
  return j;
}

replenish::Numbers numbers_from_json(const json& j) {
  replenish::Numbers n;
  if (!j.is_object()) return n;
  n.on_hand = int_or(j, "on_hand", 0);
  n.held = int_or(j, "held", 0);
  n.available = int_or(j, "available", 0);
  n.reserved = int_or(j, "reserved", 0);
  n.backordered = int_or(j, "backordered", 0);
  n.on_order = int_or(j, "on_order", 0);
  n.awaiting = int_or(j, "awaiting", 0);
  n.position = int_or(j, "position", 0);
  n.daily_demand = number_or(j, "daily_demand", 0);
  n.daily_demand_sd = number_or(j, "daily_demand_sd", 0);
  if (auto it = j.find("demand_source"); it != j.end() && it->is_string())
    n.demand_source = parse_source(it->get<std::string>());
  n.lead_time_days = number_or(j, "lead_time_days", 0);
  n.lead_time_sd_days = number_or(j, "lead_time_sd_days", 0);
  n.review_period_days = number_or(j, "review_period_days", 0);
  n.surge_factor = number_or(j, "surge_factor", 1);
  if (auto it = j.find("surge_signal"); it != j.end() && it->is_string())
    n.surge_signal = it->get<std::string>();
  if (auto it = j.find("source_kind"); it != j.end() && it->is_string())
    n.source_kind = it->get<std::string>();
  n.landed_unit_cost = number_or(j, "landed_unit_cost", 0);
  if (auto it = j.find("source_why"); it != j.end() && it->is_string())
    n.source_why = it->get<std::string>();
  n.campaign_factor = number_or(j, "campaign_factor", 1);
  n.lead_time_demand = number_or(j, "lead_time_demand", 0);
  n.safety_stock = number_or(j, "safety_stock", 0);
  n.reorder_point = number_or(j, "reorder_point", 0);
  n.review_demand = number_or(j, "review_demand", 0);
  n.order_up_to = number_or(j, "order_up_to", 0);
  n.days_of_cover = number_or(j, "days_of_cover", 0);
  if (auto it = j.find("projected_stockout"); it != j.end() && it->is_string())
    n.projected_stockout_ms = timefmt::parse_rfc3339_ms(it->get<std::string>());
  if (auto it = j.find("earliest_arrival"); it != j.end() && it->is_string())
    n.earliest_arrival_ms = timefmt::parse_rfc3339_ms(it->get<std::string>()).value_or(0);
  if (auto it = j.find("stockout_risk"); it != j.end() && it->is_boolean())
    n.stockout_risk = it->get<bool>();
  if (auto it = j.find("trigger"); it != j.end() && it->is_string())
    for (auto t : {replenish::Trigger::kBaseline, replenish::Trigger::kCampaign,
                   replenish::Trigger::kSurge})
      if (replenish::to_string(t) == it->get<std::string>()) n.trigger = t;
  n.max_cover_days = number_or(j, "max_cover_days", 0);
  if (auto it = j.find("reorder_point_above_max_stock"); it != j.end() && it->is_boolean())
    n.reorder_point_above_max_stock = it->get<bool>();
  if (auto it = j.find("cover_cap"); it != j.end() && it->is_number_integer())
    n.cover_cap = it->get<std::int64_t>();
  return n;
}

std::optional<ProposalState> parse_proposal_state(std::string_view s) {
  for (auto st : {ProposalState::kProposed, ProposalState::kAcknowledged, ProposalState::kReceived,
                  ProposalState::kCancelled})
    if (replenish::to_string(st) == s) return st;
  return std::nullopt;
}

json proposal_json(const Proposal& p) {
  json j{{"proposal_id", p.id},
         {"sku", p.sku},
         {"state", replenish::to_string(p.state)},
         {"reason", replenish::to_string(p.reason)},
         {"urgent", p.urgent},
         {"supplier", p.supplier},
         {"quantity", p.quantity},
         {"created_at", timefmt::rfc3339_from_unix_ms(p.created_ms)},
         {"expected_arrival", timefmt::rfc3339_from_unix_ms(p.expected_arrival_ms)},
         {"numbers", numbers_json(p.numbers)}};
  if (p.state != ProposalState::kProposed && !p.order.order_number.empty()) {
    j["order_number"] = p.order.order_number;
    j["ordered_qty"] = p.order.quantity;
    j["received_qty"] = p.order.received;
    j["acknowledged_at"] = timefmt::rfc3339_from_unix_ms(p.order.acknowledged_ms);
  }
  if (p.closed_ms) j["closed_at"] = timefmt::rfc3339_from_unix_ms(p.closed_ms);
  if (p.state == ProposalState::kCancelled) j["cancel_reason"] = p.cancel_reason;
  if (p.withdrawn) j["withdrawn"] = true;
  return j;
}

Expected<std::vector<Proposal>> load_proposals(Database& db, const ProposalFilter& f) {
  std::string sql =
      "SELECT id, sku, state, reason, urgent, supplier, quantity, created_ms,"
      " expected_arrival_ms, order_number, acknowledged_ms, ordered_qty, received_qty,"
      " closed_ms, cancel_reason, numbers, withdrawn FROM proposals WHERE 1";
  if (f.open_only)
    sql += f.or_cancelled_since_ms
               ? " AND (state IN ('proposed','acknowledged') OR (state = 'cancelled' AND"
                 " closed_ms >= ?3))"
               : " AND state IN ('proposed','acknowledged')";
  if (f.sku) sql += " AND sku = ?1";
  if (f.id) sql += " AND id = ?2";
  if (f.limit > 0)
    sql = "SELECT * FROM (" + sql + " ORDER BY created_ms DESC, id DESC LIMIT " +
          std::to_string(f.limit) + ") ORDER BY created_ms, id";
  else
    sql += " ORDER BY created_ms, id";
  auto q = db.prepare(sql);
  if (!q) return q.error();
  if (f.sku) (*q)->bind(1, *f.sku);
  if (f.id) (*q)->bind(2, *f.id);
  if (f.open_only && f.or_cancelled_since_ms) (*q)->bind(3, *f.or_cancelled_since_ms);
  std::vector<Proposal> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    auto& s = **q;
    Proposal p;
    p.id = s.text(0);
    p.sku = s.text(1);
    p.state = parse_proposal_state(s.text_view(2)).value_or(ProposalState::kProposed);
    p.reason = parse_reason(s.text_view(3)).value_or(replenish::Reason::kReorderPointReached);
    p.urgent = s.int64(4) != 0;
    p.supplier = s.text(5);
    p.quantity = s.int64(6);
    p.created_ms = s.int64(7);
    p.expected_arrival_ms = s.int64(8);
    p.order.order_number = s.opt_text(9).value_or("");
    p.order.acknowledged_ms = s.opt_int64(10).value_or(0);
    p.order.quantity = s.opt_int64(11).value_or(0);
    p.order.received = s.int64(12);
    p.closed_ms = s.opt_int64(13).value_or(0);
    p.cancel_reason = s.opt_text(14).value_or("");
    p.numbers = numbers_from_json(stored_json(s.text_view(15)));
    p.withdrawn = s.int64(16) != 0;
    out.push_back(std::move(p));
  }
  (*q)->reset();
  return out;
}

Status insert_proposal(Database& db, const Proposal& p, std::string_view now) {
  auto q = db.prepare(
      "INSERT INTO proposals(id, sku, state, reason, urgent, supplier, quantity, created_ms,"
      " expected_arrival_ms, position, reorder_point, safety_stock, daily_demand,"
      " daily_demand_sd, lead_time_days, lead_time_sd_days, surge_factor, campaign_factor,"
      " numbers, updated_at) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,"
      "?17,?18,?19,?20)");
  if (!q) return q.error();
  const auto& n = p.numbers;
  auto st = (*q)->bind(1, p.id)
                .bind(2, p.sku)
                .bind(3, replenish::to_string(p.state))
                .bind(4, replenish::to_string(p.reason))
                .bind(5, std::int64_t{p.urgent ? 1 : 0})
                .bind(6, p.supplier)
                .bind(7, p.quantity)
                .bind(8, p.created_ms)
                .bind(9, p.expected_arrival_ms)
                .bind(10, n.position)
                .bind(11, n.reorder_point)
                .bind(12, n.safety_stock)
                .bind(13, n.daily_demand)
                .bind(14, n.daily_demand_sd)
                .bind(15, n.lead_time_days)
                .bind(16, n.lead_time_sd_days)
                .bind(17, n.surge_factor)
                .bind(18, n.campaign_factor)
                .bind(19, numbers_json(n).dump())
                .bind(20, now)
                .run();
  if (!st) return st;
  auto record = proposal_json(p);
  record["event"] = "proposed";
  if (auto seq = outbox_append(db, "reorders", p.id + ":proposed", now, std::move(record)); !seq)
    return seq.error();
  return {};
}

Status update_proposal(Database& db, const Proposal& p, std::string_view event,
                       std::string_view record_id, std::string_view now) {
  auto q = db.prepare(
      "UPDATE proposals SET state=?2, expected_arrival_ms=?3, order_number=?4,"
      " acknowledged_ms=?5, ordered_qty=?6, received_qty=?7, closed_ms=?8, cancel_reason=?9,"
      " updated_at=?10, withdrawn=?11 WHERE id=?1");
  if (!q) return q.error();
  const bool ordered = !p.order.order_number.empty();
  auto st =
      (*q)->bind(1, p.id)
          .bind(2, replenish::to_string(p.state))
          .bind(3, p.expected_arrival_ms)
          .bind(4, ordered ? std::optional<std::string>(p.order.order_number) : std::nullopt)
          .bind(5, ordered ? std::optional<std::int64_t>(p.order.acknowledged_ms) : std::nullopt)
          .bind(6, ordered ? std::optional<std::int64_t>(p.order.quantity) : std::nullopt)
          .bind(7, p.order.received)
          .bind(8, p.closed_ms ? std::optional<std::int64_t>(p.closed_ms) : std::nullopt)
          .bind(9, p.state == ProposalState::kCancelled
                       ? std::optional<std::string>(p.cancel_reason)
                       : std::nullopt)
          .bind(10, now)
          .bind(11, std::int64_t{p.withdrawn ? 1 : 0})
          .run();
  if (!st) return st;
  if (sqlite3_changes(db.handle()) != 1) return Error{"proposal \"" + p.id + "\" not found"};
  auto record = proposal_json(p);
  record["event"] = std::string(event);
  if (auto seq = outbox_append(db, "reorders", record_id, now, std::move(record)); !seq)
    return seq.error();
  return {};
}

Expected<bool> withdraw_proposal(Database& db, const Proposal& p, std::string_view now) {
  auto q = db.prepare(
      "UPDATE proposals SET state='cancelled', closed_ms=?2, cancel_reason=?3, withdrawn=1,"
      " updated_at=?4 WHERE id=?1 AND state='proposed'");
  if (!q) return q.error();
  if (auto st = (*q)->bind(1, p.id).bind(2, p.closed_ms).bind(3, p.cancel_reason).bind(4, now).run();
      !st)
    return st.error();
  if (sqlite3_changes(db.handle()) != 1) return false;
  auto record = proposal_json(p);
  record["event"] = "withdrawn";
  if (auto seq = outbox_append(db, "reorders", p.id + ":withdrawn", now, std::move(record)); !seq)
    return seq.error();
  return true;
}

Status revise_proposal(Database& db, const Proposal& p, const Proposal& previous,
                       std::string_view record_id, std::string_view now) {
  auto q = db.prepare(
      "UPDATE proposals SET reason=?2, urgent=?3, supplier=?4, quantity=?5,"
      " expected_arrival_ms=?6, position=?7, reorder_point=?8, safety_stock=?9,"
      " daily_demand=?10, daily_demand_sd=?11, surge_factor=?12, campaign_factor=?13,"
      " numbers=?14, updated_at=?15 WHERE id=?1 AND state='proposed'");
  if (!q) return q.error();
  const auto& n = p.numbers;
  auto st = (*q)->bind(1, p.id)
                .bind(2, replenish::to_string(p.reason))
                .bind(3, std::int64_t{p.urgent ? 1 : 0})
                .bind(4, p.supplier)
                .bind(5, p.quantity)
                .bind(6, p.expected_arrival_ms)
                .bind(7, n.position)
                .bind(8, n.reorder_point)
                .bind(9, n.safety_stock)
                .bind(10, n.daily_demand)
                .bind(11, n.daily_demand_sd)
                .bind(12, n.surge_factor)
                .bind(13, n.campaign_factor)
                .bind(14, numbers_json(n).dump())
                .bind(15, now)
                .run();
  if (!st) return st;
  if (sqlite3_changes(db.handle()) != 1)
    return Error{"proposal \"" + p.id + "\" is not proposed: not revised"};
  auto record = proposal_json(p);
  record["event"] = "revised";
  record["previous"] = {{"quantity", previous.quantity},
                        {"reason", replenish::to_string(previous.reason)},
                        {"supplier", previous.supplier},
                        {"numbers", numbers_json(previous.numbers)}};
  if (auto seq = outbox_append(db, "reorders", record_id, now, std::move(record)); !seq)
    return seq.error();
  return {};
}

namespace {
Expected<Proposal> one_proposal(Database& db, std::string_view id) {
  auto found = load_proposals(db, {.id = std::string(id)});
  if (!found) return found.error();
  if (found->empty()) return Error{"no proposal with id \"" + std::string(id) + "\"", ErrorKind::kNotFound};
  return std::move(found->front());
}
}  // namespace

Expected<Proposal> acknowledge_proposal(Database& db, std::string_view id, std::string order_number,
                                        std::optional<std::int64_t> quantity,
                                        std::optional<std::int64_t> eta_ms, std::int64_t now_ms) {
  auto p = one_proposal(db, id);
  if (!p) return p.error();
  const auto qty = quantity.value_or(p->quantity);
  const auto eta = eta_ms.value_or(p->expected_arrival_ms);
  auto next = replenish::acknowledge(std::move(*p), std::move(order_number), eta, qty, now_ms);
  if (!next) return next.error();
  if (auto st = update_proposal(db, *next, "acknowledged", next->id + ":acknowledged",
                                timefmt::rfc3339_from_unix_ms(now_ms));
      !st)
    return st.error();
  return next;
}

Expected<Proposal> cancel_proposal(Database& db, std::string_view id, std::string why,
                                   std::int64_t now_ms) {
  if (why.empty()) return Error{"a reason for cancelling is required", ErrorKind::kBadInput};
  auto p = one_proposal(db, id);
  if (!p) return p.error();
  auto next = replenish::cancel(std::move(*p), std::move(why), now_ms);
  if (!next) return next.error();
  if (auto st = update_proposal(db, *next, "cancelled", next->id + ":cancelled",
                                timefmt::rfc3339_from_unix_ms(now_ms));
      !st)
    return st.error();
  return next;
}

Expected<Proposal> decide_proposal(Database& db, const ProposalDecision& d,
                                   const ProposalSigner& s, std::int64_t now_ms) {
  auto p = d.ack ? acknowledge_proposal(db, d.id, d.order, d.qty, d.eta, now_ms)
                 : cancel_proposal(db, d.id, d.why, now_ms);
  if (!p) return p;
  AuditEntry entry;
  entry.who = s.who;
  entry.at = timefmt::rfc3339_from_unix_ms(now_ms);
  entry.what = d.ack ? "reorder.ack" : "reorder.cancel";
  entry.why = d.ack ? "ordered: " + d.order : d.why;
  entry.details = {{"proposal", p->id}, {"sku", p->sku}, {"signed", s.signed_by_account},
                   {"source", s.source}};
  if (d.ack) {
    entry.details["order_number"] = p->order.order_number;
    entry.details["quantity"] = p->order.quantity;
  }
  if (auto r = audit_append(db, entry); !r) return r.error();
  return p;
}

Status record_order_receipt(Database& db, std::string_view movement_id,
                            std::string_view proposal_id, std::int64_t qty) {
  auto q = db.prepare("INSERT INTO order_receipts(movement_id, proposal_id, qty) VALUES(?1,?2,?3)");
  if (!q) return q.error();
  return (*q)->bind(1, movement_id).bind(2, proposal_id).bind(3, qty).run();
}

Expected<std::vector<ReplenishItem>> load_replenish_items(Database& db) {
  auto q = db.prepare(
      "SELECT sku, policy, daily_demand, daily_demand_sd, pin_demand FROM skus WHERE active"
      " ORDER BY sku");
  if (!q) return q.error();
  std::vector<ReplenishItem> items;
  if (auto n = db.prepare("SELECT count(*) FROM skus WHERE active"); n) {  // no regrowth
    if (auto row = (*n)->step(); row && *row) items.reserve(static_cast<std::size_t>((*n)->int64(0)));
    (*n)->reset();
  }
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    auto& s = **q;
    auto& i = items.emplace_back();
    i.sku = s.text(0);
    i.policy = s.text(1);
    i.prior.daily_demand = s.opt_real(2);
    i.prior.daily_demand_sd = s.opt_real(3);
    i.prior.pin_demand = s.int64(4) != 0;
  }
  (*q)->reset();
  return items;
}

Expected<std::vector<DemandDay>> load_demand_days(Database& db) {
  auto q = db.prepare("SELECT sku, day, picked, returned FROM demand_days ORDER BY sku, day");
  if (!q) return q.error();
  std::vector<DemandDay> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    out.push_back({(*q)->text(0), (*q)->int64(1), (*q)->int64(2), (*q)->int64(3)});
  }
  (*q)->reset();
  return out;
}

Status add_demand(Database& db, std::string_view sku, std::int64_t day, std::int64_t picked,
                  std::int64_t returned) {
  auto q = db.prepare(
      "INSERT INTO demand_days(sku, day, picked, returned) VALUES(?1,?2,?3,?4)"
      " ON CONFLICT(sku, day) DO UPDATE SET picked = picked + excluded.picked,"
      " returned = returned + excluded.returned");
  if (!q) return q.error();
  return (*q)->bind(1, sku).bind(2, day).bind(3, picked).bind(4, returned).run();
}

Status remove_demand(Database& db, std::string_view sku, std::int64_t day, std::int64_t picked,
                     std::int64_t returned) {
  auto q = db.prepare(
      "UPDATE demand_days SET picked = max(picked - ?3, 0), returned = max(returned - ?4, 0)"
      " WHERE sku = ?1 AND day = ?2");
  if (!q) return q.error();
  return (*q)->bind(1, sku).bind(2, day).bind(3, picked).bind(4, returned).run();
}

Expected<std::int64_t> replenish_watermark(Database& db) {
  auto v = db.meta("replenish_seq");
  if (!v) return v.error();
  if (!*v) return std::int64_t{0};
  try {
    return static_cast<std::int64_t>(std::stoll(**v));
  } catch (...) {
    return Error{"meta replenish_seq: \"" + **v + "\" is not a number"};
  }
}

Status set_replenish_watermark(Database& db, std::int64_t seq) {
  return db.set_meta("replenish_seq", std::to_string(seq));
}

Expected<std::vector<FoldMovement>> movements_after(Database& db, std::int64_t after,
                                                    std::int64_t limit) {
  auto q = db.prepare(
      "SELECT m.seq, m.id, m.sku, m.kind, m.qty, m.held_qty, m.wall_time, m.reverses, o.kind,"
      " o.wall_time FROM movements m LEFT JOIN movements o ON o.id = m.reverses"
      " WHERE m.seq > ?1 ORDER BY m.seq LIMIT ?2");
  if (!q) return q.error();
  (*q)->bind(1, after).bind(2, limit);
  std::vector<FoldMovement> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    auto& s = **q;
    out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), s.text(6), s.int64(4), s.int64(5),
                   s.opt_text(7).value_or(""), s.opt_text(8).value_or(""),
                   s.opt_text(9).value_or("")});
  }
  (*q)->reset();
  return out;
}

Expected<std::vector<std::pair<std::string, std::int64_t>>> order_receipts_of(
    Database& db, std::string_view movement_id, bool remove) {
  auto q = db.prepare("SELECT proposal_id, qty FROM order_receipts WHERE movement_id = ?1");
  if (!q) return q.error();
  (*q)->bind(1, movement_id);
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    out.emplace_back((*q)->text(0), (*q)->int64(1));
  }
  (*q)->reset();
  if (out.empty() || !remove) return out;
  auto del = db.prepare("DELETE FROM order_receipts WHERE movement_id = ?1");
  if (!del) return del.error();
  if (auto st = (*del)->bind(1, movement_id).run(); !st) return st.error();
  return out;
}

Expected<std::int64_t> last_movement_seq(Database& db) {
  auto q = db.prepare("SELECT coalesce(max(seq), 0) FROM movements");
  if (!q) return q.error();
  auto row = (*q)->step();
  if (!row) return row.error();
  std::int64_t v = *row ? (*q)->int64(0) : 0;
  (*q)->reset();
  return v;
}

Expected<std::vector<replenish::Campaign>> load_campaigns(Database& db) {
  auto q = db.prepare(
      "SELECT name, skus, policy, factor, start_ms, end_ms FROM campaigns ORDER BY name");
  if (!q) return q.error();
  std::vector<replenish::Campaign> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    replenish::Campaign c;
    c.name = (*q)->text(0);
    auto skus = stored_json((*q)->text_view(1));
    if (skus.is_array())
      for (const auto& s : skus)
        if (s.is_string()) c.skus.push_back(s.get<std::string>());
    c.policy = (*q)->text(2);
    c.factor = (*q)->real(3);
    c.start_ms = (*q)->int64(4);
    c.end_ms = (*q)->int64(5);
    out.push_back(std::move(c));
  }
  (*q)->reset();
  return out;
}

Status set_campaign(Database& db, const replenish::Campaign& c, std::string_view now) {
  auto q = db.prepare(
      "INSERT INTO campaigns(name, skus, policy, factor, start_ms, end_ms, set_at)"
      " VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(name) DO UPDATE SET skus=excluded.skus,"
      " policy=excluded.policy, factor=excluded.factor, start_ms=excluded.start_ms,"
      " end_ms=excluded.end_ms, set_at=excluded.set_at");
  if (!q) return q.error();
  return (*q)
      ->bind(1, c.name)
      .bind(2, json(c.skus).dump())
      .bind(3, c.policy)
      .bind(4, c.factor)
      .bind(5, c.start_ms)
      .bind(6, c.end_ms)
      .bind(7, now)
      .run();
}

Expected<bool> clear_campaign(Database& db, std::string_view name) {
  auto q = db.prepare("DELETE FROM campaigns WHERE name = ?1");
  if (!q) return q.error();
  if (auto st = (*q)->bind(1, name).run(); !st) return st.error();
  return sqlite3_changes(db.handle()) > 0;
}

Expected<std::vector<ReplenishAlarm>> load_alarms(Database& db, bool active_only) {
  auto q = db.prepare(std::string("SELECT id, sku, kind, raised_at, cleared_at, details FROM"
                                  " replenish_alarms") +
                      (active_only ? " WHERE cleared_at IS NULL" : "") + " ORDER BY raised_at, id");
  if (!q) return q.error();
  std::vector<ReplenishAlarm> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    auto& s = **q;
    out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.opt_text(4),
                   stored_json(s.text_view(5))});
  }
  (*q)->reset();
  return out;
}

Status raise_alarm(Database& db, const ReplenishAlarm& a) {
  auto q = db.prepare(
      "INSERT INTO replenish_alarms(id, sku, kind, raised_at, details) VALUES(?1,?2,?3,?4,?5)");
  if (!q) return q.error();
  if (auto st = (*q)->bind(1, a.id)
                    .bind(2, a.sku)
                    .bind(3, a.kind)
                    .bind(4, a.raised_at)
                    .bind(5, a.details.dump())
                    .run();
      !st)
    return st;
  json record{{"type", "replenishment"}, {"alarm", a.kind}, {"state", "raised"},
              {"alarm_id", a.id},        {"sku", a.sku},    {"details", a.details}};
  if (auto seq = outbox_append(db, "alarms", a.id + ":raised", a.raised_at, std::move(record));
      !seq)
    return seq.error();
  return {};
}

Status clear_alarm(Database& db, const ReplenishAlarm& a, std::string_view now,
                   const json& details) {
  auto q = db.prepare("UPDATE replenish_alarms SET cleared_at = ?2 WHERE id = ?1");
  if (!q) return q.error();
  if (auto st = (*q)->bind(1, a.id).bind(2, now).run(); !st) return st;
  json record{{"type", "replenishment"}, {"alarm", a.kind}, {"state", "cleared"},
              {"alarm_id", a.id},        {"sku", a.sku},    {"details", details}};
  if (auto seq = outbox_append(db, "alarms", a.id + ":cleared", now, std::move(record)); !seq)
    return seq.error();
  return {};
}

}  // namespace depot::store
