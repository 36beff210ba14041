#!/usr/bin/env bash
# ctest's entry to the system suite: builds the .deb from BUILD_DIR with cpack (as
# tests/packaging/deb_test.sh does) and runs one case of system_test.py in a Debian 12 VM.
# Exits 77 (ctest: skipped) when qemu or mmdebstrap is missing or DEPOT_NO_SYSTEM=1.
#
#   run.sh BUILD_DIR CASE [--long]       CASE: service | power-cut | upgrade | arm64
#
# arm64 takes the aarch64 cross build's folder (build/aarch64) and its arm64 .deb.
set -euo pipefail
build=$(cd "$1" && pwd) case=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
if [ "${DEPOT_NO_SYSTEM:-0}" = 1 ]; then echo "SKIP: DEPOT_NO_SYSTEM=1"; exit 77; fi
deb_arch=amd64 tools="qemu-system-x86_64 cc"
[ "$case" = arm64 ] && deb_arch=arm64 tools="qemu-system-aarch64 aarch64-linux-gnu-gcc arch-test"
for tool in $tools mmdebstrap mkfs.ext4 cpack python3 openssl; do
  command -v "$tool" >/dev/null && continue
  # scripts/test requires the suite (it installed the tools): missing is a failure there.
  [ "${DEPOT_SYSTEM_REQUIRED:-0}" = 1 ] &&
    { echo "FAIL: $tool is not installed (scripts/bootstrap) and scripts/test requires the system suite"; exit 1; }
  echo "SKIP: $tool is not installed (scripts/bootstrap)"; exit 77
done
out=$build/tests/system
mkdir -p "$out/deb-$case"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out/deb-$case" >"$out/deb-$case/cpack.log" 2>&1 ||
  { cat "$out/deb-$case/cpack.log"; echo "FAIL: cpack"; exit 1; }
deb=$(ls "$out/deb-$case"/depot-agent_*_"$deb_arch".deb | head -n 1)
[ "${DEPOT_SYSTEM_LONG:-0}" = 1 ] && set -- "$@" --long
if [ "$case" = upgrade ]; then
  rc=0
  prev=$("$here/prev-deb.sh" | tail -n 1) || rc=$?
  if [ "$rc" = 77 ]; then echo "SKIPPED: the previous release is not in this clone"; exit 77; fi
  [ "$rc" = 0 ] || { echo "FAIL: the previous release's .deb (prev-deb.sh)"; exit 1; }
  set -- "$@" --prev-deb "$prev"
fi
exec python3 -u "$here/system_test.py" "$case" --deb "$deb" --out "$out" "$@"
