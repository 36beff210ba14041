// The audit report as one self-contained HTML file: inline CSS (with a print stylesheet) and
// inline SVG charts, no scripts, no external assets, so it can be mailed, archived and printed
// as it is. Every text from outside (zone and probe ids, names, comments) is escaped. All
// times are UTC, ISO 8601, and the report says so. Pure: the model in, the text out.
#pragma once

#include <string>
#include <string_view>

#include "core/coldchain/report.hpp"

namespace depot::coldchain {

// `&`, `<`, `>`, `"` and `'` as character references.
std::string html_escape(std::string_view text);

// A temperature for a report: two decimals ("7.50", "-18.25"), "-" for none.
std::string report_celsius(const std::optional<double>& c);

// `generator` names the program ("depot-agent 1.4.0") in the report's footer.
std::string render_report_html(const ReportModel& m, std::string_view generator);

}  // namespace depot::coldchain
