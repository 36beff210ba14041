// Replenishment on the gateway: keeps, per SKU, what `replenish::evaluate` needs (stock line,
// demand tracker fed from daily buckets, surge detector fed from picks, campaigns, open
// proposals) and acts on its decisions - a proposal and its `reorders` outbox record in one
// transaction, `demand_surge` and `stockout_risk` alarms on the `alarms` stream.
//
// The ledger's movements are the input. Everything committed since the last look (by the
// daemon's group commit, the CLI or a cloud command, i.e. any process) is folded in by
// `catch_up`, in movement seq order: picks and returns into the SKU's bucket of that UTC day
// (demand_days) and picks into its surge detector; receipts credited to the SKU's open orders
// oldest acknowledgement first (order_receipts, once per movement); holds and everything else
// only change the stock line. The SKUs touched are then re-evaluated at once; `recompute_all`
// re-evaluates every SKU (and lets surges end and days roll over). The last folded seq is kept
// in meta `replenish_seq`, so a restart neither forgets demand nor counts a pick twice; the
// surge windows are rebuilt from the picks of the last long window at `load`.
//
// Write mode (the daemon) persists everything; read mode (CLI reports) computes the same
// numbers in memory and writes nothing.
// Thread-safety: one owner thread, the one that owns the Database.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.hpp"
#include "core/error.hpp"
#include "core/orders.hpp"
#include "core/replenish/config.hpp"
#include "core/replenish/proposal.hpp"
#include "store/database.hpp"
#include "store/ledger.hpp"
#include "store/replenish_store.hpp"

namespace depot::app {

// One SKU as `stock --json` reports it. `sku` points into the Replenishment's state (valid
// until its next load), `policy` into its policy names (also until its next load).
struct SkuReplenishment {
  std::string_view sku;
  std::string_view policy;       // the catalog's policy name ("" = none)
  bool has_policy = false;
  bool stock_known = false;      // the ledger has seen the SKU; no proposals or alarms before
  replenish::Decision decision;  // numbers are meaningful when has_policy
  bool surge = false;
};

class Replenishment {
 public:
  enum class Mode { kWrite, kReadOnly };
  struct Counters {
    std::uint64_t folded = 0, evaluations = 0, proposals = 0, alarms = 0, receipts = 0;
  };

  Replenishment(store::Database& db, replenish::Settings settings, Mode mode);
  ~Replenishment();

  // (Re)loads everything from the database: catalog, stock, demand buckets, open proposals,
  // campaigns (config and cloud), active alarms; replays the picks of the last long surge
  // window into the detectors; folds what was committed since the watermark; then
  // re-evaluates every SKU at `now_ms` (unix ms).
  Status load(std::int64_t now_ms);
  // Read-only callers (the CLI): the figures replenishment takes from the catalog (policy,
  // daily_demand, daily_demand_sd, pin_demand) come from `items` (the config file as it is
  // now) for every SKU it lists, rather than from the database's copy, which the daemon
  // updates only when it starts or reloads. Call before load(); `items` must outlive it.
  void use_catalog(std::span<const CatalogItem> items) { catalog_override_ = items; }
  // Replaces the settings (a config reload) and reloads.
  Status reconfigure(replenish::Settings settings, std::int64_t now_ms);

  // Folds movements committed since the last fold and re-evaluates the SKUs they touched.
  // When another connection changed the database since the last look (PRAGMA data_version),
  // open proposals and campaigns are read again first.
  Status catch_up(std::int64_t now_ms);
  // The same inside the caller's write transaction (the group commit's batch: issue 18, no
  // second commit per batch). Memory then runs ahead of the database until that transaction
  // commits; if it does not, the caller must load() again.
  Status catch_up(const store::Txn&, std::int64_t now_ms);
  // True once after catch_up saw another connection's change (then recompute_all is due).
  bool take_external_change();
  // Re-evaluates every SKU (surge detectors tick, days roll over).
  Status recompute_all(std::int64_t now_ms);
  // Re-reads open proposals and campaigns (after another process or a cloud command changed
  // them), then catches up.
  Status refresh(std::int64_t now_ms);
  // A customer order command changed stock lines without a movement (reserved or released
  // stock): feeds the new lines to the SKUs' order-intake surge detectors, reads the lines
  // again and re-evaluates those SKUs.
  Status orders_changed(std::int64_t now_ms, const orders::Change& change);

  // The decision for `sku` now, without acting on it; nullopt for an unknown SKU.
  std::optional<SkuReplenishment> report(std::string_view sku, std::int64_t now_ms);

  // The surge detectors' clock (docs/replenishment.md, "Site time"): monotonic milliseconds,
  // never stepped by NTP. The daemon gives CLOCK_MONOTONIC; unset, the wall time passed in is
  // used (tests that drive time by `now_ms`). A pick's time on it is the clock now minus how
  // long ago (wall time) the pick was committed, so a backward wall-clock step neither
  // freezes the windows nor the decay.
  void use_mono_clock(std::function<std::int64_t()> clock) { mono_clock_ = std::move(clock); }

  bool in_surge(std::string_view sku) const;
  const Counters& counters() const { return counters_; }
  std::int64_t watermark() const { return watermark_; }
  const replenish::Settings& settings() const { return settings_; }

