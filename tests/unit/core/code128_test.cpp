// Code 128 set B against published values: the ISO/IEC 15417 patterns of the start, stop and
// sample characters (as 1 = bar module, 0 = space module), and the worked check character
// example "abcdef" (104 + 65x1 + 66x2 + ... + 70x6 = 1539, 1539 mod 103 = 97). The whole
// table was also checked by rendering symbols and reading them back with zbarimg.
#include "core/code128.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/control_sheet.hpp"

namespace depot::code128 {
namespace {

std::string bits(std::string_view widths) {
  std::string s;
  bool bar = true;
  for (char w : widths) {
    s.append(static_cast<std::size_t>(w - '0'), bar ? '1' : '0');
    bar = !bar;
  }
  return s;
}

std::string bits(const std::vector<int>& widths) {
  std::string w;
  for (int x : widths) w += static_cast<char>('0' + x);
  return bits(w);
}

TEST(Code128, PublishedPatterns) {
  EXPECT_EQ(bits(pattern(kStartB)), "11010010000");
  EXPECT_EQ(bits(pattern(kStop)), "1100011101011");  // stop and its termination bar
  EXPECT_EQ(bits(pattern(0)), "11011001100");        // space
  EXPECT_EQ(bits(pattern('A' - 32)), "10100011000");
  EXPECT_EQ(bits(pattern('0' - 32)), "10011101100");
  EXPECT_EQ(pattern(107), "");
  EXPECT_EQ(pattern(-1), "");
}

TEST(Code128, EveryPatternIsWellFormedAndDistinct) {
  std::set<std::string_view> seen;
  for (int v = 0; v <= kStop; ++v) {
    auto p = pattern(v);
    int modules = 0, bar_modules = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      const int w = p[i] - '0';
      EXPECT_GE(w, 1);
      EXPECT_LE(w, 4);
      modules += w;
      if (i % 2 == 0) bar_modules += w;
    }
    EXPECT_EQ(modules, v == kStop ? 13 : 11) << v;
    EXPECT_EQ(bar_modules % 2, 0) << v;  // even parity of bar modules
    EXPECT_TRUE(seen.insert(p).second) << v << " repeats " << p;
  }
}

TEST(Code128, WorkedCheckCharacterExample) {
  auto s = encode_b("abcdef");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->check, 97);
  EXPECT_EQ(s->values, (std::vector<int>{104, 65, 66, 67, 68, 69, 70, 97, 106}));
  EXPECT_EQ(s->modules(), 11 * 9 + 2);
  std::string expected;
  for (int v : s->values) expected += bits(pattern(v));
  EXPECT_EQ(bits(s->widths), expected);
  EXPECT_TRUE(bits(s->widths).starts_with("11010010000"));
  EXPECT_TRUE(bits(s->widths).ends_with("1100011101011"));
}

TEST(Code128, ControlCodeSymbol) {
  // "DA:QTY:5": 104 + 36x1 + 33x2 + 26x3 + 49x4 + 52x5 + 57x6 + 26x7 + 21x8 = 1432; mod 103 = 93.
  auto s = encode_b("DA:QTY:5");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->check, 93);
  EXPECT_EQ(s->modules(), 11 * 11 + 2);
  EXPECT_EQ(s->widths.size(), 6u * 10 + 7);
}

TEST(Code128, RefusesWhatSetBCannotCarry) {
  EXPECT_EQ(encode_b("").error().message, "Code 128: nothing to encode");
  EXPECT_EQ(encode_b("AB\tC").error().message,
            "Code 128 set B: character 0x09 at position 3 is not printable ASCII");
  EXPECT_EQ(encode_b("caf\xc3\xa9").error().message,
            "Code 128 set B: character 0xc3 at position 4 is not printable ASCII");
}

TEST(Code128, SvgBarsDrawOneRectPerBar) {
  auto s = encode_b("DA:UNDO");
  ASSERT_TRUE(s.ok());
  auto svg = svg_bars(*s, 4, 7, 0.5, 12);
  std::size_t rects = 0;
  for (auto at = svg.find("<rect"); at != std::string::npos; at = svg.find("<rect", at + 1))
    ++rects;
  EXPECT_EQ(rects, 3u * (7 + 2) + 4);  // 3 bars per character, 4 in the stop pattern
  EXPECT_TRUE(
      svg.starts_with("<rect x=\"4\" y=\"7\" width=\"1\" height=\"12\"/>"));  // 2-module bar
}

TEST(ControlSheet, DrawsEveryCodeWithItsLabel) {
  const auto codes = standard_control_codes();
  auto svg = control_sheet_svg(codes, "Dock 7 <control codes>");
  ASSERT_TRUE(svg.ok()) << svg.error().message;
  EXPECT_TRUE(svg->starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg "));
  EXPECT_TRUE(svg->ends_with("</svg>\n"));
  EXPECT_NE(svg->find("width=\"210mm\" height=\"297mm\""), std::string::npos);
  EXPECT_NE(svg->find(">Dock 7 &lt;control codes&gt;</text>"), std::string::npos);
  for (const auto& code : codes) {
    EXPECT_NE(svg->find(">" + control_text(code) + "</text>"), std::string::npos);
    EXPECT_NE(svg->find(">" + control_label(code) + "</text>"), std::string::npos);
  }
  std::size_t groups = 0;
  for (auto at = svg->find("<g>"); at != std::string::npos; at = svg->find("<g>", at + 1)) ++groups;
  EXPECT_EQ(groups, codes.size());
}

TEST(ControlSheet, RefusesAnInvalidCode) {
  auto svg = control_sheet_svg({{ControlAction::kQuantity, MovementKind::kPick, 0}}, "x");
  ASSERT_FALSE(svg.ok());
  EXPECT_EQ(svg.error().message,
            "control code \"DA:QTY:0\" is not valid: control code \"DA:QTY:0\": quantity must be "
            "1-9999, written without sign or leading zeros");
  EXPECT_FALSE(control_sheet_svg({{ControlAction::kMode, MovementKind::kHold, 0}}, "x").ok());
}

}  // namespace
}  // namespace depot::code128
