// `depot-agent run`: the long-running agent. Opens (and if need be rescues) the database,
// applies the catalog, and runs the event loop until SIGINT/SIGTERM. SIGHUP re-reads the
// config: a valid one is applied, an invalid one is refused with its problems logged.
// All agent state lives on the loop's one thread.
#pragma once

#include "app/config_file.hpp"

namespace depot::app {

// Returns the process exit code.
int run_daemon(LoadedConfig loaded);

}  // namespace depot::app
