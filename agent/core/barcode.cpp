#include "core/barcode.hpp"

#include <array>
#include <cstdio>
#include <map>

#include "core/gtin.hpp"
#include "core/time.hpp"

namespace depot::barcode {
namespace {

enum class Format {
  kNumeric,  // digits only (N)
  kText,     // GS1 character set 82 (X)
  kDate,     // YYMMDD, DD = 00 allowed (the last day of the month)
  kKey,      // digits ending in a GS1 mod-10 check digit (GTIN, SSCC, GLN, GSIN)
  kMeasure,  // six digits; the AI's fourth digit is the number of decimals
};

// One application identifier, as the GS1 General Specifications (and the GS1 Barcode Syntax
// Dictionary) define it.
struct AiSpec {
  std::string_view ai;  // the AI; for a measure family (310n) its first three digits
  Format format;
  int min_len, max_len;    // length of the value
  bool predefined;         // in the predefined-length table: no separator needed after it
  std::string_view title;  // GS1 data title
  std::string_view noun;   // what the value is, for messages ("lot", "GTIN")
};

constexpr AiSpec kAis[] = {
    {"00", Format::kKey, 18, 18, true, "SSCC", "SSCC"},
    {"01", Format::kKey, 14, 14, true, "GTIN", "GTIN"},
    {"02", Format::kKey, 14, 14, true, "CONTENT", "GTIN"},
    {"10", Format::kText, 1, 20, false, "BATCH/LOT", "lot"},
    {"11", Format::kDate, 6, 6, true, "PROD DATE", "date"},
    {"12", Format::kDate, 6, 6, true, "DUE DATE", "date"},
    {"13", Format::kDate, 6, 6, true, "PACK DATE", "date"},
    {"15", Format::kDate, 6, 6, true, "BEST BEFORE or BEST BY", "date"},
    {"16", Format::kDate, 6, 6, true, "SELL BY", "date"},
    {"17", Format::kDate, 6, 6, true, "USE BY or EXPIRY", "date"},
    {"20", Format::kNumeric, 2, 2, true, "VARIANT", "variant"},
    {"21", Format::kText, 1, 20, false, "SERIAL", "serial"},
    {"22", Format::kText, 1, 20, false, "CPV", "consumer product variant"},
    {"240", Format::kText, 1, 30, false, "ADDITIONAL ID", "additional id"},
    {"241", Format::kText, 1, 30, false, "CUST. PART No.", "customer part number"},
    {"250", Format::kText, 1, 30, false, "SECONDARY SERIAL", "secondary serial"},
    {"251", Format::kText, 1, 30, false, "REF. TO SOURCE", "reference to source"},
    {"30", Format::kNumeric, 1, 8, false, "VAR. COUNT", "count"},
    {"310", Format::kMeasure, 6, 6, true, "NET WEIGHT (kg)", "weight"},
    {"320", Format::kMeasure, 6, 6, true, "NET WEIGHT (lb)", "weight"},
    {"330", Format::kMeasure, 6, 6, true, "GROSS WEIGHT (kg)", "weight"},
    {"37", Format::kNumeric, 1, 8, false, "COUNT", "count"},
    {"400", Format::kText, 1, 30, false, "ORDER NUMBER", "order number"},
    {"401", Format::kText, 1, 30, false, "GINC", "consignment number"},
    {"402", Format::kKey, 17, 17, false, "GSIN", "GSIN"},
    {"403", Format::kText, 1, 30, false, "ROUTE", "route"},
    {"410", Format::kKey, 13, 13, true, "SHIP TO LOC", "GLN"},
    {"411", Format::kKey, 13, 13, true, "BILL TO", "GLN"},
    {"412", Format::kKey, 13, 13, true, "PURCHASE FROM", "GLN"},
    {"413", Format::kKey, 13, 13, true, "SHIP FOR LOC", "GLN"},
    {"414", Format::kKey, 13, 13, true, "LOC No.", "GLN"},
    {"415", Format::kKey, 13, 13, true, "PAY TO", "GLN"},
    {"416", Format::kKey, 13, 13, true, "PROD/SERV LOC", "GLN"},
    {"417", Format::kKey, 13, 13, true, "PARTY", "GLN"},
    {"420", Format::kText, 1, 20, false, "SHIP TO POST", "postal code"},
    {"90", Format::kText, 1, 30, false, "INTERNAL", "internal data"},
    {"91", Format::kText, 1, 90, false, "INTERNAL", "internal data"},
    {"92", Format::kText, 1, 90, false, "INTERNAL", "internal data"},
    {"93", Format::kText, 1, 90, false, "INTERNAL", "internal data"},
    {"94", Format::kText, 1, 90, false, "INTERNAL", "internal data"},
    {"95", Format::kText, 1, 90, false, "INTERNAL", "internal data"},
    {"96", Format::kText, 1, 90, false, "INTERNAL", "internal data"},
    {"97", Format::kText, 1, 90, false, "INTERNAL", "internal data"},
    {"98", Format::kText, 1, 90, false, "INTERNAL", "internal data"},
    {"99", Format::kText, 1, 90, false, "INTERNAL", "internal data"},
};

// Pairs of AIs that must not appear in one scan (GS1 invalid pairs).
struct InvalidPair {
  std::string_view a, b, why;
};
constexpr InvalidPair kInvalidPairs[] = {
    {"01", "02", "(01) identifies the item itself, (02) the items inside a logistic unit"},
    {"01", "37", "(37) counts the trade items named by (02), not by (01)"},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string quoted(std::string_view s) { return "\"" + printable(s) + "\""; }

std::string two(int n) {
  char buf[12];  // any int fits: GCC checks this on 32-bit targets
  std::snprintf(buf, sizeof buf, "%02d", n);
  return buf;
}

int digits_value(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// REQUIRES: `s` is 1-18 digits.
std::int64_t count_value(std::string_view s) {
  std::int64_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

constexpr std::array<std::string_view, 12> kMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

// The spec whose AI begins `s` (element string form), with the AI itself in `ai`.
// Specs indexed by their first two digits, so a lookup tries only the few that can match.
const std::array<std::vector<const AiSpec*>, 100>& ais_by_prefix() {
  static const auto index = [] {
    std::array<std::vector<const AiSpec*>, 100> ix;
    for (const auto& spec : kAis)
      ix[static_cast<std::size_t>((spec.ai[0] - '0') * 10 + (spec.ai[1] - '0'))].push_back(&spec);
    return ix;
  }();
  return index;
}

const AiSpec* match_ai(std::string_view s, std::string& ai) {
  if (s.size() < 2 || !is_digit(s[0]) || !is_digit(s[1])) return nullptr;
  for (const AiSpec* p : ais_by_prefix()[static_cast<std::size_t>((s[0] - '0') * 10 + (s[1] - '0'))]) {
    const auto& spec = *p;
    if (!s.starts_with(spec.ai)) continue;
    if (spec.format == Format::kMeasure) {
      // The fourth digit is the decimal point position, 0..5.
      if (s.size() < 4 || s[3] < '0' || s[3] > '5') return nullptr;
      ai = std::string(s.substr(0, 4));
    } else {
      ai = std::string(spec.ai);
    }
    return &spec;
  }
  return nullptr;
}

// The spec for exactly `ai` (human-readable form), or nullptr.
const AiSpec* find_ai(std::string_view ai) {
  std::string matched;
  const AiSpec* spec = match_ai(ai, matched);
  return spec && matched == ai ? spec : nullptr;
}

// How many digits the AI starting with `two_digits` has (GS1 General Specifications figure
// "GS1 Application Identifier lengths"), to name an unknown AI in full.
std::size_t ai_length(std::string_view two_digits) {
  static constexpr std::string_view kThree[] = {"23", "24", "25", "40", "41", "42", "71"};
  static constexpr std::string_view kFour[] = {"31", "32", "33", "34", "35", "36", "39",
                                               "43", "70", "72", "80", "81", "82"};
  for (auto p : kThree)
    if (p == two_digits) return 3;
  for (auto p : kFour)
    if (p == two_digits) return 4;
  return 2;
}

Error ai_error(std::string_view ai, const std::string& message) {
  return Error{"AI (" + std::string(ai) + "): " + message};
}

// Validates `value` for `spec` and interprets it.
Expected<Field> make_field(const AiSpec& spec, std::string ai, std::string_view value,
                           int reference_year) {
  Field f{std::move(ai), std::string(spec.title), std::string(value), std::string(value)};
  const auto len = static_cast<int>(value.size());
  const bool fixed = spec.min_len == spec.max_len;
  switch (spec.format) {
    case Format::kText:
      if (value.empty()) return ai_error(f.ai, std::string(spec.noun) + " is empty");
      if (len > spec.max_len)
        return ai_error(f.ai, std::string(spec.noun) + " longer than " +
                                  std::to_string(spec.max_len) + " characters");
      for (std::size_t i = 0; i < value.size(); ++i)
        if (!is_cset82(value[i]))
          return ai_error(f.ai, quoted(value) + " has " + quoted(value.substr(i, 1)) +
                                    " at character " + std::to_string(i + 1) +
                                    ", which is not in GS1 character set 82");
      return f;
    case Format::kNumeric:
      if (!fixed) {
        if (value.empty()) return ai_error(f.ai, std::string(spec.noun) + " is empty");
        if (len > spec.max_len)
          return ai_error(f.ai, std::string(spec.noun) + " longer than " +
                                    std::to_string(spec.max_len) + " digits");
        if (!gtin::all_digits(value)) return ai_error(f.ai, quoted(value) + " must be digits");
        return f;
      }
      break;  // fixed length: checked below
    default:
      break;
  }
  if (len != spec.max_len || !gtin::all_digits(value))
    return ai_error(f.ai, quoted(value) + " must be " + std::to_string(spec.max_len) + " digits" +
                              (spec.format == Format::kDate ? " (YYMMDD)" : ""));
  switch (spec.format) {
    case Format::kKey:
      if (!gtin::check_digit_ok(value))
        return ai_error(
            f.ai, quoted(value) + " fails the " + std::string(spec.noun) +
                      " check digit (expected " +
                      std::to_string(gtin::check_digit(value.substr(0, value.size() - 1))) + ")");
      break;
    case Format::kDate: {
      const int yy = digits_value(value.substr(0, 2));
      const int mm = digits_value(value.substr(2, 2));
      const int dd = digits_value(value.substr(4, 2));
      if (mm < 1 || mm > 12)
        return ai_error(f.ai, quoted(value) + " is not a valid date: month " + two(mm));
      if (reference_year < 1 || reference_year > 9999)
        return ai_error(f.ai, quoted(value) + ": the century of year " + two(yy) +
                                  " needs the current year (reference year " +
                                  std::to_string(reference_year) + " is not 1..9999)");
      const int year = gs1_year(yy, reference_year);
      const auto days = static_cast<int>(timefmt::days_in_month(year, static_cast<unsigned>(mm)));
      if (dd > days)
        return ai_error(f.ai, quoted(value) + " is not a valid date: day " + two(dd) + " (" +
                                  std::string(kMonths[static_cast<std::size_t>(mm - 1)]) + " " +
                                  std::to_string(year) + " has " + std::to_string(days) + " days)");
      const int day = dd == 0 ? days : dd;
      f.text = {static_cast<char>('0' + year / 1000), static_cast<char>('0' + year / 100 % 10),
                static_cast<char>('0' + year / 10 % 10), static_cast<char>('0' + year % 10), '-',
                static_cast<char>('0' + mm / 10), static_cast<char>('0' + mm % 10), '-',
                static_cast<char>('0' + day / 10), static_cast<char>('0' + day % 10)};
      break;
    }
    case Format::kMeasure: {
      const auto decimals = static_cast<std::size_t>(f.ai[3] - '0');
      std::string whole(value.substr(0, value.size() - decimals));
      auto first = whole.find_first_not_of('0');
      whole = first == std::string::npos ? "0" : whole.substr(first);
      f.text = decimals ? whole + "." + std::string(value.substr(value.size() - decimals)) : whole;
      break;
    }
    default:
      break;
  }
  return f;
}

std::string position(std::size_t index) { return std::to_string(index + 1); }

// Parses an element string (FNC1 as GS). `base` is where `data` starts in the raw scan.
Expected<std::vector<Field>> parse_element_string(std::string_view data, std::size_t base,
                                                  int reference_year) {
  std::vector<Field> fields;
  std::size_t i = 0;
  if (!data.empty() && data[0] == kGs) i = 1;  // FNC1 in first position, sent as GS
  if (i >= data.size()) return Error{"no GS1 data after the FNC1"};
  while (i < data.size()) {
    const char c = data[i];
    if (c == kGs)
      return Error{"unexpected GS separator at position " + position(base + i) +
                   ": an application identifier must follow each GS"};
    if (!is_digit(c))
      return Error{"expected an application identifier at position " + position(base + i) +
                   ", found " + quoted(data.substr(i, 1))};
    std::string ai;
    const AiSpec* spec = match_ai(data.substr(i), ai);
    if (!spec) {
      std::size_t n = 0;
      while (i + n < data.size() && is_digit(data[i + n])) ++n;
      if (n < 2)
        return Error{"truncated application identifier " + quoted(data.substr(i, n)) +
                     " at position " + position(base + i)};
      return Error{"unknown application identifier (" +
                   std::string(data.substr(i, std::min(n, ai_length(data.substr(i, 2))))) + ")"};
    }
    i += ai.size();
    std::size_t end = data.find(kGs, i);
    if (end == std::string_view::npos) end = data.size();
    if (spec->predefined) end = std::min(end, i + static_cast<std::size_t>(spec->max_len));
    auto field = make_field(*spec, ai, data.substr(i, end - i), reference_year);
    if (!field) return field.error();
    fields.push_back(std::move(field).value());
    i = end;
    // A GS ends a variable-length field; after a predefined-length one it is not needed but
    // tolerated. A GS as the last character ends the data.
    if (i < data.size() && data[i] == kGs) ++i;
  }
  return fields;
}

// Where the AI that opens at `i` ("(" 2-4 digits ")") ends, or npos when none opens there.
std::size_t hri_ai_end(std::string_view data, std::size_t i) {
  if (i >= data.size() || data[i] != '(') return std::string_view::npos;
  std::size_t j = i + 1;
  while (j < data.size() && is_digit(data[j]) && j - i <= 4) ++j;
  const std::size_t digits = j - i - 1;
  if (j < data.size() && data[j] == ')' && digits >= 2 && digits <= 4) return j + 1;
  return std::string_view::npos;
}

// Parses the human-readable form "(01)...(17)...(10)...". A value runs to the next "(" that
// opens an application identifier, or to the end of the data; spaces around it are dropped.
Expected<std::vector<Field>> parse_hri(std::string_view data, std::size_t base,
                                       int reference_year) {
  std::vector<Field> fields;
  std::size_t i = 0;
  while (i < data.size()) {
    const std::size_t open = hri_ai_end(data, i);
    if (open == std::string_view::npos) {
      auto close = data.find(')', i);
      auto shown = close == std::string_view::npos ? data.substr(i) : data.substr(i, close - i + 1);
      return Error{quoted(shown) + " at position " + position(base + i) +
                   " is not an application identifier in parentheses"};
    }
    const std::string ai(data.substr(i + 1, open - i - 2));
    const AiSpec* spec = find_ai(ai);
    if (!spec) return Error{"unknown application identifier (" + ai + ")"};
    std::size_t end = open;
    while (end < data.size() && hri_ai_end(data, end) == std::string_view::npos) ++end;
    auto value = data.substr(open, end - open);
    if (auto gs = value.find(kGs); gs != std::string_view::npos)
      return Error{"GS separator at position " + position(base + open + gs) +
                   " inside human-readable (parenthesised) data"};
    // Labels print "(01) 09506000134352 (17) 261231": spaces around a value are layout (a
    // space is never GS1 data: it is not in character set 82).
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    auto field = make_field(*spec, ai, value, reference_year);
    if (!field) return field.error();
    fields.push_back(std::move(field).value());
    i = end;
  }
  return fields;
}

// Checks duplicates and invalid pairs, then fills the typed members of `d` from its fields.
Status settle_fields(Decoded& d, std::vector<Field> parsed) {
  // A scan carries a handful of fields: a linear search beats any map here.
  auto find = [&d](std::string_view ai) -> const Field* {
    for (const auto& f : d.fields)
      if (f.ai == ai) return &f;
    return nullptr;
  };
  for (auto& f : parsed) {
    if (const Field* before = find(f.ai)) {
      if (before->value != f.value)
        return Error{"AI (" + f.ai + ") appears twice with different values: " +
                     quoted(before->value) + " and " + quoted(f.value)};
      continue;  // the same element string repeated: one fact
    }
    d.fields.push_back(std::move(f));
  }
  for (const auto& p : kInvalidPairs)
    if (find(p.a) && find(p.b))
      return Error{"AI (" + std::string(p.a) + ") and AI (" + std::string(p.b) +
                   ") must not appear together: " + std::string(p.why)};
  // A measure family (310n, ...) carries one value: two decimal positions contradict.
  for (std::size_t a = 0; a < d.fields.size(); ++a)
    for (std::size_t b = a + 1; b < d.fields.size(); ++b) {
      const auto& x = d.fields[a].ai;
      const auto& y = d.fields[b].ai;
      if (x.size() == 4 && y.size() == 4 && x.compare(0, 3, y, 0, 3) == 0)
        return Error{"AI (" + x + ") and AI (" + y + ") must not appear together: " + "one " +
                     d.fields[a].title + " per item"};
    }
  for (const auto& f : d.fields) {
    if (f.ai.size() != 2) continue;
    switch ((f.ai[0] - '0') * 10 + (f.ai[1] - '0')) {
      case 0: d.sscc = f.value; break;
      case 1: d.gtin = f.value; break;
      case 2: d.content_gtin = f.value; break;
      case 10: d.lot = f.value; break;
      case 21: d.serial = f.value; break;
      case 11: d.production_date = f.text; break;
      case 13: d.packaging_date = f.text; break;
      case 15: d.best_before = f.text; break;
      case 17: d.expiry = f.text; break;
      case 30: d.variable_count = count_value(f.value); break;
      case 37: d.trade_item_count = count_value(f.value); break;
      default: break;
    }
  }
  return {};
}

// The GTIN-14 of a plain EAN/UPC/GTIN-14, or an error naming the failed check digit.
Status set_plain_gtin(Decoded& d, std::string_view digits, std::string_view format) {
  if (!gtin::check_digit_ok(digits))
    return Error{"barcode " + quoted(digits) + " fails the GTIN-" + std::to_string(digits.size()) +
                 " check digit (expected " +
                 std::to_string(gtin::check_digit(digits.substr(0, digits.size() - 1))) + ")"};
  d.kind = Kind::kGtin;
  d.format = std::string(format);
  d.gtin = *gtin::to_gtin14(digits);
  return {};
}

std::string_view plain_format(std::size_t digits) {
  switch (digits) {
    case 8:
      return "EAN-8";
    case 12:
      return "UPC-A";
    case 13:
      return "EAN-13";
    default:
      return "GTIN-14";
  }
}

// UPC-E (number system, six digits, check digit) expanded to its UPC-A digits.
std::string upc_e_to_a(std::string_view e) {
  const std::string_view d = e.substr(1, 6);
  std::string body(1, e[0]);
  switch (d[5]) {
    case '0':
    case '1':
    case '2':
      body += std::string(d.substr(0, 2)) + d[5] + "0000" + std::string(d.substr(2, 3));
      break;
    case '3':
      body += std::string(d.substr(0, 3)) + "00000" + std::string(d.substr(3, 2));
      break;
    case '4':
      body += std::string(d.substr(0, 4)) + "00000" + d[4];
      break;
    default:
      body += std::string(d.substr(0, 5)) + "0000" + d[5];
      break;
  }
  return body + e[7];
}

// EAN/UPC data under a ]E symbology identifier.
Status decode_ean_upc(Decoded& d, char modifier) {
  const std::string_view data = d.data;
  const bool digits = gtin::all_digits(data);
  const std::string id = d.symbology;
  switch (modifier) {
    case '0':
      if (digits && data.size() == 8) {
        if (data[0] != '0' && data[0] != '1')
          return Error{"UPC-E " + quoted(data) + ": number system " +
                       std::string(data.substr(0, 1)) + " must be 0 or 1"};
        const auto upc_a = upc_e_to_a(data);
        if (!gtin::check_digit_ok(upc_a))
          return Error{"UPC-E " + quoted(data) + " fails its check digit (expected " +
                       std::to_string(gtin::check_digit(upc_a.substr(0, 11))) + ")"};
        d.kind = Kind::kGtin;
        d.format = "UPC-E";
        d.gtin = *gtin::to_gtin14(upc_a);
        return {};
      }
      if (digits && (data.size() == 12 || data.size() == 13))
        return set_plain_gtin(d, data, plain_format(data.size()));
      return Error{"symbology " + id + " (EAN-13, UPC-A or UPC-E) carries " + quoted(data) +
                   ": expected 8, 12 or 13 digits"};
    case '4':
      if (digits && data.size() == 8) return set_plain_gtin(d, data, "EAN-8");
      return Error{"symbology " + id + " (EAN-8) carries " + quoted(data) + ": expected 8 digits"};
    case '3':
      if (digits && (data.size() == 15 || data.size() == 18)) {
        if (auto s = set_plain_gtin(d, data.substr(0, 13), "EAN-13"); !s) return s;
        d.add_on = std::string(data.substr(13));
        return {};
      }
      return Error{"symbology " + id + " (EAN-13 with add-on) carries " + quoted(data) +
                   ": expected 13 digits and a 2- or 5-digit add-on"};
    case '1':
    case '2':
      return Error{"symbology " + id + " is an EAN/UPC add-on read on its own; it names no item"};
    default:
      return Error{"symbology " + id + " is not a known EAN/UPC identifier"};
  }
}

bool is_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

}  // namespace

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::kGs1:
      return "gs1";
    case Kind::kGtin:
      return "gtin";
    case Kind::kInternal:
      return "internal";
  }
  return "internal";
}

const Field* Decoded::field(std::string_view ai) const {
  for (const auto& f : fields)
    if (f.ai == ai) return &f;
  return nullptr;
}

int gs1_year(int yy, int reference_year) {
  const int current = reference_year % 100;
  int century = reference_year - current;
  const int diff = yy - current;
  if (diff >= 51) century -= 100;
  if (diff <= -50) century += 100;
  return century + yy;
}

bool is_gs1_symbology(std::string_view id) {
  return id == "]C1" || id == "]d2" || id == "]Q3" || id == "]e0" || id == "]J1";
}

bool is_cset82(char c) {
  if (is_digit(c) || is_letter(c)) return true;
  return std::string_view("!\"%&'()*+,-./:;<=>?_").find(c) != std::string_view::npos;
}

std::string_view symbology_name(std::string_view id) {
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"]A0", "Code 39"},
      {"]C0", "Code 128"},
      {"]C1", "GS1-128"},
      {"]d1", "Data Matrix"},
      {"]d2", "GS1 DataMatrix"},
      {"]E0", "EAN-13, UPC-A or UPC-E"},
      {"]E1", "EAN/UPC 2-digit add-on"},
      {"]E2", "EAN/UPC 5-digit add-on"},
      {"]E3", "EAN-13 or UPC with add-on"},
      {"]E4", "EAN-8"},
      {"]e0", "GS1 DataBar"},
      {"]I0", "Interleaved 2 of 5"},
      {"]I1", "ITF-14 (Interleaved 2 of 5, check digit verified)"},
      {"]J1", "GS1 DotCode"},
      {"]Q1", "QR Code"},
      {"]Q3", "GS1 QR Code"},
  };
  for (const auto& [k, v] : kNames)
    if (k == id) return v;
  return "";
}

