// The replenishment commands of the CLI (docs/cli.md): `reorders` (list, ack, cancel),
// `backtest`, and the replenishment figures `stock` adds per SKU. cli.cpp dispatches here.
#pragma once

#include <memory>
#include <span>
#include <optional>
#include <vector>
#include <ostream>
#include <string>
#include <string_view>

#include "app/args.hpp"
#include "app/cli_kit.hpp"
#include "app/config_file.hpp"
#include "app/replenishment.hpp"
#include "core/json_writer.hpp"
#include "store/database.hpp"

namespace depot::app {

// reorders [--open] [--json] | reorders ack ID --order N [--qty N] [--eta DATE] |
// reorders cancel ID --why TEXT. Returns the exit code.
// reorders, campaigns, backtest.
const std::vector<CliCommand>& replenish_commands();

int run_reorders(const Args& a, const LoadedConfig& cfg, std::ostream& out, std::ostream& err);
// backtest --history FILE.csv [--sku S] [--on-hand N] [--json].
int run_backtest(const Args& a, const LoadedConfig& cfg, std::ostream& out, std::ostream& err);
// `campaigns [--json]`: every campaign, from the config and from the cloud (campaign.set,
// which replaces a config campaign of the same name), with its state at now (upcoming,
// active, ended), factor, window and targets.
int run_campaigns(const Args& a, const LoadedConfig& cfg, std::ostream& out, std::ostream& err);

// The figures `stock` shows beside each SKU's line, computed read-only from the database.
class StockFigures {
 public:
  // nullptr (with the reason in `err`) when they cannot be computed.
  // `catalog`: the config file's, whose figures take precedence over the database's copy
  // (Replenishment::use_catalog).
  static std::unique_ptr<StockFigures> compute(store::Database& db, const replenish::Settings& s,
                                               std::span<const CatalogItem> catalog,
                                               std::ostream& err);
  // Evaluated when asked (nothing is kept per SKU beyond the engine's state); nullopt for a
  // SKU the engine does not know (inactive).
  std::optional<SkuReplenishment> find(std::string_view sku) const;
  // Adds held... surge fields (docs/cli.md) to a `stock --json` row; nulls when unknown.
  void append_json(JsonObjectWriter& w, std::string_view sku) const;

 private:
  std::unique_ptr<Replenishment> engine_;
  std::int64_t now_ms_ = 0;  // one instant for every SKU of the report
};
// The same fields as nulls, when no figures could be computed.
void append_null_figures(JsonObjectWriter& w);

}  // namespace depot::app
