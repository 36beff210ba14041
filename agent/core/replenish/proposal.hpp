// Replenishment proposals: deciding whether a SKU needs one (`evaluate`) and what becomes of
// it afterwards (proposed -> acknowledged -> received, or cancelled).
//
// `evaluate` is the whole decision for one SKU at one instant, from inputs the caller
// gathers (stock line, demand estimate, surge, campaigns, the SKU's open proposals). It
// returns either no proposal, with the reason, or a proposal with supplier, quantity and
// urgency - and in both cases every number behind it, so an operator can check the
// arithmetic. It allocates nothing, so a full recompute over the catalog stays cheap.
//
// One proposal at a time: while a SKU has an open proposal (proposed or acknowledged) no
// second one is made, except an urgent top-up when
//   (a) the pipeline - position plus proposals still awaiting acknowledgement - has fallen
//       to the safety stock or below (demand outran what is coming), or
//   (b) the projected stockout comes before the earliest ETA of the open proposals and the
//       fastest supplier could deliver before that ETA (a top-up that cannot arrive sooner
//       would not help).
// The top-up brings the pipeline up to the order-up-to level and, for (b), covers at least
// the demand between the stockout and that ETA.
// Pure; the store persists proposals, the loop thread calls `evaluate`.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/movement.hpp"
#include "core/replenish/campaign.hpp"
#include "core/replenish/demand.hpp"
#include "core/replenish/policy.hpp"
#include "core/replenish/position.hpp"
#include "core/replenish/surge.hpp"

namespace depot::replenish {

enum class Trigger { kBaseline, kCampaign, kSurge };
std::string_view to_string(Trigger t);

// Every number behind a decision. Quantities in units, times in days unless named _ms.
struct Numbers {
  std::int64_t on_hand = 0, held = 0, available = 0;
  std::int64_t reserved = 0;     // promised to open customer orders (not in available)
  std::int64_t backordered = 0;  // ordered by customers beyond what was available
  std::int64_t on_order = 0;  // acknowledged, not yet received
  std::int64_t awaiting = 0;  // proposed, not yet acknowledged
  std::int64_t position = 0;  // available - backordered + on_order
  double daily_demand = 0, daily_demand_sd = 0;
  DemandSource demand_source = DemandSource::kNone;
  double lead_time_days = 0, lead_time_sd_days = 0, review_period_days = 0;
  double surge_factor = 1;      // (d + surge excess) / d now; 1 without a surge or baseline
  std::string surge_signal;     // the surge's signal: "picks", "orders" (order intake), or ""
  // The source chosen (choose_source): "purchase" or "transfer", its landed cost per unit,
  // and which source and why in words ("" when nothing is proposed).
  std::string source_kind;
  double landed_unit_cost = 0;
  std::string source_why;
  double campaign_factor = 1;   // campaign factor averaged over the lead time
  double lead_time_demand = 0;  // expected units over [now, now + L]
  double safety_stock = 0;
  double reorder_point = 0;  // lead_time_demand + safety_stock
  double review_demand = 0;  // expected units over [now + L, now + L + R]
  double order_up_to = 0;    // reorder_point + review_demand
  double days_of_cover = 0;  // until available stock is sold (+infinity: never)
  std::optional<std::int64_t> projected_stockout_ms;  // now + days_of_cover, when finite
  std::int64_t earliest_arrival_ms = 0;               // now + the fastest supplier's lead time
  bool stockout_risk = false;  // demand expected and the projected stockout comes before
                               // the earliest possible arrival
  // The signal that brought the position to the reorder point: the baseline demand alone
  // would have; else the baseline with campaigns; else the surge.
  Trigger trigger = Trigger::kBaseline;
  double max_cover_days = 0;                // the policy's cap (0: none)
  // The reorder point is above the policy's max_stock: an order can never bring the position
  // back over it, so every evaluation is due (a profile to fix, flagged where it is shown).
  bool reorder_point_above_max_stock = false;
  std::optional<std::int64_t> cover_cap;    // d x max_cover_days units, when capped
};

enum class Reason {
  // No proposal:
  kNoPolicy,           // the SKU names no policy profile
  kNoDemand,           // nothing is expected to sell over lead time + review period
  kAboveReorderPoint,  // position > reorder point
  kOpenProposal,       // an open proposal covers it and no top-up is needed
  kMaxStockBelowMoq,   // an order is due, but max stock leaves no room for the MOQ
  kCoverCapReached,    // an order is due, but the pipeline already holds max_cover_days
  kNoSourceCanTake,    // an order is due, but no source can take it (each source's MOQ does
                       // not fit under the ceiling, or a transfer source cannot spare it)
  kCancelledRecently,  // an order is due, but one was cancelled within the cool-down and the
                       // position has not fallen a further margin since
  kOutOfRange,         // the planned units are not finite or above kMaxPlannedUnits (a demand
                       // or a policy's days absurdly large): nothing proposed, the others go on
  // A proposal:
  kReorderPointReached,     // position <= reorder point
  kTopUpBelowSafetyStock,   // urgent top-up, rule (a)
  kTopUpStockoutBeforeEta,  // urgent top-up, rule (b)
};
std::string_view to_string(Reason r);

// The most units a plan may hold (reorder point, order-up-to level): far above any warehouse,
// far below where a double stops being an exact integer or an int64 overflows.
inline constexpr double kMaxPlannedUnits = 1e12;

struct Decision {
  Reason reason = Reason::kNoPolicy;
  Numbers numbers;
  // Set when proposing:
  const Supplier* supplier = nullptr;  // into the policy's suppliers
  std::int64_t quantity = 0;
  bool urgent = false;
  std::int64_t expected_arrival_ms = 0;  // now + the supplier's lead time
  OrderQuantity sizing;                  // how the quantity was bounded (also when blocked)

