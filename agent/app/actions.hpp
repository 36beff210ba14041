// The state-changing actions a person signs (docs/operations.md, "Accounts and signatures"):
// acknowledging an alarm, releasing or writing off a hold, acknowledging or cancelling a
// proposal. One implementation for the CLI and the console: each door parses its own input
// (options, a JSON body), finds the signer (app/users_cli.hpp `cli_signer`, or the console's
// `run_signed` below) and calls these. The cloud desk's commands (sync/commands.cpp) reach the
// same store functions with the cloud's HMAC as their signature.
// Threading: any thread, each call on the Database it is given (the console runs them on its
// signing worker, with its own connection, as the CLI runs them in its own process).
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "core/accounts.hpp"
#include "core/error.hpp"
#include "core/replenish/proposal.hpp"
#include "store/coldchain_store.hpp"
#include "store/ledger.hpp"
#include "store/replenish_store.hpp"

namespace depot::store {
class Database;
}

namespace depot::app::actions {

// Who signs, as the audit trail records it.
struct Signer {
  std::string who;              // the account id (or the typed name before any account exists)
  bool by_account = false;      // signed with an account's password
  std::string source = "cli";   // "cli", "console"
};

// --- Alarm acknowledgement ---
struct AlarmAck {
  std::string zone, comment, root_cause;
};
struct AckOutcome {
  bool applied = false;     // false: queued, the agent did not apply it within the wait
  std::string message;      // the agent's result ("acknowledged ...") or what happened
  std::int64_t request = 0; // the request id when the agent was asked (0: no agent running)
  std::size_t ended = 0;    // alarms that had ended unacknowledged, acknowledged here
  bool next_start = false;  // no agent: `request` is queued for the alarm open when it stopped
};
// With the agent running: asks it (an acknowledgement request it applies at its next tick)
// and waits up to `wait` for its verdict; a refusal is an Error (kBadInput). Without: the
// alarms of `zone` that ended unacknowledged are acknowledged here, and one open when the
// agent stopped gets a request its next start applies (neither: kNotFound).
Expected<AckOutcome> ack_alarm(store::Database& db, const AlarmAck& a, const Signer& s,
                               bool agent_running, std::chrono::milliseconds wait);

// --- Holds ---
struct HoldDecision {
  std::int64_t hold = 0;
  store::HoldEnd how = store::HoldEnd::kRelease;
  std::optional<std::int64_t> qty;  // unset: all that remains
  std::string why;
};
struct HoldOutcome {
  store::HoldRecord hold;
  std::optional<StockLine> stock;  // the SKU's stock afterwards
  nlohmann::json to_json() const;  // hold_json plus {stock: {on_hand, held, available}}
};
Expected<HoldOutcome> end_hold(store::Database& db, const HoldDecision& d, const Signer& s);

// --- Proposals ---
using ProposalDecision = store::ProposalDecision;
// In one transaction: the store's acknowledge/cancel and the signer's audit entry
// (`reorder.ack` / `reorder.cancel`).
Expected<replenish::Proposal> decide_proposal(store::Database& db, const ProposalDecision& d,
                                              const Signer& s, std::int64_t now_ms);

// --- Signed by an account (the console) ---
using Request = std::variant<AlarmAck, HoldDecision, ProposalDecision>;
accounts::Action action_of(const Request& r);
// The reason the signature records: the comment, the why, or "order NUMBER".
std::string reason_of(const Request& r);
// Why a request's fields are refused ("field: rule"), or "" (the same rules as the CLI's).
std::string problem(const Request& r);
// Signs `r` as `account` with `password` (app/signing.hpp `sign`: refused, counted and audited
// when wrong; the role must allow it) and applies it. The answer: {"signature": {...},
// "result": ...} with the action's outcome. Errors: kForbidden (signature), kBadInput,
// kNotFound, kBusy (queued, not yet applied).
Expected<nlohmann::json> run_signed(store::Database& db, const Request& r, std::string_view account,
                                    std::string_view password, bool agent_running,
                                    std::int64_t now_ms, std::chrono::milliseconds wait);

}  // namespace depot::app::actions
