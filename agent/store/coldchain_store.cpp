#include "store/coldchain_store.hpp"

#include <sqlite3.h>

#include <cmath>
#include <cstdio>

#include "core/json_parse.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "store/audit.hpp"
#include "store/outbox.hpp"

namespace depot::store {

using nlohmann::json;
namespace cc = coldchain;

namespace {


// A reading on the wire: short keys, numbers rounded to 3 decimals (what probes resolve).
double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

}  // namespace

Status insert_readings(Database& db, std::span<const StoredReading> readings, bool telemetry,
                       std::string_view record_id, std::string_view ts,
                       std::size_t max_record_bytes) {
  if (readings.empty()) return {};
  auto ins = db.prepare(
      "INSERT INTO readings(probe, zone, wall_ms, mono_ns, celsius, quality, reason,"
      " clock_unsynchronized, quantity) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  if (!ins) return ins.error();
  // The telemetry records, written directly (no JSON DOM): this runs for every reading.
  // `items` holds the readings of the record being filled, `count` how many.
  std::string items, rec;
  std::size_t count = 0, records = 0;
  if (telemetry) items.reserve(std::min<std::size_t>(max_record_bytes, readings.size() * 120));
  auto flush = [&]() -> Status {
    rec.clear();
    rec += "{\"type\":\"readings\",\"count\":";
    rec += std::to_string(count);
    rec += ",\"readings\":[";
    rec += items;
    rec += "]}";
    ++records;
    std::string id(record_id);
    if (records > 1) id += "." + std::to_string(records);
    auto seq = outbox_append_text(db, "telemetry", id, ts, rec);
    if (!seq) return seq.error();
    items.clear();
    count = 0;
    return {};
  };
  bool first = true;
  char num[32];
  for (const auto& sr : readings) {
    const auto& r = sr.reading;
    const bool has_value = r.quality == cc::Quality::kGood || r.quality == cc::Quality::kImplausible;
    (*ins)->bind(1, r.probe).bind(2, sr.zone).bind(3, r.wall_ms).bind(4, r.mono_ns);
    if (has_value)
      (*ins)->bind(5, r.celsius);
    else
      (*ins)->bind_null(5);
    (*ins)->bind(6, cc::to_string(r.quality));
    if (r.reason.empty())
      (*ins)->bind_null(7);
    else
      (*ins)->bind(7, r.reason);
    (*ins)->bind(8, static_cast<std::int64_t>(r.flags.clock_unsynchronized));
    (*ins)->bind(9, cc::to_string(sr.measures));
    if (auto st = (*ins)->run(); !st) return st;
    if (!telemetry) continue;
    const auto mark = items.size();
    if (!first) items += ',';
    JsonObjectWriter w(items);
    w.field("probe", r.probe)
        .field("zone", sr.zone)
        .field("wall_ms", r.wall_ms)
        .field("mono_ns", r.mono_ns)
        .field("quality", cc::to_string(r.quality));
    if (has_value && sr.measures == cc::Measure::kDoor) {
      w.field("open", r.celsius > 0.5);
    } else if (has_value && std::isfinite(r.celsius)) {
      std::snprintf(num, sizeof num, "%.3f", round3(r.celsius));
      // "4.000" -> "4.0", "4.125" stays: a JSON number either way.
      std::string_view n(num);
      while (n.size() > 2 && n.back() == '0' && n[n.size() - 2] != '.') n.remove_suffix(1);
      items += sr.measures == cc::Measure::kHumidity ? ",\"rh\":" : ",\"celsius\":";
      items += n;
    }
    if (!r.reason.empty()) w.field("reason", r.reason);
    if (r.flags.clock_unsynchronized) w.field("clock_unsynchronized", true);
    w.close();
    // 64 bytes for the record's head and tail. A reading that does not fit starts the next
    // record (one reading alone always goes: its strings are bounded far below the limit).
    if (count > 0 && items.size() + 64 > max_record_bytes) {
      std::string reading = items.substr(mark + (first ? 0 : 1));
      items.resize(mark);
      if (auto st = flush(); !st) return st;
      items = std::move(reading);
    }
    first = false;
    ++count;
  }
  if (!telemetry || count == 0) return {};
  return flush();
}

Status insert_minutes(Database& db, std::span<const MinuteSummary> minutes) {
  auto ins = db.prepare(
      "INSERT INTO reading_minutes(probe, minute_ms, zone, min_c, max_c, mean_c, count, good,"
      " quantity) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9) ON CONFLICT(probe, minute_ms) DO NOTHING");
  if (!ins) return ins.error();
  for (const auto& m : minutes) {
    (*ins)->bind(1, m.probe).bind(2, m.minute_ms).bind(3, m.zone).bind(4, m.min_c)
        .bind(5, m.max_c).bind(6, m.mean_c).bind(7, m.count).bind(8, m.good)
        .bind(9, cc::to_string(m.measures));
    if (auto st = (*ins)->run(); !st) return st;
  }
  return {};
}

Status insert_zone_event(Database& db, const cc::Event& e, std::string_view id,
                         std::string_view excursion_id) {
  auto ins = db.prepare(
      "INSERT INTO zone_events(id, zone, kind, side, celsius, probe, wall_ms, mono_ns,"
      " clock_unsynchronized, excursion, cause, repeat, who, comment)"
      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)");
  if (!ins) return ins.error();
  auto side = e.side ? std::optional<std::string>(std::string(cc::to_string(*e.side)))
                     : std::nullopt;
  auto cause = e.cause ? std::optional<std::string>(std::string(cc::to_string(*e.cause)))
                       : std::nullopt;
  auto text_or_null = [](std::string_view s) {
    return s.empty() ? std::nullopt : std::optional<std::string>(std::string(s));
  };
  (*ins)
      ->bind(1, id)
      .bind(2, e.zone)
      .bind(3, cc::to_string(e.kind))
      .bind(4, side)
      .bind(5, e.celsius)
      .bind(6, text_or_null(e.probe))
      .bind(7, e.at.wall_ms)
      .bind(8, e.at.mono_ns)
      .bind(9, static_cast<std::int64_t>(e.at.clock_unsynchronized))
      .bind(10, text_or_null(excursion_id))
      .bind(11, cause)
      .bind(12, static_cast<std::int64_t>(e.repeat))
      .bind(13, text_or_null(e.who))
      .bind(14, text_or_null(e.comment));
  if (auto st = (*ins)->run(); !st) return st;
  json rec{{"type", "event"},
           {"kind", cc::to_string(e.kind)},
           {"zone", e.zone},
           {"at", timefmt::rfc3339_from_unix_ms(e.at.wall_ms)},
           {"wall_ms", e.at.wall_ms},
           {"mono_ns", e.at.mono_ns}};
  if (e.at.clock_unsynchronized) rec["clock_unsynchronized"] = true;
  if (side) rec["side"] = *side;
  if (e.celsius) rec["celsius"] = round3(*e.celsius);
  if (!e.probe.empty()) rec["probe"] = e.probe;
  if (!excursion_id.empty()) rec["excursion"] = excursion_id;
  if (cause) rec["cause"] = *cause;
  if (e.kind == cc::EventKind::kAlarmRepeat) rec["repeat"] = e.repeat;
  if (!e.who.empty()) rec["who"] = e.who;
  if (e.kind == cc::EventKind::kAcknowledged) rec["comment"] = e.comment;
  if (e.excursion) rec["excursion_record"] = excursion_json(*e.excursion, excursion_id, e.at.mono_ns);
  auto seq = outbox_append(db, "alarms", id, timefmt::rfc3339_from_unix_ms(e.at.wall_ms),
                           std::move(rec));
  if (!seq) return seq.error();
  return {};
}

json excursion_json(const cc::Excursion& x, std::string_view id, std::int64_t now_mono_ns) {
  // Probe failures and door openings have no side, limit or peak: nothing was measured
  // against a limit. A humidity record's limit and peak are in %RH.
  const bool failure = x.type == cc::AlarmType::kProbeFailure || x.type == cc::AlarmType::kDoorOpen;
  json j{{"id", id},
         {"alarm_type", cc::to_string(x.type)},
         {"zone", x.zone},
         {"side", failure ? json() : json(cc::to_string(x.side))},
         {"limit_c", failure ? json() : json(x.limit_c)},
         {"start", timefmt::rfc3339_from_unix_ms(x.start.wall_ms)},
         {"start_wall_ms", x.start.wall_ms},
         {"end", x.end ? json(timefmt::rfc3339_from_unix_ms(x.end->wall_ms)) : json()},
         {"end_wall_ms", x.end ? json(x.end->wall_ms) : json()},
         {"duration_s", static_cast<double>(x.duration_ns(now_mono_ns)) / 1e9},
         {"out_of_range_s", static_cast<double>(x.out_of_range_ns) / 1e9},
         {"peak_c", failure ? json() : json(round3(x.peak_c))},
         {"peak_probe", x.peak_probe},
         {"degree_minutes", std::round(x.degree_minutes * 1000.0) / 1000.0},
         {"alarmed", x.alarmed},
         {"alarm_at", x.alarm_at ? json(timefmt::rfc3339_from_unix_ms(x.alarm_at->wall_ms)) : json()},
         {"alarm_wall_ms", x.alarm_at ? json(x.alarm_at->wall_ms) : json()},
         {"cause", x.cause ? json(cc::to_string(*x.cause)) : json()},
         {"clock_unsynchronized", x.start.clock_unsynchronized ||
                                      (x.end && x.end->clock_unsynchronized)}};
  if (failure) j["probe"] = x.peak_probe;
  if (x.type == cc::AlarmType::kDoorOpen) j["degree_minutes"] = 0.0;
  if (x.type == cc::AlarmType::kHumidity) j["unit"] = "%RH";
  if (x.acknowledgement) {
    j["acknowledged"] = {{"who", x.acknowledgement->who},
                         {"comment", x.acknowledgement->comment},
                         {"at", timefmt::rfc3339_from_unix_ms(x.acknowledgement->at.wall_ms)},
                         {"wall_ms", x.acknowledgement->at.wall_ms}};
    if (!x.acknowledgement->root_cause.empty())
      j["acknowledged"]["root_cause"] = x.acknowledgement->root_cause;
  } else {
    j["acknowledged"] = nullptr;
  }
  return j;
}

Status insert_excursion(Database& db, const json& x, std::string_view ended,
                        std::string_view now) {
  auto ins = db.prepare(
      "INSERT INTO excursions(id, zone, side, limit_c, start_wall_ms, end_wall_ms, duration_s,"
      " out_of_range_s, peak_c, peak_probe, degree_minutes, alarmed, alarm_wall_ms, cause,"
      " ack_who, ack_comment, ack_wall_ms, ended, clock_unsynchronized, type, ack_root_cause)"
      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21)"
      " ON CONFLICT(id) DO NOTHING");
  if (!ins) return ins.error();
  // The record may come back from zone_state written by an earlier run (outside input):
  // every field is checked, and a record that lacks one is refused, never dereferenced.
  if (!x.is_object()) return Error{"excursion record: not a JSON object", ErrorKind::kBadInput};
  std::string missing;
  auto field = [&](const json& obj, const char* k) -> const json* {
    auto it = obj.find(k);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  };
  auto s = [&](const json& obj, const char* k, bool required) -> std::optional<std::string> {
    const json* v = field(obj, k);
    if (v && v->is_string()) return v->get<std::string>();
    if (required && missing.empty()) missing = std::string(k) + " (a string)";
    return std::nullopt;
  };
  // A probe_failure record has no side, limit or peak (no temperature to judge).
  const json* type_j = field(x, "alarm_type");
  std::string type = "temperature";
  if (type_j) {
    if (!type_j->is_string() ||
        (type_j->get<std::string>() != "temperature" && type_j->get<std::string>() != "probe_failure" &&
         type_j->get<std::string>() != "humidity" && type_j->get<std::string>() != "door_open"))
      return Error{"excursion record: alarm_type must be \"temperature\", \"probe_failure\", "
                   "\"humidity\" or \"door_open\"",
                   ErrorKind::kBadInput};
    type = type_j->get<std::string>();
  }
  const bool failure = type == "probe_failure" || type == "door_open";
  auto d = [&](const char* k) -> double {
    const json* v = field(x, k);
    if (failure && !v && (std::string_view(k) == "limit_c" || std::string_view(k) == "peak_c"))
      return 0.0;
    if (v && v->is_number() && std::isfinite(v->get<double>())) return v->get<double>();
    if (missing.empty()) missing = std::string(k) + " (a number)";
    return 0.0;
  };
  auto i = [&](const json& obj, const char* k, bool required) -> std::optional<std::int64_t> {
    const json* v = field(obj, k);
    if (v && v->is_number_integer()) return v->get<std::int64_t>();
    if (v && v->is_number_unsigned() &&
        v->get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX))
      return static_cast<std::int64_t>(v->get<std::uint64_t>());
    if (required && missing.empty()) missing = std::string(k) + " (an integer)";
    return std::nullopt;
  };
  const auto id = s(x, "id", true), zone = s(x, "zone", true);
  const auto side = failure ? std::optional<std::string>("none") : s(x, "side", true);
  const double limit_c = d("limit_c"), duration_s = d("duration_s"),
               out_of_range_s = d("out_of_range_s"), peak_c = d("peak_c"),
               degree_minutes = d("degree_minutes");
  const auto start_ms = i(x, "start_wall_ms", true);
  const json* alarmed = field(x, "alarmed");
  if (!(alarmed && alarmed->is_boolean()) && missing.empty()) missing = "alarmed (a boolean)";
  if (!missing.empty())
    return Error{"excursion record: " + missing + " is missing", ErrorKind::kBadInput};
  const std::int64_t end_ms = i(x, "end_wall_ms", false).value_or(*start_ms);
  const json* ack = field(x, "acknowledged");
  if (ack && !ack->is_object()) ack = nullptr;
  const json* unsync = field(x, "clock_unsynchronized");
  (*ins)
      ->bind(1, *id)
      .bind(2, *zone)
      .bind(3, *side)
      .bind(4, limit_c)
      .bind(5, *start_ms)
      .bind(6, end_ms)
      .bind(7, duration_s)
      .bind(8, out_of_range_s)
      .bind(9, peak_c)
      .bind(10, s(x, "peak_probe", false))
      .bind(11, degree_minutes)
      .bind(12, static_cast<std::int64_t>(alarmed->get<bool>()))
      .bind(13, i(x, "alarm_wall_ms", false))
      .bind(14, s(x, "cause", false))
      .bind(15, ack ? s(*ack, "who", false) : std::nullopt)
      .bind(16, ack ? s(*ack, "comment", false) : std::nullopt)
      .bind(17, ack ? i(*ack, "wall_ms", false) : std::nullopt)
      .bind(18, ended)
      .bind(19, static_cast<std::int64_t>(unsync && unsync->is_boolean() && unsync->get<bool>()))
      .bind(20, type)
      .bind(21, ack ? s(*ack, "root_cause", false) : std::nullopt);
  if (auto st = (*ins)->run(); !st) return st;
  if (sqlite3_changes(db.handle()) == 0) return {};  // recorded before
  json rec = x;
  rec["type"] = "excursion";
  rec["ended"] = ended;
  // The record's own `id` is the outbox's ("excursion-{id}"); `excursion` is the id its zone
  // events carry, so the two join.
  rec["excursion"] = *id;
  auto seq = outbox_append(db, "alarms", "excursion-" + *id, now, rec);
  if (!seq) return seq.error();
  AuditEntry a;
  a.who = "agent";
  a.at = std::string(now);
  const bool door = type == "door_open", rh = type == "humidity";
  a.what = door ? "door_open" : failure ? "probe_failure" : rh ? "humidity_excursion" : "excursion";
  a.why = ended == "restart"
              ? (door      ? "door opening open when the agent stopped; closed at restart"
                 : failure ? "probe failure open when the agent stopped; closed at restart"
                           : "excursion open when the agent stopped; closed at restart")
              : (door      ? "door closed"
                 : failure ? "probe failure ended: good readings are back"
                           : "excursion ended");
  a.details = rec;
  if (auto r = audit_append(db, a); !r) return r.error();
  return {};
}

