#!/usr/bin/env bash
# Start-up with a backlog (issue 18, target 6): `depot-agent run` on a database holding
# 100,000 SKUs (in the config's catalog, each under a policy) and 1,000,000 movements whose
# outbox records were never delivered (a gateway that was offline for weeks), timed from
# exec to the READY=1 datagram it sends systemd (on a NOTIFY_SOCKET of our own), and to its
# "ready:" log line. Beside it, in the same
# run: a bare `sqlite3` opening the same file and counting the SKUs, and a `PRAGMA
# quick_check` of the whole file (the agent checks the live tables before READY and the whole
# file after it: docs/operations.md). Never a test.
#
#   bench/startup.sh AGENT_BIN [SKUS] [BACKLOG]
set -euo pipefail
agent=$(realpath "$1") skus=${2:-100000} backlog=${3:-1000000}
tmp=$(mktemp -d "${DEPOT_BENCH_DIR:-/var/tmp}/depot-startup.XXXXXX")
pid= listener=
cleanup() {
  [[ -z $pid ]] || kill "$pid" 2>/dev/null || true
  [[ -z $listener ]] || kill "$listener" 2>/dev/null || true
  [[ -n ${DEPOT_BENCH_KEEP:-} ]] || rm -rf "$tmp"
}
trap cleanup EXIT

python3 - "$skus" "$tmp/agent.json" "$(dirname "$(realpath "$0")")" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, sys.argv[3])
from footprint_config import gtin  # the GS1 check digit, shared with the footprint scenario
cat = [{"sku": f"SKU-{i:06d}", "name": f"Item {i}", "unit": "each",
        "barcodes": [gtin(f"20{i:010d}")], "policy": "steady", "daily_demand": 5} for i in range(n)]
policies = {"steady": {"lead_time_days": 7, "review_period_days": 7, "safety_days": 5,
                       "suppliers": [{"id": "main", "lead_time_days": 7, "unit_price": 1.0}]}}
json.dump({"site": "bench-site", "gateway": "gw-1", "database": "bench.db", "log_level": "info",
           "catalog": cat, "policies": policies}, open(path, "w"))
PY

# READY=1 as systemd gets it: a datagram on NOTIFY_SOCKET, received by a listener started
# before the agent, which prints the wall time it came (the agent computes its STATUS= line
# before it sends READY=1, so this can be later than the "ready:" line).
start_agent() {
  rm -f "$tmp/notify.sock" "$tmp/ready.at"
  python3 - "$tmp/notify.sock" >"$tmp/ready.at" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
while b"READY=1" not in s.recv(4096).split(b"\n"):
    pass
print(f"{time.time():.6f}")
PY
  listener=$!
  for _ in $(seq 1 500); do [[ -S $tmp/notify.sock ]] && break; sleep 0.01; done
  t0=$(date +%s.%N)
  (cd "$tmp" && NOTIFY_SOCKET="$tmp/notify.sock" exec "$agent" run -c agent.json 2>"$1") &
  pid=$!
}
# Sets ready_s: seconds from t0 to the READY=1 datagram (call after wait_ready).
notified_ready() {
  wait "$listener" || { listener=; echo "startup: no READY=1 on NOTIFY_SOCKET" >&2; return 1; }
  listener=
  ready_s=$(awk -v a="$t0" -v b="$(cat "$tmp/ready.at")" 'BEGIN { printf "%.3f", b - a }')
}
# wait_ready T0 LOG: seconds until "ready:" appears (polled every 10 ms), or fails after 120 s.
wait_ready() {
  local t0=$1
  for _ in $(seq 1 12000); do
    if grep -q "ready:" "$2" 2>/dev/null; then
      awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }'
      return 0
    fi
    sleep 0.01
  done
  echo "startup: no 'ready:' in $2 within 120 s" >&2; cat "$2" >&2; return 1
}
# A gateway runs on after READY: the whole-file integrity check it starts then finishes before
# the next start (a start after an unfinished one checks the whole file before READY again).
stop_agent() {
  for _ in $(seq 1 600); do grep -q "whole-file integrity check" "$1" && break; sleep 0.1; done
  kill "$pid"; wait "$pid" || true; pid=
}

