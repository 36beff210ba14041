// The catalog: what the warehouse stocks and which barcodes name it. A SKU has any number of
// unit barcodes (GTIN-8/12/13/14 or internal codes) and case barcodes that carry a pack
// quantity (scanning a case of 12 moves 12 units). GTINs are indexed in their 14-digit form,
// so an EAN-13 on the shelf and the (01) GTIN-14 in a GS1-128 label find the same item.
// Pure; the store persists it, config and (later) cloud commands fill it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <vector>

#include "core/error.hpp"

namespace depot {

struct CaseBarcode {
  std::string barcode;
  std::int64_t pack_qty = 1;
};

// Bounds on a catalog entry's text, in bytes of UTF-8 (config and catalog.upsert alike).
inline constexpr std::size_t kMaxNameBytes = 1024;  // a platform title of 340 CJK characters
inline constexpr std::size_t kMaxUnitBytes = 32;
inline constexpr std::size_t kMaxZoneBytes = 64;
// The most units a day daily_demand and daily_demand_sd may give.
inline constexpr double kMaxDailyDemand = 1e9;

struct CatalogItem {
  std::string sku;
  std::string name;
  std::string unit = "each";
  std::vector<std::string> barcodes;
  std::vector<CaseBarcode> cases;
  std::string zone;    // storage zone id ("" = ambient / none)
  std::string policy;  // replenishment policy profile ("" = none)
  std::optional<double> daily_demand;     // stand-in until the SKU has history
  std::optional<double> daily_demand_sd;
  bool pin_demand = false;  // use daily_demand/daily_demand_sd even once history exists
  // The most one scan may move of this SKU (config key `max_qty_per_scan`); unset: the
  // scanner's limit applies. Kept by the running agent, not stored in the database.
  std::optional<std::int64_t> max_qty_per_scan;

  bool operator==(const CatalogItem&) const = default;
};

// What the config said of one catalog entry that later sections check (a zone must be
// configured, a policy must exist, pin_demand needs daily_demand). Kept while loading for
// every entry that names one, valid or not, instead of the entry's JSON.
struct CatalogEntryRefs {
  std::size_t index = 0;     // catalog[index]
  std::string zone;          // "" when absent or not a string
  std::string policy;        // likewise
  bool pin_without_demand = false;  // "pin_demand": true without "daily_demand"
};

// The key a barcode is indexed under: the 14-digit GTIN for a valid GTIN-8/12/13/14,
// otherwise the code itself (an internal label).
std::string barcode_key(std::string_view code);

// What a scanned code resolves to. `sku` points into the Catalog: valid while it lives.
struct BarcodeMatch {
  std::string_view sku;
  std::int64_t pack_qty = 1;  // units moved by one scan of this code
};

// The barcode index the agent keeps in memory: which SKUs are active and which code names
// which of them, and nothing else (names, units, zones and policies stay in the database).
// Compact on purpose, because a gateway keeps it for months: SKU ids in one sorted vector,
// GTIN keys as 64-bit numbers (a GTIN-14 has 14 digits), internal codes as strings, each
// index a sorted vector searched by bisection - some 64 bytes per SKU with two codes.
class Catalog {
 public:
  Catalog() = default;
  // Builds the index. Fails when two SKUs share an id or claim the same barcode, or a pack
  // quantity is outside 1..1,000,000,000 (config and cloud allow 1..1,000,000).
  static Expected<Catalog> build(const std::vector<CatalogItem>& items);
  // Builds the index from the database's rows (below).
  class Loader;
  bool contains(std::string_view sku) const;
  std::optional<BarcodeMatch> find_barcode(std::string_view code) const;
  std::size_t size() const { return skus_.size(); }

 private:
  struct GtinCode {
    std::uint64_t gtin;
    std::uint32_t sku;  // index into skus_
    std::uint32_t pack_qty;
  };
  struct OtherCode {
    std::string code;
    std::uint32_t sku;
    std::uint32_t pack_qty;
  };
  friend class Loader;
  std::vector<std::string> skus_;  // sorted
  std::vector<GtinCode> gtins_;    // sorted by gtin
  std::vector<OtherCode> others_;  // sorted by code
};

// Builds the index from what the database holds, row by row, without CatalogItems (100,000
// SKUs at start-up). The database's keys make SKU ids and code keys unique; a pack quantity
// outside 1..1,000,000,000 or a code key held twice (a hand-edited file) still fails.
class Catalog::Loader {
 public:
  // The active SKUs, in any order (SQLite's ORDER BY sku saves the sort).
  explicit Loader(std::vector<std::string> skus);
  // One stored code; a code of a SKU not given to the constructor (inactive) is left out.
  Status add(std::string_view code, std::string_view sku, std::int64_t pack_qty);
  Expected<Catalog> finish() &&;

 private:
  Catalog c_;
};

}  // namespace depot
