#include "core/control_sheet.hpp"

#include <algorithm>
#include <cstdio>

#include "core/code128.hpp"

namespace depot {
namespace {

constexpr double kModule = 0.4;    // mm per module (X dimension)
constexpr double kBarHeight = 12;  // mm
constexpr double kMargin = 10, kHeader = 18, kCellWidth = 95, kCellHeight = 24;
constexpr double kPageWidth = 210, kA4Height = 297;

std::string mm(double v) { return code128::svg_number(v); }

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string text(double x, double y, double size, bool bold, std::string_view s) {
  return "<text x=\"" + mm(x) + "\" y=\"" + mm(y) + "\" font-size=\"" + mm(size) + "\"" +
         (bold ? " font-weight=\"bold\"" : "") + ">" + xml_escape(s) + "</text>\n";
}

}  // namespace

Expected<std::string> control_sheet_svg(const std::vector<ControlCode>& codes,
                                        std::string_view title) {
  const std::size_t rows = (codes.size() + 1) / 2;
  const double height =
      std::max(kA4Height, kMargin + kHeader + static_cast<double>(rows) * kCellHeight + kMargin);
  std::string body;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    const auto data = control_text(codes[i]);
    auto parsed = parse_control(data);
    if (!parsed || !*parsed || **parsed != codes[i])
      return Error{"control code \"" + data + "\" is not valid" +
                   (parsed && !*parsed ? ": " + parsed->error().message : "")};
    auto symbol = code128::encode_b(data);
    if (!symbol) return symbol.error();
    const double x = kMargin + static_cast<double>(i % 2) * (kCellWidth + 5);
    const double y = kMargin + kHeader + static_cast<double>(i / 2) * kCellHeight;
    const double bars_x = x + code128::kQuietZone * kModule;
    body += "<g>\n" + text(bars_x, y + 5, 4.5, true, control_label(codes[i]));
    body += code128::svg_bars(*symbol, bars_x, y + 7, kModule, kBarHeight) + "\n";
    body += text(bars_x, y + 7 + kBarHeight + 3.5, 2.8, false, data) + "</g>\n";
  }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
         mm(kPageWidth) + "mm\" height=\"" + mm(height) + "mm\" viewBox=\"0 0 " + mm(kPageWidth) +
         " " + mm(height) +
         "\" font-family=\"DejaVu Sans, Arial, sans-serif\">\n"
         "<rect x=\"0\" y=\"0\" width=\"" +
         mm(kPageWidth) + "\" height=\"" + mm(height) + "\" fill=\"#fff\"/>\n" +
         text(kMargin, kMargin + 6, 6, true, title) +
         text(kMargin, kMargin + 12, 3, false,
              "Scan a code to change what the next scans mean. Print at 100% scale.") +
         body + "</svg>\n";
}

}  // namespace depot