// --- Holds ---

namespace {

HoldRecord read_hold(Statement& q) {
  HoldRecord h;
  h.id = q.int64(0);
  h.sku = q.text(1);
  h.zone = q.text(2);
  h.qty = q.int64(3);
  h.excursion = q.text(4);
  h.movement_id = q.text(5);
  h.created_at = q.text(6);
  h.released = q.int64(7);
  h.written_off = q.int64(8);
  h.closed_at = q.opt_text(9);
  h.lot = q.opt_text(10);
  return h;
}

constexpr const char* kHoldColumns =
    "SELECT id, sku, zone, qty, excursion, movement_id, created_at, released, written_off,"
    " closed_at, lot FROM holds";

Expected<std::optional<HoldRecord>> find_hold(Database& db, std::int64_t id) {
  auto q = db.prepare(std::string(kHoldColumns) + " WHERE id = ?1");
  if (!q) return q.error();
  auto row = (*q)->bind(1, id).step();
  if (!row) return row.error();
  std::optional<HoldRecord> h;
  if (*row) h = read_hold(**q);
  (*q)->reset();
  return h;
}

}  // namespace

json hold_json(const HoldRecord& h) {
  return json{{"id", h.id},
              {"sku", h.sku},
              {"zone", h.zone},
              {"qty", h.qty},
              {"released", h.released},
              {"written_off", h.written_off},
              {"remaining", h.remaining()},
              {"excursion", h.excursion},
              {"movement_id", h.movement_id},
              {"created_at", h.created_at},
              {"closed_at", h.closed_at ? json(*h.closed_at) : json()},
              {"lot", h.lot ? json(*h.lot) : json()}};
}

