// Operator control barcodes: codes printed on a sheet at the packing bench that change what the
// next scans mean (switch to receiving, set a quantity, undo, clear) instead of naming an item.
// Format: "DA:" then a command, in printable ASCII so that it prints as Code 128 set B:
//   DA:MODE:PICK | DA:MODE:RECEIVE | DA:MODE:RETURN | DA:MODE:COUNT
//   DA:QTY:<1..9999>   (no sign, no leading zeros)
//   DA:UNDO            DA:CLEAR
//   DA:ORDER:<order id>  (printed on a pick list: the following picks are for that order;
//                         the id is kept as written, 1-64 printable ASCII characters)
// "DA:" cannot collide with scan data: GS1 element strings start with digits (or GS), their
// human-readable form with "(", EAN/UPC are digits only, and the config refuses catalog
// barcodes that start with "DA:". Letters are matched case-insensitively (some scanners
// invert case); the canonical text is upper case. Pure; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/movement.hpp"

namespace depot {

inline constexpr std::string_view kControlPrefix = "DA:";

enum class ControlAction {
  kMode,      // what the following scans record: pick, receive, return or count
  kQuantity,  // how many the next item scan stands for
  kUndo,      // reverse the last recorded scan
  kClear,     // drop a pending quantity, mode or order and return to the default
  kOrder,     // the following picks are for this customer order (until CLEAR or another)
};

struct ControlCode {
  ControlAction action = ControlAction::kClear;
  MovementKind mode = MovementKind::kPick;  // kMode only: kPick, kReceive, kReturn or kCount
  std::int64_t quantity = 0;                // kQuantity only: 1..9999
  std::string order;                        // kOrder only: the order id, as written
  bool operator==(const ControlCode&) const = default;
};

inline constexpr std::int64_t kMaxControlQuantity = 9999;

// nullopt: `scan` is not a control code (scan it as an item). An Error: it starts with "DA:"
// (after an optional non-GS1 AIM symbology identifier such as "]C0") but is not a valid
// control code, e.g. `control code "DA:QTY:0": quantity must be 1-9999`.
std::optional<Expected<ControlCode>> parse_control(std::string_view scan);

// The canonical text of `code`: "DA:MODE:RECEIVE", "DA:QTY:12", "DA:UNDO".
// REQUIRES: `code` is valid (a mode of pick/receive/return/count, a quantity in 1..9999).
std::string control_text(const ControlCode& code);

// A label for people: "RECEIVE", "QTY 12", "UNDO".
std::string control_label(const ControlCode& code);

// The codes of the printed control sheet: the four modes, quantities 1-10, 12, 24, 50 and
// 100, undo and clear.
std::vector<ControlCode> standard_control_codes();

}  // namespace depot
