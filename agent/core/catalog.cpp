#include "core/catalog.hpp"

#include <algorithm>
#include <optional>
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
  // Both checks report the problem a one-by-one reading of the catalog meets first: item by
  // item, its SKU id before its codes, each code against the SKU that claimed it earlier.
  // Position of a problem: (item, -1) for a repeated SKU id, (item, code order) for a code.
  using Position = std::pair<std::size_t, std::int64_t>;
  std::optional<Position> first;
  std::string problem;
  auto note = [&](Position at, auto&& message) {
    if (!first || at < *first) first = at, problem = message();
  };

  std::vector<std::pair<std::string_view, std::size_t>> ids;  // (sku, item), sorted
  ids.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) ids.emplace_back(items[i].sku, i);
  std::sort(ids.begin(), ids.end());
  for (std::size_t i = 1; i < ids.size(); ++i)
    if (ids[i].first == ids[i - 1].first)
      note({ids[i].second, -1},
           [&] { return "sku \"" + std::string(ids[i].first) + "\" appears twice in the catalog"; });

  Catalog c;
  c.skus_.reserve(ids.size());
  for (const auto& [sku, item] : ids)
    if (c.skus_.empty() || c.skus_.back() != sku) c.skus_.emplace_back(sku);

  struct Claim {
    std::string key;
    std::int64_t order;  // across the whole catalog, in catalog order
    std::size_t item;
    std::uint32_t sku;
    std::int64_t pack_qty;
    const std::string* code;
  };
  std::vector<Claim> claims;
  std::int64_t order = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    const auto sku = static_cast<std::uint32_t>(
        std::lower_bound(c.skus_.begin(), c.skus_.end(), item.sku) - c.skus_.begin());
    for (const auto& b : item.barcodes) claims.push_back({barcode_key(b), order++, i, sku, 1, &b});
    for (const auto& cs : item.cases)
      claims.push_back({barcode_key(cs.barcode), order++, i, sku, cs.pack_qty, &cs.barcode});
  }
  std::sort(claims.begin(), claims.end(), [](const Claim& a, const Claim& b) {
    return std::tie(a.key, a.order) < std::tie(b.key, b.order);
  });
  // In each run of equal keys the first claim owns the code; the second is where a one-by-one
  // reading would stop.
  for (std::size_t i = 1; i < claims.size(); ++i) {
    if (claims[i].key != claims[i - 1].key || (i >= 2 && claims[i - 2].key == claims[i].key))
      continue;
    const auto& clash = claims[i];
    const auto& owner = claims[i - 1];
    note({clash.item, clash.order}, [&] {
      return "barcode \"" + *clash.code + "\" of sku \"" + items[clash.item].sku +
             "\" is already used by sku \"" + items[owner.item].sku + "\"";
    });
  }
  for (const auto& cl : claims)  // the database could hold what config and cloud refuse
    if (cl.pack_qty < 1 || cl.pack_qty > 1'000'000'000)
      note({cl.item, cl.order}, [&] {
        return "barcode \"" + *cl.code + "\" of sku \"" + items[cl.item].sku +
               "\": pack quantity " + std::to_string(cl.pack_qty) + " is outside 1..1000000000";
      });
  if (first) return Error{problem};

  for (auto& cl : claims) {
    if (auto n = as_number(cl.key))
      c.gtins_.push_back({*n, cl.sku, static_cast<std::uint32_t>(cl.pack_qty)});
    else
      c.others_.push_back({std::move(cl.key), cl.sku, static_cast<std::uint32_t>(cl.pack_qty)});
  }
  // claims were sorted by key: 14-digit strings sort like their numbers, so both are sorted.
  c.gtins_.shrink_to_fit();
  c.others_.shrink_to_fit();
  return c;
}

Catalog::Loader::Loader(std::vector<std::string> skus) {
  if (!std::is_sorted(skus.begin(), skus.end())) std::sort(skus.begin(), skus.end());
  skus.erase(std::unique(skus.begin(), skus.end()), skus.end());
  skus.shrink_to_fit();
  c_.skus_ = std::move(skus);
}

Status Catalog::Loader::add(std::string_view code, std::string_view sku, std::int64_t pack_qty) {
  auto it = std::lower_bound(c_.skus_.begin(), c_.skus_.end(), sku);
  if (it == c_.skus_.end() || *it != sku) return {};
  if (pack_qty < 1 || pack_qty > 1'000'000'000)
    return Error{"barcode \"" + std::string(code) + "\" of sku \"" + std::string(sku) +
                 "\": pack quantity " + std::to_string(pack_qty) + " is outside 1..1000000000"};
  const auto index = static_cast<std::uint32_t>(it - c_.skus_.begin());
  const auto qty = static_cast<std::uint32_t>(pack_qty);
  auto key = barcode_key(code);
  if (auto n = as_number(key))
    c_.gtins_.push_back({*n, index, qty});
  else
    c_.others_.push_back({std::move(key), index, qty});
  return {};
}

Expected<Catalog> Catalog::Loader::finish() && {
  auto by_gtin = [](const GtinCode& a, const GtinCode& b) { return a.gtin < b.gtin; };
  auto by_code = [](const OtherCode& a, const OtherCode& b) { return a.code < b.code; };
  // Rows by code key arrive sorted: 14-digit keys sort like their numbers.
  // Stable: a key held twice names its holders in the order the rows came.
  if (!std::is_sorted(c_.gtins_.begin(), c_.gtins_.end(), by_gtin))
    std::stable_sort(c_.gtins_.begin(), c_.gtins_.end(), by_gtin);
  if (!std::is_sorted(c_.others_.begin(), c_.others_.end(), by_code))
    std::stable_sort(c_.others_.begin(), c_.others_.end(), by_code);
  auto twice = [&](const std::string& key, std::uint32_t a, std::uint32_t b) {
    return Error{"barcode key \"" + key + "\" is held by sku \"" + c_.skus_[a] +
                 "\" and by sku \"" + c_.skus_[b] + "\""};
  };
  for (std::size_t i = 1; i < c_.gtins_.size(); ++i)
    if (c_.gtins_[i].gtin == c_.gtins_[i - 1].gtin) {
      auto digits = std::to_string(c_.gtins_[i].gtin);
      return twice(std::string(14 - digits.size(), '0') + digits, c_.gtins_[i - 1].sku,
                   c_.gtins_[i].sku);
    }
  for (std::size_t i = 1; i < c_.others_.size(); ++i)
    if (c_.others_[i].code == c_.others_[i - 1].code)
      return twice(c_.others_[i].code, c_.others_[i - 1].sku, c_.others_[i].sku);
  c_.gtins_.shrink_to_fit();
  c_.others_.shrink_to_fit();
  return std::move(c_);
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
