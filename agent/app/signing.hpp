// Electronic signatures by local accounts (docs/operations.md, "Accounts and signatures").
// Passwords are hashed with Argon2id (libsodium crypto_pwhash_str_alg: 2 passes, 19 MiB,
// OWASP's minimum for Argon2id; the memory is freed after each hash). `sign` is what every
// state-changing action calls before it applies: the account and its password re-entered
// now, the role allowed to take the action; a wrong password is refused, counted and audited,
// and the fifth in a row locks the account for 15 minutes.
// Threading: any thread (each call uses the Database it is given).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/accounts.hpp"
#include "core/error.hpp"
#include "store/accounts_store.hpp"
#include "store/database.hpp"

namespace depot::app {

Expected<std::string> hash_password(std::string_view password);
bool password_matches(const std::string& hash, std::string_view password);

struct Signature {
  std::string account, name;
  accounts::Role role = accounts::Role::kOperator;
  accounts::Action action = accounts::Action::kAlarmAck;
  std::string at;      // RFC 3339 UTC
  std::string reason;  // why, as the signer gave it
  nlohmann::json to_json() const;  // {account, name, role, meaning, action, at, reason}
};

// The account when `password` is its password, or why not (kForbidden): unknown account
// (after the same work as a real check), disabled, locked (until when), or a wrong password,
// which is counted and audited (`signature.refused`, or `account.locked` for the one that
// locks; details.action = `attempt`, e.g. "alarm.ack" or "console.login").
Expected<store::Account> check_password(store::Database& db, std::string_view account,
                                        std::string_view password, std::string_view attempt,
                                        std::int64_t now_ms, const accounts::LockoutRule& rule = {});

// The signature of `account` for `action` at `now_ms`, or why not (kForbidden): unknown
// account, disabled, locked (until when), wrong password (counted; audited as
// `signature.refused`), or a role that may not take the action.
Expected<Signature> sign(store::Database& db, std::string_view account, std::string_view password,
                         accounts::Action action, std::string_view reason, std::int64_t now_ms,
                         const accounts::LockoutRule& rule = {});

// Account administration, each in one transaction with its audit entry (`users.add`,
// `users.passwd`, `users.disable`, `users.enable`; who: `by`, e.g. "cli:root").
Status add_user(store::Database& db, std::string_view id, std::string_view name,
                accounts::Role role, std::string_view password, std::string_view by,
                std::int64_t now_ms);
Status set_password(store::Database& db, std::string_view id, std::string_view password,
                    std::string_view by, std::int64_t now_ms);
Status set_disabled(store::Database& db, std::string_view id, bool disabled, std::string_view by,
                    std::int64_t now_ms);

// Bearer tokens for machines (docs/api.md, "Bearer tokens"): they read the console's API, and
// sign nothing. A token is "dpt_" and 64 hex digits (256 random bits), shown once; the database
// keeps its SHA-256. Each change in one transaction with its audit entry (`tokens.add`,
// `tokens.revoke`; who: `by`).
Expected<std::string> issue_token(store::Database& db, std::string_view name, std::string_view by,
                                  std::int64_t now_ms);
Status revoke_token(store::Database& db, std::string_view name, std::string_view by,
                    std::int64_t now_ms);
// The name of the unrevoked token `token`, or nullopt (not a token, unknown, revoked).
Expected<std::optional<std::string>> token_name(store::Database& db, std::string_view token);

}  // namespace depot::app
