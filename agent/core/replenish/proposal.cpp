#include "core/replenish/proposal.hpp"

#include "core/time.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace depot::replenish {
namespace {

constexpr double kDayMs = 86'400'000.0;

// Clamped to ±1,000 years: a slow SKU's days of cover (1e13 days) overflowed llround.
std::int64_t days_to_ms(double days) {
  return std::llround(std::clamp(days, -365'000.0, 365'000.0) * kDayMs);
}
// Beyond this, a stockout is no date anyone plans by (and a 5-digit year could not be read
// back): `projected_stockout` is left unset, as for a SKU nothing is expected to sell of.
constexpr double kMaxStockoutDays = 36'500;

Error illegal(const Proposal& p, std::string_view action, std::string_view allowed) {
  return Error{"cannot " + std::string(action) + " proposal \"" + p.id + "\": it is " +
               std::string(to_string(p.state)) +
               (p.withdrawn ? " (" + p.cancel_reason + ")" : std::string()) +
               " (only " + std::string(allowed) +
               " proposals can be)",
               ErrorKind::kBadInput};
}

}  // namespace

std::string_view to_string(Reason r) {
  switch (r) {
    case Reason::kNoPolicy:
      return "no policy profile";
    case Reason::kNoDemand:
      return "no demand expected over lead time and review period";
    case Reason::kAboveReorderPoint:
      return "position above reorder point";
    case Reason::kOpenProposal:
      return "an open proposal covers it";
    case Reason::kMaxStockBelowMoq:
      return "room under max stock is below the MOQ";
    case Reason::kCoverCapReached:
      return "the pipeline already covers max_cover_days of baseline demand";
    case Reason::kNoSourceCanTake:
      return "no source can take the order (see source_why)";
    case Reason::kCancelledRecently:
      return "a proposal was cancelled within the cool-down and the position has not fallen "
             "further";
    case Reason::kOutOfRange:
      return "the planned units are out of range (check daily_demand and the policy's days)";
    case Reason::kReorderPointReached:
      return "position at or below reorder point";
    case Reason::kTopUpBelowSafetyStock:
      return "urgent top-up: pipeline at or below safety stock";
    case Reason::kTopUpStockoutBeforeEta:
      return "urgent top-up: projected stockout before the open proposal's ETA";
  }
  return "?";
}

std::string_view to_string(Trigger t) {
  switch (t) {
    case Trigger::kBaseline:
      return "baseline";
    case Trigger::kCampaign:
      return "campaign";
    case Trigger::kSurge:
      return "surge";
  }
  return "?";
}

std::string_view to_string(ProposalState s) {
  switch (s) {
    case ProposalState::kProposed:
      return "proposed";
    case ProposalState::kAcknowledged:
      return "acknowledged";
    case ProposalState::kReceived:
      return "received";
    case ProposalState::kCancelled:
      return "cancelled";
  }
  return "?";
}

