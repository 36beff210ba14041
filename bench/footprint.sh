#!/usr/bin/env bash
# Footprint: resident memory of `depot-agent run` in steady state with a 10,000-SKU catalog
# (each under a replenishment policy) and 100 temperature probes (simulated, read every second),
# offline and connected to a local mosquitto (started here on a free loopback port, stopped by
# its PID; then over TLS and mutual TLS with a test CA), beside a bare process (bench/bare_process.cpp: SQLite + Asio); then the
# stripped size of each built depot-agent (native, aarch64, armhf), beside the same bare
# program built for that target. Shared libraries are not counted; the ones needed are listed.
# Never a test: figures are printed for docs/performance.md.
#
#   bench/footprint.sh AGENT_BIN BARE_BIN [SKUS]     e.g. build/release/agent/depot-agent
set -euo pipefail
agent=$(realpath "$1") bare=$(realpath "$2") skus=${3:-10000}
src=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

python3 "$src/footprint_config.py" "$skus" "$tmp/agent.json"  # 10,000 SKUs, 100 probes at 1 Hz
"$agent" check -c "$tmp/agent.json" >/dev/null
# The same gateway with a cloud link: a local mosquitto as the cloud (plain MQTT, no TLS).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$tmp/agent.json" "$tmp/agent-mqtt.json" "$port" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["mqtt"] = {"host": "127.0.0.1", "port": int(sys.argv[3]), "client_id": "gw-1"}
json.dump(c, open(sys.argv[2], "w"))
PY

# The same offline gateway with its console on (issue 16: enabled and idle it adds <= 1 MB).
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$tmp/agent.json" "$tmp/agent-console.json" "$http_port" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["console"] = {"listen": "127.0.0.1:" + sys.argv[3]}
json.dump(c, open(sys.argv[2], "w"))
PY

# rss_of PID: "VmRSS VmHWM RssAnon" in KiB (RssAnon: the part not backed by a file).
rss_of() { awk '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} /^RssAnon/ {a=$2} END {print r, h, a}' "/proc/$1/status"; }
# wait_for FILE TEXT SECONDS
wait_for() {
  for _ in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "footprint: '$2' not seen in $1 within $3 s" >&2; cat "$1" >&2; return 1
}
measure() {  # measure LOG PID: prints "rss_kib hwm_kib anon_kib" after 3 s of steady state
  sleep 3; rss_of "$2"
}

# First start creates and fills the database (the catalog write); the second is steady state
# of a gateway restarting with its catalog in place, which is what runs for months.
(cd "$tmp" && exec "$agent" run -c agent.json 2>"$tmp/agent1.log") & pids+=($!)
start=$(date +%s.%N)
wait_for "$tmp/agent1.log" "ready:" 120
first_ready=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
read -r rss1 hwm1 _ < <(measure "$tmp/agent1.log" "${pids[-1]}")
kill "${pids[-1]}"; wait "${pids[-1]}" || true
(cd "$tmp" && exec "$agent" run -c agent.json 2>"$tmp/agent2.log") & pids+=($!)
wait_for "$tmp/agent2.log" "ready:" 120
read -r rss2 hwm2 _ < <(measure "$tmp/agent2.log" "${pids[-1]}")
kill "${pids[-1]}"; wait "${pids[-1]}" || true

# A bearer token for the live client below (docs/api.md, "Bearer tokens").
token=$(cd "$tmp" && "$agent" tokens add bench-client -c agent-console.json 2>/dev/null)
(cd "$tmp" && exec "$agent" run -c agent-console.json 2>"$tmp/agent4.log") & pids+=($!)
console_pid=${pids[-1]}
wait_for "$tmp/agent4.log" "ready:" 120
read -r rss4 hwm4 _ < <(measure "$tmp/agent4.log" "$console_pid")
# After one scrape of each route (the responses' buffers are freed again).
python3 -c "import urllib.request as u, sys; [u.urlopen('http://127.0.0.1:%s%s' % (sys.argv[1], p), timeout=5).read() for p in ('/metrics', '/healthz')]" "$http_port"
read -r rss5 hwm5 _ < <(measure "$tmp/agent4.log" "$console_pid")
# CPU of one console client with live updates (issue 16: under 1 % of a core in steady state):
# the agent's CPU time (utime + stime, /proc/PID/stat) over $cpu_s s with no client (its bare
# figure: 100 probes read every second), then over the same time with one client following
# /api/events as the console page does (and fetching what a `stock` event asks it to redraw).
cpu_s=20
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks "$console_pid"); sleep "$cpu_s"; t1=$(ticks "$console_pid")
cat >"$tmp/live_client.py" <<'PY'
import http.client, signal, sys
port, token, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
counts = {}
def done(*_):
    open(out, "w").write(" ".join("%s=%d" % kv for kv in sorted(counts.items())) or "none")
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
auth = {"Authorization": "Bearer " + token}
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
c.request("GET", "/api/events", headers=auth)
r = c.getresponse()
assert r.status == 200, r.status
event = None
while True:
    line = r.fp.readline()
    if not line:
        break
    line = line.decode().rstrip("\n")
    if line.startswith("event:"):
        event = line[6:].strip()
    elif line == "" and event:
        counts[event] = counts.get(event, 0) + 1
        if event == "stock":  # the page redraws stock from the API
            g = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            g.request("GET", "/api/stock", headers=auth); g.getresponse().read(); g.close()
        event = None
