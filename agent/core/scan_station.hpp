// One scanner's station: what each raw scan from it means, given the scanner's role and the
// operator's control codes. The role gives the default movement kind (receive at the dock,
// pick at the pack station, ...); a MODE control code changes it until CLEAR; a QTY control
// code sets the quantity of the next item scan only; an ORDER code makes the following picks
// picks for that customer order (until CLEAR, another ORDER or a mode other than pick); UNDO
// reverses the station's last movement; the same data again within the double-read window is
// one scan.
// Pure: times are passed in; the caller posts what the station decides and reports back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/catalog.hpp"
#include "core/movement.hpp"
#include "core/scan.hpp"

namespace depot {

// What to do with one scan.
struct ScanPost {  // record a movement (the caller adds id and times)
  MovementKind kind;
  ResolvedScan item;
  std::optional<std::string> order_id;  // a pick for this order (DA:ORDER)
};
struct ScanUndo {  // post a movement compensating `movement_id`
  std::string movement_id;
};
struct ScanControl {  // a control code changed the station: say what, record nothing
  std::string message;
};
struct ScanReject {  // record in the rejects table; stock unchanged
  std::string reason;
};
using ScanDecision = std::variant<ScanPost, ScanUndo, ScanControl, ScanReject>;

class ScanStation {
 public:
  ScanStation(MovementKind role, std::int64_t double_read_ms)
      : role_(role), mode_(role), double_read_ns_(double_read_ms * 1'000'000) {}

  // Decides what `data`, read at monotonic time `mono_ns`, means.
  ScanDecision on_scan(const Catalog& catalog, std::string_view data, std::int64_t mono_ns,
                       int reference_year);
  // The movement the last ScanPost became (for UNDO); call once it is recorded.
  void recorded(std::string movement_id) { last_movement_ = std::move(movement_id); }

  MovementKind mode() const { return mode_; }
  std::optional<std::int64_t> pending_quantity() const { return quantity_; }
  const std::optional<std::string>& order() const { return order_; }

 private:
  MovementKind role_;
  MovementKind mode_;
  std::int64_t double_read_ns_;
  std::optional<std::int64_t> quantity_;
  std::optional<std::string> order_;
  std::optional<std::string> last_movement_;
  std::string last_data_;
  std::int64_t last_mono_ns_ = 0;
  bool has_last_ = false;
};

// Bytes as printable text: printable ASCII as is, backslash as "\\", everything else as
// "\xHH" (GS becomes "\x1d", which `depot-agent decode` accepts back).
std::string escape_bytes(std::string_view raw);

}  // namespace depot
