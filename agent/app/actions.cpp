#include "app/actions.hpp"

#include <thread>

#include "base/clock.hpp"
#include "app/signing.hpp"
#include "core/coldchain/zone_monitor.hpp"
#include "core/json_parse.hpp"
#include "core/time.hpp"
#include "store/audit.hpp"
#include "store/database.hpp"
#include "store/replenish_store.hpp"

namespace depot::app::actions {

using nlohmann::json;

namespace {
std::int64_t now_ms() { return timefmt::parse_rfc3339_ms(wall_now()).value_or(0); }
}  // namespace

Expected<AckOutcome> ack_alarm(store::Database& db, const AlarmAck& a, const Signer& s,
                               bool agent_running, std::chrono::milliseconds wait) {
  AckOutcome out;
  if (!agent_running) {
    // No agent: no alarm is open (one open when it stopped was closed at its restart), but
    // alarms that ended unacknowledged are acknowledged here, by the store function the agent
    // uses.
    auto ended = db.transaction([&](const store::Txn& txn) {
      return store::ack_ended_alarms(txn, a.zone, s.who, a.comment, a.root_cause, now_ms(),
                                     s.source);
    });
    if (!ended) return ended.error();
    // An alarm open when the agent stopped (`alarms` lists it open, unacknowledged) is closed
    // by its next start: the acknowledgement is queued for it, which that start applies.
    auto states = store::load_zone_states(db);
    if (!states) return states.error();
    bool open_unacked = false;
    for (const auto& [state, updated_ms] : *states) {
      if (auto z = state.find("zone"); z == state.end() || *z != a.zone) continue;
      auto open = state.find("open_excursions");
      if (open == state.end() || !open->is_array()) continue;
      // Saved by the agent, read as outside input: nothing here may throw.
      for (const auto& x : *open) {
        if (!x.is_object()) continue;
        auto alarmed = x.find("alarmed");
        auto acked = x.find("acknowledged");
        open_unacked |= alarmed != x.end() && alarmed->is_boolean() && alarmed->get<bool>() &&
                        (acked == x.end() || acked->is_null());
      }
    }
    if (open_unacked) {
      auto id = db.transaction([&] {
        return store::request_ack(db, a.zone, s.who, a.comment, s.source, wall_now(),
                                  a.root_cause);
      });
      if (!id) return id.error();
      out.request = *id;
      out.next_start = true;
    }
    if (ended->empty() && !open_unacked)
      return Error{"zone " + a.zone + std::string(coldchain::ZoneMonitor::kNothingToAck) +
                       " (no agent is running, so none is open)",
                   ErrorKind::kNotFound};
    out.applied = !ended->empty();
    out.ended = ended->size();
    if (!ended->empty())
      out.message = "acknowledged " + std::to_string(ended->size()) + " alarm(s) of zone " +
                    a.zone + " (" + std::to_string(ended->size()) + " already ended)";
    if (open_unacked)
      out.message += std::string(out.message.empty() ? "" : "; ") + "request " +
                     std::to_string(out.request) + " is queued for the alarm of zone " +
                     a.zone + " open when the agent stopped: its next start applies it";
    return out;
  }
  auto id = db.transaction([&] {
    return store::request_ack(db, a.zone, s.who, a.comment, s.source, wall_now(), a.root_cause);
  });
  if (!id) return id.error();
  out.request = *id;
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    auto r = store::find_ack(db, *id);
    if (r && *r && (*r)->status != "pending") {
      if ((*r)->status != "applied") {
        const auto why = (*r)->result.value_or("");
        const bool none = why.ends_with(coldchain::ZoneMonitor::kNothingToAck) ||
                          why.ends_with(coldchain::ZoneMonitor::kNotAZone);
        return Error{"refused by the agent: " + why,
                     none ? ErrorKind::kNotFound : ErrorKind::kBadInput};
      }
      out.applied = true;
      out.message = (*r)->result.value_or("acknowledged");
      return out;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  out.message = "request " + std::to_string(*id) +
                " is queued; the agent applies it at its next tick";
  return out;
}

json HoldOutcome::to_json() const {
  json j = store::hold_json(hold);
  if (stock)
    j["stock"] = {{"on_hand", stock->on_hand},
                  {"held", stock->held},
                  {"reserved", stock->reserved},
                  {"available", stock->available()}};
  return j;
}

Expected<HoldOutcome> end_hold(store::Database& db, const HoldDecision& d, const Signer& s) {
  const char* verb = d.how == store::HoldEnd::kRelease ? "release" : "writeoff";
  store::Ledger ledger(db);
  store::HoldContext ctx;
  ctx.now = wall_now();
  ctx.mono_ns = mono_now_ns();
  ctx.who = s.who;
  ctx.source = s.source;
  auto r = db.transaction([&](const store::Txn& txn) {
    return store::end_hold(txn, ledger, d.hold, d.how, d.qty, s.who, d.why,
                           std::string(verb) + "-" + new_id(), ctx);
  });
  if (!r) return r.error();
  HoldOutcome out;
  out.hold = *r;
  if (auto stock = ledger.stock(r->sku); stock && !stock->empty()) out.stock = (*stock)[0].line;
  return out;
}

Expected<replenish::Proposal> decide_proposal(store::Database& db, const ProposalDecision& d,
                                              const Signer& s, std::int64_t now_ms) {
  return db.transaction([&]() -> Expected<replenish::Proposal> {
    return store::decide_proposal(db, d, {s.who, s.by_account, s.source}, now_ms);
  });
}

accounts::Action action_of(const Request& r) {
  if (std::holds_alternative<AlarmAck>(r)) return accounts::Action::kAlarmAck;
  if (const auto* h = std::get_if<HoldDecision>(&r))
    return h->how == store::HoldEnd::kRelease ? accounts::Action::kHoldRelease
                                              : accounts::Action::kHoldWriteOff;
  return std::get<ProposalDecision>(r).ack ? accounts::Action::kProposalAck
                                           : accounts::Action::kProposalCancel;
}

std::string reason_of(const Request& r) {
  if (const auto* a = std::get_if<AlarmAck>(&r)) return a->comment;
  if (const auto* h = std::get_if<HoldDecision>(&r)) return h->why;
  const auto& p = std::get<ProposalDecision>(r);
  return p.ack ? "order " + p.order : p.why;
}

std::string problem(const Request& r) {
  auto first = [](std::initializer_list<std::string> bad) {
    for (const auto& b : bad)
      if (!b.empty()) return b;
    return std::string();
  };
  if (const auto* a = std::get_if<AlarmAck>(&r)) {
    if (a->comment.empty()) return "comment: required (what was found or done)";
    return first({text_problem("zone", a->zone, 64), text_problem("comment", a->comment, kMaxCommentBytes),
                  text_problem("root_cause", a->root_cause, kMaxCommentBytes)});
  }
  if (const auto* h = std::get_if<HoldDecision>(&r)) {
    if (h->hold <= 0) return "id: must be a hold id (a positive integer)";
    if (h->qty && *h->qty <= 0) return "qty: must be a positive integer";
    if (h->why.empty()) return "why: required (the reason, for the audit trail)";
    return text_problem("why", h->why, kMaxCommentBytes);
  }
  const auto& p = std::get<ProposalDecision>(r);
  if (p.id.empty()) return "id: required (the proposal id)";
  if (p.ack) {
    if (p.order.empty()) return "order_number: required (the supplier's order number)";
    if (p.qty && *p.qty <= 0) return "qty: must be a whole number above 0";
    return first({text_problem("id", p.id, 128), text_problem("order_number", p.order, 128)});
  }
  if (p.why.empty()) return "why: required (why it is cancelled)";
  return first({text_problem("id", p.id, 128), text_problem("why", p.why, kMaxCommentBytes)});
}

Expected<json> run_signed(store::Database& db, const Request& r, std::string_view account,
                          std::string_view password, bool agent_running, std::int64_t now_ms,
                          std::chrono::milliseconds wait) {
  if (auto bad = problem(r); !bad.empty()) return Error{bad, ErrorKind::kBadInput};
  auto sig = sign(db, account, password, action_of(r), reason_of(r), now_ms);
  if (!sig) return sig.error();
  const Signer s{sig->account, true, "console"};
  json out{{"signature", sig->to_json()}};
  if (const auto* a = std::get_if<AlarmAck>(&r)) {
    auto done = ack_alarm(db, *a, s, agent_running, wait);
    if (!done) return done.error();
    out["result"] = {{"applied", done->applied},
                     {"message", done->message},
                     {"request", done->request ? json(done->request) : json()},
                     {"ended", done->ended}};
    return out;
  }
  if (const auto* h = std::get_if<HoldDecision>(&r)) {
    auto done = end_hold(db, *h, s);
    if (!done) return done.error();
    out["result"] = done->to_json();
    return out;
  }
  auto done = decide_proposal(db, std::get<ProposalDecision>(r), s, now_ms);
  if (!done) return done.error();
  out["result"] = {{"id", done->id},
                   {"sku", done->sku},
                   {"state", replenish::to_string(done->state)},
                   {"order_number", done->order.order_number},
                   // As ordered once acknowledged; as proposed before (a proposal cancelled
                   // unordered said 0).
                   {"quantity", done->order.quantity > 0 ? done->order.quantity : done->quantity}};
  return out;
}

}  // namespace depot::app::actions
