// What a scanned barcode says, before the catalog is asked what it means. `decode` takes the
// bytes a scanner sent and returns either their meaning (a GS1 element string split into its
// application identifiers, a plain EAN/UPC/GTIN-14, or an internal label) or an Error naming
// the rule the data breaks, e.g. `AI (17): "261331" is not a valid date: month 13`. It never
// guesses: a wrong check digit, an impossible date or an unknown AI rejects the whole scan.
// Rules follow the GS1 General Specifications (AI formats and lengths, character set 82,
// the century rule of section 7.12) and ISO/IEC 15424 symbology identifiers.
// Pure: no I/O and no clock; the current year (for the century rule) is passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace depot::barcode {

inline constexpr char kGs = '\x1d';  // ASCII group separator: FNC1 as scanners transmit it

enum class Kind {
  kGs1,       // GS1 element strings: application identifiers and their values
  kGtin,      // a plain EAN-13, EAN-8, UPC-A, UPC-E or GTIN-14 (digits only)
  kInternal,  // any other printable ASCII: an internal label, resolved by catalog alias
};
std::string_view to_string(Kind kind);  // "gs1", "gtin", "internal"

// One GS1 element string.
struct Field {
  std::string ai;     // the application identifier: "01", "17", "3103"
  std::string title;  // its GS1 data title: "GTIN", "USE BY OR EXPIRY", "NET WEIGHT (kg)"
  std::string value;  // the data as encoded: "261200", "001250"
  std::string text;   // the value interpreted: dates as YYYY-MM-DD (DD=00 made the last day
                      // of the month), measures with their decimal point ("1.250"); else value
  bool operator==(const Field&) const = default;
};

struct Decoded {
  std::string symbology;  // the AIM symbology identifier as sent ("]C1"), "" when none was
  Kind kind = Kind::kInternal;
  std::string format;         // "GS1", "EAN-13", "EAN-8", "UPC-A", "UPC-E", "GTIN-14", "internal"
  std::string data;           // the data after the symbology identifier (the internal code itself)
  std::vector<Field> fields;  // kGs1: each application identifier once, in scan order

  // Filled from `fields` (kGs1) or from the plain code (kGtin):
  std::optional<std::string> gtin;          // 14 digits: AI (01), or the EAN/UPC/GTIN-14
  std::optional<std::string> content_gtin;  // AI (02): GTIN of the items in a logistic unit
  std::optional<std::string> sscc;          // AI (00)
  std::optional<std::string> lot;           // AI (10)
  std::optional<std::string> serial;        // AI (21)
  std::optional<std::string> production_date, packaging_date, best_before,
      expiry;                                    // AI (11), (13), (15), (17) as YYYY-MM-DD
  std::optional<std::int64_t> variable_count;    // AI (30)
  std::optional<std::int64_t> trade_item_count;  // AI (37)
  std::optional<std::string> add_on;             // ]E3: the 2- or 5-digit EAN/UPC add-on

  // The field for `ai`, or nullptr.
  const Field* field(std::string_view ai) const;
};

// Decodes one scan. `raw` is the data as the scanner sent it, with an optional AIM symbology
// identifier ("]" + letter + modifier) in front and FNC1 transmitted as GS (0x1D).
// `reference_year` is the current year (e.g. 2026); it is only consulted for dates, which
// cannot be placed in a century without it (an error names the field when it is not 1..9999).
//
// GS1 data is recognised by a GS1 symbology identifier (]C1, ]d2, ]Q3, ]e0, ]J1), by a GS
// anywhere in unprefixed data, or by the human-readable form "(01)...(17)..." (spaces around
// values allowed, as printed under a barcode). Errors:
// control characters other than GS, bytes outside ASCII, an unknown application identifier,
// a field of the wrong length or character set, a wrong check digit, an impossible date, the
// same AI twice with different values, and AI pairs the GS1 rules forbid in one scan.
Expected<Decoded> decode(std::string_view raw, int reference_year);

// The four-digit year of the two-digit year `yy` under the GS1 century rule (General
// Specifications 7.12): YY minus the last two digits of `reference_year` is 51..99 -> the
// previous century, -99..-50 -> the next century, otherwise the current one.
int gs1_year(int yy, int reference_year);

// True for the AIM symbology identifiers that announce GS1 data: ]C1 (GS1-128), ]d2 (GS1
// DataMatrix), ]Q3 (GS1 QR Code), ]e0 (GS1 DataBar), ]J1 (GS1 DotCode).
bool is_gs1_symbology(std::string_view id);

// True for the 82 characters GS1 allows in alphanumeric (X) fields.
bool is_cset82(char c);

// A name for an AIM symbology identifier ("]C1" -> "GS1-128"), or "" when not known.
std::string_view symbology_name(std::string_view id);

// The human-readable form of GS1 fields: "(01)04006381333931(17)261231(10)ABC".
std::string to_hri(const std::vector<Field>& fields);
// The element string with GS after each variable-length field but the last, as a scanner
// sends it after the symbology identifier: "010400638133393117261231" "10ABC".
std::string to_element_string(const std::vector<Field>& fields);

// `s` for a message: printable ASCII as is, any other byte as \xNN.
std::string printable(std::string_view s);

}  // namespace depot::barcode