Expected<std::vector<HoldRecord>> place_holds(const Txn& txn, Ledger& ledger, std::string_view zone,
                                              std::string_view excursion_id,
                                              std::string_view id_prefix, const HoldContext& ctx) {
  Database& db = txn.db();
  auto q = db.prepare(
      "SELECT k.sku, s.on_hand - s.held FROM skus k JOIN stock s ON s.sku = k.sku"
      " WHERE k.zone = ?1 AND k.active AND s.on_hand - s.held > 0 ORDER BY k.sku");
  if (!q) return q.error();
  (*q)->bind(1, zone);
  std::vector<std::pair<std::string, std::int64_t>> todo;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    todo.emplace_back((*q)->text(0), (*q)->int64(1));
  }
  (*q)->reset();
  std::vector<HoldRecord> out;
  auto ins = db.prepare(
      "INSERT INTO holds(sku, zone, qty, excursion, movement_id, created_at, lot)"
      " VALUES(?1,?2,?3,?4,?5,?6,?7)");
  if (!ins) return ins.error();
  auto lots_q = db.prepare(
      "SELECT lot, on_hand - held FROM lot_stock WHERE sku = ?1 AND on_hand > held ORDER BY lot");
  if (!lots_q) return lots_q.error();
  auto hold_one = [&](const std::string& sku, std::int64_t qty,
                      const std::optional<std::string>& lot) -> Status {
    MovementRequest m;
    // SKUs cannot contain ':' (identifiers), so "SKU:LOT" never meets another SKU's id.
    m.id = std::string(id_prefix) + "-" + sku + (lot ? ":" + *lot : std::string());
    m.sku = sku;
    m.kind = MovementKind::kHold;
    m.quantity = qty;
    m.lot = lot;
    m.unlotted = !lot;
    m.source = ctx.source;
    m.wall_time = ctx.now;
    m.mono_ns = ctx.mono_ns;
    auto posted = ledger.post_in_transaction(txn, m);
    if (!posted) return posted.error();
    if (posted->outcome != PostOutcome::kPosted) return {};  // duplicate id or rejected
    if (auto st = (*ins)
                      ->bind(1, sku)
                      .bind(2, zone)
                      .bind(3, qty)
                      .bind(4, excursion_id)
                      .bind(5, m.id)
                      .bind(6, ctx.now)
                      .bind(7, lot)
                      .run();
        !st)
      return st.error();
    HoldRecord h;
    h.id = sqlite3_last_insert_rowid(db.handle());
    h.sku = sku;
    h.zone = std::string(zone);
    h.qty = qty;
    h.excursion = std::string(excursion_id);
    h.movement_id = m.id;
    h.created_at = ctx.now;
    h.lot = lot;
    AuditEntry a{ctx.who, ctx.now, "hold",
                 std::to_string(h.qty) + " x " + h.sku + (lot ? " lot " + *lot : std::string()) +
                     " held: zone " + std::string(zone) + " in alarm (excursion " +
                     std::string(excursion_id) + ")",
                 hold_json(h)};
    if (auto r = audit_append(db, a); !r) return r.error();
    out.push_back(std::move(h));
    return {};
  };
  for (const auto& [sku, available] : todo) {
    // The lots in the zone now, each on its own hold; then what is outside every lot.
    std::vector<std::pair<std::string, std::int64_t>> in_lots;
    (*lots_q)->bind(1, sku);
    for (;;) {
      auto more = (*lots_q)->step();
      if (!more) return more.error();
      if (!*more) break;
      in_lots.emplace_back((*lots_q)->text(0), (*lots_q)->int64(1));
    }
    (*lots_q)->reset();
    std::int64_t left = available;
    for (const auto& [lot, free] : in_lots) {
      const auto n = std::min(free, left);
      if (n <= 0) break;
      if (auto st = hold_one(sku, n, lot); !st) return st.error();
      left -= n;
    }
    if (left > 0)
      if (auto st = hold_one(sku, left, std::nullopt); !st) return st.error();
  }
  return out;
}

