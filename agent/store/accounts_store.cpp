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

}  // namespace depot::store
