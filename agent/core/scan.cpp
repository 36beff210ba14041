#include "core/scan.hpp"

#include "core/gtin.hpp"

namespace depot {

Expected<ResolvedScan> resolve_scan(const Catalog& catalog, const ScanIntent& intent) {
  const auto& code = intent.code;
  if (code.empty()) return Error{"empty scan"};
  if (gtin::is_gtin_length(code) && !gtin::check_digit_ok(code))
    return Error{"barcode \"" + code + "\" fails the GTIN-" + std::to_string(code.size()) +
                 " check digit (expected " +
                 std::to_string(gtin::check_digit(code.substr(0, code.size() - 1))) + ")"};
  auto match = catalog.find_barcode(code);
  if (!match) return Error{"barcode \"" + code + "\" is not in the catalog"};
  const bool count = intent.kind == MovementKind::kCount;
  if (count ? intent.count < 0 : intent.count <= 0)
    return Error{"quantity " + std::to_string(intent.count) +
                 (count ? " must not be negative" : " must be positive")};
  constexpr std::int64_t kMax = 1'000'000'000;
  if (intent.count > kMax / match->pack_qty)
    return Error{"quantity " + std::to_string(intent.count) + " x pack of " +
                 std::to_string(match->pack_qty) + " is more than " + std::to_string(kMax)};
  ResolvedScan r;
  r.sku = match->item->sku;
  r.pack_qty = match->pack_qty;
  r.quantity = intent.count * match->pack_qty;
  r.lot = intent.lot;
  return r;
}

}  // namespace depot
