#include "app/store_access.hpp"

#include <filesystem>

#include "app/clock.hpp"
#include "store/ledger.hpp"

namespace depot::app {

Expected<std::unique_ptr<store::Database>> open_for_writing(const LoadedConfig& l) {
  store::OpenOptions o;
  o.synchronous = l.config.durability.synchronous;
  o.busy_timeout_ms = l.config.durability.busy_timeout_ms;
  auto db = store::Database::open(l.database_path, o);
  if (!db) return db.error();
  if (auto st = store::apply_catalog(**db, l.config.catalog, wall_now()); !st) return st.error();
  return db;
}

Expected<std::unique_ptr<store::Database>> open_for_reading(const LoadedConfig& l) {
  // A first read on a fresh install creates the database, so `stock` lists the catalog.
  if (!std::filesystem::exists(l.database_path)) return open_for_writing(l);
  store::OpenOptions o;
  o.read_only = true;
  o.busy_timeout_ms = l.config.durability.busy_timeout_ms;
  return store::Database::open(l.database_path, o);
}

}  // namespace depot::app
