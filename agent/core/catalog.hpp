// The catalog: what the warehouse stocks and which barcodes name it. A SKU has any number of
// unit barcodes (GTIN-8/12/13/14 or internal codes) and case barcodes that carry a pack
// quantity (scanning a case of 12 moves 12 units). GTINs are indexed in their 14-digit form,
// so an EAN-13 on the shelf and the (01) GTIN-14 in a GS1-128 label find the same item.
// Pure; the store persists it, config and (later) cloud commands fill it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"

namespace depot {

struct CaseBarcode {
  std::string barcode;
  std::int64_t pack_qty = 1;
};

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

  bool operator==(const CatalogItem&) const = default;
};

// The key a barcode is indexed under: the 14-digit GTIN for a valid GTIN-8/12/13/14,
// otherwise the code itself (an internal label).
std::string barcode_key(std::string_view code);

// What a scanned code resolves to.
struct BarcodeMatch {
  const CatalogItem* item = nullptr;
  std::int64_t pack_qty = 1;  // units moved by one scan of this code
};

class Catalog {
 public:
  Catalog() = default;
  // Builds the index. Fails when two SKUs share an id or claim the same barcode.
  static Expected<Catalog> build(std::vector<CatalogItem> items);

  const std::vector<CatalogItem>& items() const { return items_; }
  const CatalogItem* find_sku(std::string_view sku) const;
  std::optional<BarcodeMatch> find_barcode(std::string_view code) const;
  std::size_t size() const { return items_.size(); }

 private:
  std::vector<CatalogItem> items_;
  std::unordered_map<std::string, std::size_t> by_sku_;
  std::unordered_map<std::string, std::pair<std::size_t, std::int64_t>> by_barcode_;
};

}  // namespace depot
