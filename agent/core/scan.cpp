#include "core/scan.hpp"

#include "core/barcode.hpp"
#include "core/control_code.hpp"

namespace depot {
namespace {

constexpr std::int64_t kMaxUnits = 1'000'000'000;

std::string quoted(std::string_view s) { return "\"" + barcode::printable(s) + "\""; }

}  // namespace

Expected<ResolvedScan> resolve_scan(const Catalog& catalog, const ScanIntent& intent) {
  const auto& code = intent.code;
  if (code.empty()) return Error{"empty scan"};
  if (auto control = parse_control(code))
    return Error{quoted(code) + " is an operator control code, not an item"};
  auto decoded = barcode::decode(code, intent.reference_year);
  if (!decoded) return decoded.error();
  const auto& d = *decoded;

  // The catalog key, and how the scan names it in messages.
  std::string key, named;
  switch (d.kind) {
    case barcode::Kind::kInternal:
      key = d.data;
      named = "barcode " + quoted(d.data);
      break;
    case barcode::Kind::kGtin:
      key = *d.gtin;
      named = "barcode " + quoted(d.data);
      break;
    case barcode::Kind::kGs1:
      if (d.content_gtin) {
        key = *d.content_gtin;
        named = "GTIN " + key + " from AI (02)";
      } else if (d.gtin) {
        key = *d.gtin;
        named = "GTIN " + key + " from AI (01)";
      } else {
        return Error{"GS1 data " + quoted(barcode::to_hri(d.fields)) +
                     " names no item: it has no GTIN, AI (01) or (02)" +
                     (d.sscc ? " (an SSCC identifies a logistic unit, not its contents)" : "")};
      }
      break;
  }
  auto match = catalog.find_barcode(key);
  if (!match) return Error{named + " is not in the catalog"};

  std::int64_t per_scan = match->pack_qty;
  if (d.content_gtin) {
    if (!d.trade_item_count)
      return Error{
          "AI (02) names the items inside a logistic unit but the label has no count, "
          "AI (37)"};
    if (*d.trade_item_count <= 0) return Error{"AI (37): count 0 must be positive"};
    if (*d.trade_item_count > kMaxUnits / match->pack_qty)
      return Error{"AI (37): " + std::to_string(*d.trade_item_count) + " x pack of " +
                   std::to_string(match->pack_qty) + " is more than " + std::to_string(kMaxUnits)};
    per_scan = *d.trade_item_count * match->pack_qty;
  }  // (37) without (02): decode refuses it beside (01); alone it names no item (above)
  if (d.variable_count) {
    if (*d.variable_count <= 0) return Error{"AI (30): count 0 must be positive"};
    if (match->pack_qty != 1)
      return Error{"AI (30): variable count " + std::to_string(*d.variable_count) + " on " + named +
                   ", which the catalog lists as a case of " + std::to_string(match->pack_qty) +
                   ": ambiguous, units or cases?"};
    per_scan = *d.variable_count;
  }

  const bool count = intent.kind == MovementKind::kCount;
  if (count ? intent.count < 0 : intent.count <= 0)
    return Error{"quantity " + std::to_string(intent.count) +
                 (count ? " must not be negative" : " must be positive")};
  if (intent.count > kMaxUnits / per_scan)
    return Error{"quantity " + std::to_string(intent.count) + " x pack of " +
                 std::to_string(per_scan) + " is more than " + std::to_string(kMaxUnits)};
  if (intent.lot && d.lot && *intent.lot != *d.lot)
    return Error{"lot " + quoted(*intent.lot) + " given with the scan differs from lot " +
                 quoted(*d.lot) + " on the label, AI (10)"};

  ResolvedScan r;
  r.sku = std::string(match->sku);
  r.pack_qty = per_scan;
  r.quantity = intent.count * per_scan;
  r.lot = d.lot ? d.lot : intent.lot;
  r.expiry = d.expiry;
  r.serial = d.serial;
  return r;
}

}  // namespace depot
