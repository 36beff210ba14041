#include "core/control_code.hpp"

#include "core/barcode.hpp"
#include "core/orders.hpp"

namespace depot {
namespace {

char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

std::string to_upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = upper(c);
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (upper(s[i]) != prefix[i]) return false;
  return true;
}

struct ModeName {
  std::string_view name;
  MovementKind kind;
};
constexpr ModeName kModes[] = {{"PICK", MovementKind::kPick},
                               {"RECEIVE", MovementKind::kReceive},
                               {"RETURN", MovementKind::kReturn},
                               {"COUNT", MovementKind::kCount}};

std::string_view mode_name(MovementKind kind) {
  for (const auto& m : kModes)
    if (m.kind == kind) return m.name;
  return "PICK";
}

}  // namespace

std::optional<Expected<ControlCode>> parse_control(std::string_view scan) {
  std::string_view text = scan;
  // An AIM symbology identifier: a GS1 one means GS1 data (never a control code); any other
  // ("]C0" for plain Code 128) is dropped.
  if (text.size() >= 3 && text[0] == ']') {
    if (barcode::is_gs1_symbology(text.substr(0, 3))) return std::nullopt;
    text.remove_prefix(3);
  }
  if (!starts_with_ci(text, kControlPrefix)) return std::nullopt;
  auto fail = [&](const std::string& why) -> std::optional<Expected<ControlCode>> {
    return Expected<ControlCode>(
        Error{"control code \"" + barcode::printable(text) + "\": " + why});
  };
  const std::string rest = to_upper(text.substr(kControlPrefix.size()));
  ControlCode code;
  if (rest.starts_with("ORDER:")) {
    // The order id is the platform's, case and all.
    const auto id = text.substr(kControlPrefix.size() + 6);
    if (auto why = orders::order_id_problem(id); !why.empty()) return fail("order id " + why);
    code.action = ControlAction::kOrder;
    code.order = std::string(id);
  } else if (rest == "UNDO") {
    code.action = ControlAction::kUndo;
  } else if (rest == "CLEAR") {
    code.action = ControlAction::kClear;
  } else if (rest.starts_with("MODE:")) {
    const std::string_view name = std::string_view(rest).substr(5);
    bool found = false;
    for (const auto& m : kModes)
      if (m.name == name) {
        code.action = ControlAction::kMode;
        code.mode = m.kind;
        found = true;
      }
    if (!found) return fail("mode must be PICK, RECEIVE, RETURN or COUNT");
  } else if (rest.starts_with("QTY:")) {
    const std::string_view n = std::string_view(rest).substr(4);
    bool digits = !n.empty() && n.size() <= 4;
    for (char c : n) digits = digits && c >= '0' && c <= '9';
    if (!digits || n[0] == '0')
      return fail("quantity must be 1-" + std::to_string(kMaxControlQuantity) +
                  ", written without sign or leading zeros");
    code.action = ControlAction::kQuantity;
    for (char c : n) code.quantity = code.quantity * 10 + (c - '0');
  } else {
    return fail("unknown command (known: MODE:<kind>, QTY:<n>, ORDER:<id>, UNDO, CLEAR)");
  }
  return Expected<ControlCode>(code);
}

std::string control_text(const ControlCode& code) {
  std::string s(kControlPrefix);
  switch (code.action) {
    case ControlAction::kMode:
      return s + "MODE:" + std::string(mode_name(code.mode));
    case ControlAction::kQuantity:
      return s + "QTY:" + std::to_string(code.quantity);
    case ControlAction::kUndo:
      return s + "UNDO";
    case ControlAction::kClear:
      return s + "CLEAR";
    case ControlAction::kOrder:
      return s + "ORDER:" + code.order;
  }
  return s + "CLEAR";
}

std::string control_label(const ControlCode& code) {
  switch (code.action) {
    case ControlAction::kMode:
      return std::string(mode_name(code.mode));
    case ControlAction::kQuantity:
      return "QTY " + std::to_string(code.quantity);
    case ControlAction::kUndo:
      return "UNDO";
    case ControlAction::kClear:
      return "CLEAR";
    case ControlAction::kOrder:
      return "ORDER " + code.order;
  }
  return "CLEAR";
}

std::vector<ControlCode> standard_control_codes() {
  std::vector<ControlCode> codes;
  for (const auto& m : kModes) codes.push_back({ControlAction::kMode, m.kind, 0, {}});
  for (std::int64_t q : {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 24, 50, 100})
    codes.push_back({ControlAction::kQuantity, MovementKind::kPick, q, {}});
  codes.push_back({ControlAction::kUndo, MovementKind::kPick, 0, {}});
  codes.push_back({ControlAction::kClear, MovementKind::kPick, 0, {}});
  return codes;
}

}  // namespace depot