done()
PY
python3 "$tmp/live_client.py" "$http_port" "$token" "$tmp/live.out" & pids+=($!)
client=${pids[-1]}
sleep 3
t2=$(ticks "$console_pid"); sleep "$cpu_s"; t3=$(ticks "$console_pid")
kill "$client"; wait "$client" || true
live_events=$(cat "$tmp/live.out" 2>/dev/null || echo "none (the client failed)")
kill "$console_pid"; wait "$console_pid" || true

printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$tmp/mosquitto.conf"
/usr/sbin/mosquitto -c "$tmp/mosquitto.conf" >"$tmp/mosquitto.log" 2>&1 & pids+=($!)
broker=${pids[-1]}
(cd "$tmp" && exec "$agent" run -c agent-mqtt.json 2>"$tmp/agent3.log") & pids+=($!)
wait_for "$tmp/agent3.log" "mqtt: connected" 30
read -r rss3 hwm3 anon3 < <(measure "$tmp/agent3.log" "${pids[-1]}")
sleep 27  # and 30 s later, as over TLS below (the connect's code pages are given back at 10 s)
read -r late3 _ late_anon3 < <(rss_of "${pids[-1]}")
kill "${pids[-1]}"; wait "${pids[-1]}" || true
kill "$broker"; wait "$broker" || true

# The production link (issue 18): the same gateway over TLS to a local mosquitto (a test CA,
# server certificate for 127.0.0.1), then mutual TLS (the broker requires the gateway's
# certificate). EC P-256 keys, as a gateway would be issued.
ossl() { (cd "$tmp" && openssl "$@" >/dev/null 2>&1); }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
  -out ca.pem -days 2 -subj "/CN=depot bench CA"
for n in server:localhost:"IP:127.0.0.1" gw:gw-1:"DNS:gw-1"; do
  IFS=: read -r name cn san <<<"$n"
  echo "subjectAltName=$san" >"$tmp/$name.ext"
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$name.key" \
    -out "$name.csr" -subj "/CN=$cn"
  ossl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$name.pem" \
    -days 2 -extfile "$name.ext"
