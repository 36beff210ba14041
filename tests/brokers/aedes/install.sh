#!/bin/sh
# Installs the aedes test broker's npm packages (exactly as package-lock.json pins them) into
# this folder's node_modules, only when they are missing or the lock changed since.
# Exit 77 (a skip for ctest) when node or npm is not installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command -v node >/dev/null 2>&1 || { echo "node is not installed: skipping" >&2; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "npm is not installed: skipping" >&2; exit 77; }
stamp="$here/node_modules/.depot-lock.sha256"
want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
# Two test runs may start at once: one installs, the other waits for it.
exec 9>"$here/.install.lock"
flock 9
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2
echo "$want" >"$stamp"
