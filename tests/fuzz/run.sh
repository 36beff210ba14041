#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*_fuzz.cpp) with clang++, AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs one of them, bounded, over its committed seed corpus
# (tests/fuzz/corpus/<target>/). ctest runs `fuzz.build` once, then `fuzz.<target>` for each.
#
#   tests/fuzz/run.sh OUT_DIR --build          build every target (objects reused by mtime)
#   tests/fuzz/run.sh OUT_DIR TARGET           run TARGET (builds only when it is missing)
#   FUZZ_RUNS=200000 FUZZ_MAX_TIME=20 tests/fuzz/run.sh build/fuzz config   (the defaults)
#
# Targets: decode, json, config, command, logger_csv, demand_csv, line_assembler, mqtt_value,
# tzif.
# Exit: 0 nothing found; 1 a crash, a sanitizer report or a failed property (the input is saved
# as OUT_DIR/<target>/crash-...; replay it with OUT_DIR/<target>_fuzz that-file; a finding
# becomes a unit test); 77 skipped: no clang++ with libFuzzer (Debian: clang-14 and
# libclang-rt-14-dev, installed by scripts/bootstrap).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: run.sh OUT_DIR --build|TARGET}
what=${2:?usage: run.sh OUT_DIR --build|TARGET}
runs=${FUZZ_RUNS:-200000}
max_time=${FUZZ_MAX_TIME:-20}
mkdir -p "$out"
out=$(cd "$out" && pwd)

cxx=""
for c in ${FUZZ_CXX:-} clang++ clang++-14; do
  if command -v "$c" >/dev/null 2>&1; then cxx=$c; break; fi
done
if [ -z "$cxx" ]; then
  echo "fuzz: skipped: clang++ not found (install clang-14 and libclang-rt-14-dev)"
  exit 77
fi
probe="$out/probe"
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
    "$cxx" -x c++ - -fsanitize=fuzzer,address,undefined -o "$probe" >"$out/probe.log" 2>&1; then
  echo "fuzz: skipped: $cxx cannot link libFuzzer with ASan/UBSan (libclang-rt-14-dev missing?):"
  sed -n '1,5p' "$out/probe.log"
  exit 77
fi
rm -f "$probe"

flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=undefined -I"$root/agent" -I"$root/drivers")
# What each target links besides its own file: the pure core, plus what it names here.
declare -A extra=(
  [decode]="" [json]="" [config]="" [logger_csv]="" [demand_csv]="" [tzif]=""
  [line_assembler]="drivers/scanner/line_assembler.cpp"
  [mqtt_value]="drivers/sensor/mqtt/mqtt_value.cpp"
  [command]="agent/sync/commands.cpp agent/base/log.cpp agent/base/log_limit.cpp agent/base/clock.cpp $(cd "$root" && find agent/store -name '*.cpp' | sort | tr '\n' ' ')"
)
declare -A libs=([command]="-lsqlite3 -pthread")
targets=(decode json config command logger_csv demand_csv line_assembler mqtt_value tzif)

# Newest header anywhere the sources include from: a changed header rebuilds every object.
newest_header=$(find "$root/agent" "$root/drivers" -name '*.hpp' -printf '%T@\n' | sort -n | tail -1)
stale() {  # stale OBJ SRC: OBJ missing, older than SRC or than the newest header
  [ -f "$1" ] || return 0
  [ "$2" -nt "$1" ] && return 0
  awk -v a="$(stat -c %Y "$1")" -v b="$newest_header" 'BEGIN { exit !(b > a) }'
}
compile_one() {  # compile_one SRC (relative to root) into $out/obj
  local flags=($flags_str) src=$1 obj="$out/obj/${1//\//_}.o"
  stale "$obj" "$root/$src" || return 0
  mkdir -p "$out/obj"
  nice -n 10 "$cxx" "${flags[@]}" -fsanitize=fuzzer-no-link -c "$root/$src" -o "$obj.tmp" \
    >"$obj.log" 2>&1 || { cat "$obj.log" >&2; return 1; }
  mv "$obj.tmp" "$obj"
}
export -f compile_one stale
export out root cxx newest_header
export flags_str="${flags[*]}"

build_all() {
  mapfile -t core < <(cd "$root" && find agent/core -name '*.cpp' | sort)
  local srcs=("${core[@]}")
  for t in "${targets[@]}"; do
    for s in ${extra[$t]}; do srcs+=("$s"); done
    srcs+=("tests/fuzz/${t}_fuzz.cpp")
  done
  echo "fuzz: compiling ${#srcs[@]} sources with $cxx (objects reused when unchanged)"
  # Two at a time: the machine has two cores.
  printf '%s\n' "${srcs[@]}" | sort -u |
    xargs -P 2 -I{} bash -c 'compile_one "$1"' _ {} || return 1
  local core_objs=()
  for s in "${core[@]}"; do core_objs+=("$out/obj/${s//\//_}.o"); done
  for t in "${targets[@]}"; do
    local objs=("$out/obj/tests_fuzz_${t}_fuzz.cpp.o")
    for s in ${extra[$t]}; do objs+=("$out/obj/${s//\//_}.o"); done
    local bin="$out/${t}_fuzz" relink=0
    [ -x "$bin" ] || relink=1
    for o in "${objs[@]}" "${core_objs[@]}"; do [ "$o" -nt "$bin" ] && relink=1 && break; done
    if [ "$relink" = 1 ]; then
      "$cxx" "${flags[@]}" -fsanitize=fuzzer "${objs[@]}" "${core_objs[@]}" ${libs[$t]:-} -o "$bin.tmp" \
        >"$out/$t.link.log" 2>&1 || { cat "$out/$t.link.log" >&2; return 1; }
      mv "$bin.tmp" "$bin"
    fi
  done
  echo "fuzz: built ${targets[*]}"
}

if [ "$what" = "--build" ]; then
  build_all
  exit $?
fi
case " ${targets[*]} " in *" $what "*) ;; *) echo "fuzz: unknown target '$what'" >&2; exit 2 ;; esac
[ -x "$out/${what}_fuzz" ] || build_all
mkdir -p "$out/$what/corpus"
max_len=4096
[ "$what" = decode ] && max_len=512
echo "fuzz: $what: at most $runs inputs or ${max_time}s"
# New inputs go to $out/$what/corpus (the first directory); the committed seeds are only read.
# libFuzzer reports a finding with exit code 77 by default, which ctest would take for "skipped".
"$out/${what}_fuzz" -runs="$runs" -max_total_time="$max_time" -max_len="$max_len" -timeout=10 \
  -rss_limit_mb=2048 -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$out/$what/" \
  -print_final_stats=1 "$out/$what/corpus" "$here/corpus/$what"
