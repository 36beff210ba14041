// The stock ledger: append-only movements and the per-SKU stock projection, in SQLite.
// `post` records a batch of movements in ONE transaction, together with each movement's
// outbox record: when it returns, every posted movement is durable (per the connection's
// synchronous mode) and will be reported to the cloud. The arithmetic is core/stock.
// Thread-safety: use from the thread that owns the Database.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/catalog.hpp"
#include "core/error.hpp"
#include "core/lots.hpp"
#include "core/movement.hpp"
#include "core/tz.hpp"
#include "store/database.hpp"
#include "store/outbox.hpp"

namespace depot::store {

enum class PostOutcome {
  kPosted,     // recorded now
  kDuplicate,  // this id was recorded before; stock unchanged
  kRejected,   // invalid (unknown SKU, quantity rule); nothing recorded
};

struct PostResult {
  PostOutcome outcome = PostOutcome::kRejected;
  std::string error;      // why, for kRejected
  Posting posting;        // for kPosted
  StockLine after;        // the SKU's line after this movement (kPosted)
  std::vector<lots::Delta> lots;  // the lots it changed (kPosted; core/lots)
};

// A recorded movement, as read back.
struct MovementRecord {
  std::int64_t seq = 0;
  std::string id, sku, kind, source, wall_time;
  std::int64_t qty = 0, held_qty = 0, on_hand_after = 0, mono_ns = 0;
  std::optional<std::int64_t> counted;
  std::optional<std::string> lot, expiry, serial, reverses, order_id;
  std::vector<lots::Delta> lots;  // the lots the agent chose for it (core/lots), if any
  bool negative = false;
  bool serial_repeat = false;
};

// A SKU's stock as listed by `depot-agent stock`.
struct StockRow {
  std::string sku, name, unit, zone;
  StockLine line;
  bool active = true;
  std::optional<std::string> updated_at;
};

// One lot of one SKU, as `stock --lots` lists it.
struct LotRow {
  std::string sku;
  lots::Lot lot;
  bool expired = false;
  std::optional<std::int64_t> days_left;  // to its expiry (0 = expires today)
};

// How the ledger handles lots: the picking order for movements that name none, and the site's
// calendar (a lot is expired from the day after its expiry date, site time).
struct LotRules {
  lots::Picking picking = lots::Picking::kFefo;
  tz::Zone zone = tz::utc();
};
// The site's calendar day of `unix_ms` as an ISO date (YYYY-MM-DD).
std::string site_date(const tz::Zone& zone, std::int64_t unix_ms);
// The same for an RFC 3339 time (a movement's or command's); the UTC date when unreadable.
std::string site_date(const tz::Zone& zone, std::string_view rfc3339);
// Units of `sku`'s expired lots on hand and not held, on `today` (lot_stock).
Expected<std::int64_t> expired_units(Database& db, std::string_view sku, std::string_view today);

struct MovementFilter {
  std::optional<std::string> sku;
  std::optional<std::string> since;  // RFC 3339 UTC; movements at or after it
  std::int64_t limit = 0;            // the newest this many (in seq order); 0 = all
  std::optional<std::string> id;     // just this movement
};

class Ledger {
 public:
  explicit Ledger(Database& db, LotRules rules = {}) : db_(db), rules_(std::move(rules)) {}
  Database& db() const { return db_; }
  const LotRules& lot_rules() const { return rules_; }
  void set_lot_rules(LotRules rules) { rules_ = std::move(rules); }

  // Records `requests` in one transaction. Per-movement problems (unknown SKU, bad
  // quantity) are results, not errors, and do not stop the rest of the batch. An Error means
  // nothing in the batch was recorded (the transaction rolled back).
  Expected<std::vector<PostResult>> post(std::span<const MovementRequest> requests);
  // The same inside the caller's transaction (group commit adds its rejects to it).
  Expected<std::vector<PostResult>> post(const Txn& txn, std::span<const MovementRequest> requests);
  // Records one movement (and its outbox record) inside the caller's open write transaction,
  // for changes that must commit together with other records (quality holds with their
  // alarm). A rejected movement is a result; an Error leaves the rollback to the caller's
  // guard.
  Expected<PostResult> post_in_transaction(const Txn& txn, const MovementRequest& request) {
    return post_one(txn, request, nullptr);
  }

  // In SKU order; `after`: only SKUs after it; `limit` 0 = all.
  Expected<std::vector<StockRow>> stock(const std::optional<std::string>& sku,
                                        std::int64_t limit = 0,
                                        const std::optional<std::string>& after = std::nullopt);
  // Each SKU's lots (in SKU order, each SKU's in its picking order, then expired ones) as of
  // `today` (ISO date; the site's today when empty).
  Expected<std::vector<LotRow>> lots(const std::optional<std::string>& sku,
                                     std::string today = {});
  Expected<std::vector<MovementRecord>> movements(const MovementFilter& filter);
  Expected<std::optional<MovementRecord>> find(std::string_view id);

 private:
  // Posts one movement. Its outbox record is appended at once, or, with `records`, added there
  // for the caller to append with the batch's (post: one read and write of the stream's row).
  Expected<PostResult> post_one(const Txn& txn, const MovementRequest& r,
                                std::vector<OutboxText>* records);
  Expected<std::vector<lots::Lot>> read_lots(std::string_view sku);
  Expected<std::vector<lots::Delta>> undone_lots(std::string_view movement_id);
  Status apply_lots(std::string_view sku, std::span<const lots::Delta> deltas,
                    std::int64_t seq, std::string_view now);
  std::string today() const;
  Database& db_;
  LotRules rules_;
};

// Writes the catalog into the database (skus and barcodes), marking config SKUs that are no
// longer listed inactive. Skips all work when the catalog is unchanged since the last call
// (a fingerprint is kept in `meta`). Runs in its own transaction. The config wins: a barcode
// it lists that a SKU of the cloud's (catalog.upsert) had is moved to the config's SKU, and
// reported in `taken` for the caller to say so.
struct TakenBarcode {
  std::string code;
  std::string from_sku;  // the cloud's SKU that had it
  std::string to_sku;    // the config's SKU that lists it
  bool operator==(const TakenBarcode&) const = default;
};
// What a SKU leaving the catalog still has in the ledger. Its rows stay (movements refer to
// it) but its barcodes stop scanning: stock, reservations or an open proposal left behind are
// worth a warning to whoever removed it.
struct SkuLeft {
  std::string sku;
  std::int64_t on_hand = 0, held = 0, reserved = 0, backordered = 0, open_proposals = 0;
  bool empty() const {
    return on_hand == 0 && held == 0 && reserved == 0 && backordered == 0 && open_proposals == 0;
  }
  // "12 on hand, 5 reserved, 1 open proposal" (the non-zero figures).
  std::string describe() const;
  bool operator==(const SkuLeft&) const = default;
};
Expected<SkuLeft> sku_left(Database& db, const std::string& sku);

struct CatalogApplied {
  bool changed = false;  // false: the same catalog as last time, nothing written
  std::vector<TakenBarcode> taken;
  std::vector<SkuLeft> left;  // config SKUs no longer listed that still hold something
};
Expected<CatalogApplied> apply_catalog(Database& db, const std::vector<CatalogItem>& items,
                                       std::string_view now);

// Reads the active catalog's barcode index back from the database (names, units, zones and
// policies are in the skus table; the Catalog does not keep them).
Expected<Catalog> load_catalog(Database& db);

}  // namespace depot::store
