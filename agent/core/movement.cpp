#include "core/movement.hpp"

#include <array>
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

std::optional<MovementKind> parse_movement_kind(std::string_view s) {
  for (const auto& [k, name] : kKinds)
    if (name == s) return k;
  return std::nullopt;
}

}  // namespace depot
