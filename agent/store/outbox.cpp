#include "store/outbox.hpp"

#include "core/json_writer.hpp"

namespace depot::store {

namespace {
Expected<std::int64_t> next_seq(Database& db, std::string_view stream) {
  auto next = db.prepare(
      "INSERT INTO outbox_streams(stream, next_seq) VALUES(?1, 2) "
      "ON CONFLICT(stream) DO UPDATE SET next_seq = next_seq + 1 RETURNING next_seq - 1");
  if (!next) return next.error();
  auto row = (*next)->bind(1, stream).step();
  if (!row) return row.error();
  std::int64_t seq = (*next)->int64(0);
  (*next)->reset();
  return seq;
}

Status insert(Database& db, std::string_view stream, std::int64_t seq, std::string_view id,
              std::string_view ts, std::string_view payload) {
  auto ins = db.prepare("INSERT INTO outbox(stream, seq, id, ts, payload) VALUES(?1,?2,?3,?4,?5)");
  if (!ins) return ins.error();
  return (*ins)->bind(1, stream).bind(2, seq).bind(3, id).bind(4, ts).bind(5, payload).run();
}
}  // namespace

Expected<std::int64_t> outbox_append_text(Database& db, std::string_view stream,
                                          std::string_view id, std::string_view ts,
                                          std::string_view record_object) {
  auto seq = next_seq(db, stream);
  if (!seq) return seq;
  std::string payload;
  payload.reserve(record_object.size() + id.size() + ts.size() + 48);
  JsonObjectWriter w(payload);
  w.field("seq", *seq).field("id", id).field("ts", ts);
  // Splice the record's members after ours: `{"seq":..,"id":..,"ts":..,` + `"sku":..}`.
  if (record_object.size() > 2) payload.push_back(',');
  payload.append(record_object.substr(1));  // its members and closing brace
  if (auto st = insert(db, stream, *seq, id, ts, payload); !st) return st.error();
  return seq;
}

Expected<std::int64_t> outbox_append(Database& db, std::string_view stream, std::string_view id,
                                     std::string_view ts, nlohmann::json record) {
  auto next = next_seq(db, stream);
  if (!next) return next;
  const std::int64_t seq = *next;
  record["seq"] = seq;
  record["id"] = id;
  record["ts"] = ts;
  if (auto st = insert(db, stream, seq, id, ts, record.dump()); !st) return st.error();
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
