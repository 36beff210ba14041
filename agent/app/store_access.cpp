#include "app/store_access.hpp"

#include <filesystem>

#include "base/clock.hpp"
#include "base/log.hpp"
#include "core/json_parse.hpp"
#include "base/secret_file.hpp"
#include "store/audit.hpp"
#include "store/ledger.hpp"
#include "store/schema.hpp"

namespace depot::app {

namespace {
// The audit key file's content without its trailing newline ("" when none is configured, or
// when the file is empty: an empty credential means "not used", docs/operations.md).
Expected<std::string> audit_key(const LoadedConfig& l) {
  const auto& path = l.config.audit_key_file;
  if (path.empty()) return std::string();
  return read_secret_file(path, "audit_key_file", kAuditKeyRule);
}
}  // namespace

Status apply_config_catalog(store::Database& db, const std::vector<CatalogItem>& items) {
  auto applied = store::apply_catalog(db, items, wall_now());
  if (!applied) return applied.error();
  constexpr std::size_t kNamed = 20;  // a file of 100,000 codes does not make 100,000 lines
  const auto& taken = applied->taken;
  for (std::size_t i = 0; i < taken.size() && i < kNamed; ++i)
    log::warning("catalog: barcode " + printable(taken[i].code, 80) + " moved from SKU " +
                 taken[i].from_sku + " (written by the cloud's catalog.upsert) to SKU " +
                 taken[i].to_sku + ", which the config file lists it under: the config wins; "
                 "scans of it now count for " + taken[i].to_sku);
  if (taken.size() > kNamed)
    log::warning("catalog: " + std::to_string(taken.size() - kNamed) +
                 " more barcode(s) moved from SKUs written by the cloud to the config's");
  const auto& left = applied->left;
  for (std::size_t i = 0; i < left.size() && i < kNamed; ++i)
    log::warning("catalog: SKU " + left[i].sku +
                 " is no longer in the config file's catalog but still has " +
                 left[i].describe() +
                 ": its barcodes no longer scan; its stock and open work stay in the ledger "
                 "until it is listed again");
  if (left.size() > kNamed)
    log::warning("catalog: " + std::to_string(left.size() - kNamed) +
                 " more SKU(s) left the config file's catalog with stock or open work");
  return {};
}

Expected<std::unique_ptr<store::Database>> open_for_writing(const LoadedConfig& l,
                                                           CatalogAtOpen catalog) {
  auto key = audit_key(l);
  if (!key) return key.error();
  store::OpenOptions o;
  o.synchronous = l.config.durability.synchronous;
  o.busy_timeout_ms = l.config.durability.busy_timeout_ms;
  auto db = store::Database::open(l.database_path, o);
  if (!db) return db.error();
  (*db)->set_audit_key(*key);
  if (catalog == CatalogAtOpen::kApply)
    if (auto st = apply_config_catalog(**db, l.config.catalog); !st) return st.error();
  // A keyed trail cannot be added to without its key; with a key, keying starts now.
  if (key->empty()) {
    auto from = (*db)->meta("audit_keyed_from");
    if (!from) return from.error();
    if (*from)
      return Error{"the audit trail of " + l.database_path + " is keyed (from entry " + **from +
                   "): set audit_key_file to the gateway's audit key"};
  }
  if (auto st = store::audit_ensure_keyed(**db, wall_now()); !st) return st.error();
  return db;
}

Expected<std::unique_ptr<store::Database>> open_for_reading(const LoadedConfig& l) {
  // A first read on a fresh install creates the database, so `stock` lists the catalog.
  std::error_code ec;  // (a symlink loop is named, not an "internal error")
  const bool there = std::filesystem::exists(l.database_path, ec);
  if (ec) return Error{"database " + l.database_path + ": " + ec.message()};
  if (!there) return open_for_writing(l);
  store::OpenOptions o;
  o.read_only = true;
  o.busy_timeout_ms = l.config.durability.busy_timeout_ms;
  auto key = audit_key(l);
  if (!key) return key.error();
  auto db = store::Database::open(l.database_path, o);
  if (!db) return db;
  (*db)->set_audit_key(*key);
  // A database of an older version (upgraded, the daemon not yet restarted) is migrated first:
  // reads name the newer schema's columns.
  auto version = (*db)->schema_version();
  if (!version) return version.error();
  if (*version < static_cast<int>(store::migrations().size())) {
    db->reset();
    auto migrated = open_for_writing(l, CatalogAtOpen::kKeep);
    if (!migrated)
      return Error{"database " + l.database_path + " is at schema version " +
                   std::to_string(*version) + " and this version needs " +
                   std::to_string(store::migrations().size()) +
                   ": start the agent once (it migrates it), or run this as its user (" +
                   migrated.error().message + ")"};
    return migrated;
  }
  return db;
}

}  // namespace depot::app