Expected<HoldRecord> end_hold(const Txn& txn, Ledger& ledger, std::int64_t hold_id, HoldEnd how,
                              std::optional<std::int64_t> qty, std::string_view who,
                              std::string_view why, std::string_view movement_id,
                              const HoldContext& ctx) {
  Database& db = txn.db();
  const char* verb = how == HoldEnd::kRelease ? "release" : "writeoff";
  if (who.empty())
    return Error{std::string("who: must name the person who decides the ") + verb,
                 ErrorKind::kBadInput};
  if (why.empty())
    return Error{std::string("why: must say why (the ") + verb + " reason)", ErrorKind::kBadInput};
  auto found = find_hold(db, hold_id);
  if (!found) return found.error();
  if (!*found)
    return Error{"hold " + std::to_string(hold_id) + " does not exist", ErrorKind::kNotFound};
  HoldRecord h = **found;
  if (h.closed_at || h.remaining() <= 0)
    return Error{"hold " + std::to_string(hold_id) + " is already closed (released " +
                 std::to_string(h.released) + ", written off " + std::to_string(h.written_off) +
                 " of " + std::to_string(h.qty) + ")",
                 ErrorKind::kBadInput};
  const std::int64_t n = qty.value_or(h.remaining());
  if (n <= 0 || n > h.remaining())
    return Error{"qty: " + std::to_string(n) + " must be 1 to " + std::to_string(h.remaining()) +
                 " (what remains on hold " + std::to_string(hold_id) + ")",
                 ErrorKind::kBadInput};
  MovementRequest m;
  m.id = std::string(movement_id);
  m.sku = h.sku;
  m.kind = how == HoldEnd::kRelease ? MovementKind::kRelease : MovementKind::kWriteoff;
  m.quantity = n;
  m.lot = h.lot;  // the lot it held, or the stock outside every lot
  m.unlotted = !h.lot;
  m.source = ctx.source;
  m.wall_time = ctx.now;
  m.mono_ns = ctx.mono_ns;
  auto posted = ledger.post_in_transaction(txn, m);
  if (!posted) return posted.error();
  if (posted->outcome == PostOutcome::kRejected) return Error{posted->error};
  if (posted->outcome == PostOutcome::kDuplicate)
    return Error{"movement " + m.id + " was recorded before"};
  if (how == HoldEnd::kRelease)
    h.released += n;
  else
    h.written_off += n;
  if (h.remaining() == 0) h.closed_at = ctx.now;
  auto up = db.prepare(
      "UPDATE holds SET released = ?2, written_off = ?3, closed_at = ?4 WHERE id = ?1");
  if (!up) return up.error();
  if (auto st = (*up)->bind(1, h.id).bind(2, h.released).bind(3, h.written_off)
                    .bind(4, h.closed_at).run();
      !st)
    return st.error();
  json details = hold_json(h);
  details["qty_now"] = n;
  details["movement_id_now"] = m.id;
  details["source"] = ctx.source;
  AuditEntry a{std::string(who), ctx.now, how == HoldEnd::kRelease ? "hold.release" : "hold.writeoff",
               std::string(why), details};
  if (auto r = audit_append(db, a); !r) return r.error();
  return h;
}

