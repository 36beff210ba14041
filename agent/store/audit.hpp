// The audit trail: an append-only, hash-chained log of what people and the agent decided
// (alarm acknowledgements, quality holds, releases, write-offs, excursion records, config
// changes, cloud commands), in the spirit of 21 CFR Part 11 and EU GDP. Each entry stores the
// SHA-256 of the previous entry's hash and its own content, so an altered, deleted or
// reordered entry breaks the chain and `audit_verify` names the first broken one.
//
// Canonical text of an entry (what its hash covers), as compact JSON with members in this
// order: [seq, at, who, what, why, details, prev_hash]; `details` is its stored JSON text
// (docs/protocol.md, "Verifying the audit chain", spells it out). The hash is HMAC-SHA256
// under the gateway's audit key (Database::audit_key) from the keyed start
// (meta audit_keyed_from, authenticated by audit_keyed_mac) on, plain SHA-256 before it.
// The first entry's prev_hash is 64 zeros. The chain's last seq and hash are also kept in
// `meta` (audit_last_seq, audit_last_hash) so that deleting the newest entries shows too, and
// each entry keeps the seq of its `audit` outbox record (same transaction), so a trail
// shorter than what the broker acknowledged shows even when meta was fixed up.
// Thread-safety: use from the thread that owns the Database.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "store/database.hpp"

namespace depot::store {

struct AuditEntry {
  std::string who;   // a person's name, "agent" or "cloud"
  std::string at;    // RFC 3339 UTC
  std::string what;  // event kind: alarm.ack, hold, hold.release, hold.writeoff, excursion, ...
  std::string why;   // free text; may be empty
  nlohmann::json details = nlohmann::json::object();
  // Extra top-level members of its `audit` stream record (not hashed), and that record's id
  // ("" = audit-{seq}-{first 12 hash digits}).
  nlohmann::json record_fields = nullptr;
  std::string record_id;
};

struct AuditRecord {
  std::int64_t seq = 0;
  std::string at, who, what, why, details, prev_hash, hash;
};

inline constexpr const char* kAuditGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";

// SHA-256 as 64 lower-case hex digits.
std::string sha256_hex(std::string_view data);
// An entry's hash: HMAC-SHA256 under `key` of its canonical text, or (no key: entries written
// before the trail was keyed) its SHA-256; 64 lower-case hex digits.
std::string audit_hash(std::string_view key, std::string_view canonical);
// The canonical text of an entry (see above).
std::string audit_canonical(std::int64_t seq, std::string_view at, std::string_view who,
                            std::string_view what, std::string_view why,
                            std::string_view details, std::string_view prev_hash);

// Appends `entry`; returns its seq. REQUIRES: a write transaction is open on `db`.
// `to_outbox` false: no `audit` outbox record, for changes already reported on that stream in
// the same transaction (an applied cloud command's own `{"event":"command"}` record).
Expected<std::int64_t> audit_append(Database& db, const AuditEntry& entry, bool to_outbox = true);

// With an audit key set on `db` and a trail not keyed yet: appends the `audit.keyed` entry
// from which the chain is keyed (an existing unkeyed chain keeps its plain entries). Opens
// its own transaction.
Status audit_ensure_keyed(Database& db, std::string_view now);

// Entries with at >= `since` (RFC 3339) when given, in seq order.
// `limit` > 0: only the newest this many (still in seq order).
Expected<std::vector<AuditRecord>> audit_list(Database& db, const std::optional<std::string>& since,
                                              std::int64_t limit = 0);

struct AuditVerdict {
  bool ok = true;
  std::int64_t entries = 0;      // entries checked
  std::int64_t broken_seq = 0;   // the first broken entry (0 when ok)
  std::string problem;           // "altered", "deleted", "reordered", with the details
};
// Checks the whole chain from the first entry.
Expected<AuditVerdict> audit_verify(Database& db);

}  // namespace depot::store
