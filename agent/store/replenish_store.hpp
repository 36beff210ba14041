// Replenishment in SQLite (schema v5): proposals with every number behind them (an
// acknowledged proposal is an open order), receipts credited to orders, daily demand
// buckets, cloud-set campaigns and replenishment alarms (demand_surge, stockout_risk).
// Functions that write report what they change on the outbox in the same transaction:
// proposals on `reorders`, alarms on `alarms` (docs/protocol.md).
// REQUIRES: functions marked "in a transaction" run inside an open write transaction.
// Thread-safety: use from the thread that owns the Database.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/replenish/campaign.hpp"
#include "core/replenish/demand.hpp"
#include "core/replenish/proposal.hpp"
#include "store/database.hpp"

namespace depot::store {

// --- Proposals -------------------------------------------------------------------------

// Every number behind a decision as JSON (docs/replenishment.md); infinities as null.
nlohmann::json numbers_json(const replenish::Numbers& n);
replenish::Numbers numbers_from_json(const nlohmann::json& j);
// A proposal as the CLI and the `reorders` stream show it.
nlohmann::json proposal_json(const replenish::Proposal& p);
std::optional<replenish::ProposalState> parse_proposal_state(std::string_view s);

struct ProposalFilter {
  bool open_only = false;          // proposed or acknowledged...
  std::optional<std::int64_t> or_cancelled_since_ms;  // ...or cancelled at or after this
  std::optional<std::string> sku;  // just this SKU
  std::optional<std::string> id;   // just this proposal
  std::int64_t limit = 0;          // > 0: only the newest this many (still oldest first)
};
// Oldest first.
Expected<std::vector<replenish::Proposal>> load_proposals(Database& db, const ProposalFilter& f);

// In a transaction: a new proposal and its `reorders` record (event "proposed").
Status insert_proposal(Database& db, const replenish::Proposal& p, std::string_view now);
// In a transaction: the proposal's new state and its `reorders` record (`event`:
// acknowledged, received, cancelled, or "receipt" for a partial delivery). `record_id` is the
// outbox record's stable id.
Status update_proposal(Database& db, const replenish::Proposal& p, std::string_view event,
                       std::string_view record_id, std::string_view now);
// In a transaction: a proposal still `proposed`, revised (replenish::revise: quantity,
// reason, supplier, urgency, arrival and numbers), and its `reorders` record (event "revised",
// with `previous`: the quantity, reason and numbers it replaces).
Status revise_proposal(Database& db, const replenish::Proposal& revised,
                       const replenish::Proposal& previous, std::string_view record_id,
                       std::string_view now);
// proposed -> cancelled by the agent (replenish::withdraw's result `p`) and its `withdrawn`
// record, only while the stored proposal is still `proposed`: false when a person (another
// process: the CLI) acknowledged or cancelled it meanwhile, and nothing was written.
Expected<bool> withdraw_proposal(Database& db, const replenish::Proposal& p, std::string_view now);
// In a transaction: proposed -> acknowledged with the supplier's order number, quantity
// (default: as proposed) and ETA (default: the proposal's expected arrival). Errors name the
// proposal and the rule (unknown id, not proposed, empty order number, ETA before it was made).
Expected<replenish::Proposal> acknowledge_proposal(Database& db, std::string_view id,
                                                   std::string order_number,
                                                   std::optional<std::int64_t> quantity,
                                                   std::optional<std::int64_t> eta_ms,
                                                   std::int64_t now_ms);
// In a transaction: proposed or acknowledged -> cancelled, with why.
Expected<replenish::Proposal> cancel_proposal(Database& db, std::string_view id, std::string why,
                                              std::int64_t now_ms);
// Who decided a proposal, for the audit trail: the account (or the cloud desk's user), whether
// a password signature stands behind it, and the door ("cli", "console", "cloud:CMD_ID").
struct ProposalSigner {
  std::string who;
  bool signed_by_account = false;
  std::string source;
};
struct ProposalDecision {
  std::string id;
  bool ack = true;                   // false: cancel
  std::string order;                 // ack: the supplier's order number
  std::optional<std::int64_t> qty;   // ack: ordered quantity (unset: as proposed)
  std::optional<std::int64_t> eta;   // ack: expected arrival, Unix ms (unset: the proposal's)
  std::string why;                   // cancel: why
};
// In a transaction: acknowledge_proposal or cancel_proposal and the signer's audit entry
// (`reorder.ack` / `reorder.cancel`, who = the signer; details: proposal, sku, signed, source,
// order_number and quantity for an ack). The one implementation the CLI, the console and the
// cloud desk call.
Expected<replenish::Proposal> decide_proposal(Database& db, const ProposalDecision& d,
                                              const ProposalSigner& s, std::int64_t now_ms);
// In a transaction: remembers that `movement_id` credited `qty` to `proposal_id`.
Status record_order_receipt(Database& db, std::string_view movement_id,
                            std::string_view proposal_id, std::int64_t qty);

// What replenishment reads of one active SKU (not a CatalogItem: 100,000 of those at start-up
// would be some 26 MB to fault in and drop).
struct ReplenishItem {
  std::string sku;
  std::string policy;  // "" = none
  replenish::DemandPrior prior;
};
// The active SKUs as replenishment needs them, in SKU order.
Expected<std::vector<ReplenishItem>> load_replenish_items(Database& db);

// --- Demand buckets --------------------------------------------------------------------

struct DemandDay {
  std::string sku;
  std::int64_t day = 0;  // days since 1970-01-01 (UTC)
  std::int64_t picked = 0, returned = 0;
};
// Ordered by SKU, then day.
Expected<std::vector<DemandDay>> load_demand_days(Database& db);
// In a transaction: adds to a SKU's bucket of one day.
Status add_demand(Database& db, std::string_view sku, std::int64_t day, std::int64_t picked,
                  std::int64_t returned);

// --- Movements folded into replenishment -----------------------------------------------

// The last movement seq folded into the demand buckets and orders (0: none).
Expected<std::int64_t> replenish_watermark(Database& db);
// In a transaction.
Status set_replenish_watermark(Database& db, std::int64_t seq);

struct FoldMovement {
  std::int64_t seq = 0;
  std::string id, sku, kind, wall_time;
  std::int64_t qty = 0, held_qty = 0;
  // An UNDO (the movement it reverses): that movement's kind and wall time, else empty.
  std::string reverses, reverses_kind, reverses_wall_time;
};
// The credits receipt movement `movement_id` made to orders (proposal id, units); `remove`:
// deleted too (an UNDO of it takes them back: replenish::unreceive).
Expected<std::vector<std::pair<std::string, std::int64_t>>> order_receipts_of(
    Database& db, std::string_view movement_id, bool remove);
// An UNDO of a pick or return: its units out of that day's demand (never below 0; nothing
// when the day's row is gone).
Status remove_demand(Database& db, std::string_view sku, std::int64_t day, std::int64_t picked,
                     std::int64_t returned);
// Movements with seq > `after`, oldest first, at most `limit`.
Expected<std::vector<FoldMovement>> movements_after(Database& db, std::int64_t after,
                                                    std::int64_t limit);
// The highest movement seq (0 when none): a cheap "did anything change".
Expected<std::int64_t> last_movement_seq(Database& db);

// --- Campaigns set by the cloud --------------------------------------------------------

Expected<std::vector<replenish::Campaign>> load_campaigns(Database& db);
// In a transaction: creates or replaces the campaign named `c.name`.
Status set_campaign(Database& db, const replenish::Campaign& c, std::string_view now);
// In a transaction: true when a campaign of that name was removed.
Expected<bool> clear_campaign(Database& db, std::string_view name);

// --- Alarms ----------------------------------------------------------------------------

struct ReplenishAlarm {
  std::string id;
  std::string sku;
  std::string kind;  // demand_surge, stockout_risk or short_dated
  std::string raised_at;
  std::optional<std::string> cleared_at;
  nlohmann::json details;  // the numbers that raised it
};
Expected<std::vector<ReplenishAlarm>> load_alarms(Database& db, bool active_only);
// In a transaction: stores the alarm and appends {"alarm": kind, "state": "raised", ...} to
// the `alarms` stream.
Status raise_alarm(Database& db, const ReplenishAlarm& a);
// In a transaction: clears it and appends its "cleared" record with `details`.
Status clear_alarm(Database& db, const ReplenishAlarm& a, std::string_view now,
                   const nlohmann::json& details);

}  // namespace depot::store