done
# mosquitto started as root drops to its own user, which must read these (test keys only).
chmod 755 "$tmp"; chmod 644 "$tmp"/*.pem "$tmp"/*.key
tls_rss() {  # tls_rss MUTUAL(0|1): sets tls_rss_kib, tls_hwm_kib of the agent over TLS
  local tls_port conf=agent-tls$1.json
  tls_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 - "$tmp/agent.json" "$tmp/$conf" "$tls_port" "$1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
tls = {"ca": "ca.pem"}
if sys.argv[4] == "1":
    tls.update(cert="gw.pem", key="gw.key")
c["mqtt"] = {"host": "127.0.0.1", "port": int(sys.argv[3]), "client_id": "gw-1", "tls": tls}
json.dump(c, open(sys.argv[2], "w"))
PY
  {
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$tls_port"
    printf 'cafile %s/ca.pem\ncertfile %s/server.pem\nkeyfile %s/server.key\n' "$tmp" "$tmp" "$tmp"
    [ "$1" = 1 ] && printf 'require_certificate true\n'
  } >"$tmp/mosquitto-tls$1.conf"
  /usr/sbin/mosquitto -c "$tmp/mosquitto-tls$1.conf" >"$tmp/mosquitto-tls$1.log" 2>&1 & pids+=($!)
  local b=${pids[-1]}
  (cd "$tmp" && exec "$agent" run -c "$conf" 2>"$tmp/agent-tls$1.log") & pids+=($!)
  wait_for "$tmp/agent-tls$1.log" "mqtt: connected" 30
  read -r tls_rss_kib tls_hwm_kib tls_anon_kib < <(measure "$tmp/agent-tls$1.log" "${pids[-1]}")
  # And once more 30 s later: the connect's code pages are given back 10 s after it (agent/
  # base/resident.hpp); what the steady state runs maps back (agent/hot-code.txt).
  sleep 27
  read -r tls_late_kib _ tls_late_anon_kib < <(rss_of "${pids[-1]}")
  kill "${pids[-1]}"; wait "${pids[-1]}" || true
  kill "$b"; wait "$b" || true
}
tls_rss 0; rss6=$tls_rss_kib hwm6=$tls_hwm_kib anon6=$tls_anon_kib late6=$tls_late_kib late_anon6=$tls_late_anon_kib
tls_rss 1; rss7=$tls_rss_kib hwm7=$tls_hwm_kib anon7=$tls_anon_kib late7=$tls_late_kib late_anon7=$tls_late_anon_kib

"$bare" "$tmp/bare.db" 2>"$tmp/bare.log" & pids+=($!)
wait_for "$tmp/bare.log" "ready" 10
read -r rss0 hwm0 _ < <(measure "$tmp/bare.log" "${pids[-1]}")
kill "${pids[-1]}"; wait "${pids[-1]}" || true

mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.2f MB", k * 1024 / 1e6 }'; }
echo "== resident memory, depot-agent run, $skus SKUs, 100 probes at 1 Hz (target <= 16 MB on x86-64)"
printf '   first start (creates the catalog): RSS %s, peak %s, ready after %.1f s\n' \
  "$(mib "$rss1")" "$(mib "$hwm1")" "$first_ready"
printf '   steady state (restart, catalog in place): RSS %s (%s), peak %s\n' "$(mib "$rss2")" "$(mb "$rss2")" "$(mib "$hwm2")"
printf '   steady state, console on and idle: RSS %s (%+d KiB), after a scrape of /metrics and /healthz %s (%+d KiB)\n' \
  "$(mib "$rss4")" "$((rss4 - rss2))" "$(mib "$rss5")" "$((rss5 - rss2))"
pct() { awk -v t="$1" -v hz="$hz" -v s="$cpu_s" 'BEGIN { printf "%.2f", 100 * t / hz / s }'; }
printf '   CPU, console on, no client (bare figure): %s %% of a core; one client with live updates: %s %% (%+.2f %%, target < 1 %%; events received in %d s: %s)\n' \
  "$(pct $((t1 - t0)))" "$(pct $((t3 - t2)))" "$(awk -v a="$(pct $((t3 - t2)))" -v b="$(pct $((t1 - t0)))" 'BEGIN { print a - b }')" "$cpu_s" "$live_events"
printf '   steady state, connected to a local mosquitto: RSS %s (%s; anonymous %s), peak %s; 30 s later %s (%s; anonymous %s) (target <= 12 MB)\n' "$(mib "$rss3")" "$(mb "$rss3")" "$(mib "$anon3")" "$(mib "$hwm3")" "$(mib "$late3")" "$(mb "$late3")" "$(mib "$late_anon3")"
printf '   steady state, connected over TLS: RSS %s (%s; anonymous %s), peak %s; 30 s later %s (%s; anonymous %s) (target <= 16 MB)\n' \
  "$(mib "$rss6")" "$(mb "$rss6")" "$(mib "$anon6")" "$(mib "$hwm6")" "$(mib "$late6")" "$(mb "$late6")" "$(mib "$late_anon6")"
printf '   steady state, connected over mutual TLS: RSS %s (%s; anonymous %s), peak %s; 30 s later %s (%s; anonymous %s) (target <= 16 MB)\n' \
  "$(mib "$rss7")" "$(mb "$rss7")" "$(mib "$anon7")" "$(mib "$hwm7")" "$(mib "$late7")" "$(mb "$late7")" "$(mib "$late_anon7")"
printf '   bare limit (bare_process: SQLite + Asio, idle): RSS %s, peak %s\n' "$(mib "$rss0")" "$(mib "$hwm0")"

echo "== stripped binary sizes (shared libraries not counted)"
root=$(cd "$src/.." && pwd)
for t in native:"$agent":strip:g++ \
         aarch64:"$root/build/aarch64/agent/depot-agent":aarch64-linux-gnu-strip:aarch64-linux-gnu-g++ \
         armhf:"$root/build/armhf/agent/depot-agent":arm-linux-gnueabihf-strip:arm-linux-gnueabihf-g++; do
  IFS=: read -r name bin strip cxx <<<"$t"
  if [ ! -x "$bin" ] || ! command -v "$strip" >/dev/null; then
    echo "   $name: not built (no $bin or no $strip)"; continue
  fi
  "$strip" -o "$tmp/agent-$name" "$bin"
  size=$(stat -c %s "$tmp/agent-$name")
  bare_size="n/a"
  if command -v "$cxx" >/dev/null &&
     "$cxx" -std=c++20 -O3 -DNDEBUG -s "$src/bare_process.cpp" -o "$tmp/bare-$name" -lsqlite3 -pthread 2>"$tmp/cc.log"; then
    bare_size=$(stat -c %s "$tmp/bare-$name")
  fi
  libs=$(readelf -d "$tmp/agent-$name" | sed -nE 's/.*Shared library: \[(.*)\]/\1/p' | tr '\n' ' ')
  # A cross build left from before the last source change is reported, but said to be stale.
  stale=$(find "$root/agent" "$root/drivers" -type f -newer "$bin" -print -quit 2>/dev/null)
  printf '   %-8s depot-agent %7.2f MiB   bare limit %7s   needs: %s%s\n' "$name" \
    "$(awk -v b="$size" 'BEGIN { print b / 1048576 }')" \
    "$( [ "$bare_size" = n/a ] && echo n/a || awk -v b="$bare_size" 'BEGIN { printf "%.2f MiB", b / 1048576 }')" "$libs" \
    "${stale:+  (STALE: built before ${stale#"$root"/} changed)}"
done