# First start: creates the database and writes the catalog.
start_agent "$tmp/first.log"
wait_ready "$t0" "$tmp/first.log" >/dev/null; notified_ready; first=$ready_s
stop_agent "$tmp/first.log"

# The backlog: movements (receipts of 100 spread over the SKUs, so stock is well above every
# reorder point and the start proposes nothing) with their undelivered outbox
# records of the agent's usual size, stock that matches, replenishment's watermark current.
sqlite3 -bail "$tmp/bench.db" >/dev/null <<SQL
PRAGMA synchronous=OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $backlog)
INSERT INTO movements(id, sku, kind, qty, source, wall_time, mono_ns, on_hand_after, negative)
SELECT printf('backlog-%08d', i), printf('SKU-%06d', i % $skus), 'receive', 100, 'bench',
       '2026-11-23T10:00:00.000Z', i, 100 * (1 + (i - 1) / $skus), 0 FROM n;
INSERT INTO outbox(stream, seq, id, ts, payload)
SELECT 'movements', seq, id, wall_time,
       printf('{"seq":%d,"id":"%s","ts":"%s","sku":"%s","kind":"receive","qty":100,"held_qty":0,' ||
              '"on_hand_after":100,"held_after":0,"source":"bench","negative":false,"pad":"%s"}',
              seq, id, wall_time, sku, substr(hex(zeroblob(40)), 1, 60))
FROM movements WHERE id LIKE 'backlog-%';
INSERT INTO outbox_streams(stream, next_seq, bytes)
  SELECT 'movements', max(seq) + 1, sum(length(CAST(payload AS BLOB))) FROM outbox
  WHERE stream = 'movements' AND true
  ON CONFLICT(stream) DO UPDATE SET next_seq = excluded.next_seq, bytes = excluded.bytes;
INSERT INTO stock(sku, on_hand, held, reserved, backordered, updated_at)
SELECT sku, sum(qty), 0, 0, 0, max(wall_time) FROM movements WHERE true GROUP BY sku
  ON CONFLICT(sku) DO UPDATE SET on_hand = excluded.on_hand;
INSERT INTO meta(key, value) SELECT 'replenish_seq', max(seq) FROM movements WHERE true
  ON CONFLICT(key) DO UPDATE SET value = excluded.value;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL
size=$(du -m "$tmp/bench.db" | cut -f1)
depth=$(sqlite3 "$tmp/bench.db" "SELECT count(*) FROM outbox WHERE stream = 'movements'")

# Bare limits, same file, page cache as warm as the agent's.
t0=$(date +%s.%N); sqlite3 "$tmp/bench.db" "SELECT count(*) FROM skus" >/dev/null
bare_open=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
t0=$(date +%s.%N); sqlite3 "$tmp/bench.db" "PRAGMA quick_check" >/dev/null
bare_check=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')

runs=() lines=()
for i in 1 2 3; do
  start_agent "$tmp/start$i.log"
  lines+=("$(wait_ready "$t0" "$tmp/start$i.log")")
  notified_ready; runs+=("$ready_s"); stop_agent "$tmp/start$i.log"
done
printf '%-46s %s s (three starts)   sqlite3 open + count SKUs %s s   PRAGMA quick_check %s s   target <= 2 s\n' \
  "start-up to READY=1, $skus SKUs, $depth backlog" "${runs[*]}" "$bare_open" "$bare_check"
printf '%-46s %s s\n' "  ...to its \"ready:\" log line" "${lines[*]}"
printf '%-46s %s s   (database %s MB)\n' "first start (creates the database)" "$first" "$size"
