// Evaluating a data-logger export: the CSV a standalone logger (in a reefer, a shipping box, a
// fridge without a networked probe) writes, judged by the same zone rules as live probes.
//
// Format: one reading per line, two columns "timestamp, °C"; comma- or semicolon-separated
// (decided by the first non-blank line: ';' if it has one); fields may be double-quoted; the
// decimal separator is a point. The first non-blank line is a header when it is not a
// reading. Timestamps: RFC 3339 ("2026-07-01T08:00:00Z", "...+02:00") or
// "YYYY-MM-DD HH:MM[:SS]" (a 'T' may stand for the space) taken as UTC. Blank lines are
// skipped. A bad line is reported with its number and reason and skipped; it never stops the
// file. Readings must go forward in time: one that does not is a bad line.
// Pure: the caller reads the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/coldchain/excursion.hpp"
#include "core/coldchain/zone.hpp"
#include "core/coldchain/zone_monitor.hpp"

namespace depot::coldchain {

struct LoggerRow {
  int line = 0;  // 1-based line number in the file
  std::int64_t unix_ms = 0;
  double celsius = 0.0;
};

struct LoggerProblem {
  int line = 0;
  std::string reason;
};

struct LoggerFile {
  std::vector<LoggerRow> rows;
  std::vector<LoggerProblem> problems;
  bool has_header = false;
  char separator = ',';
};

// Parses a logger export; never fails as a whole (an empty file has no rows).
LoggerFile parse_logger_csv(std::string_view text);

struct LoggerEvaluation {
  std::vector<Excursion> excursions;  // in start order; the last may be open (end unset)
  std::vector<Event> events;          // what a live ZoneMonitor would have raised
  std::optional<double> mkt_c;        // MKT over the file
  double covered_s = 0.0;             // seconds of temperature the MKT stands on
  std::vector<LoggerProblem> dropped;  // rows `check` refused (outside the plausible range)
};

// The plausible range for a logger file judged against `zone`: a standalone logger is not a
// DS18B20, so its range is not -55…125 but the zone's limits widened by 60 °C, and at least
// -100…100 °C (an ultra-low freezer at -90…-60 °C keeps a -56 °C reading; a 150 °C glitch in a
// 2–8 °C fridge's file is still dropped, and reported).
ProbeCheck logger_check(const Zone& zone);

// Runs `file` through `zone`'s rules as one probe ("logger") whose readings go through
// `check` (calibration offset, plausible range). Monotonic time is the logger's own time
// line (its timestamps). A gap of `max_gap_s` or more between two readings takes the probe
// offline (`probe_offline` and a `probe_failure` alarm, as a live probe; nothing ends across
// the gap, and the first reading after it only brings the probe back) and is left out of the
// MKT. Every row `check` refuses is listed in `dropped` with its line and reason.
// MKT weights: each reading stands until the next one, at most `max_gap_s`; the last one for
// the interval before it (the logger's cadence), so n equally spaced readings weigh equally.
LoggerEvaluation evaluate_logger(const LoggerFile& file, const Zone& zone, const ProbeCheck& check,
                                 std::int64_t max_gap_s);

}  // namespace depot::coldchain
