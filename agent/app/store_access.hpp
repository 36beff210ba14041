// Opening the agent's database from a loaded config, the same way for the daemon and the
// CLI: pragmas from `durability`, migrations, and the configured catalog applied.
#pragma once

#include <memory>

#include "app/config_file.hpp"
#include "core/error.hpp"
#include "store/database.hpp"
#include "store/ledger.hpp"

namespace depot::app {

// Whether opening applies the config's catalog. The daemon applies it once at start (then
// frees its parsed copy) and at each reload: a second connection it opens later (the console's
// signing thread) keeps the catalog as it is (applying the freed, empty list marked every
// configured SKU inactive: attack session).
enum class CatalogAtOpen { kApply, kKeep };

// Opens read-write, migrates, and applies the config's catalog (a no-op when unchanged).
Expected<std::unique_ptr<store::Database>> open_for_writing(
    const LoadedConfig& loaded, CatalogAtOpen catalog = CatalogAtOpen::kApply);
// Applies the config's catalog (store::apply_catalog) and logs a warning naming each barcode
// the config took from a SKU the cloud had written (catalog.upsert): the config wins, and
// scans of that code count for the config's SKU from now on. Used at open and on reload.
Status apply_config_catalog(store::Database& db, const std::vector<CatalogItem>& items);
// Opens the database read-only, for CLI reads that must not disturb the daemon (when there is
// no database file yet, it is created as by open_for_writing).
Expected<std::unique_ptr<store::Database>> open_for_reading(const LoadedConfig& loaded);
// The ledger's lot rules from the config: `lots.picking` and the site's calendar.
inline store::LotRules lot_rules(const Config& c) { return {c.replenish.lots.picking, c.site_zone}; }

}  // namespace depot::app
