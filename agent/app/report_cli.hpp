// `depot-agent report` (a zone's audit report as one HTML file) and `depot-agent readings`
// (a zone's raw readings as CSV). docs/coldchain.md, "Report for an auditor". Both read the
// database read-only, so they run beside the daemon. Runs in the CLI process only.
#pragma once

#include <vector>

#include "app/cli_kit.hpp"

namespace depot::app {

// Runs `cmd` when it is `report` or `readings`; nullopt otherwise. Exit codes: 0 ok,
// 1 failure, 2 bad input.
// report, readings.
const std::vector<CliCommand>& report_commands();

// The usage lines of these commands, for the CLI's help text.
extern const char* const kReportUsage;

}  // namespace depot::app
