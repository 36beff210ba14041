#include "core/orders.hpp"

#include <algorithm>

namespace depot::orders {

std::string order_id_problem(std::string_view id) {
  if (id.empty()) return "must not be empty";
  if (id.size() > kMaxOrderIdBytes)
    return "is " + std::to_string(id.size()) + " bytes: at most " +
           std::to_string(kMaxOrderIdBytes);
  for (char ch : id)
    if (ch <= ' ' || ch > '~') return "must be printable ASCII without spaces";
  return {};
}

std::string_view to_string(LineState s) {
  switch (s) {
    case LineState::kOpen:
      return "open";
    case LineState::kReleased:
      return "released";
    case LineState::kShipped:
      return "shipped";
  }
  return "?";
}

Split reserve(std::int64_t qty, std::int64_t available) {
  Split s;
  s.reserved = std::clamp<std::int64_t>(available, 0, qty);
  s.backordered = qty - s.reserved;
  return s;
}

std::vector<std::int64_t> fill_backorders(std::span<const std::int64_t> backordered,
                                          std::int64_t available) {
  std::vector<std::int64_t> out(backordered.size(), 0);
  for (std::size_t i = 0; i < backordered.size() && available > 0; ++i) {
    out[i] = std::clamp<std::int64_t>(backordered[i], 0, available);
    available -= out[i];
  }
  return out;
}

std::int64_t take_reservation(std::int64_t reserved, std::int64_t qty) {
  return std::clamp<std::int64_t>(qty, 0, std::max<std::int64_t>(reserved, 0));
}

}  // namespace depot::orders
