#!/bin/sh
# Runs an end-to-end test binary against aedes instead of mosquitto:
#   run.sh TEST_BINARY [gtest args...]
# Installs the npm packages first (install.sh); exit 77 (skip) when node is missing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$here/install.sh" || exit $?
DEPOT_TEST_BROKER=aedes DEPOT_AEDES_DIR="$here" exec "$@"
