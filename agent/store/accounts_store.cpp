#include "store/accounts_store.hpp"

namespace depot::store {
namespace {

constexpr std::string_view kColumns =
    "id, name, role, hash, disabled, failures, locked_until_ms, created_at, changed_at";

Account row(const Statement& s) {
  Account a;
  a.id = s.text(0);
  a.name = s.text(1);
  a.role = accounts::parse_role(s.text_view(2)).value_or(accounts::Role::kOperator);
  a.hash = s.text(3);
  a.disabled = s.int64(4) != 0;
  a.lock.failures = static_cast<int>(s.int64(5));
  a.lock.locked_until_ms = s.int64(6);
  a.created_at = s.text(7);
  a.changed_at = s.text(8);
  return a;
}

}  // namespace

Expected<std::optional<Account>> get_account(Database& db, std::string_view id) {
  auto q = db.prepare("SELECT " + std::string(kColumns) + " FROM accounts WHERE id = ?1");
  if (!q) return q.error();
  (*q)->bind(1, id);
  auto more = (*q)->step();
  if (!more) return more.error();
  std::optional<Account> out;
  if (*more) out = row(**q);
  (*q)->reset();
  return out;
}

Expected<std::vector<Account>> list_accounts(Database& db) {
  auto q = db.prepare("SELECT " + std::string(kColumns) + " FROM accounts ORDER BY id");
  if (!q) return q.error();
  std::vector<Account> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    out.push_back(row(**q));
  }
  (*q)->reset();
  return out;
}

Expected<std::int64_t> count_accounts(Database& db) {
  auto q = db.prepare("SELECT count(*) FROM accounts WHERE NOT disabled");
  if (!q) return q.error();
  auto more = (*q)->step();
  if (!more) return more.error();
  const std::int64_t n = *more ? (*q)->int64(0) : 0;
  (*q)->reset();
  return n;
}

Status insert_account(const Txn&, Database& db, const Account& a) {
  if (auto existing = get_account(db, a.id); !existing) {
    return existing.error();
  } else if (*existing) {
    return Error{"account \"" + a.id + "\" exists already", ErrorKind::kBadInput};
  }
  auto q = db.prepare("INSERT INTO accounts(" + std::string(kColumns) +
                      ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)");
  if (!q) return q.error();
  (*q)->bind(1, a.id).bind(2, a.name).bind(3, accounts::to_string(a.role)).bind(4, a.hash)
      .bind(5, std::int64_t{a.disabled}).bind(6, std::int64_t{a.lock.failures})
      .bind(7, a.lock.locked_until_ms).bind(8, a.created_at).bind(9, a.changed_at);
  return (*q)->run();
}

Status update_account(const Txn&, Database& db, const Account& a) {
  auto q = db.prepare(
      "UPDATE accounts SET hash = ?2, disabled = ?3, failures = ?4, locked_until_ms = ?5,"
      " changed_at = ?6, role = ?7, name = ?8 WHERE id = ?1");
  if (!q) return q.error();
  (*q)->bind(1, a.id).bind(2, a.hash).bind(3, std::int64_t{a.disabled})
      .bind(4, std::int64_t{a.lock.failures}).bind(5, a.lock.locked_until_ms).bind(6, a.changed_at)
      .bind(7, accounts::to_string(a.role)).bind(8, a.name);
  return (*q)->run();
}

Status insert_token(const Txn&, Database& db, const ApiToken& t, std::string_view sha256_hex) {
  auto seen = db.prepare("SELECT 1 FROM api_tokens WHERE name = ?1");
  if (!seen) return seen.error();
  auto hit = (*seen)->bind(1, t.name).step();
  if (!hit) return hit.error();
  const bool taken = *hit;
  (*seen)->reset();
  if (taken)
    return Error{"a token named \"" + t.name + "\" exists (revoked tokens keep their names)",
                 ErrorKind::kBadInput};
  auto q = db.prepare(
      "INSERT INTO api_tokens(name, sha256, created_by, created_at) VALUES(?1,?2,?3,?4)");
  if (!q) return q.error();
  return (*q)->bind(1, t.name).bind(2, sha256_hex).bind(3, t.created_by).bind(4, t.created_at).run();
}

Expected<std::vector<ApiToken>> list_tokens(Database& db) {
  auto q = db.prepare(
      "SELECT name, created_by, created_at, revoked_at FROM api_tokens ORDER BY name");
  if (!q) return q.error();
  std::vector<ApiToken> out;
  for (;;) {
    auto more = (*q)->step();
    if (!more) return more.error();
    if (!*more) break;
    ApiToken t{(*q)->text(0), (*q)->text(1), (*q)->text(2), std::nullopt};
    if (!(*q)->is_null(3)) t.revoked_at = (*q)->text(3);
    out.push_back(std::move(t));
  }
  (*q)->reset();
  return out;
}

Expected<bool> revoke_token(const Txn&, Database& db, std::string_view name,
                            std::string_view at) {
  auto q = db.prepare(
      "UPDATE api_tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL");
  if (!q) return q.error();
  if (auto st = (*q)->bind(1, name).bind(2, at).run(); !st) return st.error();
  return db.changes() > 0;
}

Expected<std::optional<std::string>> find_token(Database& db, std::string_view sha256_hex) {
  auto q = db.prepare("SELECT name FROM api_tokens WHERE sha256 = ?1 AND revoked_at IS NULL");
  if (!q) return q.error();
  auto more = (*q)->bind(1, sha256_hex).step();
  if (!more) return more.error();
  std::optional<std::string> out;
  if (*more) out = (*q)->text(0);
  (*q)->reset();
  return out;
}

}  // namespace depot::store