Expected<std::vector<HoldRecord>> list_holds(Database& db, bool open_only, std::int64_t limit) {
  auto q = db.prepare(std::string(kHoldColumns) +
                      " WHERE (?1 = 0 OR closed_at IS NULL) AND id IN (SELECT id FROM holds"
                      " WHERE (?1 = 0 OR closed_at IS NULL) ORDER BY id DESC LIMIT ?2) ORDER BY id");
  if (!q) return q.error();
  (*q)->bind(1, static_cast<std::int64_t>(open_only)).bind(2, limit > 0 ? limit : std::int64_t{-1});
  std::vector<HoldRecord> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    out.push_back(read_hold(**q));
  }
  (*q)->reset();
  return out;
}

// --- Acks ---

Expected<std::int64_t> request_ack(Database& db, std::string_view zone, std::string_view who,
                                   std::string_view comment, std::string_view source,
                                   std::string_view now, std::string_view root_cause) {
  auto ins = db.prepare(
      "INSERT INTO ack_requests(zone, who, comment, source, requested_at, root_cause)"
      " VALUES(?1,?2,?3,?4,?5,?6)");
  if (!ins) return ins.error();
  if (auto st = (*ins)
                    ->bind(1, zone)
                    .bind(2, who)
                    .bind(3, comment)
                    .bind(4, source)
                    .bind(5, now)
                    .bind(6, std::string(root_cause))  // never NULL: an empty view has no data
                    .run();
      !st)
    return st.error();
  return sqlite3_last_insert_rowid(db.handle());
}

