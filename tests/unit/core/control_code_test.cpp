#include "core/control_code.hpp"

#include <gtest/gtest.h>

#include <set>

#include "core/barcode.hpp"

namespace depot {
namespace {

ControlCode parsed(std::string_view s) {
  auto r = parse_control(s);
  EXPECT_TRUE(r.has_value()) << s << " was not recognised as a control code";
  if (!r) return {};
  EXPECT_TRUE(r->ok()) << s << ": " << (r->ok() ? "" : r->error().message);
  return r->ok() ? **r : ControlCode{};
}

std::string refused(std::string_view s) {
  auto r = parse_control(s);
  EXPECT_TRUE(r.has_value()) << s << " was not recognised as a control code";
  if (!r) return "";
  EXPECT_FALSE(r->ok()) << s << " was accepted";
  return r->ok() ? "" : r->error().message;
}

TEST(ControlCode, ParsesEveryCommand) {
  EXPECT_EQ(parsed("DA:MODE:PICK"), (ControlCode{ControlAction::kMode, MovementKind::kPick, 0}));
  EXPECT_EQ(parsed("DA:MODE:RECEIVE").mode, MovementKind::kReceive);
  EXPECT_EQ(parsed("DA:MODE:RETURN").mode, MovementKind::kReturn);
  EXPECT_EQ(parsed("DA:MODE:COUNT").mode, MovementKind::kCount);
  EXPECT_EQ(parsed("DA:QTY:1"), (ControlCode{ControlAction::kQuantity, MovementKind::kPick, 1}));
  EXPECT_EQ(parsed("DA:QTY:9999").quantity, 9999);
  EXPECT_EQ(parsed("DA:QTY:250").quantity, 250);
  EXPECT_EQ(parsed("DA:UNDO").action, ControlAction::kUndo);
  EXPECT_EQ(parsed("DA:CLEAR").action, ControlAction::kClear);
}

TEST(ControlCode, AcceptsAPlainSymbologyIdentifierAndAnyCase) {
  EXPECT_EQ(parsed("]C0DA:QTY:12").quantity, 12);
  EXPECT_EQ(parsed("]Q1DA:UNDO").action, ControlAction::kUndo);
  EXPECT_EQ(parsed("da:mode:receive").mode, MovementKind::kReceive);
  EXPECT_EQ(parsed("Da:Qty:7").quantity, 7);
}

TEST(ControlCode, ScanDataIsNotAControlCode) {
  for (std::string_view s :
       {"4006381333931", "]C10104006381333931", "(01)04006381333931", "INT-VC-001", "DA",
        "DA-QTY:1", "D:QTY:1", "]C1DA:QTY:1", "]d2DA:UNDO", "", "XDA:UNDO"})
    EXPECT_FALSE(parse_control(s).has_value()) << s;
}

TEST(ControlCode, LooksLikeOneButInvalidIsAnError) {
  EXPECT_EQ(refused("DA:QTY:0"),
            "control code \"DA:QTY:0\": quantity must be 1-9999, written without sign or leading "
            "zeros");
  EXPECT_EQ(refused("DA:QTY:10000"),
            "control code \"DA:QTY:10000\": quantity must be 1-9999, written without sign or "
            "leading zeros");
  for (std::string_view s : {"DA:QTY:", "DA:QTY:-1", "DA:QTY:+1", "DA:QTY:007", "DA:QTY:1.5",
                             "DA:QTY:12 ", "DA:QTY:1\r"})
    EXPECT_NE(refused(s).find("quantity must be 1-9999"), std::string::npos) << s;
  EXPECT_EQ(refused("DA:MODE:SHIP"),
            "control code \"DA:MODE:SHIP\": mode must be PICK, RECEIVE, RETURN or COUNT");
  EXPECT_EQ(refused("DA:MODE:"),
            "control code \"DA:MODE:\": mode must be PICK, RECEIVE, RETURN or COUNT");
  EXPECT_EQ(refused("DA:"),
            "control code \"DA:\": unknown command (known: MODE:<kind>, QTY:<n>, ORDER:<id>, UNDO, CLEAR)");
  EXPECT_EQ(refused("DA:UNDO:2"),
            "control code \"DA:UNDO:2\": unknown command (known: MODE:<kind>, QTY:<n>, ORDER:<id>, UNDO, "
            "CLEAR)");
  EXPECT_EQ(refused("DA:UNDO\x1d"),
            "control code \"DA:UNDO\\x1d\": unknown command (known: MODE:<kind>, QTY:<n>, ORDER:<id>, UNDO, "
            "CLEAR)");
}

TEST(ControlCode, CanonicalTextRoundTripsForTheWholeSheet) {
  const auto codes = standard_control_codes();
  EXPECT_EQ(codes.size(), 20u);
  std::set<std::string> texts;
  for (const auto& code : codes) {
    const auto text = control_text(code);
    texts.insert(text);
    EXPECT_EQ(parsed(text), code) << text;
    // A control code never decodes as an item barcode: it is an internal code at most,
    // and the config refuses catalog barcodes starting with "DA:".
    auto d = barcode::decode(text, 2026);
    ASSERT_TRUE(d.ok()) << text;
    EXPECT_EQ(d->kind, barcode::Kind::kInternal) << text;
  }
  EXPECT_EQ(texts.size(), codes.size());
  // An order code keeps the order id as written (ids are case-sensitive), the prefix not.
  auto order = parsed("da:order:Tt-42");
  EXPECT_EQ(order.action, ControlAction::kOrder);
  EXPECT_EQ(order.order, "Tt-42");
  EXPECT_EQ(control_text(order), "DA:ORDER:Tt-42");
  EXPECT_EQ(control_label(order), "ORDER Tt-42");
  EXPECT_EQ(control_text({ControlAction::kMode, MovementKind::kReceive, 0}), "DA:MODE:RECEIVE");
  EXPECT_EQ(control_text({ControlAction::kQuantity, MovementKind::kPick, 24}), "DA:QTY:24");
  EXPECT_EQ(control_label({ControlAction::kQuantity, MovementKind::kPick, 24}), "QTY 24");
  EXPECT_EQ(control_label({ControlAction::kMode, MovementKind::kCount, 0}), "COUNT");
}

}  // namespace
}  // namespace depot
