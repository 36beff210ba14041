#include "app/signing.hpp"

#include <sodium.h>

#include "app/console_session.hpp"
#include "core/json_fields.hpp"
#include "core/sha256.hpp"
#include "core/json_parse.hpp"

#include <functional>
#include "core/time.hpp"
#include "store/audit.hpp"

namespace depot::app {
namespace {

constexpr unsigned long long kOpsLimit = 2;
constexpr std::size_t kMemLimit = 19u * 1024u * 1024u;

bool sodium_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

Status audited(store::Database& db, const std::string& who, std::int64_t now_ms,
               const std::string& what, const std::string& why, nlohmann::json details) {
  store::AuditEntry a;
  a.who = who;
  a.at = timefmt::rfc3339_from_unix_ms(now_ms);
  a.what = what;
  a.why = why;
  a.details = std::move(details);
  if (auto r = store::audit_append(db, a); !r) return r.error();
  return {};
}

Error refused(std::string message) { return Error{std::move(message), ErrorKind::kForbidden}; }

}  // namespace

Expected<std::string> hash_password(std::string_view password) {
  if (!sodium_ready()) return Error{"libsodium could not be initialised"};
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Error{"hashing the password failed (out of memory?)"};
  return std::string(out);
}

bool password_matches(const std::string& hash, std::string_view password) {
  if (!sodium_ready()) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

nlohmann::json Signature::to_json() const {
  return {{"account", account},
          {"name", name},
          {"role", accounts::to_string(role)},
          {"action", accounts::to_string(action)},
          {"meaning", accounts::meaning(action)},
          {"at", at},
          {"reason", reason}};
}

Expected<store::Account> check_password(store::Database& db, std::string_view account,
                                        std::string_view password, std::string_view attempt,
                                        std::int64_t now_ms, const accounts::LockoutRule& rule) {
  const std::string shown = printable(account, 64);
  auto found = store::get_account(db, account);
  if (!found) return found.error();
  if (!*found) {
    // The same work as a real check, so a wrong id cannot be told from a wrong password by
    // the time it takes.
    static const auto dummy = hash_password("not-a-password");
    if (dummy) (void)password_matches(*dummy, password);
    return refused("account \"" + shown + "\" or its password is wrong");
  }
  store::Account a = **found;
  if (a.disabled) return refused("account \"" + a.id + "\" is disabled");
  if (accounts::locked(a.lock, now_ms))
    return refused("account \"" + a.id + "\" is locked after repeated wrong passwords until " +
                   timefmt::rfc3339_from_unix_ms(a.lock.locked_until_ms));
  const bool ok = password_matches(a.hash, password);
  if (!ok || a.lock.failures != 0) {
    const auto before = a.lock;
    a.lock = ok ? accounts::LockState{} : accounts::after_failure(a.lock, now_ms, rule);
    auto st = db.transaction([&](const store::Txn& txn) -> Status {
      if (auto s = store::update_account(txn, db, a); !s) return s;
      if (ok) return {};
      const bool now_locked = accounts::locked(a.lock, now_ms);
      return audited(db, a.id, now_ms, now_locked ? "account.locked" : "signature.refused",
                     now_locked ? "too many wrong passwords in a row" : "wrong password",
                     {{"action", std::string(attempt)},
                      {"failures", now_locked ? before.failures + 1 : a.lock.failures},
                      {"locked_until", now_locked ? nlohmann::json(timefmt::rfc3339_from_unix_ms(
                                                        a.lock.locked_until_ms))
                                                  : nlohmann::json()}});
    });
    if (!st) return st.error();
    if (!ok)
      return refused("account \"" + shown + "\" or its password is wrong" +
                     (accounts::locked(a.lock, now_ms)
                          ? "; the account is now locked until " +
                                timefmt::rfc3339_from_unix_ms(a.lock.locked_until_ms)
                          : ""));
  }
  return a;
}

Expected<Signature> sign(store::Database& db, std::string_view account, std::string_view password,
                         accounts::Action action, std::string_view reason, std::int64_t now_ms,
                         const accounts::LockoutRule& rule) {
  auto checked = check_password(db, account, password, accounts::to_string(action), now_ms, rule);
  if (!checked) return checked.error();
  const store::Account& a = *checked;
  if (!accounts::may(a.role, action))
    return refused("account \"" + a.id + "\" (role " + std::string(accounts::to_string(a.role)) +
                   ") may not sign " + std::string(accounts::to_string(action)));
  Signature s;
  s.account = a.id;
  s.name = a.name;
  s.role = a.role;
  s.action = action;
  s.at = timefmt::rfc3339_from_unix_ms(now_ms);
  s.reason = std::string(reason);
  return s;
}

Status add_user(store::Database& db, std::string_view id, std::string_view name,
                accounts::Role role, std::string_view password, std::string_view by,
                std::int64_t now_ms) {
  if (!accounts::valid_account_id(id))
    return Error{"account id " + describe(std::string(id)) +
                     " must be 1-64 of a-z 0-9 . _ - starting with a letter",
                 ErrorKind::kBadInput};
  if (auto bad = text_problem("name", name, 128); !bad.empty())
    return Error{bad, ErrorKind::kBadInput};
  if (name.empty()) return Error{"name: required (the signer's full name)", ErrorKind::kBadInput};
  if (auto bad = accounts::password_problem(password); !bad.empty())
    return Error{"password " + bad, ErrorKind::kBadInput};
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  store::Account a;
  a.id = std::string(id);
  a.name = std::string(name);
  a.role = role;
  a.hash = *hash;
  a.created_at = a.changed_at = timefmt::rfc3339_from_unix_ms(now_ms);
  return db.transaction([&](const store::Txn& txn) -> Status {
    if (auto s = store::insert_account(txn, db, a); !s) return s;
    return audited(db, std::string(by), now_ms, "users.add", "account created",
                   {{"account", a.id}, {"name", a.name}, {"role", accounts::to_string(role)}});
  });
}

namespace {
Status change(store::Database& db, std::string_view id, std::string_view by, std::int64_t now_ms,
              const std::string& what, const std::function<void(store::Account&)>& edit) {
  return db.transaction([&](const store::Txn& txn) -> Status {
    auto found = store::get_account(db, id);
    if (!found) return found.error();
    if (!*found)
      return Error{"no account \"" + printable(id, 64) + "\"", ErrorKind::kNotFound};
    store::Account a = **found;
    edit(a);
    a.changed_at = timefmt::rfc3339_from_unix_ms(now_ms);
    if (auto s = store::update_account(txn, db, a); !s) return s;
    return audited(db, std::string(by), now_ms, what, "", {{"account", a.id}});
  });
}
}  // namespace

Status set_password(store::Database& db, std::string_view id, std::string_view password,
                    std::string_view by, std::int64_t now_ms) {
  if (auto bad = accounts::password_problem(password); !bad.empty())
    return Error{"password " + bad, ErrorKind::kBadInput};
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  return change(db, id, by, now_ms, "users.passwd", [&](store::Account& a) {
    a.hash = *hash;
    a.lock = {};  // a new password ends a lock
  });
}

Status set_disabled(store::Database& db, std::string_view id, bool disabled, std::string_view by,
                    std::int64_t now_ms) {
  return change(db, id, by, now_ms, disabled ? "users.disable" : "users.enable",
                [&](store::Account& a) { a.disabled = disabled; });
}

// --- Bearer tokens ---

namespace {
constexpr std::string_view kTokenPrefix = "dpt_";
std::string token_digest(std::string_view token) { return to_hex(sha256(token)); }
}  // namespace

Expected<std::string> issue_token(store::Database& db, std::string_view name, std::string_view by,
                                  std::int64_t now_ms) {
  if (!accounts::valid_account_id(name))
    return Error{"token name " + describe(std::string(name)) +
                     " must be 1-64 of a-z 0-9 . _ - starting with a letter",
                 ErrorKind::kBadInput};
  auto secret = random_hex(32);
  if (!secret) return secret.error();
  const std::string token = std::string(kTokenPrefix) + *secret;
  store::ApiToken t{std::string(name), std::string(by), timefmt::rfc3339_from_unix_ms(now_ms), {}};
  auto st = db.transaction([&](const store::Txn& txn) -> Status {
    if (auto s = store::insert_token(txn, db, t, token_digest(token)); !s) return s;
    return audited(db, std::string(by), now_ms, "tokens.add", "bearer token issued",
                   {{"token", t.name}});
  });
  if (!st) return st.error();
  return token;
}

Status revoke_token(store::Database& db, std::string_view name, std::string_view by,
                    std::int64_t now_ms) {
  return db.transaction([&](const store::Txn& txn) -> Status {
    auto done = store::revoke_token(txn, db, name, timefmt::rfc3339_from_unix_ms(now_ms));
    if (!done) return done.error();
    if (!*done)
      return Error{"no unrevoked token \"" + printable(name, 64) + "\"", ErrorKind::kNotFound};
    return audited(db, std::string(by), now_ms, "tokens.revoke", "bearer token revoked",
                   {{"token", std::string(name)}});
  });
}

Expected<std::optional<std::string>> token_name(store::Database& db, std::string_view token) {
  // Only a token of our shape is looked up: anything else is refused without a query.
  if (token.size() != kTokenPrefix.size() + 64 || !token.starts_with(kTokenPrefix))
    return std::optional<std::string>();
  return store::find_token(db, token_digest(token));
}

}  // namespace depot::app
