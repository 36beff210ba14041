#!/usr/bin/env bash
# The shipped systemd unit passes `systemd-analyze verify` and `systemd-analyze security`
# rates its exposure at most 2.0. verify needs ExecStart's binary to exist, so a copy of the
# unit is checked whose /usr/bin/depot-agent points at the binary just built.
# Exits 77 (ctest: skipped) when systemd-analyze is not installed.
#
#   unit_test.sh UNIT_FILE AGENT_BINARY [MAX_EXPOSURE]
set -euo pipefail
unit=$1 binary=$2 max=${3:-2.0}
if ! command -v systemd-analyze >/dev/null; then
  echo "SKIP: systemd-analyze is not installed (Debian package systemd)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
name=$(basename "$unit")
sed "s#/usr/bin/depot-agent#$binary#g" "$unit" >"$tmp/$name"
fail=0

echo "== systemd-analyze verify $name"
if ! out=$(systemd-analyze verify "$tmp/$name" 2>&1); then
  echo "$out"; echo "FAIL: systemd-analyze verify exited non-zero"; fail=1
elif grep -F "$name" <<<"$out"; then
  echo "FAIL: systemd-analyze verify warns about the unit"; fail=1
else
  echo "ok"
fi

echo "== systemd-analyze security --offline=true $name (at most $max)"
out=$(systemd-analyze security --offline=true "$tmp/$name" 2>&1 || true)
grep -E '^✗' <<<"$out" || true
line=$(grep -E 'Overall exposure level' <<<"$out" || true)
echo "$line"
level=$(sed -nE 's/.*Overall exposure level for [^:]*: ([0-9]+\.[0-9]+).*/\1/p' <<<"$line")
if [ -z "$level" ]; then
  echo "$out"; echo "FAIL: no 'Overall exposure level' line"; fail=1
elif ! awk -v l="$level" -v m="$max" 'BEGIN { exit !(l <= m) }'; then
  echo "FAIL: exposure $level is above $max"; fail=1
fi
exit $fail
