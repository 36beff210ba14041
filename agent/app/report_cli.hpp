// `depot-agent report` (a zone's audit report as one HTML file) and `depot-agent readings`
// (a zone's raw readings as CSV). docs/coldchain.md, "Report for an auditor". Both read the
// database read-only, so they run beside the daemon. Runs in the CLI process only.
#pragma once

#include <optional>
#include <ostream>
#include <string_view>

namespace depot::app {

// Runs `cmd` when it is `report` or `readings`; nullopt otherwise. Exit codes: 0 ok,
// 1 failure, 2 bad input.
std::optional<int> run_report_cli(std::string_view cmd, int argc, char** argv, std::ostream& out,
                                  std::ostream& err);

// The usage lines of these commands, for the CLI's help text.
extern const char* const kReportUsage;

}  // namespace depot::app