std::string printable(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    }
  }
  return out;
}

std::string to_hri(const std::vector<Field>& fields) {
  std::string s;
  for (const auto& f : fields) s += "(" + f.ai + ")" + f.value;
  return s;
}

std::string to_element_string(const std::vector<Field>& fields) {
  std::string s;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    s += fields[i].ai + fields[i].value;
    std::string ai;
    const AiSpec* spec = match_ai(fields[i].ai, ai);
    if (i + 1 < fields.size() && (!spec || !spec->predefined)) s += kGs;
  }
  return s;
}

Expected<Decoded> decode(std::string_view raw, int reference_year) {
  if (raw.empty()) return Error{"empty scan"};
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto u = static_cast<unsigned char>(raw[i]);
    if (u >= 0x80)
      return Error{"byte " + printable(raw.substr(i, 1)) + " at position " + position(i) +
                   " is not ASCII"};
    if ((u < 0x20 || u == 0x7f) && raw[i] != kGs)
      return Error{"control character " + printable(raw.substr(i, 1)) + " at position " +
                   position(i) + " is not allowed (only GS, 0x1d, may appear in a scan)"};
  }

  Decoded d;
  std::size_t base = 0;
  if (raw[0] == ']') {
    if (raw.size() < 3 || !is_letter(raw[1]) || !(is_digit(raw[2]) || is_letter(raw[2])))
      return Error{quoted(raw.substr(0, 3)) +
                   " is not an AIM symbology identifier (\"]\", a letter and a modifier)"};
    d.symbology = std::string(raw.substr(0, 3));
    base = 3;
  }
  d.data = std::string(raw.substr(base));
  if (d.data.empty()) return Error{"no data after the symbology identifier " + d.symbology};

  const bool gs1_id = is_gs1_symbology(d.symbology);
  const bool has_gs = d.data.find(kGs) != std::string::npos;
  if (d.data[0] == '(' && (d.symbology.empty() || gs1_id)) {
    auto fields = parse_hri(d.data, base, reference_year);
    if (!fields) return fields.error();
    d.kind = Kind::kGs1;
    d.format = "GS1";
    if (auto s = settle_fields(d, std::move(fields).value()); !s) return s.error();
    return d;
  }
  if (gs1_id || (d.symbology.empty() && has_gs)) {
    auto fields = parse_element_string(d.data, base, reference_year);
    if (!fields) return fields.error();
    d.kind = Kind::kGs1;
    d.format = "GS1";
    if (auto s = settle_fields(d, std::move(fields).value()); !s) return s.error();
    return d;
  }
  if (has_gs)
    return Error{"GS separator at position " + position(base + d.data.find(kGs)) +
                 " in a symbol that is not GS1 (" + d.symbology + ")"};
  if (d.symbology.size() == 3 && d.symbology[1] == 'E') {
    if (auto s = decode_ean_upc(d, d.symbology[2]); !s) return s.error();
    return d;
  }
  if (gtin::is_gtin_length(d.data)) {
    if (auto s = set_plain_gtin(d, d.data, plain_format(d.data.size())); !s) return s.error();
    return d;
  }
  d.kind = Kind::kInternal;
  d.format = "internal";
  return d;
}

}  // namespace depot::barcode
