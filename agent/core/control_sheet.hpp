// The printable control sheet: every operator control code (core/control_code.hpp) drawn as a
// Code 128 barcode (core/code128.hpp) with its label, laid out on an A4 page as SVG, for
// `depot-agent control-sheet`. Pure: returns the SVG text; the caller writes it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/control_code.hpp"
#include "core/error.hpp"

namespace depot {

// The sheet in SVG (millimetre units, A4 width, two columns; taller than A4 only when there
// are more than 22 codes). Bars are 0.4 mm per module, 12 mm tall, with the 10-module quiet
// zone on each side. `title` is printed at the top. Errors: a code that is not valid (e.g. a
// quantity of 0), which would print a barcode the agent then refuses.
Expected<std::string> control_sheet_svg(const std::vector<ControlCode>& codes,
                                        std::string_view title);

}  // namespace depot
