// From a scanned code to what it means for stock: which SKU, how many units, which lot.
// Every scan path (scanner drivers, `depot-agent scan`, later cloud) goes through
// `resolve_scan`, so a code means the same thing wherever it was read. The code is first
// decoded (core/barcode.hpp: GS1, EAN/UPC, internal labels), then its GTIN or internal code is
// looked up in the catalog. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/catalog.hpp"
#include "core/error.hpp"
#include "core/movement.hpp"

namespace depot {

struct ScanIntent {
  std::string code;  // the scanned data, as read (symbology identifier, GS)
  MovementKind kind = MovementKind::kPick;
  std::int64_t count = 1;          // how many of the scanned item (or case); for a count
                                   // scan: how many were counted
  std::optional<std::string> lot;  // from the operator when the label carries none
  int reference_year = 0;          // the current year, e.g. 2026: places a label's YYMMDD
                                   // dates in their century (GS1 rule). Codes with a date
                                   // are rejected while it is 0.
};

struct ResolvedScan {
  std::string sku;
  std::int64_t quantity = 0;  // units: count x pack_qty
  std::int64_t pack_qty = 1;  // units one scan of this code stands for (see resolve_scan)
  std::optional<std::string> lot, expiry, serial;  // expiry as YYYY-MM-DD
};

// Resolves `intent` against `catalog`. Errors name the code and the rule: a decoding error
// (core/barcode.hpp), an operator control code scanned as an item, an unknown barcode, a
// quantity out of range, a lot on the label that contradicts the operator's.
//
// Units per scan (`pack_qty`):
//  * a plain EAN/UPC/GTIN-14 or (01) GTIN: the catalog pack quantity of that GTIN (1 for a unit
//    barcode, 12 for a case of 12);
//  * (02) + (37), a logistic unit holding (37) trade items of GTIN (02): (37) x the catalog
//    pack quantity of GTIN (02), e.g. 40 cases of 12 = 480. (02) without (37) is rejected;
//    so is (37) without (02), which counts nothing known;
//  * (01) + (30), a variable-count item: (30) units. (30) counts base units, so the GTIN must
//    be a unit barcode in the catalog (pack quantity 1); a case GTIN is rejected as ambiguous.
// Lot from (10) (the operator's lot must then agree), expiry from (17), serial from (21).
Expected<ResolvedScan> resolve_scan(const Catalog& catalog, const ScanIntent& intent);

}  // namespace depot
