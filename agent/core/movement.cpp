#include "core/movement.hpp"

#include <array>
#include <string>
#include <utility>

namespace depot {
namespace {
constexpr std::array<std::pair<MovementKind, std::string_view>, 8> kKinds{{
    {MovementKind::kReceive, "receive"},
    {MovementKind::kPick, "pick"},
    {MovementKind::kReturn, "return"},
    {MovementKind::kAdjust, "adjust"},
    {MovementKind::kCount, "count"},
    {MovementKind::kHold, "hold"},
    {MovementKind::kRelease, "release"},
    {MovementKind::kWriteoff, "writeoff"},
}};
}  // namespace

std::string_view to_string(MovementKind kind) {
  for (const auto& [k, name] : kKinds)
    if (k == kind) return name;
  return "?";
}

std::string lot_problem(std::string_view lot) {
  if (lot.empty()) return "lot must not be empty";
  if (lot.size() > kMaxLotLength)
    return "lot is " + std::to_string(lot.size()) +
           " characters long; GS1 AI (10) allows at most " + std::to_string(kMaxLotLength);
  for (unsigned char c : lot)
    if (c < 0x21 || c > 0x7e) return "lot must be printable ASCII without spaces (GS1 AI (10))";
  return "";
}

std::optional<MovementKind> parse_movement_kind(std::string_view s) {
  for (const auto& [k, name] : kKinds)
    if (name == s) return k;
  return std::nullopt;
}

}  // namespace depot