Expected<std::vector<std::string>> ack_ended_alarms(const Txn& txn, std::string_view zone,
                                                    std::string_view who, std::string_view comment,
                                                    std::string_view root_cause,
                                                    std::int64_t wall_ms, std::string_view source) {
  Database& db = txn.db();
  auto q = db.prepare(
      "SELECT id, type FROM excursions e WHERE e.zone = ?1 AND e.alarmed AND e.ack_who IS NULL"
      " AND NOT EXISTS (SELECT 1 FROM late_acks l WHERE l.excursion = e.id)"
      " ORDER BY start_wall_ms");
  if (!q) return q.error();
  std::vector<std::pair<std::string, std::string>> ended;
  (*q)->bind(1, zone);
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    ended.emplace_back((*q)->text(0), (*q)->text(1));
  }
  (*q)->reset();
  auto ins = db.prepare(
      "INSERT INTO late_acks(excursion, who, comment, root_cause, wall_ms, source)"
      " VALUES(?1,?2,?3,?4,?5,?6)");
  if (!ins) return ins.error();
  std::vector<std::string> ids;
  for (const auto& [id, type] : ended) {
    if (auto st = (*ins)
                      ->bind(1, id)
                      .bind(2, who)
                      .bind(3, comment)
                      .bind(4, std::string(root_cause))
                      .bind(5, wall_ms)
                      .bind(6, source)
                      .run();
        !st)
      return st.error();
    AuditEntry a;
    a.who = std::string(who);
    a.at = timefmt::rfc3339_from_unix_ms(wall_ms);
    a.what = "alarm.ack";
    a.why = std::string(comment);
    a.details = {{"zone", zone},         {"excursion", id},         {"alarm_type", type},
                 {"late", true},         {"root_cause", root_cause}, {"source", source}};
    if (auto r = audit_append(db, a); !r) return r.error();
    ids.push_back(id);
  }
  return ids;
}

