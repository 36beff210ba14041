// The `depot-agent` command line: one binary for the daemon (`run`) and the operator's
// commands. Exit codes: 0 success, 1 a runtime failure (database unreachable, I/O error),
// 2 bad input (usage, invalid config, an invalid movement). docs/cli.md is the reference.
#pragma once

#include <ostream>

namespace depot::app {

int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace depot::app
