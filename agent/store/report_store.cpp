#include "store/report_store.hpp"

namespace depot::store {

Status for_each_reading(Database& db, std::string_view zone, std::int64_t from_ms,
                        std::int64_t to_ms, const std::function<void(const ReadingRow&)>& row) {
  auto q = db.prepare(
      "SELECT seq, probe, zone, wall_ms, celsius, quality, reason, clock_unsynchronized, quantity"
      " FROM readings WHERE zone = ?1 AND wall_ms >= ?2 AND wall_ms < ?3"
      " ORDER BY wall_ms, seq");
  if (!q) return q.error();
  auto& s = **q;
  s.bind(1, zone).bind(2, from_ms).bind(3, to_ms);
  ReadingRow r;
  for (;;) {
    auto more = s.step();
    if (!more) {
      s.reset();
      return more.error();
    }
    if (!*more) break;
    r.seq = s.int64(0);
    r.probe = s.text(1);
    r.zone = s.text(2);
    r.wall_ms = s.int64(3);
    r.celsius = s.opt_real(4);
    r.quality = s.text(5);
    r.reason = s.opt_text(6).value_or("");
    r.clock_unsynchronized = s.int64(7) != 0;
    r.quantity = s.text(8);
    row(r);
  }
  s.reset();
  return {};
}

Expected<std::optional<AuditRecord>> audit_head(Database& db) {
  auto q = db.prepare(
      "SELECT seq, at, who, what, why, details, prev_hash, hash FROM audit_log"
      " ORDER BY seq DESC LIMIT 1");
  if (!q) return q.error();
  auto& s = **q;
  auto more = s.step();
  if (!more) {
    s.reset();
    return more.error();
  }
  std::optional<AuditRecord> out;
  if (*more)
    out = AuditRecord{s.int64(0), s.text(1), s.text(2), s.text(3),
                      s.text(4),  s.text(5), s.text(6), s.text(7)};
  s.reset();
  return out;
}

}  // namespace depot::store
