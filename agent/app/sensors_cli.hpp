// `depot-agent sensors discover [--w1-root DIR] [--hwmon-root DIR] [--json]`: lists the 1-Wire
// DS18B20 probes (28-*) and hwmon temp*_input files on this machine, with their labels and one
// current reading each, so an operator can write the `sensors` section of the config.
// docs/cli.md documents the output.
#pragma once

#include <ostream>
#include <vector>

#include "app/cli_kit.hpp"

namespace depot::app {

// `sensors discover`; exit code 0 ok, 1 nothing could be read, 2 bad arguments.
const std::vector<CliCommand>& sensors_commands();

}  // namespace depot::app
