#!/usr/bin/env bash
# Writes agent/hot-code.txt: the functions of depot-agent that its steady state runs, as gold's
# section ordering file. The build (agent/CMakeLists.txt) compiles every function into its own
# section and links these first, side by side: after start-up the daemon gives its code pages
# back (agent/base/resident.hpp) and the kernel maps them back 64 KiB around each page that
# runs again (fault-around), so steady-state code spread over the binary's 4 MB stays resident
# in 2-2.5 MB of it; packed, in a few hundred KB (docs/performance.md, "Footprint").
#
# The steady state is the footprint scenario (bench/footprint_config.py: 10,000 SKUs, 100
# probes at 1 Hz) connected to a local mosquitto, with a TCP scanner receiving a scan every
# 50 ms for the first 20 s: the agent runs under callgrind with instrumentation off until its last give-back of
# code pages (10 s after the link is up), then 70 s are recorded, and every function of the
# binary with any instruction counted is listed.
# A function missing from the list still links (among the rest); a stale name is ignored.
# Run after changes to what the steady state runs; needs valgrind, vgdb and mosquitto (not the
# product).
#
#   bench/hot-code.sh AGENT_BIN [OUT]     e.g. build/release/agent/depot-agent
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
agent=$(realpath "$1") out=${2:-$src/../agent/hot-code.txt}
command -v valgrind >/dev/null || { echo "hot-code: needs valgrind (apt install valgrind)" >&2; exit 2; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for FILE TEXT SECONDS
  for _ in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "hot-code: '$2' not seen in $1 within $3 s" >&2; cat "$1" >&2; return 1
}

mqtt_port=$(free_port) scan_port=$(free_port)
python3 "$src/footprint_config.py" 10000 "$tmp/agent.json" --mqtt-port "$mqtt_port" \
  --scanner-port "$scan_port"
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$mqtt_port" >"$tmp/mosquitto.conf"
/usr/sbin/mosquitto -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 & pids+=($!)
# A first start writes the catalog (start-up, not recorded anyway).
(cd "$tmp" && exec "$agent" run -c agent.json 2>"$tmp/first.log") & pids+=($!)
wait_for "$tmp/first.log" "mqtt: connected" 60
kill "${pids[-1]}"; wait "${pids[-1]}" || true

(cd "$tmp" && exec valgrind --tool=callgrind --instr-atstart=no --demangle=no \
  --callgrind-out-file="$tmp/cg.out" "$agent" run -c agent.json 2>"$tmp/agent.log") & pids+=($!)
# After the last give-back (10 s after the connect): what runs from then on is the steady state.
wait_for "$tmp/agent.log" "unmapped after the cloud link's connect" 300
# The valgrind process, as vgdb names it.
vg=$(vgdb -l 2>&1 | awk -v f="$tmp/cg.out" 'index($0, f) && !n++ { sub(/^--pid=/, "", $2); print $2 }') || true  # vgdb -l exits 1
[ -n "$vg" ] || { echo "hot-code: no callgrind process found" >&2; exit 1; }
callgrind_control -i on "$vg" >/dev/null 2>&1 || { echo "hot-code: callgrind_control -i on $vg failed" >&2; exit 1; }
python3 -c '
import socket, sys, time
sys.path.insert(0, sys.argv[2])
from footprint_config import unit_barcode
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for i in range(400):
    s.sendall((unit_barcode(i % 10000) + "\r\n").encode()); time.sleep(0.05)
time.sleep(50)  # 70 s in all: the 60 s recompute and other timers run too
s.close()
' "$scan_port" "$src"
callgrind_control -d "$vg" >/dev/null 2>&1 || { echo "hot-code: callgrind_control -d $vg failed" >&2; exit 1; }
kill "${pids[-1]}"; wait "${pids[-1]}" || true
scans=$(grep -c "scanner dock-1: receive" "$tmp/agent.log" || true)
[ "$scans" -gt 0 ] || echo "hot-code: warning: no scan was committed: the scan path is not in the list" >&2

dump=$(ls "$tmp"/cg.out.* | head -1)
{
  echo "# gold --section-ordering-file for depot-agent: written by bench/hot-code.sh (do not edit)"
  echo "# $(date -u +%Y-%m-%d) from $(cd "$src/.." && git rev-parse --short HEAD 2>/dev/null || echo '?')"
  # callgrind names a recursive call's copy NAME'2; a constructor or destructor runs as its
  # C1/D1 symbol, an alias in the C2/D2 section. (Cold parts, .text.unlikely.*, stay apart.)
  callgrind_annotate --threshold=100 "$dump" 2>/dev/null |
    awk -v bin="[$agent]" '$NF == bin { n = $(NF - 1); sub(/^[^:]*:/, "", n); print n }' |
    sed -E "s/'[0-9]+\$//; s/^/.text./; p; s/C1([EI])/C2\1/; s/D1Ev/D2Ev/" | LC_ALL=C sort -u
} >"$tmp/hot-code.txt"
n=$(grep -vc '^#' "$tmp/hot-code.txt" || true)
[ "$n" -gt 50 ] || { echo "hot-code: only $n functions recorded; $out not changed" >&2; exit 1; }
cp "$tmp/hot-code.txt" "$out"
echo "hot-code: $n functions written to $out ($scans scans committed while recording)"
