// From a scanned code to what it means for stock: which SKU, how many units, which lot.
// Every scan path (scanner drivers, `depot-agent scan`, later cloud) goes through
// `resolve_scan`, so a code means the same thing wherever it was read. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/catalog.hpp"
#include "core/error.hpp"
#include "core/movement.hpp"

namespace depot {

struct ScanIntent {
  std::string code;                // the scanned data, as read
  MovementKind kind = MovementKind::kPick;
  std::int64_t count = 1;          // how many of the scanned item (or case); for a count
                                   // scan: how many were counted
  std::optional<std::string> lot;  // from the operator when the label carries none
};

struct ResolvedScan {
  std::string sku;
  std::int64_t quantity = 0;  // units: count x the barcode's pack quantity
  std::int64_t pack_qty = 1;
  std::optional<std::string> lot, expiry, serial;
};

// Resolves `intent` against `catalog`. Errors name the code and the rule: an unknown
// barcode, a GTIN with a wrong check digit, a count out of range.
Expected<ResolvedScan> resolve_scan(const Catalog& catalog, const ScanIntent& intent);

}  // namespace depot
