#include "core/catalog.hpp"

#include <algorithm>
#include <tuple>

#include "core/gtin.hpp"

namespace depot {
namespace {

// A key of 14 digits (a GTIN-14, or an internal code that happens to be 14 digits: the two
// never collide, a string is either a valid GTIN or not) is kept as a number.
std::optional<std::uint64_t> as_number(std::string_view key) {
  if (key.size() != 14) return std::nullopt;
  std::uint64_t v = 0;
  for (char ch : key) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(ch - '0');
  }
  return v;
}

}  // namespace

std::string barcode_key(std::string_view code) {
  if (auto g = gtin::to_gtin14(code)) return *g;
  return std::string(code);
}

Expected<Catalog> Catalog::build(const std::vector<CatalogItem>& items) {
  Catalog c;
  c.skus_.reserve(items.size());
  for (const auto& item : items) c.skus_.push_back(item.sku);
  std::sort(c.skus_.begin(), c.skus_.end());
  if (auto twice = std::adjacent_find(c.skus_.begin(), c.skus_.end()); twice != c.skus_.end())
    return Error{"sku \"" + *twice + "\" appears twice in the catalog"};

  // Every code with its key, in the order the catalog lists them (for the error message).
  struct Claim {
    std::string key;
    std::size_t order;
    std::uint32_t sku;
    std::int64_t pack_qty;
    const std::string* code;
  };
  std::vector<Claim> claims;
  auto index_of = [&](const std::string& sku) {
    return static_cast<std::uint32_t>(
        std::lower_bound(c.skus_.begin(), c.skus_.end(), sku) - c.skus_.begin());
  };
  for (const auto& item : items) {
    const auto sku = index_of(item.sku);
    for (const auto& b : item.barcodes) claims.push_back({barcode_key(b), claims.size(), sku, 1, &b});
    for (const auto& cs : item.cases)
      claims.push_back({barcode_key(cs.barcode), claims.size(), sku, cs.pack_qty, &cs.barcode});
  }
  std::sort(claims.begin(), claims.end(), [](const Claim& a, const Claim& b) {
    return std::tie(a.key, a.order) < std::tie(b.key, b.order);
  });
  // A code claimed twice: report the claim a one-by-one reading of the catalog meets first,
  // against the SKU that claimed the code before it.
  const Claim* clash = nullptr;
  const Claim* owner = nullptr;
  for (std::size_t i = 1; i < claims.size(); ++i) {
    if (claims[i].key != claims[i - 1].key) continue;
    if (claims[i - 1].order < claims[i].order && (i < 2 || claims[i - 2].key != claims[i].key) &&
        (!clash || claims[i].order < clash->order)) {
      clash = &claims[i];
      owner = &claims[i - 1];
    }
  }
  if (clash)
    return Error{"barcode \"" + *clash->code + "\" of sku \"" + c.skus_[clash->sku] +
                 "\" is already used by sku \"" + c.skus_[owner->sku] + "\""};

  for (auto& cl : claims) {
    if (auto n = as_number(cl.key))
      c.gtins_.push_back({*n, cl.sku, cl.pack_qty});
    else
      c.others_.push_back({std::move(cl.key), cl.sku, cl.pack_qty});
  }
  // claims were sorted by key: 14-digit strings sort like their numbers, so both are sorted.
  c.gtins_.shrink_to_fit();
  c.others_.shrink_to_fit();
  return c;
}

bool Catalog::contains(std::string_view sku) const {
  return std::binary_search(skus_.begin(), skus_.end(), sku);
}

std::optional<BarcodeMatch> Catalog::find_barcode(std::string_view code) const {
  const auto key = barcode_key(code);
  if (auto n = as_number(key)) {
    auto it = std::lower_bound(gtins_.begin(), gtins_.end(), *n,
                               [](const GtinCode& g, std::uint64_t v) { return g.gtin < v; });
    if (it == gtins_.end() || it->gtin != *n) return std::nullopt;
    return BarcodeMatch{skus_[it->sku], it->pack_qty};
  }
  auto it = std::lower_bound(others_.begin(), others_.end(), key,
                             [](const OtherCode& o, const std::string& k) { return o.code < k; });
  if (it == others_.end() || it->code != key) return std::nullopt;
  return BarcodeMatch{skus_[it->sku], it->pack_qty};
}

}  // namespace depot
