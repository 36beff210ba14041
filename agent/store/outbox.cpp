#include "store/outbox.hpp"

namespace depot::store {

Expected<std::int64_t> outbox_append(Database& db, std::string_view stream, std::string_view id,
                                     std::string_view ts, nlohmann::json record) {
  auto next = db.prepare(
      "INSERT INTO outbox_streams(stream, next_seq) VALUES(?1, 2) "
      "ON CONFLICT(stream) DO UPDATE SET next_seq = next_seq + 1 RETURNING next_seq - 1");
  if (!next) return next.error();
  auto row = (*next)->bind(1, stream).step();
  if (!row) return row.error();
  std::int64_t seq = (*next)->int64(0);
  (*next)->reset();

  record["seq"] = seq;
  record["id"] = id;
  record["ts"] = ts;
  auto ins = db.prepare("INSERT INTO outbox(stream, seq, id, ts, payload) VALUES(?1,?2,?3,?4,?5)");
  if (!ins) return ins.error();
  auto st = (*ins)->bind(1, stream).bind(2, seq).bind(3, id).bind(4, ts).bind(5, record.dump()).run();
  if (!st) return st.error();
  return seq;
}

Expected<std::int64_t> outbox_depth(Database& db, std::string_view stream) {
  auto s = db.prepare("SELECT count(*) FROM outbox WHERE stream = ?1");
  if (!s) return s.error();
  auto row = (*s)->bind(1, stream).step();
  if (!row) return row.error();
  auto n = (*s)->int64(0);
  (*s)->reset();
  return n;
}

}  // namespace depot::store