 private:
  struct SkuState;
  SkuState* find(std::string_view sku);
  const SkuState* find(std::string_view sku) const;
  Status catch_up(std::int64_t now_ms, bool own_transaction);
  Status fold(const std::vector<store::FoldMovement>& moves, std::set<std::string>& touched);
  Status fold_receipt(SkuState& s, const store::FoldMovement& m);
  Status fold_unreceipt(SkuState& s, const store::FoldMovement& m);
  Status refresh_stock(const std::set<std::string>& skus);
  Status load_stock_all();
  Status load_proposals(std::int64_t now_ms);  // open ones, and cancelled ones in a cool-down
  Status load_campaigns();
  Status load_source_stock();
  // Lots (core/lots): what is expired today per SKU (not available), and the short_dated
  // alarms: raised for a lot with stock (not held) within lots.short_dated_days of its expiry,
  // cleared when it has none. `act`: raise and clear (write mode), else only read. Run after
  // each fold and at each recompute.
  Status check_lots(std::int64_t now_ms, bool act);
  void advance_days(SkuState& s, std::int64_t today);
  replenish::Decision decide(SkuState& s, std::int64_t now_ms, bool act, Status& st);
  Status act_on(SkuState& s, const replenish::Decision& d, std::int64_t now_ms);
  // `signal`: whose detector it is, "picks" or "orders" (in the alarm's details).
  Status surge_event(SkuState& s, const replenish::SurgeEvent& e, std::string_view signal);
  template <class Fn>
  Status in_transaction(Fn&& body);

  // Reads the surge clock for an entry point called at `now_ms` (see use_mono_clock).
  void stamp(std::int64_t now_ms);
  std::int64_t site_day(std::int64_t unix_ms) const;
  std::int64_t mono_of(std::int64_t wall_ms) const;

  store::Database& db_;
  std::function<std::int64_t()> mono_clock_;
  std::int64_t mono_now_ = 0, wall_now_ = 0;
  replenish::Settings settings_;
  std::span<const CatalogItem> catalog_override_;
  Mode mode_;
  std::vector<replenish::Campaign> campaigns_;  // config, then cloud-set (same name: cloud)
  // What transfer sources can spare, per SKU (source.stock); only SKUs they reported on.
  std::map<std::string, std::vector<replenish::SourceStock>, std::less<>> source_stock_;
  // Units of expired lots per SKU (only SKUs that have some), and the active short_dated
  // alarms by SKU and lot (check_lots).
  std::map<std::string, std::int64_t, std::less<>> expired_;
  std::map<std::pair<std::string, std::string>, store::ReplenishAlarm> short_dated_;
  replenish::CampaignIndex campaign_index_;
  std::vector<std::span<const replenish::Campaign* const>> campaign_slots_;  // SkuState's slot
  // Every active SKU, sorted by SKU: the one copy of what replenishment keeps per SKU (120
  // bytes for a SKU without demand history, about 250 with it: 10,000 quiet SKUs cost 1.2 MB).
  std::vector<SkuState> skus_;
  // Each policy name of the catalog once ("" = none), with the config's policy of that name
  // (nullptr: none, or not in the config); skus_ point into it. Rebuilt by load().
  using PolicyEntry = std::pair<const std::string, const replenish::Policy*>;
  std::map<std::string, const replenish::Policy*, std::less<>> policies_;
  mutable std::size_t hint_ = 0;                      // find(): index of the last hit
  bool stock_in_snapshot_ = false;  // load(): the stock rows already include what catch_up folds
  std::int64_t watermark_ = 0;
  std::int64_t data_version_ = -1;
  bool external_change_ = false;
  Counters counters_;
};

}  // namespace depot::app

namespace depot::app {

// Drives a write-mode Replenishment from the daemon's loop: after each committed batch of
// movements (inside the batch's own transaction) it folds them in and re-evaluates the SKUs they touched; every `recheck` it looks
// for work other connections did (SQLite's PRAGMA data_version: the CLI acknowledging a
// proposal, movements posted by another process) and for movements committed on this
// connection outside group commit (cloud commands); every `recompute` it re-evaluates every
// SKU, so surges end and days roll over while nothing moves. An error is logged and the
// state reloaded from the database. Thread-safety: the loop thread only.
class ReplenishmentLoop {
 public:
  ReplenishmentLoop(boost::asio::io_context& io, store::Database& db, Replenishment& r,
                    std::chrono::milliseconds recheck, std::chrono::milliseconds recompute);
  void start();
  void stop();
  // For GroupCommit::set_in_commit: folds the batch inside its own transaction, so the
  // batch's demand, watermark, proposals and alarms share its commit (no second fsync).
  Status in_commit(const store::Txn& txn);
  void in_commit_undone(const std::string& why);
  // For GroupCommit::set_after_commit: folds whatever the batch's transaction did not (after
  // in_commit, normally nothing: one indexed read).
  void after_commit(std::span<const store::PostResult> results);
  // Proposals or campaigns changed on this connection (a cloud command).
  void proposals_changed();
  // A cloud order command changed reservations on this connection.
  void orders_changed(const orders::Change& change);
  // The catalog or settings changed: reload.
  void reload();

 private:
  void arm_recheck();
  void arm_recompute();
  void run(const char* what, const std::function<Status(std::int64_t)>& step);

  store::Database& db_;
  Replenishment& r_;
  std::chrono::milliseconds recheck_, recompute_;
  boost::asio::steady_timer recheck_timer_, recompute_timer_;
  bool stopped_ = false;
  bool stale_ = false;  // in_commit's work was undone: reload after the next commit
};

}  // namespace depot::app
