// Local accounts and what their roles may do (docs/operations.md, "Accounts and signatures").
// A state-changing action is signed by an account: its id and password re-entered at the
// moment of signing, the meaning ("acknowledged", "released", ...), the time and the reason.
// This header is the pure part: roles, the permission matrix, the password and id rules and
// the lockout arithmetic. Hashing (libsodium Argon2id) and storage live in app/ and store/.
// Pure: no I/O, no clock reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace depot::accounts {

enum class Role { kOperator, kQuality, kBuyer, kAdmin };
std::string_view to_string(Role r);
std::optional<Role> parse_role(std::string_view s);

// Every action a signature is asked for, with the meaning it records.
enum class Action {
  kAlarmAck,        // "acknowledged"
  kHoldRelease,     // "released"
  kHoldWriteOff,    // "written off"
  kProposalAck,     // "ordered"
  kProposalCancel,  // "cancelled"
  kCount,           // "counted"
  kCatalogChange,   // "changed"
  kCalibration,     // "calibrated"
  kUsersAdmin,      // "administered" (users add/passwd/disable/enable by another account)
};
std::string_view to_string(Action a);  // "alarm.ack", "hold.release", ...
std::string_view meaning(Action a);    // "acknowledged", "released", ...

// The role matrix: operator (floor staff) acknowledges alarms and counts; quality acknowledges
// alarms, releases and writes off holds, records calibrations; buyer acknowledges and cancels
// proposals and changes the catalog; admin may do everything.
bool may(Role role, Action action);

// An account id: 1-64 of `a-z 0-9 . _ -`, starting with a letter (lower case: "qa.lee").
bool valid_account_id(std::string_view id);
// Why a password (or PIN) is refused, or "" when it is acceptable: 6-256 bytes of valid
// UTF-8 without control characters.
std::string password_problem(std::string_view password);

// Lockout: `max_failures` wrong passwords in a row lock the account for `lock_ms`; a correct
// password (outside a lock) resets the count.
struct LockoutRule {
  int max_failures = 5;
  std::int64_t lock_ms = 15 * 60'000;
};

struct LockState {
  int failures = 0;
  std::int64_t locked_until_ms = 0;  // 0: not locked
};

// Whether the account is locked at `now_ms`.
inline bool locked(const LockState& s, std::int64_t now_ms) { return now_ms < s.locked_until_ms; }
// The state after a wrong password at `now_ms`: counted; the `max_failures`th in a row locks.
LockState after_failure(LockState s, std::int64_t now_ms, const LockoutRule& rule = {});

}  // namespace depot::accounts
