#include "core/code128.hpp"

#include <array>
#include <cstdio>

namespace depot::code128 {
namespace {

// ISO/IEC 15417 symbol character widths (bar, space, bar, space, bar, space), value 0..105,
// and the stop pattern (value 106, with its termination bar).
constexpr std::array<std::string_view, 107> kPatterns = {
    "212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312",  "132212",
    "221213", "221312", "231212", "112232", "122132", "122231", "113222", "123122",  "123221",
    "223211", "221132", "221231", "213212", "223112", "312131", "311222", "321122",  "321221",
    "312212", "322112", "322211", "212123", "212321", "232121", "111323", "131123",  "131321",
    "112313", "132113", "132311", "211313", "231113", "231311", "112133", "112331",  "132131",
    "113123", "113321", "133121", "313121", "211331", "231131", "213113", "213311",  "213131",
    "311123", "311321", "331121", "312113", "312311", "332111", "314111", "221411",  "431111",
    "111224", "111422", "121124", "121421", "141122", "141221", "112214", "112412",  "122114",
    "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",  "111242",
    "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211",  "212141",
    "214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113",  "411311",
    "113141", "114131", "311141", "411131", "211412", "211214", "211232", "2331112",
};

}  // namespace

std::string svg_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  std::string s(buf);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string_view pattern(int value) {
  if (value < 0 || value >= static_cast<int>(kPatterns.size())) return "";
  return kPatterns[static_cast<std::size_t>(value)];
}

int Symbol::modules() const {
  int n = 0;
  for (int w : widths) n += w;
  return n;
}

Expected<Symbol> encode_b(std::string_view text) {
  if (text.empty()) return Error{"Code 128: nothing to encode"};
  Symbol s;
  s.values.push_back(kStartB);
  long sum = kStartB;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c > 0x7e) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02x", c);
      return Error{"Code 128 set B: character " + std::string(buf) + " at position " +
                   std::to_string(i + 1) + " is not printable ASCII"};
    }
    const int value = c - 0x20;
    s.values.push_back(value);
    sum += static_cast<long>(value) * static_cast<long>(i + 1);
  }
  s.check = static_cast<int>(sum % 103);
  s.values.push_back(s.check);
  s.values.push_back(kStop);
  for (int v : s.values)
    for (char w : pattern(v)) s.widths.push_back(w - '0');
  return s;
}

std::string svg_bars(const Symbol& symbol, double x, double y, double module, double height) {
  std::string out;
  int at = 0;
  for (std::size_t i = 0; i < symbol.widths.size(); ++i) {
    const int w = symbol.widths[i];
    if (i % 2 == 0)
      out += "<rect x=\"" + svg_number(x + at * module) + "\" y=\"" + svg_number(y) + "\" width=\"" +
             svg_number(w * module) + "\" height=\"" + svg_number(height) + "\"/>";
    at += w;
  }
  return out;
}

}  // namespace depot::code128
