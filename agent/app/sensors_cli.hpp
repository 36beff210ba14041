// `depot-agent sensors discover [--w1-root DIR] [--hwmon-root DIR] [--json]`: lists the 1-Wire
// DS18B20 probes (28-*) and hwmon temp*_input files on this machine, with their labels and one
// current reading each, so an operator can write the `sensors` section of the config.
// docs/cli.md documents the output.
#pragma once

#include <ostream>
#include <vector>

#include "app/args.hpp"

namespace depot::app {

// The options `sensors` takes (for the CLI's dispatch table).
std::vector<OptionSpec> sensors_cli_options();
// Runs `sensors <sub>`; exit code 0 ok, 1 nothing could be read, 2 bad arguments.
int cmd_sensors(const Args& a, std::ostream& out, std::ostream& err);

}  // namespace depot::app
