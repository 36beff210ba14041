// The cold-chain commands of the CLI: zones, alarms (and alarms ack), holds (and release,
// writeoff), audit (and audit verify), coldchain (a data-logger file against a zone).
// docs/cli.md documents each. Runs in the CLI process, never in the daemon.
#pragma once

#include <vector>

#include "app/cli_kit.hpp"

namespace depot::app {

// Runs `cmd` when it is one of the cold-chain commands; nullopt otherwise. Exit codes as the
// rest of the CLI: 0 ok, 1 failure, 2 bad input.
// zones, alarms, holds, audit, coldchain.
const std::vector<CliCommand>& coldchain_commands();

// The usage lines of these commands, for the CLI's help text.
extern const char* const kColdChainUsage;

}  // namespace depot::app
