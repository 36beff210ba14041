// libFuzzer target for demand-history CSV files (`backtest`): parse_demand_csv. Properties:
// never crashes; every row has a SKU and a non-negative quantity; every problem is UTF-8.
#include <cstddef>
#include <cstdint>

#include "core/replenish/backtest.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace depot;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto h = replenish::parse_demand_csv(text);
  for (const auto& row : h.rows) {
    fuzz::require(!row.sku.empty(), "row without a SKU", text);
    fuzz::require(row.quantity >= 0, "row with a negative quantity", text);
  }
  for (const auto& p : h.problems) fuzz::require_message(p, text);
  return 0;
}
