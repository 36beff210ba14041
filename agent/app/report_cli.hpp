// `depot-agent report` (a zone's audit report as one HTML file) and `depot-agent readings`
// (a zone's raw readings as CSV). docs/coldchain.md, "Report for an auditor". Both read the
// database read-only, so they run beside the daemon.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/cli_kit.hpp"
#include "core/config.hpp"
#include "core/error.hpp"

namespace depot::app {

// report, readings.
const std::vector<CliCommand>& report_commands();

// Zone `zone`'s cold-chain audit report for [from_ms, to_ms) as one self-contained HTML page
// (docs/coldchain.md, "Audit report"): the CLI's `report` writes it to a file, the console
// serves it (GET /api/report). Reads only; the readings are streamed, never all in memory.
// The longest period a report covers: one year and a leap day.
inline constexpr std::int64_t kMaxReportPeriodMs = 366LL * 86'400'000;
struct ZoneReport {
  std::string html;
  std::int64_t readings = 0;  // temperature readings in the period
  std::size_t alarms = 0;     // alarmed excursions in it
};
Expected<ZoneReport> build_zone_report(store::Database& db, const Config& cfg,
                                       const coldchain::Zone& zone, std::int64_t from_ms,
                                       std::int64_t to_ms, std::int64_t now_ms);

// The usage lines of these commands, for the CLI's help text.
extern const char* const kReportUsage;

}  // namespace depot::app
