#include "core/catalog.hpp"

#include "core/gtin.hpp"

namespace depot {

std::string barcode_key(std::string_view code) {
  if (auto g = gtin::to_gtin14(code)) return *g;
  return std::string(code);
}

Expected<Catalog> Catalog::build(std::vector<CatalogItem> items) {
  Catalog c;
  c.items_ = std::move(items);
  c.items_.shrink_to_fit();  // kept for the agent's lifetime: no spare capacity (~1.5 MB/10k)
  c.by_sku_.reserve(c.items_.size());
  for (std::size_t i = 0; i < c.items_.size(); ++i) {
    const auto& item = c.items_[i];
    if (!c.by_sku_.emplace(item.sku, i).second)
      return Error{"sku \"" + item.sku + "\" appears twice in the catalog"};
    auto claim = [&](const std::string& code, std::int64_t qty) -> Status {
      auto [it, fresh] = c.by_barcode_.emplace(barcode_key(code), std::make_pair(i, qty));
      if (!fresh)
        return Error{"barcode \"" + code + "\" of sku \"" + item.sku +
                     "\" is already used by sku \"" + c.items_[it->second.first].sku + "\""};
      return {};
    };
    for (const auto& b : item.barcodes)
      if (auto s = claim(b, 1); !s) return s.error();
    for (const auto& cs : item.cases)
      if (auto s = claim(cs.barcode, cs.pack_qty); !s) return s.error();
  }
  return c;
}

const CatalogItem* Catalog::find_sku(std::string_view sku) const {
  auto it = by_sku_.find(std::string(sku));
  return it == by_sku_.end() ? nullptr : &items_[it->second];
}

std::optional<BarcodeMatch> Catalog::find_barcode(std::string_view code) const {
  auto it = by_barcode_.find(barcode_key(code));
  if (it == by_barcode_.end()) return std::nullopt;
  return BarcodeMatch{&items_[it->second.first], it->second.second};
}

}  // namespace depot
