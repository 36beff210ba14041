// libFuzzer target for what a scanner can send: barcode::decode, parse_control and
// resolve_scan (on a small catalog), plus code128::encode_b. Besides "no crash and no
// sanitizer report", it checks properties that must hold for any input:
//  * an error message is non-empty printable ASCII (it reaches logs and terminals);
//  * a GTIN in a result is 14 digits with a valid check digit, and dates are YYYY-MM-DD;
//  * GS1 fields written back in the FNC1 form, and in the human-readable form when no value
//    holds a "(", decode to the same fields;
//  * a valid control code's canonical text parses back to the same code;
//  * a Code 128 symbol of n characters is 11 x (n + 3) + 2 modules wide.
// Built and run, bounded, by tests/fuzz/run.sh (a ctest test).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/barcode.hpp"
#include "core/code128.hpp"
#include "core/control_code.hpp"
#include "core/gtin.hpp"
#include "core/scan.hpp"

namespace {

using namespace depot;

void require(bool ok, const char* what, std::string_view input) {
  if (ok) return;
  std::fprintf(stderr, "property failed: %s\ninput: %s\n", what, barcode::printable(input).c_str());
  std::abort();
}

void check_message(const std::string& m, std::string_view input) {
  require(!m.empty(), "error message is empty", input);
  for (char c : m) require(c >= 0x20 && c < 0x7f, "error message is not printable ASCII", input);
}

bool iso_date(const std::optional<std::string>& s) {
  if (!s) return true;
  if (s->size() != 10 || (*s)[4] != '-' || (*s)[7] != '-') return false;
  return gtin::all_digits(s->substr(0, 4)) && gtin::all_digits(s->substr(5, 2)) &&
         gtin::all_digits(s->substr(8, 2));
}

const Catalog& catalog() {
  static const Catalog c = [] {
    CatalogItem tint{.sku = "TINT"};
    tint.barcodes = {"4006381333931", "INT-TINT"};
    tint.cases = {{"14006381333938", 12}};
    CatalogItem fish{.sku = "FISH"};
    fish.barcodes = {"95012345678903"};
    return std::move(Catalog::build({tint, fish})).value();
  }();
  return c;
}

void check_decode(std::string_view in, int year) {
  auto d = barcode::decode(in, year);
  if (!d) {
    check_message(d.error().message, in);
    return;
  }
  if (d->gtin)
    require(d->gtin->size() == 14 && gtin::check_digit_ok(*d->gtin), "bad GTIN accepted", in);
  if (d->content_gtin)
    require(gtin::check_digit_ok(*d->content_gtin), "bad content GTIN accepted", in);
  require(iso_date(d->expiry) && iso_date(d->best_before) && iso_date(d->production_date) &&
              iso_date(d->packaging_date),
          "date is not YYYY-MM-DD", in);
  if (d->kind != barcode::Kind::kGs1) return;
  require(!d->fields.empty(), "GS1 result without fields", in);
  auto again = barcode::decode("]C1" + barcode::to_element_string(d->fields), year);
  require(again.ok() && again->fields == d->fields, "FNC1 form does not round-trip", in);
  bool paren = false;
  for (const auto& f : d->fields) paren = paren || f.value.find('(') != std::string::npos;
  if (!paren) {
    auto hri = barcode::decode(barcode::to_hri(d->fields), year);
    require(hri.ok() && hri->fields == d->fields, "human-readable form does not round-trip", in);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  check_decode(in, 2026);
  check_decode(in, 2075);  // the century rule's other side

  if (auto control = parse_control(in)) {
    if (*control) {
      auto back = parse_control(control_text(**control));
      require(back && *back && **back == **control, "control code does not round-trip", in);
    } else {
      check_message(control->error().message, in);
    }
  }

  ScanIntent intent{.code = std::string(in), .count = 2, .reference_year = 2026};
  auto r = resolve_scan(catalog(), intent);
  if (r) {
    require(r->quantity == 2 * r->pack_qty && r->pack_qty > 0, "quantity is not count x pack", in);
    require(r->sku == "TINT" || r->sku == "FISH", "unknown sku", in);
  } else {
    check_message(r.error().message, in);
  }

  if (auto s = code128::encode_b(in)) {
    require(s->modules() == 11 * static_cast<int>(in.size() + 3) + 2, "Code 128 width", in);
  } else {
    check_message(s.error().message, in);
  }
  return 0;
}