Decision evaluate(const SkuInputs& in, const Policy* policy, std::int64_t now_ms) {
  Decision d;
  Numbers& n = d.numbers;
  n.on_hand = in.stock.on_hand;
  n.held = in.stock.held;
  n.available = in.stock.available();
  n.reserved = in.stock.reserved;
  n.backordered = in.stock.backordered;
  bool has_open = false;
  std::int64_t earliest_eta_ms = std::numeric_limits<std::int64_t>::max();
  std::int64_t newest_open_ms = std::numeric_limits<std::int64_t>::min();
  for (const auto& p : in.proposals) {
    if (!p.open()) continue;
    has_open = true;
    newest_open_ms = std::max(newest_open_ms, p.created_ms);
    if (p.state == ProposalState::kAcknowledged)
      n.on_order += p.order.outstanding();
    else
      n.awaiting += p.quantity;
    earliest_eta_ms = std::min(earliest_eta_ms, p.expected_arrival_ms);
  }
  n.position = position_of(in.stock, n.on_order).position();
  n.daily_demand = in.demand.daily;
  n.surge_signal = in.surge_signal;
  n.daily_demand_sd = in.demand.sd;
  n.demand_source = in.demand.source;
  if (!policy) {
    d.reason = Reason::kNoPolicy;
    return d;
  }

  const double lead = policy->lead_time_days;
  n.lead_time_days = lead;
  n.lead_time_sd_days = policy->lead_time_sd_days;
  n.review_period_days = policy->review_period_days;
  const DemandCurve curve(in.demand.daily, in.surge, in.campaigns, now_ms);
  if (in.demand.daily > 0 && in.surge.excess_per_day > 0)
    n.surge_factor = (in.demand.daily + in.surge.excess_per_day) / in.demand.daily;
  n.campaign_factor = curve.campaign_factor(0, lead);
  n.lead_time_demand = curve.units(0, lead);
  n.safety_stock = safety_stock(*policy, in.demand.daily, in.demand.sd);
  n.reorder_point = n.lead_time_demand + n.safety_stock;
  n.review_demand = curve.units(lead, lead + policy->review_period_days);
  n.order_up_to = n.reorder_point + n.review_demand;
  // A demand of 1e308 (or a lead time of 1e308 days) made them infinite or NaN, which no
  // proposal can hold (a NaN is written as NULL): this SKU says so, the others go on.
  if (!(n.order_up_to >= 0 && n.order_up_to <= kMaxPlannedUnits && n.safety_stock >= 0 &&
        n.safety_stock <= kMaxPlannedUnits)) {
    n.lead_time_demand = n.safety_stock = n.reorder_point = n.review_demand = n.order_up_to = 0;
    n.campaign_factor = 1;
    d.reason = Reason::kOutOfRange;
    return d;
  }
  n.days_of_cover = n.available > 0 ? curve.days_to_sell(static_cast<double>(n.available)) : 0;
  if (std::isfinite(n.days_of_cover) && n.days_of_cover <= kMaxStockoutDays)
    n.projected_stockout_ms = now_ms + days_to_ms(n.days_of_cover);
  const double fastest = fastest_lead_time(*policy);
  n.earliest_arrival_ms = now_ms + days_to_ms(fastest);
  const bool demand_expected = n.lead_time_demand + n.review_demand > 0;
  n.stockout_risk = demand_expected && n.days_of_cover < fastest;

  if (!demand_expected) {
    d.reason = Reason::kNoDemand;
    return d;
  }

  // Which signal brought the position down to the reorder point (the safety stock rests on
  // the baseline, so only the lead-time demand differs).
  {
    const auto position = static_cast<double>(n.position);
    const double base_rop = in.demand.daily * lead + n.safety_stock;
    const double campaign_rop =
        DemandCurve(in.demand.daily, {}, in.campaigns, now_ms).units(0, lead) + n.safety_stock;
    n.trigger = position <= base_rop       ? Trigger::kBaseline
                : position <= campaign_rop ? Trigger::kCampaign
                                           : Trigger::kSurge;
  }
  n.max_cover_days = policy->max_cover_days;
  n.reorder_point_above_max_stock =
      policy->max_stock && n.reorder_point > static_cast<double>(*policy->max_stock);
  if (policy->max_cover_days > 0 && in.demand.daily > 0)
    n.cover_cap =
        static_cast<std::int64_t>(std::floor(in.demand.daily * policy->max_cover_days + 1e-9));

  // A buyer cancelled one recently: not again so soon, unless things got worse since. Beside an
  // open proposal only a cancelled top-up counts, one cancelled since that proposal was made (a
  // cancelled top-up came straight back, same quantity and position; an older cancellation,
  // made before the open order, says nothing of a top-up needed now: review).
  auto cancelled_recently = [&] {
    for (const auto& p : in.proposals) {
      if (p.state != ProposalState::kCancelled || p.withdrawn) continue;
      if (has_open && ((p.reason != Reason::kTopUpBelowSafetyStock &&
                        p.reason != Reason::kTopUpStockoutBeforeEta) ||
                       p.closed_ms < newest_open_ms))
        continue;
      const auto cooldown_ms = days_to_ms(policy->cancel_cooldown_hours / 24.0);
      if (now_ms >= p.closed_ms + cooldown_ms) continue;
      // It holds off the situation it was made in: a position within the margin of the
      // cancelled proposal's, either way. Fallen further: proposes. Risen further (a huge
      // order released, stock found): that cancellation says nothing of now (an oversized
      // proposal cancelled kept a stocked-out SKU silent for the cool-down: attack session).
      const double margin = policy->cancel_margin * n.reorder_point;
      const double then = static_cast<double>(p.numbers.position);
      const double now = static_cast<double>(n.position);
      if (now > then - margin && now <= then + margin) return true;
    }
    return false;
  };
  const std::int64_t pipeline = n.position + n.awaiting;
  double target = n.order_up_to;
  if (has_open) {
    const bool below_safety = static_cast<double>(pipeline) <= n.safety_stock;
    const bool stockout_before_eta = n.projected_stockout_ms &&
                                     *n.projected_stockout_ms < earliest_eta_ms &&
                                     n.earliest_arrival_ms < earliest_eta_ms;
    if (!below_safety && !stockout_before_eta) {
      d.reason = Reason::kOpenProposal;
      return d;
    }
    if (stockout_before_eta) {
      const double eta_days = static_cast<double>(earliest_eta_ms - now_ms) / kDayMs;
      target =
          std::max(target, static_cast<double>(pipeline) + curve.units(n.days_of_cover, eta_days));
    }
    if (cancelled_recently()) {
      d.reason = Reason::kCancelledRecently;
      return d;
    }
    d.reason = below_safety ? Reason::kTopUpBelowSafetyStock : Reason::kTopUpStockoutBeforeEta;
  } else if (static_cast<double>(n.position) > n.reorder_point) {
    d.reason = Reason::kAboveReorderPoint;
    return d;
  } else if (cancelled_recently()) {
    d.reason = Reason::kCancelledRecently;
    return d;
  } else {
    d.reason = Reason::kReorderPointReached;
  }

  // Which source, at what quantity (each source's MOQ and case size), and why.
  const SupplierChoice choice =
      choose_source(*policy, target, pipeline, n.cover_cap, n.days_of_cover, in.source_stock);
  d.sizing = choice.sizing;
  n.source_why = choice.why;
  if (d.sizing.quantity <= 0) {
    d.reason = d.sizing.capped_by_cover ? Reason::kCoverCapReached : Reason::kMaxStockBelowMoq;
    return d;
  }
  if (!choice.supplier && !policy->suppliers.empty()) {
    d.reason = Reason::kNoSourceCanTake;
    return d;
  }
  n.landed_unit_cost = choice.landed_unit_cost;
  if (choice.supplier) n.source_kind = std::string(to_string(choice.supplier->kind));
  d.supplier = choice.supplier;
  d.quantity = d.sizing.quantity;
  d.urgent = choice.urgent || has_open;
  d.expected_arrival_ms = now_ms + days_to_ms(choice.lead_time_days);
  return d;
}

