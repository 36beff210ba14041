// libFuzzer target for data-logger CSV files (`coldchain --csv`): parse_logger_csv, then
// evaluate_logger on a freezer zone. Properties: never crashes; rows go forward in time and
// carry finite temperatures; each problem names a line of the file and a UTF-8 reason; the
// events grow with the rows, not with the time they span (a 40-year gap once made 700,000).
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "core/coldchain/logger_csv.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace depot;
  using namespace depot::coldchain;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = parse_logger_csv(text);
  std::int64_t last = INT64_MIN;
  for (const auto& row : file.rows) {
    fuzz::require(std::isfinite(row.celsius), "row with a non-finite temperature", text);
    fuzz::require(row.unix_ms > last, "rows do not go forward in time", text);
    last = row.unix_ms;
  }
  for (const auto& p : file.problems) {
    fuzz::require(p.line >= 1, "problem without a line number", text);
    fuzz::require_message(p.reason, text);
  }
  Zone freezer{.id = "freezer", .max_c = -18.0, .alarm_delay_s = 600};
  auto e = evaluate_logger(file, freezer, ProbeCheck{}, 3600);
  if (e.mkt_c) fuzz::require(std::isfinite(*e.mkt_c), "MKT is not finite", text);
  // A gap of years between two rows is one reminder, not one per repeat period.
  // Per row at most 64 repeats are stamped one by one for each repeating alarm (two sides and
  // the probe), plus the row's own few events.
  fuzz::require(e.events.size() <= 256 * (file.rows.size() + 1), "events grow with time, not rows",
                text);
  return 0;
}