namespace {
constexpr const char* kAckColumns =
    "SELECT id, zone, who, comment, source, requested_at, status, result, handled_at, root_cause"
    " FROM ack_requests";
AckRequest read_ack(Statement& q) {
  AckRequest a;
  a.id = q.int64(0);
  a.zone = q.text(1);
  a.who = q.text(2);
  a.comment = q.text(3);
  a.source = q.text(4);
  a.requested_at = q.text(5);
  a.status = q.text(6);
  a.result = q.opt_text(7);
  a.handled_at = q.opt_text(8);
  a.root_cause = q.text(9);
  return a;
}
}  // namespace

Expected<std::optional<std::int64_t>> last_reading_ms(Database& db, std::string_view zone) {
  auto q = db.prepare("SELECT max(wall_ms) FROM readings WHERE zone = ?1");
  if (!q) return q.error();
  auto row = (*q)->bind(1, zone).step();
  if (!row) return row.error();
  std::optional<std::int64_t> v;
  if (*row) v = (*q)->opt_int64(0);
  (*q)->reset();
  return v;
}

Expected<std::vector<AckRequest>> pending_acks(Database& db) {
  auto q = db.prepare(std::string(kAckColumns) + " WHERE status = 'pending' ORDER BY id");
  if (!q) return q.error();
  std::vector<AckRequest> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    out.push_back(read_ack(**q));
  }
  (*q)->reset();
  return out;
}

Expected<std::optional<AckRequest>> find_ack(Database& db, std::int64_t id) {
  auto q = db.prepare(std::string(kAckColumns) + " WHERE id = ?1");
  if (!q) return q.error();
  auto row = (*q)->bind(1, id).step();
  if (!row) return row.error();
  std::optional<AckRequest> a;
  if (*row) a = read_ack(**q);
  (*q)->reset();
  return a;
}

Status finish_ack(Database& db, std::int64_t id, bool applied, std::string_view result,
                  std::string_view now) {
  auto up = db.prepare(
      "UPDATE ack_requests SET status = ?2, result = ?3, handled_at = ?4 WHERE id = ?1");
  if (!up) return up.error();
  return (*up)->bind(1, id).bind(2, applied ? "applied" : "rejected").bind(3, result).bind(4, now).run();
}

// --- Zone state ---

Status save_zone_state(Database& db, std::string_view zone, const json& state,
                       std::int64_t wall_ms) {
  auto up = db.prepare(
      "INSERT INTO zone_state(zone, state, updated_ms) VALUES(?1,?2,?3)"
      " ON CONFLICT(zone) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms");
  if (!up) return up.error();
  return (*up)->bind(1, zone).bind(2, state.dump()).bind(3, wall_ms).run();
}

Expected<std::vector<std::pair<json, std::int64_t>>> load_zone_states(Database& db) {
  auto q = db.prepare("SELECT state, updated_ms FROM zone_state ORDER BY zone");
  if (!q) return q.error();
  std::vector<std::pair<json, std::int64_t>> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    // Written by an earlier run, read as outside input: bounded, and skipped when unreadable.
    auto j = parse_json((*q)->text(0), JsonLimits{1 << 20, 16});
    if (j && j->is_object()) out.emplace_back(std::move(*j), (*q)->int64(1));
  }
  (*q)->reset();
  return out;
}