namespace {
// The decision `in` would give without `open`, a proposal still `proposed` and the SKU's only
// open one; nullopt otherwise (revision_due and withdrawal_due).
std::optional<Decision> evaluate_without(const SkuInputs& in, const Policy& policy,
                                         const Proposal& open, std::int64_t now_ms) {
  if (open.state != ProposalState::kProposed) return std::nullopt;
  std::vector<Proposal> others;  // the cancelled ones stay (cool-down); `open` goes
  for (const auto& p : in.proposals) {
    if (p.id == open.id) continue;
    if (p.open()) return std::nullopt;  // another open proposal: not these rules' case
    others.push_back(p);
  }
  SkuInputs without = in;
  without.proposals = others;
  return evaluate(without, &policy, now_ms);
}
}  // namespace

std::optional<Decision> revision_due(const SkuInputs& in, const Policy& policy,
                                     const Proposal& open, std::int64_t now_ms) {
  auto fresh = evaluate_without(in, policy, open, now_ms);
  // (A recent cancellation holds a revision off as it would hold off a new proposal: the
  // cancelled ones stay in the inputs, so the cool-down and its margin apply.)
  if (!fresh || !fresh->proposes()) return std::nullopt;
  const double change = std::abs(static_cast<double>(fresh->quantity - open.quantity));
  if (change <= policy.revise_threshold * static_cast<double>(open.quantity)) return std::nullopt;
  return fresh;
}

double withdrawal_margin(const Policy& policy, const Proposal& open, const Numbers& fresh) {
  const double sized = std::min(static_cast<double>(open.quantity), fresh.review_demand);
  return std::max({policy.revise_threshold * sized, fresh.daily_demand, 1.0});
}

std::optional<Decision> withdrawal_due(const SkuInputs& in, const Policy& policy,
                                       const Proposal& open, std::int64_t now_ms) {
  auto fresh = evaluate_without(in, policy, open, now_ms);
  if (!fresh || fresh->reason != Reason::kAboveReorderPoint) return std::nullopt;
  const auto& n = fresh->numbers;
  const double above = static_cast<double>(n.position) - n.reorder_point;
  if (above <= withdrawal_margin(policy, open, n)) return std::nullopt;
  return fresh;
}

