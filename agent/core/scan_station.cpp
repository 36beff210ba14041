#include "core/scan_station.hpp"

#include <cstdio>

#include "core/control_code.hpp"

namespace depot {

ScanDecision ScanStation::on_scan(const Catalog& catalog, std::string_view data,
                                  std::int64_t mono_ns, int reference_year) {
  // Double reads: the same bytes from this scanner inside the window are one scan.
  if (has_last_ && double_read_ns_ > 0 && data == last_data_ &&
      mono_ns - last_mono_ns_ < double_read_ns_) {
    const auto ms = (mono_ns - last_mono_ns_) / 1'000'000;
    last_mono_ns_ = mono_ns;  // a scanner firing continuously stays one scan
    return ScanReject{"double read: the same data " + std::to_string(ms) +
                      " ms after the previous scan (double_read_ms " +
                      std::to_string(double_read_ns_ / 1'000'000) + ")"};
  }
  has_last_ = true;
  last_data_ = std::string(data);
  last_mono_ns_ = mono_ns;

  if (auto control = parse_control(data)) {
    if (!*control) return ScanReject{control->error().message};
    const auto& cc = control->value();
    switch (cc.action) {
      case ControlAction::kMode:
        mode_ = cc.mode;
        quantity_.reset();
        if (mode_ != MovementKind::kPick) order_.reset();
        return ScanControl{"mode " + std::string(to_string(mode_))};
      case ControlAction::kQuantity:
        quantity_ = cc.quantity;
        return ScanControl{"quantity " + std::to_string(cc.quantity) + " for the next scan"};
      case ControlAction::kClear:
        mode_ = role_;
        quantity_.reset();
        order_.reset();
        return ScanControl{"cleared: mode " + std::string(to_string(mode_))};
      case ControlAction::kOrder:
        if (mode_ != MovementKind::kPick)
          return ScanReject{"ORDER " + cc.order + ": an order goes with picks, and this scanner is in " +
                            std::string(to_string(mode_)) + " mode (scan DA:MODE:PICK first)"};
        order_ = cc.order;
        return ScanControl{"picks for order " + cc.order};
      case ControlAction::kUndo: {
        if (!last_movement_) return ScanReject{"UNDO: nothing to undo at this scanner"};
        auto id = std::move(*last_movement_);
        last_movement_.reset();
        return ScanUndo{std::move(id)};
      }
    }
  }

  if (mode_ == MovementKind::kCount && !quantity_)
    return ScanReject{"count mode needs the counted quantity: scan a QTY code before the item"};
  ScanIntent intent;
  intent.code = std::string(data);
  intent.kind = mode_;
  intent.count = quantity_.value_or(1);
  intent.reference_year = reference_year;
  auto resolved = resolve_scan(catalog, intent);
  quantity_.reset();  // a QTY code applies to the next item scan only, accepted or not
  if (!resolved) return ScanReject{resolved.error().message};
  return ScanPost{mode_, std::move(*resolved), mode_ == MovementKind::kPick ? order_ : std::nullopt};
}

std::string escape_bytes(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (unsigned char c : raw) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace depot
