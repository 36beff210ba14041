#include "store/audit.hpp"

#include <cstdio>
#include <map>

#include "core/sha256.hpp"
#include "store/outbox.hpp"

namespace depot::store {

using nlohmann::json;

std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

std::string audit_hash(std::string_view key, std::string_view canonical) {
  return key.empty() ? sha256_hex(canonical) : to_hex(hmac_sha256(key, canonical));
}

std::string audit_keyed_mac(std::string_view key, std::int64_t keyed_from) {
  return to_hex(hmac_sha256(key, "depot-audit-keyed-from\n" + std::to_string(keyed_from)));
}

std::string audit_canonical(std::int64_t seq, std::string_view at, std::string_view who,
                            std::string_view what, std::string_view why,
                            std::string_view details, std::string_view prev_hash) {
  json j = json::array({seq, at, who, what, why, details, prev_hash});
  return j.dump();
}

namespace {

struct Tail {
  std::int64_t seq = 0;
  std::string hash = kAuditGenesis;
};

Expected<Tail> chain_tail(Database& db) {
  auto q = db.prepare("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1");
  if (!q) return q.error();
  auto row = (*q)->step();
  if (!row) return row.error();
  Tail t;
  if (*row) {
    t.seq = (*q)->int64(0);
    t.hash = (*q)->text(1);
  }
  (*q)->reset();
  return t;
}

// The first keyed entry (0: the chain is not keyed), checked against its MAC when a key is
// given.
Expected<std::int64_t> keyed_from(Database& db) {
  auto from = db.meta("audit_keyed_from");
  if (!from) return from.error();
  if (!*from) return std::int64_t{0};
  std::int64_t n = 0;
  try {
    n = std::stoll(**from);
  } catch (const std::exception&) {
    return Error{"meta.audit_keyed_from: \"" + **from + "\" is not a number"};
  }
  return n;
}

Expected<bool> keyed_start_authentic(Database& db, std::int64_t from) {
  auto mac = db.meta("audit_keyed_mac");
  if (!mac) return mac.error();
  return *mac && **mac == audit_keyed_mac(db.audit_key(), from);
}

}  // namespace

Expected<std::int64_t> audit_append(Database& db, const AuditEntry& e, bool to_outbox) {
  auto tail = chain_tail(db);
  if (!tail) return tail.error();
  const std::int64_t seq = tail->seq + 1;
  const auto& key = db.audit_key();
  auto from = keyed_from(db);
  if (!from) return from.error();
  if (*from && key.empty())
    return Error{"the audit trail is keyed (from entry " + std::to_string(*from) +
                 "): configure audit_key_file, the gateway's audit key, to add to it"};
  if (*from) {
    auto authentic = keyed_start_authentic(db, *from);
    if (!authentic) return authentic.error();
    if (!*authentic)
      return Error{"audit_key_file: this is not the key the audit trail was keyed with"};
  } else if (!key.empty()) {
    // Keying starts here: earlier entries stay plain SHA-256 (docs/coldchain.md).
    if (auto st = db.set_meta("audit_keyed_from", std::to_string(seq)); !st) return st.error();
    if (auto st = db.set_meta("audit_keyed_mac", audit_keyed_mac(key, seq)); !st) return st.error();
  }
  const std::string details = e.details.dump();
  const std::string hash =
      audit_hash(key, audit_canonical(seq, e.at, e.who, e.what, e.why, details, tail->hash));
  // Its `audit` stream record first, so the entry can keep that record's seq.
  std::optional<std::int64_t> stream_seq;
  if (to_outbox) {
    json rec = e.record_fields.is_object() ? e.record_fields : json::object();
    rec.update(json{{"event", e.what},
                    {"audit_seq", seq},
                    {"at", e.at},
                    {"who", e.who},
                    {"why", e.why},
                    {"details", e.details},
                    {"prev_hash", tail->hash},
                    {"hash", hash},
                    {"keyed", !key.empty()}});
    auto out = outbox_append(db, "audit",
                             e.record_id.empty()
                                 ? "audit-" + std::to_string(seq) + "-" + hash.substr(0, 12)
                                 : e.record_id,
                             e.at, std::move(rec));
    if (!out) return out.error();
    stream_seq = *out;
  }
  auto ins = db.prepare(
      "INSERT INTO audit_log(seq, at, who, what, why, details, prev_hash, hash, stream_seq)"
      " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  if (!ins) return ins.error();
  if (auto st = (*ins)
                    ->bind(1, seq)
                    .bind(2, e.at)
                    .bind(3, e.who)
                    .bind(4, e.what)
                    .bind(5, e.why)
                    .bind(6, details)
                    .bind(7, tail->hash)
                    .bind(8, hash)
                    .bind(9, stream_seq)
                    .run();
      !st)
    return st.error();
  if (auto st = db.set_meta("audit_last_seq", std::to_string(seq)); !st) return st.error();
  if (auto st = db.set_meta("audit_last_hash", hash); !st) return st.error();
  return seq;
}

Status audit_ensure_keyed(Database& db, std::string_view now) {
  if (db.audit_key().empty()) return {};
  auto from = keyed_from(db);
  if (!from) return from.error();
  if (*from) return {};
  return db.transaction([&]() -> Status {
    AuditEntry e{"agent", std::string(now), "audit.keyed",
                 "the audit trail is keyed with this gateway's audit key from this entry on",
                 json::object()};
    if (auto r = audit_append(db, e); !r) return r.error();
    return {};
  });
}

Expected<std::vector<AuditRecord>> audit_list(Database& db,
                                              const std::optional<std::string>& since,
                                              std::int64_t limit) {
  auto q = db.prepare(
      "SELECT * FROM (SELECT seq, at, who, what, why, details, prev_hash, hash FROM audit_log"
      " WHERE (?1 IS NULL OR at >= ?1) ORDER BY seq DESC LIMIT ?2) ORDER BY seq");
  if (!q) return q.error();
  (*q)->bind(1, since).bind(2, limit > 0 ? limit : std::int64_t{-1});
  std::vector<AuditRecord> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    AuditRecord r;
    r.seq = (*q)->int64(0);
    r.at = (*q)->text(1);
    r.who = (*q)->text(2);
    r.what = (*q)->text(3);
    r.why = (*q)->text(4);
    r.details = (*q)->text(5);
    r.prev_hash = (*q)->text(6);
    r.hash = (*q)->text(7);
    out.push_back(std::move(r));
  }
  (*q)->reset();
  return out;
}

Expected<AuditVerdict> audit_verify(Database& db) {
  auto all = audit_list(db, std::nullopt);
  if (!all) return all.error();
  AuditVerdict v;
  const auto& key = db.audit_key();
  auto from = keyed_from(db);
  if (!from) return from.error();
  if (*from && key.empty())
    return Error{"the audit trail is keyed (from entry " + std::to_string(*from) +
                 "): verifying it needs the gateway's audit key (audit_key_file)"};
  // The hash an entry at `seq` must have: plain SHA-256 before the keyed start.
  auto hash_of = [&](std::int64_t seq, std::string_view canonical) {
    return audit_hash(*from && seq >= *from ? key : std::string_view(), canonical);
  };
  std::map<std::string, std::int64_t> seq_of_hash;
  for (const auto& r : *all) seq_of_hash[r.hash] = r.seq;
  std::int64_t expect_seq = 1;
  std::string prev = kAuditGenesis;
  auto broken = [&](std::int64_t seq, std::string why) {
    v.ok = false;
    v.broken_seq = seq;
    v.problem = std::move(why);
    return v;
  };
  if (*from) {
    auto authentic = keyed_start_authentic(db, *from);
    if (!authentic) return authentic.error();
    if (!*authentic)
      return broken(*from, "altered: the keyed start of the chain (entry " + std::to_string(*from) +
                               ") is not this audit key's (a different key, or meta changed)");
  } else if (!key.empty() && !all->empty()) {
    return broken(all->front().seq,
                  "unkeyed: an audit key is configured but no entry is keyed (the agent keys "
                  "the trail when it starts; if it ran with this key, the keyed start was "
                  "removed)");
  }
  for (const auto& r : *all) {
    ++v.entries;
    const auto computed =
        hash_of(r.seq, audit_canonical(r.seq, r.at, r.who, r.what, r.why, r.details, r.prev_hash));
    if (computed != r.hash) {
      // Moved to another seq? Its own content still hashes right under the seq it was
      // written with (searched once, for the first broken entry only).
      const std::int64_t last = all->empty() ? 0 : all->back().seq;
      for (std::int64_t s = 1; s <= last + 1; ++s) {
        if (s == r.seq) continue;
        if (hash_of(s, audit_canonical(s, r.at, r.who, r.what, r.why, r.details, r.prev_hash)) ==
            r.hash)
          return broken(r.seq, "reordered: the entry at seq " + std::to_string(r.seq) +
                                   " was written as entry " + std::to_string(s));
      }
      return broken(r.seq, "altered: entry " + std::to_string(r.seq) +
                               " does not match its hash (its content was changed)");
    }
    if (r.prev_hash != prev) {
      if (r.seq > expect_seq)
        return broken(expect_seq, "deleted: entr" +
                                      std::string(r.seq - expect_seq == 1 ? "y " : "ies ") +
                                      std::to_string(expect_seq) +
                                      (r.seq - expect_seq == 1
                                           ? std::string()
                                           : "-" + std::to_string(r.seq - 1)) +
                                      " missing: entry " + std::to_string(r.seq) +
                                      " follows entry " + std::to_string(expect_seq - 1));
      auto it = seq_of_hash.find(r.prev_hash);
      if (it != seq_of_hash.end())
        return broken(r.seq, "reordered: entry " + std::to_string(r.seq) +
                                 " was written after entry " + std::to_string(it->second) +
                                 ", not after entry " + std::to_string(r.seq - 1));
      return broken(r.seq, "altered: entry " + std::to_string(r.seq) +
                               " does not follow the entry before it (previous hash differs)");
    }
    prev = r.hash;
    expect_seq = r.seq + 1;
  }
  // The newest entries deleted, even with meta fixed up: the broker acknowledged `audit`
  // records beyond the newest entry's (every audit-stream record since schema v7 is an entry).
  {
    auto q = db.prepare(
        "SELECT (SELECT acked_seq FROM outbox_streams WHERE stream = 'audit'),"
        " (SELECT max(stream_seq) FROM audit_log)");
    if (!q) return q.error();
    auto row = (*q)->step();
    if (!row) return row.error();
    const auto acked = (*q)->opt_int64(0);
    const auto sent = (*q)->opt_int64(1);
    (*q)->reset();
    if (acked && sent && *acked > *sent)
      return broken(expect_seq,
                    "deleted: entries missing at the end: the broker acknowledged "
                    "audit record seq " +
                        std::to_string(*acked) + ", but the newest entry (" +
                        std::to_string(expect_seq - 1) + ") went out as seq " +
                        std::to_string(*sent));
  }
  auto last_seq = db.meta("audit_last_seq");
  if (!last_seq) return last_seq.error();
  if (*last_seq) {
    std::int64_t recorded = std::stoll(**last_seq);
    if (recorded >= expect_seq)
      return broken(expect_seq, "deleted: entr" +
                                    std::string(recorded == expect_seq ? "y " : "ies ") +
                                    std::to_string(expect_seq) +
                                    (recorded == expect_seq ? std::string()
                                                            : "-" + std::to_string(recorded)) +
                                    " missing at the end (the agent wrote up to " +
                                    std::to_string(recorded) + ")");
    auto last_hash = db.meta("audit_last_hash");
    if (!last_hash) return last_hash.error();
    if (*last_hash && recorded == expect_seq - 1 && **last_hash != prev)
      return broken(recorded, "altered: entry " + std::to_string(recorded) +
                                  " is not the last entry the agent wrote (hash differs)");
  }
  return v;
}

}  // namespace depot::store
