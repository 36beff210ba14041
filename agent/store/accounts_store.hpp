// Local accounts in the database (table `accounts`, schema v11). Plain rows: hashing and the
// signing rules are app/signing.hpp's. Every change is audited by the caller's transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/accounts.hpp"
#include "core/error.hpp"
#include "store/database.hpp"

namespace depot::store {

struct Account {
  std::string id, name;
  accounts::Role role = accounts::Role::kOperator;
  std::string hash;
  bool disabled = false;
  accounts::LockState lock;
  std::string created_at, changed_at;
};

Expected<std::optional<Account>> get_account(Database& db, std::string_view id);
Expected<std::vector<Account>> list_accounts(Database& db);
Expected<std::int64_t> count_accounts(Database& db);
// In a transaction. Errors: the id is taken (kBadInput).
Status insert_account(const Txn& txn, Database& db, const Account& a);
// In a transaction: hash, disabled, lock state and changed_at of an existing account.
Status update_account(const Txn& txn, Database& db, const Account& a);

// --- Bearer tokens (table `api_tokens`, schema v12) ---
struct ApiToken {
  std::string name, created_by, created_at;
  std::optional<std::string> revoked_at;
};
// In a transaction. Errors: the name is taken (kBadInput).
Status insert_token(const Txn& txn, Database& db, const ApiToken& t, std::string_view sha256_hex);
Expected<std::vector<ApiToken>> list_tokens(Database& db);
// In a transaction: false when there is no such token or it was already revoked.
Expected<bool> revoke_token(const Txn& txn, Database& db, std::string_view name,
                            std::string_view at);
// The name of the unrevoked token whose SHA-256 is `sha256_hex`, if any.
Expected<std::optional<std::string>> find_token(Database& db, std::string_view sha256_hex);

}  // namespace depot::store
