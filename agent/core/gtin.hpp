// GS1 identification keys: the mod-10 check digit shared by GTIN-8/12/13/14, SSCC and GLN,
// and the normalisation of a GTIN to its 14-digit form (the key the catalog indexes by, so
// that EAN-13 4006381333931, UPC-A and (01)04006381333931 all name the same item).
// Pure functions; no I/O.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace depot::gtin {

// True when every character is an ASCII digit (and there is at least one).
bool all_digits(std::string_view s);

// The GS1 check digit (0-9) for `body`, the digits without their check digit.
// REQUIRES: all_digits(body).
int check_digit(std::string_view body);

// True when the last digit of `digits` is the correct GS1 check digit for the others.
bool check_digit_ok(std::string_view digits);

// True for a string of 8, 12, 13 or 14 digits: the lengths of GTIN-8/12/13/14.
bool is_gtin_length(std::string_view s);

// The 14-digit form of a GTIN-8/12/13/14 (left-padded with zeros), or nullopt when `s` is
// not a GTIN length or its check digit is wrong.
std::optional<std::string> to_gtin14(std::string_view s);

}  // namespace depot::gtin
