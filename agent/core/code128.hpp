// Code 128 (ISO/IEC 15417), code set B: printable ASCII to the bar and space widths a printer
// draws, with the start character, the modulo-103 check character and the stop pattern.
// Used to print operator control codes (core/control_sheet.hpp); the agent never needs to
// read Code 128 itself (scanners do that). Pure; no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace depot::code128 {

inline constexpr int kStartB = 104;
inline constexpr int kStop = 106;
inline constexpr int kQuietZone = 10;  // modules of blank space required on each side

// The widths, in modules, of symbol character `value` (0..106), bar first: six digits for
// 0..105 (3 bars and 3 spaces, 11 modules), seven for the stop pattern 106 (with its final
// bar, 13 modules). "" when `value` is out of range.
std::string_view pattern(int value);

struct Symbol {
  std::vector<int> values;  // start B, one value per character (ASCII - 32), check, stop
  int check = 0;            // the modulo-103 check character's value
  std::vector<int> widths;  // element widths in modules: bar, space, bar, ..., ending on a bar
  int modules() const;      // total width without quiet zones: 11 x (characters + 3) + 2
};

// Encodes `text` in code set B. Errors: empty text, or a character outside printable ASCII
// (0x20-0x7e), named with its position.
Expected<Symbol> encode_b(std::string_view text);

// SVG <rect> elements drawing `symbol`'s bars with the left edge of the first bar at `x`,
// `module` wide per module and `height` tall (user units). No quiet zone is added.
std::string svg_bars(const Symbol& symbol, double x, double y, double module, double height);

// A length for SVG attributes: up to 3 decimals, trailing zeros dropped ("2.4", "12").
std::string svg_number(double v);

}  // namespace depot::code128
