#include "store/rejects.hpp"

#include <algorithm>

#include "store/outbox.hpp"

namespace depot::store {

Expected<std::int64_t> record_reject(Database& db, const Reject& r) {
  return db.transaction([&](const Txn& txn) { return record_reject(txn, r); });
}

Expected<std::int64_t> record_reject(const Txn& txn, const Reject& r) {
  Database& db = txn.db();
  {
    // seq is the rowid: read back with last_insert_rowid, not RETURNING (an ephemeral table
    // set up and freed at every call; a flood of bad scans comes through here).
    auto ins = db.prepare(
        "INSERT INTO rejects(source, raw, reason, wall_time, mono_ns) VALUES(?1,?2,?3,?4,?5)");
    if (!ins) return ins.error();
    if (auto st = (*ins)->bind(1, r.source).bind(2, r.raw).bind(3, r.reason).bind(4, r.wall_time)
                      .bind(5, r.mono_ns).run();
        !st)
      return st.error();
    const std::int64_t seq = sqlite3_last_insert_rowid(db.handle());
    auto id = "reject-" + std::to_string(seq);
    nlohmann::json rec{{"source", r.source}, {"raw", r.raw}, {"reason", r.reason}};
    if (r.count > 1) rec["count"] = r.count;
    auto ob = outbox_append(db, "rejects", id, r.wall_time, std::move(rec));
    if (!ob) return ob.error();
    return seq;
  }
}

Expected<std::vector<Reject>> list_rejects(Database& db, const std::optional<std::string>& since,
                                           std::int64_t limit) {
  auto q = db.prepare(
      "SELECT seq, source, raw, reason, wall_time, mono_ns FROM rejects"
      " WHERE (?1 IS NULL OR wall_time >= ?1) ORDER BY seq DESC LIMIT ?2");
  if (!q) return q.error();
  (*q)->bind(1, since).bind(2, limit > 0 ? limit : std::int64_t{-1});
  std::vector<Reject> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    out.push_back({(*q)->int64(0), (*q)->text(1), (*q)->text(2), (*q)->text(3), (*q)->text(4),
                   (*q)->int64(5)});
  }
  (*q)->reset();
  // Read newest first (the limit keeps the newest: "why did my last scan fail?"), shown oldest
  // first, as movements are.
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace depot::store