  bool proposes() const { return reason >= Reason::kReorderPointReached; }
};

enum class ProposalState { kProposed, kAcknowledged, kReceived, kCancelled };
std::string_view to_string(ProposalState s);

struct Proposal {
  std::string id;  // stable, from the caller
  std::string sku;
  ProposalState state = ProposalState::kProposed;
  Reason reason = Reason::kReorderPointReached;
  std::int64_t created_ms = 0;
  std::string supplier;
  std::int64_t quantity = 0;  // as proposed
  bool urgent = false;
  std::int64_t expected_arrival_ms = 0;  // created + supplier lead time; the ETA once acknowledged
  Numbers numbers;                       // as evaluated when proposed
  OpenOrder order;                       // filled by `acknowledge`
  std::int64_t closed_ms = 0;            // when received in full or cancelled
  std::string cancel_reason;
  // Cancelled by the agent, not by a person: its need went away before anyone acknowledged it
  // (withdrawal_due). Holds nothing off (the cancellation cool-down is a person's decision).
  bool withdrawn = false;

  bool open() const {
    return state == ProposalState::kProposed || state == ProposalState::kAcknowledged;
  }
};

// What `evaluate` needs to know about one SKU.
struct SkuInputs {
  StockLine stock;
  DemandEstimate demand;
  SurgeProjection surge;                       // {} when not in surge
  std::string_view surge_signal;               // whose surge it is: "picks" or "orders"
  std::span<const SourceStock> source_stock;   // what transfer sources said they can spare
  std::span<const Campaign* const> campaigns;  // those targeting this SKU (CampaignIndex)
  // This SKU's proposals. Closed ones count only when cancelled within the policy's
  // cool-down (kCancelledRecently); others are ignored.
  std::span<const Proposal> proposals;
};

// The decision for one SKU at `now_ms` (unix ms). `policy` null: the SKU has none (kNoPolicy).
Decision evaluate(const SkuInputs& in, const Policy* policy, std::int64_t now_ms);

// Revising a proposal still `proposed` (one at a time: no other open proposal for the SKU).
// The decision `in` would give without it (its pipeline left out); a revision is due when
// that decision proposes a quantity differing from `open.quantity` by more than
// policy.revise_threshold x open.quantity. nullopt: keep it as it is.
std::optional<Decision> revision_due(const SkuInputs& in, const Policy& policy,
                                     const Proposal& open, std::int64_t now_ms);
// `open` with the fresh decision's reason, numbers, supplier, quantity, urgency and arrival.
Proposal revise(Proposal open, const Decision& fresh);

// Withdrawing a proposal still `proposed` whose need went away (a large order released, stock
// found by a count, a return): the decision `in` would give without it is kAboveReorderPoint,
// with the position above the reorder point by more than withdrawal_margin (a return of a few
// units neither withdraws it nor proposes it again at the next pick). The fresh decision, or
// nullopt: keep it.
// The margin: revise_threshold x the smaller of the proposal's quantity and the fresh review
// demand (a stale, oversized quantity does not widen it), and at least one day's demand and
// one unit (revise_threshold 0 does not make it flap on single units).
double withdrawal_margin(const Policy& policy, const Proposal& open, const Numbers& fresh);
std::optional<Decision> withdrawal_due(const SkuInputs& in, const Policy& policy,
                                       const Proposal& open, std::int64_t now_ms);
// `open` cancelled by the agent (withdrawn), its reason naming the fresh position and reorder
// point; its numbers stay those it was proposed (or last revised) with.
Proposal withdraw(Proposal open, const Decision& fresh, std::int64_t now_ms);

// A new proposal from a decision that proposes. REQUIRES: decision.proposes().
Proposal make_proposal(const Decision& decision, std::string id, std::string sku,
                       std::int64_t now_ms);

// An ETA further than this after the acknowledgement is a typo (a year 9999 was taken, and the
// top-up rule then ordered the whole pipeline cap urgently): refused. Sea freight is weeks.
inline constexpr std::int64_t kMaxEtaDays = 365;

// proposed -> acknowledged: the supplier's order number, ETA (from the proposal's making to
// kMaxEtaDays after now, or to the proposal's own expected arrival if later) and confirmed
// quantity (> 0).
Expected<Proposal> acknowledge(Proposal p, std::string order_number, std::int64_t eta_ms,
                               std::int64_t quantity, std::int64_t now_ms);
// Units delivered against an acknowledged proposal (1..outstanding); received in full, it
// becomes `received`.
Expected<Proposal> receive(Proposal p, std::int64_t quantity, std::int64_t now_ms);
// An UNDO of a receipt: `quantity` (1..received) units it credited are owed again; a received
// proposal is acknowledged (open) again.
Expected<Proposal> unreceive(Proposal p, std::int64_t quantity);
// proposed or acknowledged -> cancelled.
Expected<Proposal> cancel(Proposal p, std::string reason, std::int64_t now_ms);

}  // namespace depot::replenish
