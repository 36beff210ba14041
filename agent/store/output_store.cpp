#include "store/output_store.hpp"

#include "core/time.hpp"
#include "store/outbox.hpp"

namespace depot::store {

namespace cc = coldchain;
using nlohmann::json;

namespace {
std::string rfc(std::int64_t ms) { return timefmt::rfc3339_from_unix_ms(ms); }

Status outbox_failure(Database& db, std::string_view id, std::string_view output,
                      std::string_view state, std::string_view reason, std::int64_t wall_ms) {
  // `failure` joins the raised record with its cleared one (the record's own `id` is the
  // outbox id, below).
  json rec{{"type", "output_failure"}, {"state", state},   {"failure", id},
           {"output", output},         {"reason", reason}, {"at", rfc(wall_ms)},
           {"wall_ms", wall_ms}};
  auto seq = outbox_append(
      db, "alarms", std::string(id) + ":" + std::string(state) + ":" + std::to_string(wall_ms),
      rfc(wall_ms), std::move(rec));
  if (!seq) return seq.error();
  return {};
}
}  // namespace

Status record_output_result(Database& db, const cc::OutputResult& r, std::int64_t wall_ms) {
  auto ins = db.prepare(
      "INSERT INTO output_log(alarm, zone, alarm_type, output, event, level, repeat, attempt, ok,"
      " reason, wall_ms) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
  if (!ins) return ins.error();
  const auto& a = r.action;
  (*ins)
      ->bind(1, a.alarm.id)
      .bind(2, a.alarm.zone)
      .bind(3, cc::to_string(a.alarm.type))
      .bind(4, a.output)
      .bind(5, cc::to_string(a.event))
      .bind(6, static_cast<std::int64_t>(a.level))
      .bind(7, static_cast<std::int64_t>(a.repeat))
      .bind(8, static_cast<std::int64_t>(a.attempt))
      .bind(9, static_cast<std::int64_t>(r.ok))
      .bind(10, r.reason)
      .bind(11, wall_ms);
  return (*ins)->run();
}

Status raise_output_failure(Database& db, std::string_view id, std::string_view output,
                            std::string_view reason, std::int64_t wall_ms) {
  auto upd = db.prepare(
      "UPDATE output_failures SET failures = failures + 1, last_reason = ?2"
      " WHERE output = ?1 AND cleared_ms IS NULL");
  if (!upd) return upd.error();
  (*upd)->bind(1, output).bind(2, reason);
  if (auto st = (*upd)->run(); !st) return st;
  if (db.changes() > 0) return {};
  auto ins = db.prepare(
      "INSERT INTO output_failures(id, output, reason, raised_ms, last_reason)"
      " VALUES(?1,?2,?3,?4,?3)");
  if (!ins) return ins.error();
  (*ins)->bind(1, id).bind(2, output).bind(3, reason).bind(4, wall_ms);
  if (auto st = (*ins)->run(); !st) return st;
  return outbox_failure(db, id, output, "raised", reason, wall_ms);
}

Status clear_output_failure(Database& db, std::string_view output, std::string_view why,
                            std::int64_t wall_ms) {
  auto sel = db.prepare("SELECT id FROM output_failures WHERE output = ?1 AND cleared_ms IS NULL");
  if (!sel) return sel.error();
  (*sel)->bind(1, output);
  std::vector<std::string> ids;
  for (;;) {
    auto row = (*sel)->step();
    if (!row) return row.error();
    if (!*row) break;
    ids.push_back((*sel)->text(0));
  }
  for (const auto& id : ids) {
    auto upd =
        db.prepare("UPDATE output_failures SET cleared_ms = ?2, cleared_why = ?3 WHERE id = ?1");
    if (!upd) return upd.error();
    (*upd)->bind(1, id).bind(2, wall_ms).bind(3, why);
    if (auto st = (*upd)->run(); !st) return st;
    if (auto st = outbox_failure(db, id, output, "cleared", why, wall_ms); !st) return st;
  }
  return {};
}

Status clear_all_output_failures(Database& db, std::string_view why, std::int64_t wall_ms) {
  auto sel = db.prepare("SELECT DISTINCT output FROM output_failures WHERE cleared_ms IS NULL");
  if (!sel) return sel.error();
  std::vector<std::string> outputs;
  for (;;) {
    auto row = (*sel)->step();
    if (!row) return row.error();
    if (!*row) break;
    outputs.push_back((*sel)->text(0));
  }
  for (const auto& o : outputs)
    if (auto st = clear_output_failure(db, o, why, wall_ms); !st) return st;
  return {};
}

Expected<std::vector<json>> list_output_failures(Database& db, bool open_only) {
  auto sel =
      db.prepare(std::string("SELECT id, output, reason, raised_ms, cleared_ms, cleared_why,"
                             " failures, last_reason FROM output_failures") +
                 (open_only ? " WHERE cleared_ms IS NULL" : "") + " ORDER BY raised_ms DESC");
  if (!sel) return sel.error();
  std::vector<json> out;
  for (;;) {
    auto row = (*sel)->step();
    if (!row) return row.error();
    if (!*row) break;
    auto& s = **sel;
    const auto cleared = s.opt_int64(4);
    out.push_back(json{{"id", s.text(0)},
                       {"alarm_type", "output_failure"},
                       {"output", s.text(1)},
                       {"reason", s.text(2)},
                       {"start", rfc(s.int64(3))},
                       {"start_wall_ms", s.int64(3)},
                       {"end", cleared ? json(rfc(*cleared)) : json()},
                       {"cleared_why", s.opt_text(5) ? json(*s.opt_text(5)) : json()},
                       {"failures", s.int64(6)},
                       {"last_reason", s.text(7)},
                       {"open", !cleared}});
  }
  return out;
}

Expected<std::map<std::string, json>> output_firings(Database& db) {
  auto sel = db.prepare(
      "SELECT alarm, level, output, event, COUNT(*), SUM(ok), MIN(wall_ms), MAX(wall_ms),"
      " (SELECT reason FROM output_log l2 WHERE l2.alarm = l.alarm AND l2.output = l.output"
      "  AND l2.event = l.event AND l2.level = l.level ORDER BY id DESC LIMIT 1)"
      " FROM output_log l GROUP BY alarm, level, output, event ORDER BY alarm, MIN(id)");
  if (!sel) return sel.error();
  std::map<std::string, json> out;
  for (;;) {
    auto row = (*sel)->step();
    if (!row) return row.error();
    if (!*row) break;
    auto& s = **sel;
    auto& list = out[s.text(0)];
    if (list.is_null()) list = json::array();
    list.push_back(json{{"level", s.int64(1)},
                        {"output", s.text(2)},
                        {"event", s.text(3)},
                        {"attempts", s.int64(4)},
                        {"ok", s.int64(5)},
                        {"first_at", rfc(s.int64(6))},
                        {"last_at", rfc(s.int64(7))},
                        {"last_reason", s.text(8)}});
  }
  return out;
}

}  // namespace depot::store
