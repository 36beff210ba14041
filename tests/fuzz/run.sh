#!/usr/bin/env bash
# Builds the decode fuzzer (tests/fuzz/decode_fuzz.cpp) with clang++ and libFuzzer, AddressSanitizer
# and UndefinedBehaviorSanitizer from the core sources it needs, then runs it for a bounded number
# of inputs and time over the committed seed corpus. ctest runs it as the test `fuzz.decode`.
#
#   tests/fuzz/run.sh [OUT_DIR]      OUT_DIR defaults to build/fuzz; the binary, the grown corpus
#                                    and any crashing input (crash-*) are written there
#   FUZZ_RUNS=200000 FUZZ_MAX_TIME=60 tests/fuzz/run.sh   (the defaults)
#
# Exit: 0 nothing found; 1 a crash, a sanitizer report or a failed property (the input is saved
# in OUT_DIR; replay it with OUT_DIR/decode_fuzz OUT_DIR/crash-...); 77 skipped: no clang++ with
# libFuzzer (Debian: clang-14 and libclang-rt-14-dev).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$root/build/fuzz}
runs=${FUZZ_RUNS:-200000}
max_time=${FUZZ_MAX_TIME:-60}

cxx=""
for c in ${FUZZ_CXX:-} clang++ clang++-14; do
  if command -v "$c" >/dev/null 2>&1; then cxx=$c; break; fi
done
if [ -z "$cxx" ]; then
  echo "fuzz: skipped: clang++ not found (install clang-14 and libclang-rt-14-dev)"
  exit 77
fi

mkdir -p "$out/corpus"
# Probe: does this clang link libFuzzer with the sanitizers?
probe="$out/probe"
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
    "$cxx" -x c++ - -fsanitize=fuzzer,address,undefined -o "$probe" >"$out/probe.log" 2>&1; then
  echo "fuzz: skipped: $cxx cannot link libFuzzer with ASan/UBSan (libclang-rt-14-dev missing?):"
  sed -n '1,5p' "$out/probe.log"
  exit 77
fi
rm -f "$probe"

sources=(agent/core/barcode.cpp agent/core/catalog.cpp agent/core/code128.cpp
         agent/core/control_code.cpp agent/core/gtin.cpp agent/core/movement.cpp
         agent/core/scan.cpp agent/core/time.cpp)
bin="$out/decode_fuzz"
stale=0
[ -x "$bin" ] || stale=1
if [ "$stale" -eq 0 ]; then
  for f in "$here/decode_fuzz.cpp" "${sources[@]/#/$root/}" "$root"/agent/core/*.hpp; do
    if [ "$f" -nt "$bin" ]; then stale=1; break; fi
  done
fi
if [ "$stale" -eq 1 ]; then
  echo "fuzz: building $bin with $cxx"
  if ! nice -n 10 "$cxx" -std=c++20 -O1 -g -fno-omit-frame-pointer \
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
      -I"$root/agent" "$here/decode_fuzz.cpp" "${sources[@]/#/$root/}" -o "$bin.tmp" \
      >"$out/build.log" 2>&1; then
    cat "$out/build.log"
    exit 1
  fi
  mv "$bin.tmp" "$bin"
fi

# New inputs go to $out/corpus (the first directory); the committed seeds are only read.
echo "fuzz: running at most $runs inputs or ${max_time}s"
# libFuzzer reports a finding with exit code 77 by default, which ctest would take for "skipped".
"$bin" -runs="$runs" -max_total_time="$max_time" -max_len=512 -timeout=10 -rss_limit_mb=2048 \
  -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$out/" -print_final_stats=1 \
  "$out/corpus" "$here/corpus/decode"
