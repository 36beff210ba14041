#include "core/accounts.hpp"

#include "core/json_parse.hpp"

namespace depot::accounts {

std::string_view to_string(Role r) {
  switch (r) {
    case Role::kOperator:
      return "operator";
    case Role::kQuality:
      return "quality";
    case Role::kBuyer:
      return "buyer";
    case Role::kAdmin:
      return "admin";
  }
  return "operator";
}

std::optional<Role> parse_role(std::string_view s) {
  for (Role r : {Role::kOperator, Role::kQuality, Role::kBuyer, Role::kAdmin})
    if (to_string(r) == s) return r;
  return std::nullopt;
}

std::string_view to_string(Action a) {
  switch (a) {
    case Action::kAlarmAck:
      return "alarm.ack";
    case Action::kHoldRelease:
      return "hold.release";
    case Action::kHoldWriteOff:
      return "hold.writeoff";
    case Action::kProposalAck:
      return "reorder.ack";
    case Action::kProposalCancel:
      return "reorder.cancel";
    case Action::kCount:
      return "count";
    case Action::kCatalogChange:
      return "catalog.change";
    case Action::kCalibration:
      return "calibration";
    case Action::kUsersAdmin:
      return "users.admin";
  }
  return "alarm.ack";
}

std::string_view meaning(Action a) {
  switch (a) {
    case Action::kAlarmAck:
      return "acknowledged";
    case Action::kHoldRelease:
      return "released";
    case Action::kHoldWriteOff:
      return "written off";
    case Action::kProposalAck:
      return "ordered";
    case Action::kProposalCancel:
      return "cancelled";
    case Action::kCount:
      return "counted";
    case Action::kCatalogChange:
      return "changed";
    case Action::kCalibration:
      return "calibrated";
    case Action::kUsersAdmin:
      return "administered";
  }
  return "acknowledged";
}

bool may(Role role, Action action) {
  if (role == Role::kAdmin) return true;
  switch (action) {
    case Action::kAlarmAck:
      return role == Role::kOperator || role == Role::kQuality || role == Role::kBuyer;
    case Action::kCount:
      return role == Role::kOperator;
    case Action::kHoldRelease:
    case Action::kHoldWriteOff:
    case Action::kCalibration:
      return role == Role::kQuality;
    case Action::kProposalAck:
    case Action::kProposalCancel:
    case Action::kCatalogChange:
      return role == Role::kBuyer;
    case Action::kUsersAdmin:
      return false;
  }
  return false;
}

bool valid_account_id(std::string_view id) {
  if (id.empty() || id.size() > 64 || !(id[0] >= 'a' && id[0] <= 'z')) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return false;
  return true;
}

std::string password_problem(std::string_view password) {
  if (password.size() < 6) return "must be at least 6 characters";
  if (password.size() > 256) return "must be at most 256 bytes";
  if (!valid_utf8(password)) return "must be valid UTF-8";
  for (unsigned char c : password)
    if (c < 0x20 || c == 0x7f) return "must not contain control characters";
  return {};
}

LockState after_failure(LockState s, std::int64_t now_ms, const LockoutRule& rule) {
  if (locked(s, now_ms)) return s;  // tries during a lock neither count nor extend it
  s.failures += 1;
  if (s.failures >= rule.max_failures) {
    s.locked_until_ms = now_ms + rule.lock_ms;
    s.failures = 0;
  }
  return s;
}

}  // namespace depot::accounts