Expected<std::vector<json>> list_excursions(Database& db, bool alarmed_only, std::int64_t limit) {
  auto q = db.prepare(
      "SELECT e.id, zone, side, limit_c, start_wall_ms, end_wall_ms, duration_s, out_of_range_s,"
      " peak_c, peak_probe, degree_minutes, alarmed, alarm_wall_ms, cause, ack_who, ack_comment,"
      " ack_wall_ms, ended, type, l.who, l.comment, l.root_cause, l.wall_ms, ack_root_cause"
      " FROM excursions e LEFT JOIN late_acks l ON l.excursion = e.id"
      " WHERE (?1 = 0 OR alarmed) ORDER BY start_wall_ms DESC LIMIT ?2");
  if (!q) return q.error();
  (*q)->bind(1, static_cast<std::int64_t>(alarmed_only)).bind(2, limit > 0 ? limit : std::int64_t{-1});
  std::vector<json> out;
  auto ms = [](std::optional<std::int64_t> v) {
    return v ? json(timefmt::rfc3339_from_unix_ms(*v)) : json();
  };
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    auto& s = **q;
    json j{{"id", s.text(0)},
           {"zone", s.text(1)},
           {"side", s.text(2)},
           {"limit_c", s.real(3)},
           {"start", ms(s.int64(4))},
           {"end", ms(s.int64(5))},
           {"duration_s", s.real(6)},
           {"out_of_range_s", s.real(7)},
           {"peak_c", s.real(8)},
           {"peak_probe", s.opt_text(9).value_or("")},
           {"degree_minutes", s.real(10)},
           {"alarmed", s.int64(11) != 0},
           {"alarm_at", ms(s.opt_int64(12))},
           {"cause", s.opt_text(13) ? json(*s.opt_text(13)) : json()},
           {"ended", s.text(17)},
           {"alarm_type", s.text(18)}};
    if (s.text(18) == "probe_failure" || s.text(18) == "door_open") {
      j["side"] = j["limit_c"] = j["peak_c"] = nullptr;
      j["probe"] = j["peak_probe"];
    }
    if (s.text(18) == "door_open") j["degree_minutes"] = 0.0;
    if (s.text(18) == "humidity") j["unit"] = "%RH";
    if (auto who = s.opt_text(14)) {
      j["acknowledged"] = {{"who", *who}, {"comment", s.opt_text(15).value_or("")},
                           {"at", ms(s.opt_int64(16))}};
      if (auto rc = s.opt_text(23)) j["acknowledged"]["root_cause"] = *rc;
    } else if (auto late = s.opt_text(19)) {
      // Acknowledged after the alarm had ended (late_acks).
      j["acknowledged"] = {{"who", *late},
                           {"comment", s.opt_text(20).value_or("")},
                           {"root_cause", s.opt_text(21).value_or("")},
                           {"at", ms(s.opt_int64(22))},
                           {"late", true}};
    } else {
      j["acknowledged"] = nullptr;
    }
    out.push_back(std::move(j));
  }
  (*q)->reset();
  return out;
}

Expected<PruneResult> prune_coldchain(Database& db, std::int64_t readings_before_ms,
                                      std::int64_t minutes_before_ms, std::int64_t margin_ms,
                                      std::int64_t max_rows) {
  return db.transaction([&]() -> Expected<PruneResult> {
    PruneResult r;
    auto del = db.prepare(
        "DELETE FROM readings WHERE seq IN (SELECT seq FROM readings AS r WHERE r.wall_ms < ?1"
        " AND NOT EXISTS (SELECT 1 FROM excursions x WHERE x.zone = r.zone"
        " AND r.wall_ms BETWEEN x.start_wall_ms - ?2 AND x.end_wall_ms + ?2)"
        " ORDER BY r.wall_ms LIMIT ?3)");
    if (!del) return del.error();
    if (auto st = (*del)->bind(1, readings_before_ms).bind(2, margin_ms).bind(3, max_rows).run(); !st)
      return st.error();
    r.readings = sqlite3_changes(db.handle());
    auto del3 = db.prepare(
        "DELETE FROM reading_minutes WHERE (probe, minute_ms) IN (SELECT probe, minute_ms FROM"
        " reading_minutes WHERE minute_ms < ?1 ORDER BY minute_ms LIMIT ?2)");
    if (!del3) return del3.error();
    if (auto st = (*del3)->bind(1, minutes_before_ms).bind(2, max_rows).run(); !st)
      return st.error();
    r.minutes = sqlite3_changes(db.handle());
    r.more = r.readings >= max_rows || r.minutes >= max_rows;
    return r;
  });
}

}  // namespace depot::store