Proposal withdraw(Proposal open, const Decision& fresh, std::int64_t now_ms) {
  const auto& n = fresh.numbers;
  open.state = ProposalState::kCancelled;
  open.withdrawn = true;
  open.closed_ms = now_ms;
  open.cancel_reason =
      "withdrawn by the agent before anyone acknowledged it: the position is " +
      std::to_string(n.position) + ", above the reorder point " +
      std::to_string(static_cast<std::int64_t>(std::ceil(n.reorder_point))) +
      " (it was proposed, or last revised, at position " +
      std::to_string(open.numbers.position) + ")";
  return open;
}

Proposal revise(Proposal open, const Decision& fresh) {
  open.reason = fresh.reason;
  open.numbers = fresh.numbers;
  if (fresh.supplier) open.supplier = fresh.supplier->id;
  open.quantity = fresh.quantity;
  open.urgent = fresh.urgent;
  open.expected_arrival_ms = fresh.expected_arrival_ms;
  return open;
}

Proposal make_proposal(const Decision& decision, std::string id, std::string sku,
                       std::int64_t now_ms) {
  Proposal p;
  p.id = std::move(id);
  p.sku = std::move(sku);
  p.reason = decision.reason;
  p.created_ms = now_ms;
  if (decision.supplier) p.supplier = decision.supplier->id;
  p.quantity = decision.quantity;
  p.urgent = decision.urgent;
  p.expected_arrival_ms = decision.expected_arrival_ms;
  p.numbers = decision.numbers;
  return p;
}

Expected<Proposal> acknowledge(Proposal p, std::string order_number, std::int64_t eta_ms,
                               std::int64_t quantity, std::int64_t now_ms) {
  // A withdrawn one too: its buyer may have ordered it from the supplier already.
  const bool withdrawn = p.state == ProposalState::kCancelled && p.withdrawn;
  if (p.state != ProposalState::kProposed && !withdrawn)
    return illegal(p, "acknowledge", "proposed or withdrawn");
  if (order_number.empty()) return Error{"an acknowledgement needs the supplier's order number", ErrorKind::kBadInput};
  if (quantity <= 0)
    return Error{"acknowledged quantity " + std::to_string(quantity) + " must be positive",
                 ErrorKind::kBadInput};
  if (eta_ms < p.created_ms) return Error{"ETA must not be before the proposal was made", ErrorKind::kBadInput};
  // (A supplier whose lead time is longer still may be acknowledged at its own expected date.)
  if (eta_ms > std::max(now_ms + days_to_ms(static_cast<double>(kMaxEtaDays)), p.expected_arrival_ms))
    return Error{"ETA " + timefmt::rfc3339_from_unix_ms(eta_ms) + " is more than " +
                     std::to_string(kMaxEtaDays) + " days away: check the date",
                 ErrorKind::kBadInput};
  p.state = ProposalState::kAcknowledged;
  p.withdrawn = false;
  p.closed_ms = 0;
  p.cancel_reason.clear();
  p.order = OpenOrder{std::move(order_number), now_ms, quantity, 0};
  p.expected_arrival_ms = eta_ms;
  return p;
}

Expected<Proposal> receive(Proposal p, std::int64_t quantity, std::int64_t now_ms) {
  if (p.state != ProposalState::kAcknowledged) return illegal(p, "receive against", "acknowledged");
  if (quantity <= 0 || quantity > p.order.outstanding())
    return Error{"received quantity " + std::to_string(quantity) + " must be between 1 and the " +
                 std::to_string(p.order.outstanding()) + " outstanding"};
  p.order.received += quantity;
  if (p.order.outstanding() == 0) {
    p.state = ProposalState::kReceived;
    p.closed_ms = now_ms;
  }
  return p;
}

Expected<Proposal> unreceive(Proposal p, std::int64_t quantity) {
  if (p.state != ProposalState::kAcknowledged && p.state != ProposalState::kReceived)
    return illegal(p, "undo a receipt of", "acknowledged or received");
  if (quantity <= 0 || quantity > p.order.received)
    return Error{"undone quantity " + std::to_string(quantity) + " must be between 1 and the " +
                 std::to_string(p.order.received) + " received"};
  p.order.received -= quantity;
  if (p.state == ProposalState::kReceived) {
    p.state = ProposalState::kAcknowledged;
    p.closed_ms = 0;
  }
  return p;
}

Expected<Proposal> cancel(Proposal p, std::string reason, std::int64_t now_ms) {
  if (!p.open()) return illegal(p, "cancel", "proposed or acknowledged");
  p.state = ProposalState::kCancelled;
  p.cancel_reason = std::move(reason);
  p.closed_ms = now_ms;
  return p;
}

}  // namespace depot::replenish
